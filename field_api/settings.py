"""Settings, read once from HERDWATCH_* environment variables (or .env) and passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from data.store import sqlite_path, store_identity
from domain.census import CensusRule
from domain.i18n import N_
from domain.records import POPULATIONS
from domain.seasons import DEFAULT_SEASONS, SeasonCalendar

if TYPE_CHECKING:
    from data.exports.dwca import DatasetInfo
    from maps.service import MapOptions

_DEFAULT_SEASONS = ",".join(f"{name}={start}" for name, start in DEFAULT_SEASONS)


class Settings(BaseSettings):
    """Every setting is documented in .env.example."""

    model_config = SettingsConfigDict(env_prefix="HERDWATCH_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///herdwatch.db"
    api_title: str = N_("Herdwatch: wild reindeer counts in Yakutia")  # translated unless set
    max_batch_size: int = Field(5000, ge=1, le=100_000)
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    max_import_bytes: int = Field(64 * 1024 * 1024, ge=1024)  # POST /api/v1/imports' file
    anonymous_body_bytes: int = Field(64 * 1024, ge=1024)  # the sign-in form's body
    body_timeout_seconds: float = Field(60.0, gt=0)  # a body must arrive within this
    max_future_minutes: float = Field(10.0, ge=0)
    page_limit_default: int = Field(100, ge=1)
    page_limit_max: int = Field(10_000, ge=1)
    extra_populations: str = ""  # comma-separated ids an administrator adds to the list
    seasons: str = _DEFAULT_SEASONS
    # The census survey of a population (reports take its count, not the largest survey's):
    # "lena-olenek=post-calving,..." by season, and/or survey ids.
    census_seasons: str = ""
    census_surveys: str = ""
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    map_sightings_max: int = Field(
        500, ge=0, le=20_000
    )  # maps draw sightings one by one up to this
    thread_pool_size: int = Field(100, ge=1, le=1000)
    herd_cache: bool = True  # keep the herd grouping between report requests (memory: README)
    # Where the herd grouping is saved for new processes (reports/herd_file.py): "auto"
    # beside a SQLite database file (<file>.herds), for PostGIS in the user's cache
    # ($XDG_CACHE_HOME or ~/.cache, herdwatch/herds-<store>); "off"; or a directory.
    herd_files: str = "auto"
    chart_process: bool = True  # a report's map is drawn in a helper process meanwhile
    preload: bool = False  # a served worker imports the map and report libraries at start
    # The Darwin Core Archive's metadata (eml.xml): who publishes it and under what licence.
    dataset_title: str = "Wild reindeer (Rangifer tarandus) herd counts in Yakutia"
    dataset_contact: str = "Herdwatch data manager <data@herdwatch.invalid>"
    dataset_licence: str = "http://creativecommons.org/licenses/by/4.0/legalcode"
    session_cookie: str = "herdwatch_session"
    session_idle_minutes: float = Field(8 * 60, gt=0)  # a session unused this long ends
    session_max_hours: float = Field(
        14 * 24, gt=0
    )  # and every session ends this long after sign-in
    secure_cookies: bool = False
    max_photo_bytes: int = Field(25 * 1024 * 1024, ge=1024)  # one photo, all its chunks
    # The field app's longest wait between send attempts (its backoff's cap), in seconds.
    field_retry_max_s: float = Field(60.0, ge=0.5, le=3600)
    # An XLSForm for ODK Collect / KoboCollect instead of the built-in herd_sighting form;
    # its questions map to observation fields by name (README, "ODK Collect").
    openrosa_form: Path | None = None

    @field_validator("seasons")
    @classmethod
    def _seasons_parse(cls, value: str) -> str:
        SeasonCalendar.parse(value)
        return value

    @field_validator("census_seasons")
    @classmethod
    def _census_parse(cls, value: str) -> str:
        CensusRule.parse(seasons=_items(value))
        return value

    @property
    def census(self) -> CensusRule:
        return CensusRule.parse(_items(self.census_seasons), _items(self.census_surveys))

    @property
    def populations(self) -> tuple[str, ...]:
        extra = tuple(p.strip() for p in self.extra_populations.split(",") if p.strip())
        return POPULATIONS + tuple(p for p in extra if p not in POPULATIONS)

    def herd_files_dir(self, database_url: str | None = None) -> Path | None:
        """The herd_files setting as a directory for the store at database_url (default:
        database_url's), or None (not saved)."""
        url = database_url or self.database_url
        if self.herd_files == "off" or not self.herd_files:
            return None
        if self.herd_files != "auto":
            return Path(self.herd_files)
        path = sqlite_path(url)
        if path is None:  # PostgreSQL: a directory per store in this user's cache
            return _cache_dir(f"herds-{store_identity(url)[:16]}")
        return Path(f"{path}.herds") if path != ":memory:" else None

    @property
    def season_calendar(self) -> SeasonCalendar:
        return SeasonCalendar.parse(self.seasons)

    def dataset_info(self) -> DatasetInfo:
        """Who publishes the data, for the Darwin Core Archive's eml.xml."""
        from data.exports.dwca import DatasetInfo

        return DatasetInfo(self.dataset_title, self.dataset_contact, self.dataset_licence)

    def map_options(self) -> MapOptions:
        """What a map takes from the settings (loads the map libraries: call it per map)."""
        from data.reference import boundaries_geojson
        from maps.service import MapOptions

        return MapOptions(
            seasons=self.season_calendar,
            sightings_max=self.map_sightings_max,
            tile_url=self.tile_url,
            tile_attribution=self.tile_attribution,
            boundaries=boundaries_geojson(),
        )


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _cache_dir(name: str) -> Path | None:
    """`herdwatch/<name>` in this user's cache ($XDG_CACHE_HOME when absolute, else
    ~/.cache), or None where it cannot be made (a service user whose home is /nonexistent):
    nothing is saved then, rather than every grouping failing to save. The herdwatch
    folder is the user's alone: the groupings hold every sighting's place."""
    given = os.environ.get("XDG_CACHE_HOME", "")
    try:
        base = Path(given) if Path(given).is_absolute() else Path.home() / ".cache"
        folder = base / "herdwatch"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # RuntimeError: no home directory to expand
        return None
    return folder / name if os.access(folder, os.W_OK | os.X_OK) else None
