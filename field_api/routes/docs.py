"""/docs (Swagger UI) and /redoc, with their scripts from this server, not a CDN.

FastAPI's default pages load Swagger UI and ReDoc from jsDelivr (unpinned, without
integrity) and fonts from Google, so at a field station they were blank pages. The files
come from the npm registry at install (maps/assets.py) and are served at /static/vendor.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from maps import assets

router = APIRouter(include_in_schema=False)
_TITLE = "Herdwatch API"


def _url(path: str) -> str:
    return f"{assets.URL_PREFIX}/{path}"


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{_TITLE} · Swagger UI",
        swagger_js_url=_url(assets.SWAGGER_JS),
        swagger_css_url=_url(assets.SWAGGER_CSS),
        swagger_favicon_url=_url(assets.SWAGGER_ICON),
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title=f"{_TITLE} · ReDoc",
        redoc_js_url=_url(assets.REDOC_JS),
        redoc_favicon_url=_url(assets.SWAGGER_ICON),
        with_google_fonts=False,
    )
