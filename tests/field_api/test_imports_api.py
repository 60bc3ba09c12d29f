"""POST /api/v1/imports: roles, a dry run by default, the report, and every kind of bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from data.sqlite import SQLiteStore
from domain.records import ObservationQuery
from field_api.app import create_app
from field_api.settings import Settings
from tests.conftest import Clients

URL = "/api/v1/imports"
GOOD = (
    "observed_at,lon,lat,count,population\n"
    "2019-04-01T10:00:00+09:00,126.1,71.2,40,lena-olenek\n"
    "2019-04-02T10:00:00+09:00,126.2,71.3,25,lena-olenek\n"
)
BROKEN = GOOD + "2019-04-03T10:00:00+09:00,126.3,71.4,-5,lena-olenek\n"


def post(client: TestClient, text: str = GOOD, name: str = "survey.csv", **data: Any) -> Any:
    return client.post(URL, files={"file": (name, text.encode(), "text/csv")}, data=data)


def stored(api: Clients) -> int:
    return api.store.count_observations(ObservationQuery())


def test_researchers_and_admins_import_observers_and_strangers_do_not(api: Clients) -> None:
    expected = {
        "anonymous": 401,
        "bad_token": 401,
        "observer": 403,
        "other_observer": 403,
        "researcher": 200,
        "admin": 200,
    }
    assert {role: post(c).status_code for role, c in api.by_role().items()} == expected
    assert stored(api) == 0  # every one of those was a dry run


def test_a_dry_run_by_default_then_a_real_import(api: Clients) -> None:
    answer = post(api.researcher)
    body = answer.json()
    assert answer.status_code == 200 and body["dry_run"] is True and body["committed"] is False
    assert body["counts"]["created"] == 2 and stored(api) == 0
    assert [r["row"] for r in body["rows"]] == [1, 2]
    assert {r["status"] for r in body["rows"]} == {"created"}

    answer = post(api.researcher, dry_run="false")
    assert answer.status_code == 201 and answer.json()["stored"] == 2 and stored(api) == 2
    again = post(api.researcher, dry_run="false").json()
    assert again["counts"]["unchanged"] == 2 and again["stored"] == 0
    [record] = api.store.query_observations(ObservationQuery(limit=1)).items
    assert record.observer == "rita"


def test_broken_rows_refuse_the_import_and_the_report_names_them(api: Clients) -> None:
    answer = post(api.admin, BROKEN, dry_run="false")
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "invalid_rows"
    assert body["errors"][0]["field"] == "rows[3].count"
    assert "-5 is below the minimum 0" in body["errors"][0]["message"]
    assert body["report"]["counts"]["invalid"] == 1 and stored(api) == 0
    answer = post(api.admin, BROKEN, dry_run="false", skip_invalid="true")
    assert answer.status_code == 201 and stored(api) == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"dry_run": "maybe"}, "dry_run"),
        ({"skip_invalid": "[]"}, "skip_invalid"),
        ({"format": "dbase"}, "format"),
        ({"map": "count"}, "map"),
        ({"map": "colour=count"}, "map"),
        ({"set": "count=lots"}, "set"),
        ({"crs": "UTM 52"}, "crs"),
        ({"timezone": "Yakutsk"}, "timezone"),
        ({"survey": "x" * 201}, "survey"),
    ],
)
def test_bad_fields_are_422_naming_the_field(
    sqlite_api: Clients, data: dict[str, str], field: str
) -> None:
    answer = post(sqlite_api.researcher, **data)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in {e["field"].split(".")[-1] for e in answer.json()["errors"]}


def test_bad_files(sqlite_api: Clients) -> None:
    client = sqlite_api.researcher
    missing = client.post(URL, data={"dry_run": "true"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"
    for name, content in [("survey.xlsx", "not a zip"), ("herds.gpkg", "nonsense")]:
        answer = post(client, content, name=name)
        assert answer.status_code == 422, name
        assert answer.json()["errors"][0]["field"] == "file"
        assert "herdwatch-import-" not in answer.text  # the server's temporary folder
    unknown = post(client, name="survey.dat")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "format"
    empty = post(client, "", name="empty.csv")
    assert empty.status_code == 422


def test_size_limit_and_declared_length(tmp_path: Any) -> None:
    store = SQLiteStore(str(tmp_path / "h.db"))
    store.migrate()
    token = store.add_user("rita", "researcher")
    settings = Settings(database_url=store.url, max_import_bytes=2048, _env_file=None)  # type: ignore[call-arg]
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings, store), headers=headers) as client:
        big = post(client, GOOD + "2019-04-03T10:00:00+09:00,126.3,71.4,5,lena-olenek\n" * 60)
        assert big.status_code == 413 and big.json()["errors"][0]["field"] == "body"
        assert post(client).status_code == 200

        def chunked() -> Any:
            yield b"--x\r\n"

        unsized = client.post(
            URL, content=chunked(), headers={"content-type": "multipart/form-data; boundary=x"}
        )
        assert unsized.status_code == 411
    store.close()


def test_the_report_lists_rows_in_the_files_order(api: Clients) -> None:
    """Invalid rows are said as they are read, stored ones after the commit: the answer
    lists them by row all the same (seen: 2, 3, 1)."""
    answer = post(api.admin, BROKEN + GOOD.split("\n", 1)[1], skip_invalid="true")
    assert [r["row"] for r in answer.json()["rows"]] == [1, 2, 3, 4, 5]


def test_a_zipped_shapefile_in_utm_is_one_upload(sqlite_api: Clients, tmp_path: Any) -> None:
    import zipfile

    import geopandas as gpd
    import shapely

    layer = gpd.GeoDataFrame(
        {"count": [8], "seen": ["2001-02-03T04:05:06+09:00"]},  # names of 10 letters at most
        geometry=[shapely.Point(450_000, 7_900_000)],
        crs="EPSG:32652",
    )
    layer.to_file(tmp_path / "herds.shp")
    bundle = tmp_path / "herds.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        for part in tmp_path.glob("herds.*"):
            if part.suffix != ".zip":
                z.write(part, part.name)
    answer = sqlite_api.researcher.post(
        URL,
        files={"file": ("herds.zip", bundle.read_bytes())},
        data={"dry_run": "false", "map": "observed_at=seen"},
    )
    assert answer.status_code == 201, answer.text
    [obs] = sqlite_api.store.query_observations(ObservationQuery()).items
    point = layer.to_crs("EPSG:4326").geometry[0]
    assert abs(obs.lon - point.x) < 1e-9 and abs(obs.lat - point.y) < 1e-9
