"""bench/export.py at a size a test can afford: an export's memory does not grow with rows.

Each export runs in a fresh process that reports its peak memory above what it had after
its imports. Ten times the rows must not cost more than a few MB more (a writer that held
its rows would need tens of MB more here: an observation object takes over a kilobyte).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BENCH = Path(__file__).resolve().parent.parent / "bench" / "export.py"


def _bench():
    sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("bench_export", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    bench, folder = _bench(), tmp_path_factory.mktemp("bench-export")
    made = {}
    for n in (2_000, 20_000):
        made[n] = folder / f"bench-{n}.db"
        bench.load_store(made[n], n)
    return bench, folder, made


@pytest.mark.parametrize("fmt", ["geojson", "parquet"])
def test_export_memory_is_flat_in_the_number_of_rows(stores, fmt):
    bench, folder, made = stores
    grown = []
    for n, db in made.items():
        figures = bench.measure(db, fmt, folder, row_group=2_000)
        assert figures["rows"] > n * 0.8  # the synthetic herds come a little short of n
        grown.append(figures["peak_mb"] - figures["baseline_mb"])
    assert grown[1] - grown[0] < 10, grown
