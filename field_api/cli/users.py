"""`herdwatch users add | list | revoke | token`: users and their tokens."""

from __future__ import annotations

import argparse
from typing import Any

from domain.records import ROLES
from field_api.cli.common import Command, open_migrated_store
from field_api.settings import Settings


def add_arguments(subparsers: Any) -> None:
    """Register `users` and its subcommands on the main parser."""
    users = subparsers.add_parser("users", help="users and tokens").add_subparsers(
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


def users(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `users` subcommand; a token is printed alone on the last line."""
    store = open_migrated_store(settings, args)
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


COMMANDS: dict[str, Command] = {"users": users}
