"""`herdwatch import` on the real data sets: Norway reindeer GPS fixes, BC caribou from
Movebank; and the round trip from our own exports into an empty store."""

from __future__ import annotations

import csv
import math
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from data.imports.mapping import ID_NAMESPACE
from data.sqlite import SQLiteStore
from domain.records import Observation
from field_api.app import create_app
from field_api.cli import main
from field_api.settings import Settings
from tests.factories import make_batch

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NORWAY = DATA / "reindeer_norway" / "reindeer_setesdal_austhei_gps.csv"
CARIBOU = DATA / "caribou_bc" / "mountain_caribou_bc_radio_transmitter.csv"
if not NORWAY.exists():  # a worktree beside /work/shared, or the main checkout
    DATA = Path("/work/shared/data")
    NORWAY = DATA / "reindeer_norway" / "reindeer_setesdal_austhei_gps.csv"
    CARIBOU = DATA / "caribou_bc" / "mountain_caribou_bc_radio_transmitter.csv"
NORWAY_ARGS = [
    "--crs", "EPSG:25833",
    "--map", "x=x", "--map", "y=y", "--map", "observed_at=t",
    "--map", "device_id=original_animal_id",
    "--set", "count=1", "--timezone", "Europe/Oslo",
]  # fmt: skip


def herdwatch(db: Path, *args: str | Path) -> int:
    if not db.exists():  # only `herdwatch migrate` makes a new database (issue 10)
        assert main(["--database-url", f"sqlite:///{db}", "migrate"]) == 0
    return main(["--database-url", f"sqlite:///{db}", *map(str, args)])


def stored(db: Path) -> dict[uuid.UUID, Observation]:
    store = SQLiteStore(str(db))
    try:
        return {o.id: o for batch in store.iter_all_observations() for o in batch}
    finally:
        store.close()


def metres_apart(lon: float, lat: float, lon2: float, lat2: float) -> float:
    """Small distances on the sphere (good to far below a millimetre at these scales)."""
    north = math.radians(lat2 - lat) * 6_371_000
    east = math.radians(lon2 - lon) * 6_371_000 * math.cos(math.radians(lat))
    return math.hypot(north, east)


def test_norway_reindeer_fixes_in_utm_33n(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # About 3 s to import the 33,202 rows into SQLite here, 2 s for the second run.
    db = tmp_path / "h.db"
    assert herdwatch(db, "import", NORWAY, *NORWAY_ARGS, "--no-progress") == 0
    out = capsys.readouterr().out
    assert "33,202 rows (33,202 created); 33,202 observations stored" in out
    # The herds grouped and saved for the first report (reports/herd_file.py).
    assert "herds for reports in" in out and f"(saved in {db}.herds)" in out
    assert (tmp_path / "h.db.herds" / "current.json").exists()
    records = stored(db)
    assert len(records) == 33_202
    to_lon_lat = Transformer.from_crs("EPSG:25833", "EPSG:4326", always_xy=True)
    with NORWAY.open() as f:
        rows = list(csv.DictReader(f))
    lons, lats = to_lon_lat.transform([float(r["x"]) for r in rows], [float(r["y"]) for r in rows])
    for number, (row, lon, lat) in enumerate(zip(rows, lons, lats, strict=True), start=1):
        obs = records[uuid.uuid5(ID_NAMESPACE, f"{NORWAY.name}||row {number}")]
        assert metres_apart(obs.lon, obs.lat, lon, lat) < 0.001
        # Instants, not datetimes: Python never calls a time in a repeated hour (the
        # autumn change to CET) equal to one in another zone.
        assert obs.observed_at.timestamp() == datetime.fromisoformat(row["t"]).timestamp()
        assert obs.device_id == row["original_animal_id"] and obs.count == 1
    report = tmp_path / "again.csv"
    assert herdwatch(db, "import", NORWAY, *NORWAY_ARGS, "--no-progress", "--report", report) == 0
    out = capsys.readouterr().out
    assert "0 observations stored" in out and "herds for reports" not in out  # nothing new
    with report.open() as f:
        statuses = {row["status"] for row in csv.DictReader(f)}
    assert statuses == {"unchanged"}
    assert len(stored(db)) == 33_202


def test_movebank_caribou_against_a_geopandas_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, report = tmp_path / "h.db", tmp_path / "report.csv"
    code = herdwatch(
        db, "import", CARIBOU, "--format", "movebank", "--no-progress", "--report", report
    )
    assert code == 0
    out = capsys.readouterr().out
    frame = pd.read_csv(CARIBOU)
    points = gpd.GeoDataFrame(
        frame,
        geometry=gpd.points_from_xy(frame["location-long"], frame["location-lat"]),
        crs="EPSG:4326",
    )
    outliers = points[~points["visible"]]
    kept = points[points["visible"]]
    assert len(points) == 3_992 and len(outliers) == 1
    records = stored(db)
    assert len(records) == len(kept) == 3_991
    times = pd.to_datetime(kept["timestamp"], utc=True)
    for (_, row), when in zip(kept.iterrows(), times, strict=True):
        obs = records[uuid.uuid5(ID_NAMESPACE, f"movebank|{row['event-id']}")]
        assert abs(obs.lon - row.geometry.x) < 1e-9 and abs(obs.lat - row.geometry.y) < 1e-9
        assert obs.observed_at.timestamp() == when.to_pydatetime().timestamp()
        assert obs.device_id == row["tag-local-identifier"] and obs.count == 1
        assert obs.notes is not None and row["individual-local-identifier"] in obs.notes
    # The invisible event (Movebank's duplicate filter marked it an outlier) is reported
    # as skipped, with its row number, and never stored.
    [outlier_row] = [i + 1 for i in outliers.index]
    assert f"row {outlier_row}: skipped: Movebank marks this event as not visible" in out
    with report.open() as f:
        skipped = [r for r in csv.DictReader(f) if r["status"] == "skipped"]
    assert [int(r["row"]) for r in skipped] == [outlier_row]
    event = outliers.iloc[0]["event-id"]
    assert uuid.uuid5(ID_NAMESPACE, f"movebank|{event}") not in records


def test_movebank_outlier_flags_without_a_visible_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fixes.csv"
    header = "event-id,timestamp,location-long,location-lat,algorithm-marked-outlier,"
    header += "manually-marked-valid,tag-local-identifier,individual-local-identifier\n"
    path.write_text(
        header
        + "1,2008-04-10 19:00:00.000,-122.5,56.2,,,T1,A1\n"
        + "2,2008-04-11 19:00:00.000,-122.6,56.3,true,,T1,A1\n"  # an outlier: skipped
        + "3,2008-04-12 19:00:00.000,-122.7,56.4,true,true,T1,A1\n"  # marked valid again
        + "4,2008-04-13 19:00:00.000,,,,,T1,A1\n"  # a failed fix: skipped, not invalid
    )
    db = tmp_path / "h.db"
    assert herdwatch(db, "import", path, "--format", "movebank", "--no-progress") == 0
    out = capsys.readouterr().out
    assert "row 2: skipped: Movebank flags this event as an outlier" in out
    assert "row 4: skipped: Movebank event without a location (a failed fix)" in out
    events = {uuid.uuid5(ID_NAMESPACE, f"movebank|{n}") for n in (1, 3)}
    assert set(stored(db)) == events


def test_a_dry_run_exits_non_zero_when_rows_are_invalid_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("observed_at,lon,lat,count\n2020-01-01T00:00:00Z,126,71,x\n")
    db = tmp_path / "h.db"
    assert herdwatch(db, "import", path, "--dry-run", "--no-progress") == 1
    out = capsys.readouterr().out
    assert "row 1: invalid: count: column 'count': 'x' is not a whole number" in out
    assert "nothing was written" in out
    assert herdwatch(db, "import", path, "--no-progress") == 1
    assert stored(db) == {}


@pytest.mark.parametrize("kind", ["csv", "geojson", "parquet"])
def test_an_export_imported_into_an_empty_store_gives_identical_records(
    tmp_path: Path, kind: str
) -> None:
    source = SQLiteStore(str(tmp_path / "source.db"))
    source.migrate()
    token = source.add_user("rita", "researcher")
    originals = make_batch(30)
    originals[3] = replace(originals[3], notes='two herds; "one" with calves, 1 lame')
    originals[4] = replace(originals[4], accuracy_m=None, survey_id="s-1", device_id=None)
    later = originals[5].observed_at.replace(microsecond=123_456)
    originals[5] = replace(originals[5], observed_at=later, timezone="Asia/Magadan")
    source.add_observations(originals, actor="olga")
    settings = Settings(database_url=source.url, _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, source)) as client:
        export = client.get(
            f"/api/v1/observations.{kind}", headers={"Authorization": f"Bearer {token}"}
        )
    source.close()
    path = tmp_path / f"export.{kind}"
    path.write_bytes(export.content)
    db = tmp_path / "target.db"
    assert herdwatch(db, "import", path, "--no-progress", "--observer", "olga") == 0
    copies = stored(db)
    assert set(copies) == {o.id for o in originals}
    for original in originals:
        copy = copies[original.id]
        assert copy.client_content() == original.client_content()
        assert copy.content_hash() == original.content_hash()
        assert copy.observer == original.observer


def readme_imports() -> list[list[str]]:
    """The `herdwatch import` commands of the README's import section, as argument lists."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## Importing survey files", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    commands = [line.split() for line in block.splitlines() if "herdwatch import" in line]
    return [c[c.index("import") :] for c in commands]


def test_the_readme_import_examples_run_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = readme_imports()
    assert [c[1].rsplit("/", 1)[-1] for c in commands] == [NORWAY.name, CARIBOU.name]
    monkeypatch.chdir(tmp_path)  # where the example's --report file goes
    for command in commands:
        args = [a.replace("../shared/data", str(DATA)) for a in command]
        dry = [] if "--dry-run" in args else ["--dry-run"]
        assert herdwatch(tmp_path / "h.db", *args, *dry, "--no-progress") == 0
    out = capsys.readouterr().out
    assert "dry run: 33,202 rows (33,202 created); nothing was written" in out
    assert "dry run: 3,992 rows (3,991 created, 1 skipped); nothing was written" in out
    assert (tmp_path / "norway-report.csv").exists()


def test_dry_run_on_the_screen_lists_exactly_the_five_broken_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.data.test_imports import BROKEN, survey_rows, write_csv

    path = write_csv(tmp_path / "broken.csv", survey_rows())
    db, report = tmp_path / "h.db", tmp_path / "report.csv"
    args = ["--map", "observed_at=when", "--map", "count=n", "--no-progress"]
    assert herdwatch(db, "import", path, *args, "--dry-run", "--report", report) == 1
    listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("row ")]
    assert [int(line.split(":")[0].removeprefix("row ")) for line in listed] == sorted(BROKEN)
    assert all(": invalid: " in line for line in listed)
    with report.open() as f:
        invalid = [int(r["row"]) for r in csv.DictReader(f) if r["status"] == "invalid"]
    assert invalid == sorted(BROKEN)
    assert stored(db) == {}
    assert herdwatch(db, "import", path, *args) == 1  # without --skip-invalid: nothing
    assert stored(db) == {}
    assert herdwatch(db, "import", path, *args, "--skip-invalid") == 0
    assert len(stored(db)) == 10 - len(BROKEN)


def test_commit_every_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    args = ["import", CARIBOU, "--format", "movebank", "--no-progress"]
    assert herdwatch(db, *args, "--commit-every", "0") == 2
    assert herdwatch(db, *args, "--commit-every", "1000") == 0
    assert len(stored(db)) == 3_991
    store = SQLiteStore(str(db))
    try:  # one create revision per record, none lost between the transactions
        assert store.data_version()[1] == 3_991
    finally:
        store.close()


def test_an_import_that_cannot_group_the_herds_still_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import field_api.cli.common

    def broken(store: object, settings: object, **options: object) -> None:
        raise OSError("No space left on device")

    def interrupted(store: object, settings: object, **options: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(field_api.cli.common, "group_herds_for_reports", broken)
    rows = tmp_path / "few.csv"
    rows.write_text(
        "lon,lat,observed_at,count,population\n"
        "126.1,71.0,2024-07-10T10:00:00+09:00,40,lena-olenek\n"
        "126.2,71.1,2024-07-10T12:00:00+09:00,35,lena-olenek\n"
    )
    db = tmp_path / "h.db"
    assert herdwatch(db, "import", rows, "--timezone", "Asia/Yakutsk", "--no-progress") == 0
    captured = capsys.readouterr()
    assert "2 observations stored" in captured.out
    assert "herds not grouped for reports: No space left on device" in captured.err
    assert len(stored(db)) == 2
    # Ctrl-C while grouping: the summary of what was stored is still printed.
    monkeypatch.setattr(field_api.cli.common, "group_herds_for_reports", interrupted)
    more = tmp_path / "more.csv"
    more.write_text(rows.read_text().replace("40,", "41,").replace("35,", "36,"))
    assert herdwatch(db, "import", more, "--timezone", "Asia/Yakutsk", "--no-progress") == 0
    captured = capsys.readouterr()
    assert "2 observations stored" in captured.out
    assert "herds not grouped for reports: interrupted" in captured.err


def test_an_import_says_when_the_grouped_herds_could_not_be_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("HERDWATCH_HERD_FILES", str(blocked))
    rows = tmp_path / "few.csv"
    rows.write_text(
        "lon,lat,observed_at,count,population\n"
        "126.1,71.0,2024-07-10T10:00:00+09:00,40,lena-olenek\n"
    )
    db = tmp_path / "h.db"
    assert herdwatch(db, "import", rows, "--timezone", "Asia/Yakutsk", "--no-progress") == 0
    out = capsys.readouterr().out
    assert "1 observation stored" in out or "1 observations stored" in out
    assert "herds for reports in" in out and f"not saved in {blocked}:" in out
    assert "saved in" not in out.replace(f"not saved in {blocked}", "")
