"""run_import: a file into the store, atomically, with a row-by-row report.

The rows stream from the reader chunk by chunk, become checked observations and go to
`store.add_observation_batches`, which stores every batch in one write transaction: a
dry run rolls it back at the end (so its outcomes are exactly what a real import would
give, ids repeated within the file included), an import with invalid rows and without
`skip_invalid` rolls back too, and only then is the transaction committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from data.imports import mapping, presets
from data.imports.readers import (
    PRESET_FORMATS,
    Chunk,
    file_format,
    header_columns,
    read_chunks,
)
from data.imports.report import ImportSummary, RowResult
from data.store import ObservationStore
from data.uploads import Problem, UploadRules, crs_problem
from domain import wire
from domain.errors import InvalidInput, NotFound
from domain.i18n import Message
from domain.records import Observation, Outcome
from geo.coords import CoordinateError, normalise_crs, to_wgs84

RowSink = Callable[[RowResult], None]


@dataclass(frozen=True)
class ImportOptions:
    """The choices of `herdwatch import` and POST /api/v1/imports."""

    format: str | None = None
    layer: str | None = None
    crs: str | None = None
    maps: dict[str, str] = field(default_factory=dict)
    sets: dict[str, str] = field(default_factory=dict)
    timezone: str | None = None
    survey: str | None = None
    dry_run: bool = False
    skip_invalid: bool = False
    chunk_rows: int = 5000
    commit_every: int | None = None  # rows per transaction; None: one for the whole file


@dataclass
class _Pending:
    number: int
    id: Any
    point: tuple[str, float, float] | None
    fields: dict[str, Any]
    problems: list[Problem]


def run_import(
    store: ObservationStore,
    path: Path,
    options: ImportOptions,
    *,
    rules: UploadRules,
    actor: str,
    source: str | None = None,
    on_row: RowSink | None = None,
    progress: Callable[[int], object] | None = None,
) -> ImportSummary:
    """Import `path` (named `source` in ids and the audit trail); every row goes to `on_row`."""
    fmt = file_format(path, options.format)
    name = source or path.name
    plan, preset_name = _plan(store, path, fmt, options, name, actor)
    summary = ImportSummary(name, fmt, preset_name, file_sha256(path), options.dry_run)
    sink = on_row or (lambda _: None)

    def emit(result: RowResult) -> None:
        summary.counts[result.status] += 1
        sink(result)

    reason = f"imported from {name} (sha256 {summary.sha256})"
    if options.commit_every and not options.dry_run:
        if options.skip_invalid or _all_valid(path, fmt, options, plan, rules):
            summary.committed = _commit_by_batch(
                store, path, fmt, options, plan, rules, emit, progress, actor=actor, reason=reason
            )
            return summary
    batches = _BatchStream(path, fmt, options, plan, rules, emit, progress)
    summary.committed = store.add_observation_batches(
        batches,
        actor=actor,
        reason=reason,
        commit=lambda: (
            not options.dry_run and (options.skip_invalid or not summary.counts["invalid"])
        ),
        on_outcomes=batches.outcomes,
    )
    return summary


def _all_valid(
    path: Path, fmt: str, options: ImportOptions, plan: mapping.Plan, rules: UploadRules
) -> bool:
    """A first pass that only reads and checks (the store is not touched): no invalid row?"""
    invalid: list[RowResult] = []

    def note(result: RowResult) -> None:
        if result.status == "invalid":
            invalid.append(result)

    for _ in _BatchStream(path, fmt, options, plan, rules, note, None):
        if invalid:
            return False
    return True


def _commit_by_batch(
    store: ObservationStore,
    path: Path,
    fmt: str,
    options: ImportOptions,
    plan: mapping.Plan,
    rules: UploadRules,
    emit: RowSink,
    progress: Callable[[int], object] | None,
    *,
    actor: str,
    reason: str,
) -> bool:
    """--commit-every: a transaction per batch of about that many rows, so the writer is
    never held long. Not all or nothing (the caller checked every row first); an import
    cut short is resumed by running it again: ids are deterministic, so what was stored
    comes back `unchanged` and the rest is created."""
    batches = _BatchStream(
        path,
        fmt,
        replace(options, chunk_rows=options.commit_every or options.chunk_rows),
        plan,
        rules,
        emit,
        progress,
    )
    for batch in batches:
        if batch:
            batches.outcomes(batch, store.add_observations(batch, actor=actor, reason=reason))
    return True


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _plan(
    store: ObservationStore,
    path: Path,
    fmt: str,
    options: ImportOptions,
    source: str,
    actor: str,
) -> tuple[mapping.Plan, str | None]:
    first = next(iter(read_chunks(path, fmt, options.layer, chunk_rows=1)), None)
    columns = (
        list(first.rows[0]) if first and first.rows else header_columns(path, fmt, options.layer)
    )
    has_geometry = first is not None and first.shapes is not None
    preset_name = options.format if options.format in PRESET_FORMATS else None
    if preset_name is None and fmt in ("csv", "xlsx"):
        preset_name = presets.guess(columns)
    preset = presets.preset(preset_name, columns) if preset_name else None
    if options.survey is not None:
        _require_survey(store, options.survey)
    plan = mapping.make_plan(
        columns,
        maps=options.maps,
        sets=options.sets,
        preset=preset,
        source=source,
        layer=options.layer,
        crs=_crs(options.crs),
        timezone=options.timezone,
        survey=options.survey,
        observer=actor,
        has_geometry=has_geometry,
    )
    return plan, preset_name


def _crs(crs: str | None) -> str:
    try:
        return normalise_crs(crs) if crs else "EPSG:4326"
    except CoordinateError as exc:
        raise InvalidInput(crs_problem(exc, str(crs)), field="crs") from exc


def _require_survey(store: ObservationStore, survey: str) -> None:
    try:
        store.get_survey(survey)
    except NotFound:
        raise InvalidInput(
            Message(
                "no survey {survey}: create it first (POST /api/v1/surveys)", survey=repr(survey)
            ),
            field="survey",
        ) from None


class _BatchStream:
    """The file's valid observations, a chunk at a time; what happens to each row is
    emitted (invalid and skipped rows at once, the others when the store has answered)."""

    def __init__(
        self,
        path: Path,
        fmt: str,
        options: ImportOptions,
        plan: mapping.Plan,
        rules: UploadRules,
        emit: RowSink,
        progress: Callable[[int], object] | None,
    ) -> None:
        self._chunks = read_chunks(path, fmt, options.layer, chunk_rows=options.chunk_rows)
        self._plan, self._rules, self._emit, self._progress = plan, rules, emit, progress
        self._numbers: list[int] = []
        self._chunk_size = 0
        self._known = frozenset(rules.populations)
        self._latest = rules.latest()

    def __iter__(self) -> Iterator[list[Observation]]:
        for chunk in self._chunks:
            observations, self._numbers = self._observations(chunk)
            if not observations and self._progress:
                self._progress(len(chunk.rows))
            yield observations

    def outcomes(self, batch: Sequence[Observation], outcomes: list[Outcome]) -> None:
        for number, outcome in zip(self._numbers, outcomes, strict=True):
            reasons = (outcome.message,) if outcome.message else ()
            self._emit(RowResult(number, outcome.status, outcome.id, outcome.differing, reasons))
        if self._progress:
            self._progress(self._chunk_size)

    def _observations(self, chunk: Chunk) -> tuple[list[Observation], list[int]]:
        self._chunk_size = len(chunk.rows)
        self._latest = self._rules.latest()  # the clock moves during a long import
        pending = [self._read_row(chunk, i) for i in range(len(chunk.rows))]
        lons, lats = _transform(pending, chunk.crs or self._plan.crs, self._plan.crs)
        kept: list[Observation] = []
        numbers: list[int] = []
        for p, lon, lat in zip(pending, lons, lats, strict=True):
            if p is None:
                continue
            observation = self._checked(p, float(lon), float(lat))
            if observation is not None:
                kept.append(observation)
                numbers.append(p.number)
        return kept, numbers

    def _read_row(self, chunk: Chunk, i: int) -> _Pending | None:
        plan, row, number = self._plan, chunk.rows[i], chunk.first + i
        skip = plan.preset.skip_reason(row) if plan.preset else None
        if skip is not None:
            self._emit(RowResult(number, "skipped", mapping.row_id(plan, row, number), (), (skip,)))
            return None
        values, problems = mapping.row_values(plan, row)
        _derived_values(plan, row, values)
        failed = frozenset(p.field for p in problems)
        fields, missing = mapping.observation_fields(values, plan.record_zone, plan.columns, failed)
        found = _point(plan, chunk, i, row)
        point = None if isinstance(found, Problem) else found
        problems += [found] if isinstance(found, Problem) else []
        return _Pending(
            number, mapping.row_id(plan, row, number), point, fields, problems + missing
        )

    def _checked(self, p: _Pending, lon: float, lat: float) -> Observation | None:
        problems = p.problems
        observation = None
        if not problems:
            observation = Observation(
                id=p.id, lon=lon, lat=lat, observer=self._plan.observer, **p.fields
            )
            # The upload fast path's yes or no first; the reasons only for a refusal.
            if self._rules.accepts(observation, lon, lat, self._latest, self._known):
                return observation
            problems = self._rules.problems(observation, lon, lat)
        elif "population" in p.fields:  # the rules need a whole record; this one is said too
            unknown = self._rules.population_problem(p.fields["population"])
            problems = problems + ([unknown] if unknown is not None else [])
        if problems:
            self._emit(
                RowResult(
                    p.number,
                    "invalid",
                    p.id,
                    tuple(x.field for x in problems),
                    tuple(x.message for x in problems),
                )
            )
            return None
        return observation


def _derived_values(plan: mapping.Plan, row: dict[str, Any], values: dict[str, Any]) -> None:
    """Values a preset makes from several columns: a geopoint's accuracy, Movebank notes."""
    if "geopoint" in plan.columns and wire.POSITION_ACCURACY not in values:
        accuracy = mapping.geopoint_accuracy(plan, row)
        if accuracy is not None:
            f = mapping.VALUE_FIELDS[wire.POSITION_ACCURACY]
            parsed, _ = mapping.parse_value(f, accuracy, None, Message("geopoint accuracy"))
            if parsed is not None:
                values[f.name] = parsed
    if plan.preset is not None and "notes" not in values:
        notes = plan.preset.notes(row)
        if notes is not None:
            values["notes"] = notes[: mapping.VALUE_FIELDS["notes"].max_length or None]


def _point(
    plan: mapping.Plan, chunk: Chunk, i: int, row: dict[str, Any]
) -> tuple[str, float, float] | Problem:
    """The row's position: from the mapped columns, else from the layer's geometry."""
    if any(c in plan.columns for c in mapping.COORDINATES) or chunk.shapes is None:
        return mapping.row_coordinates(plan, row)
    shape = chunk.shapes[i]
    if shape is None:
        return Problem.of("geometry", "missing", Message("the row has no geometry"))
    if shape.kind != "Point":
        return Problem.of(
            "geometry",
            "not_a_point",
            Message(
                "row {row} is a {kind}: only points are imported (one observation is one place)",
                row=str(chunk.first + i),
                kind=shape.kind,
            ),
        )
    return ("layer", shape.x, shape.y)


def _transform(
    pending: list[_Pending | None], layer_crs: str, xy_crs: str
) -> tuple[np.ndarray, np.ndarray]:
    """Every row's lon/lat at once (NaN where a row has none): one pyproj call per CRS."""
    lons, lats = np.full(len(pending), np.nan), np.full(len(pending), np.nan)
    for kind, crs in (("lonlat", "EPSG:4326"), ("xy", xy_crs), ("layer", layer_crs)):
        index = [k for k, p in enumerate(pending) if p and p.point and p.point[0] == kind]
        if not index:
            continue
        xs = [pending[k].point[1] for k in index]  # type: ignore[union-attr,index]
        ys = [pending[k].point[2] for k in index]  # type: ignore[union-attr,index]
        lon, lat = to_wgs84(xs, ys, _layer_crs(crs))
        lons[index], lats[index] = lon, lat
    return lons, lats


def _layer_crs(crs: str) -> str:
    try:
        return normalise_crs(crs)
    except CoordinateError as exc:
        raise InvalidInput(
            Message(
                "the layer's CRS {crs} has no EPSG code: give --crs EPSG:<code>", crs=repr(crs[:80])
            ),
            field="crs",
        ) from exc
