"""`herdwatch`: serve, migrate, manage users and tokens, import files, load demo data.

One module per command group, registered here by name (no discovery: a command whose
module cannot be imported fails at start with its import error). Command modules import
the map and report libraries inside the commands that use them, so `herdwatch users` and
`herdwatch serve` start without them.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import Any

from domain.errors import DomainError
from domain.i18n import LANGUAGES
from field_api.cli import demo, export, field, form, imports, report, serve, transfer, users
from field_api.cli import map as map_command
from field_api.cli.common import Command, _, chosen_language, say, use_language
from field_api.cli.language import argparse_in_language
from field_api.libraries import MissingLibrary, require_libraries
from field_api.settings import Settings

# In the order `herdwatch --help` lists them.
GROUPS = (serve, users, demo, imports, transfer, map_command, report, export, field, form)
COMMANDS: dict[str, Command] = {
    name: run for group in GROUPS for name, run in group.COMMANDS.items()
}


def build_parser() -> argparse.ArgumentParser:
    """The `herdwatch` parser with every command group's subcommands."""
    parser = argparse.ArgumentParser(
        prog="herdwatch",
        description=_("serve, migrate, manage users and tokens, import files, load demo data"),
        formatter_class=DefaultsHelp,
    )
    url_help = _("the store, e.g. sqlite:///herdwatch.db (default: HERDWATCH_DATABASE_URL)")
    lang_help = _("language of messages and help: {languages} (default: HERDWATCH_LANG or en)")
    lang_help = lang_help.format(languages=", ".join(LANGUAGES))
    parser.add_argument("--database-url", help=url_help)
    parser.add_argument("--lang", choices=LANGUAGES, help=lang_help)
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_arguments(sub)
    for command in _leaf_parsers(sub):
        # Before or after the command name alike; SUPPRESS keeps an earlier value.
        command.add_argument("--database-url", default=argparse.SUPPRESS, help=url_help)
        command.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help=lang_help)
    return parser


def _leaf_parsers(sub: argparse._SubParsersAction[Any]) -> list[argparse.ArgumentParser]:
    """Every command's parser (`users add` too), each made to show its defaults."""
    found: list[argparse.ArgumentParser] = []
    for command in sub.choices.values():
        command.formatter_class = DefaultsHelp
        nested = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        found += _leaf_parsers(nested[0]) if nested else [command]
    return found


class DefaultsHelp(argparse.HelpFormatter):
    """--help shows each option's default, where it has a meaningful one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "%(default)" in text or default in (None, False, argparse.SUPPRESS) or not text:
            return text
        if action.option_strings or action.nargs in ("?", "*"):
            return text + " " + _("(default: %(default)s)")
        return text


def console() -> None:
    """The `herdwatch` console script and `python -m field_api.cli`: main, then exit.

    What a command leaves behind (after a report at a million sightings: its herds,
    tables and figures) is freed at exit by reference counting all the same; frozen, it
    is kept out of the collections the interpreter runs as it tears its modules down,
    which walked all of it again (0.45 s of such a report's 4.6; docs/benchmarks.md).
    Only here: tests call main and go on in the same process.
    """
    status = main()
    gc.freeze()
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `herdwatch` console script; a domain error is one line, exit 1.

    The language (--lang, else HERDWATCH_LANG) is chosen first: the help, argparse's own
    refusals, the errors and the summaries are all written in it.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    use_language(chosen_language(arguments))
    with argparse_in_language():
        args = build_parser().parse_args(arguments)
    try:
        require_libraries()
        return COMMANDS[args.command](args, Settings())
    except DomainError as exc:
        print(f"herdwatch: {say(exc.message)}", file=sys.stderr)
        return 1
    except MissingLibrary as exc:
        print(exc, file=sys.stderr)
        return 1
    except Exception as exc:  # one line, never a traceback (HERDWATCH_DEBUG=1 shows it)
        if os.environ.get("HERDWATCH_DEBUG"):
            raise
        text = str(exc).strip() or type(exc).__name__
        print(f"herdwatch: {text.splitlines()[0]}", file=sys.stderr)
        return 1
