"""GET /api/v1/reports: researchers get HTML, PDF or CSV; everyone else is refused."""

from __future__ import annotations

import csv
import io

import pytest

from tests.reports.sample import sightings

URL = "/api/v1/reports"
GOOD = {"every": "year", "period": "2024"}


@pytest.fixture
def api(sqlite_api):
    sqlite_api.store.add_observations(sightings(), actor="olga")
    return sqlite_api


def test_researcher_gets_a_self_contained_html_report(api):
    response = api.researcher.get(URL, params=GOOD)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Wild reindeer population report: 2024" in html
    assert "Minimum count" in html and "Methods" in html and "de-duplicated" in html
    assert html.count("data:image/png;base64,") == 4  # counts, trend, composition, map
    assert "<script src" not in html and "<link" not in html


def test_pdf_and_csv(api):
    pdf = api.admin.get(URL, params={**GOOD, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    summary = api.researcher.get(URL, params={**GOOD, "format": "csv"})
    assert summary.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(summary.text)))
    total = [r for r in rows if r["population"] == "all populations"][0]
    assert (total["every"], total["period"]) == ("year", "2024")
    assert (total["herds"], total["minimum_count"], total["sighting_total"]) == ("2", "450", "830")
    herds = api.researcher.get(URL, params={**GOOD, "format": "csv", "table": "herds"})
    assert sorted(int(r["size"]) for r in csv.DictReader(io.StringIO(herds.text))) == [50, 400]


ROLE_STATUS = [
    ("anonymous", 401),
    ("bad_token", 401),
    ("observer", 403),
    ("other_observer", 403),
    ("researcher", 200),
    ("admin", 200),
]


@pytest.mark.parametrize(("role", "status"), ROLE_STATUS)
def test_only_researchers_and_admins_read_reports(api, role, status):
    assert api.by_role()[role].get(URL, params=GOOD).status_code == status


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"every": "week", "period": "2024"}, "every"),
        ({"every": "year", "period": "24"}, "period"),
        ({"every": "month", "period": "2024"}, "period"),
        ({"every": "season", "period": "2024-spring"}, "period"),
        ({**GOOD, "format": "docx"}, "format"),
        ({**GOOD, "format": "csv", "table": "secrets"}, "table"),
        ({}, "every"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(api, params, field):
    response = api.researcher.get(URL, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_period_without_sightings_is_404_naming_the_period(api):
    response = api.researcher.get(URL, params={"every": "year", "period": "1999"})
    assert response.status_code == 404 and response.json()["errors"][0]["field"] == "period"


def test_anonymous_is_refused_before_parameters_are_checked(api):
    assert api.anonymous.get(URL, params={"every": "week"}).status_code == 401


def test_a_repeated_report_is_the_kept_file_until_the_data_change(api):
    from tests.factories import make_observation

    cache_state = api.researcher.app.state
    first = api.researcher.get(URL, params={**GOOD, "format": "pdf"})
    made = cache_state.herd_cache.made
    again = api.researcher.get(URL, params={**GOOD, "format": "pdf"})
    assert again.content == first.content  # the very bytes: nothing computed or drawn again
    assert cache_state.herd_cache.made == made and cache_state.herd_cache.builds == 1
    api.store.add_observations([make_observation(77, count=999)], actor="olga")
    changed = api.researcher.get(URL, params={**GOOD, "format": "csv"})
    assert cache_state.herd_cache.builds == 2 and changed.status_code == 200
    rows = csv.DictReader(io.StringIO(changed.text))
    total = [r for r in rows if r["population"] == "all populations"][0]
    assert int(total["sighting_total"]) == 830 + 999  # the new sighting is counted


def test_lang_ru_gives_the_russian_pdf_and_the_english_stays(api):
    import subprocess

    russian = api.researcher.get(URL, params={**GOOD, "format": "pdf", "lang": "ru"})
    english = api.researcher.get(URL, params={**GOOD, "format": "pdf"})
    assert russian.status_code == english.status_code == 200
    assert (
        russian.headers["content-language"] == "ru" and english.headers["content-language"] == "en"
    )
    assert "Accept-Language" in russian.headers["vary"]  # a cache must keep both
    name = 'inline; filename="herdwatch-year-2024.pdf"'  # the same ASCII name in both
    assert russian.headers["content-disposition"] == english.headers["content-disposition"] == name

    def text(pdf: bytes) -> str:
        run = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
        return " ".join(run.stdout.decode().split())

    assert "Отчёт о численности диких северных оленей: 2024" in text(russian.content)
    assert "Wild reindeer population report: 2024" in text(english.content)
    assert "Wild reindeer" not in text(russian.content)


def test_the_cookie_and_accept_language_choose_the_language_after_lang(api):
    title = {"ru": "Отчёт о численности диких северных оленей", "en": "Wild reindeer population"}
    cases = [
        ({}, {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}, "ru"),
        ({"lang": "en"}, {"Accept-Language": "ru"}, "en"),
        ({}, {"Cookie": "herdwatch_lang=ru", "Accept-Language": "en"}, "ru"),
        ({"lang": "xx"}, {"Accept-Language": "de, ru;q=0.5"}, "ru"),
    ]
    for params, headers, lang in cases:
        response = api.researcher.get(URL, params={**GOOD, **params}, headers=headers)
        assert response.headers["content-language"] == lang, (params, headers)
        assert title[lang] in response.text and f'<html lang="{lang}">' in response.text


def test_each_language_is_kept_apart_and_the_report_computed_once(api):
    state = api.researcher.app.state
    first = api.researcher.get(URL, params={**GOOD, "format": "pdf", "lang": "ru"}).content
    english = api.researcher.get(URL, params={**GOOD, "format": "pdf", "lang": "en"}).content
    again = api.researcher.get(URL, params={**GOOD, "format": "pdf", "lang": "ru"}).content
    assert again == first != english  # kept per language: the very same Russian bytes
    assert state.herd_cache.builds == 1  # one grouping, one computed report for both


def test_the_russian_csv_translates_the_header_row_only(api):
    def rows(lang: str) -> list[list[str]]:
        response = api.researcher.get(URL, params={**GOOD, "format": "csv", "lang": lang})
        return list(csv.reader(io.StringIO(response.text)))

    russian, english = rows("ru"), rows("en")
    assert english[0][:3] == ["every", "period", "population"]
    assert russian[0][:3] == ["периодичность", "период", "популяция"]
    assert russian[1:] == english[1:]  # numbers as "450", ids as "lena-olenek"


def test_a_new_worker_starts_from_the_grouping_the_first_one_saved(api, settings):
    from fastapi.testclient import TestClient

    from field_api.app import create_app

    first = api.researcher.get(URL, params={**GOOD, "format": "csv"})
    api.researcher.app.state.herd_cache.wait_for_save()
    saved = settings.herd_files_dir()
    assert saved is not None and (saved / "current.json").exists()
    # Another worker on the same database (its own app, herd cache and memory).
    other = create_app(settings)
    with TestClient(other, headers=api.researcher.headers) as client:
        again = client.get(URL, params={**GOOD, "format": "csv"})
        cache = other.state.herd_cache
        assert (cache.loaded, cache.builds) == (1, 0)  # read from disk, not grouped again
    assert again.status_code == 200 and again.text == first.text
