"""GeoPackage and FlatGeobuf through pyogrio (GDAL), fed an Arrow stream page by page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from data.exports.columns import GEOMETRY, arrow_schema, record_batch
from data.exports.pages import Progress, counted
from data.store import ObservationStore
from domain.records import Observation, ObservationQuery

LAYER = "observations"
DRIVERS = {"gpkg": "GPKG"}


def write_ogr(
    store: ObservationStore,
    query: ObservationQuery,
    path: Path,
    fmt: str,
    progress: Progress | None = None,
) -> None:
    """Write every matching observation to `path` as a typed point layer in EPSG:4326,
    with its spatial index (what lets QGIS and GDAL read a bbox of the file without
    reading all of it).

    GDAL pulls the batches from the reader as it writes, so one page is in memory at a time.
    But it would hold every feature's box in memory to build the index at the end (174 MB
    at a million rows for FlatGeobuf's packed Hilbert R-tree, 50 MB for the GeoPackage's
    RTree): so it writes the features unindexed, and data/exports/fgb.py and
    data/exports/gpkg.py add the same index from the file in bounded chunks.
    """
    if fmt == "fgb":
        from data.exports.fgb import write_fgb

        write_fgb(store, query, path, progress)
        return
    from data.exports.gpkg import add_rtree, gdal_rtree_template
    from data.exports.parquet import in_space_order

    template = gdal_rtree_template(LAYER)
    # In space order, as FlatGeobuf's: features near each other on the map are near each
    # other in the file, and SQLite fills the RTree by feature id with few node splits
    # (a million rows: 47 s in all, 60 s in time order).
    extent = store.observation_extent(query)
    pages = counted(in_space_order(store, query, extent), progress)
    write_layer(pages, path, DRIVERS[fmt], {"SPATIAL_INDEX": "NO"})
    add_rtree(path, template)


def write_layer(
    pages: Iterator[list[Observation]], path: Path, driver: str, layer_options: dict[str, str]
) -> int:
    """GDAL writes the pages to `path` as the export layer; the number of rows handed over."""
    import pyogrio

    schema = arrow_schema()
    handed = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal handed
        for items in pages:
            handed += len(items)
            yield record_batch(items, schema)

    pyogrio.write_arrow(
        pa.RecordBatchReader.from_batches(schema, batches()),
        str(path),
        layer=LAYER,
        driver=driver,
        geometry_name=GEOMETRY,
        geometry_type="Point",
        crs="EPSG:4326",
        layer_options=layer_options,
    )
    return handed
