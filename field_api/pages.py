"""The browser pages' HTML: Jinja2 templates in field_api/templates, rendered escaped."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@lru_cache(maxsize=1)
def templates() -> Environment:
    """One environment for the process: it parses each template once and keeps it.

    Autoescape is on, so every value a page shows (a user name, a filter, an error) is
    escaped unless it is explicitly Markup; StrictUndefined makes a misspelt name an error.
    """
    return Environment(
        loader=PackageLoader("field_api", "templates"),
        autoescape=True,
        trim_blocks=True,  # a line holding only a {% tag %} leaves no blank line behind
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )


def render_page(template: str, /, **context: Any) -> str:
    """Render the template named `template` (e.g. "login.html") with `context`."""
    return templates().get_template(template).render(**context)
