"""The one description of each table both SQL dialects read and write, by column name.

Column lists for SELECT and INSERT, the row builders and the row readers of data/rows.py
all come from these; a row's value is found by its column's name (positions are computed
once here, never written as r[-2]). The observation's device columns come from the wire
format (domain/wire.py), so a new optional field is a column without another list to edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from domain import wire
from domain.records import COMPOSITION_FIELDS


@dataclass(frozen=True)
class Table:
    """A table's name and columns, in the order the row builders write them."""

    name: str
    columns: tuple[str, ...]
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {c: i for i, c in enumerate(self.columns)})

    def column_list(self, *, unread: Sequence[str] = ()) -> str:
        """The columns, with NULL in the place of those a query does not read (a listing
        fetches a third less that way; positions, and so the readers, stay the same)."""
        return ", ".join(f"NULL AS {c}" if c in unread else c for c in self.columns)

    def select(self, *, unread: Sequence[str] = ()) -> str:
        return f"SELECT {self.column_list(unread=unread)} FROM {self.name}"

    def insert(self, mark: str, *, extra: Sequence[str] = ()) -> str:
        """INSERT of every column (and `extra` ones after them) with placeholder `mark`."""
        columns = (*self.columns, *extra)
        marks = ", ".join([mark] * len(columns))
        return f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES ({marks})"

    def value(self, row: Sequence[Any], column: str) -> Any:
        """One column's value in a row of this table."""
        return row[self.index[column]]

    def named(self, row: Sequence[Any]) -> dict[str, Any]:
        """A row as {column: value} (for the tables that are not on a hot path)."""
        return dict(zip(self.columns, row, strict=True))


# Computed from the record when a row is written: the id and time as the store spells them,
# the local date periods use, the point and its equal-area (EPSG:3576) coordinates.
_KEY = ("id", "observed_at", "local_date", "lon", "lat", "ea_x", "ea_y")
# What the server keeps only for itself: hashes for idempotency, the change-feed position.
BOOKKEEPING = ("content_hash", "upload_hash", "change_seq")

OBSERVATIONS = Table(
    "observations",
    (
        *_KEY,
        *wire.PLAIN_DEVICE,
        *COMPOSITION_FIELDS,
        *(f.name for f in wire.SERVER_PROPERTIES),
        *BOOKKEEPING,
    ),
)
REVISIONS = Table(
    "revisions",
    ("seq", "observation_id", "revision", "action", "actor", "at", "before", "after", "reason"),
)
SURVEYS = Table(
    "surveys",
    (
        "id",
        "method",
        "started_at",
        "ended_at",
        "name",
        "team",
        "platform",
        "geometry",
        "effort_km",
        "effort_km2",
        "notes",
        "created_by",
        "created_at",
        "content_hash",
        "strata",
    ),
)
HERD_DECISIONS = Table(
    "herd_decisions",
    ("id", "action", "observation_ids", "other_ids", "actor", "decided_at", "note"),
)
INSTANCES = Table(
    "openrosa_instances",
    (
        "instance_id",
        "observation_id",
        "revision",
        "xml_sha256",
        "deprecated_id",
        "observer",
        "received_at",
    ),
)
