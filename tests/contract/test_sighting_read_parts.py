"""The sighting read in parts (connections sharing one snapshot) reads what one read reads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import data.postgis
import data.sqlite
from data.herds import SIGHTING_COLUMNS, SightingColumns
from data.sql_shared import split_range
from data.sqlite import SQLiteStore
from data.store import ObservationStore
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


def test_a_write_between_connections_is_never_half_read(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload lands after the first connection took its snapshot and before the second
    took its own: the two would read different states, so they are opened again."""
    sqlite_store.add_observations([make_observation(n) for n in range(20)], actor="olga")
    made: list[Any] = []
    written: list[Any] = []
    original = SQLiteStore._reader_cursor

    class WritesAfterFirstRead:
        def __init__(self, cursor: Any) -> None:
            self.cursor = cursor

        def execute(self, sql: str, *args: Any) -> Any:
            done = self.cursor.execute(sql, *args)
            if sql == data.sqlite._SNAPSHOT and self is made[0] and not written:
                written.append(sqlite_store.add_observations([make_observation(99)], actor="o"))
            return done

        def __getattr__(self, name: str) -> Any:
            return getattr(self.cursor, name)

    def reader_cursor(stack: Any, adbc: Any, uri: str) -> Any:
        made.append(WritesAfterFirstRead(original(stack, adbc, uri)))
        return made[-1]

    monkeypatch.setattr(SQLiteStore, "_reader_cursor", staticmethod(reader_cursor))
    columns = sqlite_store.sighting_columns(ObservationQuery())
    assert written and len(made) > data.sqlite.READ_PARTS  # opened again after the write
    assert len(columns) == 21  # all of the newer state, in every part
    assert len(set(columns.id)) == 21
