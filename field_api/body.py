"""Reading JSON bodies ourselves: the batch route must judge each feature on its own."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from domain.i18n import Message
from field_api.errors import ApiError, too_large_message


async def read_json(request: Request) -> Any:
    """The request body as JSON; 413 past the size limit, 400 when it is not JSON."""
    return parse_json(await read_body(request))


async def read_body(request: Request) -> bytes:
    """The raw request body; 413 past the size limit (checked while it streams in)."""
    limit: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    if not body:
        raise ApiError(
            400, "invalid_json", Message("the body is empty: send GeoJSON"), field="body"
        )
    try:
        return json.loads(body)
    except RecursionError as exc:  # about 990 levels of [[[[... in 2 KB
        raise ApiError(
            400,
            "invalid_json",
            Message("the body is nested too deeply to be GeoJSON"),
            field="body",
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400,
            "invalid_json",
            Message("the body is not valid JSON: {error}", error=str(exc)),
            field="body",
        ) from exc


def too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", too_large_message(limit), field="body")
