"""Herd de-duplication: the candidate gates, the chaining limit and researchers' decisions."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from geo.dedup import (
    DedupParams,
    Sightings,
    find_candidates,
    group_herds,
    resolve_decisions,
    similar_composition,
)

HOUR = 3600.0
KM = 1000.0
CLASSES = (10, 20, 2, 6)  # bulls, cows, yearlings, calves


def sightings(*rows: tuple[float, float, float, int], classes=None) -> Sightings:
    """Rows of (x km, y km, hours, count) in EPSG:3576."""
    arr = np.array(rows, dtype=float)
    cls = np.array(classes if classes is not None else [CLASSES] * len(rows), dtype=np.int64)
    return Sightings(
        arr[:, 0] * KM, arr[:, 1] * KM, arr[:, 2] * HOUR, arr[:, 3].astype(np.int64), cls
    )


def test_two_teams_seeing_one_herd_3_km_and_2_hours_apart_count_once():
    s = sightings((0, 0, 0, 410), (3, 0, 2, 380))
    grouping = group_herds(s)
    assert grouping.n_herds == 1 and grouping.labels.tolist() == [0, 0]


def test_herds_300_km_apart_in_the_same_hour_count_twice():
    s = sightings((0, 0, 0, 400), (300, 0, 0.5, 400))
    grouping = group_herds(s)
    assert grouping.n_herds == 2 and len(grouping.candidates) == 0


def test_a_herd_cannot_outrun_the_speed_gate():
    # 20 km in 2 hours needs 9 km/h; allowed is 2 km + 4 km/h × 2 h = 10 km.
    assert group_herds(sightings((0, 0, 0, 50), (20, 0, 2, 50))).n_herds == 2
    # The same 20 km in 5 hours is 2 + 20 = 22 km allowed: one herd.
    assert group_herds(sightings((0, 0, 0, 50), (20, 0, 5, 50))).n_herds == 1


def test_time_window_and_distance_cap():
    assert group_herds(sightings((0, 0, 0, 50), (1, 0, 25, 50))).n_herds == 2  # > 24 h
    # 40 km in 20 h is within the speed gate (82 km) but beyond the 30 km cap.
    assert group_herds(sightings((0, 0, 0, 50), (40, 0, 20, 50))).n_herds == 2


def test_different_sizes_are_different_herds():
    assert group_herds(sightings((0, 0, 0, 400), (1, 0, 1, 150))).n_herds == 2
    assert group_herds(sightings((0, 0, 0, 3), (1, 0, 1, 8))).n_herds == 1  # slack of 5


def test_different_composition_is_a_different_herd():
    cows_and_calves = (0, 30, 0, 20)
    bulls = (45, 5, 0, 0)
    s = sightings((0, 0, 0, 50), (1, 0, 1, 50), classes=[cows_and_calves, bulls])
    assert group_herds(s).n_herds == 2
    # Poorly classified sightings (under min_classified) are not compared.
    s = sightings((0, 0, 0, 50), (1, 0, 1, 50), classes=[(0, 3, 0, 2), (5, 1, 0, 0)])
    assert group_herds(s).n_herds == 1


def test_thresholds_are_configurable():
    s = sightings((0, 0, 0, 410), (3, 0, 2, 380))
    assert group_herds(s, DedupParams(base_km=0.5, max_speed_kmh=1.0)).n_herds == 2


def test_chains_stop_at_the_extent_limit():
    # Eleven sightings 5 km apart in a line, an hour apart: each neighbour pair matches,
    # but one herd cannot stretch 50 km, so the chain is cut into pieces of <= 30 km.
    s = sightings(*[(5 * k, 0, k, 100) for k in range(11)])
    grouping = group_herds(s)
    assert 2 <= grouping.n_herds <= 3
    for herd in range(grouping.n_herds):
        xs = s.x[grouping.labels == herd]
        assert xs.max() - xs.min() <= 30 * KM


def test_without_the_limit_the_chain_would_be_one_herd():
    s = sightings(*[(5 * k, 0, k, 100) for k in range(11)])
    assert group_herds(s, DedupParams(max_extent_km=1000, max_span_hours=1000)).n_herds == 1


def test_labels_number_herds_by_first_sighting():
    s = sightings((300, 0, 0, 50), (0, 0, 1, 50), (301, 0, 2, 50))
    assert group_herds(s).labels.tolist() == [0, 1, 0]


def test_reject_and_merge_override_the_automatic_rule():
    s = sightings((0, 0, 0, 410), (3, 0, 2, 380), (300, 0, 0, 50))
    assert group_herds(s, cuts=np.array([[0, 1]])).n_herds == 3
    # A researcher's merge of 1 and 2 merges their herds: {0, 1} and {2}, 300 km apart.
    assert group_herds(s, links=np.array([[1, 2]])).labels.tolist() == [0, 0, 0]


def test_a_link_never_crosses_a_cut():
    s = sightings((0, 0, 0, 410), (3, 0, 2, 380), (300, 0, 0, 50))
    grouping = group_herds(s, links=np.array([[1, 2]]), cuts=np.array([[0, 2]]))
    assert grouping.n_herds == 2 and grouping.refused_links == [(1, 2)]


def test_a_cut_holds_against_a_chain_through_a_third_sighting():
    # 0~1 and 1~2 match automatically; a cut between 0 and 2 keeps them apart.
    s = sightings((0, 0, 0, 100), (2, 0, 1, 100), (4, 0, 2, 100))
    grouping = group_herds(s, cuts=np.array([[0, 2]]))
    assert grouping.n_herds == 2
    assert grouping.labels[0] != grouping.labels[2]


def test_decisions_replay_in_order_later_ones_winning():
    d = SimpleNamespace
    links, cuts = resolve_decisions(
        [
            d(action="merge", observation_ids=["a", "b", "c"], other_ids=[]),
            d(action="reject", observation_ids=["c", "a"], other_ids=[]),
            d(action="split", observation_ids=["b"], other_ids=["a"]),
            d(action="confirm", observation_ids=["b", "a"], other_ids=[]),
        ]
    )
    assert sorted(links) == [("a", "b"), ("b", "c")]
    assert cuts == [("a", "c")]


def test_million_scale_inputs_stay_vectorised():
    rng = np.random.default_rng(1)
    n = 20_000
    s = Sightings(
        rng.uniform(0, 500_000, n),
        rng.uniform(0, 500_000, n),
        np.sort(rng.uniform(0, 90 * 24 * HOUR, n)),
        rng.integers(5, 200, n),
        np.full((n, 4), -1),
    )
    grouping = group_herds(s)
    assert 0 < grouping.n_herds <= n
    assert len(grouping.labels) == n and grouping.labels.max() == grouping.n_herds - 1
    pairs = find_candidates(s)
    assert np.all(pairs.i < pairs.j) and np.all(pairs.hours <= 24)


def test_candidates_equal_every_pair_checked_one_by_one():
    # Unsorted times with gaps over max_hours (separate search blocks), mixed classes.
    rng = np.random.default_rng(7)
    n = 400
    days = rng.choice([0.0, 2.0, 2.5, 9.0], n) * 24 * HOUR + rng.uniform(0, 30 * HOUR, n)
    classes = np.where(rng.random((n, 4)) < 0.2, -1, rng.integers(0, 30, (n, 4)))
    s = Sightings(
        rng.uniform(0, 60 * KM, n),
        rng.uniform(0, 60 * KM, n),
        days,
        rng.integers(1, 60, n),
        classes,
    )
    p = DedupParams()
    i, j = np.triu_indices(n, 1)
    hours = np.abs(s.t[i] - s.t[j]) / HOUR
    km = np.hypot(s.x[i] - s.x[j], s.y[i] - s.y[j]) / KM
    big, small = np.maximum(s.count[i], s.count[j]), np.minimum(s.count[i], s.count[j])
    share = np.clip(classes, 0, None) / np.clip(classes, 0, None).sum(axis=1, keepdims=True)
    well = np.clip(classes, 0, None).sum(axis=1) >= p.min_classified
    close = np.abs(share[i] - share[j]).max(axis=1) <= p.max_composition_diff
    keep = (km <= np.minimum(30, 2 + 4 * hours)) & (hours <= 24) & (big <= 2 * small + 5)
    keep &= ~(well[i] & well[j]) | close
    found = find_candidates(s, p)
    found_pairs = sorted(zip(found.i.tolist(), found.j.tolist(), strict=True))
    assert found_pairs == list(zip(i[keep].tolist(), j[keep].tolist(), strict=True))
    assert 0 < len(found) < keep.size and np.allclose(
        found.km, np.hypot(s.x[found.i] - s.x[found.j], s.y[found.i] - s.y[found.j]) / KM
    )


def test_stalled_rounds_finish_one_pair_at_a_time_with_the_same_herds(monkeypatch):
    rng = np.random.default_rng(5)
    n = 5_000
    s = Sightings(
        rng.uniform(0, 200 * KM, n),
        rng.uniform(0, 200 * KM, n),
        np.sort(rng.uniform(0, 20 * 24 * HOUR, n)),
        rng.integers(5, 200, n),
        np.full((n, 4), -1),
    )
    rounds = group_herds(s).labels
    monkeypatch.setattr("geo.dedup._MAX_ROUNDS", 1)  # most joins left to join_in_order
    assert np.array_equal(group_herds(s).labels, rounds)


def test_components_in_two_halves_give_the_herds_of_one_pass(monkeypatch):
    rng = np.random.default_rng(9)
    n = 5_000
    s = Sightings(
        rng.uniform(0, 300 * KM, n),
        rng.uniform(0, 300 * KM, n),
        np.sort(rng.uniform(0, 20 * 24 * HOUR, n)),
        rng.integers(5, 200, n),
        np.full((n, 4), -1),
    )
    halves = group_herds(s).labels
    monkeypatch.setattr("geo.dedup._halves", lambda comp, hard: [hard, np.zeros_like(hard)])
    assert np.array_equal(group_herds(s).labels, halves)


def _kd_tree_candidates(s: Sightings, p: DedupParams) -> set[tuple[int, int]]:
    """The candidate search as it was before the grid (a KD-tree over x, y and scaled time,
    Chebyshev metric, a hair wider than the reach, then the same exact gates: on the hours,
    and on x and y): the reference the grid must equal."""
    from scipy.spatial import cKDTree

    reach = p.max_distance_km * KM
    scale = reach / (p.max_hours * HOUR)
    tree = cKDTree(np.column_stack([s.x, s.y, (s.t - s.t.min()) * scale]))
    pairs = tree.query_pairs(reach * (1 + 1e-6), p=np.inf, output_type="ndarray")
    i, j = pairs.min(axis=1), pairs.max(axis=1)
    hours = np.abs(s.t[i] - s.t[j]) / HOUR
    dx, dy = np.abs(s.x[i] - s.x[j]), np.abs(s.y[i] - s.y[j])
    km = np.hypot(dx, dy) / KM
    keep = (hours <= p.max_hours) & (km <= p.allowed_km(hours)) & (dx <= reach) & (dy <= reach)
    keep &= np.maximum(s.count[i], s.count[j]) <= 2 * np.minimum(s.count[i], s.count[j]) + 5
    keep &= similar_composition(s.classes[i], s.classes[j], p)
    return set(zip(i[keep].tolist(), j[keep].tolist(), strict=True))


def _dense_sightings(seed: int, n: int, km: float, days: float) -> Sightings:
    """Sightings crowded enough to chain, with cells, blocks and classes of every kind:
    whole-second times (ties), and points on cell edges (multiples of 30 km)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-km, km, n) * KM
    x[: n // 20] = np.round(x[: n // 20] / (30 * KM)) * 30 * KM
    classes = np.where(rng.random((n, 4)) < 0.3, -1, rng.integers(0, 40, (n, 4)))
    return Sightings(
        x,
        rng.uniform(-km, km, n) * KM,
        np.floor(rng.choice([0.0, 3.0, 3.5], n) * 24 * HOUR + rng.uniform(0, days * 24 * HOUR, n)),
        rng.integers(1, 400, n),
        classes,
    )


def test_the_grid_finds_the_very_candidates_of_a_kd_tree():
    for seed, n, km, days in ((3, 6_000, 150, 2.0), (4, 3_000, 40, 0.5), (5, 2_000, 2_000, 9.0)):
        s = _dense_sightings(seed, n, km, days)
        p = DedupParams()
        found = find_candidates(s, p)
        pairs = set(zip(found.i.tolist(), found.j.tolist(), strict=True))
        assert len(pairs) == len(found) > 0  # no pair twice
        assert pairs == _kd_tree_candidates(s, p)
        assert np.array_equal(
            found.km, np.hypot(s.x[found.i] - s.x[found.j], s.y[found.i] - s.y[found.j]) / KM
        )
        assert np.array_equal(found.hours, np.abs(s.t[found.i] - s.t[found.j]) / HOUR)


def _herds_one_pair_at_a_time(s: Sightings, p: DedupParams) -> np.ndarray:
    """The rule of the module docstring, plainly: every candidate closest first (km, hours,
    then the pair), joined unless the joined herd would break the extent or span limit."""
    found = find_candidates(s, p)
    order = np.lexsort((found.j, found.i, found.hours, found.km))
    parent = list(range(len(s)))
    box = [
        [x, x, y, y, t, t] for x, y, t in zip(s.x.tolist(), s.y.tolist(), s.t.tolist(), strict=True)
    ]

    def root(a: int) -> int:
        while parent[a] != a:
            a = parent[a]
        return a

    for a, b in zip(found.i[order].tolist(), found.j[order].tolist(), strict=True):
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        joined = [
            min(box[ra][0], box[rb][0]),
            max(box[ra][1], box[rb][1]),
            min(box[ra][2], box[rb][2]),
            max(box[ra][3], box[rb][3]),
            min(box[ra][4], box[rb][4]),
            max(box[ra][5], box[rb][5]),
        ]
        too_wide = (joined[1] - joined[0]) ** 2 + (joined[3] - joined[2]) ** 2 > (
            p.max_extent_km * KM
        ) ** 2
        if too_wide or joined[5] - joined[4] > p.max_span_hours * HOUR:
            continue
        parent[rb] = ra
        box[ra] = joined
    roots = [root(a) for a in range(len(s))]
    first: dict[int, int] = {}
    return np.array([first.setdefault(r, len(first)) for r in roots])


def test_vectorised_herds_equal_the_rule_applied_one_pair_at_a_time():
    for seed, n, km, days in ((6, 4_000, 60, 2.0), (7, 3_000, 25, 1.0)):
        s = _dense_sightings(seed, n, km, days)
        p = DedupParams()
        grouping = group_herds(s, p)
        assert grouping.n_herds < n - 100  # chains enough to need the careful joins
        assert np.array_equal(grouping.labels, _herds_one_pair_at_a_time(s, p))


def test_herds_do_not_depend_on_the_order_candidates_come_in():
    s = _dense_sightings(8, 3_000, 40, 1.0)
    found = find_candidates(s)
    shuffled = np.random.default_rng(0).permutation(len(found))
    again = type(found)(*(getattr(found, f)[shuffled] for f in ("i", "j", "km", "hours")))
    assert np.array_equal(group_herds(s, candidates=again).labels, group_herds(s).labels)


@pytest.mark.parametrize("offset", [7_980, 7_989, 7_998, 2_933_499])
def test_sightings_exactly_max_hours_apart_are_a_pair_at_any_offset(offset: int) -> None:
    # Offsets from the earliest sighting where the scaled times round a day's gap over the
    # search radius: the exact test is on the hours, so they pair wherever they lie.
    p = DedupParams()
    t = np.array([0.0, offset, offset + p.max_hours * HOUR])
    s = Sightings(
        np.array([0.0, 500 * KM, 500 * KM]), np.zeros(3), t, np.full(3, 40), np.full((3, 4), -1)
    )
    found = find_candidates(s, p)
    assert set(zip(found.i.tolist(), found.j.tolist(), strict=True)) == {(1, 2)}
    assert _kd_tree_candidates(s, p) == {(1, 2)}
