"""`herdwatch export`: every observation a filter selects, to one file in a GIS format."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from data.exports.service import FORMATS, write_export
from data.progress import stderr_bar
from domain.errors import InvalidInput
from domain.i18n import Message
from field_api.cli.common import (
    Command,
    _,
    add_filter_arguments,
    filter_query,
    open_migrated_store,
    say,
)
from field_api.settings import Settings


def add_arguments(subparsers: Any) -> None:
    """Register `herdwatch export` on the main parser."""
    cmd = subparsers.add_parser(
        "export",
        help=_("export observations to GeoJSON, CSV, GeoPackage, GeoParquet, FlatGeobuf or DwC-A"),
    )
    cmd.add_argument("--format", choices=list(FORMATS), required=True, help=_("the file format"))
    cmd.add_argument("--out", type=Path, required=True, help=_("the file to write (replaced)"))
    add_filter_arguments(cmd)
    cmd.add_argument("--no-progress", action="store_true", help=_("draw no progress bar"))


def export(args: argparse.Namespace, settings: Settings) -> int:
    """Count what the filter selects (for the bar), then write the file page by page."""
    try:
        query = filter_query(args, settings)
    except InvalidInput as exc:
        print(say(Message("herdwatch export: {message}", message=exc.message)), file=sys.stderr)
        return 2
    store = open_migrated_store(settings, args)
    try:
        total = store.count_observations(query)
        bar = stderr_bar(f"export {args.format}")
        progress = None if args.no_progress or not total else (lambda done: bar(done, total))
        started = time.perf_counter()
        args.out.unlink(missing_ok=True)  # GDAL would add a layer to an old GeoPackage
        write_export(
            store, query, args.format, args.out, dataset=settings.dataset_info(), progress=progress
        )
    finally:
        store.close()
    seconds = time.perf_counter() - started
    size = args.out.stat().st_size / 1e6
    print(
        say(
            Message(
                "wrote {out} ({size} MB): {total} observations in {seconds} s",
                out=str(args.out),
                size=f"{size:.2f}",
                total=total,
                seconds=f"{seconds:.1f}",
            )
        )
    )
    return 0


COMMANDS: dict[str, Command] = {"export": export}
