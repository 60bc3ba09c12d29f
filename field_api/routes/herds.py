"""De-duplicated herds, their candidate matches, and researchers' decisions about them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from data.herds import HerdDecision
from data.store import ObservationStore
from domain.errors import NotFound
from field_api.deps import Researcher, SettingsDep, StoreDep
from field_api.errors import ApiError
from field_api.herd_cache import HerdCache, HerdCacheDep
from field_api.settings import Settings
from reports.herds import HerdTables, build_herds, herd_members, inputs_around
from reports.periods import PeriodError, parse_period

router = APIRouter(prefix="/api/v1/herds", tags=["herds"])
_PAIR_ACTIONS = {"confirm", "reject"}


class HerdDecisionIn(BaseModel):
    """confirm/reject: two sightings; merge: two or more; split: the sightings to split off."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["confirm", "reject", "merge", "split"]
    observation_ids: list[UUID] = Field(min_length=1, max_length=1000)
    note: str | None = Field(None, max_length=2000)


def decision_json(d: HerdDecision) -> dict[str, Any]:
    return {
        "id": d.id,
        "action": d.action,
        "observation_ids": [str(i) for i in d.observation_ids],
        "other_ids": [str(i) for i in d.other_ids],
        "actor": d.actor,
        "decided_at": d.decided_at.isoformat() if d.decided_at else None,
        "note": d.note,
    }


@router.post("/decisions", status_code=201)
def add_decision(
    body: HerdDecisionIn, user: Researcher, store: StoreDep, settings: SettingsDep
) -> JSONResponse:
    """Record a decision (kept with who and when); the next report follows it."""
    ids = list(dict.fromkeys(body.observation_ids))  # de-duplicated, order kept
    _check_count(body.action, ids)
    epochs = [_epoch(store, oid, k) for k, oid in enumerate(ids)]
    others: tuple[UUID, ...] = ()
    if body.action == "split":
        others = _rest_of_herd(store, settings, ids, epochs)
    decision = HerdDecision(
        body.action, tuple(ids), actor=user.name, other_ids=others, note=body.note
    )
    return JSONResponse(decision_json(store.add_herd_decision(decision)), status_code=201)


def _check_count(action: str, ids: list[UUID]) -> None:
    if action in _PAIR_ACTIONS and len(ids) != 2:
        raise ApiError(
            422,
            "invalid_decision",
            f"{action} names exactly two different sightings",
            field="observation_ids",
        )
    if action == "merge" and len(ids) < 2:
        raise ApiError(
            422,
            "invalid_decision",
            "merge names two or more different sightings",
            field="observation_ids",
        )


def _epoch(store: ObservationStore, oid: UUID, index: int) -> float:
    try:
        obs = store.get_observation(oid)
    except NotFound as exc:
        raise ApiError(
            422,
            "unknown_observation",
            f"no observation with id {oid}",
            field=f"observation_ids[{index}]",
        ) from exc
    if obs.status != "active":
        raise ApiError(
            422,
            "retracted_observation",
            f"observation {oid} was retracted",
            field=f"observation_ids[{index}]",
        )
    return obs.observed_at.timestamp()


def _rest_of_herd(
    store: ObservationStore, settings: Settings, ids: list[UUID], epochs: list[float]
) -> tuple[UUID, ...]:
    """The herd's other sightings now, stored with the split so replays never depend on data."""
    inputs = inputs_around(store, epochs, seasons=settings.season_calendar)
    try:
        members = herd_members(inputs, build_herds(inputs), [str(i) for i in ids])
    except ValueError as exc:
        raise ApiError(422, "invalid_split", str(exc), field="observation_ids") from exc
    others = tuple(UUID(m) for m in members if UUID(m) not in set(ids))
    if not others:
        raise ApiError(
            422,
            "invalid_split",
            "these sightings already form a herd of their own",
            field="observation_ids",
        )
    return others


@router.get("/decisions")
def list_decisions(user: Researcher, store: StoreDep) -> dict[str, Any]:
    """Every decision, oldest first: the audit trail of merges and splits."""
    return {"decisions": [decision_json(d) for d in store.list_herd_decisions()]}


@router.get("")
def list_herds(
    user: Researcher,
    store: StoreDep,
    settings: SettingsDep,
    cache: HerdCacheDep,
    every: Annotated[str, Query(description="month, season or year")] = "year",
    period: Annotated[str, Query(description="2024, 2024-07 or 2024-calving")] = "",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The period's de-duplicated herds as GeoJSON points, with the sightings each merged."""
    tables = _tables(store, settings, cache, every, period)
    herds = tables.herds[tables.herds[every] == period]
    page = herds.iloc[offset : offset + limit]
    features = [_herd_feature(row) for _, row in _with_ids(tables, page).iterrows()]
    more = offset + limit < len(herds)
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": len(herds),
        "next_offset": offset + limit if more else None,
    }


@router.get("/candidates")
def list_candidates(
    user: Researcher,
    store: StoreDep,
    settings: SettingsDep,
    cache: HerdCacheDep,
    every: Annotated[str, Query()] = "year",
    period: Annotated[str, Query()] = "",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    """Candidate matches in the period and whether the rule (or a decision) joined them."""
    tables = _tables(store, settings, cache, every, period)
    cand = tables.grouping.candidates
    ids = tables.sightings["id"].to_numpy()
    herd = tables.sightings["herd"].to_numpy()
    in_period = tables.herds[every].to_numpy()[herd[cand.i]] == period
    rows = [
        {
            "a": ids[i],
            "b": ids[j],
            "km": round(float(km), 3),
            "hours": round(float(h), 3),
            "same_herd": bool(herd[i] == herd[j]),
        }
        for i, j, km, h in zip(
            cand.i[in_period],
            cand.j[in_period],
            cand.km[in_period],
            cand.hours[in_period],
            strict=True,
        )
    ][:limit]
    return {"every": every, "period": period, "candidates": rows}


def _tables(
    store: ObservationStore, settings: Settings, cache: HerdCache, every: str, period: str
) -> HerdTables:
    try:
        parse_period(every, period, settings.season_calendar)
    except PeriodError as exc:
        raise ApiError(422, f"invalid_{exc.field}", exc.message, field=exc.field) from exc
    return cache.herds(store, settings.season_calendar)[1]


def _with_ids(tables: HerdTables, page: Any) -> Any:
    ids = tables.sightings[tables.sightings["herd"].isin(page.index)].groupby("herd")["id"]
    return page.assign(sighting_ids=ids.agg(" ".join))


def _herd_feature(row: Any) -> dict[str, Any]:
    props = {
        "herd_id": row["herd_id"],
        "population": row["population"],
        "area": row["area"],
        "size": int(row["size"]),
        "sightings": int(row["sightings"]),
        "sighting_ids": row["sighting_ids"].split(),
        "survey_id": row["survey_id"] or None,
        "first_seen": datetime.fromtimestamp(row["first_seen"], UTC).isoformat(),
    }
    point = [round(float(row["lon"]), 6), round(float(row["lat"]), 6)]
    return {
        "type": "Feature",
        "id": row["herd_id"],
        "properties": props,
        "geometry": {"type": "Point", "coordinates": point},
    }
