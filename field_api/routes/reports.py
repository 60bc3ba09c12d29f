"""Population reports over HTTP: the same report as `herdwatch report`, as HTML, PDF or CSV.

The report libraries (pandas, matplotlib, reportlab) load on the first report asked for,
not when a worker starts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from data.store import ObservationStore
from domain.periods import parse_period
from field_api.deps import HerdCacheDep, Researcher, SettingsDep, StoreDep
from field_api.errors import ApiError
from field_api.settings import Settings
from reports.formats import CSV_TABLES
from reports.herd_cache import HerdCache

if TYPE_CHECKING:
    from reports.population import PopulationReport

router = APIRouter(prefix="/api/v1", tags=["reports"])
REPORT_FORMATS = ("html", "pdf", "csv")


@router.get("/reports", response_class=Response)
def population_report(
    user: Researcher,
    store: StoreDep,
    settings: SettingsDep,
    cache: HerdCacheDep,
    every: Annotated[str, Query(description="month, season or year (local time)")] = "",
    period: Annotated[str, Query(description="2024, 2024-07 or 2024-calving")] = "",
    format: Annotated[str, Query(description="html, pdf or csv")] = "html",
    table: Annotated[str, Query(description=f"format=csv: {', '.join(CSV_TABLES)}")] = "summary",
) -> Response:
    """De-duplicated herd counts, composition, effort and trend for one period."""
    if format not in REPORT_FORMATS:
        raise ApiError(422, "invalid_format", "format must be html, pdf or csv", field="format")
    if table not in CSV_TABLES:
        raise ApiError(
            422, "invalid_table", f"table must be one of {', '.join(CSV_TABLES)}", field="table"
        )
    from reports.render import to_csv, to_html, to_pdf

    report = _report(store, settings, cache, every, period)
    stem = f"herdwatch-{report.period.every}-{report.period.key}"
    if format == "pdf":
        inline = {"Content-Disposition": f'inline; filename="{stem}.pdf"'}
        return Response(to_pdf(report), media_type="application/pdf", headers=inline)
    if format == "csv":
        attached = {"Content-Disposition": f'attachment; filename="{stem}-{table}.csv"'}
        csv_text = to_csv(report, table)
        return Response(csv_text, media_type="text/csv; charset=utf-8", headers=attached)
    return HTMLResponse(to_html(report))


def _report(
    store: ObservationStore, settings: Settings, cache: HerdCache, every: str, period: str
) -> PopulationReport:
    from reports.population import compute_report

    seasons = settings.season_calendar
    parse_period(every, period, seasons)  # PeriodError: a 422 naming the field
    inputs, herds = cache.herds(store, seasons)
    report = compute_report(
        inputs, herds, every, period, generated_at=datetime.now(UTC), census=settings.census
    )
    if len(report.herds) == 0:
        raise ApiError(404, "no_sightings", f"no sightings in {every} {period}", field="period")
    return report
