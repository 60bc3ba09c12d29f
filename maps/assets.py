"""The scripts and style sheets the maps need, as npm package files (served or inlined).

Herdwatch serves these itself so that maps work at a field station with no internet:
`python -m field_api.assets install` fetches the packages from the npm registry at set-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import folium

# npm package → version; pinned so every install serves the same files.
NPM_PACKAGES: dict[str, str] = {"leaflet": "1.9.4", "leaflet.markercluster": "1.5.3"}

# (folium asset name, path inside node_modules), in load order.
JS_FILES: tuple[tuple[str, str], ...] = (
    ("leaflet", "leaflet/dist/leaflet.js"),
    ("markerclusterjs", "leaflet.markercluster/dist/leaflet.markercluster.js"),
)
CSS_FILES: tuple[tuple[str, str], ...] = (
    ("leaflet_css", "leaflet/dist/leaflet.css"),
    ("markerclustercss", "leaflet.markercluster/dist/MarkerCluster.css"),
    ("markerclusterdefaultcss", "leaflet.markercluster/dist/MarkerCluster.Default.css"),
)
ASSET_FILES: tuple[str, ...] = tuple(path for _, path in JS_FILES + CSS_FILES)


@dataclass(frozen=True, slots=True)
class MapAssets:
    """Where a page's scripts and styles come from: URLs under `base_url`, or inlined text.

    Inlined pages (`inline` maps each path of ASSET_FILES to its text) open from a file
    with no server at all; linked pages are smaller and let the browser cache the files.
    """

    base_url: str = "/static/vendor"
    inline: Mapping[str, str] | None = field(default=None, repr=False)

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path}"


def use_assets(m: folium.Map, assets: MapAssets) -> None:
    """Point the map's scripts and styles at Herdwatch's copies, never at a CDN.

    The map loads every file (the marker-cluster plugin's too), so plugins added to it
    are given empty asset lists with `no_assets`.
    """
    if assets.inline is not None:
        m.default_js, m.default_css = [], []
        return
    m.default_js = [(name, assets.url(path)) for name, path in JS_FILES]
    m.default_css = [(name, assets.url(path)) for name, path in CSS_FILES]


def no_assets(element: folium.MacroElement) -> None:
    """Drop a plugin's own CDN links: the map already loads its files."""
    element.default_js, element.default_css = [], []  # type: ignore[attr-defined]


def inline_header(assets: MapAssets) -> str:
    """<style> and <script> tags holding the asset texts (for a page saved to a file)."""
    if assets.inline is None:
        return ""
    styles = "".join(f"<style>{assets.inline[path]}</style>\n" for _, path in CSS_FILES)
    scripts = "".join(
        f"<script>{_script_safe(assets.inline[path])}</script>\n" for _, path in JS_FILES
    )
    return styles + scripts


def _script_safe(text: str) -> str:
    # A literal "</script" inside inlined code would end the tag early.
    return text.replace("</script", "<\\/script")
