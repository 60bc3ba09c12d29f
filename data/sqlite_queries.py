"""SQLite's SQL for filters and aggregates (parameterised only; no values in SQL text).

data/postgis_queries.py is the same for PostGIS; what both share is data/sql_shared.py.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from data.rows import utc_text
from data.sql_shared import lon_ranges, where_clause
from domain.records import ObservationQuery, Period
from domain.seasons import SeasonCalendar

# Grid indices are floored by shifting into positive numbers before CAST truncates;
# SQLite's floor() needs an optional build flag, and EPSG:3576 stays within ±10,000 km.
_GRID_SHIFT = 100_000


def sqlite_where(query: ObservationQuery) -> tuple[list[str], list[Any]]:
    """WHERE parts and their parameters for an ObservationQuery, in SQLite's dialect."""
    parts: list[str] = []
    params: list[Any] = []
    if not query.include_retracted:
        parts.append("status = 'active'")
    if query.bbox is not None:
        part, bbox_params = _sqlite_bbox(query.bbox)
        parts.append(part)
        params += bbox_params
    if query.start is not None:
        parts.append("observed_at >= ?")
        params.append(utc_text(query.start))
    if query.end is not None:
        parts.append("observed_at <= ?")
        params.append(utc_text(query.end))
    for column, values in (("population", query.populations), ("count_method", query.methods)):
        if values:
            parts.append(f"{column} IN ({', '.join('?' * len(values))})")
            params += list(values)
    if query.survey_methods:
        marks = ", ".join("?" * len(query.survey_methods))
        parts.append(f"survey_id IN (SELECT id FROM surveys WHERE method IN ({marks}))")
        params += list(query.survey_methods)
    if query.survey_id is not None:
        parts.append("survey_id = ?")
        params.append(query.survey_id)
    if query.observer is not None:
        parts.append("observer = ?")
        params.append(query.observer)
    return parts, params


# A bbox covering more 1°×1° cells than this is filtered on lon/lat alone: listing the cells
# would cost more than scanning the time index.
MAX_BBOX_CELLS = 600


def _sqlite_bbox(bbox: tuple[float, float, float, float]) -> tuple[str, list[Any]]:
    """Exact lon/lat test, led by the 1°×1° cell index (geo_cell) when the box is small."""
    _, min_lat, _, max_lat = bbox
    tests, params = [], []
    for west, east in lon_ranges(bbox):
        tests.append("(lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?)")
        params += [west, east, min_lat, max_lat]
    exact = tests[0] if len(tests) == 1 else f"({' OR '.join(tests)})"
    cells = covering_cells(bbox)
    if cells is None:
        return exact, params
    return f"geo_cell IN ({', '.join('?' * len(cells))}) AND {exact}", [*cells, *params]


def covering_cells(bbox: tuple[float, float, float, float]) -> list[int] | None:
    """geo_cell keys of every 1°×1° cell the box touches; None when there are too many."""
    _, min_lat, _, max_lat = bbox
    rows = range(int(min_lat + 90.0), int(max_lat + 90.0) + 1)
    cells: list[int] = []
    for west, east in lon_ranges(bbox):
        for gx in range(int(west + 180.0), int(east + 180.0) + 1):
            cells += [gx * 200 + gy for gy in rows]
            if len(cells) > MAX_BBOX_CELLS:
                return None
    return cells


def sqlite_period(every: Period, seasons: SeasonCalendar) -> tuple[str, list[Any]]:
    """SQL for the period key of each row, from its local date."""
    if every == "year":
        return "substr(local_date, 1, 4)", []
    if every == "month":
        return "substr(local_date, 1, 7)", []
    if every == "season":
        return season_sql(seasons, md="substr(local_date, 6, 5)", year="substr(local_date, 1, 4)")
    raise ValueError(f"every must be month, season or year, not {every!r}")


def season_sql(seasons: SeasonCalendar, *, md: str, year: str) -> tuple[str, list[Any]]:
    """'YYYY-name' per row; days before the first season start belong to last year's winter."""
    whens = " ".join(f"WHEN {md} >= ? THEN ?" for _ in seasons.starts)
    params: list[Any] = []
    for name, start in reversed(seasons.starts):
        params += [start, name]
    first_start = seasons.starts[0][1]
    last_name = seasons.starts[-1][0]
    sql = f"(CAST(CAST({year} AS INTEGER) - ({md} < ?) AS TEXT) || '-' || CASE {whens} ELSE ? END)"
    return sql, [first_start, *params, last_name]


def key_expression(by: str, cell_size_m: float) -> tuple[str, list[Any]]:
    """Grouping key beside period and population: everything, region, or grid cell."""
    if by == "population":
        return "'all'", []
    if by == "region":
        return "COALESCE(region, 'outside study area')", []
    if by == "cell":
        ix = f"(CAST(ea_x / ? + {_GRID_SHIFT} AS INTEGER) - {_GRID_SHIFT})"
        iy = f"(CAST(ea_y / ? + {_GRID_SHIFT} AS INTEGER) - {_GRID_SHIFT})"
        return f"{ix} || ':' || {iy}", [cell_size_m, cell_size_m]
    raise ValueError(f"by must be population, region or cell, not {by!r}")


# Cell sizes with grid keys in SQLite's herd-count index, coarsest first, as that index orders
# them (data/sql/sqlite/0004_herd_count_index.sql).
SQLITE_INDEXED_CELLS_M: tuple[int, ...] = (200_000, 100_000, 50_000, 25_000)
_COMPOSITION = ("adult_males", "adult_females", "yearlings", "calves", "unclassified")
# Local dates lie within a day of UTC: two days of margin bound the months of a time window.
_LOCAL_MARGIN = timedelta(days=2)


def sqlite_indexed_cell_counts(
    query: ObservationQuery, every: Period, cell_size_m: float
) -> tuple[str, list[Any]] | None:
    """Herd counts per cell read in the order of the herd-count index, or None when the
    index cannot serve the request (seasons, or a cell size it holds no keys for).

    The inner GROUP BY follows a prefix of the index (local month, population, the grid
    keys down to the requested size), so SQLite streams it instead of sorting every row;
    the outer one, over those few aggregates, makes the periods and cell keys exactly as
    herd_count_sql does, in the same order. The sums are integers: no rounding differs.
    """
    if every not in ("year", "month") or cell_size_m not in SQLITE_INDEXED_CELLS_M:
        return None
    where, params = sqlite_where(query)
    # With one population SQLite would sort rather than use the index's order: "+" stops it.
    where = [f"+{part}" if part.startswith("population IN") else part for part in where]
    if query.start is not None:  # lets a time window seek the index: a range of months
        where.append("local_month >= ?")
        params.append(f"{(query.start - _LOCAL_MARGIN).astimezone(UTC):%Y-%m}")
    if query.end is not None:
        where.append("local_month <= ?")
        params.append(f"{(query.end + _LOCAL_MARGIN).astimezone(UTC):%Y-%m}")
    sizes = SQLITE_INDEXED_CELLS_M[: SQLITE_INDEXED_CELLS_M.index(int(cell_size_m)) + 1]
    cells = ", ".join(f"grid{s // 1000}_x, grid{s // 1000}_y" for s in sizes)
    km = sizes[-1] // 1000
    inner = (
        f"SELECT local_month, population, grid{km}_x AS ix, grid{km}_y AS iy, "
        "COUNT(*) AS sightings, SUM(count) AS animals, "
        + ", ".join(f"SUM({c}) AS {c}" for c in _COMPOSITION)
        + f" FROM observations {where_clause(where)} "
        f"GROUP BY local_month, population, {cells}"
    )
    period = "substr(local_month, 1, 4)" if every == "year" else "local_month"
    sql = (
        f"SELECT {period} AS period, population, ix || ':' || iy AS key, NULL, NULL, "
        "SUM(sightings), SUM(animals), "
        + ", ".join(f"COALESCE(SUM({c}), 0)" for c in _COMPOSITION)
        + f" FROM ({inner}) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    return sql, params


def herd_count_sql(period_sql: str, key_sql: str, where: str) -> str:
    return (
        f"SELECT {period_sql} AS period, population, {key_sql} AS key, "
        "AVG(lon), AVG(lat), COUNT(*), SUM(count), "
        "COALESCE(SUM(adult_males), 0), COALESCE(SUM(adult_females), 0), "
        "COALESCE(SUM(yearlings), 0), COALESCE(SUM(calves), 0), "
        "COALESCE(SUM(unclassified), 0) "
        f"FROM observations {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )


# SQLite keeps UTC text and sends its first 19 characters ("YYYY-MM-DDTHH:MM:SS"): numpy
# parses a million of those into whole epoch seconds in 0.05 s, where strftime('%s') took
# 2.3 s, and rounded .9995 s up a second while PostGIS (floor(extract(epoch))) and the
# SightingColumns contract drop the fraction.
SIGHTING_SELECT = (
    "SELECT id, substr(observed_at, 1, 19), local_date, lon, lat, ea_x, "
    "ea_y, count, adult_males, adult_females, yearlings, calves, unclassified, population, "
    "region, survey_id, instr(flags, '\"synthetic\"') > 0 FROM observations"
)
