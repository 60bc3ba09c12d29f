"""Reports served from the herd cache: computed, drawn and rendered once per data version.

A report asked again of unchanged data is the very bytes made at its first asking (and
says so: its "generated" time is that first one). The report is computed once for every
language; its charts and each file are kept per language, beside the herds
(reports.herd_cache.HerdCache.kept), and go with them when the data change. Used by
GET /api/v1/reports and bench/report.py.
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime

from data.store import ObservationStore
from domain.census import CensusRule
from domain.i18n import DEFAULT_LANGUAGE
from domain.seasons import SeasonCalendar
from reports import chart_process
from reports.herd_cache import HerdCache
from reports.herds import HerdTables, ReportInputs
from reports.population import PopulationReport, compute_report


def kept_report(
    cache: HerdCache,
    store: ObservationStore,
    seasons: SeasonCalendar,
    census: CensusRule,
    every: str,
    period: str,
) -> PopulationReport:
    """One period's computed report (PeriodError for a period that does not parse)."""
    load_renderers_meanwhile()

    def make(inputs: ReportInputs, tables: HerdTables) -> PopulationReport:
        # The map's helper process starts once the herds are built: its imports then take
        # the core the single-threaded tables and charts leave free. Started with the read
        # it took that core from the read and the grouping (+0.5 s on a first report).
        chart_process.start_meanwhile()
        return compute_report(
            inputs, tables, every, period, generated_at=datetime.now(UTC), census=census
        )

    return cache.kept(store, seasons, ("report", every, period, census_key(census)), make)


def census_key(census: CensusRule) -> tuple[object, ...]:
    """The census rule as a hashable key (its seasons are a mapping)."""
    return (tuple(sorted(census.seasons.items())), census.surveys)


def report_bytes(
    cache: HerdCache,
    store: ObservationStore,
    seasons: SeasonCalendar,
    report: PopulationReport,
    format: str,
    table: str = "summary",
    lang: str = DEFAULT_LANGUAGE,
) -> bytes:
    """One format of a kept report in `lang`: html, pdf, or csv (one table of
    reports.formats). Charts and files are kept per language; the computed report is one."""
    from reports.charts import render_charts
    from reports.render import to_csv, to_html, to_pdf

    which = (report.period.every, report.period.key, census_key(report.census), lang)
    if format == "csv":
        return cache.kept(
            store,
            seasons,
            ("csv", *which, table),
            lambda _i, _h: to_csv(report, table, lang).encode(),
        )
    images = cache.kept(
        store, seasons, ("charts", *which), lambda _i, _h: render_charts(report, lang)
    )
    if format == "pdf":
        return cache.kept(
            store, seasons, ("pdf", *which), lambda _i, _h: to_pdf(report, images, lang)
        )
    if format == "html":
        return cache.kept(
            store, seasons, ("html", *which), lambda _i, _h: to_html(report, images, lang).encode()
        )
    raise ValueError(f"format must be html, pdf or csv, not {format!r}")


_RENDERERS = threading.Lock()
_renderers_asked = False


def load_renderers_meanwhile() -> None:
    """Import the renderers (matplotlib, reportlab: half a second or more) on a thread of
    their own while this request reads and groups the herds: the read waits in C with the
    GIL released, so the two take two cores. Once per process; a worker that never makes
    a report never loads them."""
    global _renderers_asked
    with _RENDERERS:
        if _renderers_asked or "reports.render" in sys.modules:
            return
        _renderers_asked = True
    threading.Thread(target=_import_renderers, name="herdwatch-renderers", daemon=True).start()


def _import_renderers() -> None:
    import reports.render  # noqa: F401  (charts, reportlab, templates)
