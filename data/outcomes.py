"""The idempotency rule, shared by every backend: what a re-sent observation means."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.i18n import Message
from domain.records import Observation, Outcome


@dataclass(frozen=True, slots=True)
class StoredState:
    """What a store knows about an id already present, enough to classify a re-send."""

    status: str
    revision: int
    content_hash: str
    upload_hash: str
    observer: str = ""  # whose record it is: another observer's id must not leak its content


def classify_resend(
    incoming: Observation,
    incoming_hash: str,
    stored: StoredState,
    load_current: Callable[[], Observation],
) -> Outcome:
    """unchanged, conflict (naming the differing fields) or gone, for an id already stored.

    A re-send of the first upload stays "unchanged" even after the record was edited on
    the server: the tablet is only repeating what it sent, not contradicting the edit.
    """
    if stored.observer and incoming.observer and incoming.observer != stored.observer:
        return Outcome(
            incoming.id,
            "conflict",
            None,
            message=Message("this id is already used by another observer's record"),
        )
    if stored.status == "retracted":
        return Outcome(
            incoming.id, "gone", stored.revision, message=Message("observation was retracted")
        )
    if incoming_hash in (stored.upload_hash, stored.content_hash):
        return Outcome(incoming.id, "unchanged", stored.revision)
    differing = tuple(load_current().differing_fields(incoming))
    return Outcome(
        incoming.id,
        "conflict",
        stored.revision,
        differing=differing,
        message=Message(
            "an observation with this id is already stored with different {fields}",
            fields=", ".join(differing),
        ),
    )
