"""GeoPackage and FlatGeobuf through pyogrio (GDAL), fed an Arrow stream page by page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from data.exports.columns import GEOMETRY, arrow_schema, record_batch
from data.exports.pages import Progress, all_observations, counted
from data.store import ObservationStore
from domain.records import ObservationQuery

LAYER = "observations"
DRIVERS = {"gpkg": "GPKG"}


def write_ogr(
    store: ObservationStore,
    query: ObservationQuery,
    path: Path,
    fmt: str,
    progress: Progress | None = None,
) -> None:
    """Write every matching observation to `path` as a typed point layer in EPSG:4326.

    GDAL pulls the batches from the reader as it writes, so one page is in memory at a time.
    FlatGeobuf keeps its packed Hilbert R-tree (what lets QGIS and GDAL read a bbox of the
    file without reading all of it), but GDAL would hold every feature's box in memory to
    build it at the end (174 MB at a million rows): data/exports/fgb.py has GDAL write the
    features unindexed, in space order, and adds the same tree from temporary files.
    """
    if fmt == "fgb":
        from data.exports.fgb import write_fgb

        write_fgb(store, query, path, progress)
        return
    import pyogrio

    schema = arrow_schema()

    def batches() -> Iterator[pa.RecordBatch]:
        for items in counted(all_observations(store, query), progress):
            yield record_batch(items, schema)

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    pyogrio.write_arrow(
        reader,
        str(path),
        layer=LAYER,
        driver=DRIVERS[fmt],
        geometry_name=GEOMETRY,
        geometry_type="Point",
        crs="EPSG:4326",
    )
