"""Trend and composition intervals against independent computations and known cases."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from reports.stats import proportion_estimate, quasi_poisson_trend, ratio_estimate

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
