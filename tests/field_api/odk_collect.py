"""What ODK Collect sends, replayed: the HEAD, the multipart POST, split parts and edits.

Collect (v2023+) asks `HEAD /submission` first, then POSTs multipart/form-data: the form
instance as the file part `xml_submission_file`, each attachment as a part named by its
file name, and `*isIncomplete*=yes` on every POST but the last when it splits a submission
that is larger than the server's X-OpenRosa-Accept-Content-Length.
"""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

HEADERS = {"X-OpenRosa-Version": "1.0", "User-Agent": "org.odk.collect.android/v2024.2.4"}


def basic(name: str, token: str) -> dict[str, str]:
    """Collect's credentials: the user name, and the Herdwatch token as the password."""
    encoded = base64.b64encode(f"{name}:{token}".encode()).decode()
    return {"Authorization": f"Basic {encoded}", **HEADERS}


def jpeg(seed: int = 0, size: tuple[int, int] = (24, 16)) -> bytes:
    """A small, real JPEG, different for each seed (Pillow comes with matplotlib)."""
    from PIL import Image

    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    image.putpixel((seed % size[0], 0), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@dataclass
class Sighting:
    """One filled-in herd_sighting instance, as Collect's XML writes it."""

    instance_id: UUID = field(default_factory=uuid.uuid4)
    observed_at: str = "2024-06-20T14:30:00.000+09:00"
    location: str = "71.6543 128.8712 35.0 4.8"  # lat lon altitude accuracy
    population: str = "lena-olenek"
    count_method: str = "visual"
    count: str = "240"
    classes: dict[str, str] = field(
        default_factory=lambda: {"adult_males": "40", "adult_females": "120", "calves": "55"}
    )
    survey_id: str = "LO-2024-06"
    behaviour: str = "grazing"
    notes: str = "moving north-east <slowly> & calm"
    photos: tuple[str, ...] = ()
    deprecated_id: UUID | None = None
    version: str = "1"
    extra: dict[str, str] = field(default_factory=dict)

    def xml(self) -> bytes:
        from xml.sax.saxutils import escape

        answers: dict[str, str] = {
            "observed_at": self.observed_at,
            "location": self.location,
            "population": self.population,
            "count_method": self.count_method,
            "count": self.count,
            **{k: self.classes.get(k, "") for k in _CLASSES},
            "survey_id": self.survey_id,
            "behaviour": self.behaviour,
            "notes": self.notes,
            "photo": self.photos[0] if self.photos else "",
            "device_id": "collect:Xy12AbCdEf",
            **self.extra,
        }
        body = "".join(f"<{k}>{escape(v)}</{k}>" if v else f"<{k}/>" for k, v in answers.items())
        meta = f"<instanceID>uuid:{self.instance_id}</instanceID>"
        if self.deprecated_id:
            meta += f"<deprecatedID>uuid:{self.deprecated_id}</deprecatedID>"
        return (
            "<?xml version='1.0' ?>"
            f'<herd_sighting id="herd_sighting" version="{self.version}" '
            'xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">'
            f"{body}<meta>{meta}<instanceName>{self.count}</instanceName></meta>"
            "</herd_sighting>"
        ).encode()


_CLASSES = ("adult_males", "adult_females", "yearlings", "calves", "unclassified")


def multipart(
    xml: bytes, attachments: dict[str, bytes], *, incomplete: bool = False
) -> dict[str, Any]:
    """The POST's parts as Collect names them (for TestClient/httpx `files=`)."""
    files: list[tuple[str, tuple[str | None, bytes, str]]] = [
        ("xml_submission_file", ("submission.xml", xml, "text/xml"))
    ]
    files += [(name, (name, data, "image/jpeg")) for name, data in attachments.items()]
    if incomplete:
        files.append(("*isIncomplete*", (None, b"yes", "text/plain")))
    return {"files": files}


class StoredPhotos:
    """The photos in a store's photo table, read back as {(observation id, name): bytes}."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @property
    def stored(self) -> dict[tuple[UUID, str], bytes]:
        found = {}
        for batch in self.store.iter_all_observations():
            for obs in batch:
                for info in self.store.list_photos(obs.id):
                    found[(obs.id, info.name)] = self.store.photo_bytes(obs.id, info.name)
        return found
