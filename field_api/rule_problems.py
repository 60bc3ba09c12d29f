"""The upload rules' verdict on a feature that failed its type checks, so that one 422
lists every problem of the feature at once (a tablet fixes them in one round trip).

Each rule looks only at fields that passed their own checks: a field that failed is
replaced by a value no rule objects to, so it is reported once, by its type error.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from data.uploads import UploadRules
from domain.records import COMPOSITION_FIELDS, Composition

_TIME = TypeAdapter(AwareDatetime)


def rule_problems(
    raw: Any, failed: set[str], rules: UploadRules, *, projected: bool
) -> list[dict[str, str]]:
    """Problems from the upload rules for the fields of `raw` not named in `failed`."""
    if not isinstance(raw, dict) or not isinstance(raw.get("properties"), dict):
        return []
    props = raw["properties"]

    def ok(name: str) -> bool:
        return not any(f == name or f.startswith(name + ".") for f in failed)

    fallback_time = datetime.now(UTC) - timedelta(days=1)
    values = SimpleNamespace(
        timezone=_text(props, "timezone", "Asia/Yakutsk") if ok("properties.timezone") else "UTC",
        population=_text(props, "population", "unknown")
        if ok("properties.population")
        else rules.populations[0],
        observed_at=_time(props.get("observed_at"), fallback_time)
        if ok("properties.observed_at")
        else fallback_time,
        count=props.get("count") if ok("properties.count") else 10**9,
        composition=_composition(props.get("composition"))
        if ok("properties.composition")
        else Composition(),
    )
    if not isinstance(values.count, int):
        values.count = 10**9
    lon, lat = _point(raw) if ok("geometry") and not projected else (0.0, 0.0)
    return [p.as_dict() for p in rules.problems(values, lon, lat)]


def _text(props: dict[str, Any], name: str, default: str) -> str:
    value = props.get(name, default)
    return value if isinstance(value, str) else default


def _time(value: Any, fallback: datetime) -> datetime:
    try:
        return _TIME.validate_python(value)
    except ValidationError:
        return fallback


def _composition(value: Any) -> Composition:
    if not isinstance(value, dict):
        return Composition()
    counts = {k: v for k, v in value.items() if k in COMPOSITION_FIELDS and isinstance(v, int)}
    return Composition(**counts)


def _point(raw: dict[str, Any]) -> tuple[float, float]:
    coords = (
        (raw.get("geometry") or {}).get("coordinates")
        if isinstance(raw.get("geometry"), dict)
        else None
    )
    if (
        isinstance(coords, list)
        and len(coords) >= 2
        and all(isinstance(c, (int, float)) for c in coords[:2])
    ):
        return float(coords[0]), float(coords[1])
    return 0.0, 0.0
