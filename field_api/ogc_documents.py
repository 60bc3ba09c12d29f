"""The fixed documents of /ogc (OGC API – Features Part 1): landing page, conformance,
collection descriptions, queryables and the OpenAPI 3.0 definition, made from one table of
collections and their query parameters so the definition and the checks never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.i18n import N_, Translator
from domain.records import COUNT_METHODS, SURVEY_METHODS, Extent

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
# Parameters every items request takes (the standard's definitions, OpenAPI 3.0 fragments).
COMMON_PARAMETERS: dict[str, dict[str, Any]] = {
    "bbox": {
        "description": N_("minLon,minLat,maxLon,maxLat in CRS84; minLon > maxLon crosses 180°"),
        "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    },
    "datetime": {
        "description": N_("RFC 3339 instant or interval start/end; '..' or '' leaves an end open"),
        "schema": {"type": "string"},
    },
    "limit": {
        "description": N_("page size; larger values are lowered to the maximum"),
        "schema": {"type": "integer", "minimum": 1, "default": 100},
    },
    # Part 2's parameters, for clients that send them: CRS84 is the one CRS served.
    "crs": {
        "description": N_("CRS of the answer: only CRS84"),
        "schema": {"type": "string", "enum": [CRS84]},
    },
    "bbox-crs": {
        "description": N_("CRS of bbox: only CRS84"),
        "schema": {"type": "string", "enum": [CRS84]},
    },
    "f": {
        "description": N_("json (the default) or html"),
        "schema": {"type": "string", "enum": ["json", "html"]},
    },
}


@dataclass(frozen=True)
class Collection:
    """One feature collection: what it is, which properties filter it, how it pages."""

    id: str
    title: str
    description: str
    queryables: dict[str, dict[str, Any]]
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)  # paging, period
    temporal: str = "observed_at"

    def parameters(self) -> dict[str, dict[str, Any]]:
        return {**COMMON_PARAMETERS, **self.queryables, **self.extra}


def _choice(values: tuple[str, ...] | list[str], description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", "enum": list(values)}}


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


def collections(populations: tuple[str, ...]) -> dict[str, Collection]:
    """The three collections, keyed by id, in the order /collections lists them."""
    population = _choice(populations, N_("population id (several: comma-separated)"))
    cursor = {
        "next": _text(N_("opaque cursor from a next link")),
        "prev": _text(N_("opaque cursor from a prev link")),
    }
    found = (
        Collection(
            "observations",
            N_("Herd sightings"),
            N_(
                "Active sightings of wild reindeer herds: one point per sighting with its "
                "total count, sex and age classes, count method, survey and population."
            ),
            {
                "population": population,
                "count_method": _choice(COUNT_METHODS, N_("how the herd was counted")),
                "survey_id": _text(N_("the survey the sighting belongs to")),
            },
            cursor,
        ),
        Collection(
            "herds",
            N_("De-duplicated herds"),
            N_(
                "Herds of one period after de-duplication: sightings of one herd within the "
                "matching distance and time are one herd, placed at its largest sighting, "
                "with the ids of its sightings. Choose the period with `every` (year, season "
                "or month) and `period` (e.g. 2024, 2024-calving, 2024-07); without `period` "
                "the period of the most recent herd. `datetime` filters on the herd's first "
                "sighting."
            ),
            {"population": population},
            {
                "every": _choice(
                    ["year", "season", "month"], N_("length of the period (default year)")
                ),
                "period": _text(N_("the period: 2024, 2024-calving or 2024-07")),
                "offset": {
                    "description": N_("herds to skip (from next/prev links)"),
                    "schema": {"type": "integer", "minimum": 0},
                },
            },
            temporal="first_seen",
        ),
        Collection(
            "surveys",
            N_("Surveys"),
            N_(
                "Effort units: flights, snowmobile routes and foot transects (tracks), camera "
                "and collar deployments (areas), with their effort in km or km²."
            ),
            {"method": _choice(SURVEY_METHODS, N_("survey method"))},
            {
                "offset": {
                    "description": N_("surveys to skip (from next/prev links)"),
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
            temporal="started_at",
        ),
    )
    return {c.id: c for c in found}


def localized(document: Any, t: Translator) -> Any:
    """The document with each "title" and "description" the catalogue knows in t's language
    (the words above are marked for it; a configured title or a property name stays)."""
    if isinstance(document, dict):
        return {
            k: t.gettext(v)
            if k in ("title", "description") and isinstance(v, str) and v
            else localized(v, t)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [localized(v, t) for v in document]
    return document


def link(href: str, rel: str, kind: str, title: str | None = None) -> dict[str, str]:
    found = {"href": href, "rel": rel, "type": kind}
    if title:
        found["title"] = title
    return found


def landing(base: str, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": N_("Wild reindeer herd sightings, herds and surveys as OGC API – Features."),
        "links": [
            link(f"{base}/", "self", JSON, N_("this document")),
            link(f"{base}/?f=html", "alternate", HTML, N_("this document as HTML")),
            link(f"{base}/api", "service-desc", OPENAPI, N_("the API definition")),
            link(f"{base}/api.html", "service-doc", HTML, N_("the API documentation")),
            link(f"{base}/conformance", "conformance", JSON, N_("conformance classes")),
            link(f"{base}/collections", "data", JSON, N_("the collections")),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def extent_json(extent: Extent | None) -> dict[str, Any]:
    if extent is None:
        return {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]], "crs": CRS84},
            "temporal": {"interval": [[None, None]]},
        }
    box = [extent.min_lon, extent.min_lat, extent.max_lon, extent.max_lat]
    return {
        "spatial": {"bbox": [box], "crs": CRS84},
        "temporal": {"interval": [[_iso(extent.start), _iso(extent.end)]]},
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def collection_json(base: str, c: Collection, extent: Extent | None) -> dict[str, Any]:
    home = f"{base}/collections/{c.id}"
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": extent_json(extent),
        "links": [
            link(home, "self", JSON, N_("this collection")),
            link(f"{home}?f=html", "alternate", HTML, N_("this collection as HTML")),
            link(f"{home}/items", "items", GEOJSON, N_("its features")),
            link(f"{home}/items?f=html", "items", HTML, N_("its features as HTML")),
            link(
                f"{home}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
                N_("queryables"),
            ),
        ],
    }


def queryables(base: str, c: Collection) -> dict[str, Any]:
    props: dict[str, Any] = {
        "geometry": {"$ref": "https://geojson.org/schema/Geometry.json", "description": "bbox"},
        c.temporal: {"type": "string", "format": "date-time", "description": "datetime"},
    }
    for name, spec in c.queryables.items():
        props[name] = {**spec["schema"], "description": spec["description"]}
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base}/collections/{c.id}/queryables",
        "type": "object",
        "title": c.title,
        "description": c.description,
        "properties": props,
        "additionalProperties": False,
    }


def openapi(base: str, title: str, cols: dict[str, Collection]) -> dict[str, Any]:
    """The OpenAPI 3.0 definition of /ogc (FastAPI's own /openapi.json is 3.1)."""
    paths: dict[str, Any] = {
        "/": _op("landing page", JSON),
        "/conformance": _op("conformance classes", JSON),
        "/collections": _op("the collections", JSON),
    }
    for c in cols.values():
        params = [_parameter(name, spec) for name, spec in c.parameters().items()]
        paths[f"/collections/{c.id}"] = _op(f"the {c.id} collection", JSON)
        paths[f"/collections/{c.id}/queryables"] = _op(
            f"queryables of {c.id}", "application/schema+json"
        )
        paths[f"/collections/{c.id}/items"] = _op(f"{c.id} features", GEOJSON, params)
        feature_id = {
            "name": "featureId",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
        }
        paths[f"/collections/{c.id}/items/{{featureId}}"] = _op(
            f"one of {c.id}", GEOJSON, [feature_id]
        )
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0"},
        "servers": [{"url": base}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _parameter(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": spec["description"],
        "schema": spec["schema"],
        "style": "form",
        "explode": False,
    }


def _op(summary: str, media: str, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            "200": {"description": summary, "content": {media: {"schema": {"type": "object"}}}},
            "400": {"description": "an unknown or invalid parameter"},
            "401": {"description": "no valid bearer token"},
        },
    }
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}
