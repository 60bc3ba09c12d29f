"""The SQL both dialects run, written once: a Dialect describes what differs, and one
builder per shape (WHERE, listing page, periods, seasons, grid keys, herd counts) writes
each dialect's text from it.

data/sqlite_queries.py and data/postgis_queries.py hold each dialect's fragments and index
tricks (SQLite's 1° cell lookup and herd-count index, PostGIS's space-time box). The text is
built once per query; the contract suite checks that both dialects give the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.records import HerdCount, ObservationQuery, Period
from domain.seasons import SeasonCalendar
from geo.grid import cell_centre_lon_lat, cell_key

BBox = tuple[float, float, float, float]
Fragment = tuple[str, list[Any]]  # SQL text and its parameters, in order

# Grid indices are floored by shifting into positive numbers before truncating toward zero:
# SQLite's floor() needs an optional build flag, and a point on a cell edge must land in the
# same cell on both backends. EPSG:3576 stays within ±10,000 km.
GRID_SHIFT = 100_000
# The summed composition columns, in HerdCount's order.
COMPOSITION = ("adult_males", "adult_females", "yearlings", "calves", "unclassified")


def as_is(value: Any) -> Any:
    """A parameter the driver takes as it is."""
    return value


@dataclass(frozen=True)
class Dialect:
    """What one SQL dialect writes differently from standard SQL (the defaults), so each
    dialect names only where it departs. Templates take one expression as `{}`."""

    name: str  # its migrations' folder, data/sql/<name>
    mark: str  # the driver's placeholder
    # The bbox test, led by the dialect's spatial index (the query gives its time window).
    bbox: Callable[[BBox, ObservationQuery], Fragment]
    # The observer's local date ('YYYY-MM-DD' text by default) as 'YYYY', 'YYYY-MM', 'MM-DD'.
    year: str = "substr(local_date, 1, 4)"
    month: str = "substr(local_date, 1, 7)"
    month_day: str = "substr(local_date, 6, 5)"
    to_int: str = "CAST({} AS INTEGER)"  # digits or a boolean as an integer
    as_text: str = "CAST({} AS TEXT)"  # an integer as text
    # A year as four digits, as Python's keys spell it ("0000-winter" for a year-1 January).
    year_text: str = "printf('%04d', {})"
    truncate: str = "CAST({} AS INTEGER)"  # a number truncated toward zero to an integer
    collate: str = ""  # after a text key, so that it sorts bytewise
    id_text: str = "id"  # the id as text compared bytewise (listing cursors)
    arrays: bool = False  # an IN list is one array parameter (= ANY), not a mark a value
    moment: Callable[[datetime], Any] = as_is  # a moment as a parameter
    cursor_moment: Callable[[str], Any] = as_is  # a cursor's moment text as a parameter
    # The time column as filtered when a bbox leads (PostGIS hides the time index then).
    led_moment: str = "observed_at"
    # A faster plan for some cell herd counts (SQLite's covering index), or None.
    cell_counts: Callable[[ObservationQuery, Period, float], Fragment | None] | None = None

    def one_of(self, column: str, values: Sequence[Any]) -> Fragment:
        if self.arrays:
            return f"{column} = ANY({self.mark})", [list(values)]
        return f"{column} IN ({', '.join([self.mark] * len(values))})", list(values)


def where_clause(parts: Sequence[str]) -> str:
    return ("WHERE " + " AND ".join(parts)) if parts else ""


def observation_where(d: Dialect, query: ObservationQuery) -> tuple[list[str], list[Any]]:
    """WHERE parts and their parameters for an ObservationQuery (parameterised only)."""
    parts: list[str] = []
    params: list[Any] = []
    if not query.include_retracted:
        parts.append("status = 'active'")
    if query.bbox is not None:
        part, bbox_params = d.bbox(query.bbox, query)
        parts.append(part)
        params += bbox_params
    moment = "observed_at" if query.bbox is None else d.led_moment
    for op, bound in ((">=", query.start), ("<=", query.end)):
        if bound is not None:
            parts.append(f"{moment} {op} {d.mark}")
            params.append(d.moment(bound))
    for column, values in (("population", query.populations), ("count_method", query.methods)):
        if values:
            part, more = d.one_of(column, values)
            parts.append(part)
            params += more
    if query.survey_methods:
        part, more = d.one_of("method", query.survey_methods)
        parts.append(f"survey_id IN (SELECT id FROM surveys WHERE {part})")
        params += more
    for column, value in (("survey_id", query.survey_id), ("observer", query.observer)):
        if value is not None:
            parts.append(f"{column} = {d.mark}")
            params.append(value)
    return parts, params


def lon_ranges(bbox: BBox) -> list[tuple[float, float]]:
    """One longitude range, or two when the box crosses the antimeridian (min_lon > max_lon)."""
    min_lon, _, max_lon, _ = bbox
    return [(min_lon, max_lon)] if min_lon <= max_lon else [(min_lon, 180.0), (-180.0, max_lon)]


def lon_lat_test(
    bbox: BBox, mark: str, lead: Callable[[float, float], Fragment] | None = None
) -> Fragment:
    """The exact lon/lat test, a longitude range at a time, each led by `lead(west, east)`
    (an index condition) when given. Exact BETWEENs keep edge cases the same everywhere."""
    _, min_lat, _, max_lat = bbox
    exact = f"lon BETWEEN {mark} AND {mark} AND lat BETWEEN {mark} AND {mark}"
    tests: list[str] = []
    params: list[Any] = []
    for west, east in lon_ranges(bbox):
        index, index_params = lead(west, east) if lead is not None else ("", [])
        tests.append(f"({index} AND {exact})" if index else f"({exact})")
        params += [*index_params, west, east, min_lat, max_lat]
    return (tests[0] if len(tests) == 1 else f"({' OR '.join(tests)})"), params


def listing_query(d: Dialect, query: ObservationQuery, select: str) -> Fragment:
    """One page in (observed_at, id) order, plus one row to tell whether more follow."""
    where, params = observation_where(d, query)
    order = "observed_at, id"
    for key, op in ((query.after, ">"), (query.before, "<")):
        if key is not None:
            moment, m = d.cursor_moment(key[0]), d.mark
            where.append(f"(observed_at {op} {m} OR (observed_at = {m} AND {d.id_text} {op} {m}))")
            params += [moment, moment, key[1]]
    if query.before is not None:  # the page that ends before the key: read back from it
        order = "observed_at DESC, id DESC"
    sql = f"{select} {where_clause(where)} ORDER BY {order} LIMIT {d.mark}"
    return sql, [*params, query.limit + 1]


def period_expression(d: Dialect, every: Period, seasons: SeasonCalendar) -> Fragment:
    """SQL for the period key of each row, from its local date."""
    if every == "year":
        return d.year, []
    if every == "month":
        return d.month, []
    if every == "season":
        return season_expression(d, seasons)
    raise ValueError(f"every must be month, season or year, not {every!r}")


def season_expression(d: Dialect, seasons: SeasonCalendar) -> Fragment:
    """'YYYY-name' per row; days before the first season start belong to last year's winter.
    The year is four digits on both backends."""
    md, mark = d.month_day, d.mark
    whens = " ".join(f"WHEN {md} >= {mark} THEN {mark}" for _ in seasons.starts)
    params: list[Any] = [seasons.starts[0][1]]
    for name, start in reversed(seasons.starts):
        params += [start, name]
    before_first = d.to_int.format(f"({md} < {mark})")
    year = d.year_text.format(f"{d.to_int.format(d.year)} - {before_first}")
    return f"({year} || '-' || CASE {whens} ELSE {mark} END)", [*params, seasons.starts[-1][0]]


def key_expression(d: Dialect, by: str, cell_size_m: float) -> Fragment:
    """Grouping key beside period and population: everything, region, or grid cell."""
    if by == "population":
        return "'all'", []
    if by == "region":
        return "COALESCE(region, 'outside study area')", []
    if by == "cell":
        ix, iy = (
            d.as_text.format(
                f"({d.truncate.format(f'{axis} / {d.mark} + {GRID_SHIFT}')} - {GRID_SHIFT})"
            )
            for axis in ("ea_x", "ea_y")
        )
        return f"({ix} || ':' || {iy})", [cell_size_m, cell_size_m]
    raise ValueError(f"by must be population, region or cell, not {by!r}")


def herd_count_query(
    d: Dialect,
    query: ObservationQuery,
    *,
    every: Period,
    by: str,
    cell_size_m: float,
    seasons: SeasonCalendar,
) -> Fragment:
    """Aggregate rows in rows_to_herd_counts order, periods and keys sorted bytewise."""
    if by == "cell" and d.cell_counts is not None:
        indexed = d.cell_counts(query, every, cell_size_m)
        if indexed is not None:
            return indexed
    where, params = observation_where(d, query)
    period_sql, period_params = period_expression(d, every, seasons)
    key_sql, key_params = key_expression(d, by, cell_size_m)
    sums = ", ".join(f"COALESCE(SUM({c}), 0)" for c in COMPOSITION)
    sql = (
        f"SELECT {period_sql}{d.collate} AS period, population, {key_sql}{d.collate} AS key, "
        f"AVG(lon), AVG(lat), COUNT(*), SUM(count), {sums} "
        f"FROM observations {where_clause(where)} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    return sql, [*period_params, *key_params, *params]


def rows_to_herd_counts(
    rows: Sequence[Sequence[Any]], *, by: str, cell_size_m: float
) -> list[HerdCount]:
    """HerdCounts from aggregate rows; cells get their centre as the representative point."""
    counts = []
    for period, population, key, lon, lat, sightings, animals, *classes in rows:
        if by == "cell":
            ix, _, iy = str(key).partition(":")
            key = cell_key(int(ix), int(iy))
            lon, lat = cell_centre_lon_lat(int(ix), int(iy), cell_size_m)
        counts.append(
            HerdCount(
                str(period),
                population,
                str(key),
                float(lon),
                float(lat),
                int(sightings),
                int(animals),
                *(int(c) for c in classes),
            )
        )
    return counts


# The sighting read (reports' one big read) runs in this many parts on as many threads:
# both ADBC drivers convert rows to Arrow in C with the GIL released, so two parts take
# half the time on two cores (bench/report.py). Each part has its own connection; the
# backends make sure all of them read one snapshot of the store.
READ_PARTS = 2


def read_in_parts(read_part: Callable[[int], Any], parts: int) -> Any:
    """The Arrow tables read_part(0), …, read_part(parts - 1), read on as many threads, as
    one table in part order. Parts with no rows are left out (a driver types the columns
    of an empty result as it likes); with no rows at all, the first part's empty table."""
    import pyarrow as pa

    if parts == 1:
        return read_part(0)
    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="herdwatch-read") as pool:
        tables = list(pool.map(read_part, range(parts)))
    found = [t for t in tables if t.num_rows] or tables[:1]
    return pa.concat_tables(found, promote_options="permissive")


def split_range(low: int, high: int, parts: int) -> list[tuple[int, int]]:
    """[low, high] (inclusive, whole numbers) as `parts` contiguous inclusive ranges, the
    last ones possibly empty (start > end) when there are fewer numbers than parts."""
    step = max(1, -(-(high - low + 1) // parts))
    return [(low + k * step, min(high, low + (k + 1) * step - 1)) for k in range(parts)]
