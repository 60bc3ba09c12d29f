"""The change feed tablets sync from: what changed after a cursor."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from field_api.deps import Reader, StoreDep
from field_api.query_check import DeclaredQueryOnly
from field_api.schemas import observation_feature

router = APIRouter(prefix="/api/v1", tags=["sync"], dependencies=[DeclaredQueryOnly])


@router.get("/changes")
def list_changes(
    request: Request,
    user: Reader,
    store: StoreDep,
    since: Annotated[
        int,
        Query(ge=0, le=2**63 - 1, description="cursor from the last call; 0 for everything"),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    """Observations created, edited or retracted after `since`, oldest change first."""
    observer = user.name if user.role == "observer" else None
    changed, cursor = store.changes_since(since, limit=limit, observer=observer)
    more = len(changed) == limit
    next_url = str(request.url.include_query_params(since=cursor)) if more else None
    return {
        "type": "FeatureCollection",
        "features": [observation_feature(o) for o in changed],
        "cursor": cursor,
        "more": more,
        "next": next_url,
    }
