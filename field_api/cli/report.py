"""`herdwatch report`: write one period's population report, or every completed one (cron)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.census import CensusRule
from domain.errors import DomainError
from domain.i18n import Message, PluralMessage
from domain.periods import EVERY, PeriodError, parse_period
from field_api.cli.common import Command, _, cli_translator, open_existing_store, say
from field_api.settings import Settings

if TYPE_CHECKING:
    from domain.seasons import SeasonCalendar
    from reports.herds import HerdTables, ReportInputs


def add_arguments(subparsers: Any) -> None:
    """Register `report` on the main parser's subcommands."""
    report = subparsers.add_parser(
        "report",
        help=_("write population reports (HTML, PDF, CSV, GeoPackage)"),
        description=_(
            "One period: --every year --period 2024. Every completed period not yet "
            "written: --due (one daily cron line is the whole schedule; a second run "
            "writes nothing)."
        ),
    )
    report.add_argument(
        "--every", choices=EVERY, help=_("month, season or year (with --due: only these)")
    )
    report.add_argument("--period", help=_("2024, 2024-07 or 2024-calving (local time)"))
    report.add_argument(
        "--due", action="store_true", help=_("write every completed period not yet written")
    )
    report.add_argument("--out", type=Path, default=Path("reports-out"), help=_("output folder"))
    report.add_argument(
        "--format", default="html,pdf,csv,gpkg", help=_("comma-separated: html,pdf,csv,gpkg")
    )
    report.add_argument(
        "--census-season",
        action="append",
        metavar="POPULATION=SEASON",
        help=_(
            "the season of a population's census survey, e.g. lena-olenek=post-calving "
            "(repeatable; default HERDWATCH_CENSUS_SEASONS): its count is the population's figure"
        ),
    )
    report.add_argument(
        "--census-survey",
        action="append",
        metavar="SURVEY_ID",
        help=_("a survey that is a census (repeatable; default HERDWATCH_CENSUS_SURVEYS)"),
    )


def run_report(args: argparse.Namespace, settings: Settings) -> int:
    """Validate the arguments, load and de-duplicate once, write each report asked for."""
    from reports import chart_process
    from reports.herd_cache import HerdCache
    from reports.output import parse_formats
    from reports.served import load_renderers_meanwhile

    try:
        formats = parse_formats(args.format)
        seasons = settings.season_calendar
        census = _census(args, settings)
        if not args.due:
            if not (args.every and args.period):
                raise PeriodError("period", Message("give --every and --period, or --due"))
            parse_period(args.every, args.period, seasons)
    except ValueError as exc:
        reason = exc.message if isinstance(exc, DomainError) else str(exc)
        print(say(Message("herdwatch report: {reason}", reason=reason)), file=sys.stderr)
        return 2
    store = open_existing_store(settings, args)
    drawn = "html" in formats or "pdf" in formats
    if drawn:
        # Meanwhile, on a thread and in the map's helper process: the renderers' imports
        # (matplotlib, reportlab: about a second) overlap the read of the herds.
        load_renderers_meanwhile()
    with chart_process.used(enabled=drawn and settings.chart_process):
        try:
            store.migrate()
            # The grouping saved by the server or an earlier run, brought up to date, else
            # built (and saved for the next, on a thread while the files are written).
            cache = HerdCache(keep=False, files=settings.herd_files_dir(store.url))
            inputs, tables = cache.herds(store, seasons)
        finally:
            store.close()
        try:
            return _write_reports(args, inputs, tables, seasons, census, formats)
        finally:
            cache.wait_for_save()  # the saved grouping whole before the process ends


def _write_reports(
    args: argparse.Namespace,
    inputs: ReportInputs,
    tables: HerdTables,
    seasons: SeasonCalendar,
    census: CensusRule,
    formats: Any,
) -> int:
    """Each period asked for (or due), computed and written; the exit status."""
    from reports.output import due_periods, write_report
    from reports.population import compute_report

    if args.due:
        everies = [args.every] if args.every else list(EVERY)
        todo = due_periods(args.out, tables, seasons, everies=everies)
    else:
        todo = [(args.every, args.period)]
    for every, key in todo:
        report = compute_report(inputs, tables, every, key, census=census)
        if len(report.herds) == 0:
            print(
                say(
                    Message(
                        "no sightings in {every} {key}: nothing written",
                        every=str(every),
                        key=str(key),
                    )
                ),
                file=sys.stderr,
            )
            return 1
        # The run's language (--lang, else HERDWATCH_LANG): the files, as the messages.
        paths = write_report(report, args.out, formats, cli_translator().lang)
        print(
            say(
                PluralMessage(
                    "{every} {key}: wrote {n} file in {parent}",
                    "{every} {key}: wrote {n} files in {parent}",
                    n=len(paths),
                    every=str(every),
                    key=str(key),
                    parent=str(paths[0].parent),
                )
            )
        )
    if args.due and not todo:
        print(_("no completed period is waiting: nothing written"))
    return 0


def _census(args: argparse.Namespace, settings: Settings) -> CensusRule:
    """The command line's census designation, else the settings'."""
    if not args.census_season and not args.census_survey:
        return settings.census
    return CensusRule.parse(args.census_season or (), args.census_survey or ())


COMMANDS: dict[str, Command] = {"report": run_report}
