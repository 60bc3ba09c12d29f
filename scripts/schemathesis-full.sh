#!/bin/sh
# Every schemathesis phase (examples, fuzzing, coverage, stateful) and every check against a
# running server, beyond the bounded run in tests/field_api/test_openapi.py:
#   scripts/schemathesis-full.sh http://127.0.0.1:8000 <admin token> [examples per operation]
# 422 is accepted for schema-valid data only where a rule is beyond JSON Schema (see the test).
set -eu
cat > "${TMPDIR:-/tmp}/herdwatch-schemathesis.toml" <<'TOML'
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "410", "422"]
TOML
exec "$(dirname "$0")/../.venv/bin/st" --config-file "${TMPDIR:-/tmp}/herdwatch-schemathesis.toml" \
  run "$1/openapi.json" --checks all -H "Authorization: Bearer $2" \
  --max-examples "${3:-30}" --phases examples,fuzzing,coverage,stateful
