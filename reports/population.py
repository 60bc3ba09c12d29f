"""Periodic population reports: tables computed from de-duplicated herds (no rendering here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from data.store import ObservationStore
from domain.census import CensusRule
from domain.periods import ReportPeriod, parse_period, previous_period
from geo.dedup import DedupParams
from reports.herds import OUTSIDE, HerdTables, ReportInputs, build_herds, load_inputs
from reports.methods import methods_note
from reports.minimum import Figure, figures, is_window, survey_counts, survey_keys
from reports.stats import (
    CommonTrend,
    Estimate,
    Trend,
    common_trend,
    proportion_estimate,
    quasi_poisson_trend,
    ratio_estimate,
)
from reports.transects import estimates_table

ALL_POPULATIONS = "all populations"
ALL_AREAS = "all areas"


@dataclass(frozen=True)
class PopulationReport:
    """One period's report: every table the renderers show, and the herds behind them."""

    period: ReportPeriod
    previous: ReportPeriod
    generated_at: datetime
    params: DedupParams
    summary: pd.DataFrame  # population, area: minimum count from one survey, change
    surveys: pd.DataFrame  # population, area, survey: each survey's own minimum count
    estimates: pd.DataFrame  # population, survey, stratum: strip-transect estimates
    composition: pd.DataFrame  # population, survey: ratios with 95% intervals
    effort: pd.DataFrame  # population, survey method: effort and counts per unit
    trend: pd.DataFrame  # population: annual rate of change with its 95% interval
    trend_counts: pd.DataFrame  # population, year: minimum count of the same period, survey
    herds: pd.DataFrame  # the period's de-duplicated herds
    trends: dict[str, Trend | CommonTrend] = field(default_factory=dict)
    decisions: int = 0
    methods: tuple[str, ...] = ()
    census: CensusRule = field(default_factory=CensusRule)
    data_version: tuple[int, ...] = ()

    @property
    def provenance(self) -> str:
        """Which software made the report from which state of the store."""
        store = ".".join(str(v) for v in self.data_version) or "unknown"
        return f"Herdwatch {software_version()}, store data version {store}"

    @property
    def title(self) -> str:
        return f"Wild reindeer population report: {self.period.label}"


def build_population_report(
    store: ObservationStore,
    every: str,
    period: str,
    *,
    params: DedupParams = DedupParams(),
    census: CensusRule | None = None,
) -> PopulationReport:
    """Load, de-duplicate and compute one period's report (CLI --due reuses the herds)."""
    inputs = load_inputs(store, params=params)
    return compute_report(inputs, build_herds(inputs), every, period, census=census)


def compute_report(
    inputs: ReportInputs,
    tables: HerdTables,
    every: str,
    period: str,
    generated_at: datetime | None = None,
    *,
    census: CensusRule | None = None,
) -> PopulationReport:
    """Every table of one period's report from herds built once (pure).

    `generated_at` defaults to when the inputs were read; a server that keeps the herds
    between requests (reports/herd_cache.py) passes the time of the request.
    """
    p = parse_period(every, period, inputs.seasons)
    prev = previous_period(p, inputs.seasons)
    rule = census or CensusRule()
    herds = herds_with_surveys(tables)
    current = herds[herds[p.every] == p.key]
    sightings = period_sightings(tables, current.index)
    # Which sightings each herd merged: the audit trail of the count, in every export.
    ids, synthetic = _herd_sightings(sightings)
    current = current.assign(sighting_ids=ids, synthetic=synthetic)
    per_survey = survey_counts(current)
    series = trend_series(herds, p, rule)
    trends = {pop: t for pop, t in _fit_trends(series).items() if t is not None}
    previous = survey_counts(herds[herds[p.every] == prev.key], dates=False)
    return PopulationReport(
        period=p,
        previous=prev,
        generated_at=generated_at or inputs.loaded_at,
        params=inputs.params,
        summary=summary_table(per_survey, sightings, previous, rule),
        surveys=surveys_table(per_survey, rule),
        estimates=estimates_table(current, inputs.surveys),
        composition=composition_table(current),
        effort=effort_table(current, sightings, inputs),
        trend=trend_table(series, trends, p),
        trend_counts=series,
        herds=current,
        trends=trends,
        decisions=len(inputs.decisions),
        methods=methods_note(
            p, inputs.params, len(inputs.decisions), tables.grouping.refused_links, rule
        ),
        census=rule,
        data_version=inputs.data_version,
    )


def software_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("herdwatch")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


_WITH_SURVEYS: dict[int, tuple[HerdTables, pd.DataFrame]] = {}


def herds_with_surveys(tables: HerdTables) -> pd.DataFrame:
    """with_surveys of a grouping, worked out once per grouping (the herd cache keeps one
    grouping per process, and reports and herd maps ask for it on every request)."""
    kept = _WITH_SURVEYS.get(id(tables))
    if kept is not None and kept[0] is tables:
        return kept[1]
    frame = with_surveys(tables.herds)
    _WITH_SURVEYS.clear()  # one grouping at a time, as the herd cache keeps
    _WITH_SURVEYS[id(tables)] = (tables, frame)
    return frame


def with_surveys(herds: pd.DataFrame) -> pd.DataFrame:
    """Herds with the survey (or survey window) each is counted in, and its season name."""
    season = herds["season"].astype(str).str[5:] if len(herds) else herds["season"]
    # As Arrow text, like the other text columns: Python strings cost 80 bytes a herd.
    return herds.assign(survey=survey_keys(herds).astype("str"), season_name=season)


def _with_totals(frame: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(population, area, rows) groups: each population and area, each population, all."""
    groups: list[tuple[str, str, pd.DataFrame]] = []
    for pop, by_pop in frame.groupby("population", sort=True):
        areas = list(by_pop.groupby("area", sort=True))
        groups += [(str(pop), str(area), rows) for area, rows in areas]
        if len(areas) > 1:
            groups.append((str(pop), ALL_AREAS, by_pop))
    groups.append((ALL_POPULATIONS, ALL_AREAS, frame))
    return groups


def summary_table(
    per_survey: pd.DataFrame, sightings: pd.DataFrame, previous: pd.DataFrame, rule: CensusRule
) -> pd.DataFrame:
    """The minimum count per population and area, each from one survey (reports.minimum),
    with the raw sightings beside it and the change from the previous period."""
    seen = sightings.assign(area=sightings["region"].replace("", OUTSIDE))
    raw = {
        (pop, area): (len(rows), int(rows["count"].sum())) for pop, area, rows in _with_totals(seen)
    }
    now = _figures(per_survey, rule)
    # Every population's whole figure then, whether or not it had an "all areas" row
    # (seen: one area then, two now: previous 0 and a change of the whole count).
    before = _figures(previous, rule, every_whole=True) if len(previous) else {}
    counted_before = {pop for pop, _ in before}
    # All populations' change only over the same populations: one counted in one period
    # alone would add its whole count to the change (as the trend's sum once did).
    same = {pop for pop, _ in now} == counted_before
    rows = []
    for (pop, area), figure in now.items():
        n_seen, sighting_total = raw.get((pop, area), (0, 0))
        prev = _previous_count(before, counted_before, pop, area)
        comparable = pop != ALL_POPULATIONS or same
        change = figure.count - prev if prev is not None and comparable else None
        rows.append(
            {
                "population": pop,
                "area": area,
                "sightings": n_seen,
                "sighting_total": sighting_total,
                "surveys": figure.surveys,
                "survey": figure.survey,
                "census": figure.census,
                "herds": figure.herds,
                "minimum_count": figure.count,
                "previous_minimum_count": prev,
                "change": change,
                "change_pct": round(100.0 * change / prev, 1)
                if change is not None and prev
                else None,
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _previous_count(
    before: dict[tuple[str, str], Figure], counted: set[str], pop: str, area: str
) -> int | None:
    """The previous period's figure; 0 for an area its population's survey then found no
    herd in; None where the population was not counted then (not surveyed, as the trend
    takes it). Seen: 0, and a change of the whole count, for a population not surveyed
    the year before, whenever another population was."""
    if (pop, area) in before:
        return before[(pop, area)].count
    return 0 if pop in counted else None


def _figures(
    per_survey: pd.DataFrame, rule: CensusRule, *, every_whole: bool = False
) -> dict[tuple[str, str], Figure]:
    """(population, area) → Figure in table order: areas, the population's "all areas"
    where it has several (with `every_whole`, for every population: a previous period's
    figures to compare with), and "all populations" (the sum of each population's)."""
    found = figures(per_survey, rule)
    ordered: dict[tuple[str, str], Figure] = {}
    whole = []
    for pop in sorted({p for p, _ in found}):
        areas = sorted(a for p, a in found if p == pop and a)
        for area in areas:
            ordered[(pop, area)] = found[(pop, area)]
        if len(areas) > 1 or every_whole:
            ordered[(pop, ALL_AREAS)] = found[(pop, "")]
        whole.append(found[(pop, "")])
    if whole or len(per_survey) == 0:
        ordered[(ALL_POPULATIONS, ALL_AREAS)] = Figure(
            sum(f.count for f in whole),
            "each population's own" if len(whole) > 1 else (whole[0].survey if whole else ""),
            sum(f.herds for f in whole),
            sum(f.surveys for f in whole),
            bool(whole) and all(f.census for f in whole),
        )
    return ordered


SUMMARY_COLUMNS = [
    "population",
    "area",
    "sightings",
    "sighting_total",
    "surveys",
    "survey",
    "census",
    "herds",
    "minimum_count",
    "previous_minimum_count",
    "change",
    "change_pct",
]


def composition_table(current: pd.DataFrame) -> pd.DataFrame:
    """Calves and bulls per 100 cows and percent calves per population and survey, 95%
    intervals over herds as clusters. Never pooled across surveys: calves per 100 cows in
    March and in July measure different things (births fall in May and June)."""
    rows = []
    # Only the columns used: each group is filtered four times, and taking every text column
    # of every herd along cost most of the table.
    narrow = current[["population", "survey", "season_name", "local_date", *_COMPOSITION_USED]]
    for (pop, survey), herds in narrow.groupby(["population", "survey"], sort=True):
        season = str(herds["season_name"].iloc[0])
        first, last = herds["local_date"].min(), herds["local_date"].max()
        head = {"population": str(pop), "survey": str(survey), "season": season}
        rows.append({**head, "first_date": first, "last_date": last, **_composition_row(herds)})
    return pd.DataFrame(rows, columns=COMPOSITION_COLUMNS)


_COMPOSITION_USED = ["adult_males", "adult_females", "calves", "classified"]
COMPOSITION_COLUMNS = [
    "population",
    "survey",
    "season",
    "first_date",
    "last_date",
    "herds_classified",
    "animals_classified",
    "adult_males",
    "adult_females",
    "calves",
    *(
        f"{name}{end}"
        for name in ("calves_per_100_cows", "bulls_per_100_cows", "percent_calves")
        for end in ("", "_low", "_high")
    ),
]


def surveys_table(per_survey: pd.DataFrame, rule: CensusRule) -> pd.DataFrame:
    """Every survey's own minimum count per population (over all its areas), and which one
    each population's figure comes from: the numbers behind the summary."""
    chosen = {pop: f.survey for (pop, area), f in figures(per_survey, rule, areas=False).items()}
    if len(per_survey) == 0:
        return pd.DataFrame(columns=SURVEYS_COLUMNS)
    totals = per_survey.groupby(["population", "survey"], sort=True).agg(
        season=("season", "first"),
        first_date=("first_date", "min"),
        last_date=("last_date", "max"),
        areas=("area", "nunique"),
        herds=("herds", "sum"),
        sightings=("sightings", "sum"),
        minimum_count=("minimum_count", "sum"),
    )
    totals = totals.reset_index()
    totals["kind"] = ["survey window" if is_window(str(s)) else "survey" for s in totals["survey"]]
    totals["used"] = [
        chosen.get(str(p)) == s for p, s in zip(totals["population"], totals["survey"], strict=True)
    ]
    return totals[SURVEYS_COLUMNS]


SURVEYS_COLUMNS = [
    "population",
    "survey",
    "kind",
    "season",
    "first_date",
    "last_date",
    "areas",
    "herds",
    "sightings",
    "minimum_count",
    "used",
]


def _composition_row(herds: pd.DataFrame) -> dict[str, object]:
    # numpy arrays: four pandas filters per survey cost most of the table.
    males, cows, calves, classified = (herds[c].to_numpy() for c in _COMPOSITION_USED)
    cows_known = (cows >= 0) & (classified > 0)
    with_calves, with_bulls = cows_known & (calves >= 0), cows_known & (males >= 0)
    counted = (classified > 0) & (calves >= 0)
    estimates = {
        "calves_per_100_cows": ratio_estimate(calves[with_calves], cows[with_calves]),
        "bulls_per_100_cows": ratio_estimate(males[with_bulls], cows[with_bulls]),
        "percent_calves": proportion_estimate(calves[counted], classified[counted]),
    }
    row: dict[str, object] = {
        "herds_classified": int((classified > 0).sum()),
        "animals_classified": int(np.clip(classified, 0, None).sum()),
        "adult_males": int(np.clip(males, 0, None).sum()),
        "adult_females": int(np.clip(cows, 0, None).sum()),
        "calves": int(np.clip(calves, 0, None).sum()),
    }
    for name, est in estimates.items():
        row.update(_estimate_columns(name, est))
    return row


def _estimate_columns(name: str, est: Estimate) -> dict[str, object]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 2)

    return {name: r(est.value), f"{name}_low": r(est.low), f"{name}_high": r(est.high)}


def effort_table(
    current: pd.DataFrame, sightings: pd.DataFrame, inputs: ReportInputs
) -> pd.DataFrame:
    """Survey effort per population and method, and minimum count per unit of effort."""
    surveys = inputs.surveys
    method_of = {sid: s.method for sid, s in surveys.items()}
    seen = sightings.assign(method=sightings["survey_id"].map(method_of).fillna("no survey"))
    counted = current.assign(method=current["survey_id"].map(method_of).fillna("no survey"))
    # Herds and animals per (population, method) at once, not one filter per row.
    tally = counted.groupby(["population", "method"], sort=False)["size"].agg(["size", "sum"])
    found = dict(zip(tally.index, tally.to_numpy().tolist(), strict=True))
    rows = []
    for (pop, method), rows_seen in seen.groupby(["population", "method"], sort=True):
        ids = [sid for sid in rows_seen["survey_id"].unique() if sid in surveys]
        herds, animals = found.get((pop, method), (0, 0))
        rows.append(
            {
                "population": pop,
                "method": method,
                "surveys": len(ids),
                **_effort(ids, inputs),
                "herds": int(herds),
                "herd_animals": int(animals),
            }
        )
    frame = pd.DataFrame(rows, columns=EFFORT_COLUMNS[:8])
    for unit, column, per in (
        ("per_survey_day", "survey_days", 1),
        ("per_100_km", "km", 100),
        ("per_100_km2", "km2", 100),
    ):
        effort = frame[column].astype(float)
        frame[unit] = (frame["herd_animals"] / effort * per).where(effort > 0).round(2)
    return frame


EFFORT_COLUMNS = [
    "population",
    "method",
    "surveys",
    "survey_days",
    "km",
    "km2",
    "herds",
    "herd_animals",
    "per_survey_day",
    "per_100_km",
    "per_100_km2",
]


def _effort(ids: list[str], inputs: ReportInputs) -> dict[str, float | None]:
    surveys = [inputs.surveys[i] for i in ids]
    days = [(s.ended_at - s.started_at).total_seconds() / 86400 for s in surveys if s.ended_at]
    km = [s.effort_km for s in surveys if s.effort_km is not None]
    km2 = [s.effort_km2 for s in surveys if s.effort_km2 is not None]
    return {
        "survey_days": round(sum(days), 2) if days else None,
        "km": round(sum(km), 1) if km else None,
        "km2": round(sum(km2), 1) if km2 else None,
    }


def period_sightings(tables: HerdTables, herds: pd.Index) -> pd.DataFrame:
    """The sightings of some herds, their text as text (the kept frame holds codes)."""
    chosen = np.zeros(len(tables.herds), dtype=bool)
    chosen[herds.to_numpy()] = True
    sightings = tables.sightings[chosen[tables.sightings["herd"].to_numpy()]]
    coded = [c for c in sightings.columns if isinstance(sightings[c].dtype, pd.CategoricalDtype)]
    return sightings.astype(dict.fromkeys(coded, "str"))


def _herd_sightings(sightings: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per herd: its sighting ids, space-separated, and whether any is synthetic (slices of
    one sorted list: groupby.agg(" ".join) took seconds for tens of thousands of herds)."""
    if len(sightings) == 0:
        return pd.Series([], dtype=object), pd.Series([], dtype=bool)
    order = np.argsort(sightings["herd"].to_numpy(), kind="stable")
    herd = sightings["herd"].to_numpy()[order]
    ids = sightings["id"].to_numpy()[order].tolist()
    starts = np.flatnonzero(np.r_[True, herd[1:] != herd[:-1]])
    ends = np.r_[starts[1:], len(herd)]
    joined = [" ".join(ids[a:b]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    synthetic = np.logical_or.reduceat(sightings["synthetic"].to_numpy()[order], starts)
    index = herd[starts]
    return pd.Series(joined, index=index, dtype=object), pd.Series(synthetic, index=index)


def trend_series(herds: pd.DataFrame, p: ReportPeriod, rule: CensusRule) -> pd.DataFrame:
    """Minimum count per population and year for the same period of the year, up to p: the
    same single-survey figure as the summary's, with the survey it comes from."""
    codes, keys = pd.factorize(herds[p.every])  # a few hundred periods, not every herd
    suffix = "" if p.every == "year" else p.series
    key_years = np.array([int(str(k)[:4]) for k in keys], dtype=np.int64)
    wanted = np.array([str(k)[5:] == suffix for k in keys], dtype=bool) & (key_years <= p.year)
    used = ["population", "area", "survey", "season_name", "size", "sightings"]  # survey_counts
    same = herds.loc[wanted[codes], used].assign(year=key_years[codes[wanted[codes]]])
    # survey_counts of every year at once: the rows and sums of one year's, year by year.
    every_year = same.groupby(["year", "population", "area", "survey"], sort=True).agg(
        season=("season_name", "first"),
        herds=("size", "size"),
        sightings=("sightings", "sum"),
        minimum_count=("size", "sum"),
    )
    rows = []
    for year, counts in every_year.reset_index().groupby("year", sort=True):
        found = figures(counts, rule, areas=False)
        firsts = counts.drop_duplicates("survey")  # the first row's, as minimum.choose takes
        season_of = dict(zip(firsts["survey"], firsts["season"], strict=True))
        for (pop, _), figure in found.items():
            rows.append((pop, year, figure.count, figure.survey, season_of.get(figure.survey)))
        total = sum(f.count for f in found.values())
        rows.append((ALL_POPULATIONS, year, total, "each population's own", None))
    columns = ["population", "year", "minimum_count", "survey", "season"]
    series = pd.DataFrame(rows, columns=columns)
    last = series["population"] == ALL_POPULATIONS  # each population, then all of them
    return series.sort_values(
        ["population", "year"],
        key=lambda c: c if c.name != "population" else c.where(~last, "\uffff"),
        kind="stable",
    ).reset_index(drop=True)


def _fit_trends(series: pd.DataFrame) -> dict[str, Trend | CommonTrend | None]:
    """Each population's own trend, and one common trend for all populations together
    (a level per population and a shared slope: reports.stats.common_trend)."""
    own = {
        str(pop): (rows["year"].tolist(), rows["minimum_count"].tolist())
        for pop, rows in series.groupby("population", sort=False)
        if pop != ALL_POPULATIONS
    }
    fitted: dict[str, Trend | CommonTrend | None] = {
        pop: quasi_poisson_trend(years, counts) for pop, (years, counts) in own.items()
    }
    if (series["population"] == ALL_POPULATIONS).any():
        fitted[ALL_POPULATIONS] = common_trend(own)
    return fitted


def trend_table(
    series: pd.DataFrame, trends: dict[str, Trend | CommonTrend], p: ReportPeriod
) -> pd.DataFrame:
    """Annual rate of change (%/year) with its 95% interval, per population."""
    rows = []
    for pop, rows_pop in series.groupby("population", sort=False):
        t = trends.get(str(pop))
        years = rows_pop["year"].tolist()
        rows.append(
            {
                "population": pop,
                "series": p.series_label,
                "years": len(years),
                "first_year": min(years),
                "last_year": max(years),
                "rate_pct": _pct(t.rate) if t else None,
                "rate_low_pct": _pct(t.rate_low) if t else None,
                "rate_high_pct": _pct(t.rate_high) if t else None,
                "dispersion": round(t.dispersion, 2) if t else None,
                "counts_from": _seasons_of(rows_pop["season"]),
            }
        )
    return pd.DataFrame(rows)


def _seasons_of(seasons: pd.Series) -> str:
    """The seasons a series' counts come from, with how many years each ("summer ×7,
    winter ×1"): a year's largest survey may be of another season than the others' (seen:
    one March count in a run of July ones, unsaid), which a trend should not hide.
    Empty for all populations together (each population's own)."""
    counted = seasons.dropna().astype(str).value_counts(sort=False)
    most_first = counted.sort_values(ascending=False, kind="stable")  # ties: the earlier first
    return ", ".join(f"{name} ×{n}" for name, n in most_first.items())


def _pct(v: float) -> float:
    return round(100.0 * v, 2)


def populations_in(report: PopulationReport) -> list[str]:
    """Populations with herds this period, in table order (no totals)."""
    return [str(p) for p in report.summary["population"].unique() if p != ALL_POPULATIONS]


def is_empty(report: PopulationReport) -> bool:
    return bool(len(report.herds) == 0)


def nan_to_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns with None for missing values (CSV and HTML print blanks)."""
    return frame.astype(object).where(pd.notna(frame), None)
