"""`herdwatch serve | migrate`: run the server, bring the schema up to date."""

from __future__ import annotations

import argparse
import os
from typing import Any

from data.progress import stderr_bar
from data.store import open_store
from field_api.cli.common import Command, _, open_migrated_store
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
    open_migrated_store(settings, args).close()  # migrate once, before workers start
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
    store.close()
    return 0


COMMANDS: dict[str, Command] = {"serve": serve, "migrate": migrate}
