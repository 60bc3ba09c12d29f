"""What the command modules share: the type of a command, opening the store, the language.

The language of a run is `--lang` (anywhere on the line), else HERDWATCH_LANG, else
English. It is set once, before the parser is built, so the --help texts, the one-line
errors and the progress and summary lines are all in it; a command line is one process
with one user, so one language for the run is kept here.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from data.store import ObservationStore, open_store, sqlite_path
from domain.errors import InvalidInput
from domain.i18n import DEFAULT_LANGUAGE, LANGUAGES, Message, Translator, negotiate, translator
from domain.i18n import text as in_language
from domain.records import ObservationQuery
from field_api.settings import Settings

# A command takes the parsed arguments and the settings and returns the exit status.
Command = Callable[[argparse.Namespace, Settings], int]
LANG_ENV = "HERDWATCH_LANG"
_language = [DEFAULT_LANGUAGE]  # the run's language (see the module's docstring)


def chosen_language(argv: Sequence[str], environ: Mapping[str, str] = os.environ) -> str:
    """--lang X or --lang=X anywhere on the line, else HERDWATCH_LANG, else English.

    Read before argparse runs, so that its own --help is already in the language; an
    unknown value falls through here and argparse then refuses it (choices=LANGUAGES).
    """
    given = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            given = argv[i + 1]
        elif arg.startswith("--lang="):
            given = arg.partition("=")[2]
    return negotiate(given, environ.get(LANG_ENV), None)


def use_language(lang: str) -> None:
    _language[0] = lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def cli_translator() -> Translator:
    return translator(_language[0])


def _(message: str) -> str:
    """A help text or a printed line in the run's language."""
    return cli_translator().gettext(message)


def say(message: str | Message) -> str:
    """A Message (an error's reason, a summary line) in the run's language."""
    return in_language(message, cli_translator())


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


def add_filter_arguments(cmd: argparse.ArgumentParser) -> None:
    """The listing's filters, as `map` and `export` take them."""
    cmd.add_argument("--population", help=_("population ids, comma-separated"))
    cmd.add_argument("--method", help=_("survey or count method(s), comma-separated"))
    cmd.add_argument("--datetime", help=_("RFC 3339 start/end, '..' for an open end"))
    cmd.add_argument("--bbox", help=_("minLon,minLat,maxLon,maxLat"))
    cmd.add_argument("--survey", help=_("survey id"))


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


def group_herds_for_reports(
    store: ObservationStore, settings: Settings, *, unless_saved: bool = False
) -> Message | None:
    """Group the store's herds now and save them where the server and `herdwatch report`
    look first (HERDWATCH_HERD_FILES): after a large import, a transfer or an upgrade of
    the herd code the first report then reads them instead of grouping every sighting.
    None where nothing is saved, and with `unless_saved` where a grouping the reports can
    start from is saved already (they regroup what changed since) or there is no sighting."""
    import time

    files = herds_to_group(store, settings) if unless_saved else settings.herd_files_dir(store.url)
    if files is None:
        return None
    from reports.herd_cache import HerdCache  # here: the check above needs no pandas

    began = time.perf_counter()
    cache = HerdCache(keep=False, files=files)
    _, tables = cache.herds(store, settings.season_calendar)
    cache.wait_for_save()
    herds, seconds = tables.grouping.n_herds, round(time.perf_counter() - began, 1)
    if cache.save_error is not None:
        return Message(
            "grouped {herds} herds for reports in {seconds} s, not saved in {folder}: {reason}",
            herds=herds,
            seconds=seconds,
            folder=str(files),
            reason=cache.save_error,
        )
    return Message(
        "grouped {herds} herds for reports in {seconds} s (saved in {folder})",
        herds=herds,
        seconds=seconds,  # 1 decimal, in the locale's way
        folder=str(files),
    )


def herds_to_group(store: ObservationStore, settings: Settings) -> Path | None:
    """Where to save the store's herds, when they should be grouped now: herd files on,
    a sighting stored and no grouping saved that the reports can start from (checked
    without reading it, nor loading pandas). Says so, as the grouping takes seconds at a
    million sightings."""
    from reports.herd_file import usable

    files = settings.herd_files_dir(store.url)
    if files is None or store.count_at_most(ObservationQuery(), 0) == 0:
        return None
    if usable(files, store, settings.season_calendar):
        return None
    waiting = Message("grouping herds for reports (none saved in {folder})…", folder=str(files))
    print(say(waiting), flush=True)
    return files


def current_language() -> str:
    return _language[0]


def grouped_for_reports(
    store: ObservationStore,
    settings: Settings,
    *,
    unless_saved: bool = False,
    interruptible: bool = False,
) -> Message | None:
    """group_herds_for_reports, or None with a warning on stderr where it fails: the
    command's own work (an import, a transfer, the migrations) has succeeded either way,
    and the first report groups the herds instead. Ctrl-C is warned of too, and raised
    again where `interruptible` (a command that stops there, as `migrate`)."""
    try:
        return group_herds_for_reports(store, settings, unless_saved=unless_saved)
    # Ctrl-C while grouping: an import's or a transfer's summary is still printed.
    except KeyboardInterrupt:
        warn_not_grouped(_("interrupted"))
        if interruptible:
            raise
        return None
    except Exception as error:  # a full disk, memory, a damaged saved grouping
        warn_not_grouped(str(error) or type(error).__name__)  # MemoryError() says nothing
        return None


def warn_not_grouped(reason: str) -> None:
    import sys

    print(say(Message("herds not grouped for reports: {reason}", reason=reason)), file=sys.stderr)
