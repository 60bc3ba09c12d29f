"""Say plainly whether the PostGIS half of the suite will run: `python -m tests.postgis_probe`.

`make test` runs this first. With HERDWATCH_TEST_POSTGIS_URL set, it checks that server.
Without it, it looks for a local server on 127.0.0.1:5432 (trust auth, user postgres, as
Debian's and CI's) and, when one answers, creates the database `herdwatch_test` with the
PostGIS extension; `--url` then prints the URL the Makefile hands to pytest.
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlsplit, urlunsplit

ENV = "HERDWATCH_TEST_POSTGIS_URL"
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432"
LOCAL_DATABASE = "herdwatch_test"
LOCAL_URL = f"{LOCAL_SERVER}/{LOCAL_DATABASE}"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _shown(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def postgis_version(url: str) -> str:
    """The PostGIS version installed in the database at `url`; raises when there is none."""
    import psycopg

    with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
        installed = "SELECT extversion FROM pg_extension WHERE extname = 'postgis'"
        row = conn.execute(installed).fetchone()
        if row is None:
            available = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
            ).fetchone()
            if available is None:
                raise RuntimeError("no PostGIS on the server: install postgresql-<N>-postgis-3")
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            row = conn.execute(installed).fetchone()
        return str(row[0]) if row else "?"


def ensure_local_database() -> str:
    """Create herdwatch_test (with PostGIS) on the local server; returns its PostGIS version."""
    import psycopg

    with psycopg.connect(f"{LOCAL_SERVER}/postgres", connect_timeout=2, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (LOCAL_DATABASE,))
        if exists.fetchone() is None:
            try:
                conn.execute(f'CREATE DATABASE "{LOCAL_DATABASE}"')
            except psycopg.errors.DuplicateDatabase:
                pass  # another `make test` made it a moment ago
    return postgis_version(LOCAL_URL)


def resolve() -> tuple[str | None, str]:
    """(URL the PostGIS tests will use or None, a plain sentence saying what was found)."""
    given = os.environ.get(ENV)
    if given:
        try:
            version = postgis_version(given)
        except Exception as exc:  # any failure means the same thing: no usable server
            return None, (
                f"{ENV} is set to {_shown(given)}, but no usable PostGIS answered there: {exc}\n"
                "PostGIS tests will FAIL: fix the URL or unset it."
            )
        return given, f"PostGIS {version} found at {_shown(given)} ({ENV}): PostGIS tests will run."
    try:
        version = ensure_local_database()
    except Exception as exc:
        return None, (
            f"{ENV} is not set and no PostGIS server answered on 127.0.0.1:5432 ({exc}).\n"
            "PostGIS tests will SKIP locally (under CI=true they fail). To run them, set "
            f"{ENV}=postgresql://user@host:port/database with the postgis extension available."
        )
    return LOCAL_URL, (
        f"{ENV} is not set: found a local server on 127.0.0.1:5432 with PostGIS {version}; "
        f"`make test` uses the database {LOCAL_DATABASE} it created there ({LOCAL_URL}): "
        "PostGIS tests will run."
    )


def main(argv: list[str] | None = None) -> int:
    """Print what was found; with --url print only the URL (empty when none)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", action="store_true", help="print only the URL pytest should use")
    args = parser.parse_args(argv)
    url, sentence = resolve()
    if args.url:  # a URL the caller set is passed on even when broken: its tests then fail
        print(os.environ.get(ENV) or url or "")
        return 0
    print(f"postgis probe: {sentence}", flush=True)
    return 1 if url is None and _in_ci() else 0


if __name__ == "__main__":
    sys.exit(main())
