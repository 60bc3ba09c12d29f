"""Photos of an observation: what is kept of each, and why an upload is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import DomainError, InvalidInput


@dataclass(frozen=True, slots=True)
class PhotoInfo:
    """A stored photo without its bytes: what a listing and a popup show."""

    observation_id: UUID
    name: str
    sha256: str
    media_type: str
    size: int
    width: int
    height: int
    uploaded_by: str
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Photo:
    """A complete photo with its bytes and thumbnail, ready to store."""

    info: PhotoInfo
    data: bytes
    thumbnail: bytes


class PhotoRefused(InvalidInput):
    """Not a JPEG or PNG, too large, a bad name or a Content-Range that does not add up."""

    code = "photo_refused"


class UploadOffset(DomainError):
    """A chunk starts past what the server holds: resume from `received`."""

    code = "upload_offset"

    def __init__(self, received: int, total: int) -> None:
        super().__init__(
            f"the server holds bytes 0-{received - 1} of {total}: send from byte {received}"
            if received
            else f"the server holds none of the {total} bytes: send from byte 0",
            field="Content-Range",
        )
        self.received, self.total = received, total
