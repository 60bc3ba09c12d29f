"""The methods note every report carries: what was counted, and how (plain sentences)."""

from __future__ import annotations

from domain.census import CensusRule
from domain.periods import ReportPeriod
from geo.dedup import DedupParams
from reports.minimum import WINDOW_GAP_DAYS, WINDOW_MAX_DAYS


def methods_note(
    p: ReportPeriod,
    params: DedupParams,
    decisions: int,
    refused: list[tuple[int, int]],
    census: CensusRule | None = None,
) -> tuple[str, ...]:
    """Paragraphs for the report's methods section, with the thresholds actually used."""
    return (
        "What was counted. A sighting is one herd seen once by one team. Sightings "
        "overcount: two teams, two flights or two days can see the same herd. This report "
        "therefore counts de-duplicated herds, a herd seen more than once taking the "
        "largest count among its sightings. The 'sighting total' column is the raw sum of "
        "sightings, shown only for comparison: it is not a population count. Neither "
        "figure is a population estimate; no correction for herds that were missed is "
        "applied.",
        _surveys_paragraph(census or CensusRule()),
        _transects_paragraph(),
        f"De-duplication. Two sightings are candidates for one herd when they are at most "
        f"{params.max_hours:g} hours apart and their distance in the equal-area projection "
        f"EPSG:3576 is at most {params.base_km:g} km plus {params.max_speed_kmh:g} km/h "
        f"times the hours between them (a generous reindeer travel speed), capped at "
        f"{params.max_distance_km:g} km; their counts are similar (the larger at most "
        f"{params.size_ratio:g} times the smaller plus {params.size_slack}) and, when both "
        f"classified at least {params.min_classified} animals, no sex/age share differs by "
        f"more than {100 * params.max_composition_diff:g} percentage points. Candidates "
        f"join into herds closest first, but a herd may not stretch beyond "
        f"{params.max_extent_km:g} km or {params.max_span_hours:g} hours, so chains of "
        f"near neighbours do not merge distant sightings.",
        f"Researchers' decisions. {decisions} decision(s) (confirm, reject, merge, split), "
        f"each kept with who made it and when, override the automatic rule for the "
        f"sightings they name; later decisions win. "
        + (
            f"{len(refused)} decided link(s) were blocked by a later rejection or split. "
            if refused
            else ""
        )
        + "Undecided candidates follow the rule above.",
        f"Periods. Periods are calendar {p.every}s in the observer's local time; a herd "
        f"belongs to the period of its first sighting. Change is from {p.every} to "
        f"{p.every}: the previous period's minimum count for the same population and area.",
        "Composition. A herd's composition comes from its best-classified sighting. Calves "
        "and bulls per 100 adult females and the percentage of calves among classified "
        "animals are ratio estimates over herds, each herd a cluster (animals in one herd "
        "are not independent). 95% intervals use the linearised variance of a ratio "
        "estimator, Σ(yᵢ − R·xᵢ)² / (n(n−1)x̄²), with Student's t on n−1 degrees of "
        "freedom (Cochran 1977, §6.4); lower ends are clipped at zero.",
        "Effort. Surveys are those with sightings of the population in the period; "
        "survey-days run from a survey's start to its end, and kilometres or square "
        "kilometres come from its track or area where recorded. A herd's count is "
        "credited to the survey of its largest sighting. Counts per unit of effort are "
        "minimum counts divided by that effort.",
        f"Trend. For {_each(p)} up to {p.year}, the minimum counts "
        f"are fitted by a log-linear quasi-Poisson model, log E[count] = a + b·year (a "
        f"generalised linear model fitted by iteratively reweighted least squares, "
        f"dispersion from Pearson's X² over n−2). The annual rate of change is exp(b) − 1, "
        f"with a 95% interval exp(b ± t·se(b)) − 1 on n−2 degrees of freedom. Years with "
        f"no sightings of a population are treated as not surveyed, not as zero. Minimum "
        f"counts depend on survey effort: a trend is only as comparable as the surveys. "
        "The trend of all populations together is not fitted to their yearly sum (that "
        "would count a population's unsurveyed years as zero): one quasi-Poisson model, "
        "log E[count] = a_population + b·year, is fitted to every population's surveyed "
        "years, a level per population and one common slope, dispersion from Pearson's "
        "X² over n − k − 1 for k populations; each population's own slope is given beside "
        "it.",
    )


def _transects_paragraph() -> str:
    return (
        "Population estimates. Where a survey records its strata (an area, the transects "
        "flown across it and the width of the strip counted along each), the number of "
        "animals in each stratum is estimated by Jolly's Method II for sampling units of "
        "unequal size (Jolly 1969): the animals counted per km² of strip, R = Σy/Σz, times "
        "the stratum's area Z, with variance N(N−n)/n·(s_y² − 2R·s_yz + R²·s_z²) from the "
        "variation between the n transects (N = Z/z̄; N−n the finite population "
        "correction), and a 95% interval with Student's t on n−1 degrees of freedom. A "
        "herd is in a transect's strip when its defining sighting lies inside the stratum "
        "within half the strip width of the line (the nearest line where strips overlap), "
        "all measured in EPSG:3576. Strata add up with their variances (degrees of freedom "
        "by Satterthwaite). Assumptions: every animal in a strip is seen and counted, "
        "transects are placed independently of where the animals are, and animals do not "
        "move between strips during the survey; no correction is made for animals missed. "
        "Estimates are given in their own table and never mixed with minimum counts."
    )


def _surveys_paragraph(census: CensusRule) -> str:
    """How a period's minimum count is taken from one survey, and which survey."""
    if census.is_empty():
        designated = "No census survey is designated, so the largest survey's count is used."
    else:
        parts = [f"{pop}: the {season} season" for pop, season in sorted(census.seasons.items())]
        parts += [f"survey {s}" for s in sorted(census.surveys)]
        designated = (
            "The programme designates as census "
            + "; ".join(parts)
            + ". Where a census survey saw the population, its count is used instead of "
            "the largest."
        )
    return (
        "Minimum count. Herds are de-duplicated within a survey (and between the teams of "
        "one survey), but repeated surveys of the same range see the same animals again: "
        "adding them up would count a population several times. Each herd is credited to "
        "the survey of its largest sighting, and a survey's minimum count is the sum of "
        "its herds' sizes. A population's minimum count for a period (and for each area) "
        "is therefore the count of ONE survey, never a sum across surveys: the largest "
        f"single-survey count in the period. {designated} The 'From survey' column names "
        "the survey each figure comes from, and the table of surveys gives every "
        "survey's own count. 'All populations' adds up each population's own figure. "
        "Sightings that name no survey are grouped into survey windows: per population, "
        f"in order of local date, a window runs while the gap between sightings is at most "
        f"{WINDOW_GAP_DAYS} days, and is at most {WINDOW_MAX_DAYS} days long. The "
        "change from the previous period and the trend use the same figure. Composition "
        "is given per survey, never pooled across surveys or seasons (calves are born in "
        "May and June: calves per 100 cows in March and July measure different things)."
    )


def _each(p: ReportPeriod) -> str:
    """ "each year", "July of each year", "the calving season of each year"."""
    if p.every == "year":
        return "each year"
    prefix = "" if p.every == "month" else "the "
    return f"{prefix}{p.series_label} of each year"
