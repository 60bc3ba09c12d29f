"""The disk filling up under SQLite: uploads answer 503 with Retry-After, nothing is
half-written, and the same uploads succeed once space is back.

A real ENOSPC: the database lives on a small tmpfs mounted for the test (we run as root
in CI; elsewhere the test is skipped), and a filler file takes the last free byte.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from data.sqlite import SQLiteStore
from field_api.app import create_app
from field_api.settings import Settings
from tests.conftest import IN_CI
from tests.factories import make_collection

BATCH, ROUNDS = 40, 12


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        message = f"cannot mount a tmpfs here: {done.stderr.decode().strip()}"
        pytest.fail(message) if IN_CI and os.geteuid() == 0 else pytest.skip(message)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 512, 1):  # down to the last byte
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def _ids(body: dict[str, Any]) -> list[str]:
    return [str(f["id"]) for f in body["features"]]


def test_a_full_disk_answers_503_and_loses_nothing(small_disk: Path, tmp_path: Path) -> None:
    store = SQLiteStore(str(small_disk / "herdwatch.db"))
    store.migrate()
    token = store.add_user("olga", "observer")
    settings = Settings(database_url=f"sqlite:///{small_disk / 'herdwatch.db'}", _env_file=None)  # type: ignore[call-arg]
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings, store), headers=headers) as client:
        first = make_collection(BATCH, start=0)
        assert client.post("/api/v1/observations/batch", json=first).status_code == 200
        filler = _fill(small_disk)
        statuses, refused, acknowledged = [], [], set(_ids(first))
        for n in range(1, ROUNDS + 1):
            batch = make_collection(BATCH, start=n * BATCH)
            response = client.post("/api/v1/observations/batch", json=batch)
            statuses.append(response.status_code)
            if response.status_code == 200:
                acknowledged |= {r["id"] for r in response.json()["results"]}
            else:
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"].isdigit()
                assert "disk is full" in response.json()["detail"]
                refused.append(batch)
        single = make_collection(1, start=9999)["features"][0]
        put = client.put(f"/api/v1/observations/{single['id']}", json=single)
        print(f"disk full: {len(statuses)} batches tried, {statuses.count(503)} answered 503")
        assert refused and put.status_code == 503

        stored = {str(i) for (i,) in store._read_all("SELECT id FROM observations")}
        assert stored == acknowledged  # every acknowledged record, and no half batch
        assert store._read_one("PRAGMA integrity_check")[0] == "ok"
        revisions = store._read_one("SELECT count(*) FROM revisions")[0]
        assert revisions == len(stored)

        filler.unlink()  # space is back: the same uploads now succeed, without a restart
        for batch in refused:
            response = client.post("/api/v1/observations/batch", json=batch)
            assert response.status_code == 200, response.text
            assert response.json()["summary"]["created"] == BATCH
        assert client.put(f"/api/v1/observations/{single['id']}", json=single).status_code == 201
    total = store._read_one("SELECT count(*) FROM observations")[0]
    assert total == BATCH * (ROUNDS + 1) + 1
    store.close()
