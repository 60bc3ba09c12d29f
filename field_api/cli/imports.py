"""`herdwatch import FILE`: survey data from CSV, spreadsheets, GIS layers, Movebank, ODK
and Kobo exports, with column mapping, a dry run and a row-by-row report.

Ids come from a UUID column, or are made from the file's name and the row, so importing
the same file again adds nothing and a corrected row is reported as a conflict. An import
is all or nothing unless --skip-invalid is given (or --commit-every, for very large files).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from data.imports import ImportOptions, run_import
from data.imports.mapping import pairs
from data.imports.readers import FORMATS
from data.imports.report import CsvReport, RowResult
from domain.i18n import Joined, Message, PluralMessage
from field_api.cli.common import Command, _, grouped_for_reports, open_migrated_store, say
from field_api.settings import Settings

SHOWN_ROWS = 20  # rows listed on the screen; --report has them all


def add_arguments(subparsers: Any) -> None:
    """Register `herdwatch import` on the main parser."""
    cmd = subparsers.add_parser(
        "import",
        help=_("import observations from a file (CSV, xlsx, GIS layers, Movebank, ODK, Kobo)"),
        description=_(
            "Survey data from CSV, spreadsheets, GIS layers, Movebank, ODK and Kobo exports, "
            "with column mapping, a dry run and a row-by-row report. Ids come from a UUID "
            "column, or are made from the file's name and the row, so importing the same file "
            "again adds nothing and a corrected row is reported as a conflict. An import is "
            "all or nothing unless --skip-invalid is given (or --commit-every, for very large "
            "files)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("file", type=Path, metavar="FILE")
    cmd.add_argument("--format", choices=FORMATS, help=_("default: guessed from the file"))
    cmd.add_argument("--layer", help=_("GeoPackage layer or spreadsheet sheet (default: first)"))
    cmd.add_argument("--crs", help=_("CRS of x/y columns, e.g. EPSG:25833 (default EPSG:4326)"))
    cmd.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=_("read FIELD from COLUMN (x/y in --crs, lon/lat, geopoint, id, any property)"),
    )
    cmd.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=_("the same value for every row, e.g. count=1 population=lena-olenek"),
    )
    cmd.add_argument("--timezone", help=_("IANA zone of times without an offset, and the records'"))
    cmd.add_argument("--survey", help=_("survey id every observation belongs to (must exist)"))
    cmd.add_argument("--dry-run", action="store_true", help=_("report only; write nothing"))
    cmd.add_argument(
        "--skip-invalid", action="store_true", help=_("store the valid rows even if others are not")
    )
    cmd.add_argument(
        "--commit-every",
        type=int,
        metavar="ROWS",
        help=_(
            "very large files: one transaction per ROWS rows instead of one for the file "
            "(every row is checked first; an interrupted import resumes when run again)"
        ),
    )
    cmd.add_argument(
        "--report", type=Path, metavar="FILE", help=_("write every row's outcome (CSV)")
    )
    cmd.add_argument("--observer", default="import", help=_("account the records belong to"))
    cmd.add_argument("--no-progress", action="store_true", help=_("no progress bar"))


def import_file(args: argparse.Namespace, settings: Settings) -> int:
    """Run the import, draw a progress bar, print the verdict and the rows that need care."""
    from tqdm import tqdm

    from field_api.ingest import upload_rules  # here: it brings FastAPI (0.35 s)

    if not args.file.is_file():
        print(
            say(Message("herdwatch import: no file {file}", file=str(args.file))), file=sys.stderr
        )
        return 2
    if args.commit_every is not None and args.commit_every < 1:
        print(_("herdwatch import: --commit-every must be at least 1"), file=sys.stderr)
        return 2
    options = ImportOptions(
        format=args.format,
        layer=args.layer,
        crs=args.crs,
        maps=pairs(args.map, "map"),
        sets=pairs(args.set, "set"),
        timezone=args.timezone,
        survey=args.survey,
        dry_run=args.dry_run,
        skip_invalid=args.skip_invalid,
        commit_every=args.commit_every,
    )
    shown: list[RowResult] = []
    store = open_migrated_store(settings, args)
    with ExitStack() as stack:
        stack.callback(store.close)
        report = CsvReport(stack.enter_context(args.report.open("w"))) if args.report else None
        bar = stack.enter_context(
            tqdm(unit="rows", desc=_("import"), disable=args.no_progress, file=sys.stderr)
        )

        def on_row(result: RowResult) -> None:
            if report is not None:
                report(result)
            if result.status not in ("created", "unchanged") and len(shown) < SHOWN_ROWS:
                shown.append(result)

        summary = run_import(
            store,
            args.file,
            options,
            rules=upload_rules(settings),
            actor=args.observer,
            on_row=on_row,
            progress=bar.update,
        )
        imported = summary.committed and not summary.dry_run and summary.counts["created"] > 0
        grouped = grouped_for_reports(store, settings) if imported else None
    for result in shown:
        print(
            say(
                Message(
                    "row {row}: {status}: {reasons}",
                    row=str(result.row),
                    status=result.status,
                    reasons=Joined(result.reasons),
                )
            )
        )
    hidden = summary.rows - summary.counts["created"] - summary.counts["unchanged"] - len(shown)
    if hidden > 0:
        where = (
            Message("(all in {report})", report=str(args.report))
            if args.report
            else Message("(--report FILE lists them all)")
        )
        print(
            say(
                PluralMessage(
                    "… and {n} more row not created or unchanged {where}",
                    "… and {n} more rows not created or unchanged {where}",
                    n=hidden,
                    where=where,
                )
            )
        )
    print(say(summary.verdict()))
    if grouped is not None:
        print(say(grouped))
    if summary.dry_run:
        return 1 if summary.counts["invalid"] else 0
    return 0 if summary.committed else 1


COMMANDS: dict[str, Command] = {"import": import_file}
