"""What a report can be asked for: its output formats and its CSV tables.

Apart from the rendering modules so that the interfaces can list the choices at start
without loading pandas, matplotlib or reportlab.
"""

from __future__ import annotations

FORMATS: tuple[str, ...] = ("html", "pdf", "csv", "gpkg")
CSV_TABLES: tuple[str, ...] = (
    "summary",
    "surveys",
    "estimates",
    "composition",
    "effort",
    "trend",
    "trend_counts",
    "herds",
)
