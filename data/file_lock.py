"""A blocking lock shared by every process that writes one SQLite file.

With several server workers on one SQLite file, a writer that finds the file locked gets
SQLITE_BUSY and SQLite's busy handler sleeps and retries (1, 2, 5, 10, 15 … ms): a worker
then often sleeps well past the moment the other worker commits. Taking an exclusive
flock on a file beside the database first makes the next writer wake the moment the lock
is released instead. Past the same 10 s as SQLite's busy_timeout it gives up with
StoreBusy (503 over HTTP), so a stuck process never hangs every upload of the others.
The lock only orders writers well: SQLite's own locking still keeps them correct, and
processes that don't take it (the sqlite3 shell, a backup) meet busy_timeout as before.
"""

from __future__ import annotations

import fcntl
import os
import threading
from types import TracebackType

from domain.errors import StoreBusy
from domain.i18n import Message


class WriterFileLock:
    """Exclusive flock on `<database>-writer.lock`; a no-op where that file can't be made.

    Blocking with a deadline: waits for the other process's commit, raises StoreBusy after
    `timeout_s`.
    """

    def __init__(self, database_path: str, *, timeout_s: float = 10.0) -> None:
        self._timeout_s = timeout_s
        try:
            lock_path = f"{database_path}-writer.lock"
            self._fd: int | None = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only directory: readers never write, so nothing to order
            self._fd = None

    def __enter__(self) -> None:
        if self._fd is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: the usual case
        except BlockingIOError:
            self._wait_for_lock(self._fd)

    def _wait_for_lock(self, fd: int) -> None:
        """Block in flock (the GIL released, woken by the kernel at the other's release)
        on a helper thread, so that this one can give up at the deadline.

        Polling with short sleeps instead cost a quarter of the two-worker ingest rate:
        every wake-up took the GIL from the thread decoding uploads.
        """
        got = threading.Event()
        gave_up = threading.Event()
        decided = threading.Lock()

        def take() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with decided:
                if gave_up.is_set():  # nobody is waiting for it any more
                    fcntl.flock(fd, fcntl.LOCK_UN)
                else:
                    got.set()

        threading.Thread(target=take, name="sqlite-writer-lock", daemon=True).start()
        if got.wait(self._timeout_s):
            return
        with decided:
            if got.is_set():
                return
            gave_up.set()
        raise StoreBusy(
            Message(
                "another process has held the database's write lock for {timeout_s} "
                "s; nothing was written, send it again",
                timeout_s=f"{self._timeout_s:g}",
            )
        )

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
