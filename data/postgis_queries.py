"""PostGIS's dialect: its SQL fragments and index tricks (data/sql_shared.py builds the rest).

Parameterised only (psycopg `%s`). Moments are timestamptz, local dates DATE; text keys are
"C"-collated to sort bytewise as SQLite's do. The contract suite checks that both dialects
give the same answers.
"""

from __future__ import annotations

from datetime import datetime

from data.sql_shared import COMPOSITION, BBox, Dialect, Fragment, lon_lat_test
from domain.records import ObservationQuery

# The lean columns of data/herds.SIGHTING_COLUMNS, named so; whole UTC seconds as SQLite's
# (the fraction dropped); "" for missing text and -1 for an unrecorded class, as SQLite's.
SIGHTING_SELECT = (
    # Columns as they are stored (uuid, timestamptz, date): data.herds turns them into
    # text and seconds faster than the server does.
    "SELECT id, observed_at AS epoch_s, local_date, lon, lat, ea_x, ea_y, count, "
    + ", ".join(f"COALESCE({c}, -1) AS {c}" for c in COMPOSITION)
    + ", population, COALESCE(region, '') AS region, COALESCE(survey_id, '') AS survey_id, "
    "flags @> '[\"synthetic\"]'::jsonb AS synthetic FROM observations"
)

# The expression of the n-D index in data/sql/postgis/0002_space_time_index.sql, verbatim.
SPACE_TIME = (
    "ST_MakePoint(lon, lat, extract(epoch FROM observed_at - "
    "timestamptz '1970-01-01 00:00:00+00')::float8)"
)
_OPEN_END = 1e12  # seconds: beyond any date a sighting can have


def _bbox(bbox: BBox, query: ObservationQuery) -> Fragment:
    """Index lookup plus the exact lon/lat test SQLite makes; split at the antimeridian.

    With a time window the (lon, lat, time) GiST index finds rows in the box and the window
    at once; without one, the 2-D GiST index on geom. Both compare float4 boxes, so the
    exact BETWEEN keeps edge cases the same as SQLite.
    """
    _, min_lat, _, max_lat = bbox
    start, end = query.start, query.end

    def lead(west: float, east: float) -> Fragment:
        if start is None and end is None:
            return "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)", [west, min_lat, east, max_lat]
        first = start.timestamp() - 1 if start else -_OPEN_END
        last = end.timestamp() + 1 if end else _OPEN_END
        box = "ST_3DMakeBox(ST_MakePoint(%s, %s, %s), ST_MakePoint(%s, %s, %s))"
        return f"{SPACE_TIME} &&& {box}", [west, min_lat, first, east, max_lat, last]

    return lon_lat_test(bbox, "%s", lead)


POSTGIS = Dialect(
    name="postgis",
    mark="%s",
    # local_date is a DATE: to_char formats it straight (substr of its text costs 15 % more).
    year="to_char(local_date, 'YYYY')",
    month="to_char(local_date, 'YYYY-MM')",
    month_day="to_char(local_date, 'MM-DD')",
    # trunc, as SQLite's CAST: CAST rounds here, and floor() could differ by one ulp just
    # below zero.
    truncate="trunc({})::bigint",
    year_text="lpad(({})::text, 4, '0')",
    collate=' COLLATE "C"',
    # Compared as text, as SQLite compares its TEXT ids: a cursor whose id is not a UUID
    # pages the same way instead of failing a uuid cast.
    id_text='id::text COLLATE "C"',
    arrays=True,
    cursor_moment=datetime.fromisoformat,
    bbox=_bbox,
    # With a bbox the space-time index already narrows the window; the exact test is then
    # written so the planner cannot also AND in the time index (100,000 entries a year).
    led_moment="(observed_at + interval '0 s')",
)
