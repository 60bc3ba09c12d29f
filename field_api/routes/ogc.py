"""OGC API – Features Part 1 at /ogc: landing page, conformance, the OpenAPI 3.0 definition,
and the collections `observations`, `herds` and `surveys` (GeoJSON, or HTML for browsers).

The landing page, conformance and API definition are open (they hold no data); the
collections need a bearer token, with the API's roles: observers see their own sightings,
herds are for researchers and admins. Unknown or invalid parameters answer 400, as the
standard asks; a `limit` above the maximum is lowered to it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from data.store import ObservationStore
from data.survey_selection import matching_surveys, survey_extent
from domain.errors import InvalidInput, NotFound
from domain.i18n import N_, Message, Translator
from domain.records import COUNT_METHODS, SURVEY_METHODS, Extent, ObservationQuery, User, utc_iso
from domain.terms import COMPOSITION_NAMES
from field_api import ogc_documents as docs
from field_api.deps import HerdCacheDep, Reader, SettingsDep, StoreDep, may_read
from field_api.errors import ApiError
from field_api.filters import (
    decode_cursor,
    encode_cursor,
    observation_query,
    parse_bbox,
    parse_datetime_interval,
    split_list,
)
from field_api.language import language_headers, request_translator
from field_api.pages import language_switch, render_page
from field_api.schemas import survey_json
from field_api.settings import Settings

router = APIRouter(prefix="/ogc", tags=["ogc"])
MATCHED_UP_TO = 10_000  # numberMatched is given when counting stops at this many rows
EVERY = ("year", "season", "month")


# --- plumbing ---------------------------------------------------------------------------


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _params(request: Request, allowed: set[str]) -> dict[str, str]:
    """The query string, with 400 for a parameter this resource does not define."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise ApiError(
            400,
            "unknown_parameter",
            Message(
                "unknown parameter {name}; this resource takes {known}",
                name=repr(unknown[0]),
                known=", ".join(sorted(allowed)),
            ),
            field=unknown[0],
        )
    return dict(request.query_params)


def _wants_html(request: Request, params: dict[str, str]) -> bool:
    f = params.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise ApiError(400, "invalid_f", Message("f must be json or html"), field="f")
        return f == "html"
    accept = request.headers.get("accept", "")
    return accept.startswith("text/html")  # a browser; GIS clients ask for JSON


def _answer(
    request: Request, params: dict[str, str], body: dict[str, Any], media: str = docs.JSON
) -> Response:
    """The document as JSON, or as an HTML page listing its links when a browser asks; its
    titles and descriptions in the request's language (data and ids stay as they are)."""
    t = request_translator(request)
    body = docs.localized(body, t)
    if not _wants_html(request, params):
        return JSONResponse(body, media_type=media, headers=language_headers(t.lang))
    page = render_page(
        "ogc_page.html",
        t,
        base=_base(request),
        title=body.get("title") or body.get("id") or t.gettext("Conformance"),
        description=body.get("description"),
        collections=body.get("collections", []),
        links=body.get("links", []),
        document=json.dumps(body, indent=2, ensure_ascii=False),
        language_switch=language_switch(request, t),
    )
    return HTMLResponse(page, headers=language_headers(t.lang))


def _bad(exc: InvalidInput) -> ApiError:
    """A filter error as the standard's 400 (the API's own listings answer 422)."""
    return ApiError(400, exc.code, exc.message, field=exc.field)


def _check_crs(params: dict[str, str]) -> None:
    for name in ("crs", "bbox-crs"):
        if params.get(name, docs.CRS84) != docs.CRS84:
            must = Message("{name} must be {crs}", name=name, crs=docs.CRS84)
            raise ApiError(400, f"invalid_{name}", must, field=name)


def _limit(text: str | None, settings: Settings) -> int:
    if text is None:
        return settings.page_limit_default
    try:
        value = int(text)
    except ValueError as exc:
        raise ApiError(
            400,
            "invalid_limit",
            Message("limit must be a whole number, not {value}", value=repr(text)),
            field="limit",
        ) from exc
    if value < 1:
        raise ApiError(400, "invalid_limit", Message("limit must be at least 1"), field="limit")
    return min(value, settings.page_limit_max)  # clamped, not refused (/req/core/fc-limit-response)


def _offset(text: str | None) -> int:
    try:
        value = int(text or "0")
    except ValueError:
        value = -1
    if value < 0:
        must = Message("offset must be a whole number ≥ 0")
        raise ApiError(400, "invalid_offset", must, field="offset")
    return value


def _collection(settings: Settings, collection_id: str) -> docs.Collection:
    found = docs.collections(settings.populations).get(collection_id)
    if found is None:
        absent = Message("no collection {id}", id=repr(collection_id))
        raise ApiError(404, "not_found", absent, field="collectionId")
    return found


def _allowed(c: docs.Collection) -> set[str]:
    return set(c.parameters())


# --- extents, kept per version of the data ---------------------------------------------------

_extents: dict[tuple[Any, ...], Extent | None] = {}
_extents_lock = threading.Lock()


def _extent(store: ObservationStore, user: User, collection_id: str) -> Extent | None:
    observer = user.name if user.role == "observer" else None
    key = (store.url, store.data_version(), collection_id, observer)
    with _extents_lock:
        if key in _extents:
            return _extents[key]
    if collection_id == "surveys":
        found = survey_extent(store)
    else:  # herds lie where their sightings are
        found = store.observation_extent(ObservationQuery(observer=observer))
    with _extents_lock:
        if len(_extents) > 32:
            _extents.clear()
        _extents[key] = found
    return found


# --- the open documents ----------------------------------------------------------------------


@router.get("", include_in_schema=False)
@router.get("/")
def landing_page(request: Request, settings: SettingsDep) -> Response:
    """Landing page: links to the API definition, conformance and the collections."""
    params = _params(request, {"f"})
    return _answer(request, params, docs.landing(_base(request), settings.api_title))


@router.get("/conformance")
def conformance(request: Request) -> Response:
    """The conformance classes this API implements."""
    params = _params(request, {"f"})
    return _answer(request, params, docs.conformance())


@router.get("/api")
def api_definition(request: Request, settings: SettingsDep) -> Response:
    """The OpenAPI 3.0 definition of /ogc."""
    _params(request, {"f"})
    cols = docs.collections(settings.populations)
    body = docs.openapi(_base(request), settings.api_title, cols)
    return JSONResponse(body, media_type=docs.OPENAPI)


@router.get("/api.html", include_in_schema=False)
def api_documentation(request: Request) -> Response:
    """Human-readable documentation: the app's interactive docs list /ogc too."""
    t = request_translator(request)
    page = render_page(
        "ogc_api.html", t, base=_base(request), language_switch=language_switch(request, t)
    )
    return HTMLResponse(page, headers=language_headers(t.lang))


# --- collections -------------------------------------------------------------------------


@router.get("/collections")
def list_collections(
    request: Request, user: Reader, store: StoreDep, settings: SettingsDep
) -> Response:
    """Every collection with its extent and links."""
    params = _params(request, {"f"})
    base = _base(request)
    cols = [
        docs.collection_json(base, c, _extent(store, user, c.id))
        for c in docs.collections(settings.populations).values()
    ]
    body = {
        "title": N_("Collections"),
        "links": [
            docs.link(f"{base}/collections", "self", docs.JSON, N_("this document")),
            docs.link(f"{base}/collections?f=html", "alternate", docs.HTML, N_("as HTML")),
        ],
        "collections": cols,
    }
    return _answer(request, params, body)


@router.get("/collections/{collection_id}")
def describe_collection(
    collection_id: str, request: Request, user: Reader, store: StoreDep, settings: SettingsDep
) -> Response:
    """One collection: extent, item type and links."""
    params = _params(request, {"f"})
    c = _collection(settings, collection_id)
    body = docs.collection_json(_base(request), c, _extent(store, user, c.id))
    return _answer(request, params, body)


@router.get("/collections/{collection_id}/queryables")
def collection_queryables(
    collection_id: str, request: Request, user: Reader, settings: SettingsDep
) -> Response:
    """The properties that filter the collection (each is a query parameter of items)."""
    params = _params(request, {"f"})
    body = docs.queryables(_base(request), _collection(settings, collection_id))
    return _answer(request, params, body, media="application/schema+json")


@router.get("/collections/{collection_id}/items")
def collection_items(
    collection_id: str,
    request: Request,
    user: Reader,
    store: StoreDep,
    settings: SettingsDep,
    cache: HerdCacheDep,
) -> Response:
    """A page of the collection's features, with next/prev links and numberReturned."""
    c = _collection(settings, collection_id)
    params = _params(request, _allowed(c))
    _check_crs(params)
    html = _wants_html(request, params)
    limit = _limit(params.get("limit"), settings)
    try:
        if c.id == "observations":
            items = _observations(store, settings, user, params, limit)
        elif c.id == "herds":
            items = _herds(store, settings, cache, user, params, limit)
        else:
            items = _surveys(store, params, limit)
    except InvalidInput as exc:
        raise _bad(exc) from exc
    links = _page_links(request, c.id, items.more)
    if html:
        return _items_page(request, c, None, _decoded(items.features), items.matched, links)
    head: dict[str, Any] = {"timeStamp": _now()}
    if items.matched is not None:
        head["numberMatched"] = items.matched
    head["numberReturned"] = items.returned
    return _collection_response(items.features, head, links)


# Paging: maps "next"/"prev" to the query-string changes that reach that page.
Paging = dict[str, dict[str, str | None]]


@dataclass(frozen=True)
class Items:
    """A page of features (a store's ready GeoJSON text, or dicts) and how to page on."""

    features: bytes | list[dict[str, Any]]
    returned: int
    matched: int | None
    more: Paging


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _decoded(features: bytes | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return msgspec.json.decode(features) if isinstance(features, bytes) else features


def _collection_response(
    features: bytes | list[dict[str, Any]], head: dict[str, Any], links: list[dict[str, str]]
) -> Response:
    """FeatureCollection text: a store's ready Feature text is joined in, not re-encoded."""
    text = features if isinstance(features, bytes) else msgspec.json.encode(features)
    rest = msgspec.json.encode({**head, "links": links})
    body = b'{"type":"FeatureCollection","features":' + text + b"," + rest[1:]
    return Response(body, media_type=docs.GEOJSON, headers={"Content-Crs": f"<{docs.CRS84}>"})


def _page_links(request: Request, collection_id: str, more: Paging) -> list[dict[str, str]]:
    base = _base(request)
    here = request.url.remove_query_params("f")
    links = [
        docs.link(str(here), "self", docs.GEOJSON, N_("this page")),
        docs.link(
            str(here.include_query_params(f="html")),
            "alternate",
            docs.HTML,
            N_("this page as HTML"),
        ),
        docs.link(
            f"{base}/collections/{collection_id}", "collection", docs.JSON, N_("the collection")
        ),
    ]
    for rel, changes in more.items():
        url = here
        for name, value in changes.items():
            url = (
                url.remove_query_params(name)
                if value is None
                else url.include_query_params(**{name: value})
            )
        links.append(docs.link(str(url), rel, docs.GEOJSON, _PAGE_TITLES.get(rel, rel)))
    return links


_PAGE_TITLES = {"next": N_("next page"), "prev": N_("prev page")}


def _items_page(
    request: Request,
    collection: docs.Collection,
    feature_id: str | None,
    features: list[dict[str, Any]],
    matched: int | None,
    links: list[dict[str, str]],
) -> HTMLResponse:
    """The features as a table in the request's language: the words translated, the
    properties (names and values: data) as they are, but for the sex and age classes."""
    t = request_translator(request)
    name = t.gettext(collection.title)
    columns = list(features[0]["properties"]) if features else []
    rows = [
        {
            "id": f["id"],
            "geometry": f["geometry"],
            "cells": [_cell(f["properties"].get(n), t) for n in columns],
        }
        for f in features
    ]
    page = render_page(
        "ogc_items.html",
        t,
        base=_base(request),
        collection=collection.id,
        collection_title=name,
        title=f"{name}: {feature_id}" if feature_id else name,
        features=rows,
        columns=columns,
        json_url=str(request.url.include_query_params(f="json")),
        matched=matched,
        links=docs.localized(links, t),
        language_switch=language_switch(request, t),
    )
    return HTMLResponse(page, headers=language_headers(t.lang))


def _cell(value: Any, t: Translator) -> str:
    """A property as table text: classes as "name n", lists one per space, nothing for null."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(
            f"{_class_name(k, t)} {t.format_value(v)}" for k, v in value.items() if v is not None
        )
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _class_name(key: str, t: Translator) -> str:
    name = COMPOSITION_NAMES.get(key)
    return t.gettext(name) if name else key.replace("_", " ")


# --- the three collections' items --------------------------------------------------------------


def _observations(
    store: ObservationStore, settings: Settings, user: User, params: dict[str, str], limit: int
) -> Items:
    methods = split_list(params.get("count_method"))
    bad = [m for m in methods if m not in COUNT_METHODS]
    if bad:
        raise ApiError(
            400,
            "invalid_count_method",
            Message(
                "count_method {value} is not one of {known}",
                value=repr(bad[0]),
                known=", ".join(COUNT_METHODS),
            ),
            field="count_method",
        )
    query = observation_query(
        settings,
        bbox=params.get("bbox"),
        datetime_=params.get("datetime"),
        population=params.get("population"),
        method=params.get("count_method"),
        survey=params.get("survey_id"),
        limit=limit,
    )
    if user.role == "observer":  # observers see their own records only
        query = replace(query, observer=user.name)
    matched = store.count_at_most(query, MATCHED_UP_TO)
    if "next" in params:
        query = replace(query, after=decode_cursor(params["next"]))
    elif "prev" in params:
        query = replace(query, before=decode_cursor(params["prev"]))
    page = store.query_features(query)
    return Items(page.features, page.returned, matched, _observation_paging(store, query, page))


class _Key(msgspec.Struct):
    """What a cursor needs of a Feature: its id and time."""

    id: str
    properties: dict[str, Any]


def _key(feature: _Key) -> str:
    moment = datetime.fromisoformat(feature.properties["observed_at"])
    return encode_cursor((utc_iso(moment), feature.id))


def _observation_paging(store: ObservationStore, query: ObservationQuery, page: Any) -> Paging:
    """next and prev cursors: keys of the page's last and first features. A prev link is
    given when anything lies before the page (one row read to know)."""
    if not page.returned:
        return {}
    keys = msgspec.json.decode(page.features, type=list[_Key])
    more: Paging = {}
    if page.next_after or query.before is not None:
        more["next"] = {"next": _key(keys[-1]), "prev": None}
    first = decode_cursor(_key(keys[0]))
    earlier = replace(query, after=None, before=first, limit=1)
    if query.after is not None or query.before is not None:
        if store.query_observations(earlier).items:
            more["prev"] = {"prev": _key(keys[0]), "next": None}
    return more


def _herds(
    store: ObservationStore,
    settings: Settings,
    cache: Any,
    user: User,
    params: dict[str, str],
    limit: int,
) -> Items:
    from reports.herd_features import HerdFilter, herd_page  # pandas: loaded on first use

    if user.role not in ("researcher", "admin"):
        raise ApiError(403, "forbidden", Message("herds are for researchers and admins"))
    every = params.get("every", "year")
    if every not in EVERY:
        must = Message("every must be year, season or month")
        raise ApiError(400, "invalid_every", must, field="every")
    start, end = (
        parse_datetime_interval(params["datetime"]) if params.get("datetime") else (None, None)
    )
    wanted = HerdFilter(
        every=every,
        period=params.get("period") or None,
        populations=_populations(settings, params.get("population")),
        bbox=parse_bbox(params["bbox"]) if params.get("bbox") else None,
        start=start,
        end=end,
    )
    offset = _offset(params.get("offset"))
    found = herd_page(cache, store, settings.season_calendar, wanted, offset=offset, limit=limit)
    more = _offset_paging(offset, limit, found.matched)
    return Items(found.features, len(found.features), found.matched, more)


def _populations(settings: Settings, text: str | None) -> tuple[str, ...]:
    chosen = split_list(text)
    unknown = [p for p in chosen if p not in settings.populations]
    if unknown:
        raise ApiError(
            400,
            "unknown_population",
            Message("population {value} is not known", value=repr(unknown[0])),
            field="population",
        )
    return chosen


def _offset_paging(offset: int, limit: int, matched: int) -> Paging:
    more: Paging = {}
    if offset + limit < matched:
        more["next"] = {"offset": str(offset + limit)}
    if offset > 0:
        more["prev"] = {"offset": str(max(0, offset - limit))}
    return more


def _surveys(store: ObservationStore, params: dict[str, str], limit: int) -> Items:
    method = params.get("method")
    if method is not None and method not in SURVEY_METHODS:
        raise ApiError(
            400,
            "invalid_method",
            Message("method must be one of {known}", known=", ".join(SURVEY_METHODS)),
            field="method",
        )
    bbox = parse_bbox(params["bbox"]) if params.get("bbox") else None
    start, end = (
        parse_datetime_interval(params["datetime"]) if params.get("datetime") else (None, None)
    )
    chosen = matching_surveys(store, method=method, bbox=bbox, start=start, end=end)
    offset = _offset(params.get("offset"))
    page = [survey_feature(s) for s in chosen[offset : offset + limit]]
    return Items(page, len(page), len(chosen), _offset_paging(offset, limit, len(chosen)))


def survey_feature(survey: Any) -> dict[str, Any]:
    props = survey_json(survey)
    geometry = props.pop("geometry")
    return {"type": "Feature", "id": survey.id, "geometry": geometry, "properties": props}


# --- single features ------------------------------------------------------------------------


@router.get("/collections/{collection_id}/items/{feature_id}")
def collection_item(
    collection_id: str,
    feature_id: str,
    request: Request,
    user: Reader,
    store: StoreDep,
    settings: SettingsDep,
    cache: HerdCacheDep,
) -> Response:
    """One feature, with links to itself and its collection."""
    c = _collection(settings, collection_id)
    params = _params(request, {"f"})
    feature = _one_feature(c.id, feature_id, user, store, settings, cache)
    base = f"{_base(request)}/collections/{c.id}"
    feature["links"] = [
        docs.link(f"{base}/items/{feature_id}", "self", docs.GEOJSON, N_("this feature")),
        docs.link(f"{base}/items/{feature_id}?f=html", "alternate", docs.HTML, N_("as HTML")),
        docs.link(base, "collection", docs.JSON, N_("the collection")),
    ]
    if _wants_html(request, params):
        return _items_page(request, c, feature_id, [feature], None, feature["links"])
    return JSONResponse(feature, media_type=docs.GEOJSON)


def _one_feature(
    collection_id: str,
    feature_id: str,
    user: User,
    store: ObservationStore,
    settings: Settings,
    cache: Any,
) -> dict[str, Any]:
    if collection_id == "surveys":
        return survey_feature(store.get_survey(feature_id))
    if collection_id == "herds":
        from reports.herd_features import find_herd

        if user.role not in ("researcher", "admin"):
            raise ApiError(403, "forbidden", Message("herds are for researchers and admins"))
        return find_herd(cache, store, settings.season_calendar, feature_id)
    from domain.wire import observation_feature

    try:
        obs = store.get_observation(UUID(feature_id))
    except ValueError as exc:
        raise NotFound(
            Message("no observation with id {feature_id}", feature_id=str(feature_id)),
            field="featureId",
        ) from exc
    if obs.status != "active":
        raise NotFound(
            Message("observation {feature_id} was retracted", feature_id=str(feature_id)),
            field="featureId",
        )
    if not may_read(user, obs.observer):
        raise ApiError(403, "forbidden", Message("observers can read only their own observations"))
    return observation_feature(obs)
