"""The export file cache: one build per key, the oldest files dropped first."""

from __future__ import annotations

import pytest

from data.exports.cache import ExportCache


def test_one_build_per_key_and_the_oldest_dropped():
    cache = ExportCache(keep=2, max_bytes=10_000)
    builds = []

    def build(text):
        def write(path):
            builds.append(text)
            path.write_text(text)

        return write

    first = cache.file(("a",), "csv", build("a"))
    assert cache.file(("a",), "csv", build("a")) == first and builds == ["a"]
    cache.file(("b",), "csv", build("b"))
    cache.file(("c",), "csv", build("c"))
    assert not first.exists()  # keep=2: "a" went first
    big = cache.file(("d",), "csv", build("x" * 20_000))
    assert big.exists() and len(list(big.parent.iterdir())) == 1  # over max_bytes: only the newest
    assert not list(big.parent.glob("*.part.*"))


def test_a_failed_build_leaves_nothing():
    cache = ExportCache()

    def fail(path):
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        cache.file(("x",), "gpkg", fail)
    folder = cache._made_folder()
    assert list(folder.iterdir()) == []
