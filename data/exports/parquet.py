"""GeoParquet 1.1 with pyarrow: WKB points, a `bbox` covering column, row groups in space order.

Row groups are filled cell by cell of a 2^k × 2^k grid over the data's extent, the cells
visited along a Hilbert curve, so each row group holds points that lie near each other and
a reader with a bbox filter skips most groups by their `bbox` statistics. Each cell is read
from the store with its own bbox query (the stores' spatial indexes), page by page: memory
holds one row group, never the whole export.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from data.exports.columns import GEOMETRY, arrow_fields, attribute_arrays, points_wkb
from data.exports.pages import Progress, all_observations
from data.store import ObservationStore
from domain.records import Extent, Observation, ObservationQuery

ROW_GROUP = 20_000
GRID_ORDER = 4  # a 16 × 16 grid of cells over the extent
Box = tuple[float, float, float, float]
BBOX_TYPE = pa.struct([(k, pa.float64()) for k in ("xmin", "ymin", "xmax", "ymax")])


def geo_metadata(extent: Extent | None) -> dict[str, object]:
    """The `geo` key of GeoParquet 1.1 (CRS left out: the default, OGC:CRS84 lon/lat)."""
    column: dict[str, object] = {
        "encoding": "WKB",
        "geometry_types": ["Point"],
        "covering": {
            "bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")},
        },
    }
    if extent is not None:
        column["bbox"] = [extent.min_lon, extent.min_lat, extent.max_lon, extent.max_lat]
    return {"version": "1.1.0", "primary_column": GEOMETRY, "columns": {GEOMETRY: column}}


def parquet_schema(extent: Extent | None) -> pa.Schema:
    fields = [*arrow_fields(), pa.field(GEOMETRY, pa.binary()), pa.field("bbox", BBOX_TYPE)]
    return pa.schema(fields, metadata={"geo": json.dumps(geo_metadata(extent))})


def write_geoparquet(
    store: ObservationStore,
    query: ObservationQuery,
    path: Path,
    progress: Progress | None = None,
) -> None:
    extent = store.observation_extent(query)
    schema = parquet_schema(extent)
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        # Pages become Arrow columns at once (a few hundred bytes a row, where the page's
        # Python objects take kilobytes): the pending row group is all that is held.
        pending: list[pa.Table] = []
        held = done = 0
        for items in in_space_order(store, query, extent):
            pending.append(_table(items, schema))
            held += len(items)
            while held >= ROW_GROUP:
                group = pa.concat_tables(pending)
                writer.write_table(group.slice(0, ROW_GROUP), row_group_size=ROW_GROUP)
                pending, held = [group.slice(ROW_GROUP)], held - ROW_GROUP
                done += ROW_GROUP
                if progress:
                    progress(done)
        if held or extent is None:
            writer.write_table(pa.concat_tables(pending) if pending else _table([], schema))
        if progress:
            progress(done + held)


def _table(items: list[Observation], schema: pa.Schema) -> pa.Table:
    lons = pa.array([o.lon for o in items], pa.float64())
    lats = pa.array([o.lat for o in items], pa.float64())
    bbox = pa.StructArray.from_arrays([lons, lats, lons, lats], fields=list(BBOX_TYPE))
    arrays = [*attribute_arrays(items), points_wkb(items), bbox]
    return pa.Table.from_arrays(arrays, schema=schema)


def in_space_order(
    store: ObservationStore, query: ObservationQuery, extent: Extent | None
) -> Iterator[list[Observation]]:
    """The query's observations, cell after cell along the Hilbert curve."""
    if extent is None:
        return
    for cell, last_x, last_y in hilbert_cells(extent, GRID_ORDER):
        for items in all_observations(store, replace(query, bbox=cell)):
            kept = [o for o in items if _owns(cell, last_x, last_y, o) and _wanted(query, o)]
            if kept:
                yield kept


def _owns(cell: Box, last_x: bool, last_y: bool, obs: Observation) -> bool:
    """Cells are half open (the last column and row closed): a point on an edge is one
    cell's, though the store's inclusive bbox hands it to both."""
    west, south, east, north = cell
    return (obs.lon < east or last_x) and (obs.lat < north or last_y) and obs.lon >= west


def _wanted(query: ObservationQuery, obs: Observation) -> bool:
    """The query's own bbox, which the cell's bbox replaced in the store query."""
    if query.bbox is None:
        return True
    west, south, east, north = query.bbox
    in_lon = west <= obs.lon <= east if west <= east else (obs.lon >= west or obs.lon <= east)
    return in_lon and south <= obs.lat <= north


def hilbert_cells(extent: Extent, order: int) -> Iterator[tuple[Box, bool, bool]]:
    """The grid's cells as (bbox, last column?, last row?) in Hilbert-curve order."""
    n = 1 << order
    width = (extent.max_lon - extent.min_lon) / n or 1e-9
    height = (extent.max_lat - extent.min_lat) / n or 1e-9
    for d in range(n * n):
        x, y = hilbert_xy(d, order)
        west, south = extent.min_lon + x * width, extent.min_lat + y * height
        # The next cell's west edge computed the same way: no point falls between two cells.
        east = extent.max_lon if x == n - 1 else extent.min_lon + (x + 1) * width
        north = extent.max_lat if y == n - 1 else extent.min_lat + (y + 1) * height
        yield (west, south, east, north), x == n - 1, y == n - 1


def hilbert_xy(d: int, order: int) -> tuple[int, int]:
    """Cell (x, y) at distance d along the Hilbert curve of a 2^order grid."""
    x = y = 0
    s, t = 1, d
    while s < (1 << order):
        rx = 1 & (t // 2)
        ry = 1 & (t ^ rx)
        if ry == 0:
            if rx == 1:
                x, y = s - 1 - x, s - 1 - y
            x, y = y, x
        x += s * rx
        y += s * ry
        t //= 4
        s *= 2
    return x, y
