"""The herd_sighting XLSForm: converts cleanly, matches the server's rules, files in step."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from data.xlsform import (
    FORM_ID,
    FormRefused,
    FormSpec,
    builtin_xform,
    convert_workbook,
    file_xform,
    herd_sighting_workbook,
    markdown,
    write_xlsx,
)
from domain import wire
from domain.records import COMPOSITION_FIELDS, POPULATIONS
from field_api.openrosa_form import form_spec, served_form
from field_api.settings import Settings
from maps.style import POPULATION_LABELS

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "forms"
XF = "{http://www.w3.org/2002/xforms}"
ISSUE_FIELDS = (
    "observed_at", "location", "population", "count_method", "count", "adult_males",
    "adult_females", "yearlings", "calves", "unclassified", "survey_id", "behaviour", "notes",
    "photo",
)  # fmt: skip


def _settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg, arg-type]


def _spec(**kw: object) -> FormSpec:
    return form_spec(_settings(**kw))


def _binds(xml: bytes) -> dict[str, dict[str, str]]:
    model = ET.fromstring(xml).find(f".//{XF}model")
    assert model is not None
    return {b.attrib["nodeset"].rsplit("/", 1)[-1]: b.attrib for b in model.iter(f"{XF}bind")}


def test_the_shipped_form_converts_with_pyxform_without_warnings() -> None:
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    result = convert(herd_sighting_workbook(_spec()), warnings=warnings)
    assert warnings == []
    form = builtin_xform(_spec())
    assert form.warnings == () and form.xml == result.xform.encode()
    assert form.form_id == FORM_ID == "herd_sighting"
    instance = ET.fromstring(form.xml).find(f".//{XF}instance/{XF}{FORM_ID}")
    assert instance is not None and instance.get("id") == FORM_ID
    assert [child.tag.removeprefix(XF) for child in instance][: len(ISSUE_FIELDS) + 1] == [
        *ISSUE_FIELDS[:10], "classified", *ISSUE_FIELDS[10:],
    ]  # fmt: skip
    meta = instance.find(f"{XF}meta/{XF}instanceID")
    assert meta is not None
    binds = _binds(form.xml)
    assert binds["observed_at"]["type"] == "dateTime"
    assert binds["location"]["type"] == "geopoint" and binds["photo"]["type"] == "binary"
    assert binds["instanceID"]["{http://openrosa.org/javarosa}preload"] == "uid"


@pytest.mark.parametrize("source", ["herd_sighting.md", "herd_sighting.xlsx"])
def test_the_checked_in_form_files_are_the_form_the_server_serves(source: str) -> None:
    """forms/ holds the form for the default settings; `herdwatch form` rewrites them."""
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    converted = convert(str(FORMS / source), warnings=warnings).xform.encode()
    assert warnings == []
    assert converted == served_form(_settings()).xml, "run `herdwatch form` to refresh forms/"


def test_the_markdown_twin_is_written_from_the_definition() -> None:
    assert (FORMS / "herd_sighting.md").read_text() == markdown(herd_sighting_workbook(_spec()))


def test_constraints_are_the_servers_limits() -> None:
    binds = _binds(builtin_xform(_spec()).xml)
    count = next(f for f in wire.PROPERTIES if f.name == "count")
    assert f". <= {int(count.le or 0)}" in binds["count"]["constraint"]
    assert "classified  <= ." in binds["count"]["constraint"]
    for name in COMPOSITION_FIELDS:
        assert "/herd_sighting/classified  <=  /herd_sighting/count" in binds[name]["constraint"]
        assert binds[name]["type"] == "int"
    notes = next(f for f in wire.PROPERTIES if f.name == "notes")
    assert binds["notes"]["constraint"] == f"string-length(.) <= {notes.max_length}"
    # The tablet's clock may be as far ahead as the server allows, in days.
    ahead = _binds(builtin_xform(_spec(max_future_minutes=144.0)).xml)["observed_at"]
    assert ahead["constraint"].endswith("+ 0.100000")


def test_population_choices_follow_the_configured_populations_in_both_languages() -> None:
    form = builtin_xform(_spec(extra_populations="chukotka"))
    root = ET.fromstring(form.xml)
    items = root.findall(f".//{XF}instance[@id='population']/{XF}root/{XF}item")
    assert [i.findtext(f"{XF}name") for i in items] == [*POPULATIONS, "chukotka"]
    texts = {
        t.get("lang"): {x.get("id"): x.findtext(f"{XF}value") for x in t}
        for t in root.iter(f"{XF}translation")
    }
    english, russian = texts["English (en)"], texts["Russian (ru)"]
    for i, population in enumerate(POPULATIONS):
        assert english[f"population-{i}"] == POPULATION_LABELS[population]
    assert [russian[f"population-{i}"] for i in range(6)] == [
        "Лено-Оленёкская", "Яно-Индигирская", "Сундрунская", "Новосибирская островная",
        "лесной (таёжный) северный олень", "Таймырская",
    ]  # fmt: skip
    assert english["population-7"] == russian["population-7"] == "chukotka"
    # A new population is a new form version, so Collect fetches it again.
    assert form.version != builtin_xform(_spec()).version


def test_conversion_is_done_once_per_process() -> None:
    assert builtin_xform(_spec()) is builtin_xform(_spec())


def _admin_form(tmp_path: Path, extra_rows: list[dict[str, str]]) -> Path:
    """An administrator's XLSForm: other names, a group, two photos, a media folder."""
    rows = [
        {"type": "begin_group", "name": "where", "label": "Where"},
        {"type": "geopoint", "name": "location", "label": "Point"},
        {"type": "end_group", "name": ""},
        {"type": "dateTime", "name": "observed_at", "label": "When"},
        {"type": "integer", "name": "count", "label": "How many"},
        {"type": "text", "name": "observer_mood", "label": "Mood"},
        {"type": "image", "name": "photo", "label": "Photo", "parameters": "max-pixels=1024"},
        {"type": "image", "name": "photo_2", "label": "Photo", "parameters": "max-pixels=1024"},
        *extra_rows,
    ]
    workbook = {
        "survey": rows,
        "settings": [{"form_id": "kobo_reindeer", "version": "7", "form_title": "Reindeer"}],
    }
    if any("population" in r.get("type", "") for r in extra_rows):
        workbook["choices"] = [
            {"list_name": "population", "name": "taimyr", "label": "Taimyr"},
            {"list_name": "population", "name": "atlantis", "label": "Atlantis"},
        ]
    path = tmp_path / "kobo_reindeer.xlsx"
    write_xlsx(workbook, path)
    media = tmp_path / "kobo_reindeer-media"
    media.mkdir()
    (media / "map.png").write_bytes(b"\x89PNG not really")
    return path


def test_an_administrators_form_is_read_with_its_questions_and_media(tmp_path: Path) -> None:
    form = file_xform(_admin_form(tmp_path, []), POPULATIONS)
    assert (form.form_id, form.version) == ("kobo_reindeer", "7")
    assert form.fields["location"] == "geopoint" and form.fields["observer_mood"] == "text"
    assert form.image_fields == ("photo", "photo_2")
    assert [p.name for p in form.media] == ["map.png"]


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ([{"type": "select_one population", "name": "population", "label": "P"}], "atlantis"),
    ],
)
def test_an_administrators_form_the_server_cannot_take_is_refused(
    tmp_path: Path, rows: list[dict[str, str]], words: str
) -> None:
    with pytest.raises(FormRefused, match=words):
        file_xform(_admin_form(tmp_path, rows), POPULATIONS)


def test_a_form_without_the_needed_questions_or_that_does_not_convert_is_refused(
    tmp_path: Path,
) -> None:
    with pytest.raises(FormRefused, match="no question named observed_at, location"):
        path = tmp_path / "bare.xlsx"
        write_xlsx({"survey": [{"type": "integer", "name": "count", "label": "n"}]}, path)
        file_xform(path, POPULATIONS)
    with pytest.raises(FormRefused, match="does not convert"):
        convert_workbook({"survey": [{"type": "no_such_type", "name": "x", "label": "x"}]})
    with pytest.raises(FormRefused, match="cannot be read"):
        file_xform(tmp_path / "missing.xlsx", POPULATIONS)


def test_herdwatch_form_writes_the_xlsform_its_twin_and_the_served_xform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyxform.xls2xform import convert

    from field_api.cli import main

    monkeypatch.setenv("HERDWATCH_EXTRA_POPULATIONS", "chukotka")
    assert main(["form", "--out", str(tmp_path)]) == 0
    served = served_form(_settings(extra_populations="chukotka"))
    assert (tmp_path / "herd_sighting.xml").read_bytes() == served.xml
    assert convert(str(tmp_path / "herd_sighting.xlsx")).xform.encode() == served.xml
    assert "chukotka" in (tmp_path / "herd_sighting.md").read_text()
    assert served.md5 in capsys.readouterr().out
