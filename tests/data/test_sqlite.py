"""SQLite-only details: pragmas, hashed tokens on disk, indexes."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from data.sqlite import SQLiteStore
from domain.errors import NotFound
from domain.records import ObservationQuery
from tests.factories import make_batch


def test_wal_and_full_sync(sqlite_store: SQLiteStore) -> None:
    con = sqlite3.connect(sqlite_store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sqlite_store._writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_tokens_are_stored_hashed(sqlite_store: SQLiteStore) -> None:
    token = sqlite_store.add_user("olga", "observer")
    raw = open(sqlite_store.path, "rb").read() + open(sqlite_store.path + "-wal", "rb").read()
    assert token.encode() not in raw


def test_spatial_and_time_indexes_exist(sqlite_store: SQLiteStore) -> None:
    con = sqlite3.connect(sqlite_store.path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert {"observations_cell_time", "observations_time", "observations_changes"} <= names


def test_small_bbox_queries_use_the_cell_index(sqlite_store: SQLiteStore) -> None:
    from data.sql_shared import observation_where, where_clause
    from data.sqlite_queries import SQLITE
    from domain.records import ObservationQuery

    where, params = observation_where(SQLITE, ObservationQuery(bbox=(125.0, 70.0, 127.5, 72.0)))
    plan = (
        sqlite3.connect(sqlite_store.path)
        .execute(f"EXPLAIN QUERY PLAN SELECT id FROM observations {where_clause(where)}", params)
        .fetchall()
    )
    assert "observations_cell_time" in str(plan)


def test_migrate_twice_applies_nothing_new(sqlite_store: SQLiteStore) -> None:
    assert sqlite_store.migrate() == []


def test_group_commit_isolates_a_failing_upload(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uploads sharing one commit: the one that fails is rolled back alone."""
    from data import rows as _rows
    from tests.factories import make_batch

    poisoned = make_batch(5, start=500)
    real = _rows.revision_row

    def fail_for_poisoned(seq, obs, *args, **kwargs):  # type: ignore[no-untyped-def]
        if obs.id == poisoned[2].id:
            raise OSError("disk error while writing this upload")
        return real(seq, obs, *args, **kwargs)

    monkeypatch.setattr(_rows, "revision_row", fail_for_poisoned)
    batches = [make_batch(5, start=10 * i) for i in range(30)] + [poisoned]
    barrier = threading.Barrier(len(batches))

    def upload(batch: list) -> str:  # type: ignore[type-arg]
        barrier.wait()
        try:
            sqlite_store.add_observations(batch, actor="olga")
        except OSError:
            return "failed"
        return "stored"

    with ThreadPoolExecutor(len(batches)) as pool:
        results = list(pool.map(upload, batches))
    assert results == ["stored"] * 30 + ["failed"]
    assert sqlite_store.count_observations(ObservationQuery(include_retracted=True)) == 150
    with pytest.raises(NotFound):
        sqlite_store.get_observation(poisoned[0].id)


def test_writers_of_one_file_take_turns_through_the_file_lock(tmp_path: Path) -> None:
    """Two stores on one file (as two worker processes have): the second writer waits on
    the lock beside the database, not in SQLite's busy handler (set to give up at once)."""
    path = str(tmp_path / "shared.db")
    first, second = SQLiteStore(path), SQLiteStore(path)
    first.migrate()
    second._writer.execute("PRAGMA busy_timeout = 0")  # SQLITE_BUSY at once without the lock
    order: list[str] = []
    with first._write():  # holds the file lock and SQLite's write lock
        waiter = threading.Thread(
            target=lambda: order.append(
                second.add_observations(make_batch(3), actor="olga")[0].status
            )
        )
        waiter.start()
        waiter.join(timeout=0.5)
        assert waiter.is_alive() and order == []  # blocked behind the first writer
        order.append("first done")
    waiter.join(timeout=10)
    assert order == ["first done", "created"]
    first.close()
    second.close()


def test_a_writer_stuck_in_another_process_is_a_busy_store_not_a_hang(tmp_path: Path) -> None:
    from data.file_lock import WriterFileLock
    from domain.errors import StoreBusy

    path = str(tmp_path / "stuck.db")
    stuck, waiting = WriterFileLock(path), WriterFileLock(path, timeout_s=0.2)
    with stuck, pytest.raises(StoreBusy, match="nothing was written"):
        with waiting:
            pass
    with waiting:  # free again once the other one lets go
        pass
