"""Coordinate checks, CRS transforms, grids and region tagging."""

from __future__ import annotations

import math

import pytest
from pyproj import Geod

from data.reference import region_index
from geo.coords import CoordinateError, lon_lat_problems, normalise_crs, to_equal_area, to_wgs84
from geo.effort import EffortError, survey_effort
from geo.grid import cell_centre_lon_lat, cell_index, cell_polygon_lon_lat
from geo.regions import flags_for_region


def test_utm_52n_to_lon_lat() -> None:
    # The central meridian of UTM zone 52 is 129° E; the false easting is 500 km.
    lon, lat = to_wgs84([500000.0], [7880000.0], "EPSG:32652")
    assert lon[0] == pytest.approx(129.0, abs=1e-9)
    assert 70.9 < lat[0] < 71.1


def test_crs_names() -> None:
    assert normalise_crs("epsg:32652") == "EPSG:32652"
    assert normalise_crs("urn:ogc:def:crs:EPSG::4326") == "EPSG:4326"
    assert normalise_crs("OGC:CRS84") == "EPSG:4326"
    for bad in ("UTM52", "EPSG:999999", ""):
        with pytest.raises(CoordinateError):
            normalise_crs(bad)
    for not_a_map in ("EPSG:4978", "EPSG:5714"):  # geocentric, vertical
        with pytest.raises(CoordinateError) as refused:
            normalise_crs(not_a_map)
        assert refused.value.kind == "not_horizontal"


def test_impossible_coordinates_name_their_axis() -> None:
    assert lon_lat_problems(129.0, 62.0) == []
    assert [f for f, _ in lon_lat_problems(181.0, 95.0)] == ["lon", "lat"]
    assert [f for f, _ in lon_lat_problems(math.nan, 0.0)] == ["lon"]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Straight-line distance in the equal-area CRS (what dedup and grids measure in)."""
    xs, ys = to_equal_area([lon1, lon2], [lat1, lat2])
    return math.hypot(float(xs[1] - xs[0]), float(ys[1] - ys[0]))


def test_distances_are_equal_area_metres_not_degrees() -> None:
    # One degree of longitude at 70° N is about 38 km, not 111 km.
    assert distance_m(129.0, 70.0, 130.0, 70.0) == pytest.approx(38_100, rel=0.02)
    assert distance_m(129.0, 70.0, 129.0, 71.0) == pytest.approx(111_500, rel=0.02)


def test_grid_cells_round_trip() -> None:
    x, y = to_equal_area([129.7], [62.0])
    ix, iy = cell_index(float(x[0]), float(y[0]), 50_000)
    lon, lat = cell_centre_lon_lat(ix, iy, 50_000)
    assert distance_m(lon, lat, 129.7, 62.0) < 50_000
    ring = cell_polygon_lon_lat(ix, iy, 50_000)
    assert ring[0] == ring[-1] and len(ring) == 17


def test_regions_and_flags() -> None:
    index = region_index()
    assert index.region_of([129.7, 100.5, 10.0], [62.0, 72.5, 60.0]) == [
        "Sakha Republic",
        "Krasnoyarsk Krai",
        None,
    ]
    assert flags_for_region("Sakha Republic") == ()
    assert flags_for_region(None) == ("outside-yakutia", "outside-study-area")


def test_survey_effort_in_km_and_km2() -> None:
    km, km2 = survey_effort({"type": "LineString", "coordinates": [[129.0, 70.0], [130.0, 70.0]]})
    assert km == pytest.approx(38.1, rel=0.02) and km2 is None
    square = {
        "type": "Polygon",
        "coordinates": [[[129, 70], [130, 70], [130, 71], [129, 71], [129, 70]]],
    }
    assert survey_effort(square)[1] == pytest.approx(38.1 * 111.5, rel=0.04)
    with pytest.raises(EffortError):
        survey_effort({"type": "Point", "coordinates": [1, 2]})


def test_a_track_is_measured_on_the_ellipsoid() -> None:
    """Seen: one degree of meridian at 56° N measured 106.6 km in EPSG:3576, 4 % short.
    A degree of latitude there is 111.35 km on WGS 84 (the meridian arc, pyproj's Geod)."""
    geod = Geod(ellps="WGS84")
    north = {"type": "LineString", "coordinates": [[121.0, 56.0], [121.0, 57.0]]}
    assert survey_effort(north)[0] == pytest.approx(111.35, abs=0.01)
    assert survey_effort(north)[0] == pytest.approx(geod.inv(121, 56, 121, 57)[2] / 1000, abs=1e-3)
    east = {"type": "LineString", "coordinates": [[150.0, 56.5], [151.0, 56.5], [152.0, 56.5]]}
    legs = sum(geod.inv(150 + i, 56.5, 151 + i, 56.5)[2] for i in range(2)) / 1000
    assert survey_effort(east)[0] == pytest.approx(legs, abs=1e-3)


def test_each_thread_transforms_with_its_own_transformer() -> None:
    """A PROJ object shared between upload threads corrupted the server's heap: every
    thread gets its own, and they all agree."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from geo import coords

    together = threading.Barrier(4)

    def transform_here(wait: bool = True) -> tuple[int, list[float]]:
        if wait:  # four tasks on four distinct threads at once
            together.wait()
        x, y = to_equal_area([129.7], [62.0])
        return id(coords._transformer(coords.WGS84, coords.EQUAL_AREA)), [float(x[0]), float(y[0])]

    here = transform_here(wait=False)
    assert id(coords._transformer(coords.WGS84, coords.EQUAL_AREA)) == here[0]  # reused
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: transform_here(), range(4)))
    assert len({ident for ident, _ in results} | {here[0]}) == 5
    assert all(point == here[1] for _, point in results)


def test_a_thread_keeps_a_bounded_number_of_transformers() -> None:
    """Clients choose the CRS: cycling through many codes must not grow memory for ever."""
    from geo import coords

    for zone in range(1, 41):  # forty UTM zones north, EPSG:32601 … 32640
        to_wgs84([500_000.0], [6_900_000.0], f"EPSG:{32600 + zone}")
    assert len(coords._per_thread.transformers) == coords._TRANSFORMERS_PER_THREAD
    assert ("EPSG:32640", coords.WGS84) in coords._per_thread.transformers
    assert ("EPSG:32601", coords.WGS84) not in coords._per_thread.transformers
