"""The viewer's filter form: browser form fields ↔ ObservationQuery, and its HTML."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import get_args
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from domain.records import COUNT_METHODS, SURVEY_METHODS, ObservationQuery, Period
from field_api.errors import ApiError
from field_api.filters import observation_query
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

    @classmethod
    def from_request(cls, request: Request, settings: Settings) -> ViewerFilters:
        """Parse the form (checkboxes repeat `population`); a bad value raises ApiError 422."""
        params = request.query_params
        populations = tuple(p for p in params.getlist("population") if p)
        every = params.get("every") or "year"
        if every not in PERIODS:
            raise ApiError(
                422, "invalid_every", "period must be year, season or month", field="every"
            )
        start, end = (_day(params.get(name, ""), name) for name in ("from", "to"))
        method, bbox = params.get("method", ""), params.get("bbox", "").strip()
        query = observation_query(
            settings,
            bbox=bbox or None,
            population=",".join(populations),
            method=method or None,
            datetime_=_interval(start, end),
        )
        return cls(populations, method, start, end, every, bbox, query)  # type: ignore[arg-type]

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
        message = f"{field} must be a date like 2024-07-01"
        raise ApiError(422, "invalid_date", message, field=field) from exc


def _interval(start: str, end: str) -> str | None:
    if not start and not end:
        return None
    first = f"{start}T00:00:00{DAY_OFFSET}" if start else ".."
    last = f"{end}T23:59:59.999999{DAY_OFFSET}" if end else ".."
    return f"{first}/{last}"


def viewer_side_html(filters: ViewerFilters, settings: Settings, *, user: str) -> str:
    """The filter form, the export links for exactly these filters, and sign-out."""
    api = urlencode(filters.api_params())
    map_params = urlencode({**filters.api_params(), "every": filters.every})
    suffix = f"?{api}" if api else ""
    return (
        '<form id="hw-filters" method="get" action="/viewer">'
        f"{_population_boxes(filters, settings)}"
        f"{_method_select(filters.method)}{_dates(filters)}{_every_select(filters.every)}"
        f'<label class="hw-field">Area <input name="bbox" value="{escape(filters.bbox)}" '
        'placeholder="minLon,minLat,maxLon,maxLat"></label>'
        '<button type="submit" id="hw-apply">Show</button></form>'
        '<p class="hw-exports">Export what is shown: '
        f'<a id="hw-export-geojson" href="/api/v1/observations.geojson{suffix}">GeoJSON</a> · '
        f'<a id="hw-export-csv" href="/api/v1/observations.csv{suffix}">CSV</a> · '
        f'<a id="hw-export-map" href="/maps/herd-counts?{map_params}">map as one file</a></p>'
        f'<form method="post" action="/logout" class="hw-user">Signed in as {escape(user)} '
        '<button type="submit">Sign out</button></form>'
        f"<style>{_FORM_CSS}</style>"
    )


def _population_boxes(filters: ViewerFilters, settings: Settings) -> str:
    boxes = []
    for p in settings.populations:
        checked = " checked" if not filters.populations or p in filters.populations else ""
        swatch = f'<span class="hw-swatch" style="background:{population_colour(p)}"></span>'
        box = f'<input type="checkbox" name="population" value="{escape(p)}"{checked}>'
        boxes.append(f"<label>{box}{swatch}{escape(population_label(p))}</label>")
    return f'<fieldset id="hw-populations"><legend>Populations</legend>{"".join(boxes)}</fieldset>'


def _method_select(current: str) -> str:
    options = ['<option value="">any method</option>']
    for group, methods in (("survey", SURVEY_METHODS), ("count", COUNT_METHODS)):
        inner = "".join(
            f'<option value="{m}"{" selected" if m == current else ""}>{m}</option>'
            for m in methods
        )
        options.append(f'<optgroup label="{group} method">{inner}</optgroup>')
    select = f'<select name="method">{"".join(options)}</select>'
    return f'<label class="hw-field">Method {select}</label>'


def _dates(filters: ViewerFilters) -> str:
    return "".join(
        f'<label class="hw-field">{label} <input type="date" name="{name}" value="{value}"></label>'
        for label, name, value in (("From", "from", filters.start), ("To", "to", filters.end))
    )


def _every_select(current: str) -> str:
    options = "".join(
        f'<option value="{p}"{" selected" if p == current else ""}>{p}</option>' for p in PERIODS
    )
    return f'<label class="hw-field">Period <select name="every">{options}</select></label>'


def error_page(status: int, message: str, *, filters_back: bool = False) -> HTMLResponse:
    """A plain page for a browser (the API answers problem+json instead)."""
    html = render_page("error.html", message=message, filters_back=filters_back)
    return HTMLResponse(html, status_code=status)


_FORM_CSS = """
#hw-filters { display: grid; gap: .35rem; margin-bottom: .6rem; }
#hw-populations { border: 1px solid #ddd; padding: .3rem .5rem; margin: 0;
  display: grid; grid-template-columns: 1fr 1fr; gap: .1rem .4rem; }
#hw-populations label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.hw-field { display: flex; justify-content: space-between; align-items: center; gap: .5rem; }
.hw-field input, .hw-field select { flex: 1; max-width: 14rem; font-size: .85rem; }
#hw-apply { justify-self: start; padding: .25rem 1.2rem; }
.hw-exports { margin: .4rem 0; }
.hw-user { color: #555; font-size: .78rem; margin-bottom: .5rem; }
"""
