"""Trend and composition intervals against independent computations and known cases."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from reports.stats import common_trend, proportion_estimate, quasi_poisson_trend, ratio_estimate

YEARS = [2019, 2020, 2021, 2022, 2023, 2024, 2025]
COUNTS = [10450, 11230, 10980, 12600, 12210, 13890, 14020]


@pytest.mark.parametrize("counts", [COUNTS, [50, 0, 41, 39, 30, 22, 25], [5, 9, 4]])
def test_trend_and_interval_equal_statsmodels_quasi_poisson_glm(counts):
    years = YEARS[: len(counts)]
    trend = quasi_poisson_trend(years, counts)
    x = sm.add_constant(np.asarray(years, dtype=float) - years[0])
    fit = sm.GLM(np.asarray(counts, dtype=float), x, family=sm.families.Poisson()).fit(
        scale="X2", use_t=True
    )
    low, high = fit.conf_int(alpha=0.05)[1]
    assert trend is not None
    assert trend.slope == pytest.approx(fit.params[1], abs=1e-6)
    assert trend.slope_se == pytest.approx(fit.bse[1], abs=1e-6)
    assert trend.dispersion == pytest.approx(fit.scale, abs=1e-6)
    assert trend.rate == pytest.approx(np.expm1(fit.params[1]), abs=1e-6)
    assert trend.rate_low == pytest.approx(np.expm1(low), abs=1e-6)
    assert trend.rate_high == pytest.approx(np.expm1(high), abs=1e-6)
    fitted, band_low, band_high = trend.fitted(years)
    pred = fit.get_prediction(x).summary_frame(alpha=0.05)
    np.testing.assert_allclose(fitted, pred["mean"], rtol=1e-6)
    np.testing.assert_allclose(band_low, pred["mean_ci_lower"], rtol=1e-6)
    np.testing.assert_allclose(band_high, pred["mean_ci_upper"], rtol=1e-6)


def test_exact_growth_has_its_rate_and_a_zero_width_interval():
    counts = [1000 * 1.05**k for k in range(6)]
    trend = quasi_poisson_trend(list(range(2020, 2026)), counts)
    assert trend is not None
    assert trend.rate == pytest.approx(0.05, abs=1e-9)
    assert trend.rate_high - trend.rate_low == pytest.approx(0.0, abs=1e-6)


def test_no_trend_from_fewer_than_three_years():
    assert quasi_poisson_trend([2024, 2025], [10, 12]) is None


def test_ratio_interval_by_hand():
    # Three herds: calves 10, 20, 30 with cows 50, 100, 100 → R = 60/250 = 0.24.
    calves, cows = [10, 20, 30], [50, 100, 100]
    est = ratio_estimate(calves, cows)
    residuals = np.array([10 - 0.24 * 50, 20 - 0.24 * 100, 30 - 0.24 * 100])
    se = np.sqrt((residuals**2).sum() / (3 * 2 * (250 / 3) ** 2))
    half = stats.t.ppf(0.975, 2) * se
    assert est.value == pytest.approx(24.0)
    assert est.low == pytest.approx(100 * (0.24 - half))
    assert est.high == pytest.approx(100 * (0.24 + half))
    assert est.n == 3


def test_identical_herds_give_a_zero_width_ratio_interval():
    est = ratio_estimate([30, 30, 30, 30], [100, 100, 100, 100])
    assert (est.value, est.low, est.high) == pytest.approx((30.0, 30.0, 30.0))


def test_ratio_interval_is_clipped_at_zero_and_needs_two_herds():
    est = ratio_estimate([0, 0, 40], [100, 100, 10])
    assert est.low == 0.0 and est.high is not None and est.high > est.value
    single = ratio_estimate([5], [20])
    assert single.value == pytest.approx(25.0) and single.low is None
    assert ratio_estimate([], []).value is None
    assert ratio_estimate([3, 4], [0, 0]).value is None


def test_no_calf_in_any_herd_gives_the_poisson_bound_not_a_zero_width_interval():
    """Seen: "0.0 (0.0–0.0)" calves per 100 cows for a March survey. With none seen in 350
    cows, the upper end is −ln 0.025 = 3.689 calves over them: 1.054 per 100."""
    est = ratio_estimate([0, 0, 0], [100, 200, 50])
    assert (est.value, est.low) == (0.0, 0.0)
    assert est.high == pytest.approx(3.688879 / 350 * 100, abs=1e-5)
    share = proportion_estimate([0, 0], [40, 60])
    assert share.high == pytest.approx(3.688879, abs=1e-5)  # per 100 animals: 3.69 %


def test_percent_calves_interval_stays_within_0_and_100():
    est = proportion_estimate([9, 10, 1], [10, 10, 10])
    assert est.value == pytest.approx(100 * 20 / 30)
    assert est.high is not None and est.high <= 100.0


def test_cluster_interval_is_wider_than_a_binomial_one_when_herds_differ():
    # 20 herds of 50: half with 40% calves, half with none. Animals are not independent.
    calves = [20] * 10 + [0] * 10
    total = [50] * 20
    est = proportion_estimate(calves, total)
    p, n = 0.2, 1000
    wald_half = 100 * 1.96 * np.sqrt(p * (1 - p) / n)
    assert est.high is not None and est.low is not None
    assert (est.high - est.low) / 2 > 3 * wald_half


# Two populations surveyed in different years, each growing 2 % a year: one from 2010, one
# (five times larger) only from 2016. Summed per year, the second one's arrival looked like
# a jump; the common trend has a level per population and one slope.
CARIBOU = {
    "early": (list(range(2010, 2021)), [1000 * 1.02 ** (y - 2010) for y in range(2010, 2021)]),
    "late": (list(range(2016, 2021)), [5000 * 1.02 ** (y - 2010) for y in range(2016, 2021)]),
}
NOISY = {
    "a": ([2015, 2016, 2017, 2018, 2019], [1200, 1350, 1190, 1500, 1420]),
    "b": ([2016, 2018, 2019, 2020], [310, 360, 298, 402]),
    "c": ([2015, 2017, 2020], [8000, 8900, 8450]),
}


NOISY_CARIBOU = {
    "early": (
        CARIBOU["early"][0],
        [c * (1 + 0.03 * (-1) ** k) for k, c in enumerate(CARIBOU["early"][1])],
    ),
    "late": (
        CARIBOU["late"][0],
        [c * (1 - 0.02 * (-1) ** k) for k, c in enumerate(CARIBOU["late"][1])],
    ),
}


@pytest.mark.parametrize("series", [NOISY_CARIBOU, NOISY])
def test_common_trend_equals_statsmodels_with_a_population_factor(series):
    trend = common_trend(series)
    pops = list(series)
    rows = [(pops.index(p), y, c) for p in pops for y, c in zip(*series[p], strict=True)]
    levels = np.zeros((len(rows), len(pops)))
    levels[np.arange(len(rows)), [r[0] for r in rows]] = 1.0
    first = min(r[1] for r in rows)
    x = np.column_stack([levels, [r[1] - first for r in rows]])
    y = np.array([r[2] for r in rows], dtype=float)
    fit = sm.GLM(y, x, family=sm.families.Poisson()).fit(scale="X2", use_t=True)
    low, high = fit.conf_int(alpha=0.05)[-1]
    assert trend is not None
    assert trend.slope == pytest.approx(fit.params[-1], abs=1e-6)
    assert trend.slope_se == pytest.approx(fit.bse[-1], abs=1e-6)
    assert trend.dispersion == pytest.approx(fit.scale, abs=1e-6)
    assert trend.rate_low == pytest.approx(np.expm1(low), abs=1e-6)
    assert trend.rate_high == pytest.approx(np.expm1(high), abs=1e-6)
    assert trend.df == len(rows) - len(pops) - 1


def test_a_population_joining_later_does_not_inflate_the_common_trend():
    trend = common_trend(CARIBOU)
    assert trend is not None and trend.rate == pytest.approx(0.02, abs=1e-9)
    years = sorted({y for yrs, _ in CARIBOU.values() for y in yrs})
    summed = [
        sum(c for yrs, cs in CARIBOU.values() for yy, c in zip(yrs, cs, strict=True) if yy == y)
        for y in years
    ]
    naive = quasi_poisson_trend(years, summed)
    assert naive is not None and naive.rate > 0.05  # what the yearly sum said


def test_common_trend_needs_three_years_and_a_residual():
    assert common_trend({"a": ([2020, 2021], [5, 6])}) is None
    assert common_trend({"a": ([2020], [5]), "b": ([2021], [6]), "c": ([2022], [7])}) is None


@pytest.mark.parametrize("p", [0.975, 0.95, 0.5, 0.995])
def test_t_quantile_equals_scipy(p: float) -> None:
    from reports.stats import t_quantile

    for df in [*range(1, 120), 250, 1000, 10_000, 1e6, 2.5]:
        assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-11, abs=1e-13)
