"""Bundled reference data: boundaries (ODbL, see README.md here) and population ids."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from shapely.geometry import shape

from geo.regions import RegionIndex

BOUNDARIES_FILE = "sakha_and_neighbours_adm1.geojson"


@lru_cache(maxsize=1)
def boundaries_geojson() -> dict[str, Any]:
    """Sakha and its neighbours as a GeoJSON FeatureCollection (name in `shapeName`)."""
    text = resources.files(__package__).joinpath(BOUNDARIES_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def region_index() -> RegionIndex:
    """Prepared polygons for tagging points with their region; Sakha is tried first."""
    features = sorted(
        boundaries_geojson()["features"],
        key=lambda f: f["properties"]["shapeName"] != "Sakha Republic",
    )
    return RegionIndex.from_geometries(
        {f["properties"]["shapeName"]: shape(f["geometry"]) for f in features}
    )
