"""Pure geospatial functions: coordinate checks, CRS transforms, equal-area grids, tagging.

Nothing here does I/O or knows about HTTP or the database.
"""
