"""Typed export columns, made from domain/wire.py's field table (no field list here).

GeoPackage, FlatGeobuf and GeoParquet share one Arrow schema: the id, every property of
the Feature in its order (composition flattened to its classes, flags joined by ";"),
times as UTC timestamps, and the point as WKB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import shapely

from domain.records import COMPOSITION_FIELDS, Observation
from domain.wire import PROPERTIES

GEOMETRY = "geometry"
_ARROW: dict[str, pa.DataType] = {
    "text": pa.string(),
    "choice": pa.string(),
    "int": pa.int64(),
    "number": pa.float64(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "flags": pa.string(),
}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: pa.DataType
    get: Callable[[Observation], Any]


def _joined(name: str) -> Callable[[Observation], str]:
    get = attrgetter(name)
    return lambda obs: ";".join(get(obs))


@lru_cache(maxsize=1)
def columns() -> tuple[Column, ...]:
    """Every attribute column in the Feature's order (the geometry comes separately)."""
    found = [Column("id", pa.string(), lambda obs: str(obs.id))]
    for f in PROPERTIES:
        if f.kind == "composition":
            found += [
                Column(n, pa.int64(), attrgetter(f"{f.name}.{n}")) for n in COMPOSITION_FIELDS
            ]
        elif f.kind == "flags":
            found.append(Column(f.name, _ARROW["flags"], _joined(f.name)))
        else:
            found.append(Column(f.name, _ARROW[f.kind], attrgetter(f.name)))
    return tuple(found)


def arrow_fields() -> list[pa.Field]:
    return [pa.field(c.name, c.type) for c in columns()]


def points_wkb(items: Sequence[Observation]) -> pa.Array:
    points = shapely.points([o.lon for o in items], [o.lat for o in items])
    return pa.array(shapely.to_wkb(points, flavor="iso"), type=pa.binary())


def attribute_arrays(items: Sequence[Observation]) -> list[pa.Array]:
    return [pa.array([c.get(o) for o in items], type=c.type) for c in columns()]


def record_batch(items: Sequence[Observation], schema: pa.Schema) -> pa.RecordBatch:
    """A page of observations as columns of `schema` (attributes, then the WKB point), for
    GDAL: times rounded to the millisecond, as GDAL keeps them, because GDAL 3.12 writes
    an instant in the last half-millisecond of a minute as second 60 ("22:30:60Z"), which
    no reader parses, and pyogrio then reads the whole column as strings."""
    arrays = [_to_milliseconds(a) for a in attribute_arrays(items)]
    return pa.RecordBatch.from_arrays([*arrays, points_wkb(items)], schema=schema)


def _to_milliseconds(array: pa.Array) -> pa.Array:
    if not pa.types.is_timestamp(array.type):
        return array
    return pc.round_temporal(array, unit="millisecond")


def arrow_schema() -> pa.Schema:
    return pa.schema([*arrow_fields(), pa.field(GEOMETRY, pa.binary())])
