"""Imports of survey files: CSV, spreadsheets, GIS layers, Movebank, ODK and Kobo exports.

readers.py reads a file in bounded chunks (pandas, pyogrio, pyarrow: no parser of our own),
presets.py knows the columns of Movebank, ODK Central and KoboToolbox exports, mapping.py
turns a row into an Observation checked by the same rules as an upload, report.py keeps
the per-row outcomes, and service.py runs it all against a store. No HTTP, no CLI here.
"""

from data.imports.service import ImportOptions, ImportSummary, run_import

__all__ = ["ImportOptions", "ImportSummary", "run_import"]
