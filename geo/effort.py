"""Survey effort: track length (km) or area (km²), measured in EPSG:3576."""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape
from shapely.ops import transform

from geo.coords import lon_lat_problems, to_equal_area


class EffortError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def survey_effort(geometry: dict[str, Any] | None) -> tuple[float | None, float | None]:
    """(km, km²) of a GeoJSON LineString/Polygon in lon/lat; (None, None) without one."""
    if geometry is None:
        return None, None
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise EffortError(f"geometry is not valid GeoJSON: {exc}") from exc
    if geom.is_empty or geom.geom_type not in {
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
    }:
        raise EffortError("geometry must be a LineString track or a Polygon area in lon/lat")
    minx, miny, maxx, maxy = geom.bounds
    if lon_lat_problems(minx, miny) or lon_lat_problems(maxx, maxy):
        raise EffortError("geometry coordinates must be lon/lat degrees within -180..180, -90..90")
    projected = transform(lambda x, y, z=None: to_equal_area(x, y), geom)
    if geom.geom_type.endswith("LineString"):
        return round(projected.length / 1000, 3), None
    return None, round(projected.area / 1e6, 3)
