"""SQLiteStore: the embedded default backend (stdlib sqlite3, WAL, one writer)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from data import rows, sqlite_reader
from data import sqlite_queries as q
from data.bulk import StoredObservation
from data.file_lock import WriterFileLock
from data.group_commit import GroupCommitter
from data.migrations import Migration
from data.outcomes import StoredState, classify_resend
from data.sql_shared import READ_PARTS, observation_where, where_clause
from data.sql_store import SQLStore
from data.sqlite_reader import READER_MMAP_BYTES
from data.tables import OBSERVATIONS, REVISIONS
from domain.errors import BadDatabaseUrl
from domain.i18n import Message
from domain.records import Observation, ObservationQuery, Outcome, Revision

_OBS_INSERT = OBSERVATIONS.insert("?")
_REV_INSERT = REVISIONS.insert("?")
_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit


class SQLiteStore(SQLStore):
    """Embedded store: one write connection behind a lock, one read-only connection per thread."""

    dialect = q.SQLITE
    mark = q.SQLITE.mark
    _migrations_table = (
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )

    def __init__(self, path: str, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        # For the reader process: a relative path means the folder the store was opened in.
        self._absolute_path = str(Path(path).absolute())
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
            raise BadDatabaseUrl(
                Message("a SQLite store needs a file path (readers and writer share it)")
            )
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
                con.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (the disk is full) may leave the transaction open, or
                # SQLite may have rolled it back already: either way, none of it stays.
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise

    def _read_all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._reader().execute(sql, params).fetchall()

    def _read_one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._reader().execute(sql, params).fetchone()

    @contextmanager
    def _feed_read(self) -> Iterator[sqlite3.Connection]:
        # One writer, committing whole transactions: a reader never sees a gap to wait for.
        yield self._reader()

    def _migrating(self) -> Any:
        return self._write()  # BEGIN IMMEDIATE under the file lock: one migrator at a time

    def _run_script(self, conn: sqlite3.Connection, migration: Migration) -> None:
        for statement in _split_sql(migration.sql):
            conn.execute(statement)

    def _many(self, conn: sqlite3.Connection, sql: str, values: Iterable[Sequence[Any]]) -> int:
        return max(conn.executemany(sql, values).rowcount, 0)

    def _next_seqs(self, conn: sqlite3.Connection, n: int) -> list[int]:
        # The one writer holds the database: the next numbers are simply the next ones.
        last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM revisions").fetchone()[0]
        return list(range(last + 1, last + 1 + n))

    def _sighting_table(self, query: ObservationQuery) -> Any:
        """The sighting columns through ADBC's SQLite driver, which fills Arrow columns in C
        (the stdlib module builds a Python object per value: 4 of 5 s at a million), in
        READ_PARTS rowid ranges that read one snapshot. In a helper process: the driver's
        own copy of SQLite must never open the file in a process that holds the store open
        (data/sqlite_reader.py)."""
        sql, params = self._sighting_sql(query)
        return sqlite_reader.read_table(self._absolute_path, sql, params, READ_PARTS)

    def prepare_sighting_reads(self) -> None:
        sqlite_reader.start()

    def _sighting_sql(self, query: ObservationQuery) -> tuple[str, list[Any]]:
        """The sighting read's SQL and parameters; the reader adds a rowid range to both."""
        where, params = observation_where(q.SQLITE, query)
        # No ORDER BY: a table scan, sorted in numpy (sighting_columns_from_arrow), is faster.
        # A time range is read through the time index: "+rowid" keeps SQLite from walking
        # the rowid range instead (a week of a million sightings: 0.16 s → 0.02 s).
        split = "+rowid" if query.start is not None or query.end is not None else "rowid"
        sql = f"{q.SIGHTING_SELECT} {where_clause([*where, f'{split} BETWEEN ? AND ?'])}"
        return sql, list(params)

    # observations -----------------------------------------------------------------------
    def add_observations(
        self, batch: Sequence[Observation], *, actor: str, reason: str | None = None
    ) -> list[Outcome]:
        # Rows are built here, in the caller's thread: the one writer thread that every
        # upload queues for then only looks up, inserts and commits.
        prepared = _prepare(batch, actor, reason)

        def store_batch(con: sqlite3.Connection) -> list[Outcome]:
            return self._add_in_transaction(con, prepared, actor)

        return self._committer.run(store_batch)

    def _add_in(
        self, con: sqlite3.Connection, batch: Sequence[Observation], actor: str, reason: str | None
    ) -> list[Outcome]:
        """One batch classified and inserted in the open write transaction `con` (imports)."""
        return self._add_in_transaction(con, _prepare(batch, actor, reason), actor)

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
        seqs = self._next_seqs(con, len(new))
        heads = prepared.heads
        con.executemany(_OBS_INSERT, [(*heads[i], s) for i, s in zip(new, seqs, strict=True)])
        batch, ids, stamp = prepared.batch, prepared.ids, prepared.stamp
        revision = rows.revision_row
        con.executemany(
            _REV_INSERT,
            [
                revision(
                    s,
                    batch[i],
                    "create",
                    actor,
                    None,
                    prepared.reason,
                    at_text=stamp,
                    id_text=ids[i],
                )
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

    def import_observations(self, items: Sequence[StoredObservation]) -> int:
        """Copy records as they are; one already here is replaced only by a later revision."""
        copies = rows.observation_rows(
            [i.observation for i in items],
            seqs=[i.change_seq for i in items],
            upload_hashes=[i.upload_hash for i in items],
        )
        updates = ", ".join(f"{c} = excluded.{c}" for c in OBSERVATIONS.columns[1:])
        sql = (
            f"{_OBS_INSERT} ON CONFLICT (id) DO UPDATE SET {updates} "
            "WHERE observations.revision < excluded.revision"
        )
        with self._write() as con:
            return self._many(con, sql, copies)

    def import_revisions(self, revisions: Sequence[Revision]) -> int:
        """Copy audit entries with their sequence numbers; ones already here are kept."""
        with self._write() as con:
            return self._many(
                con, self._insert_new(REVISIONS), [rows.revision_to_row(r) for r in revisions]
            )

    def close(self) -> None:
        self._committer.stop()
        with self._write_lock:
            for con in self._readers:
                con.close()
            self._readers.clear()
            self._writer.close()
            self._file_lock.close()


def _prepare(batch: Sequence[Observation], actor: str, reason: str | None) -> _Prepared:
    observed = [rows.utc_text(o.observed_at) for o in batch]
    hashes = [o.content_hash(t) for o, t in zip(batch, observed, strict=True)]
    ids = [str(o.id) for o in batch]
    now = rows.now_utc()
    heads = rows.new_row_heads(
        batch, actor=actor, now=now, hashes=hashes, ids=ids, observed_utc=observed
    )
    return _Prepared(batch, ids, hashes, heads, rows.utc_text(now), reason)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An upload made ready before it queues for the writer: ids, hashes and row heads
    (every column but change_seq), all parallel to the batch."""

    batch: Sequence[Observation]
    ids: list[str]
    hashes: list[str]
    heads: list[tuple[Any, ...]]
    stamp: str
    reason: str | None = None  # the create revisions' reason (an import names its file)


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
