"""Edits as a service: an observer's changes checked by the upload rules, then stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from data.store import ObservationStore, check_editable
from data.uploads import Rejected, UploadRules
from domain.records import Observation


@dataclass(frozen=True, slots=True)
class Edit:
    """Parsed changes to Observation fields, made against `base_revision`."""

    base_revision: int
    changes: dict[str, Any]


def edit_observation(
    store: ObservationStore,
    observation_id: UUID,
    edit: Edit,
    *,
    actor: str,
    rules: UploadRules,
    check_allowed: Callable[[Observation], None],
) -> Observation:
    """Apply an edit: the edited record must pass every upload rule, as a new upload would.

    `check_allowed` raises when `actor` may not change the stored record. Only fields whose
    values really change go to the store; a stale base revision is the store's Conflict.
    """
    current = store.get_observation(observation_id)
    check_allowed(current)
    edited = replace(current, **edit.changes)
    problems = rules.problems(edited, edited.lon, edited.lat)
    if problems:
        raise Rejected(problems)
    changes = {k: v for k, v in edit.changes.items() if v != getattr(current, k)}
    if not changes:
        # Nothing would change: no new revision, which made another device's edit of this
        # one stale for nothing; and a re-sent edit whose answer was lost is answered as
        # the first was, not with a 409 against the revision it made itself.
        check_editable(current, current.revision)  # a retracted record is still gone
        return current
    return store.update_observation(
        observation_id, changes, base_revision=edit.base_revision, actor=actor
    )
