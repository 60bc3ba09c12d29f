"""Exports of every observation a filter selects, streamed page by page: GeoJSON and CSV.

Same filters as GET /api/v1/observations, but all pages in one download (for QGIS and R);
`limit` and `next` are accepted and ignored, so a listing URL can be turned into an export.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from data.store import ObservationStore
from domain.records import Observation, ObservationQuery
from domain.wire import CSV_COLUMNS, csv_row, observation_feature
from field_api.deps import Researcher, StoreDep
from field_api.filters import QueryDep

router = APIRouter(prefix="/api/v1", tags=["exports"])

EXPORT_PAGE = 2000
__all__ = ["CSV_COLUMNS", "csv_row"]  # the columns are domain/wire.py's


@router.get("/observations.geojson", response_class=StreamingResponse)
def export_geojson(query: QueryDep, user: Researcher, store: StoreDep) -> StreamingResponse:
    """Every matching observation as one GeoJSON FeatureCollection (RFC 7946), streamed."""
    return StreamingResponse(
        _geojson_chunks(store, query),
        media_type="application/geo+json",
        headers=_attachment("herdwatch-observations.geojson"),
    )


@router.get("/observations.csv", response_class=StreamingResponse)
def export_csv(query: QueryDep, user: Researcher, store: StoreDep) -> StreamingResponse:
    """Every matching observation as CSV (one row each, lon/lat in EPSG:4326), streamed."""
    return StreamingResponse(
        _csv_chunks(store, query),
        media_type="text/csv; charset=utf-8",
        headers=_attachment("herdwatch-observations.csv"),
    )


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def all_observations(
    store: ObservationStore, query: ObservationQuery
) -> Iterator[list[Observation]]:
    """Page after page of the query's observations, from the start (keyset paging)."""
    page_query = replace(query, limit=EXPORT_PAGE, after=None)
    while True:
        page = store.query_observations(page_query)
        if page.items:
            yield page.items
        if page.next_after is None:
            return
        page_query = replace(page_query, after=page.next_after)


def _geojson_chunks(store: ObservationStore, query: ObservationQuery) -> Iterator[str]:
    yield '{"type":"FeatureCollection","features":['
    first = True
    for items in all_observations(store, query):
        text = ",".join(json.dumps(observation_feature(o), separators=(",", ":")) for o in items)
        yield text if first else "," + text
        first = False
    yield "]}"


def _csv_chunks(store: ObservationStore, query: ObservationQuery) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for items in all_observations(store, query):
        writer.writerows(csv_row(o) for o in items)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
