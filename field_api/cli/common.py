"""What the command modules share: the type of a command and opening the store."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from data.store import ObservationStore, open_store
from domain.errors import InvalidInput
from field_api.settings import Settings

# A command takes the parsed arguments and the settings and returns the exit status.
Command = Callable[[argparse.Namespace, Settings], int]


class NoDatabase(InvalidInput):
    """A SQLite file that does not exist: only `herdwatch migrate` makes a new database."""

    code = "no_database"


def database_url(settings: Settings, args: argparse.Namespace) -> str:
    return getattr(args, "database_url", None) or settings.database_url


def open_existing_store(settings: Settings, args: argparse.Namespace) -> ObservationStore:
    """The store named by --database-url or the settings, which must exist already.

    A mistyped SQLite path used to make a new empty database silently (then `users list`
    printed nothing and `map` drew an empty map): every command but `migrate` refuses it.
    """
    url = database_url(settings, args)
    path = sqlite_path(url)
    if path is not None and not Path(path).is_file():
        raise NoDatabase(
            f"no database at {path}: check --database-url / HERDWATCH_DATABASE_URL, "
            "or create it with `herdwatch migrate`",
            field="database_url",
        )
    return open_store(url)


def open_migrated_store(settings: Settings, args: argparse.Namespace) -> ObservationStore:
    """An existing store, its schema brought up to date."""
    store = open_existing_store(settings, args)
    store.migrate()
    return store


def sqlite_path(url: str) -> str | None:
    if not url.startswith("sqlite:"):
        return None
    return url.removeprefix("sqlite:///").removeprefix("sqlite://") or None
