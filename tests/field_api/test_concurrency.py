"""Flaky networks and many tablets: nothing lost, nothing doubled, nothing half-written."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient

from data import rows as _rows
from data.store import ObservationStore
from domain.records import ObservationQuery
from field_api.app import create_app
from field_api.settings import Settings
from tests.factories import make_collection, make_feature
from tests.live_server import live_server

URL = "/api/v1/observations"


@pytest.fixture
def server(store: ObservationStore, settings: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    """A real server over the parametrised store, and an observer's auth header."""
    token = store.add_user("olga", "observer")
    with live_server(create_app(settings, store)) as base:
        yield base, {"Authorization": f"Bearer {token}"}


def _stored_ids(store: ObservationStore) -> list[UUID]:
    ids: list[UUID] = []
    for chunk in store.iter_all_observations():
        ids += [o.id for o in chunk]
    return ids


def test_twenty_concurrent_resends_of_one_batch_store_each_record_once(
    server: tuple[str, dict[str, str]], store: ObservationStore
) -> None:
    base, auth = server
    batch = make_collection(200)
    barrier = threading.Barrier(20)

    def send(_: int) -> dict[str, Any]:
        with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
            barrier.wait()
            response = client.post(f"{URL}/batch", json=batch)
            assert response.status_code == 200
            return response.json()["summary"]  # type: ignore[no-any-return]

    with ThreadPoolExecutor(20) as pool:
        summaries = list(pool.map(send, range(20)))
    assert sum(s["created"] for s in summaries) == 200
    assert sum(s["unchanged"] for s in summaries) == 19 * 200
    ids = _stored_ids(store)
    assert len(ids) == len(set(ids)) == 200
    assert all(len(store.history(i)) == 1 for i in ids[:20])


def test_simultaneous_puts_of_one_new_id_create_exactly_one(
    server: tuple[str, dict[str, str]], store: ObservationStore
) -> None:
    base, auth = server
    features = [make_feature(n) for n in range(15)]

    def put_twice(feature: dict[str, Any]) -> list[int]:
        barrier = threading.Barrier(2)

        def one(_: int) -> int:
            with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
                barrier.wait()
                return client.put(f"{URL}/{feature['id']}", json=feature).status_code

        with ThreadPoolExecutor(2) as pool:
            return sorted(pool.map(one, range(2)))

    for feature in features:
        assert put_twice(feature) == [200, 201]
    assert len(_stored_ids(store)) == 15


class LossyTransport(httpx.BaseTransport):
    """Delivers every request, then loses 30% of the responses on the way back."""

    def __init__(self, rate: float, seed: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.rate, self.random, self.lost = rate, random.Random(seed), 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        if self.random.random() < self.rate:
            self.lost += 1
            raise httpx.ReadError("connection dropped before the response arrived", request=request)
        return response


def test_retry_storm_ends_with_exactly_the_records_sent(
    server: tuple[str, dict[str, str]], store: ObservationStore
) -> None:
    base, auth = server
    transport = LossyTransport(rate=0.3, seed=7)
    sent = make_collection(300)["features"]
    singles, batched = sent[:60], sent[60:]
    acknowledged: set[str] = set()
    with httpx.Client(base_url=base, headers=auth, transport=transport, timeout=30) as client:
        for feature in singles:
            while feature["id"] not in acknowledged:
                try:
                    response = client.put(f"{URL}/{feature['id']}", json=feature)
                except httpx.TransportError:
                    continue
                assert response.status_code in (200, 201)
                acknowledged.add(feature["id"])
        for start in range(0, len(batched), 40):
            chunk = batched[start : start + 40]
            while not {f["id"] for f in chunk} <= acknowledged:
                try:
                    response = client.post(
                        f"{URL}/batch", json={"type": "FeatureCollection", "features": chunk}
                    )
                except httpx.TransportError:
                    continue
                results = response.json()["results"]
                acknowledged |= {
                    r["id"] for r in results if r["status"] in ("created", "unchanged")
                }
    assert transport.lost > 10  # the storm really happened
    ids = _stored_ids(store)
    assert sorted(map(str, ids)) == sorted(f["id"] for f in sent)
    assert store.count_observations(ObservationQuery(include_retracted=True)) == 300
    assert all(len(store.history(UUID(f["id"]))) == 1 for f in sent[::10])


def test_an_error_halfway_through_a_batch_leaves_none_of_it(
    sqlite_store: ObservationStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = sqlite_store.add_user("olga", "observer")
    calls = {"n": 0}
    real = _rows.revision_row

    def fail_at_150(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 150:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(_rows, "revision_row", fail_at_150)
    app = create_app(settings, sqlite_store)
    with TestClient(
        app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        response = client.post(f"{URL}/batch", json=make_collection(300))
        assert response.status_code == 500 and response.json()["code"] == "internal_error"
        assert sqlite_store.count_observations(ObservationQuery(include_retracted=True)) == 0
        monkeypatch.setattr(_rows, "revision_row", real)
        again = client.post(f"{URL}/batch", json=make_collection(300)).json()
        assert again["summary"]["created"] == 300


def test_a_connection_cut_halfway_through_the_body_stores_nothing(
    server: tuple[str, dict[str, str]], store: ObservationStore
) -> None:
    base, auth = server
    host, port = base.removeprefix("http://").split(":")
    body = httpx.Request("POST", "/", json=make_collection(100)).content
    head = (
        f"POST {URL}/batch HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(head + body[: len(body) // 2])
    with httpx.Client(base_url=base, headers=auth) as client:  # the server is still healthy
        assert client.get("/health").status_code == 200
        assert client.get(URL).json()["features"] == []
    assert store.count_observations(ObservationQuery(include_retracted=True)) == 0
