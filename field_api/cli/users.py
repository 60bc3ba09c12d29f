"""`herdwatch users add | list | revoke | token`: users and their tokens."""

from __future__ import annotations

import argparse
from typing import Any

from domain.i18n import Message
from domain.records import ROLES
from field_api.cli.common import Command, _, open_migrated_store, say
from field_api.settings import Settings


def add_arguments(subparsers: Any) -> None:
    """Register `users` and its subcommands on the main parser."""
    users = subparsers.add_parser("users", help=_("users and tokens")).add_subparsers(
        dest="users_command", required=True
    )
    add = users.add_parser(
        "add", help=_("create a user; its new token is printed alone on the last line")
    )
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    users.add_parser("list", help=_("list users and roles"))
    revoke = users.add_parser("revoke", help=_("deactivate a user and revoke every token"))
    revoke.add_argument("name")
    token = users.add_parser(
        "token", help=_("issue another token for a user (printed on the last line)")
    )
    token.add_argument("name")


def users(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `users` subcommand; a token is printed alone on the last line."""
    store = open_migrated_store(settings, args)
    try:
        if args.users_command == "add":
            token = store.add_user(args.name, args.role)
            print(
                say(
                    Message(
                        "created {role} {name}; keep this token, it is shown only once:",
                        role=str(args.role),
                        name=str(args.name),
                    )
                )
            )
            print(token)
        elif args.users_command == "token":
            token = store.add_token(args.name)
            print(say(Message("new token for {name}:", name=str(args.name))))
            print(token)
        elif args.users_command == "list":
            for user in store.list_users():
                state = _("active") if user.active else _("revoked")
                print(f"{user.name}\t{user.role}\t{state}")
        elif args.users_command == "revoke":
            store.revoke_user(args.name)
            print(say(Message("revoked {name} and all its tokens", name=str(args.name))))
    finally:
        store.close()
    return 0


COMMANDS: dict[str, Command] = {"users": users}
