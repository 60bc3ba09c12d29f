"""The export writers: what each file holds, read back by the tools researchers use."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from data.exports import pages, parquet
from data.exports.dwca import DatasetInfo
from data.exports.service import FORMATS, write_export
from data.exports.text import EXPORT_CSV_COLUMNS
from data.reference import __file__ as reference_init
from domain.records import ObservationQuery
from tests.ogc_sample import SURVEY, seed

INFO = DatasetInfo(
    "Test reindeer",
    "Ann Example <ann@example.org>",
    "http://creativecommons.org/licenses/by/4.0/legalcode",
)
XSD = Path(reference_init).parent / "dwc" / "tdwg_dwc_text.xsd"


@pytest.fixture
def seeded(store):
    retracted = seed(store)
    return store, retracted[0]


def active(store, **filters):
    return store.query_observations(ObservationQuery(limit=10_000, **filters)).items


def export(store, fmt, tmp_path, query=ObservationQuery()):
    path = tmp_path / f"out.{fmt}"
    write_export(store, query, fmt, path, dataset=INFO)
    return path


def test_every_format_holds_exactly_the_filtered_rows(seeded, tmp_path, monkeypatch):
    import pyogrio

    store, retracted = seeded
    monkeypatch.setattr(pages, "EXPORT_PAGE", 7)  # many pages
    query = ObservationQuery(populations=("lena-olenek",))
    expected = sorted(str(o.id) for o in active(store, populations=("lena-olenek",)))
    for fmt in ("geojson", "gpkg", "fgb"):
        frame = pyogrio.read_dataframe(export(store, fmt, tmp_path, query))
        assert sorted(frame["id"]) == expected, fmt
    rows = list(csv.DictReader(export(store, "csv", tmp_path, query).open()))
    assert sorted(r["id"] for r in rows) == expected and retracted not in expected
    table = pq.read_table(export(store, "parquet", tmp_path, query))
    assert sorted(table.column("id").to_pylist()) == expected


def test_csv_states_its_crs_and_geometry(seeded, tmp_path):
    import pyogrio

    store, _ = seeded
    path = export(store, "csv", tmp_path)
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == list(EXPORT_CSV_COLUMNS)
    first = active(store)[0]
    row = next(r for r in rows if r["id"] == str(first.id))
    assert row["wkt"] == f"POINT ({first.lon!r} {first.lat!r})" and row["crs"] == "EPSG:4326"
    frame = pyogrio.read_dataframe(path)  # GDAL finds the WKT column by itself
    assert frame.geometry.iloc[0].geom_type == "Point"


@pytest.mark.parametrize("fmt", ["gpkg", "fgb"])
def test_gpkg_and_fgb_have_typed_columns(seeded, tmp_path, fmt):
    import pyogrio

    store, _ = seeded
    path = export(store, fmt, tmp_path)
    info = pyogrio.read_info(path)
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert info["crs"] == "EPSG:4326" and info["geometry_type"] == "Point"
    assert types["observed_at"].startswith("datetime64") and types["created_at"].startswith(
        "datetime64"
    )
    assert types["count"] == "int64" and types["adult_males"] == "int64"
    assert types["accuracy_m"] == "float64" and types["population"] == "object"
    frame = pyogrio.read_dataframe(path).set_index("id")
    for obs in active(store):
        row = frame.loc[str(obs.id)]
        assert row["observed_at"].to_pydatetime() == obs.observed_at
        assert (row.geometry.x, row.geometry.y) == (obs.lon, obs.lat)
        assert row["count"] == obs.count


def test_geoparquet_is_valid_spatially_ordered_and_equals_the_geojson(
    seeded, tmp_path, monkeypatch
):
    import geopandas
    import geoparquet_validator

    store, _ = seeded
    monkeypatch.setattr(parquet, "ROW_GROUP", 10)
    path = export(store, "parquet", tmp_path)
    report = geoparquet_validator.check(str(path))
    failed = [o for o in report["outcomes"] if o["status"] == "fail"]
    assert not failed and report["version"] == "1.1.0"
    assert (
        next(o for o in report["outcomes"] if o["id"] == "/conf/distribution/spatial-order")[
            "status"
        ]
        == "pass"
    )
    meta = json.loads(pq.read_schema(path).metadata[b"geo"])
    assert meta["columns"]["geometry"]["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
    assert pq.ParquetFile(path).metadata.num_row_groups == 6  # 59 rows in groups of 10
    from_parquet = geopandas.read_parquet(path).set_index("id").sort_index()
    from_geojson = (
        geopandas.read_file(export(store, "geojson", tmp_path)).set_index("id").sort_index()
    )
    assert list(from_parquet.index) == list(from_geojson.index)
    assert from_parquet.crs.equals("OGC:CRS84") and from_geojson.crs.equals(
        "EPSG:4326"
    )  # both lon/lat
    assert [g.wkb for g in from_parquet.geometry] == [g.wkb for g in from_geojson.geometry]
    shared = [c for c in from_geojson.columns if c in from_parquet.columns and c != "geometry"]
    assert len(shared) >= 15
    for name in shared:
        left, right = from_parquet[name].tolist(), from_geojson[name].tolist()
        assert [_plain(v) for v in left] == [_plain(v) for v in right], name
    for name in ("adult_males", "adult_females", "calves"):
        classes = [c.get(name) for c in from_geojson["composition"]]
        assert [_plain(v) for v in from_parquet[name]] == [_plain(v) for v in classes], name


class _Moment(float):
    """An instant equal to another within a millisecond: GDAL reads GeoJSON times to the
    millisecond (rounded), GeoParquet keeps microseconds."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, float) and abs(self - other) <= 0.0005 + 1e-9

    __hash__ = float.__hash__


def _plain(value):
    """A cell as plain Python, missing values as None (pandas reads them as NaN or NaT)."""
    import pandas as pd

    if isinstance(value, list):
        return ";".join(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return _Moment(value.to_pydatetime().timestamp())
    return value.item() if hasattr(value, "item") else value


def test_row_groups_follow_the_hilbert_cells(seeded, tmp_path, monkeypatch):
    store, _ = seeded
    monkeypatch.setattr(parquet, "ROW_GROUP", 10)
    file = pq.ParquetFile(export(store, "parquet", tmp_path))
    boxes = []
    for i in range(file.metadata.num_row_groups):
        lons = (
            file.read_row_group(i, columns=["bbox"])
            .column("bbox")
            .combine_chunks()
            .field("xmin")
            .to_pylist()
        )
        boxes.append((min(lons), max(lons)))
    time_ordered = sorted(active(store), key=lambda o: o.observed_at)
    spread = max(o.lon for o in time_ordered[:10]) - min(o.lon for o in time_ordered[:10])
    assert sum(hi - lo for lo, hi in boxes) / len(boxes) < spread  # tighter than time order


def test_hilbert_cells_cover_the_grid_once():
    cells = [parquet.hilbert_xy(d, 3) for d in range(64)]
    assert sorted(cells) == [(x, y) for x in range(8) for y in range(8)]
    steps = [abs(a[0] - b[0]) + abs(a[1] - b[1]) for a, b in zip(cells, cells[1:], strict=False)]
    assert set(steps) == {1}  # each cell touches the next


def test_dwca_reads_back_equal_to_the_store(seeded, tmp_path):
    from dwca.read import DwCAReader
    from lxml import etree

    store, retracted = seeded
    path = export(store, "dwca", tmp_path)
    sightings = active(store)
    with DwCAReader(str(path)) as archive:
        events = list(archive)
        occurrences = [
            e for row in events for e in row.extensions if e.rowtype.endswith("Occurrence")
        ]
        facts = [
            e for row in events for e in row.extensions if e.rowtype.endswith("MeasurementOrFact")
        ]
    dwc = "http://rs.tdwg.org/dwc/terms/"
    assert len(events) == len(sightings) + 1  # and the survey
    assert len(occurrences) == len(sightings)
    assert sum(int(o.data[dwc + "individualCount"]) for o in occurrences) == sum(
        o.count for o in sightings
    )
    by_id = {str(o.id): o for o in sightings}
    for occ in occurrences:
        obs = by_id[occ.data[dwc + "occurrenceID"]]
        assert float(occ.data[dwc + "decimalLongitude"]) == obs.lon
        assert float(occ.data[dwc + "decimalLatitude"]) == obs.lat
        assert occ.data[dwc + "basisOfRecord"] == "HumanObservation"
        assert occ.data[dwc + "scientificName"].startswith("Rangifer tarandus")
        assert occ.data[dwc + "eventDate"].endswith("+09:00")
    assert retracted not in by_id and retracted not in {
        o.data[dwc + "occurrenceID"] for o in occurrences
    }
    recorded = sum(v is not None for o in sightings for v in o.composition.as_dict().values())
    assert len(facts) == recorded
    survey = next(e for e in events if e.id == SURVEY.id)
    assert survey.data[dwc + "sampleSizeUnit"] == "kilometre"
    assert float(survey.data[dwc + "sampleSizeValue"]) == pytest.approx(
        store.get_survey(SURVEY.id).effort_km, abs=1e-3
    )
    children = [e for e in events if e.data[dwc + "parentEventID"] == SURVEY.id]
    assert len(children) == sum(o.survey_id == SURVEY.id for o in sightings)
    with zipfile.ZipFile(path) as z:
        meta = etree.fromstring(z.read("meta.xml"))
        eml = z.read("eml.xml").decode()
    schema = etree.XMLSchema(etree.parse(str(XSD), etree.XMLParser(no_network=True)))
    assert schema.validate(meta), schema.error_log
    for text in (
        "Test reindeer",
        "ann@example.org",
        "creativecommons.org/licenses/by/4.0",
        "<methods>",
    ):
        assert text in eml
    assert "<westBoundingCoordinate>125.000000</westBoundingCoordinate>" in eml


def test_dwca_is_the_same_bytes_until_the_data_change(seeded, tmp_path):
    store, _ = seeded
    first = export(store, "dwca", tmp_path).read_bytes()
    (tmp_path / "again").mkdir()
    assert export(store, "dwca", tmp_path / "again").read_bytes() == first
    some = active(store)[0]
    store.retract_observation(some.id, actor=some.observer)
    (tmp_path / "changed").mkdir()
    assert export(store, "dwca", tmp_path / "changed").read_bytes() != first
    with zipfile.ZipFile(tmp_path / "again" / "out.dwca") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_empty_exports_are_valid_files(store, tmp_path):
    import pyogrio

    for fmt in FORMATS:
        path = export(store, fmt, tmp_path)
        assert path.stat().st_size > 0, fmt
    assert json.loads((tmp_path / "out.geojson").read_text())["features"] == []
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 0
    assert pyogrio.read_info(tmp_path / "out.gpkg")["features"] == 0
