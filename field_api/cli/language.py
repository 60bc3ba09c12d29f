"""argparse's own words (usage, options, its refusals) in the command line's language.

argparse writes them through `gettext` of its own module with no catalogue, so they would
stay English whatever the run's language. The ones a user meets are listed here, so that
`make messages` extracts them into our catalogue, and while the parser is built and runs,
argparse's `_` and `ngettext` are the run's translator's. The msgids are argparse's own
(Python 3.11 to 3.13); one that a later Python words differently stays English.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from domain.i18n import N_
from field_api.cli.common import cli_translator

ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("expected one argument"),
    N_("expected at least one argument"),
    N_("expected at most one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("ignored explicit argument %r"),
)


@contextmanager
def argparse_in_language() -> Iterator[None]:
    """argparse speaks the run's language inside this block (its globals restored after)."""
    t = cli_translator()
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = t.gettext, t.ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]
