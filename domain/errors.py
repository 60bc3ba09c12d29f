"""Domain errors: each says which field is at fault and why, and knows no HTTP.

field_api/errors.py holds the one table that turns them into HTTP answers; the CLI prints
any of them as one line (`herdwatch: <reason>`) and exits non-zero.
"""

from __future__ import annotations

from domain.i18n import Message


class DomainError(Exception):
    """Base class of every error raised on purpose below the interfaces.

    `code` is machine-readable (never translated), `message` is the reason a person can act
    on, and `field` names the input at fault when there is one. The message is a `Message`
    (domain/i18n.py) so that an HTTP answer or the CLI renders it in its user's language;
    str(error) is the English text, for logs.
    """

    code = "domain_error"

    def __init__(
        self, message: str | Message, *, field: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InvalidInput(DomainError, ValueError):
    """A value a caller gave (a filter, a period, a decision) that the rules refuse."""

    code = "invalid"


class Unavailable(DomainError):
    """Something the server needs is not installed or not reachable (try again later)."""

    code = "unavailable"


class StoreError(DomainError):
    """Base class for every error a store raises on purpose."""

    code = "store_error"


class NotFound(StoreError):
    code = "not_found"


class Conflict(StoreError):
    """The request contradicts what is stored (different content, stale revision)."""

    code = "conflict"

    def __init__(
        self, message: str | Message, *, field: str | None = None, differing: tuple[str, ...] = ()
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
