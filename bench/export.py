"""Exports of SYNTHETIC observations: rows per second and peak memory, per format and size.

Each export runs in a fresh child process that reports its peak resident memory
(VmHWM) beside the memory it had after importing the libraries, so the figure is the
export's own. Memory flat in the number of rows means the peak barely moves from one size
to the next (GeoParquet holds one row group, 20,000 rows, whatever the size). The store is
loaded as bench/report.py loads it (executemany of the store's own rows).

    .venv/bin/python bench/export.py                         # 20k, 200k and 1M rows
    .venv/bin/python bench/export.py --rows 20000 --formats geojson,parquet

Timings on the shared two-core machine are noisy; memory figures are steadier.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FORMATS = ("geojson", "csv", "gpkg", "parquet", "fgb", "dwca")


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it starts afresh at
    exec, so the parent's loading of the store does not count)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(db: Path, fmt: str, out: Path, row_group: int | None) -> dict[str, float]:
    """In the child process: import, note the memory, export, report."""
    import pyogrio  # noqa: F401  (loaded before the baseline, as a server has it)
    import shapely  # noqa: F401

    from data.exports import parquet
    from data.exports.dwca import DatasetInfo
    from data.exports.service import write_export
    from data.sqlite import SQLiteStore
    from domain.records import ObservationQuery

    if row_group:
        parquet.ROW_GROUP = row_group
    store = SQLiteStore(str(db))
    rows = store.count_observations(ObservationQuery())
    baseline = peak_mb()
    started = time.perf_counter()
    info = DatasetInfo("benchmark", "bench <bench@example.org>", "CC-BY-4.0")
    write_export(store, ObservationQuery(), fmt, out, dataset=info)
    seconds = time.perf_counter() - started
    store.close()
    size = out.stat().st_size / 1e6
    return {
        "rows": rows,
        "seconds": seconds,
        "baseline_mb": baseline,
        "peak_mb": peak_mb(),
        "file_mb": size,
    }


def measure(db: Path, fmt: str, folder: Path, row_group: int | None = None) -> dict[str, float]:
    """One export in a fresh process; its figures."""
    out = folder / f"bench.{fmt}"
    out.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(db), fmt, str(out)]
    if row_group:
        command += ["--row-group", str(row_group)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def load_store(db: Path, n: int) -> None:
    from report import load  # bench/report.py

    load(db, n)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="20000,200000,1000000", help="sizes, comma-separated")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--child", nargs=3, metavar=("DB", "FORMAT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--row-group", type=int, help="GeoParquet rows per row group")
    args = parser.parse_args()
    if args.child:
        db, fmt, out = args.child
        print(json.dumps(child(Path(db), fmt, Path(out), args.row_group)))
        return
    header = ("format", "rows", "seconds", "rows/s", "peak MB", "+ MB", "file MB")
    print(f"{header[0]:8}", *(f"{h:>9}" for h in header[1:]))
    with tempfile.TemporaryDirectory(prefix="herdwatch-bench-export-") as folder:
        for n in (int(v) for v in args.rows.split(",")):
            db = Path(folder) / f"bench-{n}.db"
            load_store(db, n)
            for fmt in args.formats.split(","):
                f = measure(db, fmt, Path(folder), args.row_group)
                cells = (
                    f"{int(f['rows']):>9,}",
                    f"{f['seconds']:>9.1f}",
                    f"{f['rows'] / f['seconds']:>9,.0f}",
                    f"{f['peak_mb']:>9.0f}",
                    f"{f['peak_mb'] - f['baseline_mb']:>9.0f}",
                    f"{f['file_mb']:>9.1f}",
                )
                print(f"{fmt:8}", *cells, flush=True)


if __name__ == "__main__":
    main()
