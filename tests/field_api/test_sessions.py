"""Browser sessions: kept and ended on the server, guarded against cross-site requests;
security headers on every answer. Bearer-token clients are unaffected."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from data.store import ObservationStore
from field_api.app import create_app
from field_api.settings import Settings
from tests.conftest import Clients
from tests.factories import make_collection, make_feature

ORIGIN = {"Origin": "http://testserver"}
BATCH = "/api/v1/observations/batch"


def _browser(api: Clients, who: str = "adam") -> TestClient:
    client = TestClient(api.admin.app)
    response = client.post(
        "/login", data={"token": api.tokens[who]}, headers=ORIGIN, follow_redirects=False
    )
    assert response.status_code == 303
    return client


def test_a_cookie_upload_needs_same_origin_and_json(api: Clients) -> None:
    browser = _browser(api)
    body = make_collection(1)
    cases = {
        "no origin": ({}, 403),
        "other port": ({"Origin": "http://testserver:8001"}, 403),
        "other site": ({"Origin": "https://evil.example"}, 403),
        "null origin": ({"Origin": "null"}, 403),
        "other referer": ({"Referer": "http://evil.example/page"}, 403),
        "same origin, text/plain": ({**ORIGIN, "Content-Type": "text/plain"}, 403),
    }
    for label, (headers, status) in cases.items():
        response = browser.post(BATCH, json=body, headers=headers)
        if "Content-Type" in headers:
            response = browser.post(BATCH, content=str(body).encode(), headers=headers)
        assert response.status_code == status, label
        assert response.json()["code"] == "cross_site_request", label
    assert len(api.admin.get("/api/v1/observations").json()["features"]) == 0
    same = browser.post(BATCH, json=body, headers={"Referer": "http://testserver/viewer"})
    assert same.status_code == 200
    assert browser.post(BATCH, json=make_collection(1, start=5), headers=ORIGIN).status_code == 200


def test_bearer_requests_are_unchanged(api: Clients) -> None:
    feature = make_feature(3)
    response = api.observer.put(
        f"/api/v1/observations/{feature['id']}",
        json=feature,
        headers={"Origin": "https://anywhere.example"},
    )
    assert response.status_code == 201


def test_sign_out_ends_the_session_on_the_server(api: Clients) -> None:
    browser = _browser(api)
    cookie = browser.cookies.get("herdwatch_session")
    assert browser.get("/api/v1/observations").status_code == 200
    assert browser.post("/logout", headers=ORIGIN, follow_redirects=False).status_code == 303
    browser.cookies.set("herdwatch_session", cookie)  # a copy kept by an attacker
    assert browser.get("/api/v1/observations").status_code == 401


def test_sessions_expire_on_the_server(store: ObservationStore) -> None:
    store.add_user("olga", "observer")
    session = store.start_session("olga")
    hour, day = timedelta(hours=1), timedelta(days=1)
    assert store.session_user(session, idle=hour, longest=day) is not None
    time.sleep(0.05)
    assert store.session_user(session, idle=timedelta(milliseconds=10), longest=day) is None
    assert store.session_user(session, idle=hour, longest=timedelta(milliseconds=10)) is None
    assert store.session_user(session, idle=hour, longest=day) is not None
    store.revoke_user("olga")
    assert store.session_user(session, idle=hour, longest=day) is None


def test_an_idle_session_is_refused_by_the_app(store: ObservationStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        session_idle_minutes=0.002,  # 120 ms
        _env_file=None,  # type: ignore[call-arg]
    )
    token = store.add_user("rita", "researcher")
    with TestClient(create_app(settings, store)) as browser:
        browser.post("/login", data={"token": token}, headers=ORIGIN, follow_redirects=False)
        assert browser.get("/api/v1/observations").status_code == 200
        time.sleep(0.3)
        assert browser.get("/api/v1/observations").status_code == 401


@pytest.mark.parametrize("path", ["/login", "/viewer", "/health", "/api/v1/observations", "/x"])
def test_security_headers_on_every_answer(api: Clients, path: str) -> None:
    response = api.admin.get(path, follow_redirects=False)
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    if headers.get("content-type", "").startswith("text/html"):
        csp = headers["content-security-policy"]
        assert (
            "script-src 'self'" in csp and "unsafe-inline' " not in csp.split("style-src-attr")[0]
        )
