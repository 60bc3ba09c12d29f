"""Darwin Core Archive for GBIF: an event core with occurrence and measurement extensions.

Events are the surveys and the sightings (a sighting's parent is its survey); each sighting
has one occurrence of Rangifer tarandus with its total as individualCount, and its sex and
age classes as measurement-or-fact rows (one per recorded class), so the occurrences sum to
the animals counted and no class is counted twice. Retracted records are left out (the
store's queries leave them out). The archive is the same bytes while the data are the
same: rows in (observed_at, id) order, surveys by id, zip entries with a fixed date, and the
only date in eml.xml (pubDate) taken from the data.
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from data.demo import SYNTHETIC_FLAG
from data.exports.pages import Progress, all_observations, counted
from data.store import ObservationStore
from domain.csv_cells import safe_cell
from domain.errors import NotFound
from domain.records import COMPOSITION_FIELDS, Observation, ObservationQuery, Survey
from domain.wire import DARWIN_CORE_TERMS

DWC = "http://rs.tdwg.org/dwc/terms/"
ROW_TYPES = {
    "event.txt": DWC + "Event",
    "occurrence.txt": DWC + "Occurrence",
    "measurementorfact.txt": DWC + "MeasurementOrFact",
}
EVENT_TERMS = (
    "eventID",
    "parentEventID",
    "eventType",
    "eventDate",
    "samplingProtocol",
    "sampleSizeValue",
    "sampleSizeUnit",
    "decimalLatitude",
    "decimalLongitude",
    "geodeticDatum",
    "coordinateUncertaintyInMeters",
    "footprintWKT",
    "countryCode",
    "stateProvince",
)
OCCURRENCE_TERMS = (
    "eventID",
    "occurrenceID",
    "basisOfRecord",
    "scientificName",
    "taxonRank",
    "kingdom",
    "vernacularName",
    "eventDate",
    "decimalLatitude",
    "decimalLongitude",
    "geodeticDatum",
    "individualCount",
    "organismQuantity",
    "organismQuantityType",
    "recordedBy",
    "occurrenceStatus",
    *DARWIN_CORE_TERMS.values(),
)
MOF_TERMS = ("eventID", "measurementID", "measurementType", "measurementValue", "measurementUnit")
# The composition's classes as Darwin Core would name them (sex, lifeStage).
CLASS_NAMES = {
    "adult_males": "adult males (sex male, lifeStage adult)",
    "adult_females": "adult females (sex female, lifeStage adult)",
    "yearlings": "yearlings (lifeStage yearling)",
    "calves": "calves (lifeStage calf)",
    "unclassified": "unclassified animals",
}
SURVEY_PROTOCOLS = {
    "aerial": "aerial survey",
    "snowmobile": "snowmobile route survey",
    "foot": "foot transect",
    "camera": "camera trap",
    "collar": "GPS collar relocation",
}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: entries never carry the build time
SPECIES = "Rangifer tarandus (Linnaeus, 1758)"


@dataclass(frozen=True)
class DatasetInfo:
    """What eml.xml says about the dataset (from the settings)."""

    title: str
    contact: str  # "Name <email>"
    licence: str  # a URL


@dataclass
class _Summary:
    """What the pass over the sightings learns for eml.xml."""

    rows: int = 0
    west: float = 180.0
    south: float = 90.0
    east: float = -180.0
    north: float = -90.0
    first: datetime | None = None
    last: datetime | None = None
    updated: datetime | None = None
    synthetic: int = 0  # flagged "synthetic": made up, for demonstration and tests

    def add(self, obs: Observation) -> None:
        self.rows += 1
        self.synthetic += SYNTHETIC_FLAG in obs.flags
        self.west, self.east = min(self.west, obs.lon), max(self.east, obs.lon)
        self.south, self.north = min(self.south, obs.lat), max(self.north, obs.lat)
        self.first = min(self.first or obs.observed_at, obs.observed_at)
        self.last = max(self.last or obs.observed_at, obs.observed_at)
        changed = obs.updated_at or obs.created_at
        if changed is not None:
            self.updated = max(self.updated or changed, changed)


def write_dwca(
    store: ObservationStore,
    query: ObservationQuery,
    path: Path,
    info: DatasetInfo,
    progress: Progress | None = None,
) -> None:
    """Write the archive to `path`: the data files go to a temporary folder first (one
    pass over the sightings), then into the zip with fixed dates."""
    with tempfile.TemporaryDirectory(prefix="herdwatch-dwca-") as folder:
        work = Path(folder)
        summary = _write_tables(store, query, work, progress)
        (work / "eml.xml").write_bytes(eml_xml(info, summary))
        (work / "meta.xml").write_bytes(meta_xml())
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in ("meta.xml", "eml.xml", *ROW_TYPES):
                entry = zipfile.ZipInfo(name, ZIP_DATE)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                with open(work / name, "rb") as source, archive.open(entry, "w") as target:
                    shutil.copyfileobj(source, target, 1 << 20)


def _write_tables(
    store: ObservationStore, query: ObservationQuery, work: Path, progress: Progress | None
) -> _Summary:
    surveys: dict[str, Survey | None] = {}
    summary = _Summary()
    with (
        _table(work / "event.txt", EVENT_TERMS) as events,
        _table(work / "occurrence.txt", OCCURRENCE_TERMS) as occurrences,
        _table(work / "measurementorfact.txt", MOF_TERMS) as facts,
    ):
        for items in counted(all_observations(store, query), progress):
            for obs in items:
                survey = _survey(store, surveys, obs.survey_id)
                oid, when = str(obs.id), local_time(obs)  # each used several times
                events.writerow(_clean(_sighting_event(obs, survey, oid, when)))
                occurrences.writerow(_clean(_occurrence(obs, oid, when)))
                facts.writerows(_clean(row) for row in _facts(obs, oid))
                summary.add(obs)
        for survey_id in sorted(k for k, v in surveys.items() if v is not None):
            events.writerow(_clean(_survey_event(surveys[survey_id])))  # type: ignore[arg-type]
    return summary


class _table:
    """A tab-separated data file with a header row (the meta.xml says ignoreHeaderLines=1)."""

    def __init__(self, path: Path, terms: Sequence[str]) -> None:
        self.path, self.terms = path, terms

    def __enter__(self) -> Any:
        self.file: TextIO = open(self.path, "w", encoding="utf-8", newline="")
        writer = csv.writer(self.file, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE)
        writer.writerow(self.terms)
        return writer

    def __exit__(self, *exc: object) -> None:
        self.file.close()


def _clean(row: Sequence[object]) -> list[object]:
    """The row with no tab or line break inside a text (the files have no quoting); the csv
    writer writes None as an empty cell and numbers as they are."""
    search, sub = _BREAKS.search, _BREAKS.sub
    # ... and no text a spreadsheet would run as a formula (domain/csv_cells.py).
    return [safe_cell(sub(" ", v) if type(v) is str and search(v) else v) for v in row]


_BREAKS = re.compile("[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")  # tab, and what ends a line


def _survey(
    store: ObservationStore, known: dict[str, Survey | None], survey_id: str | None
) -> Survey | None:
    if survey_id is None:
        return None
    if survey_id not in known:
        try:
            known[survey_id] = store.get_survey(survey_id)
        except NotFound:
            known[survey_id] = None  # a sighting may name a survey never registered
    return known[survey_id]


# samplingProtocol's words for a count method (seen: "estimate count of …").
COUNT_PROTOCOLS = {
    "visual": "visual count",
    "photo": "count from photos",
    "estimate": "estimated count",
}


def local_time(obs: Observation) -> str:
    """The sighting's time where it was made, with its offset (e.g. +09:00)."""
    return obs.observed_at.astimezone(ZoneInfo(obs.timezone)).isoformat()


def _sighting_event(obs: Observation, survey: Survey | None, oid: str, when: str) -> list[object]:
    protocol = f"{COUNT_PROTOCOLS.get(obs.count_method, obs.count_method)} of wild reindeer herds"
    if survey is not None:
        protocol = f"{SURVEY_PROTOCOLS.get(survey.method, survey.method)}; {protocol}"
    return [
        oid,
        survey.id if survey else None,
        "sighting",
        when,
        protocol,
        None,  # effort is the survey's, not one sighting's
        None,
        obs.lat,
        obs.lon,
        "EPSG:4326",
        _optional(obs)["coordinateUncertaintyInMeters"],
        f"POINT ({obs.lon!r} {obs.lat!r})",
        "RU",
        obs.region,
    ]


def _optional(obs: Observation) -> dict[str, Any]:
    return {term: getattr(obs, name) for name, term in DARWIN_CORE_TERMS.items()}


def _survey_event(survey: Survey) -> list[object]:
    import shapely.geometry

    size, unit = _effort(survey)
    lat = lon = wkt = None
    if survey.geometry:
        shape = shapely.geometry.shape(survey.geometry)
        wkt = shape.wkt
        lon, lat = shape.centroid.x, shape.centroid.y
    period = survey.started_at.isoformat()
    if survey.ended_at is not None:
        period += "/" + survey.ended_at.isoformat()
    return [
        survey.id,
        None,
        "survey",
        period,
        SURVEY_PROTOCOLS.get(survey.method, survey.method),
        size,
        unit,
        lat,
        lon,
        "EPSG:4326",
        None,
        wkt,
        "RU",
        None,
    ]


def _effort(survey: Survey) -> tuple[float | None, str | None]:
    if survey.effort_km2 is not None:
        return round(survey.effort_km2, 3), "square kilometre"
    if survey.effort_km is not None:
        return round(survey.effort_km, 3), "kilometre"
    return None, None


def _occurrence(obs: Observation, oid: str, when: str) -> list[object]:
    return [
        oid,
        oid,
        "HumanObservation",
        SPECIES,
        "species",
        "Animalia",
        "wild reindeer",
        when,
        obs.lat,
        obs.lon,
        "EPSG:4326",
        obs.count,
        obs.count,
        "individuals",
        obs.observer,
        "present" if obs.count > 0 else "absent",
        *_optional(obs).values(),
    ]


def _facts(obs: Observation, oid: str) -> list[list[object]]:
    classes = obs.composition.as_dict()
    return [
        [oid, f"{oid}/{name}", CLASS_NAMES[name], value, "individuals"]
        for name in COMPOSITION_FIELDS
        if (value := classes[name]) is not None
    ]


def meta_xml() -> bytes:
    """The archive's descriptor (validated against the Darwin Core text schema in tests)."""
    ET.register_namespace("", "http://rs.tdwg.org/dwc/text/")
    ns = "{http://rs.tdwg.org/dwc/text/}"
    root = ET.Element(f"{ns}archive", metadata="eml.xml")
    for i, (name, row_type) in enumerate(ROW_TYPES.items()):
        terms = (EVENT_TERMS, OCCURRENCE_TERMS, MOF_TERMS)[i]
        part = ET.SubElement(
            root,
            f"{ns}core" if i == 0 else f"{ns}extension",
            encoding="UTF-8",
            fieldsTerminatedBy="\\t",
            linesTerminatedBy="\\n",
            fieldsEnclosedBy="",
            ignoreHeaderLines="1",
            rowType=row_type,
        )
        ET.SubElement(ET.SubElement(part, f"{ns}files"), f"{ns}location").text = name
        ET.SubElement(part, f"{ns}id" if i == 0 else f"{ns}coreid", index="0")
        for index, term in enumerate(terms):
            ET.SubElement(part, f"{ns}field", index=str(index), term=DWC + term)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def eml_xml(info: DatasetInfo, summary: _Summary) -> bytes:
    """EML 2.1.1 metadata: title, abstract, contact, licence, coverage and methods."""
    ET.register_namespace("eml", "eml://ecoinformatics.org/eml-2.1.1")
    name, email = _contact(info.contact)
    package = uuid.uuid5(uuid.NAMESPACE_URL, f"herdwatch/{info.title}")
    root = ET.Element(
        "{eml://ecoinformatics.org/eml-2.1.1}eml",
        packageId=str(package),
        system="herdwatch",
    )
    dataset = ET.SubElement(root, "dataset")
    _text(dataset, "title", info.title)
    _party(dataset, "creator", name, email)
    _text(
        dataset, "pubDate", summary.updated.date().isoformat() if summary.updated else "1970-01-01"
    )
    _text(dataset, "language", "en")
    abstract = ABSTRACT.format(rows=summary.rows)
    if summary.synthetic:  # seen: the eml said nothing of it, only occurrenceRemarks did
        abstract += " " + SYNTHETIC_NOTE.format(n=summary.synthetic)
    _para(dataset, "abstract", abstract)
    rights = ET.SubElement(ET.SubElement(dataset, "intellectualRights"), "para")
    rights.text = "This work is licensed under "
    ET.SubElement(ET.SubElement(rights, "ulink", url=info.licence), "citetitle").text = info.licence
    _coverage(ET.SubElement(dataset, "coverage"), summary)
    _party(dataset, "contact", name, email)
    _methods(ET.SubElement(dataset, "methods"))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


ABSTRACT = (
    "Sightings of wild reindeer (Rangifer tarandus) herds in the Sakha Republic (Yakutia) "
    "recorded with Herdwatch: {rows} sightings, each an event with one occurrence whose "
    "individualCount is the herd's total, and its sex and age classes as measurements. "
    "Surveys (flights, routes, transects) are parent events with their effort."
)
SYNTHETIC_NOTE = (
    "{n} of these sightings are SYNTHETIC: made up for a demonstration or a test, flagged "
    "'synthetic' in occurrenceRemarks. They are not observations and must not be analysed "
    "or published as such."
)
METHODS = (
    "Observers record each herd on a tablet: time with its offset, position (GPS), the "
    "total count and, where seen, the sex and age classes; counts are visual, from photos or "
    "estimated (samplingProtocol). Each survey's effort is its track's length on the WGS 84 "
    "ellipsoid or its area in the EPSG:3576 equal-area projection (sampleSizeValue, "
    "sampleSizeUnit); a strip-transect survey without a track, its transects' length."
)


def _coverage(coverage: ET.Element, summary: _Summary) -> None:
    geo = ET.SubElement(coverage, "geographicCoverage")
    _text(geo, "geographicDescription", "Sakha Republic (Yakutia) and neighbouring regions")
    box = ET.SubElement(geo, "boundingCoordinates")
    for tag, value in (
        ("westBoundingCoordinate", summary.west),
        ("eastBoundingCoordinate", summary.east),
        ("northBoundingCoordinate", summary.north),
        ("southBoundingCoordinate", summary.south),
    ):
        _text(box, tag, f"{value:.6f}" if summary.rows else "0")
    if summary.first and summary.last:
        dates = ET.SubElement(ET.SubElement(coverage, "temporalCoverage"), "rangeOfDates")
        for tag, moment in (("beginDate", summary.first), ("endDate", summary.last)):
            _text(ET.SubElement(dates, tag), "calendarDate", moment.date().isoformat())
    taxa = ET.SubElement(ET.SubElement(coverage, "taxonomicCoverage"), "taxonomicClassification")
    _text(taxa, "taxonRankName", "species")
    _text(taxa, "taxonRankValue", "Rangifer tarandus")
    _text(taxa, "commonName", "wild reindeer")


def _methods(methods: ET.Element) -> None:
    _para(ET.SubElement(methods, "methodStep"), "description", METHODS)
    sampling = ET.SubElement(methods, "sampling")
    _para(
        ET.SubElement(sampling, "studyExtent"),
        "description",
        "Ranges of the wild reindeer populations of Yakutia.",
    )
    _para(sampling, "samplingDescription", METHODS)


def _contact(text: str) -> tuple[str, str | None]:
    name, _, rest = text.partition("<")
    return name.strip() or text, rest.rstrip(">").strip() or None


def _party(parent: ET.Element, tag: str, name: str, email: str | None) -> None:
    party = ET.SubElement(parent, tag)
    _text(ET.SubElement(party, "individualName"), "surName", name)
    if email:
        _text(party, "electronicMailAddress", email)


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _para(parent: ET.Element, tag: str, text: str) -> None:
    _text(ET.SubElement(parent, tag), "para", text)
