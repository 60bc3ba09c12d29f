"""`herdwatch`: serve, migrate, manage users and tokens, import files, load demo data.

One module per command group, registered here by name (no discovery: a command whose
module cannot be imported fails at start with its import error). Command modules import
the map and report libraries inside the commands that use them, so `herdwatch users` and
`herdwatch serve` start without them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from domain.errors import DomainError
from field_api.cli import demo, export, field, form, imports, report, serve, transfer, users
from field_api.cli import map as map_command
from field_api.cli.common import Command
from field_api.libraries import MissingLibrary, require_libraries
from field_api.settings import Settings

# In the order `herdwatch --help` lists them.
GROUPS = (serve, users, demo, imports, transfer, map_command, report, export, field, form)
COMMANDS: dict[str, Command] = {
    name: run for group in GROUPS for name, run in group.COMMANDS.items()
}


def build_parser() -> argparse.ArgumentParser:
    """The `herdwatch` parser with every command group's subcommands."""
    parser = argparse.ArgumentParser(prog="herdwatch", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="overrides HERDWATCH_DATABASE_URL")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `herdwatch` console script; a domain error is one line, exit 1."""
    args = build_parser().parse_args(argv)
    try:
        require_libraries()
        return COMMANDS[args.command](args, Settings())
    except DomainError as exc:
        print(f"herdwatch: {exc.message}", file=sys.stderr)
        return 1
    except MissingLibrary as exc:
        print(exc, file=sys.stderr)
        return 1
