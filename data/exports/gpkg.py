"""The GeoPackage's RTree spatial index added after GDAL writes the layer, in flat memory.

GDAL's GeoPackage writer, asked for the index (its default), keeps every feature's box in
memory until the layer closes and then fills the RTree from them: about 36 bytes a row
(+50 MB above the libraries at a million rows, +13 MB without the index; bench/export.py).
So GDAL writes the layer without it (`SPATIAL_INDEX=NO`), and `add_rtree` adds the very
index GDAL would have made, with SQLite's own rtree module:

- the statements are GDAL's own: the virtual table, its triggers (which keep the index
  right when GDAL or QGIS edit the file later) and the `gpkg_extensions` row, read from an
  empty layer of the same schema that GDAL indexes itself, so they follow whatever version
  of the GeoPackage standard the installed GDAL writes;
- the boxes are read back from the file's geometries in chunks of CHUNK rows (shapely
  decodes the WKB after each GeoPackage blob header), so one chunk is in memory at a time,
  and inserted by id; SQLite's page cache, bounded (2 MB by default), holds the tree.

A test holds the result to GDAL's own indexed file: the same schema entries and the same
RTree rows.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CHUNK = 10_000  # geometries read back and boxes inserted at once (about 0.85 kB a row meanwhile)
# Bytes of the envelope after a GeoPackage blob's 8-byte header, by its envelope code.
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_EMPTY = 0x10  # the flags byte's bit for an empty geometry


@dataclass(frozen=True)
class RTreeTemplate:
    """What GDAL writes for a layer's RTree: statements in order, the extensions table."""

    rtree: str  # the rtree virtual table's name
    table: str  # the feature table
    geometry: str  # its geometry column
    statements: tuple[str, ...]  # CREATE VIRTUAL TABLE, then the triggers
    extensions_table: str  # CREATE TABLE gpkg_extensions, for a file without one
    extensions: tuple[tuple[str | None, ...], ...]  # the layer's gpkg_extensions rows


def add_rtree(path: Path, template: RTreeTemplate) -> None:
    """Give the layer GDAL wrote to `path` without an index the RTree `template` describes,
    in one transaction: a failure leaves the file as GDAL wrote it, with no half index."""
    with closing(sqlite3.connect(path)) as con, con:
        # Explicitly: Python's sqlite3 begins a transaction only before INSERT and the like,
        # so the CREATE statements would each commit on their own.
        con.execute("BEGIN")
        if not con.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_extensions'"
        ).fetchone():
            con.execute(template.extensions_table)
        for statement in template.statements:
            con.execute(statement)
        insert = f'INSERT INTO "{template.rtree}" VALUES (?, ?, ?, ?, ?)'
        for boxes in _boxes(con, template.table, template.geometry):
            con.executemany(insert, boxes)
        con.executemany("INSERT INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)", template.extensions)


def _boxes(
    con: sqlite3.Connection, table: str, geometry: str
) -> Iterator[list[tuple[int, float, float, float, float]]]:
    """(fid, min x, max x, min y, max y) of every non-empty geometry, CHUNK rows at a time,
    by fid (the rtree's column order)."""
    import shapely

    after = -1
    while rows := con.execute(
        f'SELECT fid, "{geometry}" FROM "{table}" WHERE fid > ? AND "{geometry}" IS NOT NULL '
        "ORDER BY fid LIMIT ?",
        (after, CHUNK),
    ).fetchall():
        after = rows[-1][0]
        kept = [(fid, blob) for fid, blob in rows if not blob[3] & _EMPTY]
        if not kept:
            continue
        wkb = [blob[8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 0x07] :] for _, blob in kept]
        bounds = shapely.bounds(shapely.from_wkb(wkb))  # min x, min y, max x, max y
        yield list(
            zip(
                [fid for fid, _ in kept],
                bounds[:, 0].tolist(),
                bounds[:, 2].tolist(),
                bounds[:, 1].tolist(),
                bounds[:, 3].tolist(),
                strict=True,
            )
        )


@lru_cache(maxsize=4)
def gdal_rtree_template(layer: str) -> RTreeTemplate:
    """What GDAL writes for the RTree of an export layer named `layer`, read from an empty
    layer of the export schema that GDAL writes with its index (once per process)."""
    from data.exports.ogr import write_layer

    with tempfile.TemporaryDirectory(prefix="herdwatch-gpkg-") as folder:
        path = Path(folder) / "template.gpkg"
        write_layer(iter(()), path, "GPKG", {"SPATIAL_INDEX": "YES"})
        with closing(sqlite3.connect(path)) as con:
            return _template(con, layer)


def _template(con: sqlite3.Connection, layer: str) -> RTreeTemplate:
    table, geometry = con.execute(
        "SELECT table_name, column_name FROM gpkg_geometry_columns WHERE table_name = ?",
        (layer,),
    ).fetchone()
    rtree = f"rtree_{table}_{geometry}"
    created = dict(
        con.execute(
            "SELECT name, sql FROM sqlite_master WHERE name = ? OR name = 'gpkg_extensions'",
            (rtree,),
        ).fetchall()
    )
    triggers = [
        sql
        for (sql,) in con.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
            "AND name LIKE ? ORDER BY rowid",
            (table, f"{rtree}%"),
        )
    ]
    extensions = con.execute(
        "SELECT table_name, column_name, extension_name, definition, scope "
        "FROM gpkg_extensions WHERE table_name = ? ORDER BY rowid",
        (table,),
    ).fetchall()
    return RTreeTemplate(
        rtree,
        table,
        geometry,
        (created[rtree], *triggers),
        created["gpkg_extensions"],
        tuple(extensions),
    )
