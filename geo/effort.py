"""Survey effort: a track's length (km) on the WGS 84 ellipsoid, or an area (km²) in
EPSG:3576, which is equal-area. Lengths are not measured in EPSG:3576: centred on the pole,
it shrinks or stretches them by 3-5 % at 56-62° N (seen: a 111.4 km track measured as
106.6 km, and the animals per 100 km of it raised by as much)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform

from geo.coords import lon_lat_problems, to_equal_area
from geo.transects import transect_lines


class EffortError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def survey_effort(
    geometry: dict[str, Any] | None, transects: Sequence[dict[str, Any]] = ()
) -> tuple[float | None, float | None]:
    """(km, km²) of a GeoJSON LineString/Polygon in lon/lat; without one, the km of its
    strata's transects (GeoJSON MultiLineStrings, as flown); else (None, None)."""
    if geometry is None:
        km = sum(geodesic_km(transect_lines(lines)) for lines in transects)
        return (round(km, 3), None) if transects else (None, None)
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
    if geom.geom_type.endswith("LineString"):
        return round(geodesic_km(geom), 3), None
    projected = transform(lambda x, y, z=None: to_equal_area(x, y), geom)
    return None, round(projected.area / 1e6, 3)


def geodesic_km(lines: BaseGeometry) -> float:
    """The length of a (multi)line in lon/lat degrees, in km along the ellipsoid."""
    return float(_WGS84.geometry_length(lines)) / 1000


_WGS84 = Geod(ellps="WGS84")
