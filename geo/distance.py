"""Distances in the equal-area projection, never in degrees."""

from __future__ import annotations

import numpy as np

from geo.coords import to_equal_area


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Straight-line distance between two points in EPSG:3576 metres."""
    x, y = to_equal_area([lon1, lon2], [lat1, lat2])
    return float(np.hypot(x[1] - x[0], y[1] - y[0]))
