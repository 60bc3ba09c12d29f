"""PostGISStore: the production backend (psycopg 3, a connection pool, several workers).

Behaves exactly like data/sqlite.py (the contract suite checks it); what differs is how the
guarantees hold across processes:

- idempotency through the primary key: INSERT ... ON CONFLICT DO NOTHING, then the ids that
  were not inserted are classified as re-sends. Rows go in sorted by id, so two workers with
  overlapping batches wait for each other instead of deadlocking;
- revision numbers from a sequence. A sequence hands out numbers before commit, so a change
  feed reader could see 7 committed while 6 is still in flight and skip 6 for ever. Writers
  therefore hold a shared advisory lock for their whole transaction and the feed reader
  takes it exclusively: it waits for writers in flight, and every later writer draws a
  larger number than anything the reader returns.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

import psycopg
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

from data import _rows, herd_sql
from data import postgis_queries as pq
from data.bulk import Accounts, StoredObservation, TokenRecord, revision_to_row
from data.herds import HerdDecision, SightingColumns, sighting_columns_from_rows
from data.migrations import migrations_for
from data.outcomes import StoredState, classify_resend
from data.queries import rows_to_herd_counts
from data.sqlite import _check_editable  # the same messages on both backends
from data.tokens import hash_token
from domain.errors import BadDatabaseUrl, Conflict, Gone, NotFound
from domain.records import (
    FeaturePage,
    HerdCount,
    Observation,
    ObservationQuery,
    Outcome,
    Page,
    Period,
    Revision,
    Survey,
    User,
)
from domain.seasons import SeasonCalendar

_COLUMNS = ", ".join(_rows.OBSERVATION_COLUMNS)
_OBS_SELECT = f"SELECT {_COLUMNS} FROM observations"
# Listings skip the columns no Observation field is made from: a page of 1,000 rows then
# crosses the socket and decodes ~15% faster. Same positions, so row_to_observation reads it.
_UNREAD = ("local_date", "ea_x", "ea_y", "content_hash", "upload_hash")
_OBS_LISTING = (
    "SELECT "
    + ", ".join(f"NULL AS {c}" if c in _UNREAD else c for c in _rows.OBSERVATION_COLUMNS)
    + " FROM observations"
)
_DATA_VERSION = (
    "SELECT (SELECT COALESCE(MAX(seq), 0) FROM revisions), (SELECT COUNT(*) FROM revisions), "
    "(SELECT COUNT(*) FROM herd_decisions), (SELECT COUNT(*) FROM surveys)"
)
# What every write names: the columns, then the Feature text of migration 0004.
WRITE_COLUMNS: tuple[str, ...] = (*_rows.OBSERVATION_COLUMNS, "feature")
_WRITE = ", ".join(WRITE_COLUMNS)
_FEATURE_FILL_BATCH = 5000  # rows per UPDATE when migrate() fills in texts of older rows
_REV_COLUMNS = ", ".join(_rows.REVISION_COLUMNS)
_REV_INSERT = (
    f"INSERT INTO revisions ({_REV_COLUMNS}) "
    f"VALUES ({', '.join(['%s'] * len(_rows.REVISION_COLUMNS))})"
)
_SURVEY_COLUMNS = ", ".join(_rows.SURVEY_COLUMNS)
_SURVEY_SELECT = f"SELECT {_SURVEY_COLUMNS} FROM surveys"
_SURVEY_INSERT = (
    f"INSERT INTO surveys ({_SURVEY_COLUMNS}) "
    f"VALUES ({', '.join(['%s'] * len(_rows.SURVEY_COLUMNS))}) ON CONFLICT (id) DO NOTHING"
)
# Per connection, emptied at each commit: uploads arrive here by COPY first.
_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS incoming ON COMMIT DELETE ROWS AS "
    f"SELECT {_WRITE} FROM observations WITH NO DATA"
)
_REV_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS incoming_revisions ON COMMIT DELETE ROWS AS "
    f"SELECT {_REV_COLUMNS} FROM revisions WITH NO DATA"
)
_FROM_STAGE = f"INSERT INTO observations ({_WRITE}) SELECT {_WRITE} FROM incoming ORDER BY id"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_STATE_SELECT = (
    "SELECT id, status, revision, content_hash, upload_hash, observer FROM observations "
    "WHERE id = ANY(%s)"
)


class PostGISStore:
    """Production store: a pool of connections shared by one worker's threads."""

    def __init__(self, conninfo: str, *, schema: str | None = None, pool_size: int = 8) -> None:
        self.schema = schema
        self.url = _with_query(conninfo, schema=schema)  # open_store(self.url): this store
        options = "-c timezone=UTC"  # timestamptz come back as UTC datetimes, as in SQLite
        if schema is not None:
            # `public` after ours: PostGIS's functions and types live there.
            options += f" -c search_path={schema},public"
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            open=True,
            name="herdwatch",
            kwargs={"autocommit": True, "options": options, "application_name": _app_name(schema)},
            configure=_configure,
        )
        with self._pool.connection() as conn:
            current = conn.execute("SELECT current_schema()").fetchone()
        self._feed_lock = _lock_key(f"herdwatch-feed:{current[0] if current else ''}")
        self._migrate_lock = _lock_key(f"herdwatch-migrate:{current[0] if current else ''}")

    @classmethod
    def from_url(cls, url: str, *, schema: str | None = None) -> PostGISStore:
        """postgresql://user@host:port/db[?schema=name&pool_size=n].

        A schema (created when missing) keeps a store apart from others in one database;
        pool_size is connections per worker process (default 8).
        """
        conninfo, params = _split_query(url, ("schema", "pool_size"))
        schema = schema or params.get("schema")
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise BadDatabaseUrl(f"schema {schema!r} must be lower-case letters, digits and _")
        # A direct connection first: a wrong URL fails now, not after the pool's timeout.
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
            if schema is not None:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        return cls(conninfo, schema=schema, pool_size=int(params.get("pool_size", 8)))

    def drop_schema(self) -> None:
        """Drop this store's own schema and everything in it (tests, throwaway copies)."""
        if self.schema is None:
            raise ValueError("this store uses the default schema: refusing to drop it")
        with self._pool.connection() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction holding the feed lock shared (see the module docstring)."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (self._feed_lock,))
            yield conn

    def _read_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # Binary results: timestamps, uuids and floats decode faster than from text.
        with self._pool.connection() as conn, conn.cursor(binary=True) as cur:
            return cur.execute(sql, params).fetchall()

    def _read_one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._pool.connection() as conn:
            return conn.execute(sql, params).fetchone()

    # schema ---------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations; an advisory lock lets several workers start at once."""
        applied = []
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._migrate_lock,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)"
            )
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            for migration in migrations_for("postgis"):
                if migration.version in done:
                    continue
                conn.execute(migration.sql.encode())  # a script: no parameters, many statements
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, now())",
                    (migration.version, migration.name),
                )
                applied.append(f"{migration.version:04d}_{migration.name}")
            _fill_feature_texts(conn)
        return applied

    # observations -----------------------------------------------------------------------
    def add_observations(self, batch: Sequence[Observation], *, actor: str) -> list[Outcome]:
        hashes = [o.content_hash() for o in batch]
        with self._write() as conn:
            known = _stored_states(conn, list({o.id for o in batch}))
            fresh = _first_unknown(batch, hashes, known)
            new = [f[0] for f in fresh]
            inserted = self._insert(conn, new, [f[1] for f in fresh], actor)
            lost = [o.id for o in new if o.id not in inserted]  # another worker was first
            known.update(_stored_states(conn, lost))
            return _outcomes(conn, batch, hashes, inserted, known, actor)

    def _insert(
        self, conn: psycopg.Connection[Any], new: list[Observation], hashes: list[str], actor: str
    ) -> set[UUID]:
        """Insert what no one else inserted first; returns the ids this transaction stored."""
        if not new:
            return set()
        seqs = _next_seqs(conn, len(new))
        now = _rows.now_utc()
        stamp = _rows.utc_text(now)
        rows = _rows.new_observation_rows(new, actor=actor, now=now, seqs=seqs, hashes=hashes)
        with conn.cursor() as cur:
            # COPY into a staging table and one INSERT ... SELECT: a round trip per batch,
            # not per row. ORDER BY id gives every worker one lock order: no deadlocks.
            cur.execute(_STAGE)
            with cur.copy(f"COPY incoming ({_WRITE}) FROM STDIN") as copy:
                for row in with_feature_texts(rows):
                    copy.write_row(row)
            cur.execute(_FROM_STAGE + " ON CONFLICT (id) DO NOTHING RETURNING id")
            inserted = {r[0] for r in cur.fetchall()}
            revisions = [
                _rows.revision_row(s, o, "create", actor, None, at_text=stamp)
                for s, o in zip(seqs, new, strict=True)
                if o.id in inserted
            ]
            with cur.copy(f"COPY revisions ({_REV_COLUMNS}) FROM STDIN") as copy:
                for revision in revisions:
                    copy.write_row(revision)
        return inserted

    def get_observation(self, observation_id: UUID) -> Observation:
        with self._pool.connection() as conn:
            return _load(conn, observation_id)

    def query_observations(self, query: ObservationQuery) -> Page:
        rows = self._listing_rows(query)
        items = [_rows.row_to_observation(r) for r in rows[: query.limit]]
        return Page(items, _rows.next_cursor(rows, query.limit))

    def query_features(self, query: ObservationQuery) -> FeaturePage:
        """The page from each row's stored Feature text (migration 0004), joined."""
        rows = self._listing_rows(query, pq.FEATURE_LISTING)
        page = [feature for _, _, feature in rows[: query.limit]]
        if None in page:  # stored before migration 0004 and not filled in yet
            return _rows.rows_to_feature_page(self._listing_rows(query), query.limit)
        cursor = _rows.next_cursor(rows, query.limit)
        return FeaturePage(f"[{','.join(page)}]".encode(), len(page), cursor)

    def _listing_rows(
        self, query: ObservationQuery, select: str = _OBS_LISTING
    ) -> list[tuple[Any, ...]]:
        """One page in (observed_at, id) order, plus one row to tell whether more follow."""
        sql, params = pq.listing_sql(select, query)
        return self._read_all(sql, params)

    def count_observations(self, query: ObservationQuery) -> int:
        where, params = pq.postgis_where(query)
        row = self._read_one(f"SELECT COUNT(*) FROM observations {pq.where_clause(where)}", params)
        return int(row[0]) if row else 0

    def update_observation(
        self, observation_id: UUID, changes: dict[str, Any], *, base_revision: int, actor: str
    ) -> Observation:
        with self._write() as conn:
            current = _load(conn, observation_id, for_update=True)
            _check_editable(current, base_revision)
            edited = replace(
                current, **changes, revision=current.revision + 1, updated_at=_rows.now_utc()
            )
            if "lon" in changes or "lat" in changes:
                edited = _rows.tag_observations([edited])[0]
            _rewrite(conn, current, edited, "edit", actor, None)
        return edited

    def retract_observation(
        self, observation_id: UUID, *, actor: str, reason: str | None = None
    ) -> Observation:
        with self._write() as conn:
            current = _load(conn, observation_id, for_update=True)
            if current.status == "retracted":
                raise Gone(f"observation {observation_id} is already retracted", field="id")
            retracted = replace(
                current,
                status="retracted",
                revision=current.revision + 1,
                updated_at=_rows.now_utc(),
            )
            _rewrite(conn, current, retracted, "retract", actor, reason)
        return retracted

    def history(self, observation_id: UUID) -> list[Revision]:
        rows = self._read_all(
            f"SELECT {_REV_COLUMNS} FROM revisions WHERE observation_id = %s ORDER BY revision",
            (observation_id,),
        )
        if not rows:
            raise NotFound(f"no observation with id {observation_id}", field="id")
        revisions = [_rows.row_to_revision(r) for r in rows]
        return _rows.with_create_snapshots(revisions, self.get_observation(observation_id))

    def changes_since(
        self, cursor: int, *, limit: int, observer: str | None = None
    ) -> tuple[list[Observation], int]:
        mine = "AND observer = %s" if observer is not None else ""
        params = (cursor, observer, limit) if observer is not None else (cursor, limit)
        with self._pool.connection() as conn, conn.transaction():
            # Wait for writers in flight, so no smaller change_seq can commit after we read.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._feed_lock,))
            rows = conn.execute(
                f"{_OBS_SELECT} WHERE change_seq > %s {mine} ORDER BY change_seq LIMIT %s", params
            ).fetchall()
        next_cursor = int(rows[-1][-1]) if rows else cursor
        return [_rows.row_to_observation(r) for r in rows], next_cursor

    def herd_counts(
        self,
        query: ObservationQuery,
        *,
        every: Period,
        by: str = "population",
        cell_size_m: float = 50_000.0,
        seasons: SeasonCalendar | None = None,
    ) -> list[HerdCount]:
        where, params = pq.postgis_where(query)
        period_sql, period_params = pq.period_expression(every, seasons or SeasonCalendar())
        key_sql, key_params = pq.key_expression(by, cell_size_m)
        sql = pq.herd_count_sql(period_sql, key_sql, pq.where_clause(where))
        rows = self._read_all(sql, [*period_params, *key_params, *params])
        return rows_to_herd_counts(rows, by=by, cell_size_m=cell_size_m)

    def sighting_columns(self, query: ObservationQuery) -> SightingColumns:
        where, params = pq.postgis_where(query)
        sql = f"{pq.SIGHTING_SELECT} {pq.where_clause(where)} ORDER BY observed_at, id"
        return sighting_columns_from_rows(self._read_all(sql, params))

    # herd decisions -------------------------------------------------------------------------
    def add_herd_decision(self, decision: HerdDecision) -> HerdDecision:
        stamped = replace(decision, decided_at=_rows.now_utc())
        columns = ", ".join(herd_sql.DECISION_COLUMNS[1:])
        with self._pool.connection() as conn:
            row = conn.execute(
                f"INSERT INTO herd_decisions ({columns}) VALUES (%s, %s, %s, %s, %s, %s) "
                "RETURNING id",
                herd_sql.decision_params(stamped),
            ).fetchone()
        return replace(stamped, id=int(row[0]) if row else None)

    def list_herd_decisions(self) -> list[HerdDecision]:
        rows = self._read_all(
            f"SELECT {', '.join(herd_sql.DECISION_COLUMNS)} FROM herd_decisions ORDER BY id"
        )
        return [herd_sql.row_to_decision(r) for r in rows]

    def data_version(self) -> tuple[int, ...]:
        row = self._read_one(_DATA_VERSION)
        return tuple(int(v) for v in row) if row else (0, 0, 0, 0)

    # surveys ------------------------------------------------------------------------------
    def add_survey(self, survey: Survey) -> Outcome:
        with self._pool.connection() as conn, conn.transaction():
            stamped = replace(survey, created_at=_rows.now_utc())
            if conn.execute(_SURVEY_INSERT, _rows.survey_row(stamped)).rowcount == 1:
                return Outcome(UUID(int=0), "created", message=survey.id)
            row = conn.execute("SELECT content_hash FROM surveys WHERE id = %s", (survey.id,))
            if (stored := row.fetchone()) is not None and stored[0] == survey.content_hash():
                return Outcome(UUID(int=0), "unchanged", message=survey.id)
        raise Conflict(f"survey {survey.id} already exists with other content", field="id")

    def get_survey(self, survey_id: str) -> Survey:
        row = self._read_one(_SURVEY_SELECT + " WHERE id = %s", (survey_id,))
        if row is None:
            raise NotFound(f"no survey with id {survey_id!r}", field="id")
        return _rows.row_to_survey(row)

    def list_surveys(self, *, limit: int = 100, after: str | None = None) -> list[Survey]:
        rows = self._read_all(
            _SURVEY_SELECT + " WHERE id > %s ORDER BY id LIMIT %s", (after or "", limit)
        )
        return [_rows.row_to_survey(r) for r in rows]

    # users and tokens ---------------------------------------------------------------------
    def add_user(self, name: str, role: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._pool.connection() as conn, conn.transaction():
            created = conn.execute(
                "INSERT INTO users VALUES (%s, %s, true, now()) ON CONFLICT (name) DO NOTHING",
                (name, role),
            )
            if created.rowcount == 0:
                raise Conflict(f"user {name!r} already exists", field="name")
            conn.execute(
                "INSERT INTO tokens VALUES (%s, %s, now(), NULL)", (hash_token(token), name)
            )
        return token

    def add_token(self, name: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._pool.connection() as conn, conn.transaction():
            inserted = conn.execute(
                "INSERT INTO tokens SELECT %s, name, now(), NULL FROM users "
                "WHERE name = %s AND active",
                (hash_token(token), name),
            )
            if inserted.rowcount == 0:
                raise NotFound(f"no active user {name!r}", field="name")
        return token

    def revoke_token(self, token: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE tokens SET revoked_at = now() WHERE token_hash = %s AND revoked_at IS NULL",
                (hash_token(token),),
            )

    def user_for_token(self, token: str) -> User | None:
        row = self._read_one(
            "SELECT u.name, u.role, u.active, u.created_at FROM tokens t "
            "JOIN users u ON u.name = t.user_name "
            "WHERE t.token_hash = %s AND t.revoked_at IS NULL AND u.active",
            (hash_token(token),),
        )
        return User(row[0], row[1], row[2], row[3]) if row else None

    def list_users(self) -> list[User]:
        rows = self._read_all("SELECT name, role, active, created_at FROM users ORDER BY name")
        return [User(r[0], r[1], r[2], r[3]) for r in rows]

    def revoke_user(self, name: str) -> None:
        with self._pool.connection() as conn, conn.transaction():
            revoked = conn.execute("UPDATE users SET active = false WHERE name = %s", (name,))
            if revoked.rowcount == 0:
                raise NotFound(f"no user {name!r}", field="name")
            conn.execute(
                "UPDATE tokens SET revoked_at = now() WHERE user_name = %s AND revoked_at IS NULL",
                (name,),
            )

    # bulk -----------------------------------------------------------------------------
    def iter_all_observations(self, *, batch_size: int = 5000) -> Iterator[list[Observation]]:
        for chunk in self.export_observations(batch_size=batch_size):
            yield [item.observation for item in chunk]

    def export_observations(self, *, batch_size: int = 5000) -> Iterator[list[StoredObservation]]:
        """Every observation with its bookkeeping, in id order, a batch at a time."""
        after = UUID(int=0)
        while True:
            rows = self._read_all(
                f"{_OBS_SELECT} WHERE id > %s ORDER BY id LIMIT %s", (after, batch_size)
            )
            if not rows:
                return
            after = rows[-1][0]
            yield [StoredObservation(_rows.row_to_observation(r), r[-2], int(r[-1])) for r in rows]

    def iter_all_revisions(self, *, batch_size: int = 5000) -> Iterator[list[Revision]]:
        after = 0
        while True:
            rows = self._read_all(
                f"SELECT {_REV_COLUMNS} FROM revisions WHERE seq > %s ORDER BY seq LIMIT %s",
                (after, batch_size),
            )
            if not rows:
                return
            after = rows[-1][0]
            yield [_rows.row_to_revision(r) for r in rows]

    def iter_all_surveys(self, *, batch_size: int = 5000) -> Iterator[list[Survey]]:
        after = ""
        while batch := self.list_surveys(limit=batch_size, after=after):
            after = batch[-1].id
            yield batch

    def import_observations(self, items: Sequence[StoredObservation]) -> int:
        """Copy records as they are (ids, revisions, hashes, timestamps, change_seq).

        A record already here is replaced only by a later revision of itself, so a re-run
        is a no-op and a re-run after edits at the source brings them over.
        """
        if not items:
            return 0
        rows = _rows.observation_rows(
            [i.observation for i in items],
            seqs=[i.change_seq for i in items],
            upload_hashes=[i.upload_hash for i in items],
        )
        updates = ", ".join(f"{c} = excluded.{c}" for c in WRITE_COLUMNS[1:])
        with self._write() as conn, conn.cursor() as cur:
            cur.execute(_STAGE)
            with cur.copy(f"COPY incoming ({_WRITE}) FROM STDIN") as copy:
                for row in with_feature_texts(rows):
                    copy.write_row(row)
            cur.execute(
                f"{_FROM_STAGE} ON CONFLICT (id) DO UPDATE SET {updates} "
                "WHERE observations.revision < excluded.revision"
            )
            return max(cur.rowcount, 0)

    def import_revisions(self, revisions: Sequence[Revision]) -> int:
        """Copy audit entries with their sequence numbers; ones already here are kept."""
        if not revisions:
            return 0
        rows = [revision_to_row(r) for r in revisions]
        with self._write() as conn:
            with conn.cursor() as cur:
                cur.execute(_REV_STAGE)
                with cur.copy(f"COPY incoming_revisions ({_REV_COLUMNS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cur.execute(
                    f"INSERT INTO revisions ({_REV_COLUMNS}) SELECT {_REV_COLUMNS} "
                    "FROM incoming_revisions ORDER BY seq ON CONFLICT DO NOTHING"
                )
                copied = max(cur.rowcount, 0)
            # New revisions made here must number after the copied ones.
            conn.execute(
                "SELECT setval('revision_seq', GREATEST((SELECT MAX(seq) FROM revisions), "
                "(SELECT last_value FROM revision_seq)))"
            )
        return copied

    def import_surveys(self, surveys: Sequence[Survey]) -> int:
        """Copy surveys with their creation times; ones already here are kept."""
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(_SURVEY_INSERT, [_rows.survey_row(s) for s in surveys])
            return max(cur.rowcount, 0)

    def export_accounts(self) -> Accounts:
        """Users and token hashes (tokens themselves are never stored anywhere)."""
        tokens = self._read_all(
            "SELECT token_hash, user_name, created_at, revoked_at FROM tokens ORDER BY token_hash"
        )
        return Accounts(self.list_users(), [TokenRecord(*t) for t in tokens])

    def import_accounts(self, accounts: Accounts) -> None:
        """Copy users and token hashes; ones already here are kept as they are."""
        users = [(u.name, u.role, u.active, u.created_at) for u in accounts.users]
        tokens = [(t.token_hash, t.user_name, t.created_at, t.revoked_at) for t in accounts.tokens]
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            values = "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
            if users:
                cur.executemany(f"INSERT INTO users {values}", users)
            if tokens:
                cur.executemany(f"INSERT INTO tokens {values}", tokens)

    def import_herd_decisions(self, decisions: Sequence[HerdDecision]) -> int:
        """Copy decisions with their ids and times; ones already here are kept."""
        columns = ", ".join(herd_sql.DECISION_COLUMNS)
        rows = [(d.id, *herd_sql.decision_params(d)) for d in decisions]
        marks = ", ".join(["%s"] * len(herd_sql.DECISION_COLUMNS))
        with self._pool.connection() as conn, conn.transaction():
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO herd_decisions ({columns}) OVERRIDING SYSTEM VALUE "
                    f"VALUES ({marks}) ON CONFLICT (id) DO NOTHING",
                    rows,
                )
                copied = max(cur.rowcount, 0)
            # Decisions made here later must number after the copied ones.
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('herd_decisions', 'id'), MAX(id)) "
                "FROM herd_decisions HAVING MAX(id) IS NOT NULL"
            )
        return copied

    def close(self) -> None:
        self._pool.close()


def _split_query(url: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """Take our own parameters out of a URL's query; libpq would refuse them."""
    parts = urlsplit(url)
    ours = {k: v for k, v in parse_qsl(parts.query) if k in names}
    theirs = [(k, v) for k, v in parse_qsl(parts.query) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(theirs))), ours


def _with_query(url: str, **params: str | None) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query) + [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _configure(conn: psycopg.Connection[Any]) -> None:
    set_json_loads(_json_loads, conn)


@lru_cache(maxsize=1024)
def _short_json(data: bytes) -> Any:
    return json.loads(data)


def _json_loads(data: bytes | bytearray | memoryview | str) -> Any:
    """json.loads, with short lists (flags, teams, id lists) decoded once and then copied.

    Every row of a listing carries a flags array, nearly always one of a few; decoding each
    afresh was a fifth of the time of a 1,000-row page.
    """
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if len(raw) > 200 or not raw.startswith(b"["):
        return json.loads(raw)
    return list(_short_json(raw))  # a fresh list: callers may keep or change it


def _app_name(schema: str | None) -> str:
    """Names each worker's connections in pg_stat_activity: herdwatch:<pid>[:<schema>]."""
    return f"herdwatch:{os.getpid()}" + (f":{schema}" if schema else "")


def _lock_key(text: str) -> int:
    """A stable signed 64-bit advisory-lock key, one per schema."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def _stored_states(conn: psycopg.Connection[Any], ids: list[UUID]) -> dict[UUID, StoredState]:
    if not ids:
        return {}
    rows = conn.execute(_STATE_SELECT, (ids,)).fetchall()
    return {r[0]: StoredState(*r[1:]) for r in rows}


def _first_unknown(
    batch: Sequence[Observation], hashes: list[str], known: dict[UUID, StoredState]
) -> list[tuple[Observation, str]]:
    """The first occurrence of each id not stored yet (later ones are re-sends of it)."""
    seen: set[UUID] = set()
    fresh = []
    for obs, content_hash in zip(batch, hashes, strict=True):
        if obs.id not in known and obs.id not in seen:
            fresh.append((obs, content_hash))
        seen.add(obs.id)
    return fresh


def _next_seqs(conn: psycopg.Connection[Any], n: int) -> list[int]:
    if n == 0:
        return []
    rows = conn.execute("SELECT nextval('revision_seq') FROM generate_series(1, %s)", (n,))
    return sorted(int(r[0]) for r in rows)


def _outcomes(
    conn: psycopg.Connection[Any],
    batch: Sequence[Observation],
    hashes: list[str],
    inserted: set[UUID],
    known: dict[UUID, StoredState],
    actor: str,
) -> list[Outcome]:
    """One outcome per uploaded record, in batch order, as SQLite reports them."""
    outcomes = []
    created: set[UUID] = set()
    for obs, incoming_hash in zip(batch, hashes, strict=True):
        if obs.id in inserted and obs.id not in created:
            created.add(obs.id)
            owner = obs.observer or actor
            known[obs.id] = StoredState("active", 1, incoming_hash, incoming_hash, owner)
            outcomes.append(Outcome(obs.id, "created", 1))
            continue
        owned = replace(obs, observer=obs.observer or actor)
        load = partial(_load, conn, obs.id)
        outcomes.append(classify_resend(owned, incoming_hash, known[obs.id], load))
    return outcomes


def _load(
    conn: psycopg.Connection[Any], observation_id: UUID, *, for_update: bool = False
) -> Observation:
    lock = " FOR UPDATE" if for_update else ""
    row = conn.execute(f"{_OBS_SELECT} WHERE id = %s{lock}", (observation_id,)).fetchone()
    if row is None:
        raise NotFound(f"no observation with id {observation_id}", field="id")
    return _rows.row_to_observation(row)


def _rewrite(
    conn: psycopg.Connection[Any],
    before: Observation,
    after: Observation,
    action: str,
    actor: str,
    reason: str | None,
) -> None:
    [seq] = _next_seqs(conn, 1)
    stored = conn.execute(
        "SELECT upload_hash FROM observations WHERE id = %s", (before.id,)
    ).fetchone()
    upload_hash = stored[0] if stored else after.content_hash()
    [row] = with_feature_texts(
        _rows.observation_rows([after], seqs=[seq], upload_hashes=[upload_hash])
    )
    columns = WRITE_COLUMNS[1:]
    conn.execute(
        f"UPDATE observations SET {', '.join(c + ' = %s' for c in columns)} WHERE id = %s",
        (*row[1:], row[0]),
    )
    conn.execute(_REV_INSERT, _rows.revision_row(seq, after, action, actor, before, reason))


def with_feature_texts(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows in WRITE_COLUMNS order: each row with its Feature text (migration 0004)."""
    return [(*row, text) for row, text in zip(rows, _rows.feature_texts(rows), strict=True)]


def _fill_feature_texts(conn: psycopg.Connection[Any]) -> int:
    """Write the Feature text of rows stored without one (before migration 0004)."""
    filled = 0
    while rows := conn.execute(
        f"{_OBS_SELECT} WHERE feature IS NULL LIMIT {_FEATURE_FILL_BATCH}"
    ).fetchall():
        texts = _rows.feature_texts(rows)
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE observations SET feature = %s WHERE id = %s",
                [(text, row[0]) for row, text in zip(rows, texts, strict=True)],
            )
        filled += len(rows)
    return filled
