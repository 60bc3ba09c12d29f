"""The language of one request, for the answers that carry text (errors, pages, reports).

No middleware: the language is worked out only where text is produced, so a successful
JSON answer (the observation listing is latency-critical) pays nothing for it.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Scope

from domain.i18n import COOKIE, Translator, negotiate, translator

# A translated answer depends on these request headers; a cache must key on them.
VARY = "Accept-Language, Cookie"


def request_language(request: HTTPConnection) -> str:
    """`?lang=`, then the viewer's cookie `herdwatch_lang`, then Accept-Language, else en."""
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get(COOKIE),
        request.headers.get("accept-language"),
    )


def scope_language(scope: Scope) -> str:
    """request_language for a raw ASGI scope (the request guard answers before any route)."""
    return request_language(HTTPConnection(scope))


def request_translator(request: HTTPConnection) -> Translator:
    return translator(request_language(request))


def language_headers(lang: str) -> dict[str, str]:
    """What a translated answer says about its language."""
    return {"Content-Language": lang, "Vary": VARY}


def mark_translated(response: Response, lang: str) -> Response:
    """Add Content-Language and Vary (merged with a Vary already set) to `response`."""
    response.headers["Content-Language"] = lang
    present = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
    wanted = [v for v in VARY.split(", ") if v.lower() not in {p.lower() for p in present}]
    response.headers["Vary"] = ", ".join(present + wanted)
    return response
