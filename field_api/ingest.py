"""Turn uploaded GeoJSON features into observations, one verdict per feature.

One bad feature never blocks the others: each gets its own list of errors, and the valid
ones go on to the store together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter, ValidationError

from domain.records import Observation
from field_api.errors import pydantic_errors
from field_api.fastpath import decode_valid_batch
from field_api.schemas import (
    ObservationFeatureIn,
    classified_total,
    feature_to_observation,
    future_problem,
    timezone_known,
)
from field_api.settings import Settings
from geo.coords import lon_lat_problems, to_wgs84

_FEATURES = TypeAdapter(list[ObservationFeatureIn])

_AXES = {"lon": ("[0]", "longitude"), "lat": ("[1]", "latitude")}


@dataclass
class Parsed:
    """The verdict on one uploaded feature: an observation, or the reasons it was refused."""

    index: int
    id: UUID | None
    observation: Observation | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def parse_features(
    raw: list[Any], *, crs: str | None, observer: str, settings: Settings, prefix: str = "features"
) -> list[Parsed]:
    """Validate features, transform their coordinates to lon/lat and make observations."""
    models, errors = _validate(raw)
    return _verdicts(
        len(raw), models, errors, raw, crs=crs, observer=observer, settings=settings, prefix=prefix
    )


def parse_batch_json(
    body: bytes, *, crs: str | None, observer: str, settings: Settings
) -> list[Parsed] | None:
    """Fast path for a batch that is entirely valid (see field_api/fastpath.py).

    Returns None when anything is wrong (or the batch is over the limit); the caller then
    takes the slow path that explains each feature's errors.
    """
    observations = decode_valid_batch(
        body,
        crs=crs,
        observer=observer,
        populations=frozenset(settings.populations),
        max_batch_size=settings.max_batch_size,
        max_future_minutes=settings.max_future_minutes,
    )
    if observations is None:
        return None
    return [Parsed(i, o.id, o) for i, o in enumerate(observations)]


def _verdicts(
    size: int,
    models: dict[int, ObservationFeatureIn],
    errors: dict[int, list[dict[str, Any]]],
    raw: list[Any],
    *,
    crs: str | None,
    observer: str,
    settings: Settings,
    prefix: str,
) -> list[Parsed]:
    valid = [i for i in range(size) if i not in errors]
    lons, lats = _coordinates([models[i] for i in valid], crs)
    position = {i: k for k, i in enumerate(valid)}
    populations = frozenset(settings.populations)
    results = []
    for i in range(size):
        if i in errors:
            results.append(Parsed(i, _raw_id(raw[i]), errors=_prefixed(errors[i], prefix, i)))
            continue
        k = position[i]
        point = (float(lons[k]), float(lats[k]))
        results.append(_checked(i, models[i], point, observer, settings, populations, prefix))
    return results


def _validate(
    raw: list[Any],
) -> tuple[dict[int, ObservationFeatureIn], dict[int, list[dict[str, Any]]]]:
    """Fast path: the whole list at once; on failure, group errors by feature and redo the rest."""
    try:
        return dict(enumerate(_FEATURES.validate_python(raw))), {}
    except ValidationError as exc:
        by_index: dict[int, list[Any]] = defaultdict(list)
        for err in exc.errors():
            loc = err["loc"]
            by_index[int(loc[0])].append({**err, "loc": loc[1:]})
    errors = {i: pydantic_errors(errs) for i, errs in by_index.items()}
    rest = [i for i in range(len(raw)) if i not in errors]
    return dict(zip(rest, _FEATURES.validate_python([raw[i] for i in rest]), strict=True)), errors


def _coordinates(models: list[ObservationFeatureIn], crs: str | None) -> tuple[Any, Any]:
    xs = [m.geometry.coordinates[0] for m in models]
    ys = [m.geometry.coordinates[1] for m in models]
    if crs is None or not models:
        return xs, ys
    return to_wgs84(xs, ys, crs)


def _checked(
    index: int,
    model: ObservationFeatureIn,
    point: tuple[float, float],
    observer: str,
    settings: Settings,
    populations: frozenset[str],
    prefix: str,
) -> Parsed:
    """Checks that need the transformed point or the settings: range, population, clock."""
    lon, lat = point
    errors = []
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        for axis, reason in lon_lat_problems(lon, lat):
            suffix, name = _AXES[axis]
            errors.append(
                {
                    "field": f"geometry.coordinates{suffix}",
                    "code": "out_of_range",
                    "message": f"geometry.coordinates{suffix} ({name}): {reason}",
                }
            )
    props = model.properties
    if not timezone_known(props.timezone):
        errors.append(
            {
                "field": "properties.timezone",
                "code": "unknown_timezone",
                "message": f"properties.timezone: {props.timezone!r} is not an IANA time zone "
                "(for example Asia/Yakutsk)",
            }
        )
    classified = classified_total(props.composition)
    if classified > props.count:
        errors.append(
            {
                "field": "properties.composition",
                "code": "composition_exceeds_count",
                "message": f"properties.composition: adds up to {classified} animals but count is "
                f"{props.count}: classified animals cannot exceed the count",
            }
        )
    population = model.properties.population
    if population not in populations:
        errors.append(
            {
                "field": "properties.population",
                "code": "unknown_population",
                "message": f"properties.population: {population!r} is not one of "
                + ", ".join(settings.populations),
            }
        )
    late = future_problem(model.properties.observed_at, settings.max_future_minutes)
    if late:
        errors.append(
            {
                "field": "properties.observed_at",
                "code": "in_future",
                "message": f"properties.observed_at: {late}",
            }
        )
    if errors:
        return Parsed(index, model.id, errors=_prefixed(errors, prefix, index))
    return Parsed(index, model.id, feature_to_observation(model, lon, lat, observer))


def _prefixed(errors: list[dict[str, Any]], prefix: str, index: int) -> list[dict[str, Any]]:
    """In a batch, fields are named from the collection: features[3].properties.count."""
    if not prefix:
        return errors
    head = f"{prefix}[{index}]"
    return [
        {**e, "field": f"{head}.{e['field']}", "message": f"{head}.{e['message']}"} for e in errors
    ]


def _raw_id(feature: Any) -> UUID | None:
    try:
        return UUID(str(feature.get("id"))) if isinstance(feature, dict) else None
    except ValueError:
        return None
