"""Herd de-duplication: which sightings are the same herd seen twice (pure, numpy/scipy).

Rule (the defaults are DedupParams'):

1. Candidate pair: two sightings at most `max_hours` apart whose EPSG:3576 distance is at
   most `base_km + max_speed_kmh × hours apart`, capped at `max_distance_km`; their counts
   are similar (larger ≤ `size_ratio` × smaller + `size_slack`) and, when both classified
   at least `min_classified` animals, no class share (bulls, cows, yearlings, calves)
   differs by more than `max_composition_diff`.
2. Researchers' decisions are replayed in order into links (confirm, merge) and cuts
   (reject, split) between sightings; a later decision on the same pair overrides an
   earlier one. Decided pairs are no longer candidates.
3. Undecided candidates join herds closest first, but a join is refused when the resulting
   herd would span more than `max_extent_km` (bounding-box diagonal) or `max_span_hours`,
   or would put two cut sightings together. This stops chaining: A~B and B~C do not make
   A, B and C one herd when A and C are far apart in space or time. The joins run in
   rounds: two herds whose closest link is each other's closest are joined (reciprocal
   nearest neighbours, as in agglomerative clustering), vectorised over all herds at once.
4. Each decided link then merges the whole herds its two sightings are in (a researcher's
   merge is not held to the limits), unless a cut lies between the two herds.

Components that break no limit are taken whole (scipy connected components), so the slow,
ordered joins run only where chains or decisions need them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

# Speeds of real wild reindeer (CC0 GPS fixes, Setesdal, Norway, 3-hour steps): median
# 0.09 km/h, 99.9th percentile 1.8 km/h, fastest 3.6 km/h. Migrating tundra herds cover
# 50-60 km a day. 4 km/h sustained is therefore generous: faster "moves" are two herds.
DEFAULT_MAX_SPEED_KMH = 4.0


@dataclass(frozen=True, slots=True)
class DedupParams:
    """Thresholds of the de-duplication rule (see the module docstring)."""

    max_hours: float = 24.0  # two sightings further apart in time are never one herd
    base_km: float = 2.0  # herd spread and position error allowed at zero time apart
    max_speed_kmh: float = DEFAULT_MAX_SPEED_KMH
    max_distance_km: float = 30.0  # cap on the speed allowance
    size_ratio: float = 2.0  # counts of one herd by two teams differ, but not wildly
    size_slack: int = 5  # small herds: 3 vs 8 animals can be one herd
    min_classified: int = 20  # compare composition only with enough classified animals
    max_composition_diff: float = 0.2  # largest allowed difference in any class share
    max_extent_km: float = 30.0  # a herd's sightings fit in a box this wide (diagonal)
    max_span_hours: float = 48.0  # and within this time

    def allowed_km(self, hours_apart: np.ndarray) -> np.ndarray:
        """How far apart two sightings of one herd may be, given the hours between them."""
        return np.minimum(self.max_distance_km, self.base_km + self.max_speed_kmh * hours_apart)


@dataclass(frozen=True, slots=True)
class Sightings:
    """Positions (EPSG:3576 m), UTC seconds, counts and classes (-1 = not recorded)."""

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    count: np.ndarray
    classes: np.ndarray  # shape (n, 4): adult_males, adult_females, yearlings, calves

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True, slots=True)
class Candidates:
    """Candidate pairs (i < j, in no particular order), distance in km and hours apart."""

    i: np.ndarray
    j: np.ndarray
    km: np.ndarray
    hours: np.ndarray

    def __len__(self) -> int:
        return len(self.i)


@dataclass(frozen=True, slots=True)
class Grouping:
    """Herd number per sighting (0.., in order of each herd's first sighting)."""

    labels: np.ndarray
    n_herds: int
    candidates: Candidates
    # Decided links that a cut (a later reject or split) kept from joining.
    refused_links: list[tuple[int, int]] = field(default_factory=list)


class Decision(Protocol):
    """What the rule needs of a stored decision (data.herds.HerdDecision fits)."""

    @property
    def action(self) -> str: ...
    @property
    def observation_ids(self) -> Sequence[object]: ...
    @property
    def other_ids(self) -> Sequence[object]: ...


def find_candidates(s: Sightings, params: DedupParams = DedupParams()) -> Candidates:
    """Candidate pairs by space-time window (a grid of square cells sorted by time), then
    speed, size and composition gates.

    The search runs per block of sightings with no gap over max_hours inside (a pair across
    such a gap is never a candidate): small arrays that stay in cache, and two blocks at a
    time on two cores (numpy releases the GIL). The window is the one a KD-tree over
    (x, y, scaled time) with the Chebyshev metric would search, gated exactly on the hours
    and on x and y, and gives the same pairs (tests/geo/test_dedup.py holds the two
    together) in half the time.
    """
    if len(s) < 2:
        return _no_candidates()
    by_time = np.argsort(s.t, kind="stable")
    blocks = _time_blocks(s.t[by_time], params)
    t0 = float(s.t.min())

    def search(block: tuple[int, int]) -> Candidates:
        members = by_time[block[0] : block[1]]
        return _block_candidates(s, members, t0, params)

    with ThreadPoolExecutor(max_workers=2) as pool:
        found = _concatenated(list(pool.map(search, blocks)))
    # Kept with the herds until the data change: sighting numbers in 4 bytes, not 8.
    index = np.int32 if len(s) < 2**31 else np.int64
    return Candidates(found.i.astype(index), found.j.astype(index), found.km, found.hours)


def _time_blocks(t_sorted: np.ndarray, params: DedupParams) -> list[tuple[int, int]]:
    """(start, end) positions in time order, split where sightings are over max_hours apart."""
    gaps = np.flatnonzero(np.diff(t_sorted) > params.max_hours * 3600.0) + 1
    bounds = np.r_[0, gaps, len(t_sorted)].tolist()
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b - a > 1]


def _block_candidates(
    s: Sightings,
    members: np.ndarray,
    t0: float,
    params: DedupParams,
) -> Candidates:
    """Candidates among some sightings (indices into s, in time order); t0 is the earliest
    time of all sightings."""
    reach = params.max_distance_km * 1000.0
    # Time scaled so that max_hours spans the same as max_distance: the window is then
    # max(|dx|, |dy|, |d scaled time|) <= reach. The offset is the same for every block.
    scale = reach / (params.max_hours * 3600.0)
    grid = _Grid(s.x[members], s.y[members], reach)
    members = members[grid.order]
    x, y, t, count = s.x[members], s.y[members], s.t[members], s.count[members]
    scaled = (t - t0) * scale
    i, j = grid.pairs_in_window(scaled, reach)
    # Gates applied one after another on ever fewer pairs (the window holds millions),
    # the cheapest and most selective first.
    hours = np.abs(t[i] - t[j]) / 3600.0
    # The exact test is on the hours alone: the scaled times only find the window (with a
    # margin). A test on them too would round differently with another origin, t0, and
    # the same two sightings exactly max_hours apart could be a pair in one grouping and
    # not in a regrouping of their block (reports.herd_update).
    keep = np.flatnonzero((hours <= params.max_hours) & similar_size(count[i], count[j], params))
    i, j, hours = i[keep], j[keep], hours[keep]
    dx, dy = x[i] - x[j], y[i] - y[j]
    km = np.hypot(dx, dy) / 1000.0
    keep = np.flatnonzero(
        (km <= params.allowed_km(hours)) & (np.abs(dx) <= reach) & (np.abs(dy) <= reach)
    )
    i, j = i[keep], j[keep]
    # Class shares of this block's sightings only: computed on the block's thread.
    shares, well = _class_shares(s.classes[members], params)
    similar = _similar_shares(shares, well, i, j, params)
    a, b, keep = members[i[similar]], members[j[similar]], keep[similar]
    return Candidates(np.minimum(a, b), np.maximum(a, b), km[keep], hours[keep])


class _Grid:
    """Sightings in square cells as wide as the search reach, sorted by cell and, within a
    cell, by time (they arrive in time order). Two sightings within reach in x and y lie
    in one cell or in two neighbouring ones."""

    # Neighbours "after" a cell: with the cell itself they meet every neighbouring pair once.
    AFTER = ((0, 1), (1, -1), (1, 0), (1, 1))

    def __init__(self, x: np.ndarray, y: np.ndarray, reach: float) -> None:
        width = reach * (1 + 1e-9)  # a hair wider: rounding never puts a pair 2 cells apart
        cx = np.floor(x / width).astype(np.int64)
        cy = np.floor(y / width).astype(np.int64)
        cx -= cx.min() - 1
        cy -= cy.min() - 1
        self.stride = int(cy.max()) + 2  # room for the neighbours' keys at either edge
        key = cx * self.stride + cy
        self.order = np.argsort(key, kind="stable")
        self.key = key[self.order]
        self.cells, starts = np.unique(self.key, return_index=True)
        self.rank = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(key)]))

    def pairs_in_window(self, scaled: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray]:
        """Positions (i, j) of every pair in one cell or neighbouring cells whose scaled
        times are within reach (and a few just beyond it: the caller checks exactly)."""
        # One sorted line of (cell, time): cell after cell, each a span apart, so that one
        # binary search finds a time window inside any cell. Spans are whole numbers, so
        # the positions are exact to far below the margin at any realistic size.
        low = float(scaled.min())
        span = float(np.ceil(float(scaled.max()) - low + 4 * reach + 1))
        offset = scaled - low
        line = self.rank * span + offset
        margin = reach * 1.001
        n = len(line)
        here = np.arange(n)
        # Later sightings of the same cell (they are in time order within it).
        ends = np.searchsorted(line, line + margin, "right")
        firsts, seconds = [np.repeat(here, ends - here - 1)], [_ranges(here + 1, ends - here - 1)]
        for dx, dy in self.AFTER:
            target = self.key + dx * self.stride + dy
            rank = np.minimum(np.searchsorted(self.cells, target), len(self.cells) - 1)
            has = np.flatnonzero(self.cells[rank] == target)
            at = rank[has] * span + offset[has]
            lo = np.searchsorted(line, at - margin, "left")
            hi = np.searchsorted(line, at + margin, "right")
            firsts.append(np.repeat(has, hi - lo))
            seconds.append(_ranges(lo, hi - lo))
        return np.concatenate(firsts), np.concatenate(seconds)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """starts[0], starts[0]+1, … (counts[0] of them), then the same from starts[1], …"""
    ends = np.cumsum(counts)
    return np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(starts - ends + counts, counts)


def _concatenated(found: list[Candidates]) -> Candidates:
    """All blocks' candidates, block after block."""
    if not found:
        return _no_candidates()
    i, j, km, hours = (
        np.concatenate([getattr(c, f) for c in found]) for f in ("i", "j", "km", "hours")
    )
    return Candidates(i, j, km, hours)


def _class_shares(classes: np.ndarray, params: DedupParams) -> tuple[np.ndarray, np.ndarray]:
    """Each sighting's class shares, and whether it classified enough to compare them (what
    similar_composition computes per pair, once per sighting: the same numbers)."""
    counted = np.clip(classes, 0, None)
    total = counted.sum(axis=1)
    well = total >= params.min_classified
    shares = np.zeros(counted.shape, dtype=np.float64)
    # The same division as counted[well] / total[well, None], without gathering the rows.
    np.divide(counted, total[:, None], out=shares, where=well[:, None])
    return shares, well


def _similar_shares(
    shares: np.ndarray, well: np.ndarray, a: np.ndarray, b: np.ndarray, params: DedupParams
) -> np.ndarray:
    """similar_composition for pairs (a, b) of sightings, from _class_shares."""
    ok = np.ones(len(a), dtype=bool)
    both = np.flatnonzero(well[a] & well[b])
    diff = np.abs(shares[a[both]] - shares[b[both]]).max(axis=1)
    ok[both] = diff <= params.max_composition_diff
    return ok


def similar_size(a: np.ndarray, b: np.ndarray, params: DedupParams) -> np.ndarray:
    """True where the larger count is within size_ratio × smaller + size_slack."""
    return np.maximum(a, b) <= params.size_ratio * np.minimum(a, b) + params.size_slack


def similar_composition(a: np.ndarray, b: np.ndarray, params: DedupParams) -> np.ndarray:
    """True unless both are well classified and some class share differs too much."""
    ca, cb = np.clip(a, 0, None), np.clip(b, 0, None)
    na, nb = ca.sum(axis=1), cb.sum(axis=1)
    both = (na >= params.min_classified) & (nb >= params.min_classified)
    ok = np.ones(len(a), dtype=bool)
    if both.any():
        share_a = ca[both] / na[both, None]
        share_b = cb[both] / nb[both, None]
        ok[both] = np.abs(share_a - share_b).max(axis=1) <= params.max_composition_diff
    return ok


Pair = tuple[str, str]


def resolve_decisions(decisions: Iterable[Decision]) -> tuple[list[Pair], list[Pair]]:
    """(links, cuts) between sighting ids after replaying decisions; later ones win per pair."""
    state: dict[Pair, bool] = {}
    for d in decisions:
        ids = [str(i) for i in d.observation_ids]
        if d.action in ("confirm", "merge"):
            pairs = [(a, b) for k, a in enumerate(ids) for b in ids[k + 1 :]]
            _set(state, pairs, True)
        elif d.action == "reject":
            _set(state, [(ids[0], ids[1])] if len(ids) == 2 else [], False)
        elif d.action == "split":
            _set(state, [(a, str(o)) for a in ids for o in d.other_ids], False)
    links = [p for p, linked in state.items() if linked]
    cuts = [p for p, linked in state.items() if not linked]
    return links, cuts


def _set(state: dict[Pair, bool], pairs: Iterable[Pair], linked: bool) -> None:
    for a, b in pairs:
        if a != b:
            key = (a, b) if a < b else (b, a)
            state.pop(key, None)  # re-insert so dict order follows the latest decision
            state[key] = linked


def group_herds(
    s: Sightings,
    params: DedupParams = DedupParams(),
    *,
    links: np.ndarray | None = None,
    cuts: np.ndarray | None = None,
    candidates: Candidates | None = None,
) -> Grouping:
    """Herds from candidates and decided links/cuts (index pairs, shape (k, 2)).

    First the automatic herds (undecided candidates, never across a cut); then each decided
    link merges the two herds its sightings are in, unless a cut lies between them.
    """
    cand = candidates if candidates is not None else find_candidates(s, params)
    links = _pairs(links)
    cuts = _pairs(cuts)
    auto = _without(cand, np.vstack([links, cuts]))
    labels = _automatic_herds(s, auto, cuts, params)
    labels, refused = _merge_linked(labels, links, cuts)
    return _numbered(labels, cand, refused)


def _automatic_herds(
    s: Sightings, auto: Candidates, cuts: np.ndarray, params: DedupParams
) -> np.ndarray:
    """Connected components, re-joined carefully where one breaks a limit or holds a cut."""
    # scipy here, not at the top: the saved grouping's check (reports.herd_file.usable,
    # run by every `herdwatch migrate` and `serve`) imports this module for DedupParams.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(s)
    graph = coo_matrix((np.ones(len(auto)), (auto.i, auto.j)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    hard = _components_needing_care(s, comp, cuts, params)
    if not hard.any():
        return np.asarray(comp)
    return _careful_union(s, comp, hard, auto, cuts, params)


def _merge_linked(
    labels: np.ndarray, links: np.ndarray, cuts: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Merge whole herds along decided links, in decision order, never across a cut."""
    if len(links) == 0:
        return labels, []
    herds = _HerdUnion(labels, cuts)
    refused = [(int(a), int(b)) for a, b in links if not herds.union(int(a), int(b))]
    return herds.relabelled(), refused


class _HerdUnion:
    """Union-find over herd labels, each herd remembering the herds it is cut from."""

    def __init__(self, labels: np.ndarray, cuts: np.ndarray) -> None:
        self.labels = labels
        self.parent: dict[int, int] = {}
        self.cut: dict[int, set[int]] = {}
        for a, b in cuts:
            la, lb = int(labels[a]), int(labels[b])
            self.cut.setdefault(la, set()).add(lb)
            self.cut.setdefault(lb, set()).add(la)

    def find(self, label: int) -> int:
        while self.parent.get(label, label) != label:
            label = self.parent[label]
        return label

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(int(self.labels[a])), self.find(int(self.labels[b]))
        if ra == rb:
            return True
        if any(self.find(p) == rb for p in self.cut.get(ra, ())):
            return False
        self.parent[rb] = ra
        self.cut.setdefault(ra, set()).update(self.cut.pop(rb, set()))
        return True

    def relabelled(self) -> np.ndarray:
        out = self.labels.copy()
        for label in self.parent:
            out[self.labels == label] = self.find(label)
        return out


def _pairs(pairs: np.ndarray | None) -> np.ndarray:
    if pairs is None or len(pairs) == 0:
        return np.empty((0, 2), dtype=np.int64)
    return np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)


def _without(cand: Candidates, decided: np.ndarray) -> Candidates:
    """Candidates minus pairs a researcher decided (those follow the decision instead)."""
    if len(decided) == 0 or len(cand) == 0:
        return cand
    n = int(max(cand.j.max(), decided.max())) + 1
    keys = cand.i.astype(np.int64) * n + cand.j
    keep = ~np.isin(keys, decided[:, 0] * n + decided[:, 1])
    return Candidates(cand.i[keep], cand.j[keep], cand.km[keep], cand.hours[keep])


def _components_needing_care(
    s: Sightings, comp: np.ndarray, cuts: np.ndarray, params: DedupParams
) -> np.ndarray:
    """Per component: True when it breaks the extent or span limit or holds a cut pair."""
    k = int(comp.max()) + 1 if len(comp) else 0
    by_comp = _ByComponent(comp)
    extent_km = np.hypot(by_comp.spread(s.x, k), by_comp.spread(s.y, k)) / 1000.0
    span_h = by_comp.spread(s.t, k) / 3600.0
    hard = (extent_km > params.max_extent_km) | (span_h > params.max_span_hours)
    if len(cuts):
        hard[comp[cuts[:, 0]][comp[cuts[:, 0]] == comp[cuts[:, 1]]]] = True
    return hard


class _ByComponent:
    """Sightings sorted by component once, for several spreads (sort + reduceat: ufunc.at
    is slow)."""

    def __init__(self, comp: np.ndarray) -> None:
        self.order = np.argsort(comp, kind="stable")
        self.starts = np.flatnonzero(np.r_[True, np.diff(comp[self.order]) != 0])

    def spread(self, values: np.ndarray, k: int) -> np.ndarray:
        """max − min of values per component 0..k-1."""
        if len(self.order) == 0:  # no sightings at all (a new deployment's first report)
            return np.zeros(k, dtype=values.dtype)
        ordered = values[self.order]
        lowest = np.minimum.reduceat(ordered, self.starts)
        return np.asarray(np.maximum.reduceat(ordered, self.starts) - lowest)


def _careful_union(
    s: Sightings,
    comp: np.ndarray,
    hard: np.ndarray,
    auto: Candidates,
    cuts: np.ndarray,
    params: DedupParams,
) -> np.ndarray:
    """Closest-first joins inside the components that need them (see _reciprocal_rounds).
    Components never join one another, so two halves of them run on two cores (numpy
    releases the GIL) and give the very herds of one pass over all."""

    def part(chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _careful_part(s, comp, chosen, auto, cuts, params)

    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(part, _halves(comp, hard)))
    labels = comp.copy()
    offset = len(comp)  # careful groups never collide with the untouched component numbers
    for members, roots in parts:
        labels[members] = offset + roots
        offset += len(members)
    return np.asarray(labels)


def _halves(comp: np.ndarray, hard: np.ndarray) -> list[np.ndarray]:
    """The components needing care, in two sets with about as many sightings each."""
    sizes = np.bincount(comp, minlength=len(hard)) * hard
    before = np.cumsum(sizes) - sizes
    first = hard & (before < sizes.sum() / 2)
    return [first, hard & ~first]


def _careful_part(
    s: Sightings,
    comp: np.ndarray,
    hard: np.ndarray,
    auto: Candidates,
    cuts: np.ndarray,
    params: DedupParams,
) -> tuple[np.ndarray, np.ndarray]:
    """The sightings of the chosen components and the number of each one's group."""
    members = np.flatnonzero(hard[comp])
    local = np.full(len(comp), -1, dtype=np.int64)
    local[members] = np.arange(len(members))
    in_hard = np.flatnonzero(hard[comp[auto.i]])
    i, j = auto.i[in_hard], auto.j[in_hard]
    order = _closest_first(auto.km[in_hard], auto.hours[in_hard], i, j)
    first, second = local[i[order]], local[j[order]]
    groups = _Groups(s, members, local[cuts] if len(cuts) else cuts, params)
    # Components holding a cut take the one-pair-at-a-time path, which checks cuts.
    with_cut = np.zeros(len(hard), dtype=bool)
    with_cut[comp[cuts.reshape(-1)]] = True
    slow = with_cut[comp[members[first]]]
    _reciprocal_rounds(groups, first[~slow], second[~slow])
    groups.join_in_order(first[slow].tolist(), second[slow].tolist())
    return members, groups.roots()


def _closest_first(km: np.ndarray, hours: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Positions of the pairs (i, j) by (km, hours, i, j): np.lexsort((j, i, hours, km)) at
    a sixth of the cost, as equal distances are rare (one quick sort, then only the runs of
    equal km sorted again). The order does not depend on the order the pairs come in."""
    order = np.argsort(km)
    ordered = km[order]
    ties = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(ties):
        tied = np.unique(np.concatenate([ties, ties + 1]))
        subset = order[tied]  # runs of equal km, each in no particular order
        order[tied] = subset[np.lexsort((j[subset], i[subset], hours[subset], km[subset]))]
    return order


def _reciprocal_rounds(groups: _Groups, first: np.ndarray, second: np.ndarray) -> None:
    """Join herds in rounds, vectorised: two herds whose closest candidate link is each
    other's closest are joined when the result stays within the limits; a refused link is
    dropped for good (herds only grow). Ends with one-at-a-time joins if rounds stall."""
    x0, x1, y0, y1, t0, t1 = groups.box  # updated in place
    root = groups.parent
    rank = np.arange(len(first))  # the links arrive closest first
    # Each link as the herds it joins (their roots), relabelled as herds join.
    ra, rb = root[first], root[second]
    for _ in range(_MAX_ROUNDS):
        # Internal links are done: dropped before the boxes are gathered for the rest.
        apart = np.flatnonzero(ra != rb)
        rank, ra, rb = rank[apart], ra[apart], rb[apart]
        box = (
            np.minimum(x0[ra], x0[rb]),
            np.maximum(x1[ra], x1[rb]),
            np.minimum(y0[ra], y0[rb]),
            np.maximum(y1[ra], y1[rb]),
            np.minimum(t0[ra], t0[rb]),
            np.maximum(t1[ra], t1[rb]),
        )
        # A link whose herds would break a limit now always will.
        fits = (box[1] - box[0]) ** 2 + (box[3] - box[2]) ** 2 <= groups.max_d2
        live = np.flatnonzero(fits & (box[5] - box[4] <= groups.max_span))
        rank, ra, rb = rank[live], ra[live], rb[live]
        if len(rank) == 0:
            break
        best = np.minimum(_first_rank(ra, rank, len(root)), _first_rank(rb, rank, len(root)))
        mutual = np.flatnonzero((best[ra] == rank) & (best[rb] == rank))
        pa, pb = ra[mutual], rb[mutual]
        for column, value in zip((x0, x1, y0, y1, t0, t1), box, strict=True):
            column[pa] = value[live[mutual]]
        relabel = np.arange(len(root))
        relabel[pb] = pa
        root, ra, rb = relabel[root], relabel[ra], relabel[rb]
    groups.parent = root
    # What the rounds left (a root stands for its whole herd: its own root is itself).
    groups.join_in_order(ra.tolist(), rb.tolist())


def _first_rank(groups: np.ndarray, rank: np.ndarray, n: int) -> np.ndarray:
    """Each group's smallest rank; rank ascends, so writing in reverse leaves the first."""
    best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    best[groups[::-1]] = rank[::-1]
    return best


_MAX_ROUNDS = 60  # enough for real data; a pathological chain finishes one pair at a time


class _Groups:
    """Union-find, each group's box and time span kept at its root, and cut partners merged
    along. Numpy arrays for the vectorised rounds; join_in_order turns them into plain lists
    for its hot loop (~1 µs a pair) only when it has pairs to join."""

    def __init__(
        self, s: Sightings, members: np.ndarray, cuts: np.ndarray, params: DedupParams
    ) -> None:
        self.parent = np.arange(len(members), dtype=np.int64)
        x, y, t = s.x[members], s.y[members], s.t[members]
        self.box = [x, x.copy(), y, y.copy(), t, t.copy()]  # x0, x1, y0, y1, t0, t1
        self.max_d2 = (params.max_extent_km * 1000.0) ** 2
        self.max_span = params.max_span_hours * 3600.0
        self.cut: dict[int, set[int]] = {}
        for a, b in cuts.tolist():
            if a >= 0 and b >= 0:
                self.cut.setdefault(a, set()).add(b)
                self.cut.setdefault(b, set()).add(a)

    def join_in_order(self, firsts: list[int], seconds: list[int]) -> None:
        """Join each pair's groups unless the box, the span or a cut forbids it."""
        if not firsts:
            return
        parent = self.parent.tolist()
        x0, x1, y0, y1, t0, t1 = (v.tolist() for v in self.box)
        max_d2, max_span, cut = self.max_d2, self.max_span, self.cut
        size = [1] * len(parent)
        for a, b in zip(firsts, seconds, strict=True):
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            while parent[b] != b:
                parent[b] = parent[parent[b]]
                b = parent[b]
            if a == b:
                continue
            lx = x0[a] if x0[a] < x0[b] else x0[b]
            hx = x1[a] if x1[a] > x1[b] else x1[b]
            ly = y0[a] if y0[a] < y0[b] else y0[b]
            hy = y1[a] if y1[a] > y1[b] else y1[b]
            lt = t0[a] if t0[a] < t0[b] else t0[b]
            ht = t1[a] if t1[a] > t1[b] else t1[b]
            if (hx - lx) ** 2 + (hy - ly) ** 2 > max_d2 or ht - lt > max_span:
                continue
            if size[a] < size[b]:  # union by size keeps the trees shallow
                a, b = b, a
            if cut and self._cut_between(parent, a, b):
                continue
            parent[b] = a
            size[a] += size[b]
            x0[a], x1[a], y0[a], y1[a], t0[a], t1[a] = lx, hx, ly, hy, lt, ht
        self.parent = np.asarray(parent, dtype=np.int64)
        self.box = [np.asarray(v) for v in (x0, x1, y0, y1, t0, t1)]

    def _cut_between(self, parent: list[int], a: int, b: int) -> bool:
        if any(_find(parent, p) == b for p in self.cut.get(a, ())):
            return True
        if b in self.cut:
            self.cut.setdefault(a, set()).update(self.cut[b])  # b's cuts move to the root a
        return False

    def roots(self) -> np.ndarray:
        """Every member's root, by pointer jumping in numpy."""
        parent = np.asarray(self.parent, dtype=np.int64)
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                return parent
            parent = grand


def _find(parent: list[int], a: int) -> int:
    while parent[a] != a:
        parent[a] = parent[parent[a]]  # path halving
        a = parent[a]
    return a


def _numbered(labels: np.ndarray, cand: Candidates, refused: list[tuple[int, int]]) -> Grouping:
    """Renumber herds 0.. in order of their first sighting in the input order."""
    # Labels are below 2n (components, then careful groups offset by n): each label's first
    # sighting by one reversed scatter, then herds numbered where they first appear.
    n = len(labels)
    first = np.full(int(labels.max()) + 1 if n else 0, n, dtype=np.int64)
    first[labels[::-1]] = np.arange(n - 1, -1, -1)
    opens = np.flatnonzero(first[labels] == np.arange(n))
    number = np.zeros(len(first), dtype=np.int64)
    number[labels[opens]] = np.arange(len(opens))
    return Grouping(number[labels], len(opens), cand, refused)


def _no_candidates() -> Candidates:
    empty = np.empty(0, dtype=np.int32)  # as find_candidates numbers sightings
    return Candidates(empty, empty, np.empty(0), np.empty(0))
