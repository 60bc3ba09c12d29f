"""A SQLite store's sighting columns read through ADBC's driver, in a process of its own.

ADBC's SQLite driver carries its own copy of SQLite. Two copies in one process do not see
each other's POSIX locks, and closing a file of either drops the other's locks on it
(sqlite.org/howtocorrupt.html, 2.2.1). Read in the process that held the store open, the
driver's connections closed and took that process's locks with them: the next process to
open and close the database took itself for the last one, checkpointed and deleted the
WAL the store's writer still appended to, and what the store committed after that was
lost when its process was killed (tests/data/test_sqlite_reader.py). So the standard
library's sqlite3 is the only SQLite in a process that holds a store open, and the driver
reads in a helper: one per process, started as a herd grouping begins or at the first
read (`python -P -m data.sqlite_reader`, not multiprocessing, which would run a script's
unguarded top level again), opening its connections for each read and closing them after.
Requests and answers go through its stdin and stdout; the table comes back as an Arrow IPC
stream followed by its row count (0.24-0.32 s at a million sightings). It ends when its
stdin closes, so a parent killed outright leaves no helper behind.
"""

from __future__ import annotations

import atexit
import os
import pickle
import struct
import subprocess
import sys
import threading
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import IO, Any

from data.file_lock import WriterFileLock
from data.sql_shared import READ_PARTS, read_in_parts, split_range

READER_MMAP_BYTES = 1 << 30
# What each connection sees first: the rowid range, and the latest revision that tells two
# snapshots apart. Each a subquery of its own: SQLite answers a lone MIN or MAX from the
# ends of the b-tree, but MIN and MAX in one SELECT scan the whole table (77 ms at a
# million).
SNAPSHOT = (
    "SELECT (SELECT MIN(rowid) FROM observations), (SELECT MAX(rowid) FROM observations), "
    "(SELECT COALESCE(MAX(seq), 0) FROM revisions)"
)
PIPE_BYTES = 1 << 20  # Linux's default /proc/sys/fs/pipe-max-size
_SIZE = struct.Struct("<Q")  # each message: its length in bytes, then the bytes
_TABLE, _ERROR = b"T", b"E"  # an answer's first byte: an IPC stream, or a pickled exception


class ReaderGone(RuntimeError):
    """The helper process ended before it answered (killed, out of memory)."""


class _Helper:
    """The running helper process and the lock that gives it one request at a time."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parent.parent)  # the folder that holds data/
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            # -P: not the caller's current folder first on sys.path (a data.py or another
            # checkout's data/ there would be imported instead of this one).
            [sys.executable, "-P", "-m", "data.sqlite_reader"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
            start_new_session=True,  # Ctrl-C goes to the parent, which ends the helper
        )
        self.lock = threading.Lock()
        self.stopped = False  # set by stop(): a thread that waited for the lock must not write
        self.owner = os.getpid()  # a forked child must not share these pipes: it starts its own
        _widen(self.process.stdout)

    def ask(self, request: bytes) -> Any:
        """The helper's answer to one request: a pyarrow Table, or its exception raised."""
        import pyarrow as pa

        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        with self.lock:
            if self.stopped:
                raise ReaderGone("the sighting reader was stopped")
            try:
                _send(stdin, request)
                kind = stdout.read(1)
                if kind == _TABLE:
                    return _whole_table(stdout)
                if kind != _ERROR:
                    raise EOFError("the sighting reader closed its pipe")
                failure = _receive(stdout)
            except (OSError, EOFError, ValueError, pa.ArrowInvalid) as exc:
                self.stop()
                raise ReaderGone(str(exc)) from exc
            except BaseException:
                # Interrupted mid-answer (Ctrl-C, a MemoryError): the rest of it is still in
                # the pipe and the next request would read it as its own. This helper goes.
                self.stop()
                raise
        raise pickle.loads(failure)

    def stop(self) -> None:
        self.stopped = True
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with suppress(OSError, ValueError):  # a request still buffered: the pipe is gone
                    pipe.close()


def _whole_table(stdout: IO[bytes]) -> Any:
    """The table the helper streams, checked against the row count it sends after it: Arrow
    takes an end of file between two batches for the stream's end, so a helper that died
    after its first part would otherwise hand over half the sightings without an error."""
    import pyarrow as pa

    table = pa.ipc.open_stream(pa.PythonFile(stdout, mode="r")).read_all()
    (rows,) = _SIZE.unpack(_exactly(stdout, _SIZE.size))
    if rows != table.num_rows:
        raise EOFError(f"the sighting reader sent {table.num_rows} of {rows} rows")
    return table


_LOCK = threading.Lock()
_current: _Helper | None = None


def read_table(path: str, sql: str, params: list[Any], parts: int = READ_PARTS) -> Any:
    """The pyarrow Table of `sql` over the SQLite file at path (absolute: the helper does
    not share the caller's current folder), read in the helper process in `parts` rowid
    ranges (the last two parameters of sql, added there)."""
    request = pickle.dumps((path, sql, params, parts))
    for attempt in range(2):
        helper = _helper()
        try:
            return helper.ask(request)
        except ReaderGone:
            _forget(helper)
            if attempt:
                raise
    # (a helper that died since its last read is replaced once, then the read fails)
    raise AssertionError("unreachable")


def start() -> None:
    """Start the helper now, if it is not running (its imports take about 0.25 s)."""
    _helper()


def helper_pid() -> int | None:
    """The helper's process id while it runs (tests kill it)."""
    with _LOCK:
        return _current.process.pid if _current is not None else None


def shutdown() -> None:
    """Stop the helper (tests; a process's helper also ends with it)."""
    with _LOCK:
        helper = _current
    if helper is not None:
        _forget(helper)


atexit.register(shutdown)  # at exit, not at garbage collection ("still running" warnings)


def _helper() -> _Helper:
    global _current
    with _LOCK:
        if _current is None or _current.owner != os.getpid() or _current.process.poll() is not None:
            _current = _Helper()
        return _current


def _forget(helper: _Helper) -> None:
    global _current
    with _LOCK:
        if _current is helper:
            _current = None
    helper.stop()


def _widen(pipe: IO[bytes] | None) -> None:
    """A pipe of PIPE_BYTES rather than 64 KiB: a million sightings' columns (213 MB) came
    through in 0.28-0.32 s instead of 0.42-0.77 s. Where the system allows less, as it is."""
    import fcntl

    try:
        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)  # type: ignore[union-attr]
    except (OSError, AttributeError, ValueError):
        pass


def _send(pipe: IO[bytes], message: bytes) -> None:
    pipe.write(_SIZE.pack(len(message)))
    pipe.write(message)
    pipe.flush()


def _receive(pipe: IO[bytes]) -> bytes:
    (size,) = _SIZE.unpack(_exactly(pipe, _SIZE.size))
    return _exactly(pipe, size)


def _exactly(pipe: IO[bytes], size: int) -> bytes:
    body = pipe.read(size)
    if len(body) < size:
        raise EOFError("the sighting reader closed its pipe mid-answer")
    return body


# In the helper ---------------------------------------------------------------------------


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """In the helper: answer each request until the parent closes the pipe. A table goes
    out as an Arrow IPC stream written straight into the pipe while the parent reads it."""
    import pyarrow as pa

    while True:
        try:
            request = _receive(requests)
        except EOFError:
            return
        try:
            table = read_here(*pickle.loads(request))
        except Exception as exc:  # noqa: BLE001  (every failure goes back to the reader)
            answers.write(_ERROR)
            _send(answers, _pickled(exc))
            continue
        answers.write(_TABLE)
        with pa.ipc.new_stream(pa.PythonFile(answers, mode="w"), table.schema) as writer:
            writer.write_table(table)
        answers.write(_SIZE.pack(table.num_rows))  # the parent checks it got every row
        answers.flush()
        del table
        pa.default_memory_pool().release_unused()  # an idle helper holds no columns


def _pickled(exc: Exception) -> bytes:
    try:
        pickled = pickle.dumps(exc)
        pickle.loads(pickled)  # an exception whose constructor wants other arguments fails here
        return pickled
    except Exception:  # noqa: BLE001
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def read_here(
    path: str, sql: str, params: list[Any], parts: int = READ_PARTS, tries: int = 5
) -> Any:
    """The pyarrow Table of sql, read in `parts` rowid ranges on as many threads, each on a
    read-only connection of its own (in the helper; tests call it here).

    Each connection holds its snapshot from its first statement, taken under the store's
    writer lock (data/file_lock.py), so no write of the store's processes commits between
    them: the parts are one state of the store, as a single read is. A writer that skips
    the lock (the sqlite3 shell) can still land between two first statements and give them
    different versions: they are opened again, and after `tries` one connection reads all.
    """
    lock = WriterFileLock(path)
    try:
        return _one_state(path, lock, sql, params, parts, tries)
    finally:
        lock.close()


def _one_state(
    path: str, lock: WriterFileLock, sql: str, params: list[Any], parts: int, tries: int
) -> Any:
    import adbc_driver_sqlite.dbapi as adbc

    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    for attempt in range(tries + 1):
        n = parts if attempt < tries else 1
        with ExitStack() as opened:
            cursors = [_reader_cursor(opened, adbc, uri) for _ in range(n)]
            with lock:  # for the few first statements only (milliseconds), as writes take it
                seen = {tuple(_first_row(cur)) for cur in cursors}
            if len(seen) == 1:
                low, high, _ = seen.pop()
                ranges = split_range(int(low or 0), int(high if high is not None else -1), n)
                return _read_parts(cursors, sql, params, ranges)
    raise AssertionError("unreachable: one connection always sees one snapshot")


def _read_parts(
    cursors: list[Any], sql: str, params: list[Any], ranges: list[tuple[int, int]]
) -> Any:
    def read_part(k: int) -> Any:
        cur = cursors[k]
        # All rows in one Arrow batch: the driver types each column from its first batch,
        # and a later take on one chunk is cheaper than across a thousand.
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
        cur.execute(sql, [*params, *ranges[k]])
        return cur.fetch_arrow_table()

    return read_in_parts(read_part, len(cursors))


def _reader_cursor(stack: ExitStack, adbc: Any, uri: str) -> Any:
    # The connection holds a transaction (ADBC's autocommit is off): its snapshot is taken
    # at its first read and kept until it closes.
    con = stack.enter_context(adbc.connect(uri))
    cur = stack.enter_context(con.cursor())
    cur.execute(f"PRAGMA mmap_size = {READER_MMAP_BYTES}")
    cur.execute("PRAGMA busy_timeout = 10000")
    return cur


def _first_row(cur: Any) -> Any:
    cur.execute(SNAPSHOT)
    return cur.fetchone()


def _main() -> None:
    import signal

    import adbc_driver_sqlite.dbapi  # noqa: F401  (imported now, while the parent goes on)
    import pyarrow  # noqa: F401

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; stdin's end ends us
    # Answers go out on a copy of stdout, and stdout itself to stderr: a library that
    # prints must not write into an answer.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    _main()
