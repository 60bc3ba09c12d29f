#!/usr/bin/env bash
# Every benchmark once in each of two checkouts, one after the other, on a quiet machine:
# the "before and after" of a change, measured in one sitting (docs/benchmarks.md).
#
#   bench/compare.sh BEFORE_DIR AFTER_DIR [OUT_DIR]
#
# Each checkout needs its own virtual environment (`make install` there): the benchmarks
# start `herdwatch serve` from it. PostGIS: HERDWATCH_BENCH_POSTGIS_URL or the local server.
# Sizes are the benchmarks' defaults (a million observations for query, map and report).
set -euo pipefail
before="$(cd "$1" && pwd)"
after="$(cd "$2" && pwd)"
out="${3:-bench/out/compare-$(date -u +%Y%m%dT%H%M)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

run() {  # run NAME DIR ARGS...: one benchmark in one checkout, its output kept
  local name="$1" dir="$2" label
  label="$(basename "$dir")"
  shift 2
  echo "== $(date -u +%H:%M:%S) $name in $label ($(git -C "$dir" rev-parse --short HEAD))"
  (cd "$dir" && rm -rf bench/out && .venv/bin/python "bench/$name.py" "$@") \
    >"$out/$name-$label.log" 2>&1 || echo "   $name in $label failed: see $out/$name-$label.log"
  tail -n 12 "$out/$name-$label.log"
}

for name in ingest tablets query map report; do
  run "$name" "$before"
  run "$name" "$after"
done
echo "logs in $out"
