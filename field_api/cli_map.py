"""`herdwatch map`: write the herd-count map to one HTML file that opens offline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, get_args

from data.store import open_store
from domain.records import Period
from field_api.assets import AssetsMissing, inlined_assets
from field_api.errors import ApiError
from field_api.filters import observation_query
from field_api.map_service import build_herd_map, generated_note, load_map_data
from field_api.settings import Settings
from maps.herd_map import render_html


def add_arguments(subparsers: Any) -> None:
    """Register `herdwatch map` on the main parser."""
    cmd = subparsers.add_parser("map", help="write the herd-count map over time to an HTML file")
    cmd.add_argument("--every", choices=get_args(Period), default="year", help="slider period")
    cmd.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    cmd.add_argument("--population", help="population ids, comma-separated")
    cmd.add_argument("--method", help="survey or count method(s), comma-separated")
    cmd.add_argument("--datetime", help="RFC 3339 start/end, '..' for an open end")
    cmd.add_argument("--bbox", help="minLon,minLat,maxLon,maxLat")
    cmd.add_argument("--survey", help="survey id")
    cmd.add_argument("--cell-km", type=float, help="cell size in km (default follows the extent)")


def write_map(args: argparse.Namespace, settings: Settings) -> int:
    """Aggregate in the store, render with inlined scripts, write the file."""
    try:
        query = observation_query(
            settings,
            bbox=args.bbox,
            datetime_=args.datetime,
            population=args.population,
            method=args.method,
            survey=args.survey,
        )
        assets = inlined_assets()
    except (ApiError, AssetsMissing) as exc:
        print(f"herdwatch map: {getattr(exc, 'message', exc)}")
        return 2
    if args.cell_km is not None and not 0 < args.cell_km <= 1000:
        print("herdwatch map: --cell-km must be between 0 and 1000")
        return 2
    store = open_store(args.database_url or settings.database_url)
    try:
        store.migrate()
        cell_size_m = args.cell_km * 1000 if args.cell_km else None
        data = load_map_data(
            store, query, every=args.every, settings=settings, cell_size_m=cell_size_m
        )
    finally:
        store.close()
    m = build_herd_map(
        data, every=args.every, settings=settings, assets=assets, side_html=generated_note()
    )
    html = render_html(m)
    args.out.write_text(html, encoding="utf-8")
    animals = sum(c.animals for c in data.counts)
    print(
        f"wrote {args.out} ({len(html.encode()) / 1e6:.2f} MB): {len(data.periods)} periods, "
        f"{len(data.counts):,} cell counts, {animals:,} animals in raw sightings"
    )
    return 0


COMMANDS = {"map": write_map}
