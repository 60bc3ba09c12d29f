"""Who is asking: a bearer token (API clients) or a browser session cookie.

Both are looked up the same way from the request's headers alone, so the request gate
(field_api/guard.py) can decide before reading a body and `current_user` reuses its
answer. Sessions live on the server (data: sessions table): they end at sign-out, after
HERDWATCH_SESSION_IDLE_MINUTES without use and HERDWATCH_SESSION_MAX_HOURS after sign-in.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta

from data.store import ObservationStore
from domain.records import User
from field_api.settings import Settings


@dataclass(frozen=True, slots=True)
class Credential:
    """The outcome of looking at a request's credentials."""

    user: User | None
    via_cookie: bool  # a browser session: state changes need a same-origin request
    presented: bool  # a token or cookie was sent (valid or not)


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    if authorization and scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(user name, token) of HTTP Basic, as ODK Collect sends them; None otherwise."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        name, sep, token = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (name, token) if sep and token else None


def authenticate(
    store: ObservationStore, settings: Settings, authorization: str | None, cookie: str | None
) -> Credential:
    """A bearer token wins over a cookie (an API client that also holds a session); HTTP
    Basic (user name and token) is what OpenRosa clients send."""
    token = bearer_token(authorization)
    if token:
        return Credential(store.user_for_token(token), via_cookie=False, presented=True)
    basic = basic_credentials(authorization)
    if basic is not None:
        user = store.user_for_token(basic[1])
        named = user if user is not None and user.name == basic[0] else None
        return Credential(named, via_cookie=False, presented=True)
    if cookie:
        user = store.session_user(
            cookie,
            idle=timedelta(minutes=settings.session_idle_minutes),
            longest=timedelta(hours=settings.session_max_hours),
        )
        return Credential(user, via_cookie=True, presented=True)
    return Credential(None, via_cookie=False, presented=False)
