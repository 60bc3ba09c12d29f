"""SQL helpers both dialects use: WHERE assembly, longitude ranges, aggregate rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.records import HerdCount
from geo.grid import cell_centre_lon_lat, cell_key


def where_clause(parts: Sequence[str]) -> str:
    return ("WHERE " + " AND ".join(parts)) if parts else ""


def lon_ranges(bbox: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    """One longitude range, or two when the box crosses the antimeridian (min_lon > max_lon)."""
    min_lon, _, max_lon, _ = bbox
    return [(min_lon, max_lon)] if min_lon <= max_lon else [(min_lon, 180.0), (-180.0, max_lon)]


def rows_to_herd_counts(
    rows: Sequence[Sequence[Any]], *, by: str, cell_size_m: float
) -> list[HerdCount]:
    """HerdCounts from aggregate rows; cells get their centre as the representative point."""
    counts = []
    for period, population, key, lon, lat, sightings, animals, *classes in rows:
        if by == "cell":
            ix, _, iy = str(key).partition(":")
            key = cell_key(int(ix), int(iy))
            lon, lat = cell_centre_lon_lat(int(ix), int(iy), cell_size_m)
        counts.append(
            HerdCount(
                str(period),
                population,
                str(key),
                float(lon),
                float(lat),
                int(sightings),
                int(animals),
                *(int(c) for c in classes),
            )
        )
    return counts
