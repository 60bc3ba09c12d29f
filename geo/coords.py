"""Coordinate checks and CRS transforms (pyproj); lon/lat order everywhere."""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

WGS84 = "EPSG:4326"
# North Pole LAEA Russia: equal-area, so distances, areas and grid cells are honest here.
EQUAL_AREA = "EPSG:3576"
_EPSG = re.compile(r"^(?:EPSG:|urn:ogc:def:crs:EPSG::)(\d{4,6})$", re.IGNORECASE)
_OGC_CRS84 = {"CRS84", "OGC:CRS84", "HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/CRS84"}


class CoordinateError(ValueError):
    """A coordinate that cannot be on Earth, or a CRS that cannot be used."""

    def __init__(self, field: str, message: str, kind: str = "not_understood") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        # "not_understood", "unknown" or "not_horizontal": callers word it in their language
        self.kind = kind


def lon_lat_problems(lon: float, lat: float) -> list[tuple[str, str]]:
    """(field, reason) pairs for a longitude/latitude that cannot be a place on Earth."""
    problems = []
    if not math.isfinite(lon) or not -180.0 <= lon <= 180.0:
        problems.append(("lon", f"longitude {lon} is outside -180..180 degrees"))
    if not math.isfinite(lat) or not -90.0 <= lat <= 90.0:
        problems.append(("lat", f"latitude {lat} is outside -90..90 degrees"))
    return problems


def normalise_crs(name: str) -> str:
    """ "EPSG:32652", "epsg:32652" or the OGC URN → "EPSG:32652"; raises CoordinateError."""
    text = name.strip()
    if text.upper() in _OGC_CRS84:
        return WGS84
    match = _EPSG.match(text)
    if not match:
        raise CoordinateError("crs", f"crs {name!r} is not understood: give it as EPSG:<code>")
    code = f"EPSG:{match.group(1)}"
    _transformer(code, WGS84)  # fail early on unknown codes
    return code


# One Transformer per thread and CRS pair. A Transformer made in the server's main thread
# at start-up and then used by two upload threads at once corrupted the heap (malloc
# "unaligned tcache chunk", bench/ingest.py, pyproj 3.7): PROJ objects stay in their thread.
_per_thread = threading.local()


_TRANSFORMERS_PER_THREAD = 32  # the CRS codes clients send: a few UTM zones, not thousands


def _transformer(source: str, target: str) -> Transformer:
    made: OrderedDict[tuple[str, str], Transformer] | None = getattr(
        _per_thread, "transformers", None
    )
    if made is None:
        made = _per_thread.transformers = OrderedDict()
    found = made.get((source, target))
    if found is None:
        found = made[(source, target)] = _make_transformer(source, target)
        if len(made) > _TRANSFORMERS_PER_THREAD:  # least recently used goes first
            made.popitem(last=False)
    else:
        made.move_to_end((source, target))
    return found


def _make_transformer(source: str, target: str) -> Transformer:
    try:
        crs = CRS.from_user_input(source)
    except CRSError as exc:
        raise CoordinateError(
            "crs", f"crs {source!r} is not a known coordinate system", "unknown"
        ) from exc
    if not (crs.is_geographic or crs.is_projected):
        # A geocentric CRS (EPSG:4978) took x and y for X and Y metres from the Earth's
        # centre and stored the North Pole; a vertical one has no place at all.
        raise CoordinateError(
            "crs", f"crs {source!r} is a {crs.type_name}, not a map's", "not_horizontal"
        )
    return Transformer.from_crs(crs, target, always_xy=True)


def to_wgs84(xs: Sequence[float], ys: Sequence[float], crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Transform projected coordinates (e.g. UTM 52N, EPSG:32652) to lon/lat degrees."""
    source = normalise_crs(crs)
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if source == WGS84:
        return x, y
    lon, lat = _transformer(source, WGS84).transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def to_equal_area(
    lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat degrees → EPSG:3576 metres."""
    x, y = _transformer(WGS84, EQUAL_AREA).transform(
        np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    )
    return np.asarray(x), np.asarray(y)


def from_equal_area(
    xs: Sequence[float] | np.ndarray, ys: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:3576 metres → lon/lat degrees."""
    lon, lat = _transformer(EQUAL_AREA, WGS84).transform(
        np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    )
    return np.asarray(lon), np.asarray(lat)
