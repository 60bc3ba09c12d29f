"""Population reports over HTTP: the same report as `herdwatch report`, as HTML, PDF or CSV.

The report libraries (pandas, matplotlib, reportlab) load on the first report asked for,
not when a worker starts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from domain.i18n import Message
from domain.periods import parse_period
from field_api.deps import HerdCacheDep, Researcher, SettingsDep, StoreDep
from field_api.errors import ApiError
from field_api.language import language_headers, request_language
from field_api.query_check import DeclaredQueryOnly
from reports.formats import CSV_TABLES

router = APIRouter(prefix="/api/v1", tags=["reports"], dependencies=[DeclaredQueryOnly])
REPORT_FORMATS = ("html", "pdf", "csv")


@router.get("/reports", response_class=Response)
def population_report(
    request: Request,
    user: Researcher,
    store: StoreDep,
    settings: SettingsDep,
    cache: HerdCacheDep,
    every: Annotated[str, Query(description="month, season or year (local time)")] = "",
    period: Annotated[str, Query(description="2024, 2024-07 or 2024-calving")] = "",
    format: Annotated[str, Query(description="html, pdf or csv")] = "html",
    table: Annotated[str, Query(description=f"format=csv: {', '.join(CSV_TABLES)}")] = "summary",
    lang: Annotated[
        str | None, Query(description="en or ru; else the cookie, then Accept-Language")
    ] = None,
) -> Response:
    """De-duplicated herd counts, composition, effort and trend for one period, in the
    request's language (the file names stay the same ASCII in every language)."""
    if format not in REPORT_FORMATS:
        must = Message("format must be html, pdf or csv")
        raise ApiError(422, "invalid_format", must, field="format")
    if table not in CSV_TABLES:
        raise ApiError(
            422,
            "invalid_table",
            Message("table must be one of {known}", known=", ".join(CSV_TABLES)),
            field="table",
        )
    from reports.served import kept_report, report_bytes

    seasons = settings.season_calendar
    parse_period(every, period, seasons)  # PeriodError: a 422 naming the field
    # Kept with the herds while the data are unchanged: asked again, the very same bytes.
    report = kept_report(cache, store, seasons, settings.census, every, period)
    if len(report.herds) == 0:
        absent = Message("no sightings in {every} {period}", every=every, period=period)
        raise ApiError(404, "no_sightings", absent, field="period")
    stem = f"herdwatch-{report.period.every}-{report.period.key}"
    # `lang` is declared for the API description; request_language reads it first, then
    # the viewer's cookie and Accept-Language, as every translated answer does.
    chosen = request_language(request)
    body = report_bytes(cache, store, seasons, report, format, table, chosen)
    headers = language_headers(chosen)
    if format == "pdf":
        inline = {"Content-Disposition": f'inline; filename="{stem}.pdf"'}
        return Response(body, media_type="application/pdf", headers={**inline, **headers})
    if format == "csv":
        attached = {"Content-Disposition": f'attachment; filename="{stem}-{table}.csv"'}
        return Response(body, media_type="text/csv; charset=utf-8", headers={**attached, **headers})
    return HTMLResponse(body, headers=headers)
