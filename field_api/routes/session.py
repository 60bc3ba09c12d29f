"""Browser login: a token typed once becomes a session cookie (tokens stay valid for the API)."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from field_api.deps import SettingsDep, StoreDep

router = APIRouter(tags=["pages"])

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herdwatch · sign in</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}}
input,button{{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.3rem 0}}
.error{{color:#a00}}</style></head><body>
<h1>Herdwatch</h1><p>Wild reindeer counts, Yakutia. Sign in with your access token
(an administrator makes one with <code>herdwatch users add NAME --role researcher</code>).</p>
<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit" id="sign-in">Sign in</button></form>
<p class="error" id="login-error">{error}</p>
</body></html>"""


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(next: str = "/viewer", error: str = "") -> HTMLResponse:
    return HTMLResponse(_PAGE.format(next=escape(_safe_next(next)), error=escape(error)))


@router.post("/login", include_in_schema=False, response_model=None)
def login(
    store: StoreDep,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=500)],
    next: Annotated[str, Form(max_length=500)] = "/viewer",
) -> RedirectResponse | HTMLResponse:
    """Check the token and start a session: a new token of the same user, kept in a cookie."""
    user = store.user_for_token(token.strip())
    if user is None:
        return HTMLResponse(
            _PAGE.format(
                next=escape(_safe_next(next)), error="That token is not valid or was revoked."
            ),
            status_code=401,
        )
    session_token = store.add_token(user.name)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        settings.session_cookie,
        session_token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=14 * 24 * 3600,
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, store: StoreDep, settings: SettingsDep) -> RedirectResponse:
    """End the browser session: its token is revoked, not just forgotten by the browser."""
    session_token = request.cookies.get(settings.session_cookie)
    if session_token:
        store.revoke_token(session_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(settings.session_cookie)
    return response


def _safe_next(target: str) -> str:
    """Only same-site paths: a login link must not bounce the user to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/viewer"
