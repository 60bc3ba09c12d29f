"""Researchers' decisions about herds (confirm, reject, merge, split): the rules, HTTP-free.

A decision names sightings by id; it is checked against the store (each sighting exists
and is active, the count suits the action) and recorded with who made it. A split also
stores the herd's other sightings as they are now, so replaying it never depends on data
that came later.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from data.herds import DecisionAction, HerdDecision
from data.store import ObservationStore
from domain.errors import InvalidInput, NotFound
from domain.i18n import Message
from domain.seasons import SeasonCalendar
from reports.herds import build_herds, herd_members, inputs_around

_PAIR_ACTIONS = {"confirm", "reject"}


def record_decision(
    store: ObservationStore,
    action: DecisionAction,
    observation_ids: Sequence[UUID],
    *,
    actor: str,
    note: str | None = None,
    seasons: SeasonCalendar | None = None,
) -> HerdDecision:
    """Check a decision against the rules and the store, then store it; InvalidInput if not."""
    ids = list(dict.fromkeys(observation_ids))  # de-duplicated, order kept
    check_count(action, ids)
    epochs = [_epoch(store, oid, k) for k, oid in enumerate(ids)]
    others: tuple[UUID, ...] = ()
    if action == "split":
        others = rest_of_herd(store, ids, epochs, seasons=seasons)
    decision = HerdDecision(action, tuple(ids), actor=actor, other_ids=others, note=note)
    return store.add_herd_decision(decision)


def check_count(action: str, ids: Sequence[UUID]) -> None:
    """confirm and reject name exactly two sightings; merge two or more."""
    if action in _PAIR_ACTIONS and len(ids) != 2:
        raise InvalidInput(
            Message("{action} names exactly two different sightings", action=str(action)),
            field="observation_ids",
            code="invalid_decision",
        )
    if action == "merge" and len(ids) < 2:
        raise InvalidInput(
            Message("merge names two or more different sightings"),
            field="observation_ids",
            code="invalid_decision",
        )


def _epoch(store: ObservationStore, oid: UUID, index: int) -> float:
    """When an active sighting was made (seconds); InvalidInput naming its place otherwise."""
    field = f"observation_ids[{index}]"
    try:
        obs = store.get_observation(oid)
    except NotFound as exc:
        raise InvalidInput(
            Message("no observation with id {oid}", oid=str(oid)),
            field=field,
            code="unknown_observation",
        ) from exc
    if obs.status != "active":
        raise InvalidInput(
            Message("observation {oid} was retracted", oid=str(oid)),
            field=field,
            code="retracted_observation",
        )
    return obs.observed_at.timestamp()


def rest_of_herd(
    store: ObservationStore,
    ids: Sequence[UUID],
    epochs: Sequence[float],
    *,
    seasons: SeasonCalendar | None = None,
) -> tuple[UUID, ...]:
    """The herd's other sightings now, stored with the split so replays never depend on data."""
    inputs = inputs_around(store, epochs, seasons=seasons)
    try:
        members = herd_members(inputs, build_herds(inputs), [str(i) for i in ids])
    except ValueError as exc:
        raise InvalidInput(str(exc), field="observation_ids", code="invalid_split") from exc
    chosen = set(ids)
    others = tuple(UUID(m) for m in members if UUID(m) not in chosen)
    if not others:
        raise InvalidInput(
            Message("these sightings already form a herd of their own"),
            field="observation_ids",
            code="invalid_split",
        )
    return others
