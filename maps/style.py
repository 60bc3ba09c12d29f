"""Colours and names of the populations, and the map page's styles and script (maps/static)."""

from __future__ import annotations

from functools import cache
from importlib import resources

# Colour-blind-safe (Okabe-Ito) colours, one per population; others get grey.
POPULATION_COLOURS: dict[str, str] = {
    "lena-olenek": "#0072B2",
    "yana-indigirka": "#D55E00",
    "sundrun": "#009E73",
    "new-siberian-islands": "#CC79A7",
    "forest": "#E69F00",
    "taimyr": "#56B4E9",
    "unknown": "#777777",
}
POPULATION_LABELS: dict[str, str] = {
    "lena-olenek": "Lena-Olenek",
    "yana-indigirka": "Yana-Indigirka",
    "sundrun": "Sundrun",
    "new-siberian-islands": "New Siberian Islands",
    "forest": "Forest (taiga)",
    "taimyr": "Taimyr",
    "unknown": "Unknown population",
}


def population_colour(population: str) -> str:
    return POPULATION_COLOURS.get(population, "#555555")


def population_label(population: str) -> str:
    return POPULATION_LABELS.get(population, population)


def map_css() -> str:
    """The map page's styles (maps/static/herd_map.css)."""
    return static_text("herd_map.css")


def map_js() -> str:
    """The script that draws one period at a time and drives the slider (maps/static)."""
    return static_text("herd_map.js")


@cache
def static_text(name: str) -> str:
    """A file of maps/static, read once per process (it is inlined into every page)."""
    return (resources.files("maps") / "static" / name).read_text(encoding="utf-8")
