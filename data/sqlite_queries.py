"""SQLite's dialect: its SQL fragments and index tricks (data/sql_shared.py builds the rest).

UTC moments are fixed-format text, local dates 'YYYY-MM-DD' text, and text sorts bytewise: what
sql_shared.Dialect assumes by default.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from data.rows import utc_text
from data.sql_shared import (
    COMPOSITION,
    BBox,
    Dialect,
    Fragment,
    lon_lat_test,
    lon_ranges,
    observation_where,
    where_clause,
)
from domain.records import ObservationQuery, Period
from geo.grid import CELL_SIZES_M

# A bbox covering more 1°×1° cells than this is filtered on lon/lat alone: listing the cells
# would cost more than scanning the time index.
MAX_BBOX_CELLS = 600


def _bbox(bbox: BBox, query: ObservationQuery) -> Fragment:
    """Exact lon/lat test, led by the 1°×1° cell index (geo_cell) when the box is small."""
    exact, params = lon_lat_test(bbox, "?")
    cells = covering_cells(bbox)
    if cells is None:
        return exact, params
    return f"geo_cell IN ({', '.join('?' * len(cells))}) AND {exact}", [*cells, *params]


def covering_cells(bbox: BBox) -> list[int] | None:
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


# Cell sizes with grid keys in SQLite's herd-count index, coarsest first, as that index orders
# them: the map's sizes from 25 km up (data/sql/sqlite/0004_herd_count_index.sql).
SQLITE_INDEXED_CELLS_M: tuple[int, ...] = tuple(
    int(s) for s in sorted(CELL_SIZES_M, reverse=True) if s >= 25_000
)
# Local dates lie within a day of UTC: two days of margin bound the months of a time window.
_LOCAL_MARGIN = timedelta(days=2)


def sqlite_indexed_cell_counts(
    query: ObservationQuery, every: Period, cell_size_m: float
) -> Fragment | None:
    """Herd counts per cell read in the order of the herd-count index, or None when the
    index cannot serve the request (seasons, or a cell size it holds no keys for).

    The inner GROUP BY follows a prefix of the index (local month, population, the grid
    keys down to the requested size), so SQLite streams it instead of sorting every row;
    the outer one, over those few aggregates, makes the periods and cell keys exactly as
    sql_shared.herd_count_query does, in the same order. The sums are integers: no rounding
    differs.
    """
    if every not in ("year", "month") or cell_size_m not in SQLITE_INDEXED_CELLS_M:
        return None
    where, params = observation_where(SQLITE, query)
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
        + ", ".join(f"SUM({c}) AS {c}" for c in COMPOSITION)
        + f" FROM observations {where_clause(where)} "
        f"GROUP BY local_month, population, {cells}"
    )
    period = "substr(local_month, 1, 4)" if every == "year" else "local_month"
    sql = (
        f"SELECT {period} AS period, population, ix || ':' || iy AS key, NULL, NULL, "
        "SUM(sightings), SUM(animals), "
        + ", ".join(f"COALESCE(SUM({c}), 0)" for c in COMPOSITION)
        + f" FROM ({inner}) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    return sql, params


# Standard SQL but for the placeholder: SQLite keeps local dates and UTC moments as text.
SQLITE = Dialect(
    name="sqlite",
    mark="?",
    moment=utc_text,
    bbox=_bbox,
    cell_counts=sqlite_indexed_cell_counts,
)

# SQLite keeps UTC text and sends its first 19 characters ("YYYY-MM-DDTHH:MM:SS"), parsed
# into whole epoch seconds in C (data/herds.py), where strftime('%s') took 2.3 s a million
# and rounded .9995 s up a second while PostGIS (floor(extract(epoch))) and the
# SightingColumns contract drop the fraction. The Arrow reader types each column from its
# first rows, so no value may be NULL and every number has its one type: "" for missing
# text, -1 for an unrecorded class, REAL for coordinates.
SIGHTING_SELECT = (
    "SELECT id, substr(observed_at, 1, 19) AS epoch_s, local_date, CAST(lon AS REAL) AS lon, "
    "CAST(lat AS REAL) AS lat, CAST(ea_x AS REAL) AS ea_x, CAST(ea_y AS REAL) AS ea_y, "
    "CAST(count AS INTEGER) AS count, "
    + ", ".join(f"COALESCE({c}, -1) AS {c}" for c in COMPOSITION)
    + ", population, COALESCE(region, '') AS region, COALESCE(survey_id, '') AS survey_id, "
    "instr(flags, '\"synthetic\"') > 0 AS synthetic FROM observations"
)
