"""`herdwatch serve | migrate`: run the server, bring the schema up to date.

Both also leave a saved herd grouping the reports can start from (HERDWATCH_HERD_FILES;
`serve` groups in a process of its own, so the server's process does not keep its memory),
grouping the herds where none is saved (a store's first start, an upgrade of the herd
code, other seasons): every worker's first report then reads it and regroups only what
changed since, instead of reading and grouping every sighting (seconds at a million).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from data.progress import stderr_bar
from data.store import ObservationStore, open_store
from field_api.cli.common import (
    Command,
    _,
    current_language,
    grouped_for_reports,
    herds_to_group,
    open_migrated_store,
    say,
    use_language,
    warn_not_grouped,
)
from field_api.settings import Settings


def add_arguments(subparsers: Any) -> None:
    """Register `serve` and `migrate` on the main parser."""
    serve = subparsers.add_parser("serve", help=_("serve the API and the map viewer"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=1, help=_("worker processes (PostGIS, or SQLite with care)")
    )
    serve.add_argument("--log-level", default="info")
    subparsers.add_parser("migrate", help=_("apply pending schema migrations"))


def serve(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate once, then hand over to uvicorn (each worker builds its own app)."""
    import uvicorn

    if args.database_url:
        os.environ["HERDWATCH_DATABASE_URL"] = args.database_url
    store = open_migrated_store(settings, args)  # migrate once, before workers start
    try:
        grouping = _herds_to_group(store, settings)  # once too: the workers read what it saves
    finally:
        store.close()
    if grouping is not None and not _group_herds_apart(store.url):
        return 130  # Ctrl-C while the herds were grouped: the server was not started
    uvicorn.run(
        "field_api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,
    )
    return 0


def migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Apply pending migrations and say which."""
    store = open_store(args.database_url or settings.database_url)
    applied = store.migrate(progress=stderr_bar("feature texts"))
    print("applied: " + ", ".join(applied) if applied else "schema is up to date")
    try:
        grouped = grouped_for_reports(store, settings, unless_saved=True, interruptible=True)
    except KeyboardInterrupt:  # warned of: `migrate && serve` stops here, as for SIGINT
        return 130
    finally:
        store.close()
    if grouped is not None:
        print(say(grouped))
    return 0


def _herds_to_group(store: ObservationStore, settings: Settings) -> Path | None:
    """herds_to_group, or None with a warning where the check fails: the server starts
    all the same, and its first report groups the herds."""
    try:
        return herds_to_group(store, settings)
    except Exception as error:
        warn_not_grouped(str(error) or type(error).__name__)
        return None


def _group_herds_apart(url: str) -> bool:
    """Group and save the herds in a process of its own, and wait for it: with one worker
    the server runs in this process, which held 302 MB after start, not 142 MB, when it
    grouped a million sightings itself (the allocator keeps what the build freed).
    False on Ctrl-C."""
    import multiprocessing

    child = multiprocessing.get_context("spawn").Process(
        target=_group_herds_here, args=(url, current_language()), name="herdwatch-herds"
    )
    child.start()
    try:
        child.join()
    except KeyboardInterrupt:  # the terminal sent it to both: the child says so and stops
        child.join(timeout=10)
        if child.is_alive():  # sent to this process alone (kill -INT): stop it too
            child.terminate()
            child.join()
        return False
    if child.exitcode != 0:  # killed (the OOM killer) or failed: the workers group instead
        warn_not_grouped(
            _("the grouping process ended with exit code {code}").format(code=child.exitcode)
        )
    return True


def _group_herds_here(url: str, lang: str) -> None:
    """In the child: the grouping and its message, as `herdwatch migrate` prints them."""
    use_language(lang)
    settings = Settings()
    store = open_store(url)
    try:
        grouped = grouped_for_reports(store, settings)
    finally:
        store.close()
    if grouped is not None:
        print(say(grouped), flush=True)


COMMANDS: dict[str, Command] = {"serve": serve, "migrate": migrate}
