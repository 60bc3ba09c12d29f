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

from data.records import Observation
from field_api.errors import pydantic_errors
from field_api.schemas import ObservationFeatureIn, feature_to_observation, future_problem
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
    valid = [i for i in range(len(raw)) if i not in errors]
    lons, lats = _coordinates([models[i] for i in valid], crs)
    position = {i: k for k, i in enumerate(valid)}
    results = []
    for i in range(len(raw)):
        if i in errors:
            results.append(Parsed(i, _raw_id(raw[i]), errors=_prefixed(errors[i], prefix, i)))
            continue
        k = position[i]
        results.append(_checked(i, models[i], float(lons[k]), float(lats[k]), observer, settings, prefix))
    return results


def _validate(raw: list[Any]) -> tuple[dict[int, ObservationFeatureIn], dict[int, list[dict[str, Any]]]]:
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
    index: int, model: ObservationFeatureIn, lon: float, lat: float, observer: str,
    settings: Settings, prefix: str,
) -> Parsed:  # fmt: skip
    """Checks that need the transformed point or the settings: range, population, clock."""
    errors = []
    for axis, reason in lon_lat_problems(lon, lat):
        suffix, name = _AXES[axis]
        errors.append({"field": f"geometry.coordinates{suffix}", "code": "out_of_range",
                       "message": f"geometry.coordinates{suffix} ({name}): {reason}"})  # fmt: skip
    population = model.properties.population
    if population not in settings.populations:
        errors.append({"field": "properties.population", "code": "unknown_population",
                       "message": f"properties.population: {population!r} is not one of "
                       + ", ".join(settings.populations)})  # fmt: skip
    late = future_problem(model.properties.observed_at, settings.max_future_minutes)
    if late:
        errors.append({"field": "properties.observed_at", "code": "in_future",
                       "message": f"properties.observed_at: {late}"})  # fmt: skip
    if errors:
        return Parsed(index, model.id, errors=_prefixed(errors, prefix, index))
    return Parsed(index, model.id, feature_to_observation(model, lon, lat, observer))


def _prefixed(errors: list[dict[str, Any]], prefix: str, index: int) -> list[dict[str, Any]]:
    """In a batch, fields are named from the collection: features[3].properties.count."""
    if not prefix:
        return errors
    head = f"{prefix}[{index}]"
    return [{**e, "field": f"{head}.{e['field']}", "message": f"{head}.{e['message']}"} for e in errors]


def _raw_id(feature: Any) -> UUID | None:
    try:
        return UUID(str(feature.get("id"))) if isinstance(feature, dict) else None
    except ValueError:
        return None
