"""Population estimates from strip-transect surveys, beside (never instead of) minimum counts.

For a survey that records its strata (area, transects, strip width), the period's
de-duplicated herds of that survey are placed in the strip of the transect they were seen
from (geo.transects); each population's animals per transect give Jolly's Method II
estimate for the stratum (reports.stats.jolly_ii), and strata add up with their variances.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from domain.records import Survey, TransectStratum
from geo.transects import ProjectedStratum, project_stratum, strip_of_points
from reports.stats import StripEstimate, jolly_ii, sum_strata

ALL_STRATA = "all strata"
ESTIMATE_COLUMNS = [
    "population",
    "survey",
    "stratum",
    "transects",
    "area_km2",
    "strip_km2",
    "animals_in_strips",
    "density_km2",
    "estimate",
    "estimate_low",
    "estimate_high",
    "cv_pct",
]


def estimates_table(herds: pd.DataFrame, surveys: Mapping[str, Survey]) -> pd.DataFrame:
    """Per population, transect survey and stratum (and all strata of a survey)."""
    rows: list[dict[str, object]] = []
    designed = [s for s in surveys.values() if s.strata]
    for survey in sorted(designed, key=lambda s: s.id):
        seen = herds[herds["survey"] == survey.id]
        strata = [(s.name, _projected(s)) for s in survey.strata]
        for population, of_pop in seen.groupby("population", sort=True):
            found = [
                (name, est)
                for name, stratum in strata
                if (est := _stratum_estimate(stratum, of_pop)) is not None
            ]
            rows += [_row(str(population), survey.id, name, est) for name, est in found]
            if len(found) > 1 and (total := sum_strata([e for _, e in found])) is not None:
                rows.append(_row(str(population), survey.id, ALL_STRATA, total))
    return pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)


def _projected(stratum: TransectStratum) -> ProjectedStratum:
    return project_stratum(stratum.area, stratum.transects, stratum.strip_width_m)


def _stratum_estimate(stratum: ProjectedStratum, herds: pd.DataFrame) -> StripEstimate | None:
    """Animals of these herds per transect of the stratum, and the estimate from them."""
    strip = strip_of_points(stratum, herds["lon"].to_numpy(), herds["lat"].to_numpy())
    sizes = herds["size"].to_numpy(dtype=float)
    counts = np.bincount(strip[strip >= 0], weights=sizes[strip >= 0], minlength=len(stratum.lines))
    return jolly_ii(counts, stratum.strip_areas_km2(), stratum.area_km2)


def _row(population: str, survey: str, stratum: str, est: StripEstimate) -> dict[str, object]:
    cv = 100 * np.sqrt(est.variance) / est.estimate if est.estimate > 0 else None
    return {
        "population": population,
        "survey": survey,
        "stratum": stratum,
        "transects": est.transects,
        "area_km2": round(est.area_km2, 1),
        "strip_km2": round(est.strip_km2, 2),
        "animals_in_strips": int(round(est.animals_counted)),
        "density_km2": round(est.density_km2, 4),
        "estimate": int(round(est.estimate)),
        "estimate_low": int(round(est.low)),
        "estimate_high": int(round(est.high)),
        "cv_pct": None if cv is None else round(float(cv), 1),
    }
