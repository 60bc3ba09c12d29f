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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

from data import postgis_queries as pq
from data import rows
from data.bulk import StoredObservation
from data.migrations import Migration
from data.outcomes import StoredState, classify_resend
from data.sql_shared import READ_PARTS, observation_where, read_in_parts, split_range, where_clause
from data.sql_store import Progress, SQLStore
from data.tables import HERD_DECISIONS, OBSERVATIONS, REVISIONS
from domain.errors import BadDatabaseUrl
from domain.i18n import Message
from domain.records import FeaturePage, Observation, ObservationQuery, Outcome, Revision
from domain.wire import FEATURE_VERSION

# What every write names: the table's columns, then the Feature text of migration 0004 and
# the version of the format it was written in (0005).
WRITE_COLUMNS: tuple[str, ...] = (*OBSERVATIONS.columns, "feature", "feature_version")
_WRITE = ", ".join(WRITE_COLUMNS)
_REV_COLUMNS = ", ".join(REVISIONS.columns)
FEATURE_REFRESH_BATCH = 5000  # rows per transaction when migrate() rewrites older texts
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
# A listing page: each row's stored Feature text when it is in the current format (else
# NULL, and the page is built from the columns), with what the next-page cursor needs.
FEATURE_LISTING = (
    "SELECT id, observed_at, CASE WHEN feature_version = "
    f"{FEATURE_VERSION} THEN feature END FROM observations"
)
_STALE = f"(feature IS NULL OR feature_version <> {FEATURE_VERSION})"
_CHANGE_SEQ = OBSERVATIONS.index["change_seq"]


class PostGISStore(SQLStore):
    """Production store: a pool of connections shared by one worker's threads."""

    dialect = pq.POSTGIS
    mark = pq.POSTGIS.mark
    write_columns = WRITE_COLUMNS
    _for_update = " FOR UPDATE"  # several workers: an edit locks the row it rewrites
    _migrations_table = (
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)"
    )

    def __init__(self, conninfo: str, *, schema: str | None = None, pool_size: int = 8) -> None:
        self.schema = schema
        self.url = _with_query(conninfo, schema=schema)  # open_store(self.url): this store
        options = "-c timezone=UTC"  # timestamptz come back as UTC datetimes, as in SQLite
        if schema is not None:
            # `public` after ours: PostGIS's functions and types live there.
            options += f" -c search_path={schema},public"
        self._conninfo = make_conninfo(
            conninfo, options=options, application_name=_app_name(schema)
        )
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
            raise BadDatabaseUrl(
                Message(
                    "schema {schema} must be lower-case letters, digits and _", schema=repr(schema)
                )
            )
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

    @contextmanager
    def _feed_read(self) -> Iterator[psycopg.Connection[Any]]:
        with self._pool.connection() as conn, conn.transaction():
            # Wait for writers in flight, so no smaller change_seq can commit after we read.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._feed_lock,))
            yield conn

    @contextmanager
    def _migrating(self) -> Iterator[psycopg.Connection[Any]]:
        """An advisory lock lets several workers start (and migrate) at once."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._migrate_lock,))
            yield conn

    def _run_script(self, conn: psycopg.Connection[Any], migration: Migration) -> None:
        conn.execute(migration.sql.encode())  # a script: no parameters, many statements

    def _many(self, conn: psycopg.Connection[Any], sql: str, values: Iterable[Any]) -> int:
        batch = list(values)
        if not batch:
            return 0
        with conn.cursor() as cur:
            cur.executemany(sql, batch)
            return max(cur.rowcount, 0)

    def _next_seqs(self, conn: psycopg.Connection[Any], n: int) -> list[int]:
        return _next_seqs(conn, n)

    def _sighting_table(self, query: ObservationQuery) -> Any:
        """The sighting columns through ADBC's PostgreSQL driver: binary COPY decoded into
        Arrow columns in C, where psycopg built a Python object per value. Parameters are
        merged by psycopg (COPY takes none); no ORDER BY: sorted in numpy, as SQLite's.

        Read in READ_PARTS ranges of the table's pages (TID range scans), each a COPY on a
        connection of its own, on as many threads: the server encodes and the driver
        decodes two halves at once. The first connection exports its snapshot and the
        others read in it (as pg_dump's parallel jobs do), so the parts are one state."""
        import adbc_driver_postgresql.dbapi as adbc

        where, params = observation_where(pq.POSTGIS, query)
        with ExitStack() as stack:
            cursors, pages = self._snapshot_cursors(stack, adbc)
            ranges = split_range(0, pages, len(cursors))
            conditions = [_pages(r, last=k == len(ranges) - 1) for k, r in enumerate(ranges)]
            with self._pool.connection() as conn:
                merged = [
                    psycopg.ClientCursor(conn).mogrify(
                        f"{pq.SIGHTING_SELECT} {where_clause([*where, condition])}", params
                    )
                    for condition in conditions
                ]

            def read_part(k: int) -> Any:
                cursors[k].execute(merged[k])
                return cursors[k].fetch_arrow_table()

            return read_in_parts(read_part, len(cursors))

    def _snapshot_cursors(self, stack: ExitStack, adbc: Any) -> tuple[list[Any], int]:
        """Cursors in repeatable-read transactions sharing one snapshot (READ_PARTS of them,
        one before PostgreSQL 14, which has no TID range scan: each part would read the
        whole table), and the table's size in pages in it."""
        first = self._read_only_cursor(stack, adbc)
        first.execute(
            "SELECT pg_export_snapshot(), "
            "pg_relation_size('observations') / current_setting('block_size')::int, "
            "current_setting('server_version_num')::int"
        )
        snapshot, pages, version = first.fetchone()
        cursors = [first]
        for _ in range(READ_PARTS - 1 if version >= 140000 else 0):
            cursors.append(self._read_only_cursor(stack, adbc))
            cursors[-1].execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        return cursors, int(pages)

    def _read_only_cursor(self, stack: ExitStack, adbc: Any) -> Any:
        con = stack.enter_context(adbc.connect(self._conninfo))  # autocommit off: a transaction
        cursor = stack.enter_context(con.cursor())
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return cursor

    def _with_write_columns(self, found: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        return with_feature_texts(found)

    def _insert_decisions(self) -> str:
        # Copied ids are kept: the identity column takes them only when told to.
        return self._insert_new(HERD_DECISIONS).replace(
            " VALUES ", " OVERRIDING SYSTEM VALUE VALUES ", 1
        )

    def _after_decisions_copied(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('herd_decisions', 'id'), MAX(id)) "
            "FROM herd_decisions HAVING MAX(id) IS NOT NULL"
        )

    def refresh_feature_texts(self, progress: Progress | None = None) -> int:
        """Write the Feature text of rows stored without one or in an older format.

        A batch a transaction, in id order, so a crash midway loses at most one batch and
        the next run goes on with what is left. A row changed meanwhile (its change_seq
        moved) already has a fresh text from that write and is left alone.
        """
        total = self._read_one(f"SELECT COUNT(*) FROM observations WHERE {_STALE}")
        left = int(total[0]) if total else 0
        done, after = 0, ""
        while left and (batch := self._stale_batch(after)):
            with self._write() as conn, conn.cursor() as cur:
                cur.executemany(
                    "UPDATE observations SET feature = %s, feature_version = %s "
                    "WHERE id = %s AND change_seq = %s",
                    [
                        (text, FEATURE_VERSION, row[0], row[_CHANGE_SEQ])
                        for row, text in zip(batch, rows.feature_texts(batch), strict=True)
                    ],
                )
            done += len(batch)
            after = str(batch[-1][0])
            if progress is not None:
                progress(done, max(left, done))
        return done

    def _stale_batch(self, after: str) -> list[Any]:
        keyset = "AND id > %s " if after else ""
        return self._read_all(
            f"{OBSERVATIONS.select()} WHERE {_STALE} {keyset}ORDER BY id LIMIT %s",
            ([after] if after else []) + [FEATURE_REFRESH_BATCH],
        )

    # observations -----------------------------------------------------------------------
    def add_observations(
        self, batch: Sequence[Observation], *, actor: str, reason: str | None = None
    ) -> list[Outcome]:
        with self._write() as conn:
            return self._add_in(conn, batch, actor, reason)

    def _add_in(
        self,
        conn: psycopg.Connection[Any],
        batch: Sequence[Observation],
        actor: str,
        reason: str | None,
    ) -> list[Outcome]:
        """Classify and insert one batch inside the open write transaction `conn`."""
        hashes = [o.content_hash() for o in batch]
        known = _stored_states(conn, list({o.id for o in batch}))
        fresh = _first_unknown(batch, hashes, known)
        new = [f[0] for f in fresh]
        inserted = self._insert(conn, new, [f[1] for f in fresh], actor, reason)
        lost = [o.id for o in new if o.id not in inserted]  # another worker was first
        known.update(_stored_states(conn, lost))
        load = partial(self._load, conn)
        return _outcomes(batch, hashes, inserted, known, actor, load)

    def _insert(
        self,
        conn: psycopg.Connection[Any],
        new: list[Observation],
        hashes: list[str],
        actor: str,
        reason: str | None = None,
    ) -> set[UUID]:
        """Insert what no one else inserted first; returns the ids this transaction stored."""
        if not new:
            return set()
        seqs = _next_seqs(conn, len(new))
        now = rows.now_utc()
        stamp = rows.utc_text(now)
        fresh = rows.new_observation_rows(new, actor=actor, now=now, seqs=seqs, hashes=hashes)
        with conn.cursor() as cur:
            # COPY into a staging table and one INSERT ... SELECT: a round trip per batch,
            # not per row. ORDER BY id gives every worker one lock order: no deadlocks.
            cur.execute(_STAGE)
            with cur.copy(f"COPY incoming ({_WRITE}) FROM STDIN") as copy:
                for row in with_feature_texts(fresh):
                    copy.write_row(row)
            cur.execute(_FROM_STAGE + " ON CONFLICT (id) DO NOTHING RETURNING id")
            inserted = {r[0] for r in cur.fetchall()}
            revisions = [
                rows.revision_row(s, o, "create", actor, None, reason, at_text=stamp)
                for s, o in zip(seqs, new, strict=True)
                if o.id in inserted
            ]
            with cur.copy(f"COPY revisions ({_REV_COLUMNS}) FROM STDIN") as copy:
                for revision in revisions:
                    copy.write_row(revision)
        return inserted

    def query_features(self, query: ObservationQuery) -> FeaturePage:
        """The page from each row's stored Feature text (migration 0004), joined."""
        found = self._listing_rows(query, FEATURE_LISTING)
        page = [feature for _, _, feature in found[: query.limit]]
        if None in page:  # a text not written yet, or in an older format: not refreshed yet
            return super().query_features(query)
        cursor = rows.next_cursor(found, query.limit)
        return FeaturePage(f"[{','.join(page)}]".encode(), len(page), cursor)

    def import_observations(self, items: Sequence[StoredObservation]) -> int:
        """Copy records as they are (ids, revisions, hashes, timestamps, change_seq).

        A record already here is replaced only by a later revision of itself, so a re-run
        is a no-op and a re-run after edits at the source brings them over.
        """
        if not items:
            return 0
        copies = rows.observation_rows(
            [i.observation for i in items],
            seqs=[i.change_seq for i in items],
            upload_hashes=[i.upload_hash for i in items],
        )
        updates = ", ".join(f"{c} = excluded.{c}" for c in WRITE_COLUMNS[1:])
        with self._write() as conn, conn.cursor() as cur:
            cur.execute(_STAGE)
            with cur.copy(f"COPY incoming ({_WRITE}) FROM STDIN") as copy:
                for row in with_feature_texts(copies):
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
        copies = [rows.revision_to_row(r) for r in revisions]
        with self._write() as conn:
            with conn.cursor() as cur:
                cur.execute(_REV_STAGE)
                with cur.copy(f"COPY incoming_revisions ({_REV_COLUMNS}) FROM STDIN") as copy:
                    for row in copies:
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

    def close(self) -> None:
        self._pool.close()


def _split_query(url: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """Take our own parameters out of a URL's query; libpq would refuse them."""
    parts = urlsplit(url)
    ours = {k: v for k, v in parse_qsl(parts.query) if k in names}
    theirs = [(k, v) for k, v in parse_qsl(parts.query) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(theirs))), ours


def _pages(pages: tuple[int, int], last: bool) -> str:
    """The rows on pages start..end (inclusive) as a TID range; the last part is
    open-ended, so pages added since the table's size was read are not missed."""
    start, end = pages
    below = "" if last else f" AND ctid < '({end + 1},0)'::tid"
    return f"ctid >= '({start},0)'::tid{below}"


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
    batch: Sequence[Observation],
    hashes: list[str],
    inserted: set[UUID],
    known: dict[UUID, StoredState],
    actor: str,
    load: Callable[[UUID], Observation],
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
        current = partial(load, obs.id)
        outcomes.append(classify_resend(owned, incoming_hash, known[obs.id], current))
    return outcomes


def with_feature_texts(found: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows in WRITE_COLUMNS order: each with its Feature text (0004) and format (0005)."""
    texts = rows.feature_texts(found)
    return [(*row, text, FEATURE_VERSION) for row, text in zip(found, texts, strict=True)]
