"""The one place that turns errors into HTTP responses (problem+json with a code and field).

Every answer is written in the request's language (field_api/language.py): the `title` per
status and the `detail` and each error's `message`, which arrive as `Message`s (domain/i18n.py)
and are rendered here. `status`, `code` and `field` never change with the language.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from data.faults import RETRY_AFTER_SECONDS, unavailable_reason
from domain.errors import (
    Conflict,
    DomainError,
    Gone,
    InvalidInput,
    NotFound,
    StoreBusy,
    Unavailable,
)
from domain.i18n import DEFAULT_LANGUAGE, N_, Joined, Message, rendered, text, translator
from domain.openrosa import NotAllowed, SubmissionRefused
from field_api.language import language_headers, request_language
from field_api.validation_messages import pydantic_errors

# The HTTP status of every domain error; a subclass takes its nearest listed ancestor's.
STATUS_CODES: dict[type[DomainError], int] = {
    InvalidInput: 422,
    SubmissionRefused: 400,
    NotAllowed: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    StoreBusy: 503,
    Unavailable: 503,
}
PROBLEM = "application/problem+json"
_RETRY = {"Retry-After": str(RETRY_AFTER_SECONDS)}
# The problem's `title`: one short summary per status, in the request's language.
TITLES: dict[int, str] = {
    400: N_("Bad request"),
    401: N_("Not signed in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    406: N_("Not acceptable"),
    408: N_("Request too slow"),
    409: N_("Conflict"),
    410: N_("Retracted"),
    411: N_("Length required"),
    412: N_("Precondition failed"),
    413: N_("Request too large"),
    415: N_("Unsupported media type"),
    416: N_("Range not satisfiable"),
    422: N_("Invalid input"),
    429: N_("Too many requests"),
    500: N_("Server error"),
    503: N_("Temporarily unavailable"),
}
_UNTITLED = N_("Error")
# Starlette's own answers (a path no route has, a method a route lacks) in our words.
_HTTP_DETAILS: dict[int, str] = {
    404: N_("nothing is served at this address"),
    405: N_("this address does not take this method"),
}


class ApiError(Exception):
    """An error a route raises on purpose, with its status, code and the field at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | Message,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.status, self.code, self.message, self.field = status, code, message, field
        self.errors = errors or (
            [{"field": field, "code": code, "message": message}] if field else []
        )
        self.headers = headers
        self.extra = extra or {}


def problem(
    status: int,
    code: str,
    message: str | Message,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    *,
    lang: str = DEFAULT_LANGUAGE,
    **extra: Any,
) -> JSONResponse:
    """A problem+json answer in `lang`: Messages in the detail, errors and extra rendered."""
    t = translator(lang)
    body: dict[str, Any] = {
        "status": status,
        "code": code,
        "title": t.gettext(TITLES.get(status, _UNTITLED)),
        "detail": text(message, t),
        "errors": rendered(errors or [], t),
        **rendered(extra, t),
    }
    headers = {**(headers or {}), **language_headers(lang)}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def too_large_message(limit: int) -> Message:
    """The 413 of a body past `limit` bytes (said by the request guard and by the routes)."""
    return Message("the body is larger than {limit} bytes: send it in smaller batches", limit=limit)


def summary(errors: list[dict[str, Any]], limit: int = 5) -> Message:
    """The first few errors' messages as one detail ("a; b; c")."""
    if not errors:
        return Message("the request is not valid")
    return Joined([e["message"] for e in errors[:limit]])


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain error, from STATUS_CODES (500 for one not listed)."""
    for kind in type(exc).__mro__:
        if kind in STATUS_CODES:
            return STATUS_CODES[kind]
    return 500


def add_exception_handlers(app: FastAPI) -> None:
    """Map domain and validation errors to problem+json responses; never a bare 500 text."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        lang = request_language(request)
        return problem(
            exc.status, exc.code, exc.message, exc.errors, exc.headers, lang=lang, **exc.extra
        )

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        status = status_of(exc)
        errors = (
            [{"field": exc.field, "code": exc.code, "message": exc.message}] if exc.field else []
        )
        extra: dict[str, Any] = (
            {"differing": list(exc.differing)} if isinstance(exc, Conflict) else {}
        )
        headers = _RETRY if status == 503 else None
        lang = request_language(request)
        return problem(status, exc.code, exc.message, errors, headers, lang=lang, **extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_problem(request, exc)

    @app.exception_handler(ValidationError)
    async def _invalid_model(request: Request, exc: ValidationError) -> JSONResponse:
        errors = pydantic_errors(list(exc.errors()))
        lang = request_language(request)
        return problem(422, "validation_error", summary(errors), errors, lang=lang)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # every method of the path, not the first route's alone
            headers["Allow"] = allowed_methods(request.app, request.url.path) or headers.get(
                "Allow", ""
            )
        return problem(
            exc.status_code,
            code.get(exc.status_code, "http_error"),
            _http_detail(exc),
            headers=headers,
            lang=request_language(request),
        )

    async def _store_fault(request: Request, exc: Exception) -> JSONResponse:
        reason = unavailable_reason(exc)
        if reason is None:
            raise exc  # a bug, not a fault: the 500 handler below answers it
        # The disk filled up, the database restarted: a passing fault, worth a retry.
        return problem(503, "unavailable", reason, headers=_RETRY, lang=request_language(request))

    for fault in _store_fault_types():
        app.add_exception_handler(fault, _store_fault)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        reason = unavailable_reason(exc)
        lang = request_language(request)
        if reason:
            return problem(503, "unavailable", reason, headers=_RETRY, lang=lang)
        # Logged by the server; the client gets a stable shape and no traceback.
        failed = Message("the server failed; nothing was half-written")
        return problem(500, "internal_error", failed, lang=lang)


def _http_detail(exc: StarletteHTTPException) -> str | Message:
    """Starlette's stock phrase ("Not Found") in our words; any other detail as it is."""
    try:
        stock = HTTPStatus(exc.status_code).phrase
    except ValueError:
        stock = None
    if str(exc.detail) == stock and exc.status_code in _HTTP_DETAILS:
        return Message(_HTTP_DETAILS[exc.status_code])
    return str(exc.detail)


def _store_fault_types() -> tuple[type[Exception], ...]:
    """The driver errors a store's passing faults arrive as (see data/faults.py)."""
    import sqlite3

    import psycopg
    import psycopg_pool

    return (sqlite3.Error, OSError, psycopg.Error, psycopg_pool.PoolTimeout)


def allowed_methods(app: FastAPI, path: str) -> str:
    """The methods the OpenAPI document lists for `path` (HEAD wherever GET), as Allow.

    A literal path (/api/v1/observations/batch) wins over a template that also matches it.
    """
    import re

    paths = app.openapi().get("paths", {})
    if path in paths:
        methods = {m.upper() for m in paths[path]}
    else:
        methods = set()
        for template, item in paths.items():
            pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, path):
                methods |= {m.upper() for m in item}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field, or 415 for a JSON body that did not come as JSON."""
    lang = request_language(request)
    media = _body_not_json(request, exc)
    if media is not None:
        return _unsupported_media(media, lang)
    errors = pydantic_errors(list(exc.errors()))
    return problem(422, "validation_error", summary(errors), errors, lang=lang)


def _body_not_json(request: Request, exc: RequestValidationError) -> str | None:
    """The Content-Type of a JSON route's body that FastAPI did not read as JSON (`curl
    -d` sends application/x-www-form-urlencoded), or None. Seen answering "body: must be
    a JSON object" for a JSON object."""
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    whole_body = any(tuple(e.get("loc", ())) == ("body",) for e in exc.errors())
    return (media or "none") if whole_body else None


def _unsupported_media(media: str, lang: str) -> JSONResponse:
    message = Message(
        "send the body as JSON with Content-Type: application/json (it came as {media})",
        media=media,
    )
    errors = [{"field": "Content-Type", "code": "unsupported_media_type", "message": message}]
    return problem(415, "unsupported_media_type", message, errors, lang=lang)
