"""The SQLite sighting read in a process of its own: a process holding the store open never
loads ADBC's copy of SQLite, and its commits survive another process's open and close."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from data import sqlite_reader
from data.sqlite import SQLiteStore
from domain.records import ObservationQuery
from tests.factories import make_observation

ROOT = Path(__file__).resolve().parents[2]

# A served worker: it reads the sighting columns (the herd grouping's read), then goes on
# committing uploads, and is killed outright (kill -9) after an acknowledged commit.
_WORKER = """
import sys
from data.sqlite import SQLiteStore
from domain.records import ObservationQuery
from tests.factories import make_observation
store = SQLiteStore(sys.argv[1])
store.add_observations([make_observation(1)], actor="olga")
assert len(store.sighting_columns(ObservationQuery())) == 1
print("adbc in this process:", "adbc_driver_sqlite" in sys.modules, flush=True)
sys.stdin.readline()
outcome = store.add_observations([make_observation(2)], actor="olga")
print("acknowledged:", outcome[0].status, flush=True)
sys.stdin.readline()
"""


def test_a_commit_after_the_read_survives_another_process_and_a_kill(tmp_path: Path) -> None:
    """Read in the worker itself, ADBC's copy of SQLite dropped the worker's file locks when
    its connections closed: the next process to open and close the database took itself for
    the last, deleted the WAL, and the worker's next acknowledged upload was lost at kill -9."""
    db = tmp_path / "herdwatch.db"
    made = SQLiteStore(str(db))
    made.migrate()
    made.close()  # this process holds nothing open: the worker's locks alone keep the WAL
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(db)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdin is not None and worker.stdout is not None
    try:
        assert worker.stdout.readline().strip() == "adbc in this process: False"
        # Another process (a CLI command, a backup, a restarted worker) opens and closes it.
        with closing(sqlite3.connect(db)) as con:
            assert con.execute("SELECT COUNT(*) FROM observations").fetchone() == (1,)
        assert Path(f"{db}-wal").exists(), "the worker's WAL was deleted under it"
        worker.stdin.write("\n")
        worker.stdin.flush()
        assert worker.stdout.readline().strip() == "acknowledged: created"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    reopened = SQLiteStore(str(db))
    try:
        ids = set(reopened.sighting_columns(ObservationQuery()).id.tolist())
    finally:
        reopened.close()
    assert ids == {str(make_observation(1).id), str(make_observation(2).id)}


def test_the_reader_starts_again_after_it_was_killed(sqlite_store: SQLiteStore) -> None:
    sqlite_store.add_observations([make_observation(n) for n in range(3)], actor="olga")
    assert len(sqlite_store.sighting_columns(ObservationQuery())) == 3
    first = sqlite_reader.helper_pid()
    assert first is not None and first != os.getpid()
    os.kill(first, signal.SIGKILL)
    assert len(sqlite_store.sighting_columns(ObservationQuery())) == 3
    assert sqlite_reader.helper_pid() not in (None, first)


def test_a_failed_read_raises_here_and_the_reader_goes_on(
    sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    sqlite_store.add_observations([make_observation(1)], actor="olga")
    assert len(sqlite_store.sighting_columns(ObservationQuery())) == 1
    helper = sqlite_reader.helper_pid()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(Exception, match="no such table: observations"):
        sqlite_reader.read_table(str(empty), "SELECT 1 WHERE ? AND ?", [])
    assert sqlite_reader.helper_pid() == helper  # the same helper, still answering
    assert len(sqlite_store.sighting_columns(ObservationQuery())) == 1


def test_an_answer_interrupted_midway_is_never_read_as_the_next(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the table streams in leaves the rest of it in the pipe: that helper is
    stopped, and the next read gets a new one and the right rows."""
    import pyarrow as pa

    sqlite_store.add_observations([make_observation(n) for n in range(5)], actor="olga")
    assert len(sqlite_store.sighting_columns(ObservationQuery())) == 5
    first = sqlite_reader.helper_pid()

    def interrupted(source: object) -> object:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(pa.ipc, "open_stream", interrupted)
        with pytest.raises(KeyboardInterrupt):
            sqlite_store.sighting_columns(ObservationQuery())
    assert first is not None
    with pytest.raises(ProcessLookupError):  # stopped and reaped at once, not left to the next read
        os.kill(first, 0)
    assert len(sqlite_store.sighting_columns(ObservationQuery())) == 5
    assert sqlite_reader.helper_pid() not in (None, first)


def _stream(table: object, *, cut_after_first_batch: bool, rows: int | None = None) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    writer = pa.ipc.new_stream(sink, table.schema)  # type: ignore[attr-defined]
    batches = table.to_batches(max_chunksize=2)  # type: ignore[attr-defined]
    writer.write_batch(batches[0])
    if cut_after_first_batch:  # the helper died here: no second batch, no end, no count
        return bytes(sink.getvalue())
    for batch in batches[1:]:
        writer.write_batch(batch)
    writer.close()
    count = table.num_rows if rows is None else rows  # type: ignore[attr-defined]
    return bytes(sink.getvalue()) + sqlite_reader._SIZE.pack(count)


def test_a_stream_cut_between_two_parts_is_not_taken_for_the_whole() -> None:
    """Arrow takes an end of file between two batches for the stream's end: without the
    row count sent after it, a helper that died after its first part handed over half the
    sightings, and the herds were grouped from them."""
    import io

    import pyarrow as pa

    table = pa.table({"id": ["a", "b", "c", "d"]})
    whole = sqlite_reader._whole_table(io.BytesIO(_stream(table, cut_after_first_batch=False)))
    assert whole.num_rows == 4
    with pytest.raises(EOFError, match="mid-answer"):
        sqlite_reader._whole_table(io.BytesIO(_stream(table, cut_after_first_batch=True)))
    with pytest.raises(EOFError, match="sent 4 of 6 rows"):
        sqlite_reader._whole_table(io.BytesIO(_stream(table, cut_after_first_batch=False, rows=6)))


def test_threads_reading_while_the_helper_is_killed_all_get_their_rows(
    sqlite_store: SQLiteStore,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sqlite_store.add_observations([make_observation(n) for n in range(50)], actor="olga")
    assert len(sqlite_store.sighting_columns(ObservationQuery())) == 50
    helper = sqlite_reader.helper_pid()
    assert helper is not None

    def read(k: int) -> int:
        if k == 3:
            os.kill(helper, signal.SIGKILL)
        return len(sqlite_store.sighting_columns(ObservationQuery()))

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(read, range(24))) == [50] * 24


# A script that opens a store by a relative path, then moves to a folder with a data.py of
# its own before the first read starts the helper.
_ELSEWHERE = """
import os, sys
sys.path.insert(0, sys.argv[1])
from data.sqlite import SQLiteStore
from domain.records import ObservationQuery
from tests.factories import make_observation
store = SQLiteStore("herdwatch.db")
store.migrate()
store.add_observations([make_observation(1)], actor="olga")
os.chdir(sys.argv[2])
print(len(store.sighting_columns(ObservationQuery())))
"""


def test_the_helper_ignores_the_callers_current_folder(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "data.py").write_text("raise SystemExit('the wrong data module')\n")
    done = subprocess.run(
        [sys.executable, "-P", "-c", _ELSEWHERE, str(ROOT), str(elsewhere)],
        cwd=tmp_path / "work",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"]
