"""Every browser page in Russian and in English: no English left in the Russian ones, the
numbers and dates in the reader's format, the language switch and its cookie, the language
headers, and `herdwatch map --lang ru`.

The untranslated check takes every msgid of the catalogue and looks for it in the page's
visible text (tooltips and labels included; scripts, code and JSON left out).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from data.sqlite import SQLiteStore
from domain.i18n import translator
from domain.terms import period_label
from field_api.cli import main
from field_api.viewer import error_page
from maps.service import generated_note
from maps.style import script_messages, script_msgids
from tests.factories import make_observation
from tests.ogc_sample import seed
from tests.untranslated import VisibleText, english_fragments, latin_words, untranslated

YAKUTSK = ZoneInfo("Asia/Yakutsk")
RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5", "Accept": "text/html"}
NBSP = "\u00a0"


def sightings() -> list:
    """600 sightings of two populations over two years, a herd of 1,500 among them."""
    out = []
    for n in range(600):
        population = "sundrun" if n % 3 == 0 else "lena-olenek"
        when = datetime(2023 + n % 2, 3 + n % 8, 1 + n % 27, 10, tzinfo=YAKUTSK)
        count = 1500 if n == 7 else 10 + n % 40
        out.append(make_observation(n, population=population, observed_at=when, count=count))
    return out


@pytest.fixture
def api(sqlite_api):
    sqlite_api.store.add_observations(sightings(), actor="olga")
    return sqlite_api


@pytest.fixture
def ogc_api(sqlite_api):
    seed(sqlite_api.store)
    return sqlite_api


def visible(html: str, skip: frozenset[str] = frozenset()) -> str:
    return VisibleText(html, skip).text


def assert_russian(html: str, skip: frozenset[str] = frozenset()) -> None:
    text = visible(html, skip)
    assert re.search("[а-яё]", text), "no Russian on the page at all"
    assert untranslated(text) == [], text


# --- the check itself ------------------------------------------------------------------------


def test_the_check_knows_the_pages_words_and_catches_them():
    fragments = english_fragments()
    assert "Minimum count" in fragments and "animals in" in fragments  # from a template, a script
    assert "Sign out" in fragments and "Export what is shown" in fragments
    assert untranslated("Всего 12 · Sign out") == ["Sign out"]
    assert untranslated("Выйти · Signed up · `Sign out`") == []  # in a word, in code: not one
    text = visible('<p title="Zoom in">Ок<script>var s = "Zoom out";</script><code>x</code></p>')
    assert untranslated(text) == ["Zoom in"]  # a tooltip counts, a script does not
    assert latin_words("EPSG:3576, 100 km, GeoJSON, herds") == ["herds"]


# --- each page in Russian ----------------------------------------------------------------------


@pytest.mark.parametrize("view", ["herds", "sightings"])
def test_viewer_in_russian_has_no_english_left(api, view):
    response = api.researcher.get("/viewer", params={"view": view}, headers=RU)
    assert response.status_code == 200
    assert response.headers["content-language"] == "ru"
    assert response.headers["vary"] == "Accept-Language, Cookie"
    assert '<html lang="ru">' in response.text or 'lang="ru"' in response.text
    assert_russian(response.text)
    bbox_format = frozenset({"minLon", "minLat", "maxLon", "maxLat"})  # the Area's placeholder
    assert latin_words(visible(response.text), allowed={"rita"} | bbox_format) == []


@pytest.mark.parametrize("view", ["herds", "sightings"])
@pytest.mark.parametrize("every", ["year", "season", "month"])
def test_map_page_in_russian_has_no_english_left(api, view, every):
    response = api.researcher.get(
        "/maps/herd-counts", params={"view": view, "every": every}, headers=RU
    )
    assert response.status_code == 200 and response.headers["content-language"] == "ru"
    assert_russian(response.text)
    assert latin_words(visible(response.text)) == []


def test_the_maps_script_gets_every_word_it_shows_in_russian(api):
    html = api.researcher.get("/maps/herd-counts", headers=RU).text
    words = script_words_of(html)
    assert set(words["messages"]) == set(script_msgids())  # all of them, each translated
    assert all(re.search("[а-яё]", ru) for ru in words["messages"].values())
    assert words["group"] == NBSP and words["decimal"] == ","
    assert words["count_methods"]["visual"] == "визуально"
    assert script_messages(translator("en")) == {}  # English needs none: the msgid is it
    english = script_words_of(api.researcher.get("/maps/herd-counts").text)
    assert english["messages"] == {} and english["group"] == ","


def script_words_of(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="hw-map-i18n">(.*?)</script>', html)
    assert found
    words: dict = json.loads(found.group(1))
    return words


def test_login_page_in_russian(api):
    response = api.anonymous.get("/login", headers=RU)
    assert response.status_code == 200 and response.headers["content-language"] == "ru"
    assert_russian(response.text)
    assert "Токен доступа" in response.text and 'id="hw-lang-en"' in response.text
    refused = api.anonymous.post("/login", data={"token": "nope"}, headers=RU)
    assert refused.status_code == 401
    assert "Этот токен недействителен или отозван." in refused.text
    assert_russian(refused.text)


@pytest.mark.parametrize(
    ("client", "params", "status"),
    [
        ("observer", {}, 403),
        ("researcher", {"every": "week"}, 422),
        ("researcher", {"to": "x"}, 422),
    ],
)
def test_error_pages_in_russian(api, client, params, status):
    response = getattr(api, client).get("/viewer", params=params, headers=RU)
    assert response.status_code == status and response.headers["content-language"] == "ru"
    assert_russian(response.text)


def test_error_page_speaks_the_language_it_is_given():
    ru = bytes(error_page(422, "x", filters_back=True, t=translator("ru")).body).decode()
    assert "Вернуться к карте без фильтров" in ru and "Выйти" in ru and 'lang="ru"' in ru
    en = bytes(error_page(422, "x", filters_back=True).body).decode()
    assert "Back to the viewer with no filters" in en and 'lang="en"' in en


OGC_PAGES = [
    "/ogc/?f=html",
    "/ogc/conformance?f=html",
    "/ogc/api.html",
    "/ogc/collections?f=html",
    "/ogc/collections/observations?f=html",
    "/ogc/collections/herds?f=html",
    "/ogc/collections/surveys/queryables?f=html",
    "/ogc/collections/observations/items?f=html&limit=5",
    "/ogc/collections/surveys/items?f=html",
]


@pytest.mark.parametrize("path", OGC_PAGES)
def test_ogc_pages_in_russian(ogc_api, path):
    response = ogc_api.researcher.get(path, headers=RU)
    assert response.status_code == 200 and response.headers["content-language"] == "ru"
    # A table's cells are the features' properties: data, shown as stored.
    assert_russian(response.text, skip=frozenset({"td"}))


def test_ogc_items_page_names_the_classes_and_counts_in_russian(ogc_api):
    html = ogc_api.researcher.get(OGC_PAGES[-2], headers=RU).text
    assert re.search(r"Показан[оы]? \d+ объект", html)
    assert "взрослые самки" in html and "adult females" not in html
    english = ogc_api.researcher.get(OGC_PAGES[-2]).text
    assert "adult females" in english and re.search(r"\d+ features shown of", english)


def test_ogc_documents_speak_the_language_asked_for(ogc_api):
    ru = ogc_api.anonymous.get("/ogc/", headers={"Accept-Language": "ru"})
    assert ru.headers["content-language"] == "ru"
    body = ru.json()
    assert body["title"] == "Herdwatch: учёты диких северных оленей в Якутии"
    assert {link["title"] for link in body["links"]} >= {"этот документ", "описание API"}
    english = ogc_api.anonymous.get("/ogc/").json()
    assert english["title"] == "Herdwatch: wild reindeer counts in Yakutia"
    assert "this document" in {link["title"] for link in english["links"]}
    collections = ogc_api.researcher.get("/ogc/collections", headers={"Accept-Language": "ru"})
    titles = {c["id"]: c["title"] for c in collections.json()["collections"]}
    assert titles == {"observations": "Встречи стад", "herds": "Стада без повторов",
                      "surveys": "Учёты"}  # fmt: skip


# --- the same pages in English read as before ------------------------------------------------


def test_english_pages_are_english(api):
    viewer = api.researcher.get("/viewer")
    assert viewer.headers["content-language"] == "en"
    text = visible(viewer.text)
    for words in ("Populations", "any method", "raw sightings", "Export what is shown:",
                  "Minimum count", "Totals per year", "Sign out"):  # fmt: skip
        assert words in text
    assert not re.search("[а-яё]", text.replace("Русский", ""))
    login = visible(api.anonymous.get("/login").text)
    assert "Access token" in login and "Sign in" in login


# --- numbers, dates, months and seasons --------------------------------------------------------


def test_numbers_are_grouped_as_the_reader_writes_them(api):
    animals = sum(o.count for o in sightings())
    assert animals > 1000
    ru = api.researcher.get("/viewer", params={"view": "sightings"}, headers=RU).text
    assert f'id="hw-total-animals">{animals:,}<'.replace(",", NBSP) in ru  # "21 455"
    en = api.researcher.get("/viewer", params={"view": "sightings"}).text
    assert f'id="hw-total-animals">{animals:,}<' in en  # "21,455"


def test_months_and_seasons_are_named_in_russian(api):
    months = api.researcher.get("/viewer", params={"every": "month"}, headers=RU).text
    assert '<th scope="row">март 2023</th>' in months
    assert '<th scope="row">2023-03</th>' in api.researcher.get("/viewer?every=month").text
    seasons = api.researcher.get("/viewer", params={"every": "season"}, headers=RU).text
    assert re.search(r'<th scope="row">(отёл|гон|зима|послеотёльный период) 2023</th>', seasons)
    assert "<th>Сезон</th>" in seasons and "Итоги по сезонам" in seasons


def test_a_sightings_date_and_the_maps_making_are_in_the_readers_format(api):
    few = {"population": "sundrun", "datetime": "2023-03-01T00:00:00Z/2023-03-31T23:59:59Z"}
    html = api.researcher.get("/maps/herd-counts", params=few, headers=RU).text
    payload = re.search(r'id="hw-map-data">(.*?)</script>', html)
    assert payload
    times = [row[3] for rows in json.loads(payload.group(1))["sightings"] for row in rows]
    assert times and all(re.fullmatch(r"\d\d\.03\.2023 \d\d:\d\d", t) for t in times)
    assert re.search(r"Создано в Herdwatch \d\d\.\d\d\.\d{4} \d\d:\d\d UTC\.", html)


def test_period_labels_and_the_note_per_language():
    ru, en = translator("ru"), translator("en")
    assert [period_label(k, ru) for k in ("2024", "2024-07", "2024-rut", "2024-x")] == [
        "2024",
        "июль 2024",
        "гон 2024",
        "x 2024",  # an administrator's own season keeps its key as its name
    ]
    assert [period_label(k, en) for k in ("2024", "2024-07", "2024-rut")] == [
        "2024",
        "2024-07",
        "2024-rut",
    ]
    moment = datetime(2024, 3, 12, 8, 5, tzinfo=ZoneInfo("UTC"))
    assert (
        generated_note(moment, ru)
        == '<p class="hw-note">Создано в Herdwatch 12.03.2024 08:05 UTC.</p>'
    )
    assert "on 2024-03-12 08:05 UTC." in generated_note(moment)


# --- the language switch -------------------------------------------------------------------------


def test_the_switch_sets_a_years_cookie_and_goes_back_without_lang(api):
    back = "/viewer?every=month&lang=en&view=sightings"
    response = api.anonymous.get("/language/ru", params={"next": back}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/viewer?every=month&view=sightings"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("herdwatch_lang=ru;")
    assert "Max-Age=31536000" in cookie and "Path=/" in cookie and "SameSite=lax" in cookie
    assert api.anonymous.get("/language/xx", follow_redirects=False).status_code == 404
    away = api.anonymous.get(
        "/language/en", params={"next": "//evil.example"}, follow_redirects=False
    )
    assert away.headers["location"] == "/viewer"


def test_the_cookie_outranks_accept_language_and_lang_outranks_the_cookie(api):
    client = api.researcher
    client.get("/language/en", params={"next": "/viewer"})  # the cookie, as a click sets it
    assert client.get("/viewer", headers=RU).headers["content-language"] == "en"
    assert client.get("/viewer?lang=ru").headers["content-language"] == "ru"
    client.get("/language/ru")
    assert client.get("/maps/herd-counts").headers["content-language"] == "ru"  # other pages too
    assert client.get("/login").headers["content-language"] == "ru"


def test_each_page_links_the_other_languages_back_to_itself(api):
    html = api.researcher.get("/viewer?every=season&lang=ru").text
    back = "/language/en?next=%2Fviewer%3Fevery%3Dseason"
    assert f'<a id="hw-lang-en" lang="en" hreflang="en" href="{back}">English</a>' in html
    assert '<strong lang="ru" aria-current="true">Русский</strong>' in html


def test_a_stranger_signs_in_in_the_language_asked_for(api):
    response = api.anonymous.get("/viewer?lang=ru", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/viewer%3Flang%3Dru&lang=ru"


# --- the field app's shell ----------------------------------------------------------------------


def test_field_shell_names_the_populations_through_its_catalogues(api):
    html = api.anonymous.get("/field").text
    en = api.anonymous.get("/field/app/messages-en.json").json()
    ru = api.anonymous.get("/field/app/messages-ru.json").json()
    keys = re.findall(r'<option value="[^"]+" data-i18n="(pop\.[^"]+)">', html)
    assert "pop.lena-olenek" in keys and all(k in en and k in ru for k in keys)
    assert ru["pop.lena-olenek"] == translator("ru").population_name("lena-olenek")


# --- herdwatch map --lang ru -------------------------------------------------------------------


@pytest.mark.parametrize("how", ["option", "environment"])
def test_map_command_writes_russian(tmp_path: Path, monkeypatch, how):
    db = tmp_path / "herdwatch.db"
    store = SQLiteStore(str(db))
    store.migrate()
    store.add_observations(sightings()[:60], actor="olga")
    store.close()
    out = tmp_path / "map.html"
    args = ["--database-url", f"sqlite:///{db}", "map", "--out", str(out)]
    if how == "option":
        args += ["--lang", "ru"]
    else:
        monkeypatch.setenv("HERDWATCH_LANG", "ru")
    assert main(args) == 0
    html = out.read_text(encoding="utf-8")
    assert 'id="hw-lang-en"' not in html  # a file has no server to switch languages with
    assert_russian(html)
    assert "Учтённые дикие северные олени" in html and "Итоги по годам" in html
