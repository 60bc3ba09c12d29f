"""Interval estimates for reports: herd-cluster ratio estimators and a quasi-Poisson trend.

Composition ratios (calves per 100 cows, bulls per 100 cows, percent calves) treat each
de-duplicated herd as a cluster: animals in one herd are not independent, so a binomial
interval on animal counts would be far too narrow. R = Σy / Σx over herds, with the
linearised (Taylor) variance of a ratio estimator (Cochran 1977, §6.4):

    V(R) = Σ (y_i − R x_i)² / (n (n − 1) x̄²),

and a 95% interval R ± t(0.975, n − 1) √V, the lower end clipped at zero. Where no herd
had a single animal of the class (Σy = 0) that variance is zero and the interval would be
0-0, a certainty no survey gives (seen: "0.0 (0.0–0.0)" calves per 100 cows, read as a
failed year); the upper end is then the exact Poisson bound for none seen, −ln 0.025 ≈
3.69 animals, over Σx.

The trend is a log-linear quasi-Poisson GLM, log E[count] = a + b·year, fitted by
iteratively reweighted least squares; the dispersion φ is Pearson's X² / (n − 2), so
overdispersed counts widen the interval. The annual rate of change is exp(b) − 1 with the
95% interval exp(b ± t(0.975, n − 2) · se(b)) − 1, se(b) = √(φ (XᵀWX)⁻¹₂₂). This equals
statsmodels' GLM(Poisson).fit(scale="X2", use_t=True).

All populations together: summing populations per year would treat a population's
unsurveyed years as zero (a series joining later looks like growth). The common trend is
instead one quasi-Poisson model over every population's surveyed years,
log E[count] = a_population + b·year: a level per population and one year slope, with
φ = X² / (n − k − 1) for k populations (common_trend).

The t quantiles come from scipy.special (`t_quantile` below), not scipy.stats: importing
scipy.stats for one number cost a report's first request about half a second and hundreds
of modules, and scipy.special comes nearly free with the scipy.sparse that de-duplication
loads. (A bisection in Python over the incomplete beta function took 0.15 s of a report.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate and its 95% interval (None when it cannot be computed)."""

    value: float | None
    low: float | None
    high: float | None
    n: int  # clusters (herds) behind it


@dataclass(frozen=True, slots=True)
class Trend:
    """Log-linear trend across years: annual rate of change (fraction) and its 95% CI."""

    years: tuple[int, ...]
    counts: tuple[float, ...]
    intercept: float  # at year 0 of the centred years (centre = first year)
    slope: float
    slope_se: float
    dispersion: float
    rate: float  # exp(slope) - 1
    rate_low: float
    rate_high: float
    df: int
    covariance: tuple[float, float, float]  # var(a), cov(a, b), var(b), dispersion included

    def fitted(self, years: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fitted mean count and its 95% band at the given years."""
        x = np.asarray(years, dtype=float) - self.years[0]
        eta = self.intercept + self.slope * x
        var_a, cov_ab, var_b = self.covariance
        se = np.sqrt(var_a + 2 * x * cov_ab + x * x * var_b)
        t = t_quantile(0.975, self.df)
        return np.exp(eta), np.exp(eta - t * se), np.exp(eta + t * se)


@dataclass(frozen=True, slots=True)
class CommonTrend:
    """One annual rate of change shared by several populations, each at its own level."""

    populations: tuple[str, ...]
    years: tuple[int, ...]  # every year any population was counted
    slope: float
    slope_se: float
    dispersion: float
    rate: float
    rate_low: float
    rate_high: float
    df: int


Values = Sequence[float] | np.ndarray | Any  # lists, arrays and pandas Series alike
NONE_SEEN_UPPER = -math.log(0.025)  # 3.689: the 97.5 % Poisson upper bound for a count of 0


def ratio_estimate(y: Values, x: Values, *, per: float = 100.0) -> Estimate:
    """Σy/Σx × per over clusters, with the linearised-variance t interval (see module doc)."""
    ya, xa = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    n = len(ya)
    if n == 0 or xa.sum() <= 0:
        return Estimate(None, None, None, n)
    r = ya.sum() / xa.sum()
    if n < 2:
        return Estimate(r * per, None, None, n)
    if ya.sum() == 0:
        return Estimate(0.0, 0.0, NONE_SEEN_UPPER / xa.sum() * per, n)
    variance = np.sum((ya - r * xa) ** 2) / (n * (n - 1) * xa.mean() ** 2)
    half = t_quantile(0.975, n - 1) * np.sqrt(variance)
    return Estimate(r * per, max(0.0, r - half) * per, (r + half) * per, n)


def proportion_estimate(y: Values, x: Values) -> Estimate:
    """A percentage (Σy/Σx × 100) from clusters, its interval clipped to 0..100."""
    est = ratio_estimate(y, x)
    if est.high is None:
        return est
    return Estimate(est.value, est.low, min(100.0, est.high), est.n)


def quasi_poisson_trend(years: Sequence[int], counts: Sequence[float]) -> Trend | None:
    """Fit log E[count] = a + b·year (quasi-Poisson); None with under three years."""
    if len(years) < 3 or sum(counts) <= 0:
        return None
    yrs = np.asarray(years, dtype=float)
    y = np.asarray(counts, dtype=float)
    x = np.column_stack([np.ones_like(yrs), yrs - yrs[0]])
    beta, weights = _irls(x, y)
    mu = np.exp(x @ beta)
    df = len(y) - 2
    dispersion = float(np.sum((y - mu) ** 2 / mu) / df)
    cov = dispersion * np.linalg.inv(x.T @ (weights[:, None] * x))
    se = float(np.sqrt(cov[1, 1]))
    t = t_quantile(0.975, df)
    slope = float(beta[1])
    return Trend(
        tuple(int(v) for v in years),
        tuple(float(c) for c in counts),
        float(beta[0]),
        slope,
        se,
        dispersion,
        float(np.expm1(slope)),
        float(np.expm1(slope - t * se)),
        float(np.expm1(slope + t * se)),
        df,
        (float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])),
    )


def _irls(
    x: np.ndarray, y: np.ndarray, *, tol: float = 1e-12, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson log-link IRLS from a safe start; returns coefficients and final weights."""
    mu = y + y.mean() / 10 + 0.1  # keeps log(mu) finite when a year counted zero
    eta = np.log(mu)
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        z = eta + (y - mu) / mu
        w = mu
        new = np.linalg.solve(x.T @ (w[:, None] * x), x.T @ (w * z))
        eta = x @ new
        mu = np.exp(eta)
        if np.max(np.abs(new - beta)) < tol * (1 + np.max(np.abs(new))):
            return new, mu
        beta = new
    return beta, mu


def common_trend(
    series: Mapping[str, tuple[Sequence[int], Sequence[float]]],
) -> CommonTrend | None:
    """Fit log E[count] = a_population + b·year over each population's surveyed years
    (quasi-Poisson); None without three distinct years or a residual degree of freedom."""
    kept = {pop: (yrs, c) for pop, (yrs, c) in series.items() if len(yrs) and sum(c) > 0}
    years = sorted({int(y) for yrs, _ in kept.values() for y in yrs})
    if len(years) < 3:
        return None
    rows = [
        (k, float(y), float(c))
        for k, (yrs, cs) in enumerate(kept.values())
        for y, c in zip(yrs, cs, strict=True)
    ]
    df = len(rows) - len(kept) - 1
    if df < 1:
        return None
    levels = np.zeros((len(rows), len(kept)))
    levels[np.arange(len(rows)), [r[0] for r in rows]] = 1.0
    x = np.column_stack([levels, np.array([r[1] for r in rows]) - years[0]])
    y = np.array([r[2] for r in rows])
    beta, weights = _irls(x, y)
    mu = np.exp(x @ beta)
    dispersion = float(np.sum((y - mu) ** 2 / mu) / df)
    se = float(np.sqrt(dispersion * np.linalg.inv(x.T @ (weights[:, None] * x))[-1, -1]))
    t = t_quantile(0.975, df)
    slope = float(beta[-1])
    return CommonTrend(
        tuple(kept),
        tuple(years),
        slope,
        se,
        dispersion,
        float(np.expm1(slope)),
        float(np.expm1(slope - t * se)),
        float(np.expm1(slope + t * se)),
        df,
    )


@lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """Student's t quantile for 0.5 <= p < 1: scipy.special's inverse of the t
    distribution function (C; equal to scipy.stats.t.ppf)."""
    from scipy.special import stdtrit

    if not 0.5 <= p < 1 or df <= 0:
        raise ValueError(f"t_quantile needs 0.5 <= p < 1 and df > 0, not p={p}, df={df}")
    return float(stdtrit(df, p))


@dataclass(frozen=True, slots=True)
class StripEstimate:
    """Animals in a stratum from strip transects (Jolly's Method II), with its variance."""

    transects: int
    animals_counted: float  # Σy over the strips
    strip_km2: float  # Σz
    area_km2: float  # Z, the stratum
    density_km2: float  # R = Σy / Σz
    estimate: float  # R·Z
    variance: float
    df: float  # degrees of freedom of the interval
    low: float
    high: float


def jolly_ii(counts: Values, strip_km2: Values, area_km2: float) -> StripEstimate | None:
    """Jolly's (1969) Method II for sampling units of unequal size (a ratio estimator).

    With n transects of strip areas z_i holding y_i animals in a stratum of area Z, and
    N = Z / z̄ the number of strips of mean size the stratum would hold:

        R = Σy / Σz,   Ŷ = R·Z,
        Var(Ŷ) = N (N − n) / n · (s_y² − 2 R s_yz + R² s_z²),

    s² and s_yz the sample variances and covariance over transects (n − 1 in the
    denominator); the factor N − n is the finite population correction (zero when the
    strips cover the whole stratum). 95% interval Ŷ ± t(0.975, n − 1) √Var, the lower end
    no smaller than the animals counted. None with fewer than two transects.
    """
    y, z = np.asarray(counts, dtype=float), np.asarray(strip_km2, dtype=float)
    n = len(y)
    if n < 2 or z.sum() <= 0 or area_km2 <= 0:
        return None
    r = y.sum() / z.sum()
    units = area_km2 / z.mean()
    s_yy, s_zz, s_yz = np.var(y, ddof=1), np.var(z, ddof=1), np.cov(y, z, ddof=1)[0, 1]
    spread = max(0.0, float(s_yy - 2 * r * s_yz + r * r * s_zz))
    variance = units * max(0.0, units - n) / n * spread
    return _strip_estimate(n, y.sum(), z.sum(), area_km2, r, variance, n - 1)


def _strip_estimate(
    n: int, counted: float, strip: float, area: float, r: float, variance: float, df: float
) -> StripEstimate:
    estimate = r * area
    half = t_quantile(0.975, df) * float(np.sqrt(variance)) if df >= 1 else float("nan")
    low = max(counted, estimate - half)
    return StripEstimate(
        n,
        float(counted),
        float(strip),
        float(area),
        float(r),
        float(estimate),
        float(variance),
        float(df),
        float(low),
        float(estimate + half),
    )


def sum_strata(strata: Sequence[StripEstimate]) -> StripEstimate | None:
    """Several strata together: estimates and variances add; the interval's degrees of
    freedom by Satterthwaite's approximation, (ΣV)² / Σ(V² / df)."""
    if not strata:
        return None
    variance = sum(s.variance for s in strata)
    terms = sum(s.variance**2 / s.df for s in strata if s.variance > 0)
    df = variance**2 / terms if terms > 0 else min(s.df for s in strata)
    counted = sum(s.animals_counted for s in strata)
    strip = sum(s.strip_km2 for s in strata)
    area = sum(s.area_km2 for s in strata)
    estimate = sum(s.estimate for s in strata)
    combined = _strip_estimate(
        sum(s.transects for s in strata), counted, strip, area, estimate / area, variance, df
    )
    return combined
