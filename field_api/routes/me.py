"""Who the token belongs to: the field app checks a token with this before keeping it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from field_api.deps import AnyUser
from field_api.query_check import DeclaredQueryOnly

router = APIRouter(prefix="/api/v1", tags=["session"], dependencies=[DeclaredQueryOnly])


@router.get("/me")
def me(user: AnyUser) -> dict[str, Any]:
    """The name and role behind the request's token (401 for a bad or revoked one)."""
    return {"name": user.name, "role": user.role}
