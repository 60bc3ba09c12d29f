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


# For populations an administrator adds (HERDWATCH_EXTRA_POPULATIONS): distinct from the
# built-in colours and from each other for the first dozen, always the same for one id.
EXTRA_COLOURS: tuple[str, ...] = (
    "#882255",
    "#44AA99",
    "#999933",
    "#332288",
    "#AA4499",
    "#117733",
    "#661100",
    "#6699CC",
    "#DDCC77",
    "#88CCEE",
    "#CC6677",
    "#AA4466",
)


def population_colour(population: str) -> str:
    """The population's colour: its own for the built-in ones, a stable one for others."""
    if population in POPULATION_COLOURS:
        return POPULATION_COLOURS[population]
    digest = sum((i + 1) * ord(c) for i, c in enumerate(population))
    return EXTRA_COLOURS[digest % len(EXTRA_COLOURS)]


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
