"""Group commit for the embedded store: many concurrent uploads share one fsync.

With `synchronous=FULL` every commit waits for the disk. Fifty tablets each sending one
observation would otherwise queue for fifty fsyncs in a row. Here each upload is handed to
one writer thread, which takes everything waiting, applies each upload inside its own
SAVEPOINT (a failing upload is rolled back alone and its caller gets the error), commits
once, and only then answers every caller: nothing is acknowledged before it is on disk.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, TypeVar

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], Any]
_MAX_GROUP = 64  # uploads per commit: enough to amortise the fsync, small enough to stay fair


class GroupCommitter:
    """A writer thread that runs submitted work in shared transactions."""

    def __init__(
        self, transaction: Callable[[], AbstractContextManager[sqlite3.Connection]]
    ) -> None:
        self._transaction = transaction
        self._queue: queue.Queue[tuple[Work, Future[Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` inside a write transaction; returns once that transaction committed."""
        self._ensure_started()
        done: Future[T] = Future()
        self._queue.put((work, done))
        return done.result()

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="sqlite-writer", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            group = list(self._take_group())
            if not group:
                return
            self._commit_group(group)
            if group[-1] is None:
                return

    def _take_group(self) -> Iterator[tuple[Work, Future[Any]] | None]:
        first = self._queue.get()
        if first is None:
            return
        yield first
        for _ in range(_MAX_GROUP - 1):
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            yield item
            if item is None:
                return

    def _commit_group(self, group: list[tuple[Work, Future[Any]] | None]) -> None:
        items = [item for item in group if item is not None]
        answers: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with self._transaction() as con:
                for work, done in items:
                    answers.append((done, *_in_savepoint(con, work)))
        except BaseException as exc:  # the commit itself failed: nobody's work is stored
            for _, done in items:
                done.set_exception(exc)
            return
        for done, result, error in answers:
            if error is None:
                done.set_result(result)
            else:
                done.set_exception(error)

    def stop(self) -> None:
        """Finish what is queued, then end the writer thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)


def _in_savepoint(con: sqlite3.Connection, work: Work) -> tuple[Any, BaseException | None]:
    con.execute("SAVEPOINT upload")
    try:
        result = work(con)
    except Exception as exc:
        con.execute("ROLLBACK TO upload")
        con.execute("RELEASE upload")
        return None, exc
    con.execute("RELEASE upload")
    return result, None
