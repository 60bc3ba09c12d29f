"""`herdwatch serve --workers N` on one database: a storm of duplicate uploads.

The worker processes share nothing but the database, so only its unique constraints (and,
on SQLite, its one-writer lock) stop a record being stored twice when the same upload
reaches two workers at once. Four workers on PostGIS; two on a SQLite file, as a laptop
with two cores would run it.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from data.sqlite import SQLiteStore
from tests.factories import make_feature
from tests.live_server import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
RECORDS = 200
SENDERS = 12


def _worker_pids(store: Any, own_pid: int) -> set[int]:
    """Processes other than ours holding connections to this store's schema."""
    rows = store._read_all(
        "SELECT DISTINCT application_name FROM pg_stat_activity WHERE application_name LIKE %s",
        (f"herdwatch:%:{store.schema}",),
    )
    return {int(name.split(":")[1]) for (name,) in rows} - {own_pid}


def _start_server(url: str, port: int, log: Path, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HERDWATCH_DATABASE_URL": url}
    command = [
        sys.executable,
        "-m",
        "field_api.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_until(ready: Any, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 120  # four workers import the whole app: slow on 2 busy cores
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen; server log:\n{log.read_text()}")
        time.sleep(0.1)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _send(client: httpx.Client, method: str, url: str, body: Any) -> httpx.Response:
    """Send as a tablet does: a dropped connection is retried, since re-sending is safe."""
    for _ in range(4):
        try:
            return client.request(method, url, json=body)
        except httpx.TransportError:
            continue  # a busy machine may recycle a worker; the answer was lost, not the data
    return client.request(method, url, json=body)


def _send_everything(base: str, token: str, seed: int) -> list[tuple[str, str]]:
    """One tablet's retries: every record, in its own order, half in batches, half alone."""
    rng = random.Random(seed)
    order = list(range(RECORDS))
    rng.shuffle(order)
    results: list[tuple[str, str]] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        half = RECORDS // 2
        for start in range(0, half, 25):
            features = [make_feature(n) for n in order[start : min(start + 25, half)]]
            body = {"type": "FeatureCollection", "features": features}
            response = _send(client, "POST", "/api/v1/observations/batch", body)
            assert response.status_code == 200, response.text
            results += [(r["id"], r["status"]) for r in response.json()["results"]]
        for n in order[half:]:
            feature = make_feature(n)
            response = _send(client, "PUT", f"/api/v1/observations/{feature['id']}", feature)
            status = {201: "created", 200: "unchanged"}.get(response.status_code, response.text)
            results.append((feature["id"], status))
    return results


@pytest.mark.postgis
def test_four_postgis_workers_store_each_record_once_in_a_storm(pg: Any, tmp_path: Path) -> None:
    token = pg.add_user("olga", "observer")
    port, log = free_port(), tmp_path / "server.log"
    proc = _start_server(pg.url, port, log, WORKERS)
    try:
        _wait_until(lambda: _answers(f"http://127.0.0.1:{port}"), proc, log, "/health answering")
        _wait_until(
            lambda: len(_worker_pids(pg, os.getpid())) >= WORKERS,
            proc,
            log,
            f"{WORKERS} workers connecting",
        )
        results = _storm(f"http://127.0.0.1:{port}", token)
        workers = _worker_pids(pg, os.getpid())
    finally:
        _stop(proc)
    assert len(workers) >= WORKERS, (workers, log.read_text())
    _assert_each_record_once(results)
    stored = pg._read_all("SELECT id::text, count(*) FROM observations GROUP BY id")
    assert {oid for oid, _ in stored} == {oid for oid, _ in results}
    creates = pg._read_all("SELECT count(*), count(DISTINCT observation_id) FROM revisions")
    assert creates == [(RECORDS, RECORDS)]


def test_two_sqlite_workers_store_each_record_once_in_a_storm(tmp_path: Path) -> None:
    db = tmp_path / "storm.db"
    store = SQLiteStore(str(db))
    store.migrate()
    token = store.add_user("olga", "observer")
    store.close()
    port, log = free_port(), tmp_path / "server.log"
    proc = _start_server(f"sqlite:///{db}", port, log, 2)
    try:
        _wait_until(lambda: _answers(f"http://127.0.0.1:{port}"), proc, log, "/health answering")
        results = _storm(f"http://127.0.0.1:{port}", token)
        pids = _serving_pids(proc.pid)
    finally:
        _stop(proc)
    assert len(pids) >= 2, (pids, log.read_text())
    _assert_each_record_once(results)
    with sqlite3.connect(db) as con:
        stored = con.execute("SELECT id FROM observations").fetchall()
        creates = con.execute(
            "SELECT count(*), count(DISTINCT observation_id) FROM revisions"
        ).fetchone()
    assert sorted(oid for (oid,) in stored) == sorted({oid for oid, _ in results})
    assert creates == (RECORDS, RECORDS)


def _serving_pids(parent: int) -> set[int]:
    """uvicorn's worker processes: the children of the supervisor."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return {int(pid) for pid in children}


def _storm(base: str, token: str) -> list[tuple[str, str]]:
    """SENDERS tablets at once, each sending every record (so each record arrives 12 times)."""
    start = threading.Barrier(SENDERS)

    def sender(seed: int) -> list[tuple[str, str]]:
        start.wait()
        return _send_everything(base, token, seed)

    with ThreadPoolExecutor(SENDERS) as pool:
        return [r for batch in pool.map(sender, range(SENDERS)) for r in batch]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _assert_each_record_once(results: list[tuple[str, str]]) -> None:
    statuses = Counter(status for _, status in results)
    assert set(statuses) <= {"created", "unchanged"}, statuses  # every send acknowledged
    created = Counter(oid for oid, status in results if status == "created")
    assert len({oid for oid, _ in results}) == RECORDS
    # Never created twice (a "created" can be missing only if its answer was lost).
    assert set(created.values()) == {1}, [oid for oid, n in created.items() if n > 1]
