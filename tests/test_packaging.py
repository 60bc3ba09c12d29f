"""The wheel carries every template and static file, and an installed wheel renders pages.

The pages read their templates and the map its script and styles as package files, so a
file left out of [tool.setuptools.package-data] works in the editable checkout and breaks
only once installed. This builds the wheel from a copy of the sources, as `pip install .`
would, then installs it into a folder of its own and renders from there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "geo", "data", "maps", "reports", "field_api")
WITH_FILES = ("field_api", "maps", "reports")  # the packages with templates or static files

pytestmark = pytest.mark.slow


def _pip(*args: str, cwd: Path) -> None:
    # The build backend comes from the package index (build isolation): the venv's own
    # setuptools may be older than pyproject.toml's SPDX license string needs.
    command = [sys.executable, "-m", "pip", *args, "--no-deps", "--quiet"]
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the sources as they are (no caches, no npm files, no venv)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", "vendor", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=skip)
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", ".", "-w", str(out), cwd=source)
    [built] = out.glob("herdwatch-*.whl")
    return built


def template_and_static_files() -> set[str]:
    """Every file of templates/ and static/ in the sources, as a path inside the wheel."""
    found = set()
    for package in WITH_FILES:
        for folder in ("templates", "static", "static/field"):  # field: the tablet app
            for path in (ROOT / package / folder).glob("*"):
                if path.is_file():
                    found.add(path.relative_to(ROOT).as_posix())
    return found


def test_the_wheel_holds_exactly_the_templates_and_static_files(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    data_files = {n for n in names if n.split("/")[0] in WITH_FILES and not n.endswith(".py")}
    expected = template_and_static_files()
    assert {"field_api/templates/login.html", "maps/static/herd_map.js"} <= expected
    assert {"reports/templates/report.html", "maps/templates/time_slider.js"} <= expected
    assert data_files == expected


def test_the_wheel_holds_every_language_catalogue(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    catalogues = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("domain/locales/*/*/*.po")}
    assert "domain/locales/ru/LC_MESSAGES/herdwatch.po" in catalogues
    assert catalogues <= names


RENDER = textwrap.dedent(
    """
    import sys
    import field_api, maps, reports
    from domain.records import HerdCount
    from field_api.pages import render_page
    from maps.herd_map import herd_count_map, render_html
    from maps.style import map_css, map_js
    from reports import render

    site = sys.argv[1]
    for package in (field_api, maps, reports):
        assert package.__file__.startswith(site), package.__file__
    login = render_page("login.html", next="/viewer", error="")
    assert 'id="sign-in"' in login
    counts = [HerdCount("2024", "sundrun", "1:1", 130.0, 65.0, 1, 5)]
    page = render_html(herd_count_map(counts, every="year", cell_size_m=100_000.0))
    assert map_js() in page and map_css() in page and 'id="hw-totals"' in page
    assert render._templates().get_template("report.html").render  # the file is there
    from domain.i18n import LANGUAGES, translator
    assert "ru" in LANGUAGES and translator("ru").season_name("rut") == "гон", LANGUAGES
    print("rendered from", site)
    """
)


def test_an_installed_wheel_renders_the_pages(wheel: Path, tmp_path: Path):
    site = tmp_path / "site"
    _pip("install", "--target", str(site), str(wheel), cwd=tmp_path)
    # Run from elsewhere with the install first on the path, so neither this checkout nor
    # its editable install can answer the imports.
    result = subprocess.run(
        [sys.executable, "-c", RENDER, str(site)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"rendered from {site}"
