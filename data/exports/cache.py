"""Finished export files, kept a while so a client that reads in ranges gets one build.

GDAL's /vsicurl/ (geopandas.read_file(url), QGIS) asks HEAD for the size, then reads the
file in byte ranges: a dozen requests for one download. Each is served from the file the
first one built, for as long as the data and the filter are the same (the key holds the
store's data_version). A few files are kept, the oldest removed first.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path


class ExportCache:
    def __init__(self, keep: int = 6) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="herdwatch-exports-"))
        self._keep = keep
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
            path = self._folder / f"{name}.{suffix}"
            partial = self._folder / f"{name}.part.{suffix}"  # drivers go by the suffix
            partial.unlink(missing_ok=True)
            try:
                build(partial)
                partial.rename(path)
            finally:
                partial.unlink(missing_ok=True)
            self._files[name] = path
            while len(self._files) > self._keep:
                _, old = self._files.popitem(last=False)
                old.unlink(missing_ok=True)  # a response still sending it keeps its handle
            return path
