"""A served worker keeps the memory a listing page frees for the next page.

Without glibc's thresholds fixed (field_api/memory.py), each 1,000-feature page came back
as fresh pages the kernel had to zero: about 650 page faults per request, 2 ms of the
SQLite listing (docs/benchmarks.md). Counted here as the served process's minor faults.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from data.sqlite import SQLiteStore
from field_api.memory import keep_freed_memory
from tests.factories import make_observation
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc, /proc")


def _minor_faults(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[7])  # minflt, the 10th field of stat(5)


def test_the_thresholds_are_set_on_this_machine() -> None:
    assert keep_freed_memory() is True


def test_a_served_listing_page_costs_no_fresh_pages(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    store = SQLiteStore(str(db))
    store.migrate()
    store.add_observations([make_observation(n) for n in range(1000)], actor="olga")
    token = store.add_user("ana", "researcher")
    store.close()
    port = free_port()
    env = {**os.environ, "HERDWATCH_DATABASE_URL": f"sqlite:///{db}"}
    command = [sys.executable, "-m", "field_api.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base, proc)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
            for _ in range(10):  # warm: the reader connection, the statement cache
                assert len(c.get("/api/v1/observations?limit=1000").json()["features"]) == 1000
            before = _minor_faults(proc.pid)
            for _ in range(20):
                c.get("/api/v1/observations?limit=1000").raise_for_status()
            per_request = (_minor_faults(proc.pid) - before) / 20
    finally:
        proc.terminate()
        proc.wait(30)
    # A page is about 1 MB: 250 fresh 4 kB pages for each copy of it without the fix.
    assert per_request < 50, per_request


def _wait_for(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server stopped"
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")
