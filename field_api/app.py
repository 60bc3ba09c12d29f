"""The app factory: `uvicorn --factory field_api.app:create_app`.

Every router is listed here, so a missing dependency fails at start with its import error
instead of quietly removing pages. A worker starts light: the map, report and statistics
libraries load with the first request that needs them (HERDWATCH_PRELOAD loads them at
start instead, and groups the store's herds meanwhile, for a served process that wants a
fast first map or report).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from data.reference import region_index
from data.store import ObservationStore, open_store
from field_api.errors import add_exception_handlers
from field_api.guard import RequestGuard
from field_api.headers import SecurityHeaders
from field_api.libraries import require_libraries
from field_api.memory import keep_freed_memory
from field_api.openapi import install_openapi
from field_api.openrosa_form import served_form
from field_api.routes import (
    changes,
    counts,
    docs,
    field,
    health,
    herds,
    imports,
    maps_pages,
    me,
    observations,
    ogc,
    openrosa,
    photos,
    reports,
    session,
    surveys,
)
from field_api.settings import Settings
from reports import chart_process

# Objects allocated between young-generation collections (CPython's default is 700).
_GC_YOUNG_THRESHOLD = 10_000

ROUTERS = (
    health.router,
    docs.router,
    observations.router,
    surveys.router,
    changes.router,
    counts.router,
    session.router,
    maps_pages.router,
    reports.router,
    herds.router,
    imports.router,
    ogc.router,
    me.router,
    photos.router,
    field.router,
    openrosa.router,
)


_DESCRIPTION = (
    "Field data for wild reindeer counts in Yakutia. Send `Authorization: Bearer <token>`; "
    "tokens come from `herdwatch users add`."
)


log = logging.getLogger(__name__)
START_GROUPING_WAIT_S = 60.0  # how long a stopping worker waits for its start grouping


def create_app(settings: Settings | None = None, store: ObservationStore | None = None) -> FastAPI:
    """Build the app; tests pass a ready store, production opens one from the settings."""
    settings = settings or Settings()
    require_libraries()  # the lazily loaded ones: missing → fail now, not at the first map

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        # Upload handlers wait in threads for the store's commit (an fsync): allow more
        # waiting threads than anyio's default of 40 so fifty tablets do not queue for one.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.thread_pool_size
        app.state.store = store or open_store(settings.database_url)
        chart_process.configure(enabled=settings.chart_process)
        if store is None:  # a served process, not a test: tune it for long running
            served_form(settings)  # convert the ODK form now: a broken one stops the start
            app.state.store.migrate()
            load_reference_data()
            if settings.preload:
                preload_libraries()
                if settings.herd_cache or settings.herd_files_dir() is not None:
                    group_herds_meanwhile(app)  # kept, or saved for the first request
            settle_garbage_collector()
            keep_freed_memory()
        yield
        app.state.stopping = True  # the herds grouped at start, if still at it, fail quietly
        grouping = getattr(app.state, "start_grouping", None)
        if grouping is not None:  # closing the store under its reads could crash the process
            grouping.join(timeout=START_GROUPING_WAIT_S)
        if store is None:  # close only what we opened
            app.state.store.close()
            chart_process.shutdown()

    app = FastAPI(
        title=settings.api_title,
        version="1",
        lifespan=lifespan,
        description=_DESCRIPTION,
        docs_url=None,  # served by routes/docs.py with this server's own copies
        redoc_url=None,
    )
    app.state.settings = settings
    for router in ROUTERS:
        app.include_router(router)
    add_exception_handlers(app)
    install_openapi(app)
    app.add_middleware(RequestGuard, limits={imports.PATH: settings.max_import_bytes})
    app.add_middleware(SecurityHeaders, tile_url=settings.tile_url)  # outermost: every answer
    return app


def load_reference_data() -> None:
    """Load the region polygons the first upload would otherwise load.

    Left to the first request, fifty tablets arriving together each started loading the
    boundaries in their own thread, and their first answers took a second or more. (CRS
    transforms are made per thread, geo/coords.py, so there is nothing to share here.)
    """
    region_index()


def preload_libraries() -> None:
    """Import the map, report and statistics libraries now rather than on first use.

    Costs each worker about a second and a few hundred MB more at start (docs/benchmarks.md);
    in return the first map or report a worker serves does not wait for the imports.
    """
    import scipy.sparse.csgraph  # noqa: F401  (the herd grouping's; geo.dedup loads it late)

    import maps.service  # noqa: F401  (with folium)
    import reports.herd_decisions  # noqa: F401  (with pandas)
    import reports.output  # noqa: F401  (with population, stats)
    import reports.render  # noqa: F401  (with charts: matplotlib, reportlab, templates)

    chart_process.start_meanwhile()  # the report map's helper process, if it is used


def group_herds_meanwhile(app: FastAPI) -> None:
    """Work out the store's herds on a thread while the worker starts serving (from the
    saved grouping where there is one, reports/herd_file.py): its first report or herd map
    then finds them kept. A request that needs them meanwhile waits for this one build."""
    from field_api.deps import herd_cache_of

    cache = herd_cache_of(app.state)
    store, seasons = app.state.store, app.state.settings.season_calendar

    def group() -> None:
        try:
            cache.herds(store, seasons)
        except Exception:  # the first request that needs the herds tries again, and says
            if not getattr(app.state, "stopping", False):  # else the store closed under it
                log.exception("grouping the herds at start failed")

    # The worker's shutdown waits for it (START_GROUPING_WAIT_S at most: seconds at a
    # million sightings); a daemon, so that a hung one never keeps the process alive.
    app.state.start_grouping = threading.Thread(
        target=group, name="herdwatch-herds-at-start", daemon=True
    )
    app.state.start_grouping.start()


def settle_garbage_collector() -> None:
    """Keep the cyclic garbage collector off the objects every request leaves alone.

    A served process holds a large heap of modules, schemas and reference geometry that
    lives as long as it does; a 1,000-feature upload allocates tens of thousands of short
    lived objects, and each collection they trigger walked that whole heap again: about a
    fifth of the server's time in bench/ingest.py. Freezing what exists after start-up
    moves it out of every generation, and a higher first threshold lets a batch's objects
    die by reference counting before a collection looks at them.
    """
    gc.collect()
    gc.freeze()
    first, *older = gc.get_threshold()
    gc.set_threshold(max(first, _GC_YOUNG_THRESHOLD), *older)
