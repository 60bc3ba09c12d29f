"""Reading a file in chunks of rows: pandas for CSV, openpyxl for xlsx, pyogrio for GIS layers
(GeoPackage, Shapefile, GeoJSON, FlatGeobuf), pyarrow for (Geo)Parquet.

Every reader yields `Chunk`s: plain row dicts (a missing cell is None) and, for a layer
with geometry, one `Shape` per row in the layer's CRS. Memory is bounded by the chunk size
for every format (xlsx through openpyxl's read-only, streaming mode).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput
from domain.i18n import Message

FILE_FORMATS = ("csv", "xlsx", "geojson", "gpkg", "shp", "fgb", "parquet")
PRESET_FORMATS = ("movebank", "odk", "kobo")
FORMATS = FILE_FORMATS + PRESET_FORMATS
_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".zip": "shp",  # a zipped Shapefile (.shp, .shx, .dbf, .prj): one file to upload
    ".fgb": "fgb",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
}
_VECTOR = ("geojson", "gpkg", "shp", "fgb")
CHUNK_ROWS = 5000
# GDAL open options: GeoJSON times as the text they are (GDAL's own date type keeps only
# milliseconds, and an exported record re-imported would then differ from itself).
_OPEN_OPTIONS = {"geojson": {"DATE_AS_STRING": "YES"}}


@dataclass(frozen=True, slots=True)
class Shape:
    """A row's geometry: a point's x/y in the layer's CRS, or the type that was refused."""

    kind: str  # "Point", or the refused geometry type ("Polygon", "LineString", ...)
    x: float = math.nan
    y: float = math.nan


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive rows of a file; `first` is the row number of rows[0] (data rows from 1)."""

    first: int
    rows: list[dict[str, Any]]
    shapes: list[Shape | None] | None = None  # per row, for layers with geometry
    crs: str | None = None  # the layer's CRS (EPSG:n), when it has one


def file_format(path: Path, declared: str | None) -> str:
    """The file format: the declared one (a preset reads CSV or xlsx), else the extension's."""
    if declared in FILE_FORMATS:
        return declared
    found = _EXTENSIONS.get(path.suffix.lower())
    if declared in PRESET_FORMATS:
        return "xlsx" if found == "xlsx" else "csv"
    if found is None:
        raise InvalidInput(
            f"cannot tell the format of {path.name!r} from its name: give --format "
            + "|".join(FORMATS),
            field="format",
        )
    return found


def header_columns(path: Path, fmt: str, layer: str | None) -> list[str]:
    """The columns of a file with no rows: its header (CSV) or its layer's fields (seen:
    "its columns: " and nothing after it, for a CSV of a header alone)."""
    if fmt == "csv":
        import pandas as pd

        return [str(c) for c in pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns]
    if fmt in ("xlsx", "parquet"):
        return []
    import pyogrio

    try:
        return [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
    except Exception:  # noqa: BLE001  (unreadable: read_chunks has said why already)
        return []


def read_chunks(
    path: Path, fmt: str, layer: str | None, *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[Chunk]:
    """The file's rows, chunk by chunk; an unreadable file is InvalidInput naming it."""
    readers = {"csv": _csv, "xlsx": _xlsx, "parquet": _parquet}
    reader = readers.get(fmt, partial(_vector, options=_OPEN_OPTIONS.get(fmt, {})))
    try:
        yield from reader(path, layer, chunk_rows)
    except InvalidInput:
        raise
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            Message(
                "{name} is not UTF-8 text ({reason} at byte {start}): save it as "
                'UTF-8 ("CSV UTF-8" in a spreadsheet program) and import it again',
                name=str(path.name),
                reason=str(exc.reason),
                start=str(exc.start),
            ),
            field="file",
        ) from exc
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInput(
            Message(
                "cannot read {name} as {fmt}: {exc}",
                name=str(path.name),
                fmt=str(fmt),
                exc=_said(exc, path),
            ),
            field="file",
        ) from exc
    except Exception as exc:  # pyogrio/pyarrow errors have no common base we could name
        if type(exc).__module__.split(".")[0] in ("pyogrio", "pyarrow", "openpyxl", "zipfile"):
            raise InvalidInput(
                Message(
                    "cannot read {name} as {fmt}: {exc}",
                    name=str(path.name),
                    fmt=str(fmt),
                    exc=_said(exc, path),
                ),
                field="file",
            ) from exc
        raise


def _cell(value: Any) -> Any:
    """A cell as Python: None for every spelling of missing (empty text, NaN, NaT)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    return value


def _records(frame: Any) -> list[dict[str, Any]]:
    names = [str(c) for c in frame.columns]
    return [
        {n: _cell(v) for n, v in zip(names, values, strict=True)}
        for values in frame.itertuples(index=False, name=None)
    ]


def _csv(path: Path, layer: str | None, chunk_rows: int) -> Iterator[Chunk]:
    import pandas as pd

    # Every cell as its text: numbers are parsed by the field they map to, exactly once,
    # so "80052.48281700647" is the same float the user's own reading gives.
    first = 1
    sep = _delimiter(path)
    with pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        chunksize=chunk_rows,
        encoding="utf-8-sig",
        sep=sep,
    ) as chunks:
        for frame in chunks:
            yield Chunk(first, _records(frame))
            first += len(frame)


def _delimiter(path: Path) -> str:
    """The header line's separator: a comma, or the semicolon of a spreadsheet saved where
    the decimal mark is a comma (Russian and most European locales), or a tab."""
    with path.open("rb") as f:
        header = f.readline().decode("utf-8-sig", errors="replace")
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _xlsx(path: Path, layer: str | None, chunk_rows: int) -> Iterator[Chunk]:
    from openpyxl import load_workbook

    # Read-only mode streams the sheet's XML row by row: memory stays bounded by the chunk
    # (pandas.read_excel would hold the whole sheet, up to 1,048,576 rows, at once).
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        names = [str(n) for n in book.sheetnames]
        sheet = layer if layer is not None else names[0]
        if sheet not in names:
            raise InvalidInput(
                f"{path.name} has no sheet {sheet!r}; its sheets: " + ", ".join(names),
                field="layer",
            )
        yield from _sheet_chunks(book[sheet].iter_rows(values_only=True), chunk_rows)
    finally:
        book.close()


def _sheet_chunks(cells: Iterator[tuple[Any, ...]], chunk_rows: int) -> Iterator[Chunk]:
    header = _unique_names(next(cells, ()))
    first, rows = 1, []
    for values in cells:
        if all(_cell(v) is None for v in values):
            continue  # a spreadsheet's blank line (read-only sheets often end with many)
        padded = (*values, *([None] * (len(header) - len(values))))
        rows.append({n: _cell(v) for n, v in zip(header, padded, strict=False)})
        if len(rows) == chunk_rows:
            yield Chunk(first, rows)
            first, rows = first + len(rows), []
    if rows:
        yield Chunk(first, rows)


def _unique_names(header: tuple[Any, ...]) -> list[str]:
    """Header cells as column names, as pandas makes them: blank → "Unnamed: i", a
    repeated name gets ".1", ".2"."""
    names: list[str] = []
    for i, cell in enumerate(header):
        name = str(cell).strip() if cell is not None and str(cell).strip() else f"Unnamed: {i}"
        base, n = name, 0
        while name in names:
            n += 1
            name = f"{base}.{n}"
        names.append(name)
    return names


def _vector(
    path: Path, layer: str | None, chunk_rows: int, *, options: dict[str, str]
) -> Iterator[Chunk]:
    import pyogrio

    names = [str(row[0]) for row in pyogrio.list_layers(path)]
    if layer is not None and layer not in names:
        raise InvalidInput(
            f"{path.name} has no layer {layer!r}; its layers: " + ", ".join(names),
            field="layer",
        )
    if layer is None and len(names) > 1:  # never guess which of a GeoPackage's layers
        raise InvalidInput(
            f"{path.name} has {len(names)} layers: choose one with --layer ("
            + ", ".join(names)
            + ")",
            field="layer",
        )
    opened = pyogrio.open_arrow(
        path, layer=layer, batch_size=chunk_rows, use_pyarrow=True, **options
    )
    with opened as (meta, reader):
        geometry = meta.get("geometry_name") or "wkb_geometry"
        crs = meta.get("crs")
        first = 1
        for batch in reader:
            yield _arrow_chunk(batch, geometry, crs, first)
            first += batch.num_rows


def _parquet(path: Path, layer: str | None, chunk_rows: int) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    geometry, crs = _geoparquet_geometry(source.schema_arrow.metadata or {})
    first = 1
    for batch in source.iter_batches(batch_size=chunk_rows):
        yield _arrow_chunk(batch, geometry, crs, first)
        first += batch.num_rows


def _geoparquet_geometry(metadata: dict[bytes, bytes]) -> tuple[str | None, str | None]:
    """The primary geometry column and its CRS from GeoParquet's "geo" metadata."""
    if b"geo" not in metadata:
        return None, None
    geo = json.loads(metadata[b"geo"])
    column = geo.get("primary_column", "geometry")
    crs_json = geo.get("columns", {}).get(column, {}).get("crs")
    if crs_json is None:  # GeoParquet: absent means OGC:CRS84, lon/lat
        return column, "EPSG:4326"
    from pyproj import CRS

    epsg = CRS.from_user_input(crs_json).to_epsg()
    return column, f"EPSG:{epsg}" if epsg else None


def _arrow_chunk(batch: Any, geometry: str | None, crs: str | None, first: int) -> Chunk:
    names = [n for n in batch.schema.names if n != geometry]
    columns = {n: batch.column(n).to_pylist() for n in names}
    rows = [{n: _cell(columns[n][i]) for n in names} for i in range(batch.num_rows)]
    if geometry is None or geometry not in batch.schema.names:
        return Chunk(first, rows)
    return Chunk(first, rows, _shapes(batch.column(geometry).to_pylist()), crs)


def _shapes(wkbs: list[bytes | None]) -> list[Shape | None]:
    import shapely

    geoms = shapely.from_wkb(wkbs)
    shapes: list[Shape | None] = []
    for g in geoms:
        if g is None or g.is_empty:
            shapes.append(None)
        elif g.geom_type == "Point" or (g.geom_type == "MultiPoint" and len(g.geoms) == 1):
            point = g if g.geom_type == "Point" else g.geoms[0]
            shapes.append(Shape("Point", float(point.x), float(point.y)))
        else:
            shapes.append(Shape(g.geom_type))
    return shapes


def _said(exc: BaseException, path: Path) -> str:
    """A reader's error without the folder the file is in: the server's temporary one
    for an upload (seen: /tmp/herdwatch-import-…/x.gpkg in the answer)."""
    return str(exc).replace(f"{path.parent}{os.sep}", "")
