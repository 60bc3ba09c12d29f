"""The exports Herdwatch knows by name: Movebank, ODK Central and KoboToolbox.

A preset says which columns hold the coordinates, the time and the id, which rows are not
observations (Movebank outliers) and which tables cannot be imported (repeat groups), so
`--format movebank` needs no `--map`. Field names come from the wire table (mapping.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from domain import wire
from domain.errors import InvalidInput
from domain.i18n import Message

_TRUE = ("true", "1", "yes", "t")
# Movebank: "visible" is false for an event any outlier flag marks (unless a person marked
# it valid again); where an export has no "visible" column, the flags are read directly.
_MOVEBANK_OUTLIER = ("algorithm-marked-outlier", "import-marked-outlier", "manually-marked-outlier")
_SPLIT = re.compile(r"^(?P<stem>.*?)[-_/]?(?P<axis>latitude|longitude)$", re.IGNORECASE)
_ACCURACY_SUFFIXES = ("-accuracy", "_accuracy", "_precision", "-precision")
# Columns only a repeat group's table has (ODK Central: PARENT_KEY; Kobo: _parent_index).
_REPEAT_MARKERS = ("PARENT_KEY", "_parent_index", "_parent_table_name", "_submission__uuid")
_REPEAT_COLUMN = re.compile(r"\[\d+\]")
_ODK_IDS = ("meta-instanceID", "meta/instanceID", "instanceID", "KEY")
_KOBO_IDS = ("_uuid", "meta/instanceID", "meta-instanceID")
_ODK_TIMES = ("start", "SubmissionDate", "_submission_time", "end")


@dataclass(frozen=True)
class Preset:
    """What is known about one kind of export."""

    name: str
    columns: dict[str, str] = field(default_factory=dict)  # field → column, found in the file
    constants: dict[str, str] = field(default_factory=dict)  # defaults --set can override
    utc_columns: tuple[str, ...] = ()  # naive times in these columns are UTC by definition
    record_zone: str | None = None  # the records' `timezone` unless --timezone says
    key_column: str | None = None  # a stable id for rows without a UUID (Movebank event-id)
    geopoint_column: str | None = None  # "lat lon alt acc" text

    def skip_reason(self, row: dict[str, Any]) -> str | None:
        """Why a row is not an observation at all (reported as skipped), or None."""
        if self.name != "movebank":
            return None
        if row.get("location-long") is None or row.get("location-lat") is None:
            return "Movebank event without a location (a failed fix): not imported"
        if "visible" in row and row["visible"] is not None:
            if _is_false(row["visible"]):
                return "Movebank marks this event as not visible (an outlier): not imported"
            return None
        flagged = [c for c in _MOVEBANK_OUTLIER if _is_true(row.get(c))]
        if flagged and not _is_true(row.get("manually-marked-valid")):
            return f"Movebank flags this event as an outlier ({flagged[0]}): not imported"
        return None

    def notes(self, row: dict[str, Any]) -> str | None:
        """Notes made from the export's own columns (Movebank: the animal and comments)."""
        if self.name != "movebank":
            return None
        animal, comments = row.get("individual-local-identifier"), row.get("comments")
        parts = [f"Movebank individual {animal}" if animal is not None else None, comments]
        text = "; ".join(str(p) for p in parts if p is not None)
        return text or None


def _is_true(value: Any) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


def _is_false(value: Any) -> bool:
    return value is False or str(value).strip().lower() in ("false", "0", "no", "f")


def guess(columns: Sequence[str]) -> str | None:
    """The preset a CSV/xlsx header looks like, or None for a plain table."""
    names = set(columns)
    if {"location-long", "location-lat", "timestamp"} <= names:
        return "movebank"
    if "_uuid" in names or "_submission_time" in names:
        return "kobo"
    if names & {"meta-instanceID", "meta/instanceID"} or {"KEY", "SubmissionDate"} <= names:
        return "odk"
    return None


def preset(name: str, columns: Sequence[str]) -> Preset:
    """The preset `name` fitted to a file's columns; refuses a repeat group's table."""
    if name == "movebank":
        return _movebank(columns)
    refuse_repeat_groups(columns)
    return _form_export(name, columns)


def refuse_repeat_groups(columns: Sequence[str]) -> None:
    """ODK/Kobo repeat groups hold several rows per submission: not one observation each."""
    marker = next((c for c in columns if c in _REPEAT_MARKERS), None)
    marker = marker or next((c for c in columns if _REPEAT_COLUMN.search(c)), None)
    if marker is not None:
        raise InvalidInput(
            Message(
                "this table holds a repeat group (column {marker}): repeat groups are "
                "not imported; import the main submissions table (one observation per "
                "submission), and flatten repeats into it first if they hold the "
                "counts",
                marker=repr(marker),
            ),
            field="file",
        )


def _movebank(columns: Sequence[str]) -> Preset:
    missing = [c for c in ("location-long", "location-lat", "timestamp") if c not in columns]
    if missing:
        raise InvalidInput(
            "not a Movebank export: no column " + ", ".join(repr(c) for c in missing),
            field="format",
        )
    found = {
        "lon": "location-long",
        "lat": "location-lat",
        "observed_at": "timestamp",
        "device_id": "tag-local-identifier",
    }
    return Preset(
        "movebank",
        columns={k: v for k, v in found.items() if v in columns},
        constants={"count": "1"},  # a fix is one collared animal
        utc_columns=("timestamp",),  # Movebank's timestamp is UTC, written without offset
        record_zone="UTC",
        key_column="event-id" if "event-id" in columns else None,
    )


def _form_export(name: str, columns: Sequence[str]) -> Preset:
    ids = _KOBO_IDS if name == "kobo" else _ODK_IDS
    found: dict[str, str] = {}
    id_column = next((c for c in ids if c in columns), None)
    if id_column is not None:
        found["id"] = id_column
    found.update(_split_coordinates(columns))
    device = next((c for c in ("deviceid", "_deviceid") if c in columns), None)
    if device is not None and not any(_last(c) == "device_id" for c in columns):
        found["device_id"] = device  # ODK's and Kobo's metadata field of the phone's id
    geopoint = None if "lat" in found else _geopoint_column(columns)
    if not any(_last(c) == "observed_at" for c in columns):
        time = next((c for c in _ODK_TIMES if c in columns), None)
        if time is not None:
            found["observed_at"] = time
    return Preset(
        name,
        columns=found,
        utc_columns=("_submission_time",),  # Kobo writes it in UTC without an offset
        geopoint_column=geopoint,
    )


def _split_coordinates(columns: Sequence[str]) -> dict[str, str]:
    """`location-Latitude`/`-Longitude` (ODK Central), `_location_latitude` (Kobo)."""
    stems: dict[str, dict[str, str]] = {}
    for c in columns:
        match = _SPLIT.match(c)
        if match:
            stems.setdefault(match["stem"], {})[match["axis"].lower()] = c
    for stem, axes in stems.items():
        if {"latitude", "longitude"} <= set(axes):
            found = {"lat": axes["latitude"], "lon": axes["longitude"]}
            accuracy = {(stem + s).lower() for s in _ACCURACY_SUFFIXES}
            hit = next((c for c in columns if c.lower() in accuracy), None)
            if hit is not None:
                found[wire.POSITION_ACCURACY] = hit
            return found
    return {}


def _geopoint_column(columns: Sequence[str]) -> str | None:
    for c in columns:
        if _last(c).lower() in ("location", "geopoint", "gps", "point", "position"):
            return c
    return None


def _last(column: str) -> str:
    """A form field's own name without its groups: herd/count, herd-count → count."""
    return re.split(r"[/-]", column)[-1]


def field_of_column(column: str) -> str:
    """The name a form export's column is matched to fields by (its last path segment)."""
    return _last(column)
