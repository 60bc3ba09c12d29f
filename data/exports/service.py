"""One entry point for every export format, for the CLI and the API downloads alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from data.exports.dwca import DatasetInfo
from data.exports.pages import Progress
from data.store import ObservationStore
from domain.records import ObservationQuery


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    filename: str
    text: bool  # streamed as it is made; the others are built in a file, then sent


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("geojson", "application/geo+json", "herdwatch-observations.geojson", True),
        Format("csv", "text/csv; charset=utf-8", "herdwatch-observations.csv", True),
        Format("gpkg", "application/geopackage+sqlite3", "herdwatch-observations.gpkg", False),
        Format(
            "parquet", "application/vnd.apache.parquet", "herdwatch-observations.parquet", False
        ),
        Format("fgb", "application/flatgeobuf", "herdwatch-observations.fgb", False),
        Format("dwca", "application/zip", "herdwatch-dwca.zip", False),
    )
}


def text_chunks(
    store: ObservationStore, query: ObservationQuery, fmt: str, progress: Progress | None = None
) -> Iterator[str]:
    """GeoJSON or CSV, chunk by chunk."""
    from data.exports.text import csv_chunks, geojson_chunks

    return (geojson_chunks if fmt == "geojson" else csv_chunks)(store, query, progress)


def write_export(
    store: ObservationStore,
    query: ObservationQuery,
    fmt: str,
    path: Path,
    *,
    dataset: DatasetInfo,
    progress: Progress | None = None,
) -> None:
    """Write every observation `query` selects to `path` in `fmt` (a key of FORMATS)."""
    if FORMATS[fmt].text:
        with open(path, "w", encoding="utf-8", newline="") as out:
            for chunk in text_chunks(store, query, fmt, progress):
                out.write(chunk)
    elif fmt == "parquet":
        from data.exports.parquet import write_geoparquet

        write_geoparquet(store, query, path, progress)
    elif fmt == "dwca":
        from data.exports.dwca import write_dwca

        write_dwca(store, query, path, dataset, progress)
    else:
        from data.exports.ogr import write_ogr

        write_ogr(store, query, path, fmt, progress)
