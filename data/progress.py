"""A progress bar on stderr for long store work (`herdwatch migrate` refreshing texts)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def stderr_bar(desc: str, unit: str = "rows") -> Callable[[int, int], None]:
    """A progress(done, total) callback drawing a tqdm bar on stderr, opened on first use
    (nothing is drawn when there is nothing to do) and closed when done reaches total."""
    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        from tqdm import tqdm

        if not bars:
            bars.append(tqdm(total=total, unit=unit, desc=desc, file=sys.stderr))
        bar = bars[0]
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return progress
