"""GeoJSON and CSV exports as chunks of text, streamed page by page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from data.exports.pages import Progress, all_observations, counted
from data.store import ObservationStore
from domain.csv_cells import safe_row
from domain.records import ObservationQuery
from domain.wire import CSV_COLUMNS, csv_row, observation_feature

# The CSV keeps domain/wire.py's columns (lon/lat among them) and adds the point as WKT and
# its CRS, so GDAL (a column named WKT) and QGIS's delimited-text reader place it unasked.
CRS = "EPSG:4326"
EXPORT_CSV_COLUMNS: tuple[str, ...] = (*CSV_COLUMNS, "wkt", "crs")


def geojson_chunks(
    store: ObservationStore, query: ObservationQuery, progress: Progress | None = None
) -> Iterator[str]:
    """One RFC 7946 FeatureCollection (coordinates in EPSG:4326 lon/lat)."""
    yield '{"type":"FeatureCollection","features":['
    first = True
    for items in counted(all_observations(store, query), progress):
        text = ",".join(json.dumps(observation_feature(o), separators=(",", ":")) for o in items)
        yield text if first else "," + text
        first = False
    yield "]}\n"


def csv_chunks(
    store: ObservationStore, query: ObservationQuery, progress: Progress | None = None
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_CSV_COLUMNS)
    for items in counted(all_observations(store, query), progress):
        # No cell a spreadsheet would run as a formula (domain/csv_cells.py).
        writer.writerows(
            safe_row([*csv_row(o), f"POINT ({o.lon!r} {o.lat!r})", CRS]) for o in items
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
