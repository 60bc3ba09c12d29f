"""SQLStore: every store method whose logic both SQL dialects share.

data/sqlite.py and data/postgis.py subclass it and hold only what truly differs: the
connections and transactions, sequence numbers, bulk loads (executemany against COPY),
locking and the stored Feature text; their SQL differences are a data/sql_shared.Dialect,
from which the shared builders write the filters and aggregates. SQL here is written with
`{p}` for the dialect's placeholder and names its columns from data/tables.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from data import rows
from data.bulk import Accounts, StoredObservation, TokenRecord
from data.herds import HerdDecision, SightingColumns, sighting_columns_from_arrow
from data.migrations import Migration, migrations_for
from data.sql_shared import (
    Dialect,
    herd_count_query,
    listing_query,
    observation_where,
    rows_to_herd_counts,
    where_clause,
)
from data.store import check_editable
from data.tables import HERD_DECISIONS, INSTANCES, OBSERVATIONS, REVISIONS, SURVEYS, Table
from data.tokens import hash_token
from domain.errors import Conflict, Gone, NotFound
from domain.i18n import Message
from domain.openrosa import Instance
from domain.photos import Photo, PhotoInfo, UploadOffset
from domain.records import (
    Extent,
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

Row = Sequence[Any]
Progress = Callable[[int, int], None]  # (rows done, rows in all)

# Listings read neither the period, grid nor hash columns: a third less to fetch.
LISTING_UNREAD = ("local_date", "ea_x", "ea_y", "content_hash", "upload_hash", "change_seq")
LISTING_SELECT = OBSERVATIONS.select(unread=LISTING_UNREAD)
_DATA_VERSION = (
    "SELECT (SELECT COALESCE(MAX(seq), 0) FROM revisions), (SELECT COUNT(*) FROM revisions), "
    "(SELECT COUNT(*) FROM herd_decisions), (SELECT COUNT(*) FROM surveys)"
)
_PHOTO_INFO = (
    "observation_id, name, sha256, media_type, size, width, height, uploaded_by, created_at"
)
_PHOTO_COLUMNS = (
    "observation_id, name, sha256, media_type, size, width, height, data, thumbnail, "
    "uploaded_by, created_at"
)
_SESSION_TOUCH = timedelta(minutes=1)  # how stale a session's last use may be written
_SEQ, _UPLOAD_HASH = OBSERVATIONS.index["change_seq"], OBSERVATIONS.index["upload_hash"]

REMEASURED_KM = "0010_effort_on_the_ellipsoid"  # the migration after which km is remeasured


class _RolledBack(Exception):
    """Raised inside a write transaction to undo it on purpose (a dry run)."""


class SQLStore:
    """The shared body of SQLiteStore and PostGISStore (see the module docstring)."""

    url: str
    dialect: ClassVar[Dialect]  # its SQL differences; dialect.name: data/sql/<name>
    mark: ClassVar[str]  # the driver's placeholder, dialect.mark: ? or %s
    # Columns every observation write names: the table's, and PostGIS's Feature text.
    write_columns: ClassVar[tuple[str, ...]] = OBSERVATIONS.columns
    _for_update: ClassVar[str] = ""  # how a read inside a write locks the row it edits
    _migrations_table: ClassVar[str]

    # ---- what each dialect provides ---------------------------------------------------
    def _read_all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _read_one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Any]:
        """One write transaction; yields a connection whose execute() returns a cursor."""
        raise NotImplementedError

    def _feed_read(self) -> AbstractContextManager[Any]:
        """A connection to read the change feed on (PostGIS waits for writers there)."""
        raise NotImplementedError

    def _migrating(self) -> AbstractContextManager[Any]:
        """The transaction migrations run in, alone among this store's processes."""
        raise NotImplementedError

    def _run_script(self, conn: Any, migration: Migration) -> None:
        raise NotImplementedError

    def _many(self, conn: Any, sql: str, values: Iterable[Row]) -> int:
        """executemany; the number of rows it changed."""
        raise NotImplementedError

    def _next_seqs(self, conn: Any, n: int) -> list[int]:
        """n new revision numbers, ascending, inside the write transaction `conn`."""
        raise NotImplementedError

    def _sighting_table(self, query: ObservationQuery) -> Any:
        """The dialect's SIGHTING_SELECT for `query` as an Arrow table (pyarrow.Table)."""
        raise NotImplementedError

    def _with_write_columns(self, rows: Sequence[Row]) -> Sequence[Row]:
        """Rows of OBSERVATIONS as write_columns (PostGIS adds the Feature text)."""
        return rows

    def refresh_feature_texts(self, progress: Progress | None = None) -> int:
        """Rewrite stored Feature texts of an older format; the number of rows (none here)."""
        return 0

    def _sql(self, text: str) -> str:
        return text.replace("{p}", self.mark)

    def _add_in(
        self, conn: Any, batch: Sequence[Observation], actor: str, reason: str | None
    ) -> list[Outcome]:
        """add_observations' work on one batch inside the open write transaction `conn`."""
        raise NotImplementedError

    # ---- schema -----------------------------------------------------------------------
    def migrate(self, *, progress: Progress | None = None) -> list[str]:
        """Apply pending migrations, then bring stored texts to the current format."""
        applied = []
        with self._migrating() as conn:
            conn.execute(self._migrations_table)
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            for migration in migrations_for(self.dialect.name):
                if migration.version in done:
                    continue
                self._run_script(conn, migration)
                conn.execute(
                    self._sql("INSERT INTO schema_migrations VALUES ({p}, {p}, {p})"),
                    (migration.version, migration.name, rows.utc_text(rows.now_utc())),
                )
                applied.append(f"{migration.version:04d}_{migration.name}")
            if REMEASURED_KM in applied:
                self._remeasure_survey_km(conn)
        self.refresh_feature_texts(progress)
        return applied

    def _remeasure_survey_km(self, conn: Any) -> None:
        """Each stored survey's km measured again as a new one is (geo/effort.py)."""
        from geo.effort import survey_effort

        found = conn.execute("SELECT id, geometry, strata FROM surveys").fetchall()
        for survey_id, geometry, strata in found:
            try:
                transects = [s["transects"] for s in rows.as_json(strata) or ()]
                km, _ = survey_effort(rows.as_json(geometry), transects)
            except Exception:  # noqa: BLE001  (EffortError, or any odd stored JSON)
                # Stored before its geometry was checked: left as it was, never the
                # reason a whole store cannot migrate (and its server not start).
                continue
            if km is not None:
                conn.execute(
                    self._sql("UPDATE surveys SET effort_km = {p} WHERE id = {p}"),
                    (km, survey_id),
                )

    # ---- observations -----------------------------------------------------------------
    def _load(self, conn: Any, observation_id: UUID, *, for_update: bool = False) -> Observation:
        lock = self._for_update if for_update else ""
        sql = self._sql(f"{OBSERVATIONS.select()} WHERE id = {{p}}{lock}")
        row = conn.execute(sql, (str(observation_id),)).fetchone()
        if row is None:
            raise NotFound(
                Message(
                    "no observation with id {observation_id}", observation_id=str(observation_id)
                ),
                field="id",
            )
        return rows.row_to_observation(row)

    def get_observation(self, observation_id: UUID) -> Observation:
        row = self._read_one(
            self._sql(f"{OBSERVATIONS.select()} WHERE id = {{p}}"), (str(observation_id),)
        )
        if row is None:
            raise NotFound(
                Message(
                    "no observation with id {observation_id}", observation_id=str(observation_id)
                ),
                field="id",
            )
        return rows.row_to_observation(row)

    def query_observations(self, query: ObservationQuery) -> Page:
        page = self._listing_rows(query)
        items = [rows.row_to_observation(r) for r in page[: query.limit]]
        return Page(items, rows.next_cursor(page, query.limit))

    def query_features(self, query: ObservationQuery) -> FeaturePage:
        return rows.rows_to_feature_page(self._listing_rows(query), query.limit)

    def _listing_rows(self, query: ObservationQuery, select: str | None = None) -> list[Any]:
        """One page in (observed_at, id) order, plus one row to tell whether more follow."""
        found = self._read_all(*listing_query(self.dialect, query, select or LISTING_SELECT))
        if query.before is not None:  # read backwards from the key: put back in time order
            return list(reversed(found[: query.limit]))  # and no next cursor: the key follows
        return found

    def count_observations(self, query: ObservationQuery) -> int:
        where, params = observation_where(self.dialect, query)
        row = self._read_one(f"SELECT COUNT(*) FROM observations {where_clause(where)}", params)
        return int(row[0]) if row else 0

    def add_observation_batches(
        self,
        batches: Iterable[Sequence[Observation]],
        *,
        actor: str,
        reason: str | None = None,
        commit: bool | Callable[[], bool] = True,
        on_outcomes: Callable[[Sequence[Observation], list[Outcome]], None],
    ) -> bool:
        """Store batch after batch in ONE write transaction: all of them or, if anything
        raises (or `commit`, a flag or a function asked at the end, is false), none. Each
        batch's outcomes go to `on_outcomes` as it is stored; a later batch sees the earlier
        ones, so an id twice in a file is created once. Returns whether it committed.

        The writer is held throughout: on SQLite other writers wait (up to 10 s, then
        StoreBusy), on PostGIS the change feed waits. Meant for imports, not uploads.
        """
        try:
            with self._write() as conn:
                for batch in batches:
                    if batch:
                        on_outcomes(batch, self._add_in(conn, batch, actor, reason))
                if not (commit() if callable(commit) else commit):
                    raise _RolledBack
        except _RolledBack:
            return False
        return True

    def count_at_most(self, query: ObservationQuery, cap: int) -> int | None:
        """The query's count if it is `cap` or less, else None: reads at most cap+1 rows,
        so a listing can say numberMatched without counting a million."""
        where, params = observation_where(self.dialect, query)
        inner = f"SELECT 1 FROM observations {where_clause(where)} LIMIT {self.mark}"
        sql = f"SELECT COUNT(*) FROM ({inner}) AS few"
        row = self._read_one(sql, [*params, cap + 1])
        found = int(row[0]) if row else 0
        return found if found <= cap else None

    def observation_extent(self, query: ObservationQuery) -> Extent | None:
        """The bounding box and time span of the query's observations (None when none)."""
        where, params = observation_where(self.dialect, query)
        row = self._read_one(
            "SELECT MIN(lon), MIN(lat), MAX(lon), MAX(lat), MIN(observed_at), MAX(observed_at) "
            f"FROM observations {where_clause(where)}",
            params,
        )
        if row is None or row[0] is None:
            return None
        west, south, east, north = (float(v) for v in row[:4])
        start, end = rows.as_datetime(row[4]), rows.as_datetime(row[5])
        return Extent(west, south, east, north, start, end)

    def update_observation(
        self, observation_id: UUID, changes: dict[str, Any], *, base_revision: int, actor: str
    ) -> Observation:
        with self._write() as conn:
            current = self._load(conn, observation_id, for_update=True)
            check_editable(current, base_revision)
            edited = replace(
                current, **changes, revision=current.revision + 1, updated_at=rows.now_utc()
            )
            if "lon" in changes or "lat" in changes:
                [edited] = rows.tag_observations([edited])
            self._rewrite(conn, current, edited, "edit", actor, None)
        return edited

    def retract_observation(
        self, observation_id: UUID, *, actor: str, reason: str | None = None
    ) -> Observation:
        with self._write() as conn:
            current = self._load(conn, observation_id, for_update=True)
            if current.status == "retracted":
                raise Gone(
                    Message(
                        "observation {observation_id} is already retracted",
                        observation_id=str(observation_id),
                    ),
                    field="id",
                )
            retracted = replace(
                current,
                status="retracted",
                revision=current.revision + 1,
                updated_at=rows.now_utc(),
            )
            self._rewrite(conn, current, retracted, "retract", actor, reason)
        return retracted

    def _rewrite(
        self,
        conn: Any,
        before: Observation,
        after: Observation,
        action: str,
        actor: str,
        reason: str | None,
    ) -> None:
        [seq] = self._next_seqs(conn, 1)
        stored = conn.execute(
            self._sql("SELECT upload_hash FROM observations WHERE id = {p}"), (str(before.id),)
        ).fetchone()
        upload_hash = stored[0] if stored else after.content_hash()
        [row] = self._with_write_columns(
            rows.observation_rows([after], seqs=[seq], upload_hashes=[upload_hash])
        )
        assignments = ", ".join(f"{c} = {self.mark}" for c in self.write_columns[1:])
        conn.execute(
            f"UPDATE observations SET {assignments} WHERE id = {self.mark}", (*row[1:], row[0])
        )
        conn.execute(
            REVISIONS.insert(self.mark),
            rows.revision_row(seq, after, action, actor, before, reason),
        )

    def history(self, observation_id: UUID) -> list[Revision]:
        found = self._read_all(
            self._sql(f"{REVISIONS.select()} WHERE observation_id = {{p}} ORDER BY revision"),
            (str(observation_id),),
        )
        if not found:
            raise NotFound(
                Message(
                    "no observation with id {observation_id}", observation_id=str(observation_id)
                ),
                field="id",
            )
        revisions = [rows.row_to_revision(r) for r in found]
        return rows.with_create_snapshots(revisions, self.get_observation(observation_id))

    def changes_since(
        self, cursor: int, *, limit: int, observer: str | None = None
    ) -> tuple[list[Observation], int]:
        mine = f"AND observer = {self.mark}" if observer is not None else ""
        params = (cursor, observer, limit) if observer is not None else (cursor, limit)
        sql = self._sql(
            f"{OBSERVATIONS.select()} WHERE change_seq > {{p}} {mine} "
            "ORDER BY change_seq LIMIT {p}"
        )
        with self._feed_read() as conn:
            changed = conn.execute(sql, params).fetchall()
        next_cursor = int(changed[-1][_SEQ]) if changed else cursor
        return [rows.row_to_observation(r) for r in changed], next_cursor

    def herd_counts(
        self,
        query: ObservationQuery,
        *,
        every: Period,
        by: str = "population",
        cell_size_m: float = 50_000.0,
        seasons: SeasonCalendar | None = None,
    ) -> list[HerdCount]:
        sql = herd_count_query(
            self.dialect,
            query,
            every=every,
            by=by,
            cell_size_m=cell_size_m,
            seasons=seasons or SeasonCalendar(),
        )
        found = self._read_all(*sql)
        return rows_to_herd_counts(found, by=by, cell_size_m=cell_size_m)

    def sighting_columns(self, query: ObservationQuery) -> SightingColumns:
        return sighting_columns_from_arrow(self._sighting_table(query))

    def prepare_sighting_reads(self) -> None:
        return None  # PostGIS: a read needs nothing started beforehand

    # ---- herd decisions ---------------------------------------------------------------
    def add_herd_decision(self, decision: HerdDecision) -> HerdDecision:
        stamped = replace(decision, decided_at=rows.now_utc())
        columns = HERD_DECISIONS.columns[1:]
        sql = (
            f"INSERT INTO herd_decisions ({', '.join(columns)}) "
            f"VALUES ({', '.join([self.mark] * len(columns))}) RETURNING id"
        )
        with self._write() as conn:
            row = conn.execute(sql, rows.decision_row(stamped)[1:]).fetchone()
        return replace(stamped, id=int(row[0]))

    def list_herd_decisions(self) -> list[HerdDecision]:
        return [
            rows.row_to_decision(r)
            for r in self._read_all(f"{HERD_DECISIONS.select()} ORDER BY id")
        ]

    def sightings_changed_after(self, seq: int) -> tuple[int, list[tuple[str, datetime]]]:
        (count,) = self._read_one(
            self._sql("SELECT COUNT(*) FROM revisions WHERE seq > {p}"), (seq,)
        )
        found = self._read_all(
            self._sql(
                "SELECT id, observed_at FROM observations WHERE id IN "
                "(SELECT observation_id FROM revisions WHERE seq > {p})"
            ),
            (seq,),
        )
        return int(count), [(str(i), rows.as_datetime(at)) for i, at in found]

    def revision_mark(self, seq: int) -> tuple[int, str]:
        (count,) = self._read_one(
            self._sql("SELECT COUNT(*) FROM revisions WHERE seq <= {p}"), (seq,)
        )
        row = self._read_one(
            self._sql("SELECT observation_id, revision, at FROM revisions WHERE seq = {p}"), (seq,)
        )
        mark = "" if row is None else f"{row[0]}/{row[1]}/{rows.as_datetime(row[2]).isoformat()}"
        return int(count), mark

    def data_version(self) -> tuple[int, ...]:
        row = self._read_one(_DATA_VERSION)
        return tuple(int(v) for v in row) if row else (0, 0, 0, 0)

    # ---- surveys ----------------------------------------------------------------------
    def add_survey(self, survey: Survey) -> Outcome:
        stamped = replace(survey, created_at=rows.now_utc())
        with self._write() as conn:
            if conn.execute(self._insert_new(SURVEYS), rows.survey_row(stamped)).rowcount == 1:
                return Outcome(UUID(int=0), "created", message=survey.id)
            stored = conn.execute(
                self._sql("SELECT content_hash FROM surveys WHERE id = {p}"), (survey.id,)
            ).fetchone()
        if stored is not None and stored[0] == survey.content_hash():
            return Outcome(UUID(int=0), "unchanged", message=survey.id)
        raise Conflict(
            Message("survey {id} already exists with other content", id=str(survey.id)), field="id"
        )

    def _insert_new(self, table: Table, *, conflict: str = "") -> str:
        """INSERT of every column that keeps a row already there (by key) as it is."""
        return f"{table.insert(self.mark)} ON CONFLICT {conflict}DO NOTHING"

    def get_survey(self, survey_id: str) -> Survey:
        row = self._read_one(self._sql(f"{SURVEYS.select()} WHERE id = {{p}}"), (survey_id,))
        if row is None:
            raise NotFound(
                Message("no survey with id {survey_id}", survey_id=repr(survey_id)), field="id"
            )
        return rows.row_to_survey(row)

    def list_surveys(self, *, limit: int = 100, after: str | None = None) -> list[Survey]:
        found = self._read_all(
            self._sql(f"{SURVEYS.select()} WHERE id > {{p}} ORDER BY id LIMIT {{p}}"),
            (after or "", limit),
        )
        return [rows.row_to_survey(r) for r in found]

    # ---- photos -----------------------------------------------------------------------
    def list_photos(self, observation_id: UUID) -> list[PhotoInfo]:
        found = self._read_all(
            self._sql(
                f"SELECT {_PHOTO_INFO} FROM photos WHERE observation_id = {{p}} ORDER BY name"
            ),
            (str(observation_id),),
        )
        return [_photo_info(r) for r in found]

    def get_photo(self, observation_id: UUID, name: str) -> PhotoInfo | None:
        row = self._read_one(
            self._sql(
                f"SELECT {_PHOTO_INFO} FROM photos WHERE observation_id = {{p}} AND name = {{p}}"
            ),
            (str(observation_id), name),
        )
        return _photo_info(row) if row else None

    def photo_bytes(self, observation_id: UUID, name: str, *, thumbnail: bool = False) -> bytes:
        column = "thumbnail" if thumbnail else "data"
        row = self._read_one(
            self._sql(f"SELECT {column} FROM photos WHERE observation_id = {{p}} AND name = {{p}}"),
            (str(observation_id), name),
        )
        if row is None:
            raise NotFound(
                Message(
                    "observation {observation_id} has no photo {name}",
                    observation_id=str(observation_id),
                    name=repr(name),
                ),
                field="name",
            )
        return bytes(row[0])

    def photo_upload_state(self, observation_id: UUID, name: str) -> tuple[int, int] | None:
        """(bytes received, bytes announced) of an upload still arriving, else None."""
        row = self._read_one(
            self._sql(
                "SELECT length(data), total FROM photo_uploads "
                "WHERE observation_id = {p} AND name = {p}"
            ),
            (str(observation_id), name),
        )
        return (int(row[0]), int(row[1])) if row else None

    def add_photo_chunk(
        self, observation_id: UUID, name: str, *, start: int, total: int, chunk: bytes, actor: str
    ) -> bytes:
        """Write a chunk at `start` of an upload of `total` bytes; returns the bytes so far.

        A chunk may overlap what is held (a re-send after a lost answer) with the same
        bytes, which changes nothing, not even what is held after it; other bytes where it
        overlaps raise Conflict (another file under this name: nothing is written), and a
        chunk starting past the end raises UploadOffset. A new total restarts the upload
        from byte 0.
        """
        key = (str(observation_id), name)
        now = rows.utc_text(rows.now_utc())
        with self._write() as conn:
            conn.execute(
                self._sql(
                    "INSERT INTO photo_uploads VALUES ({p}, {p}, {p}, {p}, {p}, {p}) "
                    "ON CONFLICT (observation_id, name) DO NOTHING"
                ),
                (*key, total, b"", actor, now),
            )
            held_row = conn.execute(
                self._sql(
                    "SELECT data, total FROM photo_uploads "
                    f"WHERE observation_id = {{p}} AND name = {{p}}{self._for_update}"
                ),
                key,
            ).fetchone()
            held = bytes(held_row[0]) if int(held_row[1]) == total else b""
            if start > len(held):
                raise UploadOffset(len(held), total)
            end = start + len(chunk)
            if held[start:end] != chunk[: len(held) - start]:
                raise _other_bytes(name, start, min(end, len(held)))
            data = held[:start] + chunk + held[end:]
            conn.execute(
                self._sql(
                    "UPDATE photo_uploads SET data = {p}, total = {p}, uploaded_by = {p}, "
                    "updated_at = {p} WHERE observation_id = {p} AND name = {p}"
                ),
                (data, total, actor, now, *key),
            )
        return data

    def iter_all_photos(self, *, batch_size: int = 50) -> Iterator[list[Photo]]:
        """Every stored photo with its bytes, by (observation id, name): for transfers."""
        after: tuple[str, str] | None = None
        while True:
            keyset = "WHERE (observation_id, name) > ({p}, {p}) " if after else ""
            found = self._read_all(
                self._sql(
                    f"SELECT {_PHOTO_INFO}, data, thumbnail FROM photos {keyset}"
                    "ORDER BY observation_id, name LIMIT {p}"
                ),
                (*(after or ()), batch_size),
            )
            if not found:
                return
            yield [Photo(_photo_info(r[:-2]), bytes(r[-2]), bytes(r[-1])) for r in found]
            after = (str(found[-1][0]), found[-1][1])

    def discard_photo_upload(self, observation_id: UUID, name: str) -> None:
        with self._write() as conn:
            conn.execute(
                self._sql("DELETE FROM photo_uploads WHERE observation_id = {p} AND name = {p}"),
                (str(observation_id), name),
            )

    def add_photo(self, photo: Photo) -> str:
        """Store a complete photo: "created", or "unchanged" for the same bytes again.

        Other bytes under a name already taken raise Conflict. The upload's partial row
        goes in the same transaction, so a photo is either arriving or stored, never both.
        """
        info = photo.info
        key = (str(info.observation_id), info.name)
        values = (
            *key,
            info.sha256,
            info.media_type,
            info.size,
            info.width,
            info.height,
            photo.data,
            photo.thumbnail,
            info.uploaded_by,
            rows.utc_text(rows.now_utc()),
        )
        with self._write() as conn:
            inserted = conn.execute(
                self._sql(
                    f"INSERT INTO photos ({_PHOTO_COLUMNS}) VALUES ({', '.join(['{p}'] * 11)}) "
                    "ON CONFLICT (observation_id, name) DO NOTHING"
                ),
                values,
            ).rowcount
            conn.execute(
                self._sql("DELETE FROM photo_uploads WHERE observation_id = {p} AND name = {p}"),
                key,
            )
            if inserted:
                return "created"
            stored = conn.execute(
                self._sql("SELECT sha256 FROM photos WHERE observation_id = {p} AND name = {p}"),
                key,
            ).fetchone()
        if stored[0] == info.sha256:
            return "unchanged"
        raise Conflict(
            Message(
                "photo {name} of observation {observation_id} is stored with other "
                "bytes (sha256 {stored}); send this one under another name",
                name=repr(info.name),
                observation_id=str(info.observation_id),
                stored=str(stored[0]),
            ),
            field="name",
        )

    # ---- OpenRosa instances -----------------------------------------------------------
    def get_instance(self, instance_id: UUID) -> Instance | None:
        row = self._read_one(
            self._sql(f"{INSTANCES.select()} WHERE instance_id = {{p}}"), (str(instance_id),)
        )
        return _instance(INSTANCES.named(row)) if row else None

    def add_instance(self, instance: Instance) -> Instance:
        """Remember a received instance; one already remembered is kept and returned."""
        row = (
            str(instance.instance_id),
            str(instance.observation_id),
            instance.revision,
            instance.xml_sha256,
            str(instance.deprecated_id) if instance.deprecated_id else None,
            instance.observer,
            rows.utc_text(rows.now_utc()),
        )
        with self._write() as conn:
            conn.execute(self._insert_new(INSTANCES), row)
            stored = conn.execute(
                self._sql(f"{INSTANCES.select()} WHERE instance_id = {{p}}"), (row[0],)
            ).fetchone()
        return _instance(INSTANCES.named(stored))

    def iter_all_instances(self, *, batch_size: int = 5000) -> Iterator[list[Instance]]:
        for chunk in self._paged(INSTANCES, "instance_id", batch_size):
            yield [_instance(INSTANCES.named(r)) for r in chunk]

    def import_instances(self, instances: Sequence[Instance]) -> int:
        """Copy instances with their receipt times; ones already here are kept."""
        values = [
            (
                str(i.instance_id),
                str(i.observation_id),
                i.revision,
                i.xml_sha256,
                str(i.deprecated_id) if i.deprecated_id else None,
                i.observer,
                rows.utc_text(i.received_at or rows.now_utc()),
            )
            for i in instances
        ]
        with self._write() as conn:
            return self._many(conn, self._insert_new(INSTANCES), values)

    # ---- users and tokens -------------------------------------------------------------
    def add_user(self, name: str, role: str) -> str:
        token = secrets.token_urlsafe(32)
        now = rows.utc_text(rows.now_utc())
        with self._write() as conn:
            created = conn.execute(
                self._sql(
                    "INSERT INTO users (name, role, active, created_at) "
                    "VALUES ({p}, {p}, {p}, {p}) ON CONFLICT (name) DO NOTHING"
                ),
                (name, role, True, now),
            )
            if created.rowcount == 0:
                raise Conflict(Message("user {name} already exists", name=repr(name)), field="name")
            conn.execute(
                self._sql("INSERT INTO tokens VALUES ({p}, {p}, {p}, NULL)"),
                (hash_token(token), name, now),
            )
        return token

    def add_token(self, name: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._write() as conn:
            inserted = conn.execute(
                self._sql(
                    "INSERT INTO tokens SELECT {p}, name, {p}, NULL FROM users "
                    "WHERE name = {p} AND active"
                ),
                (hash_token(token), rows.utc_text(rows.now_utc()), name),
            )
            if inserted.rowcount == 0:
                raise NotFound(Message("no active user {name}", name=repr(name)), field="name")
        return token

    def revoke_token(self, token: str) -> None:
        with self._write() as conn:
            conn.execute(
                self._sql(
                    "UPDATE tokens SET revoked_at = {p} "
                    "WHERE token_hash = {p} AND revoked_at IS NULL"
                ),
                (rows.utc_text(rows.now_utc()), hash_token(token)),
            )

    def user_for_token(self, token: str) -> User | None:
        row = self._read_one(
            self._sql(
                "SELECT u.name, u.role, u.active, u.created_at FROM tokens t "
                "JOIN users u ON u.name = t.user_name "
                "WHERE t.token_hash = {p} AND t.revoked_at IS NULL AND u.active"
            ),
            (hash_token(token),),
        )
        return _user(row) if row else None

    # ---- browser sessions -------------------------------------------------------------
    def start_session(self, name: str) -> str:
        session = secrets.token_urlsafe(32)
        now = rows.utc_text(rows.now_utc())
        with self._write() as conn:
            conn.execute(
                self._sql(
                    "INSERT INTO sessions SELECT {p}, name, {p}, {p}, NULL FROM users "
                    "WHERE name = {p} AND active"
                ),
                (hash_token(session), now, now, name),
            )
        return session

    def session_user(self, session: str, *, idle: timedelta, longest: timedelta) -> User | None:
        """The user of a live session; None once it ended, sat idle or lived too long.

        Its last use is written at most once a minute, so a page's requests cost no write.
        """
        key = hash_token(session)
        row = self._read_one(
            self._sql(
                "SELECT u.name, u.role, u.active, u.created_at, s.created_at, s.last_seen_at "
                "FROM sessions s JOIN users u ON u.name = s.user_name "
                "WHERE s.session_hash = {p} AND s.ended_at IS NULL AND u.active"
            ),
            (key,),
        )
        if row is None:
            return None
        now = rows.now_utc()
        started, seen = rows.as_datetime(row[4]), rows.as_datetime(row[5])
        if now - seen > idle or now - started > longest:
            return None
        if now - seen > _SESSION_TOUCH:
            with self._write() as conn:
                conn.execute(
                    self._sql("UPDATE sessions SET last_seen_at = {p} WHERE session_hash = {p}"),
                    (rows.utc_text(now), key),
                )
        return _user(row[:4])

    def end_session(self, session: str) -> None:
        with self._write() as conn:
            conn.execute(
                self._sql(
                    "UPDATE sessions SET ended_at = {p} "
                    "WHERE session_hash = {p} AND ended_at IS NULL"
                ),
                (rows.utc_text(rows.now_utc()), hash_token(session)),
            )

    def list_users(self) -> list[User]:
        found = self._read_all("SELECT name, role, active, created_at FROM users ORDER BY name")
        return [_user(r) for r in found]

    def revoke_user(self, name: str) -> None:
        with self._write() as conn:
            revoked = conn.execute(
                self._sql("UPDATE users SET active = {p} WHERE name = {p}"), (False, name)
            )
            if revoked.rowcount == 0:
                raise NotFound(Message("no user {name}", name=repr(name)), field="name")
            conn.execute(
                self._sql(
                    "UPDATE tokens SET revoked_at = {p} "
                    "WHERE user_name = {p} AND revoked_at IS NULL"
                ),
                (rows.utc_text(rows.now_utc()), name),
            )

    # ---- bulk, transfer ---------------------------------------------------------------
    def iter_all_observations(self, *, batch_size: int = 5000) -> Iterator[list[Observation]]:
        for chunk in self.export_observations(batch_size=batch_size):
            yield [item.observation for item in chunk]

    def export_observations(self, *, batch_size: int = 5000) -> Iterator[list[StoredObservation]]:
        """Every observation with its upload hash and change_seq, in id order."""
        for chunk in self._paged(OBSERVATIONS, "id", batch_size):
            yield [
                StoredObservation(rows.row_to_observation(r), r[_UPLOAD_HASH], int(r[_SEQ]))
                for r in chunk
            ]

    def iter_all_revisions(self, *, batch_size: int = 5000) -> Iterator[list[Revision]]:
        for chunk in self._paged(REVISIONS, "seq", batch_size):
            yield [rows.row_to_revision(r) for r in chunk]

    def _paged(self, table: Table, key: str, batch_size: int) -> Iterator[list[Any]]:
        """Every row of a table in `key` order, a batch at a time (keyset paging)."""
        select, position = table.select(), table.index[key]
        found = self._read_all(f"{select} ORDER BY {key} LIMIT {self.mark}", (batch_size,))
        while found:
            yield found
            after = found[-1][position]
            found = self._read_all(
                f"{select} WHERE {key} > {self.mark} ORDER BY {key} LIMIT {self.mark}",
                (str(after) if key in ("id", "instance_id") else after, batch_size),
            )

    def iter_all_surveys(self, *, batch_size: int = 5000) -> Iterator[list[Survey]]:
        after = ""
        while batch := self.list_surveys(limit=batch_size, after=after):
            after = batch[-1].id
            yield batch

    def import_surveys(self, surveys: Sequence[Survey]) -> int:
        """Copy surveys with their creation times; ones already here are kept."""
        with self._write() as conn:
            return self._many(
                conn, self._insert_new(SURVEYS), [rows.survey_row(s) for s in surveys]
            )

    def export_accounts(self) -> Accounts:
        """Users and token hashes (tokens themselves are never stored anywhere)."""
        found = self._read_all(
            "SELECT token_hash, user_name, created_at, revoked_at FROM tokens ORDER BY token_hash"
        )
        tokens = [
            TokenRecord(h, u, rows.as_datetime(c), rows.as_datetime(r) if r else None)
            for h, u, c, r in found
        ]
        return Accounts(self.list_users(), tokens)

    def import_accounts(self, accounts: Accounts) -> None:
        """Copy users and token hashes; ones already here are kept as they are."""
        utc = rows.utc_text
        users = [
            (u.name, u.role, u.active, utc(u.created_at or rows.now_utc())) for u in accounts.users
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
        values = self._sql("VALUES ({p}, {p}, {p}, {p}) ON CONFLICT DO NOTHING")
        with self._write() as conn:
            self._many(conn, f"INSERT INTO users (name, role, active, created_at) {values}", users)
            self._many(conn, f"INSERT INTO tokens {values}", tokens)

    def import_herd_decisions(self, decisions: Sequence[HerdDecision]) -> int:
        """Copy decisions with their ids and times; ones already here are kept."""
        with self._write() as conn:
            copied = self._many(
                conn, self._insert_decisions(), [rows.decision_row(d) for d in decisions]
            )
            self._after_decisions_copied(conn)
        return copied

    def _insert_decisions(self) -> str:
        return self._insert_new(HERD_DECISIONS)

    def _after_decisions_copied(self, conn: Any) -> None:
        """Let decisions made here later number after the copied ones (PostGIS only)."""


def _photo_info(row: Row) -> PhotoInfo:
    oid, name, sha, media, size, width, height, by, created = row
    return PhotoInfo(
        UUID(str(oid)),
        name,
        sha,
        media,
        int(size),
        int(width),
        int(height),
        by,
        rows.as_datetime(created),
    )


def _user(row: Row) -> User:
    name, role, active, created_at = row
    return User(name, role, bool(active), rows.as_datetime(created_at))


def _instance(row: dict[str, Any]) -> Instance:
    deprecated = row["deprecated_id"]
    return Instance(
        instance_id=UUID(str(row["instance_id"])),
        observation_id=UUID(str(row["observation_id"])),
        revision=int(row["revision"]),
        xml_sha256=row["xml_sha256"],
        observer=row["observer"],
        deprecated_id=UUID(str(deprecated)) if deprecated else None,
        received_at=rows.as_datetime(row["received_at"]),
    )


def _other_bytes(name: str, start: int, overlap_end: int) -> Conflict:
    """A chunk that contradicts the bytes held of an unfinished upload (seen: a re-sent
    chunk of another file silently overwrote them, and the photo completed corrupt)."""
    return Conflict(
        Message(
            "this chunk of photo {name} differs from the bytes {start}-{last} the server "
            "holds of its unfinished upload: it is another file; send it under another name",
            name=repr(name),
            start=str(start),  # a byte offset, not a count: no grouping
            last=str(overlap_end - 1),
        ),
        field="Content-Range",
    )
