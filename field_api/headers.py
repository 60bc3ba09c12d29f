"""Security headers on every response, and a Content-Security-Policy made per HTML page.

The policy lets a page run only this server's scripts and styles. The map pages carry
their scripts inline (folium writes them; the map's own files are inlined too), so each
HTML page's policy lists the SHA-256 of every inline `<script>` and `<style>` it holds:
those exact blocks run, and nothing injected into the page would. Style attributes are
allowed (`style-src-attr`), as they cannot run code and folium writes some. Images may
also come from the configured tile server.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_INLINE = re.compile(
    rb"<(script|style)\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE
)
_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
# ReDoc's styled-components write <style> elements at run time, which no hash can name:
# on this page only, inline styles are allowed (scripts stay hash-only; styles cannot run
# code, and the page shows only our own OpenAPI document).
INLINE_STYLE_PATHS = frozenset({"/redoc"})
# Not a page: nothing in it may run or be framed.
_NOT_A_PAGE = b"default-src 'none'; frame-ancestors 'none'; sandbox"


class SecurityHeaders:
    """Add nosniff, Referrer-Policy, frame denial and a CSP to every HTTP response."""

    def __init__(self, app: ASGIApp, tile_url: str = "") -> None:
        self.app = app
        tiles = urlsplit(tile_url.replace("{s}", "a")) if tile_url else None
        self.tile_origin = f" {tiles.scheme}://{tiles.netloc}" if tiles and tiles.netloc else ""
        if "{s}" in tile_url and tiles is not None:  # subdomains a., b., c.
            self.tile_origin = f" {tiles.scheme}://*.{tiles.netloc.split('.', 1)[1]}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _is_html(message):
                    start = message  # held until the page is complete: its CSP needs it
                    return
                # A script may be a service worker, which runs under its own response's
                # policy: it gets this server's, not the "nothing may run" of a data answer.
                policy = self.policy(b"") if _is_script(message) else _NOT_A_PAGE
                await send(_with_headers(message, policy))
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(chunks)
            policy = self.policy(page, inline_styles=scope["path"] in INLINE_STYLE_PATHS)
            await send(_with_headers(start, policy))
            await send({"type": "http.response.body", "body": page})

        if scope["method"] == "HEAD":
            await _head(self.app, scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)

    def policy(self, page: bytes, *, inline_styles: bool = False) -> bytes:
        scripts: list[str] = []
        styles: list[str] = []
        for kind, body in _INLINE.findall(page):
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            (scripts if kind.lower() == b"script" else styles).append(f" 'sha256-{digest}'")
        return (
            "default-src 'self'; "
            f"script-src 'self'{''.join(sorted(set(scripts)))}; "
            f"style-src 'self'{_styles(styles, inline_styles)}; "
            "style-src-attr 'unsafe-inline'; "
            f"img-src 'self' data: blob:{self.tile_origin}; "
            "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
            "object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ).encode()


async def _head(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """HEAD: a route that answers it itself does (the downloads give their size); where the
    route knows only GET (405), the request is answered as the GET, without the body."""
    refused = False

    async def probe(message: Message) -> None:
        nonlocal refused
        if message["type"] == "http.response.start" and message["status"] == 405:
            refused = True
        if not refused:
            await send(message)

    async def without_body(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    await app(scope, receive, probe)
    if refused:
        await app({**scope, "method": "GET"}, receive, without_body)


def _styles(hashes: list[str], inline: bool) -> str:
    # With a hash listed, browsers ignore 'unsafe-inline': list one or the other.
    return " 'unsafe-inline'" if inline else "".join(sorted(set(hashes)))


def _is_script(start: Message) -> bool:
    for key, value in start.get("headers", []):
        if key.lower() == b"content-type":
            return b"javascript" in value.lower()
    return False


def _is_html(start: Message) -> bool:
    for key, value in start.get("headers", []):
        if key.lower() == b"content-type":
            return bool(value.lower().startswith(b"text/html"))
    return False


def _with_headers(start: Message, csp: bytes) -> Message:
    headers = list(start.get("headers", []))
    present = {key.lower() for key, _ in headers}
    for key, value in (*_ALWAYS, (b"content-security-policy", csp)):
        if key not in present:
            headers.append((key, value))
    return {**start, "headers": headers}
