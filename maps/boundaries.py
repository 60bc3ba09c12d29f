"""Region boundaries for the map: simplified for the page, Sakha drawn stronger."""

from __future__ import annotations

from typing import Any

import folium
from shapely.geometry import mapping, shape

from domain.i18n import N_, Translator, translator

SAKHA = "Sakha Republic"
# The regions' names in the bundled boundaries (geoBoundaries' shapeName), for the tooltips.
REGION_NAMES: dict[str, str] = {
    "Sakha Republic": N_("Sakha Republic"),
    "Krasnoyarsk Krai": N_("Krasnoyarsk Krai"),
    "Zabaykalsky Krai": N_("Zabaykalsky Krai"),
    "Irkutsk Oblast": N_("Irkutsk Oblast"),
    "Amur Oblast": N_("Amur Oblast"),
    "Magadan Oblast": N_("Magadan Oblast"),
    "Khabarovsk Krai": N_("Khabarovsk Krai"),
    "Chukotka Autonomous Okrug": N_("Chukotka Autonomous Okrug"),
}
# Degrees: ~1-2 km at these latitudes, far below what a regional map can show.
SIMPLIFY_DEG = {SAKHA: 0.01, "neighbour": 0.03}


# The bundled boundaries are one object for the life of the process (lru_cache in
# data.reference): simplify them once, not on every page.
_SIMPLIFIED: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}


def simplified_boundaries(collection: dict[str, Any]) -> dict[str, Any]:
    """The regions simplified and rounded, with longitudes past 180° kept east (Chukotka)."""
    cached = _SIMPLIFIED.get(id(collection))
    if cached is not None and cached[0] is collection:
        return cached[1]
    simplified = _simplify(collection)
    _SIMPLIFIED.clear()  # keep one: a caller passing new dicts each time must not grow this
    _SIMPLIFIED[id(collection)] = (collection, simplified)
    return simplified


def _simplify(collection: dict[str, Any]) -> dict[str, Any]:
    features = []
    for feature in collection.get("features", []):
        name = feature["properties"].get("shapeName", "")
        tolerance = SIMPLIFY_DEG[SAKHA] if name == SAKHA else SIMPLIFY_DEG["neighbour"]
        geometry = shape(feature["geometry"]).simplify(tolerance, preserve_topology=True)
        features.append(
            {
                "type": "Feature",
                "properties": {"name": name, "sakha": name == SAKHA},
                "geometry": _rounded(mapping(geometry)),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _rounded(geometry: Any) -> Any:
    """Coordinates to 3 decimals (~100 m); west longitudes shifted by 360° to stay beside 180°."""
    if isinstance(geometry, dict):
        return {k: _rounded(v) if k == "coordinates" else v for k, v in geometry.items()}
    if isinstance(geometry, list | tuple) and geometry and isinstance(geometry[0], int | float):
        lon, lat = geometry[0], geometry[1]
        return [round(lon + 360.0 if lon < -90.0 else lon, 3), round(lat, 3)]
    return [_rounded(part) for part in geometry]


def boundary_layer(collection: dict[str, Any], t: Translator | None = None) -> folium.GeoJson:
    """Sakha's outline (and its neighbours, fainter) as a layer that draws with no tiles;
    the layer's and the regions' names in t's language."""
    t = t or translator()
    return folium.GeoJson(
        _named(simplified_boundaries(collection), t),
        name=t.gettext("Boundaries (geoBoundaries, ODbL)"),
        style_function=_style,
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        control=True,
    )


def _named(collection: dict[str, Any], t: Translator) -> dict[str, Any]:
    """The collection with each region's tooltip name translated (geometries shared)."""
    features = []
    for feature in collection["features"]:
        name = feature["properties"]["name"]
        label = t.gettext(REGION_NAMES[name]) if name in REGION_NAMES else name
        features.append({**feature, "properties": {**feature["properties"], "name": label}})
    return {**collection, "features": features}


def _style(feature: dict[str, Any]) -> dict[str, Any]:
    if feature["properties"]["sakha"]:
        return {
            "color": "#3d3d3d",
            "weight": 2.5,
            "fillColor": "#f3efe2",
            "fillOpacity": 0.55,
            "className": "hw-boundary hw-boundary-sakha",
        }
    return {
        "color": "#8a8a8a",
        "weight": 1,
        "fillColor": "#e9ecef",
        "fillOpacity": 0.35,
        "className": "hw-boundary",
    }


def geojson_bounds(
    collection: dict[str, Any] | None, name: str
) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the named region."""
    for feature in (collection or {}).get("features", []):
        if feature["properties"].get("shapeName", feature["properties"].get("name")) == name:
            west, south, east, north = shape(feature["geometry"]).bounds
            return float(west), float(south), float(east), float(north)
    raise ValueError(f"no region named {name!r} in the boundaries")
