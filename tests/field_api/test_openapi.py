"""The OpenAPI document against the API it describes, on both backends.

openapi-spec-validator checks the document; schemathesis generates requests from it
(bounded: a few examples per operation, so the suite stays fast) and runs every one of its
checks on each answer: no 5xx, every status, media type, header and body documented,
schema-invalid requests refused, auth honoured, and so on.

One setting, said plainly: a schema-valid request may be answered 422 when it breaks a rule
JSON Schema cannot state (the body's id must equal the URL's, a time must not be in the
future, an EPSG code must exist, a merge must name two different sightings, the period must
fit `every`). positive_data_acceptance accepts 422 for that reason; the answer still has to
be a documented problem+json naming the field.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig

from tests.conftest import Clients

CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "410", "422"]
            }
        }
    }
)
ALL_CHECKS = CHECKS.get_all()


EXAMPLES = 4  # per operation and backend: ~21 operations × 2 backends in CI


def test_the_document_is_valid_openapi(api: Clients) -> None:
    document = api.admin.get("/openapi.json").json()
    validate(document)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    put = document["paths"]["/api/v1/observations/{observation_id}"]["put"]
    assert put["requestBody"]["content"]["application/geo+json"]["schema"]["$ref"].endswith(
        "/ObservationFeaturePut"
    )
    assert {"401", "403", "404", "409", "410", "413", "422", "503"} <= set(put["responses"])
    assert put["security"] == [{"bearer": []}]


def test_every_operation_passes_every_check(api: Clients) -> None:
    app: FastAPI = api.admin.app  # type: ignore[assignment]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    headers = {"Authorization": f"Bearer {api.tokens['adam']}"}
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,  # the same requests every run: a failure is reproducible
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=ALL_CHECKS)

        check()
        tested.append(operation.label)
    assert len(tested) >= 20, tested


@pytest.mark.parametrize(
    "path", ["/api/v1/observations", "/api/v1/observations.csv", "/health", "/openapi.json"]
)
def test_head_works_wherever_get_does(api: Clients, path: str) -> None:
    get, head = api.admin.get(path), api.admin.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
