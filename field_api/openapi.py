"""The OpenAPI document, made to describe the API as it answers.

FastAPI's generated document left out what its dependencies and our request gate do: the
bearer scheme, the problem+json error body and every status a route can answer (401 and
403 from the role checks, 400/408/413 from the gate, 404/409/410 from the store, 503 when
the store is busy or down), the upload bodies the routes read themselves (the PUT's
ObservationFeatureIn, the batch's FeatureCollection) and the media types of the answers.
This module adds them, from the routes themselves (which dependencies each one has), so a
new route is described by the same rules. schemathesis with all its checks runs against
the result (tests/field_api/test_openapi.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from domain.wire import TEXT_PATTERN
from field_api.errors import PROBLEM
from field_api.schemas import ObservationFeatureIn, ObservationPatch, RetractIn

_REF = "#/components/schemas/{model}"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details, with the fields at fault in `errors`",
    "required": ["status", "code", "title", "detail", "errors"],
    "properties": {
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable machine code, e.g. validation_error"},
        "title": {"type": "string"},
        "detail": {"type": "string", "description": "what went wrong and what to do"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
_WHY = {
    400: "a parameter or the body cannot be read (not JSON, a control character, …)",
    401: "no valid bearer token (or browser session)",
    403: "this role may not do this, or a cross-site browser request",
    404: "no such record, or not one this user may see",
    405: "method not allowed",
    408: "the body took longer than the configured time to arrive",
    409: "conflicts with the stored record",
    410: "retracted",
    413: "the body or the batch is larger than the limit",
    422: "a field is invalid: each one is named in `errors`",
    503: "the store is busy or unavailable: retry after Retry-After seconds",
}
_BODY_METHODS = {"post", "put", "patch", "delete"}


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` return the complete document (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    _add_model_schemas(schemas)
    for path_item in doc["paths"].values():
        for method, operation in path_item.items():
            _describe(operation, method)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


def _add_model_schemas(schemas: dict[str, Any]) -> None:
    """ObservationFeatureIn and its parts, referenced by the upload bodies."""
    for model in (ObservationFeatureIn, ObservationPatch, RetractIn):
        found = TypeAdapter(model).json_schema(ref_template=_REF)
        schemas.update(found.pop("$defs", {}))
        schemas[model.__name__] = found
    # The PUT may leave the id out: the URL's is used.
    put = {**schemas["ObservationFeatureIn"], "title": "ObservationFeaturePut"}
    put["required"] = [name for name in put["required"] if name != "id"]
    schemas["ObservationFeaturePut"] = put
    schemas["FeatureCollectionIn"] = {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            # Each feature is judged on its own: one that is not an ObservationFeatureIn is
            # reported `invalid` in the 200 receipt, and the others are stored.
            "features": {
                "type": "array",
                "items": {
                    "anyOf": [
                        {"$ref": _REF.format(model="ObservationFeatureIn")},
                        {"description": "anything else: answered invalid in the receipt"},
                    ]
                },
            },
        },
    }


def _printable_parameters(operation: dict[str, Any]) -> None:
    """Path and query text takes no control characters (the request gate's 400)."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        for option in [schema, *schema.get("anyOf", [])]:
            if option.get("type") == "string" and "pattern" not in option:
                if option.get("format") not in ("uuid", "date-time"):
                    option["pattern"] = TEXT_PATTERN


def _describe(operation: dict[str, Any], method: str) -> None:
    """Every error status the operation can answer, each with the problem+json body.

    `security` is there when the route depends on `current_user` (its HTTPBearer scheme).
    """
    _printable_parameters(operation)
    statuses = {400, 503}
    places = {p.get("in") for p in operation.get("parameters", [])}
    if operation.get("security"):
        statuses |= {401, 403}
    if "path" in places:
        statuses |= {404, 422}
        if method in _BODY_METHODS:
            statuses.add(410)  # a retracted observation
    if "query" in places or method in _BODY_METHODS:
        statuses.add(422)
    if method in _BODY_METHODS:
        statuses |= {404, 408, 409, 413}
    statuses |= {int(code) for code in operation.get("responses", {}) if str(code).isdigit()}
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses):
        if status < 400:
            continue
        described = responses.setdefault(str(status), {"description": _WHY.get(status, "error")})
        described["content"] = {PROBLEM: {"schema": {"$ref": _REF.format(model="Problem")}}}
        if status == 503:
            described["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}
            }
