"""A blocking lock shared by every process that writes one SQLite file.

With several server workers on one SQLite file, a writer that finds the file locked gets
SQLITE_BUSY and SQLite's busy handler sleeps and retries (1, 2, 5, 10, 15 … ms): a worker
then often sleeps well past the moment the other worker commits. Taking an exclusive
flock on a file beside the database first makes the next writer wake the moment the lock
is released instead. Processes that don't take it (the sqlite3 shell, a backup) are still
handled by busy_timeout.
"""

from __future__ import annotations

import fcntl
import os
from types import TracebackType


class WriterFileLock:
    """Exclusive flock on `<database>-writer.lock`; a no-op where that file can't be made."""

    def __init__(self, database_path: str) -> None:
        try:
            lock_path = f"{database_path}-writer.lock"
            self._fd: int | None = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only directory: readers never write, so nothing to order
            self._fd = None

    def __enter__(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
