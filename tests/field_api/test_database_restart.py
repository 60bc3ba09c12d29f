"""PostgreSQL restarted while tablets upload: requests during the restart answer 503 with
Retry-After, later ones succeed without restarting Herdwatch, and no acknowledged record
is lost.

The test starts its own PostgreSQL (initdb and pg_ctl from /usr/lib/postgresql/*/bin, on
a free port, in a temporary folder, as the postgres user since it refuses root), never the
machine's shared server, and restarts it with `pg_ctl restart -m fast` mid-upload.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from data.postgis import PostGISStore
from field_api.app import create_app
from field_api.settings import Settings
from tests.conftest import IN_CI
from tests.factories import make_feature
from tests.live_server import free_port, live_server

pytestmark = pytest.mark.postgis

TABLETS, RECORDS = 4, 40


def _bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_postgres(*command: str) -> subprocess.CompletedProcess[bytes]:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, check=True, timeout=60)


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, Any]]:
    """(URL, restart()) of a PostgreSQL with PostGIS that this test alone uses."""
    bindir = _bin()
    if bindir is None or shutil.which("runuser") is None:
        message = "no PostgreSQL binaries under /usr/lib/postgresql/*/bin"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    # Not pytest's tmp_path: its folders are private to root, and postgres must enter it.
    data = Path(tempfile.mkdtemp(prefix="herdwatch-pg-"))
    shutil.chown(data, "postgres")
    port = free_port()
    _as_postgres(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(data / "log")]
    _as_postgres(*ctl, "-w", "start")
    _as_postgres(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "herdwatch")

    def restart() -> None:
        _as_postgres(*ctl, "-m", "fast", "-w", "restart")

    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/herdwatch", restart
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *ctl, "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(data, ignore_errors=True)


def _tablet(base: str, token: str, first: int, log: list[tuple[str, int]], acked: set[str]) -> None:
    """Send each record until it is acknowledged, honouring 503 (sooner than Retry-After)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for n in range(first, first + RECORDS):
            feature = make_feature(n)
            for _ in range(100):
                try:
                    response = client.put(f"/api/v1/observations/{feature['id']}", json=feature)
                except httpx.TransportError:
                    log.append(("transport", 0))
                    time.sleep(0.1)
                    continue
                log.append(("answer", response.status_code))
                if response.status_code == 503:
                    assert response.headers["retry-after"].isdigit()
                    time.sleep(0.1)
                    continue
                assert response.status_code in (200, 201), response.text
                acked.add(feature["id"])
                break
            time.sleep(0.01)


def test_uploads_survive_a_database_restart(own_postgres: tuple[str, Any]) -> None:
    url, restart = own_postgres
    store = PostGISStore.from_url(url)
    store.migrate()
    token = store.add_user("olga", "observer")
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    log: list[tuple[str, int]] = []
    acked: set[str] = set()
    with live_server(create_app(settings, store)) as base:
        tablets = [
            threading.Thread(target=_tablet, args=(base, token, i * 1000, log, acked))
            for i in range(TABLETS)
        ]
        for tablet in tablets:
            tablet.start()
        while len(acked) < TABLETS * RECORDS // 4:
            time.sleep(0.02)
        restart()
        for tablet in tablets:
            tablet.join(timeout=120)
        after = httpx.get(f"{base}/health", timeout=10).status_code
    stored = {str(i) for (i,) in store._read_all("SELECT id FROM observations")}
    answers = Counter(status for kind, status in log if kind == "answer")
    lost = acked - stored
    print(f"database restart: {len(log)} requests, {dict(answers)}, lost {len(lost)}")
    assert after == 200
    assert len(acked) == TABLETS * RECORDS and lost == set()
    assert answers[503] >= 1  # the restart was seen, and answered 503 with Retry-After
    assert set(answers) <= {200, 201, 503}
    store.close()
