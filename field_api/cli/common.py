"""What the command modules share: the type of a command and opening the store."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from data.store import ObservationStore, open_store
from domain.errors import InvalidInput
from domain.i18n import Message
from domain.records import ObservationQuery
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
            Message(
                "no database at {path}: check --database-url / "
                "HERDWATCH_DATABASE_URL, or create it with `herdwatch migrate`",
                path=str(path),
            ),
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


def add_filter_arguments(cmd: argparse.ArgumentParser) -> None:
    """The listing's filters, as `map` and `export` take them."""
    cmd.add_argument("--population", help="population ids, comma-separated")
    cmd.add_argument("--method", help="survey or count method(s), comma-separated")
    cmd.add_argument("--datetime", help="RFC 3339 start/end, '..' for an open end")
    cmd.add_argument("--bbox", help="minLon,minLat,maxLon,maxLat")
    cmd.add_argument("--survey", help="survey id")


def filter_query(args: argparse.Namespace, settings: Settings) -> ObservationQuery:
    """The query of add_filter_arguments' options; InvalidInput names the option at fault."""
    from field_api.filters import observation_query

    return observation_query(
        settings,
        bbox=args.bbox,
        datetime_=args.datetime,
        population=args.population,
        method=args.method,
        survey=args.survey,
    )
