"""Equal-area grid cells in EPSG:3576 for aggregating counts."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from geo.coords import from_equal_area

# Cell sizes to choose from, metres; the map picks one to suit the extent.
CELL_SIZES_M: tuple[float, ...] = (5_000, 10_000, 25_000, 50_000, 100_000, 200_000)
# The largest cell a caller may ask for (cell_km of the API, the viewer and `herdwatch map`).
MAX_CELL_KM = 1000
MIN_CELL_KM = 0.1  # 100 m: finer than a sighting's accuracy, and grid indices stay small


def cell_index(x: float, y: float, size_m: float) -> tuple[int, int]:
    """Grid indices of the cell holding an EPSG:3576 point."""
    return math.floor(x / size_m), math.floor(y / size_m)


def cell_key(ix: int, iy: int) -> str:
    return f"{ix}:{iy}"


def parse_cell_key(key: str) -> tuple[int, int]:
    ix, _, iy = key.partition(":")
    return int(ix), int(iy)


# Cached: aggregate rows repeat the same few thousand cells across periods and populations,
# and one pyproj call per row made the transform, not the SQL, the cost of a monthly map.
@lru_cache(maxsize=65_536)
def cell_centre_lon_lat(ix: int, iy: int, size_m: float) -> tuple[float, float]:
    lon, lat = from_equal_area([(ix + 0.5) * size_m], [(iy + 0.5) * size_m])
    return float(lon[0]), float(lat[0])


def cell_polygon_lon_lat(ix: int, iy: int, size_m: float, *, steps: int = 4) -> list[list[float]]:
    """The cell's outline as a closed lon/lat ring (edges densified: they curve in degrees)."""
    x0, y0, x1, y1 = ix * size_m, iy * size_m, (ix + 1) * size_m, (iy + 1) * size_m
    t = np.linspace(0.0, 1.0, steps, endpoint=False)
    xs = np.concatenate(
        [x0 + (x1 - x0) * t, np.full(steps, x1), x1 - (x1 - x0) * t, np.full(steps, x0)]
    )
    ys = np.concatenate(
        [np.full(steps, y0), y0 + (y1 - y0) * t, np.full(steps, y1), y1 - (y1 - y0) * t]
    )
    lons, lats = from_equal_area(xs, ys)
    ring = [[round(float(a), 5), round(float(b), 5)] for a, b in zip(lons, lats, strict=True)]
    return ring + [ring[0]]


def cell_size_for_extent(width_m: float, height_m: float, *, target_cells: int = 40) -> float:
    """The smallest listed cell size that keeps about `target_cells` across the extent."""
    span = max(width_m, height_m, 1.0)
    for size in CELL_SIZES_M:
        if span / size <= target_cells:
            return size
    return CELL_SIZES_M[-1]
