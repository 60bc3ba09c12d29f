"""Pure helpers shared by the backends: observation ↔ row, timestamps, tagging."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from domain.records import (
    Composition,
    FeaturePage,
    Observation,
    Revision,
    Survey,
    observation_to_dict,
    utc_iso,
)
from geo.coords import to_equal_area
from geo.regions import flags_for_region

# Column order of every observation row, in INSERT and SELECT alike.
OBSERVATION_COLUMNS: tuple[str, ...] = (
    "id",
    "observed_at",
    "local_date",
    "timezone",
    "lon",
    "lat",
    "ea_x",
    "ea_y",
    "accuracy_m",
    "count",
    "adult_males",
    "adult_females",
    "yearlings",
    "calves",
    "unclassified",
    "count_method",
    "survey_id",
    "population",
    "behaviour",
    "notes",
    "device_id",
    "observer",
    "revision",
    "status",
    "review_state",
    "flags",
    "region",
    "created_at",
    "updated_at",
    "content_hash",
    "upload_hash",
    "change_seq",
)
REVISION_COLUMNS: tuple[str, ...] = (
    "seq",
    "observation_id",
    "revision",
    "action",
    "actor",
    "at",
    "before",
    "after",
    "reason",
)
SURVEY_COLUMNS: tuple[str, ...] = (
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
)


utc_text = utc_iso  # one fixed spelling of a UTC instant, so that text order is time order


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def now_utc() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date_text(obs: Observation) -> str:
    """The observation's calendar date where it was made: periods are local."""
    return obs.observed_at.astimezone(zone(obs.timezone)).date().isoformat()


def tag_observations(batch: Sequence[Observation]) -> list[Observation]:
    """Set region and region flags on each observation (flags such as "synthetic" stay)."""
    return [replace(o, **changes) for o, changes in zip(batch, _region_changes(batch), strict=True)]


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
        server_side = (
            obs.observer or actor,
            1,
            "active",
            obs.review_state,
            flag_json[flags],
            changes["region"],
            stamp,
            stamp,
            hashes[i],
            hashes[i],
        )
        rows.append(_row(obs, texts[i], observed[i], float(xs[i]), float(ys[i]), server_side))
    return rows


def _region_changes(batch: Sequence[Observation]) -> list[dict[str, Any]]:
    from data.reference import region_index

    regions = region_index().region_of([o.lon for o in batch], [o.lat for o in batch])
    changes = []
    for obs, region in zip(batch, regions, strict=True):
        kept = tuple(f for f in obs.flags if not f.startswith("outside-"))
        changes.append({"region": region, "flags": kept + flags_for_region(region)})
    return changes


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
        server_side = (
            obs.observer,
            obs.revision,
            obs.status,
            obs.review_state,
            json.dumps(list(obs.flags)),
            obs.region,
            utc_text(obs.created_at or now_utc()),
            utc_text(obs.updated_at or now_utc()),
            hashes[i],
            upload_hashes[i],
            seqs[i],
        )
        rows.append(
            _row(
                obs, str(obs.id), utc_text(obs.observed_at), float(xs[i]), float(ys[i]), server_side
            )
        )
    return rows


def _row(
    obs: Observation, id_text: str, observed: str, x: float, y: float, server_side: tuple[Any, ...]
) -> tuple[Any, ...]:
    """One row in OBSERVATION_COLUMNS order: the device's fields, then the server's
    (observer, revision, status, review_state, flags, region, created_at, updated_at,
    content_hash, upload_hash, change_seq)."""
    c = obs.composition
    return (
        id_text,
        observed,
        local_date_text(obs),
        obs.timezone,
        obs.lon,
        obs.lat,
        x,
        y,
        obs.accuracy_m,
        obs.count,
        c.adult_males,
        c.adult_females,
        c.yearlings,
        c.calves,
        c.unclassified,
        obs.count_method,
        obs.survey_id,
        obs.population,
        obs.behaviour,
        obs.notes,
        obs.device_id,
        *server_side,
    )


def row_to_observation(row: Sequence[Any]) -> Observation:
    """An Observation from a row in OBSERVATION_COLUMNS order."""
    (
        oid,
        observed_at,
        _local,
        tz,
        lon,
        lat,
        _x,
        _y,
        acc,
        count,
        males,
        females,
        yearlings,
        calves,
        unclassified,
        method,
        survey,
        population,
        behaviour,
        notes,
        device,
        observer,
        revision,
        status,
        review,
        flags,
        region,
        created,
        updated,
        *_rest,
    ) = row
    return Observation(
        id=oid if isinstance(oid, UUID) else UUID(oid),
        observed_at=_as_datetime(observed_at).astimezone(zone(tz)),
        timezone=tz,
        lon=lon,
        lat=lat,
        accuracy_m=acc,
        count=count,
        composition=Composition(males, females, yearlings, calves, unclassified),
        count_method=method,
        survey_id=survey,
        population=population,
        behaviour=behaviour,
        notes=notes,
        device_id=device,
        observer=observer,
        revision=revision,
        status=status,
        review_state=review,
        flags=tuple(flags if isinstance(flags, list) else json.loads(flags)),
        region=region,
        created_at=_as_datetime(created),
        updated_at=_as_datetime(updated),
    )


def row_to_feature(row: Sequence[Any], flag_cache: dict[Any, list[str]]) -> dict[str, Any]:
    """A GeoJSON Feature straight from a row in OBSERVATION_COLUMNS order.

    The same Feature as field_api.schemas.observation_feature(row_to_observation(row)) (a
    contract test holds them equal), without building the record first: a listing page is
    1,000 of these and the record cost more than the query.
    """
    (
        oid,
        observed_at,
        _local,
        tz,
        lon,
        lat,
        _x,
        _y,
        acc,
        count,
        males,
        females,
        yearlings,
        calves,
        unclassified,
        method,
        survey,
        population,
        behaviour,
        notes,
        device,
        observer,
        revision,
        status,
        review,
        flags,
        region,
        created,
        updated,
        *_rest,
    ) = row
    key = flags if isinstance(flags, str) else tuple(flags)
    if key not in flag_cache:
        flag_cache[key] = list(json.loads(flags) if isinstance(flags, str) else flags)
    return {
        "type": "Feature",
        "id": str(oid),
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "observed_at": _as_datetime(observed_at).astimezone(zone(tz)).isoformat(),
            "timezone": tz,
            "count": count,
            "composition": {
                "adult_males": males,
                "adult_females": females,
                "yearlings": yearlings,
                "calves": calves,
                "unclassified": unclassified,
            },
            "count_method": method,
            "accuracy_m": acc,
            "survey_id": survey,
            "population": population,
            "behaviour": behaviour,
            "notes": notes,
            "device_id": device,
            "observer": observer,
            "revision": revision,
            "status": status,
            "review_state": review,
            "flags": list(flag_cache[key]),
            "region": region,
            "created_at": _isoformat(created),
            "updated_at": _isoformat(updated),
        },
    }


def _isoformat(value: datetime | str) -> str:
    """datetime.isoformat() of a stored instant. SQLite keeps utc_text, which always writes
    the microseconds; isoformat() leaves them out when they are zero."""
    if isinstance(value, str):
        return value.replace(".000000+", "+", 1) if value[19:26] == ".000000" else value
    return value.isoformat()


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
    return utc_text(_as_datetime(last[1])), str(last[0])


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


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
    """A row for REVISION_COLUMNS: who did what, with snapshots before and after.

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
    seq, oid, revision, action, actor, at, before, after, reason = row
    return Revision(
        seq=seq,
        observation_id=UUID(str(oid)),
        revision=revision,
        action=action,
        actor=actor,
        at=_as_datetime(at),
        before=_as_json(before),
        after=_as_json(after),
        reason=reason,
    )


def _as_json(value: Any) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    loaded: dict[str, Any] = json.loads(value)
    return loaded


def survey_row(survey: Survey) -> tuple[Any, ...]:
    return (
        survey.id,
        survey.method,
        utc_text(survey.started_at),
        utc_text(survey.ended_at) if survey.ended_at else None,
        survey.name,
        json.dumps(list(survey.team)),
        survey.platform,
        json.dumps(survey.geometry) if survey.geometry else None,
        survey.effort_km,
        survey.effort_km2,
        survey.notes,
        survey.created_by,
        utc_text(survey.created_at or now_utc()),
        survey.content_hash(),
    )


def row_to_survey(row: Sequence[Any]) -> Survey:
    (
        sid,
        method,
        started,
        ended,
        name,
        team,
        platform,
        geometry,
        km,
        km2,
        notes,
        by,
        created,
        _hash,
    ) = row
    return Survey(
        id=sid,
        method=method,
        started_at=_as_datetime(started),
        ended_at=_as_datetime(ended) if ended else None,
        name=name,
        team=tuple(team if isinstance(team, list) else json.loads(team)),
        platform=platform,
        geometry=_as_json(geometry),
        effort_km=km,
        effort_km2=km2,
        notes=notes,
        created_by=by,
        created_at=_as_datetime(created),
    )
