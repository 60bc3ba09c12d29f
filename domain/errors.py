"""Domain errors raised by stores; field_api/errors.py maps them to HTTP statuses."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for every error a store raises on purpose."""

    code = "store_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(StoreError):
    code = "not_found"


class Conflict(StoreError):
    """The request contradicts what is stored (different content, stale revision)."""

    code = "conflict"

    def __init__(
        self, message: str, *, field: str | None = None, differing: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, field=field)
        self.differing = differing


class Gone(StoreError):
    """The record was retracted; it stays in the audit trail but cannot be re-created."""

    code = "gone"


class BadDatabaseUrl(StoreError, ValueError):
    """HERDWATCH_DATABASE_URL (or --database-url) names no store this program can open."""

    code = "bad_database_url"


class StoreBusy(StoreError):
    """Another process held the write lock past the wait limit: nothing was written, and
    sending the same upload again is safe."""

    code = "store_busy"
