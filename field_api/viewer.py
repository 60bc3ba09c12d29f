"""The viewer's filter form: browser form fields ↔ ObservationQuery; its HTML is a template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import get_args
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from domain.i18n import Message, Translator, text, translator
from domain.records import COUNT_METHODS, SURVEY_METHODS, ObservationQuery, Period
from domain.terms import COUNT_METHOD_NAMES, PERIOD_NAMES, SURVEY_METHOD_NAMES, name_of
from field_api.errors import ApiError
from field_api.filters import observation_query
from field_api.language import language_headers
from field_api.pages import render_page
from field_api.settings import Settings
from maps.style import population_colour, population_label

# Form dates are whole days in Yakutsk time (UTC+9), where most survey teams keep their logs.
DAY_OFFSET = "+09:00"
PERIODS: tuple[str, ...] = get_args(Period)


@dataclass(frozen=True, slots=True)
class ViewerFilters:
    """What the form asked for, both as the store's query and as API query parameters."""

    populations: tuple[str, ...]
    method: str
    start: str  # YYYY-MM-DD or ""
    end: str
    every: Period
    bbox: str
    query: ObservationQuery
    view: str = "herds"  # de-duplicated herds (the report's counts), or raw "sightings"

    @classmethod
    def from_request(cls, request: Request, settings: Settings) -> ViewerFilters:
        """Parse the form (checkboxes repeat `population`); a bad value raises ApiError 422."""
        params = request.query_params
        populations = tuple(p for p in params.getlist("population") if p)
        every = params.get("every") or "year"
        if every not in PERIODS:
            raise ApiError(
                422,
                "invalid_every",
                Message("period must be year, season or month"),
                field="every",
            )
        start, end = (_day(params.get(name, ""), name) for name in ("from", "to"))
        method, bbox = params.get("method", ""), params.get("bbox", "").strip()
        view = params.get("view") or "herds"
        if view not in ("herds", "sightings"):
            must = Message("view must be herds or sightings")
            raise ApiError(422, "invalid_view", must, field="view")
        query = observation_query(
            settings,
            bbox=bbox or None,
            population=",".join(populations),
            method=method or None,
            datetime_=_interval(start, end),
        )
        return cls(populations, method, start, end, every, bbox, query, view)  # type: ignore[arg-type]

    def api_params(self) -> dict[str, str]:
        """The same filters as GET /api/v1/observations takes them."""
        params = {
            "population": ",".join(self.populations),
            "method": self.method,
            "datetime": _interval(self.start, self.end) or "",
            "bbox": self.bbox,
        }
        return {k: v for k, v in params.items() if v}


def _day(text: str, field: str) -> str:
    if not text:
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        message = Message("{field} must be a date like 2024-07-01", field=field)
        raise ApiError(422, "invalid_date", message, field=field) from exc


def _interval(start: str, end: str) -> str | None:
    if not start and not end:
        return None
    first = f"{start}T00:00:00{DAY_OFFSET}" if start else ".."
    last = f"{end}T23:59:59.999999{DAY_OFFSET}" if end else ".."
    return f"{first}/{last}"


def viewer_side_html(
    filters: ViewerFilters, settings: Settings, *, user: str, t: Translator | None = None
) -> str:
    """The filter form, the export links for exactly these filters, and sign-out, in t's
    language (English when None): the options' values stay codes, their text is translated."""
    t = t or translator()
    api = urlencode(filters.api_params())
    survey = [(m, name_of(SURVEY_METHOD_NAMES, m, t)) for m in SURVEY_METHODS]
    count = [(m, name_of(COUNT_METHOD_NAMES, m, t)) for m in COUNT_METHODS]
    return render_page(
        "viewer_side.html",
        t,
        filters=filters,
        populations=[
            (p, population_label(p, t), population_colour(p)) for p in settings.populations
        ],
        method_groups=((t.gettext("survey method"), survey), (t.gettext("count method"), count)),
        periods=[(p, name_of(PERIOD_NAMES, p, t)) for p in PERIODS],
        api_query=f"?{api}" if api else "",
        map_query=urlencode({**filters.api_params(), "every": filters.every, "view": filters.view}),
        user=user,
    )


def error_page(
    status: int,
    message: str | Message,
    *,
    filters_back: bool = False,
    t: Translator | None = None,
    language_switch: Markup | str = "",
) -> HTMLResponse:
    """A plain page for a browser (the API answers problem+json instead), in t's language."""
    t = t or translator()
    html = render_page(
        "error.html",
        t,
        message=text(message, t),
        filters_back=filters_back,
        language_switch=language_switch,
    )
    return HTMLResponse(html, status_code=status, headers=language_headers(t.lang))
