"""The browser pages' HTML: Jinja2 templates in field_api/templates, rendered escaped, each
in the request's language (field_api/language.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.requests import HTTPConnection

from domain.i18n import LANGUAGES, Translator, i18n_environment, render_in, translator


@lru_cache(maxsize=1)
def templates() -> Environment:
    """One environment for the process: it parses each template once and keeps it.

    Autoescape is on, so every value a page shows (a user name, a filter, an error) is
    escaped unless it is explicitly Markup; StrictUndefined makes a misspelt name an error.
    The language comes with each render (`render_page`), never stored on the environment.
    """
    env: Environment = i18n_environment(
        loader=PackageLoader("field_api", "templates"),
        autoescape=True,
        trim_blocks=True,  # a line holding only a {% tag %} leaves no blank line behind
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    return env


def render_page(template: str, t: Translator | None = None, /, **context: Any) -> str:
    """Render the template named `template` (e.g. "login.html") in t's language (English
    when None) with `context`; a page without a language switch gets an empty one."""
    context.setdefault("language_switch", "")
    return render_in(templates().get_template(template), t or translator(), **context)


def switch_target(request: HTTPConnection) -> str:
    """This page's path and query without `lang`: where a language switch comes back to
    (a `lang` kept in the address would outrank the cookie the switch sets)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def language_switch(request: HTTPConnection, t: Translator) -> Markup:
    """The "Русский | English" links of a page: each sets the cookie and comes back here."""
    back = switch_target(request)
    choices = [
        {
            "lang": lang,
            "name": _own_name(lang),
            "href": "/language/" + lang + "?" + urlencode({"next": back}),
            "current": lang == t.lang,
        }
        for lang in LANGUAGES
    ]
    return Markup(render_page("language_switch.html", t, choices=choices))


def _own_name(lang: str) -> str:
    """A language's name in itself, capitalised as a menu shows it: "Русский", "English"."""
    name = translator(lang).name
    return name[:1].upper() + name[1:]
