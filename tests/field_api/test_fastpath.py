"""The msgspec fast path never accepts what the pydantic path refuses, and agrees on the rest."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from data.uploads import UploadRules
from field_api.fastpath import decode_valid_batch
from field_api.ingest import parse_features, upload_rules
from field_api.settings import Settings
from tests.factories import make_collection, make_feature
from tests.field_api.test_validation import CASES, GEOMETRY_CASES

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]


def fast(features: list[dict[str, Any]], crs: str | None = None) -> Any:
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    return decode_valid_batch(body, crs=crs, observer="olga", rules=upload_rules(SETTINGS))


def test_valid_batches_decode_to_the_same_observations_as_the_slow_path() -> None:
    features = make_collection(20)["features"]
    features[3]["properties"]["notes"] = "cows with calves, moving north"
    features[4]["properties"]["composition"] = {}
    features[5]["properties"].pop("accuracy_m")
    features[6]["properties"]["observer"] = "echoed back from a GET"
    quick = fast(features)
    slow = [
        p.observation
        for p in parse_features(features, crs=None, observer="olga", settings=SETTINGS)
    ]
    assert quick is not None
    assert [o.client_content() for o in quick] == [o.client_content() for o in slow if o]  # type: ignore[union-attr]
    assert [o.content_hash() for o in quick] == [o.content_hash() for o in slow if o]  # type: ignore[union-attr]


def test_projected_coordinates_agree() -> None:
    features = [make_feature(coordinates=[500000.0, 7880000.0])]
    [quick] = fast(features, crs="EPSG:32652")
    [slow] = parse_features(features, crs="EPSG:32652", observer="olga", settings=SETTINGS)
    assert slow.observation is not None
    assert (quick.lon, quick.lat) == (slow.observation.lon, slow.observation.lat)


@pytest.mark.parametrize(("label", "change", "field"), CASES, ids=[c[0] for c in CASES])
def test_every_invalid_property_falls_back_to_the_explaining_path(
    label: str, change: dict[str, Any], field: str
) -> None:
    features = make_collection(3)["features"]
    bad = copy.deepcopy(features[1])
    for key, value in change.items():
        if value is None:
            bad["properties"].pop(key)
        else:
            bad["properties"][key] = value
    assert fast([features[0], bad, features[2]]) is None, label


@pytest.mark.parametrize(
    ("label", "coords", "field"), GEOMETRY_CASES, ids=[c[0] for c in GEOMETRY_CASES]
)
def test_every_invalid_geometry_falls_back(label: str, coords: list[Any], field: str) -> None:
    assert fast([make_feature(coordinates=coords)]) is None, label


@pytest.mark.parametrize(
    "mutate",
    [
        lambda f: f.update(type="Point"),
        lambda f: f.pop("id"),
        lambda f: f.update(id="not-a-uuid"),
        lambda f: f["geometry"].update(type="Polygon"),
        lambda f: f["geometry"].update(coordinates=[1.0, 2.0, 3.0, 4.0]),
        lambda f: f["properties"].update(survey_id=""),
        lambda f: f["properties"].update(device_id="x" * 201),
        lambda f: f["properties"].update(accuracy_m=True),
        lambda f: f["properties"]["composition"].update(calves=1.5),
        lambda f: f["properties"]["composition"].update(foals=2),
    ],
)
def test_structural_problems_fall_back(mutate: Any) -> None:
    feature = make_feature()
    mutate(feature)
    assert fast([feature]) is None
    [slow] = parse_features([feature], crs=None, observer="olga", settings=SETTINGS)
    assert slow.errors  # and the slow path explains it


def test_empty_and_oversized_batches_fall_back() -> None:
    assert fast([]) is None
    body = json.dumps(make_collection(3)).encode()
    assert (
        decode_valid_batch(
            body, crs=None, observer="o", rules=UploadRules(tuple(SETTINGS.populations), 10, 2)
        )
        is None
    )
