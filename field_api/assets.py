"""Front-end files for the map pages, installed from the npm registry at set-up.

`python -m field_api.assets install` (run by `make install`) puts the packages named in
maps.assets.NPM_PACKAGES under field_api/static/vendor/node_modules (gitignored); the app
serves that folder at /static/vendor, so the pages need no other host.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from maps.assets import ASSET_FILES, NPM_PACKAGES, MapAssets

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
MODULES_DIR = VENDOR_DIR / "node_modules"
URL_PREFIX = "/static/vendor"
INSTALL_HINT = "map scripts are not installed: run `python -m field_api.assets install`"


class AssetsMissing(RuntimeError):
    """The map's scripts are not installed: run `python -m field_api.assets install`."""


def missing_files(modules_dir: Path = MODULES_DIR) -> list[str]:
    """Asset files the pages need that are not on disk."""
    return [path for path in ASSET_FILES if not (modules_dir / path).is_file()]


def install(vendor_dir: Path = VENDOR_DIR, *, force: bool = False) -> list[str]:
    """npm-install the pinned packages into `vendor_dir`; returns the packages installed."""
    if not force and not missing_files(vendor_dir / "node_modules"):
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsMissing("npm is not installed: install Node.js and npm (apt-get install npm)")
    specs = [f"{name}@{version}" for name, version in NPM_PACKAGES.items()]
    vendor_dir.mkdir(parents=True, exist_ok=True)
    # --ignore-scripts: these are plain file packages; nothing should run at install.
    subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(vendor_dir),
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--no-package-lock",
            *specs,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    still_missing = missing_files(vendor_dir / "node_modules")
    if still_missing:
        raise AssetsMissing(f"npm finished but these files are missing: {', '.join(still_missing)}")
    return specs


def linked_assets() -> MapAssets:
    """Assets as links to this server's /static/vendor (pages served by the app)."""
    return MapAssets(base_url=URL_PREFIX)


@lru_cache(maxsize=1)
def inlined_assets() -> MapAssets:
    """Assets with their text inlined (a page saved to a file opens with no server)."""
    if missing_files():
        raise AssetsMissing(INSTALL_HINT)
    texts = {path: (MODULES_DIR / path).read_text(encoding="utf-8") for path in ASSET_FILES}
    return MapAssets(inline=texts)


def main(argv: list[str] | None = None) -> int:
    """`python -m field_api.assets install|check`."""
    parser = argparse.ArgumentParser(prog="python -m field_api.assets", description=__doc__)
    parser.add_argument("action", choices=("install", "check"))
    parser.add_argument("--force", action="store_true", help="reinstall even when present")
    args = parser.parse_args(argv)
    if args.action == "check":
        missing = missing_files()
        where = f"installed in {MODULES_DIR}"
        print("map assets: " + ("missing " + ", ".join(missing) if missing else where))
        return 1 if missing else 0
    installed = install(force=args.force)
    print("map assets: " + (f"installed {', '.join(installed)}" if installed else "up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
