"""Strip transects in the equal-area CRS: a stratum's area, its strips, and who is in them.

An aerial strip-transect survey flies lines across a stratum and counts every animal in a
strip of known width along each line. Lengths, areas and distances are measured in
EPSG:3576 (never in degrees). Pure: GeoJSON and arrays in, numbers out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform

from geo.coords import lon_lat_problems, to_equal_area

MAX_TRANSECTS = 500
MAX_VERTICES = 20_000


class TransectError(ValueError):
    """A stratum that cannot be measured, naming the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ProjectedStratum:
    """A stratum in EPSG:3576 metres: its area and one line per transect."""

    area: BaseGeometry
    lines: tuple[LineString, ...]
    strip_width_m: float

    @property
    def area_km2(self) -> float:
        return float(self.area.area) / 1e6

    def strip_areas_km2(self) -> np.ndarray:
        """Each transect's strip: its length inside the stratum times the strip width."""
        inside = [line.intersection(self.area).length for line in self.lines]
        return np.asarray(inside, dtype=float) * self.strip_width_m / 1e6


def project_stratum(
    area: dict[str, Any], transects: dict[str, Any], strip_width_m: float
) -> ProjectedStratum:
    """The stratum's GeoJSON (lon/lat) measured in EPSG:3576; TransectError names the part."""
    polygon = _geometry(area, "area", {"Polygon", "MultiPolygon"})
    lines = _geometry(transects, "transects", {"MultiLineString", "LineString"})
    parts = list(lines.geoms) if isinstance(lines, MultiLineString) else [lines]
    if len(parts) > MAX_TRANSECTS:
        raise TransectError("transects", f"at most {MAX_TRANSECTS} transects per stratum")
    if not (0 < strip_width_m <= 10_000):
        raise TransectError("strip_width_m", "strip_width_m must be above 0 and at most 10,000 m")
    projected_area = _projected(polygon)
    if not projected_area.is_valid or projected_area.area <= 0:
        raise TransectError("area", "area must be a valid polygon with a positive area")
    projected_lines = tuple(_projected(p) for p in parts)
    if sum(line.intersection(projected_area).length for line in projected_lines) <= 0:
        raise TransectError("transects", "no transect crosses the stratum's area")
    return ProjectedStratum(projected_area, projected_lines, float(strip_width_m))


def strip_of_points(stratum: ProjectedStratum, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """For each point (EPSG:3576 m), the transect whose strip it lies in, or -1.

    A point is in a strip when it lies inside the stratum and within half the strip width
    of that transect; where strips overlap the nearest transect takes it, so no animal is
    counted twice.
    """
    points = shapely.points(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    inside = shapely.contains_xy(
        stratum.area, np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    )
    if len(points) == 0:
        return np.empty(0, dtype=np.int64)
    distances = np.column_stack([shapely.distance(line, points) for line in stratum.lines])
    nearest = distances.argmin(axis=1)
    within = distances[np.arange(len(points)), nearest] <= stratum.strip_width_m / 2
    return np.where(inside & within, nearest, -1).astype(np.int64)


def _geometry(value: dict[str, Any], field: str, kinds: set[str]) -> BaseGeometry:
    if not isinstance(value, dict) or value.get("type") not in kinds:
        raise TransectError(field, f"{field} must be a GeoJSON {' or '.join(sorted(kinds))}")
    try:
        geom = shape(value)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise TransectError(field, f"{field} is not valid GeoJSON: {exc}") from exc
    coords = shapely.get_coordinates(geom)
    if geom.is_empty or len(coords) > MAX_VERTICES:
        raise TransectError(field, f"{field} must have 1 to {MAX_VERTICES:,} vertices")
    if not np.isfinite(coords).all():
        raise TransectError(field, f"{field} coordinates must be finite numbers")
    minx, miny, maxx, maxy = geom.bounds
    if lon_lat_problems(minx, miny) or lon_lat_problems(maxx, maxy):
        raise TransectError(field, f"{field} coordinates must be lon/lat within -180..180, -90..90")
    return geom


def _projected(geom: BaseGeometry) -> Any:
    return transform(lambda x, y, z=None: to_equal_area(x, y), geom)
