"""`herdwatch`: serve, migrate, manage users and tokens, load demo data (cron-friendly)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from data.store import ObservationStore, open_store
from domain.records import ROLES, ObservationQuery
from field_api.settings import Settings

Command = Callable[[argparse.Namespace, Settings], int]
_COMMANDS: dict[str, Command] = {}
_EXTENSIONS = ("field_api.cli_transfer", "field_api.cli_map", "field_api.cli_report")


def command(name: str) -> Callable[[Command], Command]:
    def register(func: Command) -> Command:
        _COMMANDS[name] = func
        return func

    return register


def _store(settings: Settings, args: argparse.Namespace) -> ObservationStore:
    store = open_store(getattr(args, "database_url", None) or settings.database_url)
    store.migrate()
    return store


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="herdwatch", description=__doc__)
    parser.add_argument("--database-url", help="overrides HERDWATCH_DATABASE_URL")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API and the map viewer")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (PostGIS, or SQLite with care)"
    )
    serve.add_argument("--log-level", default="info")
    sub.add_parser("migrate", help="apply pending schema migrations")
    users = sub.add_parser("users", help="users and tokens").add_subparsers(
        dest="users_command", required=True
    )
    add = users.add_parser(
        "add", help="create a user; its new token is printed alone on the last line"
    )
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    users.add_parser("list", help="list users and roles")
    revoke = users.add_parser("revoke", help="deactivate a user and revoke every token")
    revoke.add_argument("name")
    token = users.add_parser(
        "token", help="issue another token for a user (printed on the last line)"
    )
    token.add_argument("name")
    demo = sub.add_parser("demo", help="load labelled synthetic demo data")
    demo.add_argument(
        "--if-empty", action="store_true", help="only when the store holds no observations"
    )
    demo.add_argument("--per-survey", type=int, default=60)
    for module in _extensions():
        module.add_arguments(sub)
    return parser


def _extensions() -> list[Any]:
    import importlib

    found = []
    for name in _EXTENSIONS:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError:
            continue
    return found


@command("serve")
def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import os

    import uvicorn

    if args.database_url:
        os.environ["HERDWATCH_DATABASE_URL"] = args.database_url
    _store(settings, args).close()  # migrate once, before workers start
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


@command("migrate")
def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args.database_url or settings.database_url)
    applied = store.migrate()
    print("applied: " + ", ".join(applied) if applied else "schema is up to date")
    store.close()
    return 0


@command("users")
def _users(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings, args)
    try:
        if args.users_command == "add":
            token = store.add_user(args.name, args.role)
            print(f"created {args.role} {args.name}; keep this token, it is shown only once:")
            print(token)
        elif args.users_command == "token":
            token = store.add_token(args.name)
            print(f"new token for {args.name}:")
            print(token)
        elif args.users_command == "list":
            for user in store.list_users():
                print(f"{user.name}\t{user.role}\t{'active' if user.active else 'revoked'}")
        elif args.users_command == "revoke":
            store.revoke_user(args.name)
            print(f"revoked {args.name} and all its tokens")
    finally:
        store.close()
    return 0


@command("demo")
def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from data.demo import demo_dataset

    store = _store(settings, args)
    try:
        if args.if_empty and store.count_observations(ObservationQuery(include_retracted=True)) > 0:
            print("store already holds observations: demo data not loaded")
        else:
            surveys, observations = demo_dataset(per_survey=args.per_survey)
            for survey in surveys:
                store.add_survey(survey)
            for start in range(0, len(observations), 2000):
                store.add_observations(observations[start : start + 2000], actor="demo")
            print(
                f"loaded {len(observations):,} SYNTHETIC observations in {len(surveys)} surveys "
                "(flag 'synthetic'; not real survey data)"
            )
        _print_demo_logins(store)
    finally:
        store.close()
    return 0


def _print_demo_logins(store: ObservationStore) -> None:
    """Fresh demo tokens each time: stored tokens are hashed, so old ones cannot be shown."""
    names = {u.name for u in store.list_users()}
    tokens = {}
    for name, role in (("demo-researcher", "researcher"), ("demo-observer", "observer")):
        tokens[name] = store.add_token(name) if name in names else store.add_user(name, role)
    print("demo logins (synthetic data):")
    print(f"  researcher token: {tokens['demo-researcher']}")
    print(f"  observer token:   {tokens['demo-observer']}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `herdwatch` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings()
    handler = _COMMANDS.get(args.command)
    for module in _extensions():
        handler = handler or module.COMMANDS.get(args.command)
    if handler is None:
        parser.error(f"unknown command {args.command}")
    from domain.errors import StoreError

    try:
        return handler(args, settings)
    except StoreError as exc:
        print(f"herdwatch: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
