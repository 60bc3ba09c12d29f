"""Herd counts aggregated by period and population, region or equal-area cell."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from domain.records import Period
from field_api.deps import Researcher, SettingsDep, StoreDep
from field_api.filters import QueryDep
from field_api.query_check import DeclaredQueryOnly
from geo.grid import MAX_CELL_KM, MIN_CELL_KM

router = APIRouter(prefix="/api/v1", tags=["counts"], dependencies=[DeclaredQueryOnly])


@router.get("/counts")
def herd_counts(
    query: QueryDep,
    user: Researcher,
    store: StoreDep,
    settings: SettingsDep,
    every: Annotated[Period, Query(description="month, season or year (local time)")] = "year",
    by: Annotated[Literal["population", "region", "cell"], Query()] = "population",
    cell_km: Annotated[
        float, Query(ge=MIN_CELL_KM, le=MAX_CELL_KM, description="cell size for by=cell")
    ] = 50,
) -> dict[str, Any]:
    """Raw sighting totals per period: sums of sightings, not de-duplicated herds."""
    counts = store.herd_counts(
        query, every=every, by=by, cell_size_m=cell_km * 1000, seasons=settings.season_calendar
    )
    return {
        "every": every,
        "by": by,
        "note": "sums of raw sightings; the same herd may be counted more than once",
        "counts": [
            {
                "period": c.period,
                "population": c.population,
                "key": c.key,
                "lon": round(c.lon, 5),
                "lat": round(c.lat, 5),
                "sightings": c.sightings,
                "animals": c.animals,
                "composition": {
                    "adult_males": c.adult_males,
                    "adult_females": c.adult_females,
                    "yearlings": c.yearlings,
                    "calves": c.calves,
                    "unclassified": c.unclassified,
                },
            }
            for c in counts
        ],
    }
