"""What the server remembers of each OpenRosa submission (ODK Collect, KoboCollect)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import DomainError, InvalidInput


@dataclass(frozen=True, slots=True)
class Instance:
    """A received form instance: the observation and revision it produced, and its XML's hash.

    The instanceID is the key: a re-send is known by it, and an edit (meta/deprecatedID
    naming it) is based on `revision`.
    """

    instance_id: UUID
    observation_id: UUID
    revision: int
    xml_sha256: str
    observer: str
    deprecated_id: UUID | None = None
    received_at: datetime | None = None


class SubmissionRefused(InvalidInput):
    """A submission that is not an instance of the served form (XML, form id, meta)."""

    code = "submission_refused"


class NotAllowed(DomainError):
    """The user may not do this (an observer editing another's observation)."""

    code = "forbidden"
