"""Tag points with the administrative region they fall in (shapely, vectorised)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

HOME_REGION = "Sakha Republic"
FLAG_OUTSIDE_YAKUTIA = "outside-yakutia"
FLAG_OUTSIDE_STUDY_AREA = "outside-study-area"


@dataclass(frozen=True)
class RegionIndex:
    """Named polygons, prepared once, that answer "which region is each point in"."""

    names: tuple[str, ...]
    geometries: tuple[BaseGeometry, ...]

    @classmethod
    def from_geometries(cls, regions: Mapping[str, BaseGeometry]) -> RegionIndex:
        geoms = tuple(regions.values())
        for geom in geoms:
            shapely.prepare(geom)
        return cls(tuple(regions), geoms)

    def region_of(
        self, lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray
    ) -> list[str | None]:
        """Region name per point, or None outside every region."""
        x, y = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
        found: list[str | None] = [None] * len(x)
        remaining = np.ones(len(x), dtype=bool)
        for name, geom in zip(self.names, self.geometries, strict=True):
            if not remaining.any():
                break
            hit = np.zeros(len(x), dtype=bool)
            hit[remaining] = shapely.contains_xy(geom, x[remaining], y[remaining])
            for i in np.flatnonzero(hit):
                found[i] = name
            remaining &= ~hit
        return found


def flags_for_region(region: str | None) -> tuple[str, ...]:
    """Flags for a point's region: outside Yakutia, and outside the whole study area."""
    if region == HOME_REGION:
        return ()
    if region is None:
        return (FLAG_OUTSIDE_YAKUTIA, FLAG_OUTSIDE_STUDY_AREA)
    return (FLAG_OUTSIDE_YAKUTIA,)
