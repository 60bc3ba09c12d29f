"""The import service on both backends: GIS layers, form exports, broken rows, atomicity."""

from __future__ import annotations

import csv
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from data.imports import ImportOptions, run_import
from data.imports.mapping import ID_NAMESPACE
from data.imports.report import ImportSummary, RowResult
from data.store import ObservationStore
from data.uploads import UploadRules
from domain.errors import InvalidInput
from domain.records import POPULATIONS, Observation

RULES = UploadRules(POPULATIONS, 10.0)


def do_import(
    store: ObservationStore, path: Path, **options: Any
) -> tuple[ImportSummary, list[RowResult]]:
    rows: list[RowResult] = []
    summary = run_import(
        store, path, ImportOptions(**options), rules=RULES, actor="rita", on_row=rows.append
    )
    return summary, rows


def everything(store: ObservationStore) -> list[Observation]:
    return [o for batch in store.iter_all_observations() for o in batch]


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


# ---- GIS layers ---------------------------------------------------------------------------


def test_geopackage_in_a_utm_zone_is_read_as_it_is_and_transformed(
    store: ObservationStore, tmp_path: Path
) -> None:
    # Points in UTM 52N (EPSG:32652) around the Lena, one polygon that must be refused.
    points = [shapely.Point(500_000 + 1000 * i, 7_800_000 + 500 * i) for i in range(4)]
    layer = gpd.GeoDataFrame(
        {
            "count": [12, 30, 7, 9, 5],
            "observed_at": [f"2003-04-0{i + 1}T10:00:00+09:00" for i in range(5)],
            "population": ["lena-olenek"] * 5,
            "calves": [2, 5, 0, 1, 0],
        },
        geometry=[*points, shapely.box(500_000, 7_800_000, 501_000, 7_801_000)],
        crs="EPSG:32652",
    )
    path = tmp_path / "aerial_2003.gpkg"
    layer.to_file(path, layer="herds")
    layer.iloc[:1].to_file(path, layer="tracks")
    with pytest.raises(InvalidInput, match="choose one with --layer") as caught:
        do_import(store, path)
    assert caught.value.field == "layer"
    summary, rows = do_import(store, path, layer="herds")
    assert summary.counts["created"] == 4 and summary.counts["invalid"] == 1
    [refused] = [r for r in rows if r.status == "invalid"]
    assert refused.row == 5 and "row 5 is a Polygon" in str(refused.reasons[0])
    assert summary.committed is False  # atomic: one bad row, nothing stored
    assert everything(store) == []

    summary, _ = do_import(store, path, layer="herds", skip_invalid=True)
    assert summary.committed and summary.stored == 4
    expected = layer.iloc[:4].to_crs("EPSG:4326")
    stored = sorted(everything(store), key=lambda o: o.observed_at)
    for obs, (_, row) in zip(stored, expected.iterrows(), strict=True):
        assert close(obs.lon, row.geometry.x) and close(obs.lat, row.geometry.y)
        assert obs.count == row["count"] and obs.composition.calves == row["calves"]
        assert obs.observed_at == datetime.fromisoformat(row["observed_at"])  # the instant


def test_shapefile_needs_a_map_for_its_short_field_names(
    store: ObservationStore, tmp_path: Path
) -> None:
    layer = gpd.GeoDataFrame(
        {
            "n_animals": [40, 55],
            "seen": ["1998-03-12 10:30", "1998-03-13 11:45"],  # naive: read in --timezone
            "herd": ["yana-indigirka", "yana-indigirka"],
        },
        geometry=[shapely.Point(140.5, 69.1), shapely.Point(141.0, 69.3)],
        crs="EPSG:4326",
    )
    path = tmp_path / "yana_1998.shp"
    layer.to_file(path)
    maps = {"count": "n_animals", "observed_at": "seen", "population": "herd"}
    summary, rows = do_import(store, path, maps=maps, dry_run=True)
    assert summary.counts["invalid"] == 2  # no --timezone: a naive time is not guessed
    assert "has no UTC offset: give --timezone" in str(rows[0].reasons[0])
    summary, _ = do_import(store, path, maps=maps, timezone="Asia/Magadan")
    assert summary.stored == 2
    first = min(everything(store), key=lambda o: o.observed_at)
    assert first.observed_at == datetime.fromisoformat("1998-03-12T10:30:00+11:00")
    assert first.timezone == "Asia/Magadan" and (first.lon, first.lat) == (140.5, 69.1)
    assert first.population == "yana-indigirka" and first.count == 40


# ---- ODK and Kobo exports -----------------------------------------------------------------


def test_odk_central_export_with_split_geopoint_columns(
    store: ObservationStore, tmp_path: Path
) -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    path = write_csv(
        tmp_path / "herd_count.csv",
        [
            {
                "SubmissionDate": "2021-05-02T09:00:00.000Z",
                "start": f"2021-05-01T1{i}:00:00.000+09:00",
                "herd-count": 20 + i,
                "herd-calves": i,
                "herd-population": "lena-olenek",
                "location-Latitude": 70.5 + i / 10,
                "location-Longitude": 125.25 + i / 10,
                "location-Altitude": 120,
                "location-Accuracy": 4.5,
                "meta-instanceID": f"uuid:{ids[i]}",
                "KEY": f"uuid:{ids[i]}",
            }
            for i in range(3)
        ],
    )
    summary, _ = do_import(store, path)  # recognised by its columns
    assert summary.preset == "odk" and summary.stored == 3
    stored = {o.id: o for o in everything(store)}
    assert set(stored) == set(ids)
    obs = stored[ids[2]]
    assert (obs.lon, obs.lat) == (125.45, 70.7) and obs.count == 22
    assert obs.composition.calves == 2 and obs.accuracy_m == 4.5
    assert obs.observed_at == datetime.fromisoformat("2021-05-01T12:00:00+09:00")


def test_kobo_export_with_a_geopoint_column_in_openrosa_order(
    store: ObservationStore, tmp_path: Path
) -> None:
    ids = [uuid.uuid4() for _ in range(2)]
    path = write_csv(
        tmp_path / "kobo.csv",
        [
            {
                "start": "2022-08-10T07:15:00.000+10:00",
                "group_herd/count": 150 + i,
                "group_herd/population": "sundrun",
                "location": f"{68.5 + i} {150.25 + i} 30 8",  # lat lon alt acc
                "_uuid": str(ids[i]),
                "_submission_time": "2022-08-11T01:00:00",
            }
            for i in range(2)
        ],
    )
    summary, _ = do_import(store, path, format="kobo")
    assert summary.stored == 2
    obs = {o.id: o for o in everything(store)}[ids[1]]
    assert (obs.lon, obs.lat) == (151.25, 69.5)  # not swapped
    assert obs.accuracy_m == 8.0 and obs.count == 151 and obs.population == "sundrun"


def test_repeat_group_tables_are_refused_clearly(tmp_path: Path, sqlite_store: Any) -> None:
    path = write_csv(
        tmp_path / "herd_count-animals.csv",
        [{"PARENT_KEY": "uuid:1", "KEY": "uuid:1/animals[1]", "sex": "f"}],
    )
    with pytest.raises(InvalidInput, match="repeat group") as caught:
        do_import(sqlite_store, path, format="odk")
    assert caught.value.field == "file"


# ---- broken rows, atomicity, re-imports ---------------------------------------------------

BROKEN = {2, 4, 5, 7, 9}


def survey_rows() -> list[dict[str, Any]]:
    rows = [
        {
            "when": f"2010-03-{10 + i}T09:00:00+09:00",
            "lon": 126.0 + i / 100,
            "lat": 71.0,
            "n": 10 + i,
            "calves": 1,
            "population": "lena-olenek",
        }
        for i in range(10)
    ]
    rows[1]["n"] = "many"  # row 2
    rows[3]["lat"] = 123.0  # row 4
    rows[4]["population"] = "atlantis"  # row 5
    rows[6]["calves"] = 50  # row 7: more calves than animals
    rows[8]["when"] = "yesterday"  # row 9
    return rows


def test_dry_run_lists_exactly_the_broken_rows_and_writes_nothing(
    store: ObservationStore, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "broken.csv", survey_rows())
    maps = {"observed_at": "when", "count": "n"}
    summary, rows = do_import(store, path, maps=maps, dry_run=True)
    invalid = {r.row: r for r in rows if r.status == "invalid"}
    assert set(invalid) == BROKEN
    assert "column 'n': 'many' is not a whole number" in str(invalid[2].reasons[0])
    assert invalid[4].fields == ("geometry.coordinates[1]",)
    assert "'atlantis' is not one of" in str(invalid[5].reasons[0])
    assert invalid[7].fields == ("properties.composition",)
    assert "'yesterday' is not a date and time" in str(invalid[9].reasons[0])
    assert summary.counts["created"] == 5 and not summary.committed
    assert everything(store) == []

    summary, _ = do_import(store, path, maps=maps)  # a real import, not --skip-invalid
    assert not summary.committed and summary.stored == 0
    assert "NOT imported" in str(summary.verdict())
    assert everything(store) == []

    summary, rows = do_import(store, path, maps=maps, skip_invalid=True)
    assert summary.committed and summary.stored == 5
    assert {r.row for r in rows if r.status == "invalid"} == BROKEN
    assert len(everything(store)) == 5


def test_reimport_adds_nothing_and_a_corrected_row_is_a_conflict(
    store: ObservationStore, tmp_path: Path
) -> None:
    rows = [r for i, r in enumerate(survey_rows(), 1) if i not in BROKEN]
    path = write_csv(tmp_path / "survey.csv", rows)
    maps = {"observed_at": "when", "count": "n"}
    assert do_import(store, path, maps=maps)[0].stored == 5
    again, _ = do_import(store, path, maps=maps)
    assert again.counts["unchanged"] == 5 and again.stored == 0
    rows[2]["n"] = 99  # corrected in the same file
    write_csv(path, rows)
    summary, results = do_import(store, path, maps=maps)
    assert summary.counts["conflict"] == 1 and summary.counts["unchanged"] == 4
    [conflict] = [r for r in results if r.status == "conflict"]
    assert conflict.row == 3 and conflict.fields == ("count",)
    # The id is uuid5 of the file's name and the row number (documented in the README).
    assert conflict.id == uuid.uuid5(ID_NAMESPACE, "survey.csv||row 3")
    history = store.history(conflict.id)
    assert history[0].reason is not None and history[0].reason.startswith(
        "imported from survey.csv (sha256 "
    )


@pytest.mark.parametrize("chunk_rows", [1, 100])  # across batches, within one
def test_an_id_twice_in_one_file_is_created_once(
    store: ObservationStore, tmp_path: Path, chunk_rows: int
) -> None:
    same = str(uuid.uuid4())
    row = {"id": same, "observed_at": "2015-07-01T12:00:00+09:00", "lon": 126, "lat": 71}
    path = write_csv(tmp_path / "twice.csv", [row, row, {**row, "lon": 127}])
    summary, rows = do_import(store, path, sets={"count": "3"}, chunk_rows=chunk_rows)
    assert [r.status for r in rows] == ["created", "unchanged", "conflict"]
    assert summary.stored == 1


def test_bad_mappings_name_the_flag(sqlite_store: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [{"a": 1}])
    cases = [
        ({"maps": {"colour": "a"}}, "map"),
        ({"maps": {"count": "nope"}}, "map"),
        ({"sets": {"count": "-1"}}, "set"),
        ({"sets": {"lon": "1"}}, "set"),
        ({"sets": {"count": "1"}, "maps": {"count": "a"}}, "set"),
        ({"crs": "EPSG:1"}, "crs"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"survey": "no-such-survey"}, "survey"),
        ({"format": "xlsx"}, "file"),
        ({"layer": "nope", "format": "geojson"}, "layer"),
    ]
    for options, field in cases:
        with pytest.raises(InvalidInput) as caught:
            do_import(sqlite_store, path, **options)
            pytest.fail(f"accepted {options}")
        assert caught.value.field == field, options
    with pytest.raises(InvalidInput, match="no column gives observed_at: map one") as caught:
        do_import(sqlite_store, path)  # said once for the file, not once per row
    assert caught.value.field == "map" and "the file's columns: a" in str(caught.value)
    timed = write_csv(tmp_path / "b.csv", [{"t": "2020-01-01T00:00:00Z", "n": 1}])
    with pytest.raises(InvalidInput, match="no columns give the position"):
        do_import(sqlite_store, timed, maps={"observed_at": "t", "count": "n"})
    with pytest.raises(InvalidInput, match="give --format"):
        do_import(sqlite_store, write_csv(tmp_path / "a.dat", [{"a": 1}]))


# ---- spreadsheets, FlatGeobuf, GeoParquet -------------------------------------------------


def test_kobo_xlsx_main_sheet_imports_and_its_repeat_sheet_is_refused(
    sqlite_store: Any, tmp_path: Path
) -> None:
    import pandas as pd

    ids = [str(uuid.uuid4()) for _ in range(3)]
    main = pd.DataFrame(
        {
            "start": [datetime(2005, 3, 1 + i, 9, 30) for i in range(3)],  # Excel: no zone
            "herd/count": [12, 0, 7],
            "_location_latitude": [66.1, 66.2, 66.3],
            "_location_longitude": [129.4, 129.5, 129.6],
            "_location_precision": [5.0, 6.0, None],
            "_uuid": ids,
        }
    )
    repeat = pd.DataFrame({"sex": ["f"], "_parent_index": [1], "_submission__uuid": [ids[0]]})
    path = tmp_path / "kobo.xlsx"
    with pd.ExcelWriter(path) as writer:
        main.to_excel(writer, sheet_name="herd_count", index=False)
        repeat.to_excel(writer, sheet_name="animals", index=False)
    summary, _ = do_import(sqlite_store, path, timezone="Asia/Yakutsk")
    assert summary.preset == "kobo" and summary.stored == 3
    obs = {str(o.id): o for o in everything(sqlite_store)}
    assert obs[ids[0]].observed_at == datetime.fromisoformat("2005-03-01T09:30:00+09:00")
    assert (obs[ids[2]].lon, obs[ids[2]].lat, obs[ids[2]].accuracy_m) == (129.6, 66.3, None)
    assert obs[ids[1]].count == 0 and obs[ids[0]].accuracy_m == 5.0
    with pytest.raises(InvalidInput, match="repeat group"):
        do_import(sqlite_store, path, format="kobo", layer="animals")


@pytest.mark.parametrize("suffix", ["fgb", "parquet", "geojson"])
def test_flatgeobuf_geoparquet_and_geojson_layers(
    sqlite_store: Any, tmp_path: Path, suffix: str
) -> None:
    layer = gpd.GeoDataFrame(
        {
            "observed_at": ["2012-09-20T06:00:00+11:00", "2012-09-21T06:00:00+11:00"],
            "count": [300, 410],
            "population": ["sundrun", "sundrun"],
            "count_method": ["photo", "estimate"],
        },
        geometry=[shapely.Point(600_000, 7_700_000), shapely.Point(610_000, 7_710_000)],
        crs="EPSG:32656",  # UTM 56N, over the Indigirka
    )
    path = tmp_path / f"herds.{suffix}"
    if suffix == "parquet":
        layer.to_parquet(path)
    else:
        layer.to_file(path)
    summary, _ = do_import(sqlite_store, path)
    assert summary.format == suffix and summary.stored == 2
    expected = layer.to_crs("EPSG:4326")
    got = sorted(everything(sqlite_store), key=lambda o: o.count)
    for obs, point in zip(got, expected.geometry, strict=True):
        assert abs(obs.lon - point.x) < 1e-7 and abs(obs.lat - point.y) < 1e-7
    assert [o.count_method for o in got] == ["photo", "estimate"]


def test_semicolon_csv_with_decimal_commas_and_longitude_latitude_names(
    sqlite_store: Any, tmp_path: Path
) -> None:
    path = tmp_path / "1987.csv"
    path.write_text(
        "Дата;Longitude;Latitude;count\n1987-04-02T11:00:00+10:00;133,25;67,5;120\n",
        encoding="utf-8",
    )
    summary, _ = do_import(sqlite_store, path, maps={"observed_at": "Дата"})
    [obs] = everything(sqlite_store)
    assert summary.stored == 1 and (obs.lon, obs.lat, obs.count) == (133.25, 67.5, 120)
    legacy = tmp_path / "cp1251.csv"
    legacy.write_bytes("Дата,lon,lat,count\n".encode("cp1251"))
    with pytest.raises(InvalidInput, match="is not UTF-8 text"):
        do_import(sqlite_store, legacy)


def test_survey_sets_the_survey_of_every_row(sqlite_store: Any, tmp_path: Path) -> None:
    from domain.records import Survey

    sqlite_store.add_survey(
        Survey("aerial-1998-03", "aerial", datetime.fromisoformat("1998-03-01T00:00:00+10:00"))
    )
    rows = [r for i, r in enumerate(survey_rows(), 1) if i not in BROKEN]
    path = write_csv(tmp_path / "flight.csv", rows)
    maps = {"observed_at": "when", "count": "n"}
    assert do_import(sqlite_store, path, maps=maps, survey="aerial-1998-03")[0].stored == 5
    assert {o.survey_id for o in everything(sqlite_store)} == {"aerial-1998-03"}


def test_the_verdict_explains_conflicts(sqlite_store: Any, tmp_path: Path) -> None:
    rows = [r for i, r in enumerate(survey_rows(), 1) if i not in BROKEN]
    path = write_csv(tmp_path / "survey.csv", rows)
    maps = {"observed_at": "when", "count": "n"}
    do_import(sqlite_store, path, maps=maps)
    write_csv(path, [{**r, "n": 7} for r in rows])  # another file under the same name
    summary, _ = do_import(sqlite_store, path, maps=maps)
    assert summary.counts["conflict"] == 5 and summary.stored == 0
    assert "5 rows differ from the records already stored" in str(summary.verdict())


class _Interrupted(Exception):
    pass


def test_commit_every_resumes_an_interrupted_import(
    store: ObservationStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{**survey_rows()[0], "when": f"2011-05-{d:02d}T08:00:00+09:00"} for d in range(1, 11)]
    path = write_csv(tmp_path / "long.csv", rows)
    maps = {"observed_at": "when", "count": "n"}
    real = store.add_observations
    calls = []

    def failing_third(batch: Any, **kwargs: Any) -> Any:
        calls.append(len(batch))
        if len(calls) == 3:
            raise _Interrupted  # the power goes in the third transaction
        return real(batch, **kwargs)

    monkeypatch.setattr(store, "add_observations", failing_third)
    with pytest.raises(_Interrupted):
        do_import(store, path, maps=maps, commit_every=3)
    assert calls == [3, 3, 3] and len(everything(store)) == 6  # two batches committed
    monkeypatch.setattr(store, "add_observations", real)
    summary, _ = do_import(store, path, maps=maps, commit_every=3)  # the same command again
    assert summary.counts["unchanged"] == 6 and summary.counts["created"] == 4
    assert len(everything(store)) == 10


def test_commit_every_stores_nothing_when_a_row_is_invalid(
    store: ObservationStore, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "broken.csv", survey_rows())
    maps = {"observed_at": "when", "count": "n"}
    summary, rows = do_import(store, path, maps=maps, commit_every=2)
    assert not summary.committed and {r.row for r in rows if r.status == "invalid"} == BROKEN
    assert everything(store) == []
    summary, _ = do_import(store, path, maps=maps, commit_every=2, skip_invalid=True)
    assert summary.committed and len(everything(store)) == 5


def test_an_empty_required_cell_names_its_column(sqlite_store: Any, tmp_path: Path) -> None:
    rows = [r for i, r in enumerate(survey_rows(), 1) if i not in BROKEN]
    rows[1]["n"] = ""
    path = write_csv(tmp_path / "gap.csv", rows)
    _, results = do_import(sqlite_store, path, maps={"observed_at": "when", "count": "n"})
    [gap] = [r for r in results if r.status == "invalid"]
    reasons = tuple(str(r) for r in gap.reasons)
    assert (gap.row, gap.fields, reasons) == (2, ("count",), ("count: column 'n' is empty",))


def test_a_cell_that_does_not_parse_is_said_once_and_the_rest_of_its_row_too(
    sqlite_store: Any, tmp_path: Path
) -> None:
    """Seen: `count=abc` was also "column 'count' is empty", and the row's unknown
    population not said at all."""
    rows = [r for i, r in enumerate(survey_rows(), 1) if i not in BROKEN]
    rows[0].update(n="abc", population="atlantis")
    path = write_csv(tmp_path / "two.csv", rows)
    _, results = do_import(sqlite_store, path, maps={"observed_at": "when", "count": "n"})
    [bad] = [r for r in results if r.status == "invalid"]
    assert bad.fields == ("count", "properties.population")
    assert "'abc' is not a whole number" in str(bad.reasons[0])
    assert "'atlantis' is not one of" in str(bad.reasons[1])


def test_a_file_of_a_header_alone_names_its_columns(sqlite_store: Any, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("lon,lat\n")
    with pytest.raises(InvalidInput) as refused:
        do_import(sqlite_store, path, maps={"observed_at": "lon"})
    assert "the file's columns: lon, lat" in str(refused.value.message)


def test_sheet_rows_blank_lines_short_rows_and_repeated_headers() -> None:
    from data.imports.readers import _sheet_chunks

    cells = iter(
        [
            ("count", "count", None, "notes"),
            (3, 4, "x", None),
            (None, None, None, None),  # a blank line is not a row
            (5,),  # a row cut short: the rest is empty
        ]
    )
    chunks = list(_sheet_chunks(cells, chunk_rows=1))
    assert [c.first for c in chunks] == [1, 2]
    assert chunks[0].rows == [{"count": 3, "count.1": 4, "Unnamed: 2": "x", "notes": None}]
    assert chunks[1].rows == [{"count": 5, "count.1": None, "Unnamed: 2": None, "notes": None}]
