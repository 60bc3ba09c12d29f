"""Downloads of every observation a filter selects: GeoJSON, CSV, GeoPackage, GeoParquet,
FlatGeobuf and a Darwin Core Archive, with the filters of GET /api/v1/observations.

GeoJSON and CSV stream as they are written; the binary formats are written page by page
to a file first (their layouts need the end before the start), kept a while for the range
requests of GDAL's /vsicurl/ (data/exports/cache.py). `HEAD` answers on every download,
with the finished file's size.
`limit` and `next` are accepted and ignored, so a listing URL can be turned into an export.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from data.exports.cache import ExportCache
from data.exports.pages import EXPORT_PAGE
from data.exports.service import FORMATS, text_chunks, write_export
from data.exports.text import EXPORT_CSV_COLUMNS
from data.store import ObservationStore
from domain.records import ObservationQuery
from field_api.deps import Researcher, SettingsDep, StoreDep
from field_api.filters import QueryDep
from field_api.query_check import DeclaredQueryOnly
from field_api.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["exports"], dependencies=[DeclaredQueryOnly])

CSV_COLUMNS = EXPORT_CSV_COLUMNS
__all__ = ["CSV_COLUMNS", "EXPORT_PAGE"]
# The Content-Crs header of OGC API – Features Part 2: what the coordinates are in.
CONTENT_CRS = "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
_cache = ExportCache()


def _headers(fmt: str) -> dict[str, str]:
    found = FORMATS[fmt]
    return {
        "Content-Disposition": f'attachment; filename="{found.filename}"',
        "Content-Crs": CONTENT_CRS,
    }


def _download(
    fmt: str, request: Request, store: ObservationStore, query: ObservationQuery, settings: Settings
) -> Response:
    """A plain GET of GeoJSON or CSV streams as it is made; HEAD, a GET with a Range and
    every binary format are served from a finished file (with its size and ranges)."""
    found = FORMATS[fmt]
    if found.text and request.method == "GET" and "range" not in request.headers:
        chunks = text_chunks(store, query, fmt)
        return StreamingResponse(chunks, media_type=found.media_type, headers=_headers(fmt))
    key = (store.url, store.data_version(), fmt, replace(query, limit=0, after=None))

    def build(path: Path) -> None:
        write_export(store, query, fmt, path, dataset=settings.dataset_info())

    path = _cache.file(key, fmt, build)
    return FileResponse(path, media_type=found.media_type, headers=_headers(fmt))


def _route(fmt: str, *paths: str) -> None:
    def export(
        request: Request, query: QueryDep, user: Researcher, store: StoreDep, settings: SettingsDep
    ) -> Response:
        return _download(fmt, request, store, query, settings)

    export.__name__ = f"export_{fmt}"
    export.__doc__ = f"Every matching observation as {FORMATS[fmt].filename.rsplit('.', 1)[-1]}."
    for path in paths:
        for method in ("GET", "HEAD"):  # one operation each: the definition lists the GET
            router.add_api_route(
                path,
                export,
                methods=[method],
                response_class=Response,
                name=f"export_{fmt}" if path == paths[0] and method == "GET" else None,
                include_in_schema=path == paths[0] and method == "GET",
            )


for _fmt in ("geojson", "csv", "gpkg", "parquet", "fgb"):
    _route(_fmt, f"/observations.{_fmt}")
_route("dwca", "/observations.dwca", "/observations.dwca.zip")
