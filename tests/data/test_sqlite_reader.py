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
