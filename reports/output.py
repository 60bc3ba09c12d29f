"""Write reports to a folder, and find the completed periods not yet written (cron --due)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from domain.i18n import DEFAULT_LANGUAGE
from domain.periods import EVERY, parse_period, period_end
from domain.seasons import SeasonCalendar
from reports.formats import CSV_TABLES, FORMATS
from reports.herds import HerdTables
from reports.population import PopulationReport

MARKER = ".complete"  # written last: a folder without it is redone by --due


def parse_formats(text: str) -> tuple[str, ...]:
    """ "html,pdf" → ("html", "pdf"); raises ValueError naming an unknown format."""
    chosen = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise ValueError(f"format must be a comma-separated list of {', '.join(FORMATS)}")
    return chosen


def report_folder(out: Path, every: str, key: str) -> Path:
    return out / every / key


def write_report(
    report: PopulationReport, out: Path, formats: Iterable[str], lang: str = DEFAULT_LANGUAGE
) -> list[Path]:
    """Write the formats into out/<every>/<period>/ in `lang`; each file appears whole or not
    at all. The file names are the same (ASCII) in every language."""
    # Imported here: `herdwatch report` checks its arguments and reads the herds while a
    # thread loads these (reports.served.load_renderers_meanwhile).
    from reports.render import to_csv, to_html, to_pdf

    folder = report_folder(out, report.period.every, report.period.key)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"herdwatch-{report.period.every}-{report.period.key}"
    chosen = list(formats)
    images = None
    if "html" in chosen or "pdf" in chosen:
        from reports.charts import render_charts

        images = render_charts(report, lang)
    written = []
    if "html" in chosen:
        written.append(_atomic(folder / f"{stem}.html", to_html(report, images, lang).encode()))
    if "pdf" in chosen:
        written.append(_atomic(folder / f"{stem}.pdf", to_pdf(report, images, lang)))
    if "csv" in chosen:
        for table in CSV_TABLES:
            if table == "estimates" and len(report.estimates) == 0:
                continue  # no strip-transect survey in this period
            written.append(
                _atomic(folder / f"{stem}-{table}.csv", to_csv(report, table, lang).encode())
            )
    if "gpkg" in chosen:
        written.append(_write_gpkg(report, folder / f"{stem}-herds.gpkg"))
    marker = {
        "formats": chosen,
        "lang": lang,
        "generated_at": report.generated_at.isoformat(),
    }
    _atomic(folder / MARKER, json.dumps(marker).encode())
    return written


def _atomic(path: Path, content: bytes) -> Path:
    """Write beside the target and rename: readers and a crash never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return path


def _write_gpkg(report: PopulationReport, path: Path) -> Path:
    from reports.render import to_gpkg

    tmp = path.with_name(f".tmp-{path.name}")
    tmp.unlink(missing_ok=True)
    to_gpkg(report, tmp)
    os.replace(tmp, path)
    return path


def completed_periods(
    tables: HerdTables, every: str, seasons: SeasonCalendar, today: date | None = None
) -> list[str]:
    """Periods with herds whose last local day is over (UTC date: Yakutia is ahead of UTC)."""
    today = today or datetime.now(UTC).date()
    keys = sorted({str(k) for k in tables.herds[every].unique()})
    return [k for k in keys if period_end(parse_period(every, k, seasons), seasons) <= today]


def due_periods(
    out: Path,
    tables: HerdTables,
    seasons: SeasonCalendar,
    *,
    everies: Iterable[str] = EVERY,
    today: date | None = None,
) -> list[tuple[str, str]]:
    """(every, period) pairs completed but not yet written completely into `out`."""
    due = []
    for every in everies:
        for key in completed_periods(tables, every, seasons, today):
            if not (report_folder(out, every, key) / MARKER).exists():
                due.append((every, key))
    return due
