"""Liveness and readiness: answers without a token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from data.records import ObservationQuery
from field_api.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(store: StoreDep) -> dict[str, Any]:
    """The server is up and its store answers a query."""
    store.count_observations(ObservationQuery(limit=1, populations=("unknown",)))
    return {"status": "ok", "store": store.url.split("://", 1)[0]}
