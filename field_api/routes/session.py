"""Browser login: a token typed once becomes a session cookie (tokens stay valid for the API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from field_api.deps import SettingsDep, StoreDep
from field_api.pages import render_page

router = APIRouter(tags=["pages"])


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(next: str = "/viewer", error: str = "") -> HTMLResponse:
    return HTMLResponse(_page(next, error))


@router.post("/login", include_in_schema=False, response_model=None)
def login(
    store: StoreDep,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=500)],
    next: Annotated[str, Form(max_length=500)] = "/viewer",
) -> RedirectResponse | HTMLResponse:
    """Check the token and start a server-side session, its id kept in a cookie."""
    user = store.user_for_token(token.strip())
    if user is None:
        return HTMLResponse(_page(next, "That token is not valid or was revoked."), status_code=401)
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


def _safe_next(target: str) -> str:
    """Only same-site paths: a login link must not bounce the user to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/viewer"


def _page(next: str, error: str = "") -> str:
    """The sign-in form; `next` is where a successful sign-in goes (same site only)."""
    return render_page("login.html", next=_safe_next(next), error=error)
