"""Report figures as PNG bytes (matplotlib, Agg): rendered once per language, shared by HTML
and PDF. Titles, axes, legends and the map's keys are worded by the Translator; matplotlib's
own font, DejaVu Sans, covers Cyrillic."""

from __future__ import annotations

import io
import textwrap
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Polygon as PolygonPatch  # noqa: E402
from shapely.geometry import shape  # noqa: E402
from shapely.ops import transform  # noqa: E402

from data.reference import boundaries_geojson  # noqa: E402
from domain.i18n import DEFAULT_LANGUAGE, Translator, translator  # noqa: E402
from geo.coords import to_equal_area  # noqa: E402
from maps.style import population_colour  # noqa: E402
from reports import labels, words  # noqa: E402
from reports.population import ALL_POPULATIONS, PopulationReport  # noqa: E402
from reports.stats import Trend  # noqa: E402

SAKHA = "Sakha Republic"
DPI = 110


def render_charts(report: PopulationReport, lang: str = DEFAULT_LANGUAGE) -> dict[str, bytes]:
    """Every figure of the report by name, in `lang`: counts, trend, composition, map (PNG).

    The map is drawn in a helper process meanwhile when there is one
    (reports.chart_process); the bytes are the same either way."""
    from reports import chart_process

    t = translator(lang)
    apart = chart_process.map_png_apart(report, lang) if len(report.herds) else None
    images = {
        "counts": png_of(counts_figure(report, t)),
        "trend": png_of(trend_figure(report, t)),
        "composition": png_of(composition_figure(report, t)),
    }
    images["map"] = chart_process.result_or_none(apart) or png_of(map_figure(report, t))
    return images


def png_of(fig: Figure) -> bytes:
    """A figure as PNG bytes (and closed)."""
    # Layouts are set by hand: bbox_inches="tight" and tight_layout() draw the figure twice.
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def warm() -> None:
    """Read the boundaries now (a helper process does before its first map)."""
    _sakha_bounds()
    _boundary_rings(False)


def _populations(report: PopulationReport) -> list[str]:
    return [str(p) for p in dict.fromkeys(report.composition["population"]) if p != ALL_POPULATIONS]


def population_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """One summary row per population over all its areas: its "all areas" row where it was
    seen in several areas, its only area's row where it was seen in one."""
    pops = summary[summary["population"] != ALL_POPULATIONS]
    several = set(pops.loc[pops["area"] == "all areas", "population"])
    keep = (pops["area"] == "all areas") | ~pops["population"].isin(several)
    return pops[keep]


def counts_figure(report: PopulationReport, t: Translator | None = None) -> Figure:
    """Minimum count (de-duplicated) beside the raw sighting total, per population."""
    t = t or translator()
    rows = population_rows(report.summary)
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    fig.subplots_adjust(left=0.25, right=0.97, top=0.9, bottom=0.15)
    y = np.arange(len(rows))
    colours = [population_colour(p) for p in rows["population"]]
    ax.barh(
        y - 0.2,
        rows["minimum_count"],
        0.4,
        color=colours,
        label=t.gettext("minimum count (largest single survey)"),
    )
    ax.barh(
        y + 0.2,
        rows["sighting_total"],
        0.4,
        color="#cccccc",
        label=t.gettext("raw sighting total (overcounts)"),
    )
    prev = rows["previous_minimum_count"].astype(float)
    ax.scatter(
        prev,
        y - 0.2,
        marker="|",
        s=200,
        color="black",
        label=t.gettext("minimum count, {previous}").format(
            previous=words.period_label(report.previous).render(t)
        ),
    )
    ax.set_yticks(y, [_wrap(labels.population(p, t), 18) for p in rows["population"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(_numbers(t))
    ax.set_xlabel(t.gettext("animals"))
    ax.set_title(
        t.gettext("Counts by population, {period}").format(
            period=words.period_label(report.period).render(t)
        ),
        fontsize=10,
    )
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig


def trend_figure(report: PopulationReport, t: Translator | None = None) -> Figure:
    """Minimum count per year (same period of the year), fitted trend and 95% band, log scale.

    One axes for all populations: on a log scale a log-linear trend is a straight line,
    and populations of very different sizes stay readable side by side.
    """
    t = t or translator()
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    fig.subplots_adjust(left=0.11, right=0.66, top=0.9, bottom=0.12)
    pops = [p for p in _populations(report) if p in set(report.trend_counts["population"])]
    for pop in pops:
        _trend_line(ax, report, pop, t)
    ax.set_yscale("log")
    ax.set_ylabel(t.gettext("minimum count (log scale)"), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="both")
    ax.set_title(
        t.gettext("Minimum counts, {series}, with trend and 95% band").format(
            series=words.each_year(report.period).render(t)
        ),
        fontsize=9,
    )
    ax.legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return fig


def _trend_line(ax: Axes, report: PopulationReport, pop: str, t: Translator) -> None:
    series = report.trend_counts[report.trend_counts["population"] == pop]
    colour = population_colour(pop)
    name = labels.population(pop, t)
    trend = report.trends.get(pop)
    if isinstance(trend, Trend):
        years = np.linspace(min(trend.years), max(trend.years), 30)
        mean, low, high = trend.fitted(years.tolist())
        ax.plot(years, mean, color=colour, lw=1.2)
        ax.fill_between(years, low, high, color=colour, alpha=0.15, lw=0)
        rate = t.gettext("{rate}%/yr ({low} to {high})").format(
            rate=labels.signed(100 * trend.rate, t, 1),
            low=labels.signed(100 * trend.rate_low, t, 1),
            high=labels.signed(100 * trend.rate_high, t, 1),
        )
    else:
        rate = t.gettext("under 3 years, no trend")
    label = f"{name}:\n{rate}"  # two lines: the legend keeps to the right of the axes
    positive = series[series["minimum_count"] > 0]
    ax.plot(positive["year"], positive["minimum_count"], "o", color=colour, ms=4, label=label)


COMPOSITION_ROWS = 16  # surveys drawn at most; the table lists them all


def composition_figure(report: PopulationReport, t: Translator | None = None) -> Figure:
    """Calves and bulls per 100 adult females with 95% intervals, per population and survey
    (the surveys with most animals classified, when there are many)."""
    t = t or translator()
    comp = report.composition
    if len(comp) > COMPOSITION_ROWS:
        kept = comp["animals_classified"].astype(float).nlargest(COMPOSITION_ROWS).index
        comp = comp.loc[sorted(kept)]
    fig, axes = plt.subplots(1, 2, figsize=(7.5, max(2.8, 1.0 + 0.3 * len(comp))), sharey=True)
    fig.subplots_adjust(left=0.3, right=0.98, top=0.88, bottom=0.1, wspace=0.08)
    y = np.arange(len(comp))
    for ax, name, title in (
        (axes[0], "calves_per_100_cows", t.gettext("calves per 100 cows (95% CI)")),
        (axes[1], "bulls_per_100_cows", t.gettext("bulls per 100 cows (95% CI)")),
    ):
        value = comp[name].astype(float).to_numpy()
        low = value - comp[f"{name}_low"].astype(float).to_numpy()
        high = comp[f"{name}_high"].astype(float).to_numpy() - value
        colours = [population_colour(p) for p in comp["population"]]
        ax.errorbar(value, y, xerr=np.nan_to_num([low, high]), fmt="none", ecolor="#444", capsize=3)
        ax.scatter(value, y, color=colours, zorder=3)
        ax.set_title(title, fontsize=9)
        ax.xaxis.set_major_formatter(_numbers(t))
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=7)
    names = [
        _two_lines(
            t.gettext("{population}, {season} {date}").format(
                population=labels.population(p, t),
                season=labels.season(season, t),
                date=labels.day_and_month(first, t),
            ),
            34,
        )
        for p, season, first in zip(
            comp["population"], comp["season"], comp["first_date"], strict=True
        )
    ]
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    return fig


def map_figure(report: PopulationReport, t: Translator | None = None) -> Figure:
    """The period's de-duplicated herds over Sakha and its neighbours (EPSG:3576)."""
    t = t or translator()
    fig, ax = plt.subplots(figsize=(7.5, 5.6))
    fig.subplots_adjust(left=0.02, right=0.98, top=0.94, bottom=0.05)
    ax.add_collection(
        PatchCollection(_boundary_patches(False), facecolor="#f2f2f2", edgecolor="#aaaaaa", lw=0.4)
    )
    ax.add_collection(
        PatchCollection(_boundary_patches(True), facecolor="#e4eef5", edgecolor="#333333", lw=0.8)
    )
    herds = report.herds
    largest = max(1, int(herds["size"].max())) if len(herds) else 1
    for pop, rows in herds.groupby("population", sort=True):
        sizes = _marker_area(rows["size"].to_numpy(), largest)
        ax.scatter(
            rows["x"],
            rows["y"],
            s=sizes,
            color=population_colour(str(pop)),
            alpha=0.6,
            lw=0,
            label=t.ngettext(
                "{population} ({n} herd)", "{population} ({n} herds)", len(rows)
            ).format(population=labels.population(pop, t), n=t.format_number(len(rows))),
        )
    _frame(ax, herds, t)
    ax.set_title(
        t.gettext("De-duplicated herds, {period} (symbol area ~ herd size)").format(
            period=words.period_label(report.period).render(t)
        ),
        fontsize=10,
    )
    if len(herds):
        ax.add_artist(ax.legend(fontsize=7, loc="lower left", markerscale=0.8))
        _size_key(ax, largest, t)
    _scale_bar(ax, t)
    return fig


def _wrap(words: str, width: int) -> str:
    """A tick label on lines of at most `width` characters (Russian names run longer)."""
    return textwrap.fill(words, width, break_long_words=False, break_on_hyphens=False)


def _two_lines(label: str, width: int) -> str:
    """A label longer than `width` broken after its first comma (the population's name)."""
    return label if len(label) <= width else label.replace(", ", ",\n", 1)


def _numbers(t: Translator) -> matplotlib.ticker.FuncFormatter:
    """Axis numbers in the language's format: 10,000 in English, 10 000 in Russian."""
    return matplotlib.ticker.FuncFormatter(lambda x, _pos: t.format_number(x))


def _marker_area(size: np.ndarray, largest: int) -> np.ndarray:
    """Symbol area (points²) of herds: area grows with the square root of the herd size."""
    return 4 + 60 * np.sqrt(np.asarray(size, dtype=float) / largest)


def _size_key(ax: Axes, largest: int, t: Translator) -> None:
    """A legend of symbol sizes for round herd sizes up to the largest herd."""
    steps = [v for v in (10, 100, 1_000, 10_000, 100_000) if v <= largest] or [largest]
    handles = [
        ax.scatter([], [], s=float(_marker_area(np.array([v]), largest)[0]), color="#888", lw=0)
        for v in steps[-3:]
    ]
    names = [
        t.ngettext("{n} animal", "{n} animals", v).format(n=t.format_number(v)) for v in steps[-3:]
    ]
    ax.legend(
        handles,
        names,
        fontsize=7,
        loc="upper right",
        title=t.gettext("herd size"),
        title_fontsize=7,
    )


def _scale_bar(ax: Axes, t: Translator) -> None:
    """A bar of round length in the lower right: the axes are EPSG:3576 metres."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    span_km = (x1 - x0) / 1000
    length_km = next(v for v in (1000, 500, 200, 100, 50, 20, 10, 5, 2, 1) if v <= span_km / 4)
    right, bottom = x1 - 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([right - length_km * 1000, right], [bottom, bottom], color="black", lw=2.5)
    ax.text(
        right - length_km * 500,
        bottom + 0.015 * (y1 - y0),
        t.gettext("{n} km").format(n=t.format_number(length_km)),
        ha="center",
        va="bottom",
        fontsize=7,
    )


def _frame(ax: plt.Axes, herds: pd.DataFrame, t: Translator) -> None:
    """Sakha, widened to take in nearly all herds (Taimyr winters west of it)."""
    xmin, ymin, xmax, ymax = _sakha_bounds()
    if len(herds):
        xs, ys = herds["x"].to_numpy(), herds["y"].to_numpy()
        xmin, xmax = min(xmin, np.quantile(xs, 0.005)), max(xmax, np.quantile(xs, 0.995))
        ymin, ymax = min(ymin, np.quantile(ys, 0.005)), max(ymax, np.quantile(ys, 0.995))
    pad = 150_000
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(
        t.gettext(
            "EPSG:3576 (North Pole LAEA Russia). Boundaries © OpenStreetMap contributors, "
            "via geoBoundaries (ODbL)."
        ),
        fontsize=6,
        color="#666",
    )


@lru_cache(maxsize=2)
def _boundary_rings(sakha: bool) -> tuple[np.ndarray, ...]:
    rings = []
    for feature in boundaries_geojson()["features"]:
        if (feature["properties"]["shapeName"] == SAKHA) != sakha:
            continue
        geom = transform(lambda x, y, z=None: to_equal_area(x, y), shape(feature["geometry"]))
        polygons = geom.geoms if hasattr(geom, "geoms") else [geom]
        rings += [np.asarray(poly.exterior.coords) for poly in polygons]
    return tuple(rings)


def _boundary_patches(sakha: bool) -> list[PolygonPatch]:
    return [PolygonPatch(ring, closed=True) for ring in _boundary_rings(sakha)]


@lru_cache(maxsize=1)
def _sakha_bounds() -> tuple[float, float, float, float]:
    points = np.vstack(_boundary_rings(True))
    return (
        float(points[:, 0].min()),
        float(points[:, 1].min()),
        float(points[:, 0].max()),
        float(points[:, 1].max()),
    )
