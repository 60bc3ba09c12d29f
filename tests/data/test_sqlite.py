"""SQLite-only details: pragmas, hashed tokens on disk, indexes."""

from __future__ import annotations

import sqlite3

from data.sqlite import SQLiteStore


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
    from data.queries import sqlite_where, where_clause
    from data.records import ObservationQuery

    where, params = sqlite_where(ObservationQuery(bbox=(125.0, 70.0, 127.5, 72.0)))
    plan = sqlite3.connect(sqlite_store.path).execute(
        f"EXPLAIN QUERY PLAN SELECT id FROM observations {where_clause(where)}", params
    ).fetchall()
    assert "observations_cell_time" in str(plan)


def test_migrate_twice_applies_nothing_new(sqlite_store: SQLiteStore) -> None:
    assert sqlite_store.migrate() == []
