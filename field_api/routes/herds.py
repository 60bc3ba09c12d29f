"""De-duplicated herds, their candidate matches, and researchers' decisions about them.

The herd grouping (pandas, scipy) loads on the first request that needs it, not at start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from data.herds import HerdDecision
from data.store import ObservationStore
from domain.periods import parse_period
from field_api.deps import HerdCacheDep, Researcher, SettingsDep, StoreDep
from field_api.query_check import DeclaredQueryOnly
from field_api.settings import Settings
from reports.herd_cache import HerdCache

if TYPE_CHECKING:
    from reports.herds import HerdTables

router = APIRouter(prefix="/api/v1/herds", tags=["herds"], dependencies=[DeclaredQueryOnly])


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
    from reports.herd_decisions import record_decision  # pandas: loaded on first use

    decision = record_decision(
        store,
        body.action,
        body.observation_ids,
        actor=user.name,
        note=body.note,
        seasons=settings.season_calendar,
    )
    return JSONResponse(decision_json(decision), status_code=201)


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
    parse_period(every, period, settings.season_calendar)  # PeriodError: a 422 naming the field
    return cache.herds(store, settings.season_calendar)[1]


def _with_ids(tables: HerdTables, page: Any) -> Any:
    from reports.herds import sighting_ids_by_herd  # pandas: loaded on first use

    return page.assign(sighting_ids=sighting_ids_by_herd(tables, page.index))


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
