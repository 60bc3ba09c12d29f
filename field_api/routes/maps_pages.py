"""Map pages: GET /maps/herd-counts (a self-contained page), GET /viewer, and their scripts.

Researchers and admins read maps; an observer gets 403 (it reads only its own records, and
a map of those alone would mislead as a picture of a population). folium loads with the
first map drawn (maps.service, maps.herd_map), not when a worker starts.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from data.store import ObservationStore
from domain.errors import InvalidInput
from domain.i18n import Message, Translator
from domain.records import Period, User
from field_api.deps import HerdCacheDep, Researcher, SettingsDep, StoreDep, request_credential
from field_api.errors import ApiError
from field_api.filters import QueryDep
from field_api.language import language_headers, request_translator
from field_api.pages import language_switch
from field_api.routes import exports
from field_api.settings import Settings
from field_api.viewer import ViewerFilters, error_page, viewer_side_html
from geo.grid import MAX_CELL_KM, MIN_CELL_KM
from maps import assets
from reports.herd_cache import HerdCache

router = APIRouter(tags=["maps"])
router.include_router(exports.router)  # the viewer's export links, listed with the maps

EveryParam = Annotated[Period, Query(description="period of the slider: month, season or year")]
CellParam = Annotated[
    float | None,
    Query(
        ge=MIN_CELL_KM, le=MAX_CELL_KM, description="cell size in km; default follows the extent"
    ),
]
ViewParam = Annotated[
    Literal["herds", "sightings"],
    Query(
        description="herds: de-duplicated herds of each period's counting survey, the report's "
        "minimum counts (default); sightings: sums of raw sightings"
    ),
]
_STATIC_TYPES = {".js", ".css", ".png", ".svg"}


@router.get("/maps/herd-counts", response_class=HTMLResponse)
def herd_count_map_page(
    request: Request,
    query: QueryDep,
    user: Researcher,
    store: StoreDep,
    settings: SettingsDep,
    cache: HerdCacheDep,
    every: EveryParam = "year",
    cell_km: CellParam = None,
    view: ViewParam = "herds",
) -> HTMLResponse:
    """The herd-count map as one self-contained page (scripts inlined: it opens offline), in
    the request's language, with the language switch (which needs this server)."""
    from maps.herd_map import render_html
    from maps.service import build_herd_map, generated_note, load_map_data
    from reports.herd_map import map_source

    t = request_translator(request)
    options = settings.map_options()
    source = map_source(view, store, cache, settings.season_calendar, settings.census)
    size = cell_km * 1000 if cell_km else None
    data = load_map_data(source, query, every=every, options=options, cell_size_m=size, view=view)
    inlined = assets.inlined_assets()  # AssetsMissing: a 503 saying how to install them
    side = str(language_switch(request, t)) + generated_note(t=t)
    m = build_herd_map(data, every=every, options=options, assets=inlined, side_html=side, t=t)
    return HTMLResponse(render_html(m), headers=language_headers(t.lang))


@router.get("/viewer", response_class=HTMLResponse, include_in_schema=False, response_model=None)
async def viewer(
    request: Request, store: StoreDep, settings: SettingsDep, cache: HerdCacheDep
) -> Response:
    """The researcher's page: filters, the map with its time slider, totals and exports."""
    user = await run_in_threadpool(_signed_in_user, request, store, settings)
    if user is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        lang = request.query_params.get("lang")  # the sign-in page in the language asked for
        also = f"&lang={quote(lang[:20])}" if lang else ""
        return RedirectResponse(f"/login?next={target}{also}", status_code=303)
    t = request_translator(request)
    switch = language_switch(request, t)
    if user.role not in ("researcher", "admin"):
        refused = Message(
            "The map viewer is for researchers and administrators; "
            "observers upload and edit their own records."
        )
        return error_page(403, refused, t=t, language_switch=switch)
    try:
        filters = ViewerFilters.from_request(request, settings)
    except (ApiError, InvalidInput) as exc:
        return error_page(422, exc.message, filters_back=True, t=t, language_switch=switch)
    try:
        html = await run_in_threadpool(
            _viewer_html, filters, store, settings, user, cache, t, switch
        )
    except InvalidInput as exc:
        return error_page(422, exc.message, filters_back=True, t=t, language_switch=switch)
    return HTMLResponse(html, headers=language_headers(t.lang))


def _viewer_html(
    filters: ViewerFilters,
    store: ObservationStore,
    settings: Settings,
    user: User,
    cache: HerdCache,
    t: Translator,
    switch: str,
) -> str:
    from maps.herd_map import render_html
    from maps.service import build_herd_map, load_map_data
    from reports.herd_map import map_source

    options = settings.map_options()
    source = map_source(filters.view, store, cache, settings.season_calendar, settings.census)
    data = load_map_data(
        source, filters.query, every=filters.every, options=options, view=filters.view
    )
    side = str(switch) + viewer_side_html(filters, settings, user=user.name, t=t)
    m = build_herd_map(
        data,
        every=filters.every,
        options=options,
        assets=assets.linked_assets(),
        side_html=side,
        t=t,
    )
    return render_html(m)


def _signed_in_user(request: Request, store: ObservationStore, settings: Settings) -> User | None:
    """The user behind the session cookie (or a bearer header), or None: pages redirect."""
    return request_credential(request, store, settings).user


@router.get(assets.URL_PREFIX + "/{path:path}", include_in_schema=False)
def vendor_file(path: str) -> FileResponse:
    """Leaflet and its plugins, as installed by `python -m maps.assets install`."""
    root = assets.MODULES_DIR.resolve()
    target = (root / path).resolve()
    allowed = target.suffix in _STATIC_TYPES and target.is_relative_to(root)
    if not allowed or not target.is_file():
        raise ApiError(404, "not_found", Message("no static file {path}", path=repr(path)))
    return FileResponse(target, headers={"Cache-Control": "public, max-age=86400"})
