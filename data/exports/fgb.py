"""FlatGeobuf with its packed R-tree, in memory flat in the number of rows.

GDAL's FlatGeobuf writer, asked for the index (its default), keeps every feature's box,
offset and size in memory until the end, sorts them along a Hilbert curve and builds the
whole tree in memory: about 0.17 kB a feature (174 MB at a million, bench/export.py). No
option of the driver bounds that, and no kept Python library writes the format from a
stream. So GDAL writes the features without an index (`SPATIAL_INDEX=NO`, flat), already in
space order, and this module adds the index afterwards: the tree GDAL's PackedRTree builds
over features in that order (a test checks it byte for byte against GDAL's own), made
through temporary files beside `path` in bounded chunks (disk: the file twice, as GDAL's own
second pass needs, and 16 bytes a row):

- the pages come cell by cell along the Hilbert curve of the GeoParquet export
  (`parquet.in_space_order`), each page sorted by the Hilbert value of its points (the
  curve and grid of GDAL's own `hilbertSort`), and each point's lon/lat goes to a
  temporary file as the page is handed to GDAL;
- the features are copied after the room for the index, their sizes read on the way
  (each is a size-prefixed flatbuffer), which gives each one's offset: the leaves of the
  tree are written in file order, so a leaf's position is its feature's FID, as GDAL's
  reader expects (GetFeature reads the offset of leaf FID; a bbox read numbers its
  features by leaf position);
- each upper level is made from the one below, 16 children a node, and the header's
  `index_node_size` is set from 0 to 16 in place.

Layout (FlatGeobuf spec; GDAL's PackedRTree::generateLevelBounds and generateNodes): magic,
uint32 header size, Header flatbuffer, the tree's nodes (40 bytes: minX, minY, maxX, maxY
float64 and a uint64 offset) from the root level down to the leaves, then the features.
A leaf's offset is its feature's byte offset from the first feature; a node's offset is
the position in the tree of its first child, and its box covers its (up to 16) children.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from data.exports.ogr import write_layer
from data.exports.pages import Progress, counted
from data.exports.parquet import in_space_order
from data.store import ObservationStore
from domain.records import Extent, Observation, ObservationQuery

NODE_SIZE = 16
NODE = np.dtype(
    [("min_x", "<f8"), ("min_y", "<f8"), ("max_x", "<f8"), ("max_y", "<f8"), ("offset", "<u8")]
)
POINT = np.dtype([("x", "<f8"), ("y", "<f8")])
MAGIC = b"fgb\x03"  # "fgb", major version 3; then "fgb" and a patch version
CHUNK = NODE_SIZE * 4096  # nodes read or written at once: 2.6 MB
BLOCK = 1 << 20  # bytes of features read at once
HILBERT_MAX = (1 << 16) - 1
_FEATURES_COUNT, _INDEX_NODE_SIZE = 8, 9  # the Header table's field numbers (header.fbs)


def write_fgb(
    store: ObservationStore,
    query: ObservationQuery,
    path: Path,
    progress: Progress | None = None,
) -> None:
    """Write every matching observation to `path` as an indexed FlatGeobuf point layer."""
    extent = store.observation_extent(query)
    with tempfile.TemporaryDirectory(prefix=".fgb-", dir=path.parent) as folder:
        plain, points = Path(folder) / "plain.fgb", Path(folder) / "points.bin"
        with points.open("wb") as out:
            pages = counted(_hilbert_sorted(in_space_order(store, query, extent), extent), progress)
            count = _write_plain(_recorded(pages, out), plain, spatial_index=False)
        if count:
            add_index(plain, points, path)
            return
    # Nothing selected: GDAL's own empty layer (no index, no extent), as it always wrote.
    _write_plain(iter(()), path, spatial_index=True)


def _write_plain(pages: Iterator[list[Observation]], path: Path, *, spatial_index: bool) -> int:
    """GDAL writes the pages to `path`; the number of rows handed over."""
    return write_layer(
        pages, path, "FlatGeobuf", {"SPATIAL_INDEX": "YES" if spatial_index else "NO"}
    )


def _recorded(pages: Iterator[list[Observation]], out: BinaryIO) -> Iterator[list[Observation]]:
    """The same pages, each page's points appended to `out` (x, y float64) in order."""
    for items in pages:
        out.write(np.array([(o.lon, o.lat) for o in items], dtype=POINT).tobytes())
        yield items


def _hilbert_sorted(
    pages: Iterator[list[Observation]], extent: Extent | None
) -> Iterator[list[Observation]]:
    """Each page in the order of its points along the Hilbert curve over `extent`."""
    for items in pages:
        if extent is None or len(items) < 2:
            yield items
            continue
        x = np.array([o.lon for o in items])
        y = np.array([o.lat for o in items])
        order = np.argsort(hilbert_values(x, y, extent), kind="stable")
        yield [items[i] for i in order]


def hilbert_values(x: np.ndarray, y: np.ndarray, extent: Extent) -> np.ndarray:
    """Distance along the Hilbert curve of a 2^16 grid over `extent`, as GDAL's
    PackedRTree `hilbert(x, y)` computes it (public domain, rawrunprotected/hilbert_curves)."""
    width, height = extent.max_lon - extent.min_lon, extent.max_lat - extent.min_lat
    hx = np.floor(HILBERT_MAX * (x - extent.min_lon) / width) if width else np.zeros_like(x)
    hy = np.floor(HILBERT_MAX * (y - extent.min_lat) / height) if height else np.zeros_like(y)
    # Clipped: a point outside the extent (a bbox across the antimeridian, a row added since
    # the extent was read) only loses some locality, never wraps around as a uint32.
    cells = [np.clip(h, 0, HILBERT_MAX).astype(np.uint32) for h in (hx, hy)]
    return _hilbert(cells[0], cells[1])


def _hilbert(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    m = np.uint32(0xFFFF)
    a = x ^ y
    b = m ^ a
    c = m ^ (x | y)
    d = x & (y ^ m)
    A = a | (b >> 1)
    B = (a >> 1) ^ a
    C = ((c >> 1) ^ (b & (d >> 1))) ^ c
    D = ((a & (c >> 1)) ^ (d >> 1)) ^ d
    for shift in (2, 4):
        a, b, c, d = A, B, C, D
        A = (a & (a >> shift)) ^ (b & (b >> shift))
        B = (a & (b >> shift)) ^ (b & ((a ^ b) >> shift))
        C = C ^ ((a & (c >> shift)) ^ (b & (d >> shift)))
        D = D ^ ((b & (c >> shift)) ^ ((a ^ b) & (d >> shift)))
    a, b, c, d = A, B, C, D
    C = C ^ ((a & (c >> 8)) ^ (b & (d >> 8)))
    D = D ^ ((b & (c >> 8)) ^ ((a ^ b) & (d >> 8)))
    a, b = C ^ (C >> 1), D ^ (D >> 1)
    i0 = x ^ y
    i1 = b | (m ^ (i0 | a))
    return (_spread(i1) << 1) | _spread(i0)


def _spread(v: np.ndarray) -> np.ndarray:
    """The 16 bits of v, a zero bit put after each."""
    v = (v | (v << 8)) & np.uint32(0x00FF00FF)
    v = (v | (v << 4)) & np.uint32(0x0F0F0F0F)
    v = (v | (v << 2)) & np.uint32(0x33333333)
    return (v | (v << 1)) & np.uint32(0x55555555)


def level_bounds(count: int, node_size: int = NODE_SIZE) -> list[tuple[int, int]]:
    """Each level's [start, end) in the tree's nodes, leaves first (generateLevelBounds):
    the root is node 0, the leaves the last `count` nodes; even one feature has a root."""
    sizes = [count]
    while True:
        sizes.append(-(-sizes[-1] // node_size))
        if sizes[-1] == 1:
            break
    bounds, end = [], sum(sizes)
    for size in sizes:
        bounds.append((end - size, end))
        end -= size
    return bounds


def add_index(plain: Path, points: Path, out: Path) -> None:
    """Write `out`: GDAL's unindexed `plain` file with the packed R-tree of its features,
    whose points (x, y float64, in file order) are in `points`."""
    with plain.open("rb") as src:
        header, count, patch_at = _read_header(src)
        if points.stat().st_size != count * POINT.itemsize:
            raise ValueError(f"{points} does not hold the {count} points of {plain}")
        levels = level_bounds(count)
        tree_at = len(header)
        with out.open("wb") as dst:
            dst.write(header[:patch_at] + struct.pack("<H", NODE_SIZE) + header[patch_at + 2 :])
        with out.open("r+b") as features, out.open("r+b") as tree, points.open("rb") as xy:
            features.seek(tree_at + levels[0][1] * NODE.itemsize)
            tree.seek(tree_at + levels[0][0] * NODE.itemsize)
            written = 0
            for offsets in _copied(src, features):
                xy_chunk = np.frombuffer(xy.read(len(offsets) * POINT.itemsize), POINT)
                _write_leaves(tree, xy_chunk, offsets)
                written += len(offsets)
        if written != count:
            raise ValueError(f"{plain} holds {written} features, its header says {count}")
    with out.open("r+b") as tree:
        for below, level in zip(levels, levels[1:], strict=False):
            _write_level(tree, tree_at, below, level)


def _read_header(src: BinaryIO) -> tuple[bytes, int, int]:
    """GDAL's magic bytes and size-prefixed header, its features_count, and where in them
    its index_node_size lies (stored, as it is 0 and not the schema's default of 16)."""
    magic = src.read(8)
    if not magic.startswith(MAGIC):
        raise ValueError("not a FlatGeobuf 3 file")
    (size,) = struct.unpack("<I", src.read(4))
    table = src.read(size)
    root = struct.unpack_from("<I", table)[0]
    vtable = root - struct.unpack_from("<i", table, root)[0]
    vtable_size = struct.unpack_from("<H", table, vtable)[0]

    def field(number: int) -> int:
        slot = 4 + 2 * number
        at = struct.unpack_from("<H", table, vtable + slot)[0] if slot < vtable_size else 0
        return root + at if at else 0

    count_at, node_size_at = field(_FEATURES_COUNT), field(_INDEX_NODE_SIZE)
    count = struct.unpack_from("<Q", table, count_at)[0] if count_at else 0
    if not node_size_at or struct.unpack_from("<H", table, node_size_at)[0] != 0 or not count:
        raise ValueError("expected GDAL's unindexed header with its features_count")
    return magic + struct.pack("<I", size) + table, count, 12 + node_size_at


def _copied(src: BinaryIO, dst: BinaryIO) -> Iterator[np.ndarray]:
    """Copy the size-prefixed features from `src` (at the first) to `dst`, block by block;
    yield each block's features' offsets from the first feature."""
    base, rest = 0, b""
    while True:
        data = src.read(BLOCK)
        buf = rest + data
        offsets, at = [], 0
        while at + 4 <= len(buf):
            end = at + 4 + struct.unpack_from("<I", buf, at)[0]
            if end > len(buf):
                break
            offsets.append(base + at)
            at = end
        dst.write(buf[:at])
        base, rest = base + at, buf[at:]
        if offsets:
            yield np.array(offsets, dtype=np.uint64)
        if not data:
            if rest:
                raise ValueError("the last feature is cut short")
            return


def _write_leaves(tree: BinaryIO, xy: np.ndarray, offsets: np.ndarray) -> None:
    """The leaves of points `xy` at their features' `offsets`, at the tree file's position."""
    leaves = np.empty(len(offsets), dtype=NODE)
    leaves["min_x"] = leaves["max_x"] = xy["x"]
    leaves["min_y"] = leaves["max_y"] = xy["y"]
    leaves["offset"] = offsets
    tree.write(leaves.tobytes())


def _write_level(
    tree: BinaryIO, tree_at: int, below: tuple[int, int], level: tuple[int, int]
) -> None:
    """The nodes of `level`, each covering 16 nodes of the level `below` (the last fewer),
    read and written CHUNK nodes at a time (a multiple of 16: no node straddles two)."""
    for start in range(below[0], below[1], CHUNK):
        tree.seek(tree_at + start * NODE.itemsize)
        wanted = min(CHUNK, below[1] - start)
        children = np.frombuffer(tree.read(wanted * NODE.itemsize), NODE)
        firsts = np.arange(0, wanted, NODE_SIZE)
        nodes = np.empty(len(firsts), dtype=NODE)
        for name in ("min_x", "min_y"):
            nodes[name] = np.minimum.reduceat(children[name], firsts)
        for name in ("max_x", "max_y"):
            nodes[name] = np.maximum.reduceat(children[name], firsts)
        nodes["offset"] = start + firsts  # the node's first child, by its place in the tree
        tree.seek(tree_at + (level[0] + (start - below[0]) // NODE_SIZE) * NODE.itemsize)
        tree.write(nodes.tobytes())
