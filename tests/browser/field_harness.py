"""Pieces of the field app's browser tests: a real `herdwatch serve` subprocess that a test
stops and restarts on the same port, a small HTTP proxy that can lose answers or cut
uploads, and a persistent Chromium profile with a GPS position."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.live_server import free_port

CHROMIUM = os.environ.get("HERDWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
POSITION = {"longitude": 126.75, "latitude": 71.25, "accuracy": 12}


class Server:
    """`herdwatch serve` over a SQLite file, on one port for its whole life."""

    def __init__(self, db: Path, env: dict[str, str] | None = None) -> None:
        self.db, self.port = db, free_port()
        self.env = {
            **os.environ,
            "HERDWATCH_DATABASE_URL": f"sqlite:///{db}",
            "HERDWATCH_FIELD_RETRY_MAX_S": "1.5",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str] | None = None) -> None:
        herdwatch = [sys.executable, "-m", "field_api.cli"]
        command = [*herdwatch, "serve", "--port", str(self.port), "--log-level", "warning"]
        self.process = subprocess.Popen(command, env={**self.env, **(env or {})})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("herdwatch serve exited") from None
                time.sleep(0.1)
        raise RuntimeError("herdwatch serve did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None


class Proxy:
    """Forwards HTTP to the server; `drop(method, path, n)` says whether the n-th such
    request loses its answer (forwarded, answered by the server, never told to the
    browser); `cut(method, path, n)` whether it is cut before the server sees it."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.drop: Callable[[str, str, int], bool] = lambda method, path, n: False
        self.cut: Callable[[str, str, int], bool] = lambda method, path, n: False
        self.seen: dict[tuple[str, str], int] = {}
        self.dropped = self.cuts = 0
        self.offline = False  # True: every connection dies at once, as with no network
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _count(self, method: str, path: str) -> int:
        kind = (
            method,
            "photo"
            if "/photos/" in path
            else "observation"
            if "/observations/" in path
            else "other",
        )
        with self.lock:
            self.seen[kind] = self.seen.get(kind, 0) + 1
            return self.seen[kind]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if proxy.offline:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                n = proxy._count(self.command, self.path)
                if proxy.cut(self.command, self.path, n):
                    self.rfile.read(length // 2)  # half the body, then the line goes dead
                    proxy.cuts += 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                body = self.rfile.read(length) if length else None
                try:
                    upstream = http.client.HTTPConnection(
                        "127.0.0.1", proxy.upstream_port, timeout=30
                    )
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                except OSError:  # the server is down: as if there were no network
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if proxy.drop(self.command, self.path, n):
                    proxy.dropped += 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = do_HEAD = _forward

        return Handler


def launch(playwright: Any, profile: Path, *, locale: str = "en-GB") -> Any:
    """A persistent Chromium profile (close and reopen keeps its storage) with a GPS fix."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1024, "height": 1366},
        locale=locale,
        timezone_id="Asia/Yakutsk",
        geolocation=POSITION,
        permissions=["geolocation"],
        # The harness's string waits (wait_for_function("…")) are evaluated as code, which
        # every page's Content-Security-Policy forbids ('unsafe-eval' is never allowed).
        bypass_csp=True,
    )
