"""Finished export files, kept a while so a client that reads in ranges gets one build.

GDAL's /vsicurl/ (geopandas.read_file(url), QGIS) asks HEAD for the size, then reads the
file in byte ranges: a dozen requests for one download. Each is served from the file the
first one built, for as long as the data and the filter are the same (the key holds the
store's data_version). A few files are kept, at most `max_bytes` in all, the oldest removed
first; the folder is made on first use and removed when the process ends.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path


class ExportCache:
    def __init__(self, keep: int = 4, max_bytes: int = 2_000_000_000) -> None:
        self._keep, self._max_bytes = keep, max_bytes
        self._folder: Path | None = None
        self._files: OrderedDict[str, Path] = OrderedDict()
        self._lock = threading.Lock()  # one build at a time: a second asker waits for it

    def file(self, key: tuple[object, ...], suffix: str, build: Callable[[Path], None]) -> Path:
        """The file for `key`, built by build(path) if it is not kept already."""
        name = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        with self._lock:
            found = self._files.get(name)
            if found is not None and found.exists():
                self._files.move_to_end(name)
                return found
            folder = self._made_folder()
            path = folder / f"{name}.{suffix}"
            partial = folder / f"{name}.part.{suffix}"  # drivers go by the suffix
            partial.unlink(missing_ok=True)
            try:
                build(partial)
                partial.rename(path)
            finally:
                partial.unlink(missing_ok=True)
            self._files[name] = path
            self._evict()
            return path

    def _made_folder(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="herdwatch-exports-"))
            atexit.register(shutil.rmtree, self._folder, ignore_errors=True)
        return self._folder

    def _evict(self) -> None:
        """Drop the oldest files beyond `keep` or `max_bytes` (never the newest one); a
        response still sending a dropped file keeps its open handle."""
        while len(self._files) > 1 and (
            len(self._files) > self._keep or self._bytes() > self._max_bytes
        ):
            _, old = self._files.popitem(last=False)
            old.unlink(missing_ok=True)

    def _bytes(self) -> int:
        return sum(p.stat().st_size for p in self._files.values() if p.exists())
