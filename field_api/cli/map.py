"""`herdwatch map`: write the herd-count map to one HTML file that opens offline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, get_args

from domain.errors import InvalidInput
from domain.i18n import Message
from domain.records import Period
from field_api.cli.common import (
    Command,
    _,
    add_filter_arguments,
    cli_translator,
    filter_query,
    open_existing_store,
    say,
)
from field_api.settings import Settings
from geo.grid import MAX_CELL_KM, MIN_CELL_KM
from maps.assets import AssetsMissing, inlined_assets


def add_arguments(subparsers: Any) -> None:
    """Register `herdwatch map` on the main parser."""
    cmd = subparsers.add_parser("map", help=_("write the herd-count map over time to an HTML file"))
    cmd.add_argument("--every", choices=get_args(Period), default="year", help=_("slider period"))
    cmd.add_argument("--out", type=Path, required=True, help=_("the HTML file to write"))
    add_filter_arguments(cmd)
    cmd.add_argument(
        "--cell-km", type=float, help=_("cell size in km (default follows the extent)")
    )
    cmd.add_argument(
        "--view",
        choices=("herds", "sightings"),
        default="herds",
        help=_("de-duplicated herds as the report counts them, or sums of raw sightings"),
    )


def write_map(args: argparse.Namespace, settings: Settings) -> int:
    """Aggregate in the store, render with inlined scripts, write the file (in --lang)."""
    from maps.herd_map import render_html
    from maps.service import build_herd_map, generated_note, load_map_data
    from reports.herd_cache import HerdCache
    from reports.herd_map import map_source

    try:
        query = filter_query(args, settings)
        assets = inlined_assets()
    except (InvalidInput, AssetsMissing) as exc:
        print(say(Message("herdwatch map: {message}", message=exc.message)))
        return 2
    if args.cell_km is not None and not MIN_CELL_KM <= args.cell_km <= MAX_CELL_KM:
        print(
            say(
                Message(
                    "herdwatch map: --cell-km must be between {MIN_CELL_KM} and {MAX_CELL_KM}",
                    MIN_CELL_KM=str(MIN_CELL_KM),
                    MAX_CELL_KM=str(MAX_CELL_KM),
                )
            )
        )
        return 2
    options = settings.map_options()
    store = open_existing_store(settings, args)
    try:
        store.migrate()
        cell_size_m = args.cell_km * 1000 if args.cell_km else None
        source = map_source(
            args.view, store, HerdCache(keep=False), settings.season_calendar, settings.census
        )
        data = load_map_data(
            source,
            query,
            every=args.every,
            options=options,
            cell_size_m=cell_size_m,
            view=args.view,
        )
    finally:
        store.close()
    t = cli_translator()  # --lang or HERDWATCH_LANG: the file is written in it
    m = build_herd_map(
        data, every=args.every, options=options, assets=assets, side_html=generated_note(t=t), t=t
    )
    html = render_html(m)
    args.out.write_text(html, encoding="utf-8")
    animals = sum(c.animals for c in data.counts)
    print(
        say(
            Message(
                "wrote {out} ({size} MB): {periods} periods, {cells} cell counts, "
                "{animals} animals in raw sightings",
                out=str(args.out),
                size=f"{len(html.encode()) / 1e6:.2f}",
                periods=len(data.periods),
                cells=len(data.counts),
                animals=animals,
            )
        )
    )
    return 0


COMMANDS: dict[str, Command] = {"map": write_map}
