"""Turn uploaded GeoJSON features into observations, one verdict per feature.

One bad feature never blocks the others: each gets its own list of errors, and the valid
ones go on to the store together. Parsing only: the rules a parsed record must pass live in
data/uploads.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter, ValidationError

from data.uploads import UploadRules, to_lon_lat
from domain.i18n import Message
from domain.records import Observation
from domain.wire import feature_to_observation
from field_api.errors import pydantic_errors
from field_api.fastpath import decode_valid_batch
from field_api.rule_problems import rule_problems
from field_api.schemas import ObservationFeatureIn
from field_api.settings import Settings

_FEATURES = TypeAdapter(list[ObservationFeatureIn])


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
        body, crs=crs, observer=observer, rules=upload_rules(settings)
    )
    if observations is None:
        return None
    return [Parsed(i, o.id, o) for i, o in enumerate(observations)]


def refuse_closed_surveys(parsed: list[Parsed], closed: dict[str, Message], prefix: str) -> None:
    """Mark as invalid each parsed record attached to a survey its uploader may not use."""
    for p in parsed:
        survey_id = p.observation.survey_id if p.observation else None
        if survey_id is None or survey_id not in closed:
            continue
        field = "properties.survey_id"
        error = {
            "field": field,
            "code": "survey_not_open",
            "message": Message("{field}: {reason}", field=field, reason=closed[survey_id]),
        }
        p.observation, p.errors = None, _prefixed([error], prefix, p.index)


def survey_ids(parsed: list[Parsed]) -> set[str]:
    return {p.observation.survey_id for p in parsed if p.observation and p.observation.survey_id}


def upload_rules(settings: Settings) -> UploadRules:
    """The upload rules as the server is configured."""
    return UploadRules(
        tuple(settings.populations), settings.max_future_minutes, settings.max_batch_size
    )


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
    lons, lats = to_lon_lat(
        [models[i].geometry.coordinates[0] for i in valid],
        [models[i].geometry.coordinates[1] for i in valid],
        crs,
    )
    position = {i: k for k, i in enumerate(valid)}
    rules = upload_rules(settings)
    results = []
    for i in range(size):
        if i in errors:
            # The rules too, on the fields that passed: every problem in one answer.
            failed = {e["field"] for e in errors[i]}
            extra = rule_problems(raw[i], failed, rules, projected=crs is not None)
            found = errors[i] + [e for e in extra if e["field"] not in failed]
            results.append(Parsed(i, _raw_id(raw[i]), errors=_prefixed(found, prefix, i)))
            continue
        k = position[i]
        point = (float(lons[k]), float(lats[k]))
        results.append(_checked(i, models[i], point, observer, rules, prefix))
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


def _checked(
    index: int,
    model: ObservationFeatureIn,
    point: tuple[float, float],
    observer: str,
    rules: UploadRules,
    prefix: str,
) -> Parsed:
    """A record, or every upload rule it breaks (range, time zone, population, clock)."""
    lon, lat = point
    problems = rules.problems(model.properties, lon, lat)
    if problems:
        errors = [p.as_dict() for p in problems]
        return Parsed(index, model.id, errors=_prefixed(errors, prefix, index))
    return Parsed(index, model.id, feature_to_observation(model, lon, lat, observer))


def _prefixed(errors: list[dict[str, Any]], prefix: str, index: int) -> list[dict[str, Any]]:
    """In a batch, fields are named from the collection: features[3].properties.count."""
    if not prefix:
        return errors
    head = f"{prefix}[{index}]"
    return [
        {**e, "field": f"{head}.{e['field']}", "message": _prefix_message(e["message"], head)}
        for e in errors
    ]


def _prefix_message(message: str | Message, head: str) -> str | Message:
    """The message with its field path prefixed: properties.count → features[3].properties.count."""
    if isinstance(message, Message) and isinstance(message.params.get("field"), str):
        return message.with_params(field=f"{head}.{message.params['field']}")
    return f"{head}.{message}"


def _raw_id(feature: Any) -> UUID | None:
    try:
        return UUID(str(feature.get("id"))) if isinstance(feature, dict) else None
    except ValueError:
        return None
