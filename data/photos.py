"""Photo uploads: the rules (name, type by magic bytes, size, pixels) and resumable chunks.

A photo arrives whole in one PUT, or in chunks, each a PUT with `Content-Range: bytes
START-END/TOTAL`. The server keeps the bytes received so far (photo_uploads); a client that
lost its connection asks `GET …/photos/{name}/upload` how many bytes are held and sends the
rest. A chunk may repeat bytes already held (a re-send after a lost answer) but not leave a
gap. When the last byte arrives the photo is checked with Pillow, given a thumbnail and
stored under its SHA-256: the same bytes again answer "unchanged", other bytes under the
same name are a conflict. Pillow is imported only when a photo completes.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from data.store import ObservationStore
from domain.errors import Conflict
from domain.i18n import Message
from domain.photos import Photo, PhotoInfo, PhotoRefused

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
_RANGE = re.compile(r"bytes (\d{1,12})-(\d{1,12})/(\d{1,12})")
THUMBNAIL_PX = 320
MAX_PIXELS = 60_000_000  # a 60-megapixel photo; more is refused before it is decoded


@dataclass(frozen=True, slots=True)
class ChunkRange:
    start: int
    end: int  # inclusive, as Content-Range writes it
    total: int


@dataclass(frozen=True, slots=True)
class Receipt:
    """What an upload request achieved: a stored photo, or how far a partial one got."""

    status: Literal["created", "unchanged", "partial"]
    received: int
    total: int
    photo: PhotoInfo | None = None


def check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise PhotoRefused(
            Message(
                "photo name {name}: use 1-100 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
                name=repr(name[:120]),
            ),
            field="name",
        )


def parse_range(header: str | None, length: int, max_bytes: int) -> ChunkRange:
    """The chunk's place in the photo; no header means the body is the whole photo."""
    if not header:
        chunk = ChunkRange(0, length - 1, length)
    else:
        match = _RANGE.fullmatch(header.strip())
        if match is None:
            raise PhotoRefused(
                Message(
                    "Content-Range {header}: write it as 'bytes START-END/TOTAL'",
                    header=repr(header[:80]),
                ),
                field="Content-Range",
            )
        chunk = ChunkRange(*(int(g) for g in match.groups()))
        if not chunk.start <= chunk.end < chunk.total or chunk.end - chunk.start + 1 != length:
            raise PhotoRefused(
                Message(
                    "Content-Range {header} does not fit a body of {length} bytes",
                    header=repr(header),
                    length=str(length),
                ),
                field="Content-Range",
            )
    if length == 0:
        raise PhotoRefused(Message("the body is empty: send the photo's bytes"), field="body")
    if chunk.total > max_bytes:
        raise PhotoRefused(
            Message(
                "the photo has {total} bytes; the limit is {max_bytes}",
                total=chunk.total,
                max_bytes=max_bytes,
            ),
            field="body",
        )
    return chunk


def media_type_of(head: bytes) -> str:
    """image/jpeg or image/png from the first bytes (the file name and header may lie)."""
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    raise PhotoRefused(Message("only JPEG and PNG photos are accepted"), field="body")


def receive_photo(
    store: ObservationStore,
    observation_id: UUID,
    name: str,
    body: bytes,
    content_range: str | None,
    *,
    actor: str,
    max_bytes: int,
) -> Receipt:
    """Take one PUT of a photo or of a chunk of it (see the module docstring)."""
    check_name(name)
    chunk = parse_range(content_range, len(body), max_bytes)
    stored = store.get_photo(observation_id, name)
    if stored is not None:
        return _against_stored(store, stored, chunk, body)
    if chunk.start == 0:
        media_type_of(body)  # refuse a wrong type at the first chunk, not the last
    data = store.add_photo_chunk(
        observation_id, name, start=chunk.start, total=chunk.total, chunk=body, actor=actor
    )
    if len(data) < chunk.total:
        return Receipt("partial", len(data), chunk.total)
    try:
        photo = make_photo(observation_id, name, data, actor)
    except PhotoRefused:
        store.discard_photo_upload(observation_id, name)
        raise
    return Receipt(_stored_status(store.add_photo(photo)), chunk.total, chunk.total, photo.info)


def _stored_status(status: str) -> Literal["created", "unchanged"]:
    return "created" if status == "created" else "unchanged"


def _against_stored(
    store: ObservationStore, stored: PhotoInfo, chunk: ChunkRange, body: bytes
) -> Receipt:
    """A chunk of a name already stored: the same bytes are a re-send, others a conflict."""
    data = store.photo_bytes(stored.observation_id, stored.name)
    if chunk.total != stored.size or data[chunk.start : chunk.end + 1] != body:
        raise Conflict(
            Message(
                "photo {name} is stored with other bytes (sha256 {sha256}); send this "
                "one under another name",
                name=repr(stored.name),
                sha256=str(stored.sha256),
            ),
            field="name",
        )
    if chunk.end + 1 == chunk.total:
        return Receipt("unchanged", stored.size, stored.size, stored)
    return Receipt("partial", chunk.end + 1, stored.size)


def make_photo(observation_id: UUID, name: str, data: bytes, actor: str) -> Photo:
    """Check the bytes are a whole JPEG or PNG and make its thumbnail."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    media_type = media_type_of(data)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise PhotoRefused(
                    Message(
                        "the photo has {width}×{height} pixels; at most {MAX_PIXELS} are accepted",
                        width=str(width),
                        height=str(height),
                        MAX_PIXELS=MAX_PIXELS,
                    ),
                    field="body",
                )
            probe.verify()  # a truncated or corrupt file fails here
        with Image.open(io.BytesIO(data)) as image:
            thumbnail = _thumbnail(ImageOps.exif_transpose(image) or image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoRefused(
            Message(
                "the {media_type} file cannot be read: {exc}",
                media_type=str(media_type),
                exc=str(exc),
            ),
            field="body",
        ) from exc
    info = PhotoInfo(
        observation_id,
        name,
        hashlib.sha256(data).hexdigest(),
        media_type,
        len(data),
        width,
        height,
        actor,
    )
    return Photo(info, data, thumbnail)


def _thumbnail(image: object) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    small = image.convert("RGB")
    small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()
