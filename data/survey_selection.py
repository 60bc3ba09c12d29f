"""Surveys that match a method, a bbox and a time window, and the surveys' extent (the OGC
`surveys` collection). Surveys are few (a flight, a route, a deployment each), so they are
read whole and filtered here rather than in SQL."""

from __future__ import annotations

from datetime import datetime

from data.store import ObservationStore
from domain.records import Extent, Survey

BBox = tuple[float, float, float, float]


def all_surveys(store: ObservationStore) -> list[Survey]:
    """Every survey, by id."""
    found: list[Survey] = []
    while True:
        page = store.list_surveys(limit=1000, after=found[-1].id if found else None)
        found += page
        if len(page) < 1000:
            return found


def matching_surveys(
    store: ObservationStore,
    *,
    method: str | None = None,
    bbox: BBox | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Survey]:
    """Surveys of the method whose time overlaps [start, end] and whose track or area
    meets the bbox (a survey without geometry meets none)."""
    return [
        s
        for s in all_surveys(store)
        if (method is None or s.method == method)
        and _in_time(s, start, end)
        and (bbox is None or _meets(s, bbox))
    ]


def survey_extent(store: ObservationStore) -> Extent | None:
    """The box around every survey's geometry and the span of their times."""
    from shapely.geometry import shape

    surveys = all_surveys(store)
    boxes = [shape(s.geometry).bounds for s in surveys if s.geometry]
    if not boxes:
        return None
    return Extent(
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
        min(s.started_at for s in surveys),
        max(s.ended_at or s.started_at for s in surveys),
    )


def _in_time(survey: Survey, start: datetime | None, end: datetime | None) -> bool:
    finished = survey.ended_at or survey.started_at
    return (start is None or finished >= start) and (end is None or survey.started_at <= end)


def _meets(survey: Survey, bbox: BBox) -> bool:
    from shapely.geometry import box, shape

    if not survey.geometry:
        return False
    west, south, east, north = bbox
    boxes = (
        [box(west, south, east, north)]
        if west <= east  # else the box crosses 180°: one part each side
        else [box(west, south, 180, north), box(-180, south, east, north)]
    )
    geometry = shape(survey.geometry)
    return any(b.intersects(geometry) for b in boxes)
