"""SQL fragments for PostGIS: the same filters and aggregates as data/sqlite_queries.py (SQLite).

Parameterised only (psycopg `%s`). Each fragment says why it differs from SQLite's; the
contract suite checks that both give the same answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from data.sql_shared import where_clause
from domain.records import ObservationQuery, Period
from domain.seasons import SeasonCalendar

# Same shift-then-truncate as data/sqlite_queries.py, so a point on a cell edge lands in the same
# cell on both backends (floor() could differ from it by one ulp just below zero).
_GRID_SHIFT = 100_000

# The lean columns of data/herds.SIGHTING_COLUMNS; whole UTC seconds as SQLite's strftime('%s').
SIGHTING_SELECT = (
    "SELECT id::text, floor(extract(epoch FROM observed_at))::bigint, "
    "to_char(local_date, 'YYYY-MM-DD'), lon, lat, ea_x, ea_y, count, adult_males, "
    "adult_females, yearlings, calves, unclassified, population, region, survey_id, "
    "flags @> '[\"synthetic\"]'::jsonb FROM observations"
)

# A listing page: the Feature text kept by migration 0004's trigger, and the id and time
# the next-page cursor is made from (binary, so the 1,000 of them decode cheaply).
FEATURE_LISTING = "SELECT id, observed_at, feature FROM observations"

__all__ = [
    "FEATURE_LISTING",
    "SIGHTING_SELECT",
    "herd_count_sql",
    "key_expression",
    "listing_sql",
    "period_expression",
    "postgis_where",
    "where_clause",
]


def postgis_where(query: ObservationQuery) -> tuple[list[str], list[Any]]:
    """WHERE parts and their parameters for an ObservationQuery, in PostGIS's dialect."""
    parts: list[str] = []
    params: list[Any] = []
    if not query.include_retracted:
        parts.append("status = 'active'")
    if query.bbox is not None:
        part, bbox_params = _bbox(query.bbox, query.start, query.end)
        parts.append(part)
        params += bbox_params
    # With a bbox the space-time index already narrows the window; the exact test is then
    # written so the planner cannot also AND in the time index (100,000 entries a year).
    moment = "observed_at" if query.bbox is None else "(observed_at + interval '0 s')"
    if query.start is not None:
        parts.append(f"{moment} >= %s")
        params.append(query.start)
    if query.end is not None:
        parts.append(f"{moment} <= %s")
        params.append(query.end)
    for column, values in (("population", query.populations), ("count_method", query.methods)):
        if values:
            parts.append(f"{column} = ANY(%s)")
            params.append(list(values))
    if query.survey_methods:
        parts.append("survey_id IN (SELECT id FROM surveys WHERE method = ANY(%s))")
        params.append(list(query.survey_methods))
    if query.survey_id is not None:
        parts.append("survey_id = %s")
        params.append(query.survey_id)
    if query.observer is not None:
        parts.append("observer = %s")
        params.append(query.observer)
    return parts, params


# The expression of the n-D index in data/sql/postgis/0002_space_time_index.sql, verbatim.
SPACE_TIME = (
    "ST_MakePoint(lon, lat, extract(epoch FROM observed_at - "
    "timestamptz '1970-01-01 00:00:00+00')::float8)"
)
_OPEN_END = 1e12  # seconds: beyond any date a sighting can have


def _bbox(
    bbox: tuple[float, float, float, float], start: datetime | None, end: datetime | None
) -> tuple[str, list[Any]]:
    """Index lookup plus the exact lon/lat test SQLite makes; split at the antimeridian.

    With a time window the (lon, lat, time) GiST index finds rows in the box and the window
    at once; without one, the 2-D GiST index on geom. Both compare float4 boxes, so the
    exact BETWEEN keeps edge cases the same as SQLite.
    """
    min_lon, min_lat, max_lon, max_lat = bbox
    ranges = [(min_lon, max_lon)] if min_lon <= max_lon else [(min_lon, 180.0), (-180.0, max_lon)]
    tests: list[str] = []
    params: list[Any] = []
    for west, east in ranges:
        if start is None and end is None:
            index = "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
            params += [west, min_lat, east, max_lat]
        else:
            index = (
                f"{SPACE_TIME} &&& ST_3DMakeBox(ST_MakePoint(%s, %s, %s), ST_MakePoint(%s, %s, %s))"
            )
            first = start.timestamp() - 1 if start else -_OPEN_END
            last = end.timestamp() + 1 if end else _OPEN_END
            params += [west, min_lat, first, east, max_lat, last]
        tests.append(f"({index} AND lon BETWEEN %s AND %s AND lat BETWEEN %s AND %s)")
        params += [west, east, min_lat, max_lat]
    return (tests[0] if len(tests) == 1 else f"({' OR '.join(tests)})"), params


def listing_sql(select: str, query: ObservationQuery) -> tuple[str, list[Any]]:
    """One page in (observed_at, id) order, plus one row to tell whether more follow."""
    where, params = postgis_where(query)
    if query.after is not None:
        part, after_params = after_cursor(query.after)
        where.append(part)
        params += after_params
    sql = f"{select} {where_clause(where)} ORDER BY observed_at, id LIMIT %s"
    return sql, [*params, query.limit + 1]


def after_cursor(after: tuple[str, str]) -> tuple[str, list[Any]]:
    """Keyset condition after (observed_at, id).

    The id is compared as "C"-collated text, exactly as SQLite compares its TEXT ids, so a
    cursor whose id is not a UUID pages the same way instead of failing a uuid cast.
    """
    moment = datetime.fromisoformat(after[0])
    sql = '(observed_at > %s OR (observed_at = %s AND id::text COLLATE "C" > %s))'
    return sql, [moment, moment, after[1]]


def period_expression(every: Period, seasons: SeasonCalendar) -> tuple[str, list[Any]]:
    """SQL for the period key of each row, from its local date (as data/sqlite_queries.py)."""
    if every == "year":
        return "to_char(local_date, 'YYYY')", []
    if every == "month":
        return "to_char(local_date, 'YYYY-MM')", []
    if every == "season":
        return _season_sql(seasons)
    raise ValueError(f"every must be month, season or year, not {every!r}")


def _season_sql(seasons: SeasonCalendar) -> tuple[str, list[Any]]:
    """'YYYY-name'; days before the first season start belong to last year's winter.

    SQLite subtracts a boolean; PostgreSQL needs it cast to int. The year is an unpadded
    integer in both (SQLite's CAST(... AS TEXT)).
    """
    md = "to_char(local_date, 'MM-DD')"
    whens = " ".join(f"WHEN {md} >= %s THEN %s" for _ in seasons.starts)
    params: list[Any] = []
    for name, start in reversed(seasons.starts):
        params += [start, name]
    sql = (
        f"((extract(year FROM local_date)::int - ({md} < %s)::int)::text || '-' || "
        f"CASE {whens} ELSE %s END)"
    )
    return sql, [seasons.starts[0][1], *params, seasons.starts[-1][0]]


def key_expression(by: str, cell_size_m: float) -> tuple[str, list[Any]]:
    """Grouping key beside period and population: everything, region, or grid cell."""
    if by == "population":
        return "'all'", []
    if by == "region":
        return "COALESCE(region, 'outside study area')", []
    if by == "cell":
        ix = f"(trunc(ea_x / %s + {_GRID_SHIFT})::bigint - {_GRID_SHIFT})"
        iy = f"(trunc(ea_y / %s + {_GRID_SHIFT})::bigint - {_GRID_SHIFT})"
        return f"({ix}::text || ':' || {iy}::text)", [cell_size_m, cell_size_m]
    raise ValueError(f"by must be population, region or cell, not {by!r}")


def herd_count_sql(period_sql: str, key_sql: str, where: str) -> str:
    """Aggregate rows in data/sql_shared.rows_to_herd_counts order; keys sorted bytewise."""
    return (
        f'SELECT {period_sql} COLLATE "C" AS period, population, {key_sql} COLLATE "C" AS key, '
        "AVG(lon), AVG(lat), COUNT(*), SUM(count), "
        "COALESCE(SUM(adult_males), 0), COALESCE(SUM(adult_females), 0), "
        "COALESCE(SUM(yearlings), 0), COALESCE(SUM(calves), 0), "
        "COALESCE(SUM(unclassified), 0) "
        f"FROM observations {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
