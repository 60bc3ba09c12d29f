"""Colours and names of the populations; the map page's templates, styles and script (files)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

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


@cache
def templates() -> Environment:
    """maps/templates, parsed once per process.

    HTML templates are autoescaped (population names and periods are data); the one .js
    template is not, since HTML escapes mean nothing inside a script.
    """
    return Environment(
        loader=PackageLoader("maps", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("js",)),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )


def render(template: str, /, **context: Any) -> str:
    """Render the template named `template` (in maps/templates) with `context`."""
    return templates().get_template(template).render(**context)
