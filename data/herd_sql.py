"""Row ↔ record helpers for herd decisions and sighting columns, shared by both backends."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from data._rows import _as_datetime, utc_text
from data.herds import HerdDecision

DECISION_COLUMNS: tuple[str, ...] = (
    "id",
    "action",
    "observation_ids",
    "other_ids",
    "actor",
    "decided_at",
    "note",
)

# SQLite keeps UTC text and sends its first 19 characters ("YYYY-MM-DDTHH:MM:SS"): numpy
# parses a million of those into whole epoch seconds in 0.05 s, where strftime('%s') took
# 2.3 s, and rounded .9995 s up a second while PostGIS (floor(extract(epoch))) and the
# SightingColumns contract drop the fraction.
SQLITE_SIGHTING_SELECT = (
    "SELECT id, substr(observed_at, 1, 19), local_date, lon, lat, ea_x, "
    "ea_y, count, adult_males, adult_females, yearlings, calves, unclassified, population, "
    "region, survey_id, instr(flags, '\"synthetic\"') > 0 FROM observations"
)


def decision_params(decision: HerdDecision) -> tuple[Any, ...]:
    """Insert parameters (without id) for DECISION_COLUMNS[1:]."""
    if decision.decided_at is None:
        raise ValueError("decided_at must be set before a decision is stored")
    return (
        decision.action,
        json.dumps([str(i) for i in decision.observation_ids]),
        json.dumps([str(i) for i in decision.other_ids]),
        decision.actor,
        utc_text(decision.decided_at),
        decision.note,
    )


def row_to_decision(row: Sequence[Any]) -> HerdDecision:
    did, action, ids, others, actor, decided_at, note = row
    return HerdDecision(
        action=action,
        observation_ids=tuple(UUID(str(i)) for i in _as_list(ids)),
        other_ids=tuple(UUID(str(i)) for i in _as_list(others)),
        actor=actor,
        note=note,
        id=int(did),
        decided_at=_as_datetime(decided_at),
    )


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    loaded: list[Any] = json.loads(value)
    return loaded
