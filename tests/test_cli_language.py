"""`herdwatch --lang ru` and HERDWATCH_LANG=ru: help, refusals, errors and summaries in Russian."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from field_api.cli import main
from field_api.cli.common import chosen_language

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def _run(
    args: list[str], capsys: pytest.CaptureFixture[str], *, exits: bool = False
) -> tuple[int, str, str]:
    if exits:
        with pytest.raises(SystemExit) as stopped:
            main(args)
        code = int(stopped.value.code or 0)
    else:
        code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _no_language_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HERDWATCH_LANG", raising=False)


def test_an_invalid_option_value_is_refused_in_russian_with_lang(capsys):
    code, _, err = _run(
        ["--lang", "ru", "map", "--every", "decade", "--out", "x"], capsys, exits=True
    )
    assert code == 2
    assert "использование: herdwatch map" in err
    assert "ошибка: аргумент --every: недопустимый вариант: 'decade'" in err


def test_herdwatch_lang_in_the_environment_does_the_same(capsys, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("HERDWATCH_LANG", "ru")
    code, _, err = _run(["map", "--every", "decade", "--out", "x"], capsys, exits=True)
    assert code == 2 and "недопустимый вариант" in err
    # A domain error is one line in Russian, the option and the path kept as they are.
    missing = tmp_path / "nowhere.db"
    code, _, err = _run(["--database-url", f"sqlite:///{missing}", "users", "list"], capsys)
    assert code == 1
    assert err == (
        f"herdwatch: нет базы данных по пути {missing}: проверьте --database-url / "
        "HERDWATCH_DATABASE_URL или создайте её командой `herdwatch migrate`\n"
    )


def test_lang_on_the_line_beats_the_environment_and_english_is_the_default(
    capsys, monkeypatch, tmp_path: Path
):
    missing = tmp_path / "nowhere.db"
    code, _, err = _run(["--database-url", f"sqlite:///{missing}", "users", "list"], capsys)
    assert code == 1 and err.startswith(f"herdwatch: no database at {missing}: check")
    monkeypatch.setenv("HERDWATCH_LANG", "ru")
    url = f"sqlite:///{missing}"
    code, _, err = _run(["users", "list", "--lang", "en", "--database-url", url], capsys)
    assert err.startswith("herdwatch: no database at")
    assert CYRILLIC.search(err) is None


def test_help_and_summaries_in_russian(capsys, tmp_path: Path):
    code, out, _ = _run(["--lang", "ru", "import", "--help"], capsys, exits=True)
    assert code == 0
    assert "только отчёт; ничего не записывать" in out  # --dry-run's help
    assert "Идентификаторы берутся из столбца UUID" in out  # the command's description
    assert "показать эту справку и выйти" in out and "параметры:" in out
    db = f"sqlite:///{tmp_path / 'h.db'}"
    code, out, _ = _run(["--lang", "ru", "--database-url", db, "migrate"], capsys)
    assert code == 0
    code, out, _ = _run(
        ["--lang", "ru", "--database-url", db, "users", "add", "olga", "--role", "observer"], capsys
    )
    assert out.splitlines()[0] == (
        "создан пользователь olga с ролью observer; сохраните этот токен, он показывается "
        "только один раз:"
    )
    code, out, _ = _run(["--database-url", db, "users", "list", "--lang", "ru"], capsys)
    assert out == "olga\tobserver\tдействует\n"


def test_an_import_summary_in_russian(capsys, tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'h.db'}"
    _run(["--database-url", db, "migrate"], capsys)
    table = tmp_path / "herds.csv"
    table.write_text(
        "lon,lat,when,count\n"
        "129.7,62.0,2024-03-12T09:30:00+09:00,1234\n"
        "129.8,62.1,2024-03-12T10:30:00+09:00,many\n",
        encoding="utf-8",
    )
    args = ["--lang", "ru", "--database-url", db, "import", str(table), "--map", "observed_at=when"]
    code, out, _ = _run(
        [*args, "--dry-run", "--no-progress", "--set", "population=sundrun"], capsys
    )
    assert "строка 2: invalid: count: столбец 'count': 'many' — не целое число" in out
    assert "пробный прогон: 2 строки (создано: 1, с ошибками: 1); ничего не записано" in out


def test_the_language_is_read_before_argparse(monkeypatch):
    assert chosen_language(["map", "--lang=ru"], {}) == "ru"
    assert chosen_language(["map"], {"HERDWATCH_LANG": "ru"}) == "ru"
    assert chosen_language(["--lang", "xx"], {"HERDWATCH_LANG": "ru"}) == "ru"  # then refused
    assert chosen_language([], {}) == "en"
    assert argparse._("usage: ") == "usage: "  # argparse is itself again after a run
