"""Downloads of every format from the API, and `herdwatch export`, with the same filters."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from domain.records import ObservationQuery
from field_api.cli import main
from tests.ogc_sample import seed

FORMATS = ("geojson", "csv", "gpkg", "parquet", "fgb", "dwca")
PATHS = [f"/api/v1/observations.{f}" for f in FORMATS] + ["/api/v1/observations.dwca.zip"]
ROLES = [
    ("anonymous", 401),
    ("bad_token", 401),
    ("observer", 403),
    ("researcher", 200),
    ("admin", 200),
]


@pytest.fixture
def api(sqlite_api):
    seed(sqlite_api.store)
    return sqlite_api


def ids_in(fmt: str, body: bytes, tmp_path: Path) -> list[str]:
    """The observation ids a downloaded file holds, read as a user's tool reads it."""
    import pyogrio

    if fmt == "parquet":
        return sorted(pq.read_table(io.BytesIO(body)).column("id").to_pylist())
    if fmt == "dwca":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            lines = archive.read("occurrence.txt").decode().splitlines()[1:]
        return sorted(line.split("\t")[1] for line in lines)
    path = tmp_path / f"download.{fmt}"
    path.write_bytes(body)
    return sorted(pyogrio.read_dataframe(path)["id"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_download_holds_what_the_filter_selects(api, fmt, tmp_path):
    params = {"population": "yana-indigirka", "method": "photo", "bbox": "124,69,130,73"}
    response = api.researcher.get(f"/api/v1/observations.{fmt}", params=params)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    query = ObservationQuery(
        limit=10_000, populations=("yana-indigirka",), methods=("photo",), bbox=(124, 69, 130, 73)
    )
    expected = sorted(str(o.id) for o in api.store.query_observations(query).items)
    assert expected and ids_in(fmt, response.content, tmp_path) == expected


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_every_download(api, path):
    head = api.researcher.head(path)
    get = api.researcher.get(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert int(head.headers["content-length"]) == len(get.content)
    assert head.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


def test_ranges_come_from_one_build(api):
    whole = api.researcher.get("/api/v1/observations.gpkg").content
    part = api.researcher.get("/api/v1/observations.gpkg", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole[100:200]
    text = api.researcher.get("/api/v1/observations.geojson").content
    ranged = api.researcher.get("/api/v1/observations.geojson", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.content == text[:10]


def test_a_change_makes_a_new_file(api):
    before = api.researcher.get("/api/v1/observations.parquet").content
    some = api.store.query_observations(ObservationQuery(limit=1)).items[0]
    api.store.retract_observation(some.id, actor=some.observer)
    after = api.researcher.get("/api/v1/observations.parquet").content
    assert (
        pq.read_table(io.BytesIO(after)).num_rows == pq.read_table(io.BytesIO(before)).num_rows - 1
    )


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("role", "status"), [r for r in ROLES if r[1] != 200])
def test_download_roles(sqlite_api, path, role, status):
    assert sqlite_api.by_role()[role].get(path).status_code == status
    assert sqlite_api.by_role()[role].head(path).status_code == status


def test_admins_download_everything(api):
    for path in PATHS:  # researchers: test_head_answers_every_download
        assert api.admin.get(path).status_code == 200, path


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "x"},
        {"population": "caribou"},
        {"datetime": "soon"},
        {"method": "sled"},
        {"bbox": "9" * 3000},
    ],
)
def test_bad_filters_are_422_naming_the_field(sqlite_api, path, params):
    response = sqlite_api.researcher.get(path, params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == next(iter(params))


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_export_writes_the_same_selection(api, fmt, tmp_path, capsys, settings):
    out = tmp_path / f"cli.{fmt}"
    db = settings.database_url
    code = main(
        [
            "--database-url",
            db,
            "export",
            "--format",
            fmt,
            "--out",
            str(out),
            "--population",
            "lena-olenek",
        ]
    )
    assert code == 0
    assert f"wrote {out}" in capsys.readouterr().out
    expected = sorted(
        str(o.id)
        for o in api.store.query_observations(
            ObservationQuery(limit=10_000, populations=("lena-olenek",))
        ).items
    )
    assert ids_in(fmt, out.read_bytes(), tmp_path) == expected


def test_cli_export_draws_a_progress_bar_and_refuses_bad_filters(api, tmp_path, capsys, settings):
    out = tmp_path / "bar.geojson"
    assert (
        main(
            [
                "--database-url",
                settings.database_url,
                "export",
                "--format",
                "geojson",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "export geojson" in capsys.readouterr().err
    assert json.loads(out.read_text())["type"] == "FeatureCollection"
    code = main(
        [
            "--database-url",
            settings.database_url,
            "export",
            "--format",
            "csv",
            "--out",
            str(out),
            "--bbox",
            "1,2",
        ]
    )
    assert code == 2 and "bbox" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "--format", "shp", "--out", str(out)])
