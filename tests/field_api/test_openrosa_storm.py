"""A storm of ODK Collect devices: every sighting and photo is stored exactly once.

Ten simulated tablets, each with fifty sightings and a photo for each, send their queues at
the same time to a live server (uvicorn on 127.0.0.1), over a connection that loses a
quarter of the answers after the server has acted on the request; a fifth of the
submissions are split (the XML alone first, then the XML with its photo). Then every
tablet sends its whole queue again, as one whose record of what was sent was lost.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest

from data.store import ObservationStore
from domain.records import ObservationQuery, Survey
from field_api.app import create_app
from field_api.settings import Settings
from tests.field_api.odk_collect import Sighting, basic, jpeg, multipart
from tests.live_server import live_server

DEVICES, SIGHTINGS = 10, 50


class LossyTransport(httpx.BaseTransport):
    """Delivers every request, then loses a share of the answers on the way back."""

    def __init__(self, rate: float, seed: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.rate, self.random, self.lost = rate, random.Random(seed), 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        if self.random.random() < self.rate:
            self.lost += 1
            raise httpx.ReadError("the answer was lost on the way back", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


@dataclass
class Device:
    """One tablet's queue: its sightings, each with a photo, and what it was told."""

    number: int
    sightings: list[tuple[Sighting, str, bytes]] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    @classmethod
    def with_queue(cls, number: int) -> Device:
        device = cls(number)
        for i in range(SIGHTINGS):
            name = f"{1718861400000 + number * 1000 + i}.jpg"
            sighting = Sighting(
                count=str(10 + i),
                classes={"calves": str(i % 7)},
                location=f"{66 + number * 0.3:.4f} {120 + i * 0.1:.4f} 80.0 {3 + i % 5}.5",
                photos=(name,),
            )
            device.sightings.append((sighting, name, jpeg(number * SIGHTINGS + i)))
        return device

    def send_all(self, client: httpx.Client, *, split_every: int) -> None:
        for i, (sighting, name, photo) in enumerate(self.sightings):
            if split_every and i % split_every == 0:
                self._until_received(client, sighting, {}, incomplete=True)
            self._until_received(client, sighting, {name: photo})

    def _until_received(
        self, client: httpx.Client, sighting: Sighting, photos: dict[str, bytes], **kw: bool
    ) -> None:
        """Collect's queue: a submission stays queued until an answer says 201."""
        for _ in range(50):
            try:
                response = client.post("submission", **multipart(sighting.xml(), photos, **kw))
            except httpx.TransportError:
                continue
            self.statuses[response.status_code] += 1
            assert response.status_code == 201, response.text
            return
        raise AssertionError("50 answers lost in a row")


@pytest.fixture
def served(tmp_path: object, store: ObservationStore) -> Iterator[tuple[str, str]]:
    settings = Settings(database_url="sqlite://", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, store)  # photos go to the store's photo table
    token = store.add_user("olga", "observer")
    # The forms' survey, open to the observers who send them (data/survey_access.py).
    store.add_survey(
        Survey(
            "LO-2024-06",
            "aerial",
            datetime(2024, 6, 1, tzinfo=UTC),
            team=("olga", "ivan"),
            created_by="rita",
        )
    )
    with live_server(app) as base:
        yield base, token


@pytest.mark.timeout(120)
def test_ten_devices_sending_fifty_sightings_twice_store_each_once(
    served: tuple[str, str], store: ObservationStore
) -> None:
    base, token = served
    devices = [Device.with_queue(n) for n in range(DEVICES)]
    transports = [LossyTransport(0.25, seed=n) for n in range(DEVICES)]
    started = time.monotonic()

    def run(n: int, split_every: int) -> None:
        with httpx.Client(
            base_url=f"{base}/openrosa/", headers=basic("olga", token),
            transport=transports[n], timeout=30,
        ) as client:  # fmt: skip
            devices[n].send_all(client, split_every=split_every)

    with ThreadPoolExecutor(DEVICES) as pool:  # all ten at once, twice over
        list(pool.map(run, range(DEVICES), [5] * DEVICES))
        list(pool.map(run, range(DEVICES), [0] * DEVICES))
    elapsed = time.monotonic() - started

    lost = sum(t.lost for t in transports)
    posts = sum(sum(d.statuses.values()) for d in devices) + lost
    print(f"\n{posts} POSTs ({lost} answers lost) in {elapsed:.1f} s")
    assert lost > 100  # the storm really lost answers
    everything = ObservationQuery(include_retracted=True, limit=10_000)
    assert store.count_observations(everything) == DEVICES * SIGHTINGS
    for device in devices:
        for sighting, name, photo in device.sightings[::7]:
            obs = store.get_observation(sighting.instance_id)
            lat, lon, _, accuracy = (float(v) for v in sighting.location.split())
            assert (obs.lon, obs.lat, obs.accuracy_m, obs.count) == (
                lon,
                lat,
                accuracy,
                int(sighting.count),
            )
            assert obs.revision == 1
            assert store.photo_bytes(sighting.instance_id, name) == photo
    for device in devices:  # each photo once, under its sighting, the bytes sent
        for sighting, name, photo in device.sightings:
            [info] = store.list_photos(sighting.instance_id)
            assert (info.name, info.sha256) == (name, hashlib.sha256(photo).hexdigest())
    assert sum(len(batch) for batch in store.iter_all_photos()) == DEVICES * SIGHTINGS
    remembered = sum(len(batch) for batch in store.iter_all_instances())
    assert remembered == DEVICES * SIGHTINGS
