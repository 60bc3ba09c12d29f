"""The gate every HTTP request passes before any route sees it (a plain ASGI middleware).

Why here and not in the routes: FastAPI reads a request's body before it solves the
route's dependencies, so a check in `current_user` came after a 300 MiB chunked body had
been read into memory. This gate decides who is asking from the headers alone, before a
byte of the body is read, and then counts the body's bytes as they arrive:

- a request with a body and no valid token gets 401 at once (only the sign-in form takes
  an anonymous body, and at most `anonymous_body_bytes` of it);
- a body past the limit, declared or chunked, gets 413 the moment it passes the limit;
- a body that takes longer than `body_timeout_seconds` to arrive gets 408, so a client
  sending a byte a second cannot hold a worker.

The credential found here is handed to `current_user` through the request state, so the
token is looked up once per request.

Browser sessions get one more check (cross-site request forgery): a state-changing request
that carries only the session cookie must come from a page of this server (its `Origin`,
or failing that its `Referer`, names this host and port), and an API request must send a
JSON body type, which no plain HTML form can. Bearer-token requests are not affected: a
page on another site cannot make a browser send the header.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain import i18n
from field_api.auth import Credential, authenticate
from field_api.errors import problem, too_large_message
from field_api.language import scope_language

# Routes that take a body from someone not signed in yet.
ANONYMOUS_BODY_PATHS = frozenset({"/login", "/logout"})  # sign-out of an ended session too
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CREDENTIAL_KEY = "herdwatch_credential"  # request.state key: the gate's Credential
_JSON_TYPES = ("application/json", "application/geo+json")


class RequestGuard:
    """Authenticate from headers, then cap the body while it streams (413) and time it (408)."""

    def __init__(self, app: ASGIApp, limits: dict[str, int] | None = None) -> None:
        # Paths with their own limit (file imports) must declare their length: their bodies
        # are files parsed before the route runs.
        self.app, self.limits = app, limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        unreadable = _unreadable_parameter(scope)
        if unreadable:
            field, reason = unreadable
            message = i18n.Message("{field}: {reason}", field=field, reason=reason)
            await _refuse(scope, send, 400, "invalid_parameter", message, field)
            return
        if not _has_body(scope):
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.settings
        credential = _authenticate(scope, settings)
        scope.setdefault("state", {})[CREDENTIAL_KEY] = credential
        user = credential.user
        if user is None and scope["path"] not in ANONYMOUS_BODY_PATHS:
            # A token sent but not known is told so, as a GET is (field_api/deps.py): it
            # was told to send one, which it had.
            refusal = _NOT_VALID if credential.presented else _UNAUTHORIZED
            await _refuse(scope, send, 401, "unauthorized", refusal, "Authorization")
            return
        forged = _forgery(scope, credential)
        if forged:
            await _refuse(scope, send, 403, "cross_site_request", forged, "Origin")
            return
        limit = self.limits.get(scope["path"], settings.max_body_bytes)
        limit = limit if user else settings.anonymous_body_bytes
        declared = _header(scope, b"content-length")
        if scope["path"] in self.limits and declared is None and scope["method"] == "POST":
            message = i18n.Message(
                "send the file with a Content-Length (the upload size is limited)"
            )
            await _refuse(scope, send, 411, "length_required", message)
            return
        openrosa = scope["path"].startswith(OPENROSA_PREFIX)  # answers its own 413, as XML
        if declared and declared.isdigit() and int(declared) > limit and not openrosa:
            await _refuse(scope, send, 413, "payload_too_large", _too_large(limit))
            return
        await _Body(self.app, scope, receive, send, limit, settings.body_timeout_seconds).run()


class _Body:
    """One request's body, counted and timed as the route reads it."""

    def __init__(
        self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int, timeout: float
    ) -> None:
        self.app, self.scope, self.inner_receive, self.inner_send = app, scope, receive, send
        self.limit, self.received, self.done = limit, 0, False
        self.deadline = anyio.current_time() + timeout
        self.started = False  # the route began its answer
        self.refused = False  # we answered instead of the route

    async def run(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception:
            if not self.refused:  # the route's own failure: the error handlers' business
                raise
            # The route failed because we cut its body off; our answer has been sent.

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        if self.done:
            return await self.inner_receive()  # after the body: only a disconnect comes
        remaining = self.deadline - anyio.current_time()
        with anyio.move_on_after(max(remaining, 0)) as waited:
            message = await self.inner_receive()
        if waited.cancelled_caught:
            await self.refuse(408, "body_timeout", _TOO_SLOW)
            return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                await self.refuse(413, "payload_too_large", _too_large(self.limit))
                return {"type": "http.disconnect"}
            self.done = not message.get("more_body", False)
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the route's late answer to a request we already answered
        self.started = True
        await self.inner_send(message)

    async def refuse(self, status: int, code: str, message: i18n.Message) -> None:
        if self.started:  # too late for a status: the connection closes unfinished
            self.refused = True
            return
        self.refused = True
        await _refuse(self.scope, self.inner_send, status, code, message)


def _has_body(scope: Scope) -> bool:
    if scope["method"] in _NO_BODY_METHODS:
        return _header(scope, b"transfer-encoding") is not None or (
            _header(scope, b"content-length") not in (None, "0")
        )
    return True  # a POST/PUT/PATCH/DELETE may stream a body without declaring one


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _authenticate(scope: Scope, settings: Any) -> Credential:
    """The user behind the bearer token or the session cookie, from the headers alone."""
    store = scope["app"].state.store
    return authenticate(store, settings, _header(scope, b"authorization"), _cookie(scope, settings))


def _forgery(scope: Scope, credential: Credential) -> i18n.Message | None:
    """Why a state-changing browser request may come from another site, or None.

    Applies to requests that carry the session cookie (and to sign-in, so that another
    site cannot sign a browser in to an account of its choosing).
    """
    if scope["method"] in _NO_BODY_METHODS:
        return None
    if not credential.via_cookie and scope["path"] not in ANONYMOUS_BODY_PATHS:
        return None
    host = (_header(scope, b"host") or "").lower()
    source = _header(scope, b"origin") or _header(scope, b"referer")
    if source is None:
        if not credential.via_cookie:
            return None  # a sign-in form posted by a script or an old browser
        return i18n.Message("a signed-in browser request must say where it comes from (Origin)")
    parts = urlsplit(source)
    if source == "null" or parts.netloc.lower() != host:
        return i18n.Message(
            "a request from {source} cannot change data with this site's session cookie",
            source=source,
        )
    if scope["path"].startswith("/api/") and not _is_json(_header(scope, b"content-type")):
        return i18n.Message(
            "a signed-in browser sends the API JSON (Content-Type: application/json)"
        )
    return None


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def _cookie(scope: Scope, settings: Any) -> str | None:
    from http.cookies import SimpleCookie

    raw = _header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed cookie header is no session
        return None
    morsel = jar.get(settings.session_cookie)
    return morsel.value if morsel else None


def _unreadable_parameter(scope: Scope) -> tuple[str, i18n.Message] | None:
    """(field, reason) when the path or a query parameter holds text no store can keep.

    A NUL ("%00") reaches PostgreSQL as an error and SQLite as a silent truncation; other
    control characters and bytes that are not UTF-8 are typing or tooling mistakes. One
    check here, for every parameter of every route, on both backends alike.
    """
    if not printable(scope["path"]):
        return "path", i18n.Message("contains a control character")
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return None
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return "query", i18n.Message("is not UTF-8 (percent-encode the parameters as UTF-8)")
    for name, value in pairs:
        if not printable(name) or not printable(value):
            return name if printable(name) else "query", i18n.Message(
                "contains a control character"
            )
    return None


def printable(text: str) -> bool:
    """No C0 control character but tab and newline, no DEL, no lone surrogate."""
    return _CONTROL.search(text) is None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


async def _refuse(
    scope: Scope, send: Send, status: int, code: str, message: i18n.Message, field: str = "body"
) -> None:
    headers = {"Connection": "close"}
    if status == 401 and scope["path"].startswith(OPENROSA_PREFIX):
        # ODK Collect answers a Basic challenge with the user name and token.
        headers["WWW-Authenticate"] = 'Basic realm="Herdwatch", charset="UTF-8"'
        headers["X-OpenRosa-Version"] = "1.0"
    elif status == 401 and message is _NOT_VALID:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    errors = [{"field": field, "code": code, "message": message}]
    response = problem(status, code, message, errors, headers, lang=scope_language(scope))

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)


def _too_large(limit: int) -> i18n.Message:
    return too_large_message(limit)


OPENROSA_PREFIX = "/openrosa/"
_UNAUTHORIZED = i18n.Message(
    "send Authorization: Bearer <token> (from `herdwatch users add`) before the body: "
    "a body is read only from a signed-in user"
)
_NOT_VALID = i18n.Message(
    "this token is not valid or was revoked, or the session ended: sign in again"
)
_TOO_SLOW = i18n.Message("the body took too long to arrive: send it again on a better connection")
