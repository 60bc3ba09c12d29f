"""SQLite's herd-count index: the map's aggregate reads it in order instead of sorting rows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from data import sqlite_queries as queries
from data.sqlite import SQLiteStore
from domain.records import ObservationQuery, Period


@pytest.mark.parametrize("every", ["year", "month"])
@pytest.mark.parametrize("size", queries.SQLITE_INDEXED_CELLS_M)
def test_cell_counts_stream_the_herd_count_index(
    sqlite_store: SQLiteStore, every: Period, size: int
) -> None:
    # Filters included: each is read from the index too (no ANALYZE statistics here).
    query = ObservationQuery(
        start=datetime(2024, 1, 1, tzinfo=UTC),
        populations=("sundrun",),
        methods=("visual",),
        survey_methods=("aerial",),
    )
    indexed = queries.sqlite_indexed_cell_counts(query, every, size)
    assert indexed is not None
    sql, params = indexed
    plan = [
        r[-1]
        for r in sqlite3.connect(sqlite_store.path).execute(f"EXPLAIN QUERY PLAN {sql}", params)
    ]
    reads = [step for step in plan if "observations" in step and "surveys" not in step]
    assert reads and all("observations_herd_counts" in step for step in reads), plan
    # One temporary B-tree: the outer GROUP BY over the aggregates, never one over the rows.
    assert sum("TEMP B-TREE FOR GROUP BY" in step for step in plan) == 1, plan


def test_other_periods_and_sizes_keep_the_general_query() -> None:
    assert queries.sqlite_indexed_cell_counts(ObservationQuery(), "season", 100_000) is None
    assert queries.sqlite_indexed_cell_counts(ObservationQuery(), "year", 5_000) is None
    assert queries.sqlite_indexed_cell_counts(ObservationQuery(), "month", 30_000) is None


def test_indexed_cell_sizes_are_the_map_sizes_with_grid_columns(sqlite_store: SQLiteStore) -> None:
    # A map size added to geo.grid without its grid columns (a migration) would fail here.
    from geo.grid import CELL_SIZES_M

    columns = {
        r[1] for r in sqlite3.connect(sqlite_store.path).execute("PRAGMA table_xinfo(observations)")
    }
    assert set(queries.SQLITE_INDEXED_CELLS_M) <= set(CELL_SIZES_M)
    assert list(queries.SQLITE_INDEXED_CELLS_M) == sorted(queries.SQLITE_INDEXED_CELLS_M)[::-1]
    for size in queries.SQLITE_INDEXED_CELLS_M:
        assert {f"grid{size // 1000}_x", f"grid{size // 1000}_y"} <= columns
