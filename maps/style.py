"""Colours and names of the populations; the map page's templates, styles and script (files)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from domain.i18n import POPULATION_NAMES, Translator, i18n_environment, render_in, translator

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
# The maps' names of the populations: the catalogue's, one table for every page and report.
POPULATION_LABELS: Mapping[str, str] = POPULATION_NAMES


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


def population_label(population: str, t: Translator | None = None) -> str:
    """The population's name on a map, in t's language (English without one)."""
    label = POPULATION_LABELS.get(population)
    if label is None:  # an administrator's own population: its id is its name
        return population
    return t.gettext(label) if t is not None else label


def map_css() -> str:
    """The map page's styles (maps/static/herd_map.css)."""
    return static_text("herd_map.css")


def map_js() -> str:
    """The script that draws one period at a time and drives the slider (maps/static)."""
    return static_text("herd_map.js")


@cache
def script_msgids() -> tuple[str, ...]:
    """The messages herd_map.js shows (its `_("…")` calls), found as `make messages` finds
    them, so the page carries exactly the translations its script asks for."""
    from io import BytesIO

    from babel.messages.extract import extract

    found = extract("javascript", BytesIO(map_js().encode()), keywords={"_": None})
    return tuple(dict.fromkeys(message for _, message, _, _ in found if isinstance(message, str)))


def script_messages(t: Translator) -> dict[str, str]:
    """msgid → translation for the script's messages (English needs none: the msgid is it)."""
    return {m: t.gettext(m) for m in script_msgids() if t.gettext(m) != m}


@cache
def static_text(name: str) -> str:
    """A file of maps/static, read once per process (it is inlined into every page)."""
    return (resources.files("maps") / "static" / name).read_text(encoding="utf-8")


@cache
def templates() -> Environment:
    """maps/templates, parsed once per process.

    HTML templates are autoescaped (population names and periods are data); the one .js
    template is not, since HTML escapes mean nothing inside a script. The language is
    given per render (`render`), never installed on the shared environment.
    """
    env: Environment = i18n_environment(
        loader=PackageLoader("maps", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("js",)),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    return env


def render(template: str, t: Translator | None = None, /, **context: Any) -> str:
    """Render the template named `template` (in maps/templates) in t's language."""
    return render_in(templates().get_template(template), t or translator(), **context)
