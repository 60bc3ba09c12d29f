"""What the command modules share: the type of a command and opening the store."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from data.store import ObservationStore, open_store
from field_api.settings import Settings

# A command takes the parsed arguments and the settings and returns the exit status.
Command = Callable[[argparse.Namespace, Settings], int]


def open_migrated_store(settings: Settings, args: argparse.Namespace) -> ObservationStore:
    """The store named by --database-url or the settings, its schema brought up to date."""
    store = open_store(getattr(args, "database_url", None) or settings.database_url)
    store.migrate()
    return store
