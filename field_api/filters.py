"""Query-string filters shared by listings, counts, maps and reports."""

from __future__ import annotations

import base64
import binascii
import math
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from domain.errors import InvalidInput
from domain.i18n import Message
from domain.records import COUNT_METHODS, SURVEY_METHODS, ObservationQuery
from field_api.deps import SettingsDep
from field_api.settings import Settings


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """ "minLon,minLat,maxLon,maxLat" (min_lon > max_lon means the box crosses 180°)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):  # "NaN" parses
        raise InvalidInput(
            Message("bbox must be four numbers: minLon,minLat,maxLon,maxLat"),
            field="bbox",
            code="invalid_bbox",
        )
    min_lon, min_lat, max_lon, max_lat = values
    if not all(-180 <= v <= 180 for v in (min_lon, max_lon)) or not all(
        -90 <= v <= 90 for v in (min_lat, max_lat)
    ):
        raise InvalidInput(
            Message("bbox longitudes must be within -180..180 and latitudes within -90..90"),
            field="bbox",
            code="invalid_bbox",
        )
    if min_lat > max_lat:
        raise InvalidInput(
            Message("bbox minLat is greater than maxLat"), field="bbox", code="invalid_bbox"
        )
    return min_lon, min_lat, max_lon, max_lat


def parse_datetime_interval(text: str) -> tuple[datetime | None, datetime | None]:
    """RFC 3339 "start/end" with ".." or "" for an open end, or a single instant."""
    start_text, slash, end_text = text.partition("/")
    start = _instant(start_text)
    end = _instant(end_text) if slash else start
    if start and end and start > end:
        raise InvalidInput(
            Message("datetime start is after its end"), field="datetime", code="invalid_datetime"
        )
    return start, end


def _instant(text: str) -> datetime | None:
    if text in ("", ".."):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(
            Message(
                "datetime {text} must be RFC 3339 with an offset, e.g. 2024-06-01T00:00:00Z",
                text=repr(text),
            ),
            field="datetime",
            code="invalid_datetime",
        )
    return moment


def split_list(text: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (text or "").split(",") if v.strip())


def encode_cursor(after: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(f"{after[0]}|{after[1]}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        observed_at, _, oid = raw.partition("|")
        datetime.fromisoformat(observed_at)
        if not oid:
            raise ValueError(oid)
        return observed_at, oid
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(
            Message("next is not a cursor this server made"), field="next", code="invalid_cursor"
        ) from exc


def observation_query(
    settings: Settings,
    *,
    bbox: str | None = None,
    datetime_: str | None = None,
    population: str | None = None,
    method: str | None = None,
    survey: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> ObservationQuery:
    """An ObservationQuery from query-string values; InvalidInput names any bad one."""
    start, end = parse_datetime_interval(datetime_) if datetime_ else (None, None)
    populations = split_list(population)
    unknown = [p for p in populations if p not in settings.populations]
    if unknown:
        raise InvalidInput(
            Message(
                "population {unknown} is not one of {known}",
                unknown=str(", ".join(unknown)),
                known=str(", ".join(settings.populations)),
            ),
            field="population",
            code="unknown_population",
        )
    methods = split_list(method)
    bad = [m for m in methods if m not in COUNT_METHODS + SURVEY_METHODS]
    if bad:
        raise InvalidInput(
            Message(
                "method {bad} is not one of {known}",
                bad=str(", ".join(bad)),
                known=str(", ".join(SURVEY_METHODS + COUNT_METHODS)),
            ),
            field="method",
            code="unknown_method",
        )
    size = settings.page_limit_default if limit is None else limit
    if not 1 <= size <= settings.page_limit_max:
        raise InvalidInput(
            Message(
                "limit must be between 1 and {page_limit_max}",
                page_limit_max=str(settings.page_limit_max),
            ),
            field="limit",
            code="invalid_limit",
        )
    return ObservationQuery(
        bbox=parse_bbox(bbox) if bbox else None,
        start=start,
        end=end,
        populations=populations,
        methods=tuple(m for m in methods if m in COUNT_METHODS),
        survey_methods=tuple(m for m in methods if m in SURVEY_METHODS),
        survey_id=survey or None,
        limit=size,
        after=decode_cursor(cursor) if cursor else None,
    )


def query_from_params(
    settings: SettingsDep,
    bbox: Annotated[
        str | None, Query(description="minLon,minLat,maxLon,maxLat (EPSG:4326)")
    ] = None,
    datetime: Annotated[
        str | None, Query(description="RFC 3339 start/end; '..' leaves an end open")
    ] = None,
    population: Annotated[str | None, Query(description="population ids, comma-separated")] = None,
    method: Annotated[
        str | None,
        Query(
            description="survey method (aerial, snowmobile, foot, camera, collar) "
            "or count method (visual, photo, estimate)"
        ),
    ] = None,
    survey: Annotated[str | None, Query(description="survey id")] = None,
    limit: Annotated[str | None, Query(description="page size")] = None,
    next: Annotated[
        str | None, Query(description="cursor from the previous page's next link")
    ] = None,
) -> ObservationQuery:
    """FastAPI dependency: the filters of every listing, checked with field-naming errors."""
    return observation_query(
        settings,
        bbox=bbox,
        datetime_=datetime,
        population=population,
        method=method,
        survey=survey,
        limit=_int_param(limit, "limit"),
        cursor=next,
    )


def _int_param(text: str | None, name: str) -> int | None:
    if text is None or text == "":  # `limit=` as a form leaves an empty field: not given
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise InvalidInput(
            Message("{name} must be a whole number, not {text}", name=str(name), text=repr(text)),
            field=name,
            code=f"invalid_{name}",
        ) from exc


QueryDep = Annotated[ObservationQuery, Depends(query_from_params)]
