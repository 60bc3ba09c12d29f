"""Which failures of a store mean "try again later" (503 with Retry-After), not a bug.

The disk filling up under SQLite (SQLITE_FULL, ENOSPC, an I/O error) and PostgreSQL being
restarted or unreachable (a dropped connection, a pool that cannot connect) leave nothing
half-written: a transaction that fails is rolled back whole, so the client may resend the
same request later and gets the same outcome as if the first had never arrived.
"""

from __future__ import annotations

import errno
import sqlite3

from domain.i18n import Message

RETRY_AFTER_SECONDS = 5

_SQLITE_RETRYABLE = ("disk is full", "disk i/o error", "database is locked", "unable to open")


def unavailable_reason(exc: BaseException) -> Message | None:
    """Why `exc` (or an error it was raised from) is a passing fault of the store, or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        reason = _reason(current)
        if reason:
            return reason
        current = current.__cause__ or current.__context__
    return None


def _reason(exc: BaseException) -> Message | None:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Message("the server's disk is full: nothing was stored; send it again later")
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if "disk is full" in text:
            return Message("the server's disk is full: nothing was stored; send it again later")
        if any(part in text for part in _SQLITE_RETRYABLE):
            return Message(
                "the database cannot be written now ({error}): nothing was stored", error=str(exc)
            )
    module = type(exc).__module__
    if module.startswith(("psycopg", "psycopg_pool")):
        name = type(exc).__name__
        if name in ("OperationalError", "PoolTimeout", "InterfaceError", "AdminShutdown"):
            return Message("the database is not reachable (restarting?): nothing was stored")
    return None
