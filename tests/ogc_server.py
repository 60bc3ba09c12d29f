"""A `herdwatch serve` subprocess on a free port over a temporary SQLite file, for clients
that must reach a real server (GDAL, OWSLib, ogctests)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.live_server import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def served(database: Path, log: Path) -> Iterator[str]:
    """Serve the database until the block ends; yields the base URL."""
    port = free_port()
    env = {**os.environ, "HERDWATCH_DATABASE_URL": f"sqlite:///{database}"}
    command = [sys.executable, "-m", "field_api.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(base):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start; its log:\n{log.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
