"""Photos of an observation: resumable upload by name, listing, bytes and thumbnails.

`PUT /api/v1/observations/{id}/photos/{name}` takes the whole photo, or a chunk of it with
`Content-Range: bytes START-END/TOTAL` (202 until the last byte); `GET …/{name}/upload`
says how many bytes the server holds, so an interrupted upload resumes there. The rules
are in data/photos.py.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from data import photos
from domain.i18n import Message
from domain.photos import PhotoInfo, UploadOffset
from field_api.deps import AnyUser, Reader, SettingsDep, StoreDep, Uploader, may_change, may_read
from field_api.errors import ApiError
from field_api.query_check import DeclaredQueryOnly

router = APIRouter(prefix="/api/v1/observations", tags=["photos"], dependencies=[DeclaredQueryOnly])
_STATUS = {"created": 201, "unchanged": 200, "partial": 202}
_PHOTO_DOC = {
    "requestBody": {
        "required": True,
        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
    },
    "parameters": [
        {
            "name": "Content-Range",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "example": "bytes 0-262143/1048576"},
            "description": "for a chunk: its first and last byte and the photo's size",
        }
    ],
}


def photo_json(info: PhotoInfo) -> dict[str, Any]:
    """A stored photo as the API lists it, with the URLs of its bytes and thumbnail."""
    base = f"{router.prefix}/{info.observation_id}/photos/{info.name}"
    return {
        "name": info.name,
        "sha256": info.sha256,
        "media_type": info.media_type,
        "size": info.size,
        "width": info.width,
        "height": info.height,
        "uploaded_by": info.uploaded_by,
        "created_at": info.created_at.isoformat() if info.created_at else None,
        "href": base,
        "thumbnail": f"{base}/thumbnail",
    }


def _check(store: StoreDep, user: AnyUser, observation_id: UUID, *, change: bool) -> None:
    observer = store.get_observation(observation_id).observer  # NotFound → 404
    if change and not may_change(user, observer):
        only = Message("only {owner} or an admin can add photos here", owner=observer)
        raise ApiError(403, "forbidden", only)
    if not may_read(user, observer):
        raise ApiError(403, "forbidden", Message("observers can read only their own observations"))


@router.put(
    "/{observation_id}/photos/{name}",
    openapi_extra=_PHOTO_DOC,
    status_code=201,
    responses={
        200: {"description": "the same bytes were stored already"},
        202: {"description": "chunk stored; more to come"},
        409: {"description": "other bytes are stored under this name"},
        416: {"description": "the chunk leaves a gap: resume from Upload-Offset"},
    },
)
async def put_photo(
    observation_id: UUID,
    name: str,
    request: Request,
    user: Uploader,
    store: StoreDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Store a photo (JPEG or PNG) or one chunk of it; idempotent by name and SHA-256."""
    await run_in_threadpool(_check, store, user, observation_id, change=True)
    body = await request.body()
    try:
        receipt = await run_in_threadpool(
            photos.receive_photo,
            store,
            observation_id,
            name,
            body,
            request.headers.get("content-range"),
            actor=user.name,
            max_bytes=settings.max_photo_bytes,
        )
    except UploadOffset as exc:
        raise ApiError(
            416,
            exc.code,
            exc.message,
            field="Content-Range",
            headers={"Upload-Offset": str(exc.received)},
            extra={"received": exc.received, "size": exc.total},
        ) from exc
    answer: dict[str, Any] = {
        "status": receipt.status,
        "name": name,
        "received": receipt.received,
        "size": receipt.total,
    }
    if receipt.photo is not None:
        answer["photo"] = photo_json(receipt.photo)
    return JSONResponse(
        answer,
        status_code=_STATUS[receipt.status],
        headers={"Upload-Offset": str(receipt.received)},
    )


@router.get("/{observation_id}/photos")
def list_photos(observation_id: UUID, user: Reader, store: StoreDep) -> dict[str, Any]:
    """The observation's stored photos (names, sizes, SHA-256, links)."""
    _check(store, user, observation_id, change=False)
    return {"photos": [photo_json(p) for p in store.list_photos(observation_id)]}


@router.get("/{observation_id}/photos/{name}/upload")
def upload_state(observation_id: UUID, name: str, user: Reader, store: StoreDep) -> JSONResponse:
    """How many bytes of this photo the server holds: resume an upload from `received`."""
    _check(store, user, observation_id, change=False)
    photos.check_name(name)
    stored = store.get_photo(observation_id, name)
    if stored is not None:
        body = {"received": stored.size, "size": stored.size, "complete": True}
        return JSONResponse({**body, "sha256": stored.sha256})
    received, total = store.photo_upload_state(observation_id, name) or (0, None)
    return JSONResponse({"received": received, "size": total, "complete": False, "sha256": None})


@router.get("/{observation_id}/photos/{name}", response_class=Response)
def photo(observation_id: UUID, name: str, user: Reader, store: StoreDep) -> Response:
    """The photo's bytes as uploaded."""
    return _bytes(store, user, observation_id, name, thumbnail=False)


@router.get("/{observation_id}/photos/{name}/thumbnail", response_class=Response)
def thumbnail(observation_id: UUID, name: str, user: Reader, store: StoreDep) -> Response:
    """A JPEG at most 320 pixels on its longer side."""
    return _bytes(store, user, observation_id, name, thumbnail=True)


def _bytes(
    store: StoreDep, user: AnyUser, observation_id: UUID, name: str, *, thumbnail: bool
) -> Response:
    _check(store, user, observation_id, change=False)
    photos.check_name(name)
    info = store.get_photo(observation_id, name)
    if info is None:
        absent = Message(
            "no photo {name} of observation {id}", name=repr(name), id=str(observation_id)
        )
        raise ApiError(404, "not_found", absent)
    data = store.photo_bytes(observation_id, name, thumbnail=thumbnail)
    media_type = "image/jpeg" if thumbnail else info.media_type
    # Stored under its SHA-256 and never replaced: a browser may keep it for good.
    headers = {"ETag": f'"{info.sha256}"', "Cache-Control": "private, max-age=31536000"}
    return Response(data, media_type=media_type, headers=headers)
