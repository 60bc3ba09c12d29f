"""The app factory: `uvicorn --factory field_api.app:create_app`.

Every router is listed here, so a missing dependency fails at start with its import error
instead of quietly removing pages. A worker starts light: the map, report and statistics
libraries load with the first request that needs them (HERDWATCH_PRELOAD loads them at
start instead, for a served process that wants a fast first map or report).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from data.reference import region_index
from data.store import ObservationStore, open_store
from field_api.errors import add_exception_handlers, problem
from field_api.libraries import require_libraries
from field_api.openrosa_form import served_form
from field_api.routes import (
    changes,
    counts,
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

# Objects allocated between young-generation collections (CPython's default is 700).
_GC_YOUNG_THRESHOLD = 10_000

ROUTERS = (
    health.router,
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
        if store is None:  # a served process, not a test: tune it for long running
            served_form(settings)  # convert the ODK form now: a broken one stops the start
            app.state.store.migrate()
            load_reference_data()
            if settings.preload:
                preload_libraries()
            settle_garbage_collector()
        yield
        if store is None:  # close only what we opened
            app.state.store.close()

    app = FastAPI(
        title=settings.api_title, version="1", lifespan=lifespan, description=_DESCRIPTION
    )
    app.state.settings = settings
    for router in ROUTERS:
        app.include_router(router)
    add_exception_handlers(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        limits={imports.PATH: settings.max_import_bytes},
    )
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
    import maps.service  # noqa: F401  (with folium)
    import reports.herd_decisions  # noqa: F401  (with pandas, scipy)
    import reports.output  # noqa: F401  (with render, charts, population, stats)


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


class BodyLimit:
    """Refuse a declared body over the limit before reading it (413, problem+json).

    Paths in `limits` have their own limit and must declare their length (411 otherwise):
    their bodies are files parsed before the route runs, so the limit is checked here.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, limits: dict[str, int] | None = None) -> None:
        self.app, self.max_bytes, self.limits = app, max_bytes, limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # OpenRosa routes check the same limit themselves, to answer as Collect expects.
        if scope["type"] == "http" and not scope["path"].startswith("/openrosa/"):
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> ASGIApp | None:
        limit = self.limits.get(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if limit is not None and length is None and scope["method"] == "POST":
            message = "send the file with a Content-Length (the upload size is limited)"
            return problem(411, "length_required", message, [_body_error("length_required")])
        limit = limit or self.max_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            return problem(
                413,
                "payload_too_large",
                f"the body is larger than {limit:,} bytes: send smaller batches",
                [_body_error("payload_too_large")],
            )
        return None


def _body_error(code: str) -> dict[str, str]:
    return {"field": "body", "code": code, "message": f"body: {code.replace('_', ' ')}"}
