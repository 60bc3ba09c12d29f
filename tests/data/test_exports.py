"""The export writers: what each file holds, read back by the tools researchers use."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from data.exports import fgb, pages, parquet
from data.exports.dwca import DatasetInfo
from data.exports.service import FORMATS, write_export
from data.exports.text import EXPORT_CSV_COLUMNS
from data.reference import __file__ as reference_init
from domain.records import Extent, ObservationQuery
from tests.factories import BASE_TIME, make_observation
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


@pytest.mark.parametrize("fmt", ["gpkg", "fgb"])
def test_gpkg_and_fgb_times_at_the_end_of_a_minute_stay_datetimes(store, tmp_path, fmt):
    """GDAL writes 22:30:59.9997 as "22:30:60Z"; rounded to the millisecond first, it is
    22:31:00.000, and the column still reads as datetimes."""
    import pyogrio

    late = BASE_TIME.replace(second=59, microsecond=999_714)
    store.add_observations([make_observation(1, observed_at=late)], actor="olga")
    store.add_observations(
        [make_observation(2, observed_at=late.replace(microsecond=123_456))], actor="olga"
    )
    frame = pyogrio.read_dataframe(export(store, fmt, tmp_path)).sort_values("observed_at")
    assert str(frame["observed_at"].dtype).startswith("datetime64")
    times = [t.to_pydatetime() for t in frame["observed_at"]]
    assert times == [late.replace(microsecond=123_000), late + timedelta(microseconds=286)]


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


class _Moment(int):
    """An instant in whole microseconds, equal to another within half a millisecond: GDAL
    reads GeoJSON times to the millisecond (rounded), GeoParquet keeps microseconds. Whole
    microseconds, because seconds as floats near 1.8e9 are 2e-7 apart and a time ending in
    exactly 500 µs came out 0.50020 ms from its rounding (a CI failure)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Moment) and abs(int(self) - int(other)) <= 500

    __hash__ = int.__hash__


def _plain(value):
    """A cell as plain Python, missing values as None (pandas reads them as NaN or NaT)."""
    import pandas as pd

    if isinstance(value, list):
        return ";".join(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return _Moment(value.value // 1000)  # .value: nanoseconds since 1970, in UTC
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
    empty = pyogrio.read_dataframe(tmp_path / "out.fgb")  # GDAL's own empty layer, as before
    assert len(empty) == 0 and "observed_at" in empty.columns


def _fgb_parts(path: Path) -> tuple[int, int, int, bytes]:
    """A FlatGeobuf file's features_count, index_node_size, where its header ends, and all
    its bytes, read with the spec (header.fbs) and nothing of data/exports/fgb.py."""
    import struct

    data = path.read_bytes()
    assert data[:4] == b"fgb\x03"
    (size,) = struct.unpack_from("<I", data, 8)
    table = data[12 : 12 + size]
    root = struct.unpack_from("<I", table)[0]
    vtable = root - struct.unpack_from("<i", table, root)[0]
    vtable_size = struct.unpack_from("<H", table, vtable)[0]
    slots = struct.unpack_from(f"<{vtable_size // 2}H", table, vtable)

    def field(number: int, fmt: str, default: int) -> int:
        at = slots[2 + number] if 2 + number < len(slots) else 0
        return struct.unpack_from(fmt, table, root + at)[0] if at else default

    return field(8, "<Q", 0), field(9, "<H", 16), 12 + size, data


def _tree_levels(count: int, node_size: int) -> list[tuple[int, int]]:
    """[start, end) of each level, leaves first, as the spec lays them (root at node 0)."""
    sizes = [count]
    while sizes[-1] > 1 or len(sizes) == 1:
        sizes.append((sizes[-1] + node_size - 1) // node_size)
    starts = np.cumsum([0, *reversed(sizes)])[:-1][::-1]
    return [(int(a), int(a) + n) for a, n in zip(starts, sizes, strict=True)]


def _check_tree(path: Path) -> np.ndarray:
    """Parse the index with numpy: every node's box covers its children's, its offset is
    its first child, each leaf points at the next size-prefixed feature; the leaves."""
    count, node_size, header_end, data = _fgb_parts(path)
    assert node_size == 16 and count > 0
    levels = _tree_levels(count, node_size)
    nodes = np.frombuffer(data, fgb.NODE, levels[0][1], offset=header_end)
    for (lo, hi), (plo, phi) in zip(levels, levels[1:], strict=False):
        parents = nodes[plo:phi]
        assert list(parents["offset"]) == list(range(lo, hi, node_size))
        for i, parent in enumerate(parents):
            kids = nodes[lo + i * node_size : min(hi, lo + (i + 1) * node_size)]
            assert parent["min_x"] == kids["min_x"].min() and parent["max_x"] == kids["max_x"].max()
            assert parent["min_y"] == kids["min_y"].min() and parent["max_y"] == kids["max_y"].max()
    leaves = nodes[levels[0][0] :]
    features_at, at = header_end + len(nodes) * fgb.NODE.itemsize, 0
    for leaf in leaves:  # the features follow one another in leaf order
        assert leaf["offset"] == at
        at += 4 + int(np.frombuffer(data, "<u4", 1, offset=features_at + at)[0])
    assert features_at + at == len(data)
    return leaves


def _bbox_reads_match(path: Path, boxes: list[tuple[float, float, float, float]]) -> None:
    """A bbox read through GDAL's index returns exactly the features a full read puts in it."""
    import pyogrio

    full = pyogrio.read_dataframe(path, fid_as_index=True)  # FID: the place in the file
    assert list(full.index) == list(range(len(full)))
    x, y = full.geometry.x.to_numpy(), full.geometry.y.to_numpy()
    for box in boxes:
        inside = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
        found = pyogrio.read_dataframe(path, bbox=box, fid_as_index=True)
        assert sorted(found["id"]) == sorted(full["id"][inside]), box
        # GDAL numbers a bbox read's features by their leaf: the same FIDs as a full read
        assert list(full.loc[found.index, "id"]) == list(found["id"]), box
    some = [len(full) - 1, 0, len(full) // 2]  # GetFeature: the offset of leaf FID
    by_fid = pyogrio.read_dataframe(path, fids=some, fid_as_index=True)
    assert list(by_fid["id"]) == list(full.loc[some, "id"])


def test_fgb_has_a_spatial_index_that_answers_bbox_reads(seeded, tmp_path, monkeypatch):
    import pyogrio

    store, _ = seeded
    monkeypatch.setattr(pages, "EXPORT_PAGE", 7)
    path = export(store, "fgb", tmp_path)
    info = pyogrio.read_info(path)
    assert info["capabilities"]["fast_spatial_filter"] and info["capabilities"]["random_read"]
    assert info["features"] == len(active(store)) == 59
    leaves = _check_tree(path)
    steps = np.hypot(np.diff(leaves["min_x"]), np.diff(leaves["min_y"]))
    assert np.median(steps) <= 0.3  # neighbours on the 0.3° × 0.25° grid, not time order
    lon, lat = [o.lon for o in active(store)], [o.lat for o in active(store)]
    _bbox_reads_match(
        path,
        [
            (min(lon), min(lat), max(lon), max(lat)),  # the whole extent
            (0.0, 0.0, 1.0, 1.0),  # nothing there
            (125.5, 70.2, 126.5, 70.8),
            (125.3, 70.25, 125.9, 70.5),  # edges on points: they are inside
        ],
    )


@pytest.mark.parametrize("n", [1, 15, 16, 17, 257, 5000])
def test_fgb_index_is_the_tree_gdal_builds(tmp_path, monkeypatch, n):
    """GDAL's own indexed file, its features rewritten unindexed in its order, indexed by
    add_index: the same index and features, byte for byte (chunks and blocks made tiny so
    that nodes and features cross them)."""
    import pyarrow as pa
    import pyogrio
    import shapely

    monkeypatch.setattr(fgb, "CHUNK", 32)
    monkeypatch.setattr(fgb, "BLOCK", 200)
    rng = np.random.default_rng(n)
    x, y = rng.uniform(100, 160, n).round(5), rng.uniform(55, 75, n).round(5)
    x[: n // 10] = x[0]  # some points share a place
    y[: n // 10] = y[0]
    table = pa.table(
        {
            "id": pa.array([f"obs-{i}" for i in range(n)]),
            "count": pa.array(rng.integers(1, 500, n)),
            "geometry": pa.array(shapely.to_wkb(shapely.points(x, y), flavor="iso")),
        }
    )
    options = {"layer": "observations", "driver": "FlatGeobuf", "geometry_type": "Point"}
    gdal = tmp_path / "gdal.fgb"
    pyogrio.write_arrow(table, str(gdal), geometry_name="geometry", crs="EPSG:4326", **options)
    _, in_file_order = pyogrio.read_arrow(gdal)  # read without a filter: file order
    plain, points, ours = tmp_path / "plain.fgb", tmp_path / "points.bin", tmp_path / "ours.fgb"
    pyogrio.write_arrow(
        in_file_order,
        str(plain),
        geometry_name="wkb_geometry",
        crs="EPSG:4326",
        layer_options={"SPATIAL_INDEX": "NO"},
        **options,
    )
    geometry = shapely.from_wkb(in_file_order.column("wkb_geometry").to_numpy(False))
    xy = np.empty(n, fgb.POINT)
    xy["x"], xy["y"] = shapely.get_x(geometry), shapely.get_y(geometry)
    points.write_bytes(xy.tobytes())
    space = _extent(xy["x"].min(), xy["y"].min(), xy["x"].max(), xy["y"].max())
    along = fgb.hilbert_values(xy["x"], xy["y"], space).astype(np.int64)
    assert (np.diff(along) <= 0).all()  # GDAL's order is ours, backwards (its sort: ha > hb)
    fgb.add_index(plain, points, ours)
    count, _, gdal_end, gdal_bytes = _fgb_parts(gdal)
    our_count, _, our_end, our_bytes = _fgb_parts(ours)
    assert count == our_count == n
    assert our_bytes[our_end:] == gdal_bytes[gdal_end:]  # the tree and the features
    assert pyogrio.read_info(ours)["capabilities"]["fast_spatial_filter"]
    _check_tree(ours)
    boxes = [(100.0, 55.0, 160.0, 75.0), (0.0, 0.0, 1.0, 1.0), (110.0, 60.0, 125.0, 66.0)]
    boxes += [(float(x[0]), float(y[0]), float(x[0]), float(y[0]))]  # one place, exactly
    _bbox_reads_match(ours, boxes)


def _extent(west: float, south: float, east: float, north: float) -> Extent:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    return Extent(float(west), float(south), float(east), float(north), moment, moment)


def test_fgb_export_order_follows_the_hilbert_curve():
    """GDAL's curve (rawrunprotected/hilbert_curves): the corners of a 2 × 2 grid in order."""
    x, y = np.array([0.0, 0.0, 1.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])
    values = fgb.hilbert_values(x, y, _extent(0, 0, 1, 1))
    assert list(np.argsort(values)) == [0, 1, 2, 3] and values[0] == 0


def _schema_and_rtree(path: Path) -> tuple[list[tuple[str, str, str]], list[tuple]]:
    """The file's schema entries (type, name, SQL) and its RTree's rows, by id."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as con:
        entries = con.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        extensions = con.execute("SELECT * FROM gpkg_extensions ORDER BY 1, 2, 3").fetchall()
        rtree = con.execute("SELECT * FROM rtree_observations_geom ORDER BY id").fetchall()
    return [*entries, *extensions], rtree


def test_gpkg_index_is_the_rtree_gdal_builds(seeded, tmp_path, monkeypatch):
    """GDAL writes the layer unindexed and data/exports/gpkg.py adds the RTree: the same
    tables, triggers, extension row and boxes as GDAL's own index over the same rows."""
    from data.exports import gpkg, ogr

    store, _ = seeded
    monkeypatch.setattr(pages, "EXPORT_PAGE", 7)
    monkeypatch.setattr(gpkg, "CHUNK", 5)  # chunks end inside the data
    ours = export(store, "gpkg", tmp_path)
    gdal = tmp_path / "gdal.gpkg"
    query = ObservationQuery()  # the rows in the export's order: space, then time
    in_order = parquet.in_space_order(store, query, store.observation_extent(query))
    rows = ogr.write_layer(in_order, gdal, "GPKG", {"SPATIAL_INDEX": "YES"})
    ours_schema, ours_rtree = _schema_and_rtree(ours)
    gdal_schema, gdal_rtree = _schema_and_rtree(gdal)
    assert rows == len(ours_rtree) == 59
    assert ours_schema == gdal_schema
    assert ours_rtree == gdal_rtree


def test_gpkg_index_answers_bbox_reads(seeded, tmp_path):
    import pyogrio

    store, _ = seeded
    path = export(store, "gpkg", tmp_path)
    assert pyogrio.read_info(path)["capabilities"]["fast_spatial_filter"]
    full = pyogrio.read_dataframe(path)
    x, y = full.geometry.x.to_numpy(), full.geometry.y.to_numpy()
    lon, lat = [o.lon for o in active(store)], [o.lat for o in active(store)]
    for box in [
        (min(lon), min(lat), max(lon), max(lat)),
        (0.0, 0.0, 1.0, 1.0),
        (125.5, 70.2, 126.5, 70.8),
        (125.3, 70.25, 125.9, 70.5),
    ]:
        inside = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
        found = pyogrio.read_dataframe(path, bbox=box)
        assert sorted(found["id"]) == sorted(full["id"][inside]), box


def test_an_empty_gpkg_has_its_index_too(store, tmp_path):
    import pyogrio

    from data.exports import ogr

    path = export(store, "gpkg", tmp_path)
    assert pyogrio.read_info(path)["features"] == 0
    gdal = tmp_path / "gdal.gpkg"
    ogr.write_layer(iter(()), gdal, "GPKG", {"SPATIAL_INDEX": "YES"})
    assert _schema_and_rtree(path) == _schema_and_rtree(gdal)


def test_a_failed_gpkg_index_leaves_no_half_of_it(tmp_path, monkeypatch):
    """The RTree, its triggers and its extension row are added in one transaction: a
    failure while the boxes go in (a full disk) leaves the file as GDAL wrote it."""
    import sqlite3
    from contextlib import closing

    from data.exports import gpkg, ogr

    path = tmp_path / "plain.gpkg"
    ogr.write_layer(
        iter([[make_observation(n) for n in range(3)]]), path, "GPKG", {"SPATIAL_INDEX": "NO"}
    )

    def full_disk(*_: object) -> object:
        raise OSError("no space left on device")

    monkeypatch.setattr(gpkg, "_boxes", full_disk)
    with pytest.raises(OSError):
        gpkg.add_rtree(path, gpkg.gdal_rtree_template(ogr.LAYER))
    with closing(sqlite3.connect(path)) as con:
        left = con.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'rtree%' OR name = 'gpkg_extensions'"
        ).fetchall()
    assert left == []


def test_dwca_says_in_its_eml_what_is_synthetic_and_words_an_estimate(store, tmp_path):
    """Seen: eml.xml never said the demo's sightings were synthetic (only each row's
    occurrenceRemarks did), and samplingProtocol read "estimate count of …"."""
    made = make_observation(1, flags=("synthetic",), count_method="estimate")
    store.add_observations([made, make_observation(2)], actor="olga")
    path = export(store, "dwca", tmp_path)
    with zipfile.ZipFile(path) as z:
        eml = z.read("eml.xml").decode()
        events = z.read("event.txt").decode()
    assert "1 of these sightings are SYNTHETIC" in eml
    assert "estimated count of wild reindeer herds" in events
    assert "estimate count" not in events
