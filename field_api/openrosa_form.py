"""The XForm this server hands to ODK Collect: the built-in form, or an administrator's."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from data.xlsform import FormSpec, XForm, builtin_xform, file_xform
from field_api.settings import Settings
from maps.style import POPULATION_LABELS


def served_form(settings: Settings) -> XForm:
    """The form for these settings, converted with pyxform once per process (then cached).

    HERDWATCH_OPENROSA_FORM names an administrator's XLSForm (read again when the file
    changes); otherwise the built-in herd_sighting form, its populations and limits those
    of the server.
    """
    path = settings.openrosa_form
    changed = _stamp(path) if path is not None else None
    return _form(settings.populations, settings.max_future_minutes, path, changed)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None  # file_xform says why it cannot be read
    return stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=16)
def _form(
    populations: tuple[str, ...],
    max_future_minutes: float,
    path: Path | None,
    changed: tuple[int, int] | None,
) -> XForm:
    """One form per distinct input: each request asks, so this is a dictionary look-up."""
    if path is not None:
        return file_xform(path, populations)
    return builtin_xform(FormSpec(populations, POPULATION_LABELS, max_future_minutes))


def form_spec(settings: Settings) -> FormSpec:
    """What the built-in form takes from the settings (and the populations' English names)."""
    return FormSpec(settings.populations, POPULATION_LABELS, settings.max_future_minutes)
