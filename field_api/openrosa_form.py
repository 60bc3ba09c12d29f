"""The XForm this server hands to ODK Collect: the built-in form, or an administrator's."""

from __future__ import annotations

from data.xlsform import FormSpec, XForm, builtin_xform, file_xform
from field_api.settings import Settings
from maps.style import POPULATION_LABELS


def served_form(settings: Settings) -> XForm:
    """The form for these settings, converted with pyxform once per process (then cached).

    HERDWATCH_OPENROSA_FORM names an administrator's XLSForm; otherwise the built-in
    herd_sighting form, its populations and limits those of the server.
    """
    if settings.openrosa_form is not None:
        return file_xform(settings.openrosa_form, settings.populations)
    return builtin_xform(form_spec(settings))


def form_spec(settings: Settings) -> FormSpec:
    """What the built-in form takes from the settings (and the populations' English names)."""
    return FormSpec(settings.populations, POPULATION_LABELS, settings.max_future_minutes)
