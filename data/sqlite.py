"""SQLiteStore: the embedded default backend (stdlib sqlite3, WAL, one writer)."""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from data import _rows, herd_sql, queries
from data.bulk import Accounts, StoredObservation, TokenRecord, revision_to_row
from data.file_lock import WriterFileLock
from data.group_commit import GroupCommitter
from data.herds import HerdDecision, SightingColumns, sighting_columns_from_rows
from data.migrations import migrations_for
from data.outcomes import StoredState, classify_resend
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

_OBS_SELECT = "SELECT " + ", ".join(_rows.OBSERVATION_COLUMNS) + " FROM observations"
_DATA_VERSION = (
    "SELECT (SELECT COALESCE(MAX(seq), 0) FROM revisions), (SELECT COUNT(*) FROM revisions), "
    "(SELECT COUNT(*) FROM herd_decisions), (SELECT COUNT(*) FROM surveys)"
)
_OBS_INSERT = (
    f"INSERT INTO observations ({', '.join(_rows.OBSERVATION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_rows.OBSERVATION_COLUMNS))})"
)
_REV_INSERT = (
    f"INSERT INTO revisions ({', '.join(_rows.REVISION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_rows.REVISION_COLUMNS))})"
)
# Listings read neither the period, grid nor hash columns: skipping them is a third less to fetch.
_LISTING_UNREAD = ("local_date", "ea_x", "ea_y", "content_hash", "upload_hash", "change_seq")
_OBS_LISTING = (
    "SELECT "
    + ", ".join(f"NULL AS {c}" if c in _LISTING_UNREAD else c for c in _rows.OBSERVATION_COLUMNS)
    + " FROM observations"
)
_SURVEY_SELECT = "SELECT " + ", ".join(_rows.SURVEY_COLUMNS) + " FROM surveys"
READER_MMAP_BYTES = 1 << 30
_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit


class SQLiteStore:
    """Embedded store: one write connection behind a lock, one read-only connection per thread."""

    def __init__(self, path: str, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self._synchronous = synchronous
        self._write_lock = threading.Lock()
        self._file_lock = WriterFileLock(path)
        self._readers: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._writer = self._connect(readonly=False)
        self._committer = GroupCommitter(self._write)

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """sqlite:///relative.db or sqlite:////absolute/path.db."""
        path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
        if not path or path == ":memory:":
            raise BadDatabaseUrl("a SQLite store needs a file path (readers and writer share it)")
        return cls(path)

    def _connect(self, *, readonly: bool) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        con.execute("PRAGMA busy_timeout = 10000")
        con.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on disk before we acknowledge it, so an ack is never lost.
        con.execute(f"PRAGMA synchronous = {self._synchronous}")
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA cache_size = -65536")
        if readonly:
            con.execute("PRAGMA query_only = 1")
            # Readers map the file: a listing page touches ~1,400 scattered pages, and a
            # mapped page costs no read() call and no copy (14 → 9 ms per page in
            # bench/query.py). Address space only; the OS shares the pages between threads.
            con.execute(f"PRAGMA mmap_size = {READER_MMAP_BYTES}")
        return con

    def _reader(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = self._connect(readonly=True)
            self._local.con = con
            with self._write_lock:
                self._readers.append(con)
        return con

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction at a time, across threads and worker processes (the file
        lock orders this store's processes; BEGIN IMMEDIATE also holds off any other)."""
        with self._write_lock, self._file_lock:
            con = self._writer
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # schema ---------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        applied = []
        with self._write() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {r[0] for r in con.execute("SELECT version FROM schema_migrations")}
            for migration in migrations_for("sqlite"):
                if migration.version in done:
                    continue
                for statement in _split_sql(migration.sql):
                    con.execute(statement)
                con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (migration.version, migration.name, _rows.utc_text(_rows.now_utc())),
                )
                applied.append(f"{migration.version:04d}_{migration.name}")
        return applied

    # observations -----------------------------------------------------------------------
    def add_observations(self, batch: Sequence[Observation], *, actor: str) -> list[Outcome]:
        observed = [_rows.utc_text(o.observed_at) for o in batch]
        hashes = [o.content_hash(t) for o, t in zip(batch, observed, strict=True)]
        ids = [str(o.id) for o in batch]
        # Rows are built here, in the caller's thread: the one writer thread that every
        # upload queues for then only looks up, inserts and commits.
        now = _rows.now_utc()
        heads = _rows.new_row_heads(
            batch, actor=actor, now=now, hashes=hashes, ids=ids, observed_utc=observed
        )
        prepared = _Prepared(batch, ids, hashes, heads, _rows.utc_text(now))

        def store_batch(con: sqlite3.Connection) -> list[Outcome]:
            return self._add_in_transaction(con, prepared, actor)

        return self._committer.run(store_batch)

    def _add_in_transaction(
        self, con: sqlite3.Connection, prepared: _Prepared, actor: str
    ) -> list[Outcome]:
        batch, ids = prepared.batch, prepared.ids
        stored = self._stored_states(con, ids)
        outcomes: list[Outcome] = []
        fresh: dict[str, int] = {}  # id → index in batch of its first, created, copy
        for i, (obs, key) in enumerate(zip(batch, ids, strict=True)):
            if key not in stored and key not in fresh:
                fresh[key] = i
                outcomes.append(Outcome(obs.id, "created", 1))
                continue
            outcomes.append(self._resend(con, obs, prepared.hashes[i], stored, fresh, batch, actor))
        self._insert(con, prepared, list(fresh.values()), actor)
        return outcomes

    def _resend(
        self,
        con: sqlite3.Connection,
        obs: Observation,
        incoming_hash: str,
        stored: dict[str, StoredState],
        fresh: dict[str, int],
        batch: Sequence[Observation],
        actor: str,
    ) -> Outcome:
        """Classify an id already stored, or one created earlier in this same batch."""
        key = str(obs.id)
        if key in stored:
            known = stored[key]
            current = None
        else:
            current = batch[fresh[key]]
            first_hash = current.content_hash()
            known = StoredState("active", 1, first_hash, first_hash, current.observer or actor)
        load = (lambda: current) if current is not None else (lambda: self._load(con, obs.id))
        owned = replace(obs, observer=obs.observer or actor)
        return classify_resend(owned, incoming_hash, known, load)

    def _insert(
        self, con: sqlite3.Connection, prepared: _Prepared, new: list[int], actor: str
    ) -> None:
        """Insert the new observations (indexes into the batch) and their create revisions."""
        if not new:
            return
        last_seq = con.execute("SELECT COALESCE(MAX(seq), 0) FROM revisions").fetchone()[0]
        seqs = range(last_seq + 1, last_seq + 1 + len(new))
        heads = prepared.heads
        con.executemany(_OBS_INSERT, [(*heads[i], s) for i, s in zip(new, seqs, strict=True)])
        batch, ids, stamp = prepared.batch, prepared.ids, prepared.stamp
        revision = _rows.revision_row
        con.executemany(
            _REV_INSERT,
            [
                revision(s, batch[i], "create", actor, None, at_text=stamp, id_text=ids[i])
                for i, s in zip(new, seqs, strict=True)
            ],
        )

    def _stored_states(self, con: sqlite3.Connection, ids: list[str]) -> dict[str, StoredState]:
        found: dict[str, StoredState] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            sql = (
                "SELECT id, status, revision, content_hash, upload_hash, observer "
                "FROM observations "
                f"WHERE id IN ({', '.join('?' * len(chunk))})"
            )
            for oid, status, revision, content, upload, observer in con.execute(sql, chunk):
                found[oid] = StoredState(status, revision, content, upload, observer)
        return found

    def _load(self, con: sqlite3.Connection, observation_id: UUID) -> Observation:
        row = con.execute(_OBS_SELECT + " WHERE id = ?", (str(observation_id),)).fetchone()
        if row is None:
            raise NotFound(f"no observation with id {observation_id}", field="id")
        return _rows.row_to_observation(row)

    def get_observation(self, observation_id: UUID) -> Observation:
        return self._load(self._reader(), observation_id)

    def query_observations(self, query: ObservationQuery) -> Page:
        rows = self._listing_rows(query)
        items = [_rows.row_to_observation(r) for r in rows[: query.limit]]
        return Page(items, _rows.next_cursor(rows, query.limit))

    def query_features(self, query: ObservationQuery) -> FeaturePage:
        return _rows.rows_to_feature_page(self._listing_rows(query), query.limit)

    def _listing_rows(self, query: ObservationQuery) -> list[Any]:
        """One page in (observed_at, id) order, plus one row to tell whether more follow."""
        where, params = queries.sqlite_where(query)
        if query.after is not None:
            where.append("(observed_at > ? OR (observed_at = ? AND id > ?))")
            params += [query.after[0], query.after[0], query.after[1]]
        sql = f"{_OBS_LISTING} {queries.where_clause(where)} ORDER BY observed_at, id LIMIT ?"
        return self._reader().execute(sql, [*params, query.limit + 1]).fetchall()

    def count_observations(self, query: ObservationQuery) -> int:
        where, params = queries.sqlite_where(query)
        sql = f"SELECT COUNT(*) FROM observations {queries.where_clause(where)}"
        count: int = self._reader().execute(sql, params).fetchone()[0]
        return count

    def update_observation(
        self, observation_id: UUID, changes: dict[str, Any], *, base_revision: int, actor: str
    ) -> Observation:
        with self._write() as con:
            current = self._load(con, observation_id)
            _check_editable(current, base_revision)
            edited = replace(
                current, **changes, revision=current.revision + 1, updated_at=_rows.now_utc()
            )
            if "lon" in changes or "lat" in changes:
                [edited] = _rows.tag_observations([edited])
            self._rewrite(con, current, edited, "edit", actor, None)
        return edited

    def retract_observation(
        self, observation_id: UUID, *, actor: str, reason: str | None = None
    ) -> Observation:
        with self._write() as con:
            current = self._load(con, observation_id)
            if current.status == "retracted":
                raise Gone(f"observation {observation_id} is already retracted", field="id")
            retracted = replace(
                current,
                status="retracted",
                revision=current.revision + 1,
                updated_at=_rows.now_utc(),
            )
            self._rewrite(con, current, retracted, "retract", actor, reason)
        return retracted

    def _rewrite(
        self,
        con: sqlite3.Connection,
        before: Observation,
        after: Observation,
        action: str,
        actor: str,
        reason: str | None,
    ) -> None:
        seq = con.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM revisions").fetchone()[0]
        upload_hash = con.execute(
            "SELECT upload_hash FROM observations WHERE id = ?", (str(before.id),)
        ).fetchone()[0]
        [row] = _rows.observation_rows([after], seqs=[seq], upload_hashes=[upload_hash])
        columns = _rows.OBSERVATION_COLUMNS[1:]
        con.execute(
            f"UPDATE observations SET {', '.join(c + ' = ?' for c in columns)} WHERE id = ?",
            (*row[1:], row[0]),
        )
        con.execute(_REV_INSERT, _rows.revision_row(seq, after, action, actor, before, reason))

    def history(self, observation_id: UUID) -> list[Revision]:
        rows = (
            self._reader()
            .execute(
                f"SELECT {', '.join(_rows.REVISION_COLUMNS)} FROM revisions "
                "WHERE observation_id = ? ORDER BY revision",
                (str(observation_id),),
            )
            .fetchall()
        )
        if not rows:
            raise NotFound(f"no observation with id {observation_id}", field="id")
        revisions = [_rows.row_to_revision(r) for r in rows]
        return _rows.with_create_snapshots(revisions, self.get_observation(observation_id))

    def changes_since(
        self, cursor: int, *, limit: int, observer: str | None = None
    ) -> tuple[list[Observation], int]:
        mine = "AND observer = ?" if observer is not None else ""
        params = (cursor, observer, limit) if observer is not None else (cursor, limit)
        rows = (
            self._reader()
            .execute(
                f"{_OBS_SELECT} WHERE change_seq > ? {mine} ORDER BY change_seq LIMIT ?", params
            )
            .fetchall()
        )
        next_cursor = rows[-1][-1] if rows else cursor
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
        if by == "cell" and (
            indexed := queries.sqlite_indexed_cell_counts(query, every, cell_size_m)
        ):  # read in the herd-count index's order: no sort of every row
            rows = self._reader().execute(*indexed).fetchall()
            return queries.rows_to_herd_counts(rows, by=by, cell_size_m=cell_size_m)
        where, params = queries.sqlite_where(query)
        period_sql, period_params = queries.sqlite_period(every, seasons or SeasonCalendar())
        key_sql, key_params = queries.key_expression(by, cell_size_m)
        sql = queries.herd_count_sql(period_sql, key_sql, queries.where_clause(where))
        rows = self._reader().execute(sql, [*period_params, *key_params, *params]).fetchall()
        return queries.rows_to_herd_counts(rows, by=by, cell_size_m=cell_size_m)

    def sighting_columns(self, query: ObservationQuery) -> SightingColumns:
        where, params = queries.sqlite_where(query)
        where_sql = queries.where_clause(where)
        # No ORDER BY: a table scan, sorted in numpy (sighting_columns_from_rows), is faster.
        sql = f"{herd_sql.SQLITE_SIGHTING_SELECT} {where_sql}"
        # The cursor itself, not fetchall(): the columns are filled row by row, no list.
        return sighting_columns_from_rows(self._reader().execute(sql, params))

    # herd decisions -------------------------------------------------------------------------
    def add_herd_decision(self, decision: HerdDecision) -> HerdDecision:
        stamped = replace(decision, decided_at=_rows.now_utc())
        columns = ", ".join(herd_sql.DECISION_COLUMNS[1:])
        with self._write() as con:
            cursor = con.execute(
                f"INSERT INTO herd_decisions ({columns}) VALUES (?, ?, ?, ?, ?, ?)",
                herd_sql.decision_params(stamped),
            )
        return replace(stamped, id=cursor.lastrowid)

    def list_herd_decisions(self) -> list[HerdDecision]:
        rows = (
            self._reader()
            .execute(
                f"SELECT {', '.join(herd_sql.DECISION_COLUMNS)} FROM herd_decisions ORDER BY id"
            )
            .fetchall()
        )
        return [herd_sql.row_to_decision(r) for r in rows]

    def data_version(self) -> tuple[int, ...]:
        row = self._reader().execute(_DATA_VERSION).fetchone()
        return tuple(int(v) for v in row) if row else (0, 0, 0, 0)

    # surveys ------------------------------------------------------------------------------
    def add_survey(self, survey: Survey) -> Outcome:
        with self._write() as con:
            row = con.execute(_SURVEY_SELECT + " WHERE id = ?", (survey.id,)).fetchone()
            if row is not None:
                if row[-1] == survey.content_hash():
                    return Outcome(UUID(int=0), "unchanged", message=survey.id)
                raise Conflict(f"survey {survey.id} already exists with other content", field="id")
            stamped = replace(survey, created_at=_rows.now_utc())
            placeholders = ", ".join("?" * len(_rows.SURVEY_COLUMNS))
            con.execute(f"INSERT INTO surveys VALUES ({placeholders})", _rows.survey_row(stamped))
        return Outcome(UUID(int=0), "created", message=survey.id)

    def get_survey(self, survey_id: str) -> Survey:
        row = self._reader().execute(_SURVEY_SELECT + " WHERE id = ?", (survey_id,)).fetchone()
        if row is None:
            raise NotFound(f"no survey with id {survey_id!r}", field="id")
        return _rows.row_to_survey(row)

    def list_surveys(self, *, limit: int = 100, after: str | None = None) -> list[Survey]:
        rows = (
            self._reader()
            .execute(_SURVEY_SELECT + " WHERE id > ? ORDER BY id LIMIT ?", (after or "", limit))
            .fetchall()
        )
        return [_rows.row_to_survey(r) for r in rows]

    # users and tokens ---------------------------------------------------------------------
    def add_user(self, name: str, role: str) -> str:
        token = secrets.token_urlsafe(32)
        now = _rows.utc_text(_rows.now_utc())
        with self._write() as con:
            if con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"user {name!r} already exists", field="name")
            con.execute("INSERT INTO users VALUES (?, ?, 1, ?)", (name, role, now))
            con.execute("INSERT INTO tokens VALUES (?, ?, ?, NULL)", (hash_token(token), name, now))
        return token

    def add_token(self, name: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._write() as con:
            if not con.execute("SELECT 1 FROM users WHERE name = ? AND active", (name,)).fetchone():
                raise NotFound(f"no active user {name!r}", field="name")
            con.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, NULL)",
                (hash_token(token), name, _rows.utc_text(_rows.now_utc())),
            )
        return token

    def revoke_token(self, token: str) -> None:
        with self._write() as con:
            con.execute(
                "UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
                (_rows.utc_text(_rows.now_utc()), hash_token(token)),
            )

    def user_for_token(self, token: str) -> User | None:
        row = (
            self._reader()
            .execute(
                "SELECT u.name, u.role, u.active, u.created_at FROM tokens t "
                "JOIN users u ON u.name = t.user_name "
                "WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.active",
                (hash_token(token),),
            )
            .fetchone()
        )
        return User(row[0], row[1], bool(row[2]), _rows.parse_utc(row[3])) if row else None

    def list_users(self) -> list[User]:
        rows = (
            self._reader()
            .execute("SELECT name, role, active, created_at FROM users ORDER BY name")
            .fetchall()
        )
        return [User(r[0], r[1], bool(r[2]), _rows.parse_utc(r[3])) for r in rows]

    def revoke_user(self, name: str) -> None:
        now = _rows.utc_text(_rows.now_utc())
        with self._write() as con:
            if con.execute("UPDATE users SET active = 0 WHERE name = ?", (name,)).rowcount == 0:
                raise NotFound(f"no user {name!r}", field="name")
            con.execute(
                "UPDATE tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL",
                (now, name),
            )

    # bulk -----------------------------------------------------------------------------
    def iter_all_observations(self, *, batch_size: int = 5000) -> Iterator[list[Observation]]:
        for chunk in self.export_observations(batch_size=batch_size):
            yield [item.observation for item in chunk]

    def iter_all_revisions(self, *, batch_size: int = 5000) -> Iterator[list[Revision]]:
        after = 0
        while True:
            rows = (
                self._reader()
                .execute(
                    f"SELECT {', '.join(_rows.REVISION_COLUMNS)} FROM revisions "
                    "WHERE seq > ? ORDER BY seq LIMIT ?",
                    (after, batch_size),
                )
                .fetchall()
            )
            if not rows:
                return
            after = rows[-1][0]
            yield [_rows.row_to_revision(r) for r in rows]

    # transfer (herdwatch transfer): faithful copies, idempotent when re-run -------------
    def export_observations(self, *, batch_size: int = 5000) -> Iterator[list[StoredObservation]]:
        """Every observation with its upload hash and change_seq, in id order."""
        after = ""
        while True:
            rows = (
                self._reader()
                .execute(f"{_OBS_SELECT} WHERE id > ? ORDER BY id LIMIT ?", (after, batch_size))
                .fetchall()
            )
            if not rows:
                return
            after = rows[-1][0]
            yield [StoredObservation(_rows.row_to_observation(r), r[-2], r[-1]) for r in rows]

    def iter_all_surveys(self, *, batch_size: int = 5000) -> Iterator[list[Survey]]:
        after = ""
        while batch := self.list_surveys(limit=batch_size, after=after):
            after = batch[-1].id
            yield batch

    def import_observations(self, items: Sequence[StoredObservation]) -> int:
        """Copy records as they are; one already here is replaced only by a later revision."""
        rows = _rows.observation_rows(
            [i.observation for i in items],
            seqs=[i.change_seq for i in items],
            upload_hashes=[i.upload_hash for i in items],
        )
        updates = ", ".join(f"{c} = excluded.{c}" for c in _rows.OBSERVATION_COLUMNS[1:])
        sql = (
            f"{_OBS_INSERT} ON CONFLICT (id) DO UPDATE SET {updates} "
            "WHERE observations.revision < excluded.revision"
        )
        with self._write() as con:
            before = con.total_changes
            con.executemany(sql, rows)
            return con.total_changes - before

    def import_revisions(self, revisions: Sequence[Revision]) -> int:
        """Copy audit entries with their sequence numbers; ones already here are kept."""
        with self._write() as con:
            before = con.total_changes
            con.executemany(
                _REV_INSERT.replace("INSERT", "INSERT OR IGNORE", 1),
                [revision_to_row(r) for r in revisions],
            )
            return con.total_changes - before

    def import_surveys(self, surveys: Sequence[Survey]) -> int:
        """Copy surveys with their creation times; ones already here are kept."""
        marks = ", ".join("?" * len(_rows.SURVEY_COLUMNS))
        with self._write() as con:
            before = con.total_changes
            con.executemany(
                f"INSERT OR IGNORE INTO surveys VALUES ({marks})",
                [_rows.survey_row(s) for s in surveys],
            )
            return con.total_changes - before

    def export_accounts(self) -> Accounts:
        """Users and token hashes (tokens themselves are never stored anywhere)."""
        rows = (
            self._reader()
            .execute(
                "SELECT token_hash, user_name, created_at, revoked_at FROM tokens "
                "ORDER BY token_hash"
            )
            .fetchall()
        )
        tokens = [
            TokenRecord(h, u, _rows.parse_utc(c), _rows.parse_utc(r) if r else None)
            for h, u, c, r in rows
        ]
        return Accounts(self.list_users(), tokens)

    def import_accounts(self, accounts: Accounts) -> None:
        """Copy users and token hashes; ones already here are kept as they are."""
        utc = _rows.utc_text
        users = [
            (u.name, u.role, int(u.active), utc(u.created_at or _rows.now_utc()))
            for u in accounts.users
        ]
        tokens = [
            (
                t.token_hash,
                t.user_name,
                utc(t.created_at),
                utc(t.revoked_at) if t.revoked_at else None,
            )
            for t in accounts.tokens
        ]
        with self._write() as con:
            con.executemany("INSERT OR IGNORE INTO users VALUES (?, ?, ?, ?)", users)
            con.executemany("INSERT OR IGNORE INTO tokens VALUES (?, ?, ?, ?)", tokens)

    def import_herd_decisions(self, decisions: Sequence[HerdDecision]) -> int:
        """Copy decisions with their ids and times; ones already here are kept."""
        columns = ", ".join(herd_sql.DECISION_COLUMNS)
        rows = [(d.id, *herd_sql.decision_params(d)) for d in decisions]
        with self._write() as con:
            before = con.total_changes
            con.executemany(
                f"INSERT OR IGNORE INTO herd_decisions ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return con.total_changes - before

    def close(self) -> None:
        self._committer.stop()
        with self._write_lock:
            for con in self._readers:
                con.close()
            self._readers.clear()
            self._writer.close()
            self._file_lock.close()


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An upload made ready before it queues for the writer: ids, hashes and row heads
    (every column but change_seq), all parallel to the batch."""

    batch: Sequence[Observation]
    ids: list[str]
    hashes: list[str]
    heads: list[tuple[Any, ...]]
    stamp: str


def _check_editable(current: Observation, base_revision: int) -> None:
    if current.status == "retracted":
        raise Gone(f"observation {current.id} was retracted", field="id")
    if current.revision != base_revision:
        raise Conflict(
            f"observation {current.id} is at revision {current.revision}, "
            f"your edit was based on revision {base_revision}: reload it and edit again",
            field="revision",
        )


def _split_sql(script: str) -> list[str]:
    """Statements of a migration; triggers keep their inner semicolons."""
    statements, current = [], []
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        current.append(line)
        joined = "\n".join(current)
        if stripped.endswith(";") and sqlite3.complete_statement(joined):
            statements.append(joined)
            current = []
    return statements
