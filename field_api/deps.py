"""Request dependencies: the store, the settings and the authenticated user by role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from data.store import ObservationStore
from domain.i18n import Message
from domain.records import User
from field_api.auth import Credential, authenticate
from field_api.errors import ApiError
from field_api.guard import CREDENTIAL_KEY
from field_api.settings import Settings
from reports.herd_cache import HerdCache


async def get_store(request: Request) -> ObservationStore:
    store: ObservationStore = request.app.state.store
    return store


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_herd_cache(request: Request) -> HerdCache:
    """The app's herd cache, made on first use (async: on the event loop, so made once)."""
    return herd_cache_of(request.app.state)


def herd_cache_of(state: Any) -> HerdCache:
    """The herd cache on an app's state, made there if it has none (on the event loop, or
    at start before any request)."""
    if getattr(state, "herd_cache", None) is None:
        settings = state.settings
        state.herd_cache = HerdCache(
            keep=settings.herd_cache, files=settings.herd_files_dir(state.store.url)
        )
    cache: HerdCache = state.herd_cache
    return cache


StoreDep = Annotated[ObservationStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
HerdCacheDep = Annotated[HerdCache, Depends(get_herd_cache)]


def request_credential(request: Request, store: ObservationStore, settings: Settings) -> Credential:
    """The request's credential: as the gate found it before the body, else looked up now."""
    found: Credential | None = getattr(request.state, CREDENTIAL_KEY, None)
    if found is None:
        found = authenticate(
            store,
            settings,
            request.headers.get("authorization"),
            request.cookies.get(settings.session_cookie),
        )
        setattr(request.state, CREDENTIAL_KEY, found)
    return found


# Declares the bearer scheme in the OpenAPI document for every route that needs a user;
# the token itself is read by request_credential (a cookie session counts too).
_BEARER = HTTPBearer(auto_error=False, scheme_name="bearer", description="herdwatch users add")


async def current_user(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
) -> User:
    """The user behind the request's token or session; 401 without a valid one.

    Async on purpose: FastAPI runs sync dependencies in its thread pool, and a hop per
    dependency cost more than this one indexed read (a hashed-token primary-key lookup).
    """
    credential = request_credential(request, store, settings)
    if credential.user is not None:
        request.state.user = credential.user
        return credential.user
    if not credential.presented:
        raise ApiError(
            401,
            "unauthorized",
            Message("send Authorization: Bearer <token> (from `herdwatch users add`)"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    raise ApiError(
        401,
        "unauthorized",
        Message("this token is not valid or was revoked, or the session ended: sign in again"),
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def require_role(*roles: str) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets only the given roles through (403 for the others)."""

    async def check(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise ApiError(
                403,
                "forbidden",
                Message(
                    "the {role} role cannot do this; it needs one of: {roles}",
                    role=user.role,
                    roles=", ".join(roles),
                ),
            )
        return user

    return check


AnyUser = Annotated[User, Depends(current_user)]
Uploader = Annotated[User, Depends(require_role("observer", "admin"))]
Reader = Annotated[User, Depends(require_role("observer", "researcher", "admin"))]
Researcher = Annotated[User, Depends(require_role("researcher", "admin"))]
Admin = Annotated[User, Depends(require_role("admin"))]


def may_change(user: User, observer: str) -> bool:
    """Observers change only their own records; admins change anything."""
    return user.role == "admin" or (user.role == "observer" and user.name == observer)


def may_read(user: User, observer: str) -> bool:
    return user.role in ("researcher", "admin") or user.name == observer
