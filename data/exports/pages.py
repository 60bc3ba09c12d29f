"""Reading a query's observations page by page, and the extent of what a query selects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from data.store import ObservationStore
from domain.records import Observation, ObservationQuery

EXPORT_PAGE = 2000  # rows per store read: a page's objects are all an export holds at once
Progress = Callable[[int], None]  # called with the rows written so far


def all_observations(
    store: ObservationStore, query: ObservationQuery, *, page_size: int | None = None
) -> Iterator[list[Observation]]:
    """Page after page of the query's observations, from the start (keyset paging)."""
    page_query = replace(query, limit=page_size or EXPORT_PAGE, after=None)
    while True:
        page = store.query_observations(page_query)
        if page.items:
            yield page.items
        if page.next_after is None:
            return
        page_query = replace(page_query, after=page.next_after)


def counted(
    pages: Iterator[list[Observation]], progress: Progress | None
) -> Iterator[list[Observation]]:
    """The same pages, telling `progress` how many rows have gone by."""
    done = 0
    for page in pages:
        yield page
        done += len(page)
        if progress is not None:
            progress(done)
