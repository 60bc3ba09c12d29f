"""Herdwatch Field: the offline-first tablet app at /field (page, manifest, worker, icons).

Everything the app needs comes from here: the page (a Jinja2 template), its scripts,
styles and message catalogues (field_api/static/field), the web manifest, the icons, and
the service worker. The worker is served at /field/sw.js with `Service-Worker-Allowed:
/field`, so its scope is /field itself (the page's own URL has no trailing slash). Its
text carries a version made from every file of the app: a changed file changes the
worker, the browser installs it, and it caches the new shell. Records are never in the
cache: they live in the browser's IndexedDB, which an update leaves alone.
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from domain import i18n
from domain.i18n import Message
from domain.i18n_extract import field_app_context
from domain.records import COMPOSITION_FIELDS, COUNT_METHODS
from field_api.deps import SettingsDep
from field_api.errors import ApiError
from field_api.pages import render_page
from maps.style import POPULATION_LABELS, population_label

router = APIRouter(prefix="/field", tags=["field app"], include_in_schema=False)
SCOPE = "/field"
CHUNK_BYTES = 256 * 1024  # photo chunks: small enough to finish over a slow satellite link
_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
}
ICON_SIZES = (192, 512)
SOURCE_CATALOGUE = "messages-en.json"  # English: the msgids of every other language


def _static() -> dict[str, bytes]:
    folder = resources.files("field_api").joinpath("static", "field")
    return {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.rsplit(".", 1)[-1] in ("js", "css", "json")
    }


def languages() -> list[tuple[str, str]]:
    """(code, own name) of every catalogue language, for the app's language switch."""
    names = ((lang, i18n.translator(lang, i18n.LOCALES_DIR).name) for lang in i18n.LANGUAGES)
    return [(lang, name[:1].upper() + name[1:]) for lang, name in names]


@lru_cache(maxsize=16)
def catalogue(lang: str, root: Path) -> bytes:
    """The app's messages in `lang`: the English file as it is, another language's from
    its .po (a message the .po lacks stays English; the app's {placeholders} pass through)."""
    source = static_files()[SOURCE_CATALOGUE]
    if lang == i18n.DEFAULT_LANGUAGE:
        return source
    t = i18n.translator(lang, root)
    english: dict[str, str] = json.loads(source)
    translated = {key: t.pgettext(field_app_context(key), text) for key, text in english.items()}
    return json.dumps(translated, ensure_ascii=False, indent=1).encode()


def app_files() -> dict[str, bytes]:
    """The static files and a messages-<code>.json for each language of the catalogue."""
    made = {f"messages-{lang}.json": catalogue(lang, i18n.LOCALES_DIR) for lang in i18n.LANGUAGES}
    return {**static_files(), **made}


@lru_cache(maxsize=1)
def static_files() -> dict[str, bytes]:
    """The app's scripts, styles and catalogues, read once per process."""
    return _static()


@lru_cache(maxsize=8)
def app_version(populations: tuple[str, ...]) -> str:
    """A digest of everything the cached shell holds: it changes when any of it does."""
    digest = hashlib.sha256(json.dumps(populations).encode())
    template = resources.files("field_api").joinpath("templates", "field.html").read_bytes()
    for name, data in sorted({**app_files(), "field.html": template}.items()):
        digest.update(name.encode() + b"\0" + data)
    return digest.hexdigest()[:16]


def shell_urls(version: str) -> list[str]:
    """What the worker caches at install: the page and every file it loads."""
    files = [f"{SCOPE}/app/{name}?v={version}" for name in sorted(app_files()) if name != "sw.js"]
    icons = [f"{SCOPE}/icon-{size}.png" for size in ICON_SIZES]
    return [SCOPE, f"{SCOPE}/manifest.webmanifest", *icons, *files]


@router.get("", response_class=HTMLResponse)
def field_page(settings: SettingsDep) -> HTMLResponse:
    """The app's one page; it works offline once its worker has cached it."""
    version = app_version(settings.populations)
    html = render_page(
        "field.html",
        version=version,
        populations=[
            (p, population_label(p), f"pop.{p}" if p in POPULATION_LABELS else "")
            for p in settings.populations
        ],
        count_methods=COUNT_METHODS,
        classes=COMPOSITION_FIELDS,
        languages=languages(),
        config=_script_json(
            {
                "version": version,
                "retryMaxMs": int(settings.field_retry_max_s * 1000),
                "chunkBytes": CHUNK_BYTES,
                "populations": list(settings.populations),
                "languages": list(i18n.LANGUAGES),
            }
        ),
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


def _script_json(value: object) -> Markup:
    """JSON for a <script type="application/json">: no "<", so no text can end the tag."""
    return Markup(json.dumps(value).replace("<", "\\u003c"))


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    body = {
        "name": "Herdwatch Field",
        "short_name": "Herdwatch",
        "description": "Record wild reindeer sightings with or without a network",
        "start_url": SCOPE,
        "scope": SCOPE,
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f4f1ea",
        "theme_color": "#29503b",
        "icons": [
            {"src": f"{SCOPE}/icon-{s}.png", "sizes": f"{s}x{s}", "type": "image/png"}
            for s in ICON_SIZES
        ],
    }
    return Response(json.dumps(body, indent=1), media_type="application/manifest+json")


@router.get("/sw.js")
def service_worker(settings: SettingsDep) -> Response:
    """The worker, with this version's shell list; scope /field (see the module docstring)."""
    version = app_version(settings.populations)
    text = static_files()["sw.js"].decode()
    text = text.replace("__VERSION__", version).replace(
        "__SHELL__", json.dumps(shell_urls(version))
    )
    headers = {"Service-Worker-Allowed": SCOPE, "Cache-Control": "no-cache"}
    return Response(text, media_type="text/javascript", headers=headers)


@router.get("/app/{name}")
def app_file(name: str) -> Response:
    """A script, style sheet or message catalogue of the app (versioned by ?v=)."""
    data = app_files().get(name)
    if data is None or name == "sw.js":
        absent = Message("the field app has no file {name}", name=repr(name[:80]))
        raise ApiError(404, "not_found", absent)
    media_type = _TYPES["." + name.rsplit(".", 1)[-1]]
    return Response(data, media_type=media_type, headers={"Cache-Control": "no-cache"})


@router.get("/icon-{size}.png")
def icon(size: int) -> Response:
    if size not in ICON_SIZES:
        sizes = ", ".join(str(size) for size in ICON_SIZES)
        raise ApiError(404, "not_found", Message("icons come in sizes {sizes}", sizes=sizes))
    return Response(_icon(size), media_type="image/png")


@lru_cache(maxsize=len(ICON_SIZES))
def _icon(size: int) -> bytes:
    """A plain drawn icon (antlers over a disc), made once per size with Pillow."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), "#29503b")
    draw = ImageDraw.Draw(image)
    u = size / 16
    draw.ellipse((4 * u, 7 * u, 12 * u, 15 * u), fill="#f4f1ea")
    for side in (-1, 1):
        x = 8 * u + side * 1.5 * u
        tip = 8 * u + side * 5 * u
        draw.line((x, 8 * u, tip, 2 * u), fill="#f4f1ea", width=max(2, int(u)))
        draw.line(
            (x + side * 1.8 * u, 5.6 * u, x + side * 0.2 * u, 2.4 * u),
            fill="#f4f1ea",
            width=max(2, int(u)),
        )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
