"""Columns to observation fields, and one row to one checked Observation.

The fields are the wire table's (domain/wire.py): a column named like a device property
maps to it, `--map FIELD=COLUMN` maps the rest and `--set FIELD=VALUE` gives constants.
Each cell is parsed by its field's kind and limits, then the record goes through the same
upload rules as a tablet's (data/uploads.py), so an imported record is one a tablet could
have sent. Coordinate fields besides the wire table's: `lon`/`lat` (EPSG:4326), `x`/`y`
(in --crs), and `geopoint` ("lat lon alt acc", OpenRosa order).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from data.imports.presets import Preset, field_of_column
from data.uploads import Problem, timezone_known
from domain import wire
from domain.errors import InvalidInput
from domain.i18n import Message, PluralMessage
from domain.records import COMPOSITION_FIELDS, Composition

# Ids made for rows without a UUID: uuid5 in this namespace of a key naming file and row.
ID_NAMESPACE = uuid.UUID("5b0c3c2e-5d5e-4f47-9f44-6e2f1d0a9c11")
COORDINATES = ("lon", "lat", "x", "y", "geopoint")
_FIELDS: dict[str, wire.WireField] = {
    f.name: f for f in wire.DEVICE_PROPERTIES if f.kind != "composition"
}
_CLASSES = dict.fromkeys(COMPOSITION_FIELDS, wire.COMPOSITION_CLASS)
VALUE_FIELDS: dict[str, wire.WireField] = {**_FIELDS, **_CLASSES}
# The composition as one JSON object (a GeoJSON export's), besides one column per class.
COMPOSITION = next(f.name for f in wire.DEVICE_PROPERTIES if f.kind == "composition")
TARGETS: tuple[str, ...] = ("id", *COORDINATES, *VALUE_FIELDS, COMPOSITION)
# Column names read as coordinates without a --map (lower case).
ALIASES = {"longitude": "lon", "long": "lon", "lng": "lon", "latitude": "lat"}


@dataclass
class Plan:
    """How a file's rows become observations (made once per import)."""

    columns: dict[str, str]  # target field → column
    constants: dict[str, Any]  # target field → parsed value (--set, preset defaults)
    source: str  # the file's name: part of the key of made-up ids
    layer: str | None
    crs: str  # of x/y columns
    naive_zone: tzinfo | None  # --timezone: how times without an offset are read
    record_zone: str | None  # the records' timezone when no column or --set gives one
    preset: Preset | None = None
    observer: str = ""
    utc_columns: tuple[str, ...] = field(default_factory=tuple)


def make_plan(
    file_columns: Sequence[str],
    *,
    maps: dict[str, str],
    sets: dict[str, str],
    preset: Preset | None,
    source: str,
    layer: str | None,
    crs: str,
    timezone: str | None,
    survey: str | None,
    observer: str,
    has_geometry: bool,
) -> Plan:
    """Check the mapping against the file and the wire table; InvalidInput names the flag."""
    for name in [*maps, *sets]:
        if name not in TARGETS:
            raise InvalidInput(
                Message(
                    "{name} is not an observation field; use one of {known}",
                    name=repr(name),
                    known=", ".join(TARGETS),
                ),
                field="map" if name in maps else "set",
            )
    both = [name for name in maps if name in sets]
    if both:
        raise InvalidInput(
            Message("{name} is both mapped and set: give one of them", name=both[0]), field="set"
        )
    missing = [c for c in maps.values() if c not in file_columns]
    if missing:
        raise InvalidInput(
            Message(
                "no column {column} in the file; its columns: {columns}",
                column=repr(missing[0]),
                columns=", ".join(file_columns),
            ),
            field="map",
        )
    zone = _zone(timezone)
    columns = _auto_columns(file_columns, preset, has_geometry, explicit=maps, crs=crs)
    columns.update(maps)
    constants = {**(preset.constants if preset else {}), **sets}
    if survey is not None:
        constants["survey_id"] = survey
    for name in constants:
        if name not in maps:
            columns.pop(name, None)  # a constant beats a column found by its name
    parsed = {name: _parse_constant(name, value, zone) for name, value in constants.items()}
    _require_sources(columns, parsed, file_columns, has_geometry)
    record_zone = timezone or (preset.record_zone if preset else None)
    return Plan(
        columns,
        parsed,
        source,
        layer,
        crs,
        zone,
        record_zone,
        preset,
        observer,
        preset.utc_columns if preset else (),
    )


def pairs(values: Sequence[str], flag: str) -> dict[str, str]:
    """["count=1", ...] → {"count": "1"} (--map and --set); InvalidInput naming the flag."""
    found = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise InvalidInput(
                Message("{flag} {value}: write it as FIELD=VALUE", flag=flag, value=repr(value)),
                field=flag,
            )
        found[name.strip()] = rest.strip() if flag == "set" else rest
    return found


def _require_sources(
    columns: dict[str, str], constants: dict[str, Any], file_columns: Sequence[str], geometry: bool
) -> None:
    """A required field or the position that no column and no constant gives is the whole
    file's problem, said once (not once per row)."""
    listed = ", ".join(file_columns)
    for f in wire.DEVICE_PROPERTIES:
        if f.default is wire.REQUIRED and f.name not in columns and f.name not in constants:
            raise InvalidInput(
                Message(
                    "no column gives {name}: map one with --map {name}=COLUMN or --set it; "
                    "the file's columns: {columns}",
                    name=f.name,
                    columns=listed,
                ),
                field="map",
            )
    pairs = ({"lon", "lat"}, {"x", "y"}, {"geopoint"})
    if not geometry and not any(pair <= set(columns) for pair in pairs):
        raise InvalidInput(
            Message(
                "no columns give the position: map them with --map x=COLUMN --map y=COLUMN "
                "(in --crs), --map lon=COLUMN --map lat=COLUMN or --map geopoint=COLUMN; "
                "the file's columns: {columns}",
                columns=listed,
            ),
            field="map",
        )


def _zone(name: str | None) -> tzinfo | None:
    if name is None:
        return None
    if not timezone_known(name):
        raise InvalidInput(
            Message(
                "timezone {zone} is not an IANA time zone (for example Asia/Yakutsk)",
                zone=repr(name),
            ),
            field="timezone",
        )
    return ZoneInfo(name)


def _auto_columns(
    file_columns: Sequence[str],
    preset: Preset | None,
    has_geometry: bool,
    *,
    explicit: dict[str, str],
    crs: str,
) -> dict[str, str]:
    """Columns named like a field (a form export's by their last segment), then the
    preset's; coordinates only when neither --map nor the layer's geometry gives them."""
    by_name: dict[str, str] = {}
    form = preset is not None and preset.name in ("odk", "kobo")
    for column in file_columns:
        name = field_of_column(column) if form else column
        key = name.strip().lower()
        key = ALIASES.get(key, key)
        if key in TARGETS and key not in by_name:
            by_name[key] = column
    if preset is not None:
        by_name.update(preset.columns)
        if preset.geopoint_column and "lat" not in by_name:
            by_name["geopoint"] = preset.geopoint_column
    if has_geometry or any(c in explicit for c in COORDINATES):
        for c in COORDINATES:  # the layer's geometry, or the --map'ped columns, say where
            by_name.pop(c, None)
    elif {"x", "y"} <= set(by_name) and {"lon", "lat"} <= set(by_name):
        drop = ("x", "y") if crs == "EPSG:4326" else ("lon", "lat")
        for c in drop:  # a file with both: the pair --crs speaks of
            by_name.pop(c, None)
    if "geopoint" in by_name and ("lon" in by_name or "x" in by_name):
        by_name.pop("geopoint")
    return by_name


def _parse_constant(name: str, value: Any, zone: tzinfo | None) -> Any:
    if name in ("id", COMPOSITION) or name in COORDINATES:
        raise InvalidInput(
            Message("--set cannot give {name}: it differs from row to row", name=name), field="set"
        )
    parsed, problem = parse_value(VALUE_FIELDS[name], value, zone, f"--set {name}")
    if problem is not None:
        reason = problem.message.params.get("reason")
        raise InvalidInput(reason if isinstance(reason, Message) else problem.message, field="set")
    return parsed


def parse_value(
    f: wire.WireField, value: Any, zone: tzinfo | None, where: str | Message
) -> tuple[Any, Problem | None]:
    """A cell parsed by its field's kind and limits: (value, None) or (None, the problem)."""
    try:
        parsed = _PARSERS[f.kind](f, value, zone)
    except ValueError as exc:
        reason = Message("{where}: {reason}", where=where, reason=exc.args[0])
        return None, Problem.of(f.name, "invalid_value", reason)
    limit = _limit_problem(f, parsed)
    if limit:
        limited = Message("{where}: {reason}", where=where, reason=limit)
        return None, Problem.of(f.name, "out_of_range", limited)
    return parsed, None


def _int(f: wire.WireField, value: Any, zone: tzinfo | None) -> int:
    if isinstance(value, bool):
        raise ValueError(Message("{value} is not a whole number", value=repr(value)))
    if isinstance(value, int):
        return value
    number = float(value) if isinstance(value, float) else _float_text(value, whole=True)
    if not number.is_integer():
        raise ValueError(Message("{value} is not a whole number", value=repr(value)))
    return int(number)


def _float_text(value: Any, *, whole: bool = False) -> float:
    try:
        return float(str(value).strip().replace(",", ".") if isinstance(value, str) else value)
    except (TypeError, ValueError):
        msgid = "{value} is not a whole number" if whole else "{value} is not a number"
        raise ValueError(Message(msgid, value=repr(value))) from None


def _number(f: wire.WireField, value: Any, zone: tzinfo | None) -> float:
    if isinstance(value, bool):
        raise ValueError(Message("{value} is not a number", value=repr(value)))
    number = _float_text(value)
    if not math.isfinite(number):
        raise ValueError(Message("{value} is not a finite number", value=repr(value)))
    return number


def _text(f: wire.WireField, value: Any, zone: tzinfo | None) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet's 3358.0 is the id 3358
    return str(value).strip()


def _choice(f: wire.WireField, value: Any, zone: tzinfo | None) -> str:
    text = str(value).strip()
    if text not in f.choices:
        raise ValueError(
            Message("{value} is not one of {known}", value=repr(text), known=", ".join(f.choices))
        )
    return text


def _datetime(f: wire.WireField, value: Any, zone: tzinfo | None) -> datetime:
    if isinstance(value, datetime):  # pandas Timestamps are datetimes too
        moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(
                Message(
                    "{value} is not a date and time (ISO 8601, e.g. 2024-06-01T10:00:00+09:00)",
                    value=repr(value),
                )
            ) from None
    if moment.tzinfo is None:
        if zone is None:
            raise ValueError(
                Message(
                    "{value} has no UTC offset: give --timezone to say where it was read",
                    value=repr(value),
                )
            )
        moment = moment.replace(tzinfo=zone)
    return moment


_PARSERS = {
    "int": _int,
    "number": _number,
    "text": _text,
    "choice": _choice,
    "datetime": _datetime,
}


def _limit_problem(f: wire.WireField, value: Any) -> Message | None:
    if f.ge is not None and value < f.ge:
        return Message("{value} is below the minimum {limit}", value=value, limit=f.ge)
    if f.le is not None and value > f.le:
        return Message("{value} is above the maximum {limit}", value=value, limit=f.le)
    if f.min_length is not None and len(value) < f.min_length:
        return PluralMessage(
            "must have at least {n} character", "must have at least {n} characters", n=f.min_length
        )
    if f.max_length is not None and len(value) > f.max_length:
        return Message(
            "has {length} characters; at most {limit} are allowed",
            length=len(value),
            limit=f.max_length,
        )
    return None


def row_id(plan: Plan, row: dict[str, Any], number: int) -> uuid.UUID:
    """A UUID id column as it is; otherwise uuid5 of a key that names the row's source."""
    column = plan.columns.get("id")
    value = row.get(column) if column else None
    if value is not None:
        text = str(value).strip().removeprefix("uuid:")  # ODK: uuid:<the instance's UUID>
        try:
            return uuid.UUID(text)
        except ValueError:
            return uuid.uuid5(ID_NAMESPACE, f"{plan.source}|id|{text}")
    key_column = plan.preset.key_column if plan.preset else None
    if key_column and row.get(key_column) is not None:
        return uuid.uuid5(ID_NAMESPACE, f"{plan.preset.name}|{row[key_column]}")  # type: ignore[union-attr]
    return uuid.uuid5(ID_NAMESPACE, f"{plan.source}|{plan.layer or ''}|row {number}")


def row_values(plan: Plan, row: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The row's field values (constants included), each parsed; and what was wrong."""
    values = dict(plan.constants)
    problems = []
    for name, column in plan.columns.items():
        cell = row.get(column)
        if name == "id" or name in COORDINATES or cell is None:
            continue
        if name == COMPOSITION:
            problems += _composition(cell, column, values)
            continue
        zone = ZoneInfo("UTC") if column in plan.utc_columns else plan.naive_zone
        where = Message("column {column}", column=repr(column))
        parsed, problem = parse_value(VALUE_FIELDS[name], cell, zone, where)
        if problem is None:
            values[name] = parsed
        else:
            problems.append(problem)
    return values, problems


def _composition(cell: Any, column: str, values: dict[str, Any]) -> list[Problem]:
    """A composition object ({"calves": 6, ...}, or its JSON text) into its classes."""
    try:
        classes = json.loads(cell) if isinstance(cell, str) else cell
    except ValueError:
        classes = None
    if not isinstance(classes, dict) or not set(classes) <= set(COMPOSITION_FIELDS):
        reason = Message(
            "column {column}: not an object of {classes}",
            column=repr(column),
            classes=", ".join(COMPOSITION_FIELDS),
        )
        return [Problem.of(COMPOSITION, "invalid_value", reason)]
    problems = []
    for name, value in classes.items():
        if value is None or name in values:  # a class's own column wins
            continue
        where = Message("column {column} {name}", column=repr(column), name=name)
        parsed, problem = parse_value(_CLASSES[name], value, None, where)
        if problem is None:
            values[name] = parsed
        else:
            problems.append(problem)
    return problems


def row_coordinates(plan: Plan, row: dict[str, Any]) -> tuple[str, float, float] | Problem:
    """("lonlat" or "xy", first, second) from the mapped columns, or what is wrong."""
    c = plan.columns
    if "geopoint" in c:
        return _geopoint(row.get(c["geopoint"]), c["geopoint"])
    axes = ("lon", "lat") if "lon" in c else ("x", "y")
    if axes[0] not in c or axes[1] not in c:
        return Problem.of(
            "geometry",
            "no_coordinates",
            Message(
                "no coordinate columns: map them with --map x=COLUMN --map y=COLUMN (in --crs) "
                "or --map lon=COLUMN --map lat=COLUMN"
            ),
        )
    found = []
    for axis in axes:
        cell = row.get(c[axis])
        if cell is None:
            reason = Message("column {column} ({axis}) is empty", column=repr(c[axis]), axis=axis)
            return Problem.of("geometry", "missing", reason)
        try:
            found.append(_number(VALUE_FIELDS["count"], cell, None))
        except ValueError as exc:
            reason = Message(
                "column {column} ({axis}): {reason}",
                column=repr(c[axis]),
                axis=axis,
                reason=exc.args[0],
            )
            return Problem.of("geometry", "invalid_value", reason)
    return ("lonlat" if axes[0] == "lon" else "xy", found[0], found[1])


def _geopoint(value: Any, column: str) -> tuple[str, float, float] | Problem:
    """OpenRosa's "lat lon alt acc": latitude first, the reverse of GeoJSON."""
    parts = str(value).split() if value is not None else []
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        return Problem.of(
            "geometry",
            "invalid_value",
            Message(
                'column {column}: {value} is not a geopoint ("lat lon alt acc")',
                column=repr(column),
                value=repr(value),
            ),
        )
    return ("lonlat", lon, lat)


def geopoint_accuracy(plan: Plan, row: dict[str, Any]) -> Any:
    """A geopoint's fourth value, the accuracy in metres (None when it has none)."""
    column = plan.columns.get("geopoint")
    parts = str(row.get(column) or "").split() if column else []
    return parts[3] if len(parts) >= 4 else None


def observation_fields(
    values: dict[str, Any],
    record_zone: str | None,
    columns: dict[str, str],
    failed: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], list[Problem]]:
    """Observation keyword arguments from parsed values, the wire table's defaults for the
    rest; a required field left empty is a problem naming it. A field in `failed` has its
    problem already (seen: `count=abc` was also "column 'count' is empty")."""
    fields: dict[str, Any] = {}
    problems = []
    for f in wire.DEVICE_PROPERTIES:
        if f.kind == "composition":
            fields[f.name] = Composition(*(values.get(n) for n in COMPOSITION_FIELDS))
        elif f.name in values:
            fields[f.name] = values[f.name]
        elif f.name in failed:
            continue
        elif f.default is wire.REQUIRED:
            reason = (
                Message("column {column} is empty", column=repr(columns[f.name]))
                if f.name in columns
                else Message("no value")
            )
            problems.append(Problem.of(f.name, "missing", reason))
        elif f.name == "timezone" and record_zone is not None:
            fields[f.name] = record_zone
        else:
            fields[f.name] = f.default
    return fields, problems
