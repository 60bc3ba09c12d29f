"""Exports of every observation a filter selects, written page by page (memory stays flat).

`service.py` picks the writer of a format; each writer reads the store through
`pages.all_observations` (keyset paging) and takes its columns from domain/wire.py.
"""
