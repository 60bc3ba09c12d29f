"""The one place that turns errors into HTTP responses (problem+json with a code and field)."""

from __future__ import annotations

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
from domain.openrosa import NotAllowed, SubmissionRefused
from domain.wire import TEXT_PATTERN, TEXT_PATTERN_REASON

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


class ApiError(Exception):
    """An error a route raises on purpose, with its status, code and the field at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.errors = errors or (
            [{"field": field, "code": code, "message": message}] if field else []
        )
        self.headers = headers
        self.extra = extra or {}


def problem(
    status: int,
    code: str,
    message: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "status": status,
        "code": code,
        "title": code.replace("_", " "),
        "detail": message,
        "errors": errors or [],
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """("body", "properties", "count") → "properties.count"; list indexes in brackets."""
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header", "cookie") and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "body"


def pydantic_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic's error list as [{field, code, message}] a field worker can act on."""
    out = []
    for err in errors:
        field = field_path(err.get("loc", ()))
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        if err.get("ctx", {}).get("pattern") == TEXT_PATTERN:
            message = TEXT_PATTERN_REASON
        elif err.get("type") == "string_unicode":
            message = "is not valid Unicode text (a lone surrogate such as \\ud800)"
        out.append(
            {"field": field, "code": err.get("type", "invalid"), "message": f"{field}: {message}"}
        )
    return out


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain error, from STATUS_CODES (500 for one not listed)."""
    for kind in type(exc).__mro__:
        if kind in STATUS_CODES:
            return STATUS_CODES[kind]
    return 500


def add_exception_handlers(app: FastAPI) -> None:
    """Map domain and validation errors to problem+json responses; never a bare 500 text."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.message, exc.errors, exc.headers, **exc.extra)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = status_of(exc)
        errors = (
            [{"field": exc.field, "code": exc.code, "message": exc.message}] if exc.field else []
        )
        extra: dict[str, Any] = (
            {"differing": list(exc.differing)} if isinstance(exc, Conflict) else {}
        )
        headers = _RETRY if status == 503 else None
        return problem(status, exc.code, exc.message, errors, headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = pydantic_errors(list(exc.errors()))
        detail = "; ".join(e["message"] for e in errors[:5]) or "the request is not valid"
        return problem(422, "validation_error", detail, errors)

    @app.exception_handler(ValidationError)
    async def _invalid_model(_: Request, exc: ValidationError) -> JSONResponse:
        errors = pydantic_errors(list(exc.errors()))
        return problem(422, "validation_error", "; ".join(e["message"] for e in errors[:5]), errors)

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
            str(exc.detail),
            headers=headers,
        )

    async def _store_fault(_: Request, exc: Exception) -> JSONResponse:
        reason = unavailable_reason(exc)
        if reason is None:
            raise exc  # a bug, not a fault: the 500 handler below answers it
        # The disk filled up, the database restarted: a passing fault, worth a retry.
        return problem(503, "unavailable", reason, headers=_RETRY)

    for fault in _store_fault_types():
        app.add_exception_handler(fault, _store_fault)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        reason = unavailable_reason(exc)
        if reason:
            return problem(503, "unavailable", reason, headers=_RETRY)
        # Logged by the server; the client gets a stable shape and no traceback.
        return problem(500, "internal_error", "the server failed; nothing was half-written")


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
