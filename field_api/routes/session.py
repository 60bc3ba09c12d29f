"""Browser login: a token typed once becomes a session cookie (tokens stay valid for the API);
and the pages' language switch, which keeps the reader's language in a cookie."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from domain.i18n import COOKIE, LANGUAGES, Message, Translator
from field_api.deps import SettingsDep, StoreDep
from field_api.errors import ApiError
from field_api.language import language_headers, request_translator
from field_api.pages import language_switch, render_page

router = APIRouter(tags=["pages"])
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600  # a year: the choice outlives sessions


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/viewer", error: str = "") -> HTMLResponse:
    t = request_translator(request)
    return HTMLResponse(_page(request, t, next, error), headers=language_headers(t.lang))


@router.post("/login", include_in_schema=False, response_model=None)
def login(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=500)],
    next: Annotated[str, Form(max_length=500)] = "/viewer",
) -> RedirectResponse | HTMLResponse:
    """Check the token and start a server-side session, its id kept in a cookie."""
    user = store.user_for_token(token.strip())
    if user is None:
        t = request_translator(request)
        refused = t.gettext("That token is not valid or was revoked.")
        page = _page(request, t, next, refused)
        return HTMLResponse(page, status_code=401, headers=language_headers(t.lang))
    session_token = store.start_session(user.name)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        settings.session_cookie,
        session_token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=int(settings.session_max_hours * 3600),  # the server ends it by then too
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, store: StoreDep, settings: SettingsDep) -> RedirectResponse:
    """End the browser session on the server, not just in the browser."""
    session_token = request.cookies.get(settings.session_cookie)
    if session_token:
        store.end_session(session_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(settings.session_cookie)
    return response


@router.get("/language/{lang}", include_in_schema=False)
def choose_language(lang: str, settings: SettingsDep, next: str = "/viewer") -> RedirectResponse:
    """The language switch: keep the choice in a cookie (every page reads it after `?lang=`)
    and go back to the page, without a `lang` in its address that would outrank the cookie."""
    if lang not in LANGUAGES:
        raise ApiError(404, "not_found", Message("no language {lang}", lang=repr(lang[:20])))
    response = RedirectResponse(_without_lang(_safe_next(next)), status_code=303)
    response.set_cookie(
        COOKIE,
        lang,
        max_age=LANGUAGE_COOKIE_SECONDS,
        path="/",
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


def _safe_next(target: str) -> str:
    """Only same-site paths: a login link must not bounce the user to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/viewer"


def _without_lang(target: str) -> str:
    parts = urlsplit(target)
    query = [
        (k, v)
        for k, _, v in (item.partition("=") for item in parts.query.split("&") if item)
        if k != "lang"
    ]
    rest = "&".join(f"{k}={v}" for k, v in query)
    return parts.path + (f"?{rest}" if rest else "")


def _page(request: Request, t: Translator, next: str, error: str = "") -> str:
    """The sign-in form in t's language; `next` is where a successful sign-in goes (same
    site only)."""
    return render_page(
        "login.html",
        t,
        next=_safe_next(next),
        error=error,
        language_switch=language_switch(request, t),
    )
