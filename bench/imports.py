"""`herdwatch import` of a large synthetic CSV: rows per second and peak memory.

    .venv/bin/python bench/imports.py [--rows 1000000] [--sizes 100000,1000000]

For each size, writes a CSV of that many survey rows (UTM 52N x/y, a time with offset, a
count, composition classes, a population), then runs the real command in a fresh process
against a fresh SQLite file: once as a dry run, once as the atomic import. Prints rows per
second of each and the process's peak resident memory (ru_maxrss), so sizes can be put
side by side: bounded memory means the peak does not grow with the file. Noisy on a
shared 2-core machine; the file is made outside the timing.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_CHILD = """
import resource, sys, time
from field_api.cli import main
started = time.perf_counter()
code = main(sys.argv[1:])
elapsed = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"BENCH {code} {elapsed:.3f} {peak_mb:.1f}", file=sys.stderr)
"""


def write_csv(path: Path, rows: int) -> None:
    """Sightings over ten years in UTM 52N (EPSG:32652), around the Lena."""
    rng = random.Random(15)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x", "y", "seen", "animals", "calves", "adult_females", "population"])
        for i in range(rows):
            year, day = 2010 + i % 10, 1 + i % 28
            animals = rng.randint(1, 400)
            writer.writerow(
                [
                    f"{rng.uniform(300_000, 700_000):.2f}",
                    f"{rng.uniform(7_600_000, 8_000_000):.2f}",
                    f"{year}-0{1 + i % 9}-{day:02d}T{i % 24:02d}:{i % 60:02d}:00+09:00",
                    animals,
                    animals // 10,
                    animals // 3,
                    "lena-olenek",
                ]
            )


def run(csv_path: Path, db: Path, *extra: str) -> tuple[float, float]:
    # The store must exist first: an import never makes a database of a mistyped path.
    migrate = [
        sys.executable,
        "-m",
        "field_api.cli",
        "--database-url",
        f"sqlite:///{db}",
        "migrate",
    ]
    subprocess.run(migrate, cwd=ROOT, check=True, capture_output=True)
    args = [
        "--database-url", f"sqlite:///{db}", "import", str(csv_path),
        "--crs", "EPSG:32652", "--map", "observed_at=seen", "--map", "count=animals",
        "--no-progress", *extra,
    ]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], cwd=ROOT, capture_output=True, text=True
    )
    line = [row for row in done.stderr.splitlines() if row.startswith("BENCH ")]
    if done.returncode or not line:
        raise SystemExit(f"import failed:\n{done.stdout}\n{done.stderr}")
    _, code, elapsed, peak = line[-1].split()
    if code != "0":
        raise SystemExit(f"import exited {code}:\n{done.stdout}\n{done.stderr}")
    return float(elapsed), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="row counts, comma-separated")
    args = parser.parse_args()
    print("rows        run        seconds   rows/s    peak RSS MB")
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(folder) / f"survey_{size}.csv"
            started = time.perf_counter()
            write_csv(path, size)
            made = time.perf_counter() - started
            for label, extra in (("dry run", ("--dry-run",)), ("import", ())):
                db = Path(folder) / f"{size}-{label.replace(' ', '_')}.db"
                elapsed, peak = run(path, db, *extra)
                print(f"{size:<11,} {label:<10} {elapsed:8.1f} {size / elapsed:9,.0f} {peak:10.0f}")
            print(f"(the {path.stat().st_size / 1e6:.0f} MB file took {made:.1f} s to write)")
            path.unlink()


if __name__ == "__main__":
    main()
