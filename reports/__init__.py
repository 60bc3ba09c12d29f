"""Periodic population reports: compute first (pure), render second (HTML, PDF, CSV, GPKG)."""
