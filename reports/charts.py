"""Report figures as PNG bytes (matplotlib, Agg): rendered once, shared by HTML and PDF."""

from __future__ import annotations

import io
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
from geo.coords import to_equal_area  # noqa: E402
from maps.style import population_colour, population_label  # noqa: E402
from reports.population import ALL_POPULATIONS, PopulationReport  # noqa: E402
from reports.stats import Trend  # noqa: E402

SAKHA = "Sakha Republic"
DPI = 110


def render_charts(report: PopulationReport) -> dict[str, bytes]:
    """Every figure of the report by name: counts, trend, composition, map (PNG bytes)."""
    figures = {
        "counts": counts_figure(report),
        "trend": trend_figure(report),
        "composition": composition_figure(report),
        "map": map_figure(report),
    }
    return {name: _png(fig) for name, fig in figures.items()}


def _png(fig: Figure) -> bytes:
    # Layouts are set by hand: bbox_inches="tight" and tight_layout() draw the figure twice.
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def _populations(report: PopulationReport) -> list[str]:
    return [str(p) for p in dict.fromkeys(report.composition["population"]) if p != ALL_POPULATIONS]


def population_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """One summary row per population over all its areas: its "all areas" row where it was
    seen in several areas, its only area's row where it was seen in one."""
    pops = summary[summary["population"] != ALL_POPULATIONS]
    several = set(pops.loc[pops["area"] == "all areas", "population"])
    keep = (pops["area"] == "all areas") | ~pops["population"].isin(several)
    return pops[keep]


def counts_figure(report: PopulationReport) -> Figure:
    """Minimum count (de-duplicated) beside the raw sighting total, per population."""
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
        label="minimum count (largest single survey)",
    )
    ax.barh(
        y + 0.2,
        rows["sighting_total"],
        0.4,
        color="#cccccc",
        label="raw sighting total (overcounts)",
    )
    prev = rows["previous_minimum_count"].astype(float)
    ax.scatter(
        prev,
        y - 0.2,
        marker="|",
        s=200,
        color="black",
        label=f"minimum count, {report.previous.label}",
    )
    ax.set_yticks(y, [population_label(p) for p in rows["population"]])
    ax.invert_yaxis()
    ax.set_xlabel("animals")
    ax.set_title(f"Counts by population, {report.period.label}", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig


def trend_figure(report: PopulationReport) -> Figure:
    """Minimum count per year (same period of the year), fitted trend and 95% band, log scale.

    One axes for all populations: on a log scale a log-linear trend is a straight line,
    and populations of very different sizes stay readable side by side.
    """
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    fig.subplots_adjust(left=0.11, right=0.66, top=0.9, bottom=0.12)
    pops = [p for p in _populations(report) if p in set(report.trend_counts["population"])]
    for pop in pops:
        _trend_line(ax, report, pop)
    ax.set_yscale("log")
    ax.set_ylabel("minimum count (log scale)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="both")
    ax.set_title(
        f"Minimum counts, {report.period.series_label} of each year, with trend and 95% band",
        fontsize=9,
    )
    ax.legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return fig


def _trend_line(ax: Axes, report: PopulationReport, pop: str) -> None:
    series = report.trend_counts[report.trend_counts["population"] == pop]
    colour = population_colour(pop)
    label = population_label(pop)
    trend = report.trends.get(pop)
    if isinstance(trend, Trend):
        years = np.linspace(min(trend.years), max(trend.years), 30)
        mean, low, high = trend.fitted(years.tolist())
        ax.plot(years, mean, color=colour, lw=1.2)
        ax.fill_between(years, low, high, color=colour, alpha=0.15, lw=0)
        low_pct, high_pct = 100 * trend.rate_low, 100 * trend.rate_high
        label += f": {100 * trend.rate:+.1f}%/yr ({low_pct:+.1f} to {high_pct:+.1f})"
    else:
        label += ": under 3 years, no trend"
    positive = series[series["minimum_count"] > 0]
    ax.plot(positive["year"], positive["minimum_count"], "o", color=colour, ms=4, label=label)


COMPOSITION_ROWS = 16  # surveys drawn at most; the table lists them all


def composition_figure(report: PopulationReport) -> Figure:
    """Calves and bulls per 100 adult females with 95% intervals, per population and survey
    (the surveys with most animals classified, when there are many)."""
    comp = report.composition
    if len(comp) > COMPOSITION_ROWS:
        kept = comp["animals_classified"].astype(float).nlargest(COMPOSITION_ROWS).index
        comp = comp.loc[sorted(kept)]
    fig, axes = plt.subplots(1, 2, figsize=(7.5, max(2.8, 1.0 + 0.3 * len(comp))), sharey=True)
    fig.subplots_adjust(left=0.3, right=0.98, top=0.88, bottom=0.1, wspace=0.08)
    y = np.arange(len(comp))
    for ax, name, title in (
        (axes[0], "calves_per_100_cows", "calves per 100 cows"),
        (axes[1], "bulls_per_100_cows", "bulls per 100 cows"),
    ):
        value = comp[name].astype(float).to_numpy()
        low = value - comp[f"{name}_low"].astype(float).to_numpy()
        high = comp[f"{name}_high"].astype(float).to_numpy() - value
        colours = [population_colour(p) for p in comp["population"]]
        ax.errorbar(value, y, xerr=np.nan_to_num([low, high]), fmt="none", ecolor="#444", capsize=3)
        ax.scatter(value, y, color=colours, zorder=3)
        ax.set_title(title + " (95% CI)", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=7)
    labels = [
        f"{population_label(str(p))}, {season} {str(first)[5:]}"
        for p, season, first in zip(
            comp["population"], comp["season"], comp["first_date"], strict=True
        )
    ]
    axes[0].set_yticks(y, labels)
    axes[0].invert_yaxis()
    return fig


def map_figure(report: PopulationReport) -> Figure:
    """The period's de-duplicated herds over Sakha and its neighbours (EPSG:3576)."""
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
            label=f"{population_label(str(pop))} ({len(rows):,} herds)",
        )
    _frame(ax, herds)
    ax.set_title(
        f"De-duplicated herds, {report.period.label} (symbol area ~ herd size)", fontsize=10
    )
    if len(herds):
        ax.add_artist(ax.legend(fontsize=7, loc="lower left", markerscale=0.8))
        _size_key(ax, largest)
    _scale_bar(ax)
    return fig


def _marker_area(size: np.ndarray, largest: int) -> np.ndarray:
    """Symbol area (points²) of herds: area grows with the square root of the herd size."""
    return 4 + 60 * np.sqrt(np.asarray(size, dtype=float) / largest)


def _size_key(ax: Axes, largest: int) -> None:
    """A legend of symbol sizes for round herd sizes up to the largest herd."""
    steps = [v for v in (10, 100, 1_000, 10_000, 100_000) if v <= largest] or [largest]
    handles = [
        ax.scatter([], [], s=float(_marker_area(np.array([v]), largest)[0]), color="#888", lw=0)
        for v in steps[-3:]
    ]
    labels = [f"{v:,} animals" for v in steps[-3:]]
    ax.legend(handles, labels, fontsize=7, loc="upper right", title="herd size", title_fontsize=7)


def _scale_bar(ax: Axes) -> None:
    """A bar of round length in the lower right: the axes are EPSG:3576 metres."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    span_km = (x1 - x0) / 1000
    length_km = next(v for v in (1000, 500, 200, 100, 50, 20, 10, 5, 2, 1) if v <= span_km / 4)
    right, bottom = x1 - 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([right - length_km * 1000, right], [bottom, bottom], color="black", lw=2.5)
    ax.text(
        right - length_km * 500,
        bottom + 0.015 * (y1 - y0),
        f"{length_km:,} km",
        ha="center",
        va="bottom",
        fontsize=7,
    )


def _frame(ax: plt.Axes, herds: pd.DataFrame) -> None:
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
        "EPSG:3576 (North Pole LAEA Russia). Boundaries © OpenStreetMap contributors, "
        "via geoBoundaries (ODbL).",
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
