"""Records ↔ rows for both SQL dialects, by column name from data/tables.py.

Also the fixed spellings of stored times, region tagging, and the Feature text written
beside each PostGIS row. The hot builders and readers (a 1,000-row page, a 1,000-record
upload) are compiled once from the table and the wire format (domain.wire.define): as fast
as hand-written ones, and with nothing to keep in step by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from data.herds import HerdDecision
from data.tables import HERD_DECISIONS, OBSERVATIONS, REVISIONS, SURVEYS
from domain import wire
from domain.records import (
    COMPOSITION_FIELDS,
    Composition,
    FeaturePage,
    Observation,
    Revision,
    Survey,
    TransectStratum,
    observation_to_dict,
    utc_iso,
)
from domain.times import rfc3339
from geo.coords import to_equal_area
from geo.regions import flags_for_region

OBSERVATION_COLUMNS = OBSERVATIONS.columns
REVISION_COLUMNS = REVISIONS.columns
SURVEY_COLUMNS = SURVEYS.columns
DECISION_COLUMNS = HERD_DECISIONS.columns

utc_text = utc_iso  # one fixed spelling of a UTC instant, so that text order is time order


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def now_utc() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def as_datetime(value: Any) -> datetime:
    """A stored instant: SQLite keeps text, PostGIS gives datetimes."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def local_date_text(obs: Observation) -> str:
    """The observation's calendar date where it was made: periods are local."""
    return obs.observed_at.astimezone(zone(obs.timezone)).date().isoformat()


# ---- observations: record → row ------------------------------------------------------------

_PLAIN = attrgetter(*wire.PLAIN_DEVICE)
_CLASSES = attrgetter(*COMPOSITION_FIELDS)
_SERVER = tuple(f.name for f in wire.SERVER_PROPERTIES)
_KEY_LEN = OBSERVATIONS.index[wire.PLAIN_DEVICE[0]]
# The row layout the builders below write: key columns, plain device values, composition,
# server fields, bookkeeping. Checked once here so a change to the table cannot slip by.
assert OBSERVATION_COLUMNS[:_KEY_LEN] == (
    "id",
    "observed_at",
    "local_date",
    "lon",
    "lat",
    "ea_x",
    "ea_y",
)
assert OBSERVATION_COLUMNS[_KEY_LEN:] == (
    *wire.PLAIN_DEVICE,
    *COMPOSITION_FIELDS,
    *_SERVER,
    "content_hash",
    "upload_hash",
    "change_seq",
)


def _device_part(
    obs: Observation, id_text: str, observed: str, x: float, y: float
) -> tuple[Any, ...]:
    """The columns made from what the device sent (key, plain values, composition)."""
    key = (id_text, observed, local_date_text(obs), obs.lon, obs.lat, x, y)
    return key + _PLAIN(obs) + _CLASSES(obs.composition)


def tag_observations(batch: Sequence[Observation]) -> list[Observation]:
    """Set region and region flags on each observation (flags such as "synthetic" stay)."""
    return [replace(o, **changes) for o, changes in zip(batch, _region_changes(batch), strict=True)]


def _region_changes(batch: Sequence[Observation]) -> list[dict[str, Any]]:
    from data.reference import region_index

    regions = region_index().region_of([o.lon for o in batch], [o.lat for o in batch])
    changes = []
    for obs, region in zip(batch, regions, strict=True):
        kept = tuple(f for f in obs.flags if not f.startswith("outside-"))
        changes.append({"region": region, "flags": kept + flags_for_region(region)})
    return changes


def new_observation_rows(
    batch: Sequence[Observation],
    *,
    actor: str,
    now: datetime,
    seqs: Sequence[int],
    hashes: Sequence[str],
    ids: Sequence[str] | None = None,
    observed_utc: Sequence[str] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows for brand-new observations: tagged, owned, revision 1, stamped `now`."""
    heads = new_row_heads(
        batch, actor=actor, now=now, hashes=hashes, ids=ids, observed_utc=observed_utc
    )
    return [(*head, seq) for head, seq in zip(heads, seqs, strict=True)]


def new_row_heads(
    batch: Sequence[Observation],
    *,
    actor: str,
    now: datetime,
    hashes: Sequence[str],
    ids: Sequence[str] | None = None,
    observed_utc: Sequence[str] | None = None,
) -> list[tuple[Any, ...]]:
    """new_observation_rows without the last column, change_seq.

    The sequence number is only known inside the write transaction; everything else can be
    built before it, outside the one writer thread that every upload queues for. Built
    straight from the uploaded records rather than through copies of them
    (dataclasses.replace costs more than the INSERT on the hot upload path).
    """
    xs, ys = to_equal_area([o.lon for o in batch], [o.lat for o in batch])
    stamp = utc_text(now)
    texts = ids or [str(o.id) for o in batch]
    observed = observed_utc or [utc_text(o.observed_at) for o in batch]
    flag_json: dict[tuple[str, ...], str] = {}  # a handful of distinct flag sets per batch
    rows = []
    for i, (obs, changes) in enumerate(zip(batch, _region_changes(batch), strict=True)):
        flags = changes["flags"]
        if flags not in flag_json:
            flag_json[flags] = json.dumps(list(flags))
        server: tuple[Any, ...] = (obs.observer or actor, 1, "active", obs.review_state)
        server += (flag_json[flags],)
        server += (changes["region"], stamp, stamp, hashes[i], hashes[i])
        rows.append(_device_part(obs, texts[i], observed[i], float(xs[i]), float(ys[i])) + server)
    return rows


def observation_rows(
    batch: Sequence[Observation],
    *,
    seqs: Sequence[int],
    upload_hashes: Sequence[str],
    content_hashes: Sequence[str] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows for OBSERVATION_COLUMNS of observations as they are (edits, transfers, loads)."""
    xs, ys = to_equal_area([o.lon for o in batch], [o.lat for o in batch])
    hashes = content_hashes or [o.content_hash() for o in batch]
    rows = []
    for i, obs in enumerate(batch):
        server: tuple[Any, ...] = (obs.observer, obs.revision, obs.status, obs.review_state)
        server += (json.dumps(list(obs.flags)), obs.region)
        server += (utc_text(obs.created_at or now_utc()), utc_text(obs.updated_at or now_utc()))
        server += (hashes[i], upload_hashes[i], seqs[i])
        device = _device_part(
            obs, str(obs.id), utc_text(obs.observed_at), float(xs[i]), float(ys[i])
        )
        rows.append(device + server)
    return rows


# ---- observations: row → record, row → Feature ---------------------------------------------


def _col(name: str) -> str:
    return f"r[{OBSERVATIONS.index[name]}]"


def _as_uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _as_flags(value: Any) -> tuple[str, ...]:
    return tuple(value if isinstance(value, list) else json.loads(value))


def _record_value(f: wire.WireField) -> str:
    """Source of an Observation field from a row `r`."""
    if f.name == "observed_at":
        return f"as_datetime({_col('observed_at')}).astimezone(zone({_col('timezone')}))"
    if f.kind == "datetime":
        return f"as_datetime({_col(f.name)})"
    if f.kind == "composition":
        return f"Composition({', '.join(_col(c) for c in COMPOSITION_FIELDS)})"
    if f.kind == "flags":
        return f"as_flags({_col(f.name)})"
    return _col(f.name)


_row_to_observation = wire.define(
    "row_to_observation",
    "r",
    f"return Observation(id=as_uuid({_col('id')}), lon={_col('lon')}, lat={_col('lat')}, "
    + ", ".join(f"{f.name}={_record_value(f)}" for f in wire.PROPERTIES)
    + ")",
    {
        "Observation": Observation,
        "Composition": Composition,
        "as_datetime": as_datetime,
        "as_uuid": _as_uuid,
        "as_flags": _as_flags,
        "zone": zone,
    },
)


def row_to_observation(row: Sequence[Any]) -> Observation:
    """An Observation from a row of OBSERVATIONS (listing rows may hold NULL for columns
    no field is made from)."""
    obs: Observation = _row_to_observation(row)
    return obs


def _isoformat(value: datetime | str) -> str:
    """datetime.isoformat() of a stored instant. SQLite keeps utc_text, which always writes
    the microseconds; isoformat() leaves them out when they are zero."""
    if isinstance(value, str):
        return value.replace(".000000+", "+", 1) if value[19:26] == ".000000" else value
    return rfc3339(value)


def _flag_list(value: Any, cache: dict[Any, list[str]]) -> list[str]:
    """A fresh list of a row's flags; the few distinct flag sets are decoded once a page."""
    key = value if isinstance(value, str) else tuple(value)
    if key not in cache:
        cache[key] = list(json.loads(value) if isinstance(value, str) else value)
    return list(cache[key])


def _feature_value(f: wire.WireField) -> str:
    """Source of a Feature property from a row `r`, as observation_feature writes it."""
    if f.name == "observed_at":
        return f"rfc3339(as_datetime({_col('observed_at')}).astimezone(zone({_col('timezone')})))"
    if f.kind == "datetime":
        return f"isoformat({_col(f.name)})"  # the server's stamps are never NULL
    if f.kind == "composition":
        return "{" + ", ".join(f"{c!r}: {_col(c)}" for c in COMPOSITION_FIELDS) + "}"
    if f.kind == "flags":
        return f"flag_list({_col(f.name)}, cache)"
    return _col(f.name)


# row_to_feature(row, flag_cache) -> dict: the same Feature as
# wire.observation_feature(row_to_observation(row)) (a contract test holds them equal),
# without building the record first: a listing page is 1,000 of these.
row_to_feature: Callable[[Sequence[Any], dict[Any, list[str]]], dict[str, Any]] = wire.define(
    "row_to_feature",
    "r, cache",
    f"return {{'type': 'Feature', 'id': str({_col('id')}), "
    f"'geometry': {{'type': 'Point', 'coordinates': [{_col('lon')}, {_col('lat')}]}}, "
    "'properties': {"
    + ", ".join(f"{f.name!r}: {_feature_value(f)}" for f in wire.PROPERTIES)
    + "}}",
    {
        "as_datetime": as_datetime,
        "zone": zone,
        "isoformat": _isoformat,
        "flag_list": _flag_list,
        "rfc3339": rfc3339,
    },
)


def feature_texts(rows: Sequence[Sequence[Any]]) -> list[str]:
    """Each row's Feature as JSON text, byte for byte what the API sends for it (PostGIS
    keeps it beside the row, migration 0004, so a listing page is these texts joined)."""
    cache: dict[Any, list[str]] = {}
    return [msgspec.json.encode(row_to_feature(row, cache)).decode() for row in rows]


def rows_to_feature_page(rows: Sequence[Sequence[Any]], limit: int) -> FeaturePage:
    """Features for the first `limit` rows, and the cursor to the next page."""
    cache: dict[Any, list[str]] = {}
    features = [row_to_feature(r, cache) for r in rows[:limit]]
    return FeaturePage(msgspec.json.encode(features), len(features), next_cursor(rows, limit))


def next_cursor(rows: Sequence[Sequence[Any]], limit: int) -> tuple[str, str] | None:
    """(observed_at, id) of a page's last row when one more row than the page was fetched."""
    if len(rows) <= limit or limit < 1:
        return None
    last = rows[limit - 1]
    observed = OBSERVATIONS.value(last, "observed_at")
    return utc_text(as_datetime(observed)), str(OBSERVATIONS.value(last, "id"))


# ---- revisions -----------------------------------------------------------------------------


def revision_row(
    seq: int,
    obs: Observation,
    action: str,
    actor: str,
    before: Observation | None,
    reason: str | None = None,
    at: datetime | None = None,
    *,
    at_text: str | None = None,
    id_text: str | None = None,
) -> tuple[Any, ...]:
    """A row for REVISIONS: who did what, with snapshots before and after.

    A create stores no "after": it equals the next revision's "before", or the current row
    when there is none, and `with_create_snapshots` fills it in on reading. That halves the
    bytes written per upload.
    """
    after = None if action == "create" else json.dumps(observation_to_dict(obs))
    return (
        seq,
        id_text or str(obs.id),
        obs.revision,
        action,
        actor,
        at_text or utc_text(at or obs.updated_at or now_utc()),
        json.dumps(observation_to_dict(before)) if before else None,
        after,
        reason,
    )


def revision_to_row(revision: Revision) -> tuple[Any, ...]:
    """A row for REVISIONS from an audit entry as it is (transfers), snapshots as JSON."""
    return (
        revision.seq,
        str(revision.observation_id),
        revision.revision,
        revision.action,
        revision.actor,
        utc_text(revision.at),
        json.dumps(revision.before) if revision.before is not None else None,
        json.dumps(revision.after) if revision.after is not None else None,
        revision.reason,
    )


def with_create_snapshots(revisions: list[Revision], current: Observation) -> list[Revision]:
    """Fill in the "after" of create revisions (stored as NULL, see revision_row)."""
    filled = []
    for i, rev in enumerate(revisions):
        if rev.after is None and rev.action == "create":
            later = revisions[i + 1].before if i + 1 < len(revisions) else None
            rev = replace(rev, after=later or observation_to_dict(current))
        filled.append(rev)
    return filled


def row_to_revision(row: Sequence[Any]) -> Revision:
    r = REVISIONS.named(row)
    return Revision(
        seq=r["seq"],
        observation_id=UUID(str(r["observation_id"])),
        revision=r["revision"],
        action=r["action"],
        actor=r["actor"],
        at=as_datetime(r["at"]),
        before=as_json(r["before"]),
        after=as_json(r["after"]),
        reason=r["reason"],
    )


def as_json(value: Any) -> Any:
    """A JSON column's value: SQLite gives text, PostgreSQL's json type the value."""
    return json.loads(value) if isinstance(value, str) else value


# ---- surveys -------------------------------------------------------------------------------


def survey_row(survey: Survey) -> tuple[Any, ...]:
    values = {
        "id": survey.id,
        "method": survey.method,
        "started_at": utc_text(survey.started_at),
        "ended_at": utc_text(survey.ended_at) if survey.ended_at else None,
        "name": survey.name,
        "team": json.dumps(list(survey.team)),
        "platform": survey.platform,
        "geometry": json.dumps(survey.geometry) if survey.geometry else None,
        "effort_km": survey.effort_km,
        "effort_km2": survey.effort_km2,
        "notes": survey.notes,
        "created_by": survey.created_by,
        "created_at": utc_text(survey.created_at or now_utc()),
        "content_hash": survey.content_hash(),
        "strata": json.dumps([s.as_dict() for s in survey.strata]) if survey.strata else None,
    }
    return tuple(values[c] for c in SURVEY_COLUMNS)


def row_to_survey(row: Sequence[Any]) -> Survey:
    r = SURVEYS.named(row)
    return Survey(
        id=r["id"],
        method=r["method"],
        started_at=as_datetime(r["started_at"]),
        ended_at=as_datetime(r["ended_at"]) if r["ended_at"] else None,
        name=r["name"],
        team=tuple(as_json(r["team"])),
        platform=r["platform"],
        geometry=as_json(r["geometry"]),
        effort_km=r["effort_km"],
        effort_km2=r["effort_km2"],
        notes=r["notes"],
        created_by=r["created_by"],
        created_at=as_datetime(r["created_at"]),
        strata=tuple(TransectStratum(**s) for s in (as_json(r["strata"]) or ())),
    )


# ---- herd decisions ------------------------------------------------------------------------


def decision_row(decision: HerdDecision) -> tuple[Any, ...]:
    """A row for HERD_DECISIONS (its id None when the store is to number it)."""
    if decision.decided_at is None:
        raise ValueError("decided_at must be set before a decision is stored")
    return (
        decision.id,
        decision.action,
        json.dumps([str(i) for i in decision.observation_ids]),
        json.dumps([str(i) for i in decision.other_ids]),
        decision.actor,
        utc_text(decision.decided_at),
        decision.note,
    )


def row_to_decision(row: Sequence[Any]) -> HerdDecision:
    r = HERD_DECISIONS.named(row)
    return HerdDecision(
        action=r["action"],
        observation_ids=tuple(UUID(str(i)) for i in as_json(r["observation_ids"])),
        other_ids=tuple(UUID(str(i)) for i in as_json(r["other_ids"])),
        actor=r["actor"],
        note=r["note"],
        id=int(r["id"]),
        decided_at=as_datetime(r["decided_at"]),
    )
