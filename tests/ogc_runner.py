"""Run ogctests' Part 1 Core suite against a server with a bearer token (a subprocess of
tests/field_api/test_ogc_clients.py, so its pytest run stays apart from ours).

python -m tests.ogc_runner BASE_URL TOKEN JUNIT_XML INI_FILE
"""

from __future__ import annotations

import sys

import httpx
from ogctests.main import run_ogctests


def main(base: str, token: str, junit: str, ini: str) -> int:
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    flags = ["-c", ini, "-p", "no:cacheprovider", "-q", f"--junitxml={junit}", "-W", "ignore"]
    return run_ogctests("features/core", instance_url=base, flags=flags, test_client=client)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
