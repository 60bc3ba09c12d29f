"""50 tablets posting single observations at once, through a real server.

    .venv/bin/python bench/tablets.py [--tablets 50] [--per-tablet 100] [--workers 1]

Each tablet is a thread with its own connection that PUTs its observations one by one (the
way a tablet drains its outbox after regaining the network). Prints the throughput, the
latency percentiles and the number of errors. Targets (DESIGN.md): >= 800 observations/s,
p99 <= 150 ms, no errors.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import make_features, serve  # noqa: E402
from data.sqlite import SQLiteStore  # noqa: E402
from tests.live_server import free_port  # noqa: E402


def run_tablet(
    client: httpx.Client, features: list[dict], latencies: list[float], errors: list[str]
) -> None:  # type: ignore[type-arg]
    with client:
        for feature in features:
            began = time.perf_counter()
            try:
                response = client.put(f"/api/v1/observations/{feature['id']}", json=feature)
                ok = response.status_code == 201
            except httpx.HTTPError as exc:
                ok, response = False, exc  # type: ignore[assignment]
            latencies.append(time.perf_counter() - began)
            if not ok:
                errors.append(str(getattr(response, "status_code", response)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--per-tablet", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    features = make_features(args.tablets * args.per_tablet)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "tablets.db"
        store = SQLiteStore(str(db))
        store.migrate()
        tokens = [store.add_user(f"tablet-{i}", "observer") for i in range(args.tablets)]
        store.close()
        port = free_port()
        proc = serve(db, port, args.workers)
        latencies: list[float] = []
        errors: list[str] = []
        # Clients are made before the clock starts: building one (its TLS context) costs the
        # harness tens of milliseconds that no tablet spends per upload.
        clients = [
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            for token in tokens
        ]
        threads = [
            threading.Thread(
                target=run_tablet,
                args=(
                    clients[i],
                    features[i * args.per_tablet : (i + 1) * args.per_tablet],
                    latencies,
                    errors,
                ),
            )
            for i in range(args.tablets)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        proc.terminate()
        proc.wait(10)
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"tablets: {args.tablets}, observations: {len(latencies):,} single PUTs, "
        f"server workers: {args.workers} (SQLite, synchronous=FULL)"
    )
    print(f"throughput:  {len(latencies) / elapsed:,.0f} observations/s   (target >= 800)")
    print(
        f"latency:     p50 {cuts[49] * 1000:.1f} ms, p95 {cuts[94] * 1000:.1f} ms, "
        f"p99 {cuts[98] * 1000:.1f} ms   (target p99 <= 150 ms)"
    )
    print(f"errors:      {len(errors)}")


if __name__ == "__main__":
    main()
