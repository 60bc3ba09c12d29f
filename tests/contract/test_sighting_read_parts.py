"""The sighting read in parts (connections sharing one snapshot) reads what one read reads."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

import data.postgis
import data.sqlite
import data.sqlite_reader
from data.bulk import StoredObservation
from data.herds import SIGHTING_COLUMNS, SightingColumns, sighting_columns_from_arrow
from data.sql_shared import split_range
from data.sqlite import SQLiteStore
from data.store import ObservationStore
from data.tables import OBSERVATIONS
from domain.records import ObservationQuery
from tests.factories import make_observation


def _frame(columns: SightingColumns) -> pd.DataFrame:
    return pd.DataFrame({name: np.asarray(getattr(columns, name)) for name in SIGHTING_COLUMNS})


def _parts(monkeypatch: pytest.MonkeyPatch, parts: int) -> None:
    for module in (data.sqlite, data.postgis):
        monkeypatch.setattr(module, "READ_PARTS", parts)


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_parts_read_what_one_read_reads(
    store: ObservationStore, monkeypatch: pytest.MonkeyPatch, parts: int
) -> None:
    # Enough rows for several PostgreSQL pages and a retraction in the middle.
    store.add_observations([make_observation(n) for n in range(300)], actor="olga")
    store.retract_observation(make_observation(150).id, actor="olga", reason="twice")
    query = ObservationQuery(populations=("lena-olenek",))
    _parts(monkeypatch, 1)
    whole, chosen = store.sighting_columns(ObservationQuery()), store.sighting_columns(query)
    _parts(monkeypatch, parts)
    in_parts = store.sighting_columns(ObservationQuery())
    assert len(whole) == 299
    pd.testing.assert_frame_equal(_frame(in_parts), _frame(whole))
    pd.testing.assert_frame_equal(_frame(store.sighting_columns(query)), _frame(chosen))


def test_more_parts_than_rows(store: ObservationStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _parts(monkeypatch, 4)
    assert len(store.sighting_columns(ObservationQuery())) == 0
    store.add_observations([make_observation(1)], actor="olga")
    assert list(store.sighting_columns(ObservationQuery()).count) == [make_observation(1).count]


def test_split_range_covers_every_number_once() -> None:
    for low, high, parts in ((1, 10, 2), (1, 10, 3), (5, 5, 4), (0, -1, 2), (1, 1_000_003, 7)):
        ranges = split_range(low, high, parts)
        assert len(ranges) == parts
        covered = [n for a, b in ranges for n in range(a, b + 1)]
        assert covered == list(range(low, high + 1))


def _write_after_first_snapshot(monkeypatch: pytest.MonkeyPatch, write: Any) -> list[Any]:
    """Run write() once, just after the first sighting-read connection took its snapshot;
    the cursors made, in order."""
    made: list[Any] = []
    written: list[Any] = []
    original = data.sqlite_reader._reader_cursor

    class WritesAfterFirstRead:
        def __init__(self, cursor: Any) -> None:
            self.cursor = cursor

        def execute(self, sql: str, *args: Any) -> Any:
            done = self.cursor.execute(sql, *args)
            if sql == data.sqlite_reader.SNAPSHOT and self is made[0] and not written:
                written.append(write())
            return done

        def __getattr__(self, name: str) -> Any:
            return getattr(self.cursor, name)

    def reader_cursor(stack: Any, adbc: Any, uri: str) -> Any:
        made.append(WritesAfterFirstRead(original(stack, adbc, uri)))
        return made[-1]

    monkeypatch.setattr(data.sqlite_reader, "_reader_cursor", reader_cursor)
    return made


def _read_here(store: SQLiteStore) -> SightingColumns:
    """The sighting read as the reader process makes it, made in this process so that a
    test can step in between its connections."""
    sql, params = store._sighting_sql(ObservationQuery())
    table = data.sqlite_reader.read_here(store.path, sql, params, data.sqlite.READ_PARTS)
    return sighting_columns_from_arrow(table)


def test_an_outside_write_between_connections_is_never_half_read(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that skips the store's locks (the sqlite3 shell) adds a row after the first
    connection took its snapshot and before the second took its own: the two would read
    different states, so they are opened again."""
    sqlite_store.add_observations([make_observation(n) for n in range(20)], actor="olga")
    columns_text = ", ".join(OBSERVATIONS.columns[1:])

    def outside_write() -> None:
        with closing(sqlite3.connect(sqlite_store.path)) as con, con:
            con.execute(
                f"INSERT INTO observations (id, {columns_text}) "
                f"SELECT 'outside', {columns_text} FROM observations LIMIT 1"
            )

    made = _write_after_first_snapshot(monkeypatch, outside_write)
    columns = _read_here(sqlite_store)
    assert len(made) > data.sqlite.READ_PARTS  # opened again after the write
    assert len(columns) == 21  # all of the newer state, in every part
    assert len(set(columns.id)) == 21


def test_an_import_between_connections_waits_for_both_snapshots(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """import_observations replaces rows without a revision, so the snapshots' versions
    cannot tell its states apart: it must not commit between two connections' snapshots.
    It replaces the first and the last row (one in each part) in one transaction; the
    report has both old or both new, never one of each."""
    sqlite_store.add_observations([make_observation(n) for n in range(20)], actor="olga")
    first, last = make_observation(0).id, make_observation(19).id
    newer = [
        StoredObservation(
            replace(sqlite_store.get_observation(i), count=999, revision=2), "f" * 64, 100 + k
        )
        for k, i in enumerate((first, last))
    ]
    importer = threading.Thread(target=sqlite_store.import_observations, args=(newer,))

    def import_meanwhile() -> None:
        importer.start()
        importer.join(timeout=0.5)  # done by now unless it waits for the snapshots

    _write_after_first_snapshot(monkeypatch, import_meanwhile)
    columns = _read_here(sqlite_store)
    importer.join()
    counts = dict(zip(columns.id.tolist(), columns.count.tolist(), strict=True))
    old = (make_observation(0).count, make_observation(19).count)
    assert (counts[str(first)], counts[str(last)]) in (old, (999, 999))
    assert sqlite_store.get_observation(first).count == 999  # the import did land
