"""The libraries the interfaces load on first use, checked to be installed at start.

A worker imports the map, report and statistics libraries only when a request needs them
(light workers); checking that they can be found, without importing them, keeps a
missing one from surfacing as a failed request an hour later.
"""

from __future__ import annotations

from importlib.util import find_spec

# Import name → what needs it (for the message).
LAZY_LIBRARIES: dict[str, str] = {
    "folium": "maps",
    "pandas": "herds and reports",
    "scipy": "herd grouping",
    "matplotlib": "report charts",
    "reportlab": "PDF reports",
    "geopandas": "GeoPackage reports",
    "pyxform": "the ODK Collect form",
}


class MissingLibrary(RuntimeError):
    """A library Herdwatch needs is not installed."""


def require_libraries(libraries: dict[str, str] | None = None) -> None:
    """Raise MissingLibrary naming every library that cannot be found (nothing is imported)."""
    wanted = LAZY_LIBRARIES if libraries is None else libraries
    missing = [f"{name} (for {use})" for name, use in wanted.items() if find_spec(name) is None]
    if missing:
        raise MissingLibrary(
            f"herdwatch cannot start: {', '.join(missing)} not installed; "
            "run `make install` (or pip install -e .)"
        )
