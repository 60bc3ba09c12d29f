"""Records for moving a whole store (`herdwatch transfer`): what the API never shows.

An Observation alone cannot be copied faithfully: the hash of its first upload (which keeps
re-sends "unchanged" after an edit) and its place in the change feed live beside it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from domain.records import Observation, Revision, Survey, User, _canonical, observation_to_dict


@dataclass(frozen=True, slots=True)
class StoredObservation:
    """An observation with the server-side bookkeeping a faithful copy needs."""

    observation: Observation
    upload_hash: str
    change_seq: int


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A token as stored: only its hash, never the token."""

    token_hash: str
    user_name: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Accounts:
    """Every user and token hash of a store."""

    users: list[User]
    tokens: list[TokenRecord]


def _digest(data: Any) -> str:
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def stored_observation_hash(item: StoredObservation) -> str:
    """SHA-256 over every field of the record and its bookkeeping (for transfer checks)."""
    data = observation_to_dict(item.observation)
    return _digest([data, item.upload_hash, item.change_seq])


def revision_hash(revision: Revision) -> str:
    """SHA-256 over every field of an audit entry."""
    r = revision  # no asdict(): it deep-copies both snapshots, the slowest part of a check
    return _digest(
        [
            r.seq,
            str(r.observation_id),
            r.revision,
            r.action,
            r.actor,
            _canonical(r.at),
            r.before,
            r.after,
            r.reason,
        ]
    )


def survey_hash(survey: Survey) -> str:
    """SHA-256 over every field of a survey, server fields included."""
    return _digest({k: _canonical(v) for k, v in asdict(survey).items()})
