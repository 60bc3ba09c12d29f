"""The store interface every backend implements, and `open_store(url)` to pick one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from data.bulk import Accounts, StoredObservation
from data.herds import HerdDecision, SightingColumns
from domain.errors import BadDatabaseUrl, Conflict, Gone
from domain.i18n import Message
from domain.openrosa import Instance
from domain.photos import Photo, PhotoInfo
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


class ObservationStore(Protocol):
    """Narrow, typed contract shared by the SQLite and PostGIS backends."""

    url: str

    def migrate(self, *, progress: Callable[[int, int], None] | None = None) -> list[str]:
        """Apply pending schema migrations; returns the names applied. Stored texts of an
        older format are then refreshed, reporting progress(done, total) as they go."""
        ...

    # observations
    def add_observations(
        self, batch: Sequence[Observation], *, actor: str, reason: str | None = None
    ) -> list[Outcome]:
        """Store new observations in one transaction; re-sends are reported, not duplicated.
        `reason` goes on the create revisions (an import names its file there)."""
        ...

    def add_observation_batches(
        self,
        batches: Iterable[Sequence[Observation]],
        *,
        actor: str,
        reason: str | None = None,
        commit: bool | Callable[[], bool] = True,
        on_outcomes: Callable[[Sequence[Observation], list[Outcome]], None],
    ) -> bool:
        """Many batches in one transaction, all or none; commit=False rolls back (a dry
        run with the real outcomes). Returns whether it committed."""
        ...

    def get_observation(self, observation_id: UUID) -> Observation:
        """The current version; raises NotFound."""
        ...

    def query_observations(self, query: ObservationQuery) -> Page:
        """One page of observations ordered by (observed_at, id)."""
        ...

    def query_features(self, query: ObservationQuery) -> FeaturePage:
        """The same page as query_observations, as GeoJSON text (the listing's hot path)."""
        ...

    def count_observations(self, query: ObservationQuery) -> int: ...

    def count_at_most(self, query: ObservationQuery, cap: int) -> int | None:
        """The count when it is at most `cap` (reads at most cap+1 rows), else None."""
        ...

    def observation_extent(self, query: ObservationQuery) -> Extent | None:
        """Bounding box and time span of the matching observations; None when none match."""
        ...

    def update_observation(
        self, observation_id: UUID, changes: dict[str, Any], *, base_revision: int, actor: str
    ) -> Observation:
        """Apply an edit made against `base_revision`; raises Conflict when it is stale."""
        ...

    def retract_observation(
        self, observation_id: UUID, *, actor: str, reason: str | None = None
    ) -> Observation:
        """Tombstone an observation (never a hard delete)."""
        ...

    def history(self, observation_id: UUID) -> list[Revision]: ...

    def changes_since(
        self, cursor: int, *, limit: int, observer: str | None = None
    ) -> tuple[list[Observation], int]:
        """Observations changed after `cursor`, and the cursor to ask with next."""
        ...

    def herd_counts(
        self,
        query: ObservationQuery,
        *,
        every: Period,
        by: str = "population",
        cell_size_m: float = 50_000.0,
        seasons: SeasonCalendar | None = None,
    ) -> list[HerdCount]:
        """Counts summed per period and population, by "population", "region" or "cell"."""
        ...

    def sighting_columns(self, query: ObservationQuery) -> SightingColumns:
        """Every matching sighting (no paging, `limit` ignored) as lean numpy columns,
        ordered by (whole UTC second, id)."""
        ...

    def prepare_sighting_reads(self) -> None:
        """Start now what sighting_columns will need (SQLite: its reader process), without
        waiting for it: a caller about to read does other work meanwhile."""
        ...

    # herd de-duplication decisions
    def add_herd_decision(self, decision: HerdDecision) -> HerdDecision:
        """Append a decision; returns it with its id and decided_at set (never updated)."""
        ...

    def list_herd_decisions(self) -> list[HerdDecision]:
        """Every decision, oldest first (the order reports replay them in)."""
        ...

    def sightings_changed_after(self, seq: int) -> tuple[int, list[tuple[str, datetime]]]:
        """The revisions numbered above `seq`: how many there are, and the id and current
        time (UTC) of each observation they changed (active or retracted). What a kept
        herd grouping needs to regroup only the time blocks a change touched."""
        ...

    def revision_mark(self, seq: int) -> tuple[int, str]:
        """How many revisions are numbered up to `seq`, and which one is numbered `seq`
        ("observation id/revision/time", "" if none): with data_version, tells a herd
        grouping saved at `seq` from one of another store or a restored copy."""
        ...

    def data_version(self) -> tuple[int, ...]:
        """Latest revision seq, revisions, herd decisions and surveys. Every change a report
        could see adds a revision, a decision or a survey (all three append-only; a transfer
        copies revisions with their old numbers, hence the count beside the latest), so an
        equal version means an equal report."""
        ...

    # surveys
    def add_survey(self, survey: Survey) -> Outcome: ...

    def get_survey(self, survey_id: str) -> Survey: ...

    def list_surveys(self, *, limit: int = 100, after: str | None = None) -> list[Survey]: ...

    # OpenRosa instances (ODK Collect, KoboCollect submissions)
    def get_instance(self, instance_id: UUID) -> Instance | None: ...

    def add_instance(self, instance: Instance) -> Instance:
        """Remember a received instance; one already remembered is kept and returned."""
        ...

    def iter_all_instances(self, *, batch_size: int = 5000) -> Iterator[list[Instance]]: ...

    def import_instances(self, instances: Sequence[Instance]) -> int:
        """Copy instances with their receipt times (transfer); returns how many were new."""
        ...

    # users and tokens
    def add_user(self, name: str, role: str) -> str:
        """Create a user and return a new plain token (only its hash is kept)."""
        ...

    def add_token(self, name: str) -> str: ...

    def user_for_token(self, token: str) -> User | None: ...

    def start_session(self, name: str) -> str: ...

    def session_user(self, session: str, *, idle: timedelta, longest: timedelta) -> User | None: ...

    def end_session(self, session: str) -> None: ...

    def revoke_token(self, token: str) -> None: ...

    def list_users(self) -> list[User]: ...

    def revoke_user(self, name: str) -> None: ...

    # bulk, for transfer and export
    def iter_all_observations(self, *, batch_size: int = 5000) -> Iterator[list[Observation]]: ...

    def iter_all_revisions(self, *, batch_size: int = 5000) -> Iterator[list[Revision]]: ...

    # photos of observations (data/photos.py holds the upload rules)
    def list_photos(self, observation_id: UUID) -> list[PhotoInfo]: ...

    def get_photo(self, observation_id: UUID, name: str) -> PhotoInfo | None: ...

    def photo_bytes(self, observation_id: UUID, name: str, *, thumbnail: bool = False) -> bytes:
        """The photo's bytes (or its JPEG thumbnail); raises NotFound."""
        ...

    def photo_upload_state(self, observation_id: UUID, name: str) -> tuple[int, int] | None:
        """(bytes received, bytes announced) of an upload still arriving, else None."""
        ...

    def add_photo_chunk(
        self, observation_id: UUID, name: str, *, start: int, total: int, chunk: bytes, actor: str
    ) -> bytes:
        """Write a chunk at `start`; the bytes held so far. A gap raises UploadOffset,
        other bytes than those held where it overlaps raise Conflict."""
        ...

    def discard_photo_upload(self, observation_id: UUID, name: str) -> None: ...

    def iter_all_photos(self, *, batch_size: int = 50) -> Iterator[list[Photo]]:
        """Every stored photo with its bytes, ordered by (observation id, name)."""
        ...

    def add_photo(self, photo: Photo) -> str:
        """ "created" or "unchanged" (same SHA-256); other bytes, same name: Conflict."""
        ...

    # transfer (`herdwatch transfer`): faithful copies between stores, safe to re-run
    def export_observations(self, *, batch_size: int = 5000) -> Iterator[list[StoredObservation]]:
        """Every observation with its upload hash and change_seq, in id order."""
        ...

    def iter_all_surveys(self, *, batch_size: int = 5000) -> Iterator[list[Survey]]: ...

    def import_observations(self, items: Sequence[StoredObservation]) -> int:
        """Copy records as they are; one already here is replaced only by a later revision."""
        ...

    def import_revisions(self, revisions: Sequence[Revision]) -> int:
        """Copy audit entries with their seq; returns how many were new here."""
        ...

    def import_surveys(self, surveys: Sequence[Survey]) -> int: ...

    def export_accounts(self) -> Accounts:
        """Users and token hashes (never tokens)."""
        ...

    def import_accounts(self, accounts: Accounts) -> None: ...

    def import_herd_decisions(self, decisions: Sequence[HerdDecision]) -> int:
        """Copy decisions with their ids and decided_at; returns how many were new here."""
        ...

    def close(self) -> None: ...


def sqlite_path(url: str) -> str | None:
    """The file of a sqlite:/// URL, None for any other."""
    if not url.startswith("sqlite:"):
        return None
    return url.removeprefix("sqlite:///").removeprefix("sqlite://") or None


def store_identity(url: str) -> str:
    """The store's URL without its password, hashed: what a saved herd grouping names its
    store by (reports.herd_file), so it holds no secret and a new password leaves it
    usable."""
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[-1]
        parts = parts._replace(netloc=f"{parts.username}@{host}")
    return hashlib.sha256(urlunsplit(parts).encode()).hexdigest()[:32]


def open_store(url: str) -> ObservationStore:
    """Open the store named by a URL: sqlite:///path.db or postgresql://..."""
    if url.startswith("sqlite:"):
        from data.sqlite import SQLiteStore

        return SQLiteStore.from_url(url)
    if url.startswith(("postgresql:", "postgres:")):
        from data.postgis import PostGISStore  # type: ignore[import-not-found,unused-ignore]

        return PostGISStore.from_url(url)  # type: ignore[no-any-return,unused-ignore]
    raise BadDatabaseUrl(
        Message(
            "unsupported database URL {url}: use sqlite:///file.db or postgresql://…", url=repr(url)
        )
    )


def check_editable(current: Observation, base_revision: int) -> None:
    """An edit must be of an active record, made against its current revision."""
    if current.status == "retracted":
        raise Gone(Message("observation {id} was retracted", id=str(current.id)), field="id")
    if current.revision != base_revision:
        raise Conflict(
            Message(
                "observation {id} is at revision {revision}, your edit was based on "
                "revision {base_revision}: reload it and edit again",
                id=str(current.id),
                revision=str(current.revision),
                base_revision=str(base_revision),
            ),
            field="revision",
        )
