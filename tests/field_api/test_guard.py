"""The request gate against a real `herdwatch serve`: huge and slow bodies cost nothing.

Measured on the served process itself (one worker: uvicorn serves in the process it was
started as), by its peak resident memory (VmHWM) before and after the attack.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from data.sqlite import SQLiteStore
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, str]]:
    """A served SQLite Herdwatch with a 2 s body timeout; yields (base URL, pid, token)."""
    path = tmp_path_factory.mktemp("guard") / "guard.db"
    store = SQLiteStore(str(path))
    store.migrate()
    token = store.add_user("olga", "observer")
    store.close()
    port = free_port()
    env = {
        **os.environ,
        "HERDWATCH_DATABASE_URL": f"sqlite:///{path}",
        "HERDWATCH_BODY_TIMEOUT_SECONDS": "2",
    }
    command = [sys.executable, "-m", "field_api.cli", "serve", "--port", str(port)]
    command += ["--log-level", "warning"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
        time.sleep(0.1)
    try:
        yield base, proc.pid, token
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _chunked(port: int, path: str, headers: dict[str, str], total: int) -> tuple[int, int]:
    """Stream `total` bytes chunked (1 MiB chunks) until the server answers; (status, sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Transfer-Encoding: chunked"]
    kind = "application/x-www-form-urlencoded" if path == "/login" else "application/json"
    lines += [f"Content-Type: {kind}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    filler = b"a" if path == "/login" else b"["  # a form field that never ends, or JSON
    chunk = b"%x\r\n" % MIB + filler * MIB + b"\r\n"
    sent = 0
    try:
        while sent < total:
            sock.sendall(chunk)
            sent += MIB
        sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server answered and closed: the rest of the body is never read
    answer = b""
    try:
        while b"\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    sock.close()
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split()[1]), sent


@pytest.mark.parametrize("path", ["/api/v1/surveys", "/api/v1/herds/decisions", "/login"])
def test_300_mib_chunked_body_without_a_token_costs_no_memory(
    served: tuple[str, int, str], path: str
) -> None:
    base, pid, _ = served
    port = int(base.rsplit(":", 1)[1])
    before = _peak_rss_mb(pid)
    status, sent = _chunked(port, path, {}, 300 * MIB)
    grew = _peak_rss_mb(pid) - before
    print(f"{path}: {status} after {sent / MIB:.0f} MiB sent; peak RSS +{grew:.1f} MB")
    assert status in (401, 413)
    assert grew < 20


def test_a_chunked_body_over_the_limit_with_a_token_is_cut_off_at_the_limit(
    served: tuple[str, int, str],
) -> None:
    base, pid, token = served
    port = int(base.rsplit(":", 1)[1])
    before = _peak_rss_mb(pid)
    auth = {"Authorization": f"Bearer {token}"}
    status, sent = _chunked(port, "/api/v1/observations/batch", auth, 64 * MIB)
    grew = _peak_rss_mb(pid) - before
    print(f"signed in: {status} after {sent / MIB:.0f} MiB sent; peak RSS +{grew:.1f} MB")
    assert status == 413
    assert grew < 16 * 3  # the 16 MiB it may read, and no more


def test_a_body_sent_a_byte_a_second_is_dropped_after_the_timeout(
    served: tuple[str, int, str],
) -> None:
    base, _, token = served
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        "POST /api/v1/observations/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    sock.sendall(head.encode())
    started, answer = time.monotonic(), b""
    sock.settimeout(0.5)
    while not answer and time.monotonic() - started < 8:
        try:
            sock.sendall(b" ")
            answer = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            break
    took = time.monotonic() - started
    sock.close()
    print(f"slow body: answered {answer[:12]!r} after {took:.1f} s")
    assert answer.startswith(b"HTTP/1.1 408")
    assert took < 4
    # and the worker is free: the next request is answered at once
    assert httpx.get(f"{base}/health", timeout=2).status_code == 200


def test_a_bad_token_is_refused_before_the_body(served: tuple[str, int, str]) -> None:
    base, _, _ = served
    port = int(base.rsplit(":", 1)[1])
    status, _ = _chunked(port, "/api/v1/surveys", {"Authorization": "Bearer nope"}, 32 * MIB)
    assert status == 401
