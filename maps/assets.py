"""The scripts and style sheets the maps need, as npm package files (served or inlined).

Herdwatch serves these itself so that maps work at a field station with no internet:
`python -m maps.assets install` (run by `make install`) fetches the packages named in
NPM_PACKAGES from the npm registry into maps/static/vendor/node_modules (gitignored); the
app serves that folder at /static/vendor, and a saved map inlines the files' text.

Light on purpose (folium only for type checking): the app's routes import it at start.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from domain.errors import Unavailable
from domain.i18n import Message

if TYPE_CHECKING:
    import folium

# npm package → version; pinned so every install serves the same files.
NPM_PACKAGES: dict[str, str] = {
    "leaflet": "1.9.4",
    "leaflet.markercluster": "1.5.3",
    "swagger-ui-dist": "5.35.0",  # /docs
}
# Packages of which only the prebuilt bundle is used: fetched with `npm pack` (the package's
# own tarball from the registry, none of the dependencies it was built from) and unpacked
# into node_modules/<name>.
NPM_BUNDLES: dict[str, str] = {"redoc": "2.5.0"}  # /redoc

# (folium asset name, path inside node_modules), in load order.
JS_FILES: tuple[tuple[str, str], ...] = (
    ("leaflet", "leaflet/dist/leaflet.js"),
    ("markerclusterjs", "leaflet.markercluster/dist/leaflet.markercluster.js"),
)
CSS_FILES: tuple[tuple[str, str], ...] = (
    ("leaflet_css", "leaflet/dist/leaflet.css"),
    ("markerclustercss", "leaflet.markercluster/dist/MarkerCluster.css"),
    ("markerclusterdefaultcss", "leaflet.markercluster/dist/MarkerCluster.Default.css"),
)
ASSET_FILES: tuple[str, ...] = tuple(path for _, path in JS_FILES + CSS_FILES)
# The API documentation pages' files (field_api/routes/docs.py), served like the map's.
SWAGGER_JS = "swagger-ui-dist/swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui-dist/swagger-ui.css"
SWAGGER_ICON = "swagger-ui-dist/favicon-32x32.png"
REDOC_JS = "redoc/bundles/redoc.standalone.js"
DOC_FILES: tuple[str, ...] = (SWAGGER_JS, SWAGGER_CSS, SWAGGER_ICON, REDOC_JS)

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
MODULES_DIR = VENDOR_DIR / "node_modules"
URL_PREFIX = "/static/vendor"
INSTALL_HINT = "map scripts are not installed: run `python -m maps.assets install`"


@dataclass(frozen=True, slots=True)
class MapAssets:
    """Where a page's scripts and styles come from: URLs under `base_url`, or inlined text.

    Inlined pages (`inline` maps each path of ASSET_FILES to its text) open from a file
    with no server at all; linked pages are smaller and let the browser cache the files.
    """

    base_url: str = URL_PREFIX
    inline: Mapping[str, str] | None = field(default=None, repr=False)

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path}"


def use_assets(m: folium.Map, assets: MapAssets) -> None:
    """Point the map's scripts and styles at Herdwatch's copies, never at a CDN.

    The map loads every file (the marker-cluster plugin's too), so plugins added to it
    are given empty asset lists with `no_assets`.
    """
    if assets.inline is not None:
        m.default_js, m.default_css = [], []
        return
    m.default_js = [(name, assets.url(path)) for name, path in JS_FILES]
    m.default_css = [(name, assets.url(path)) for name, path in CSS_FILES]


def no_assets(element: folium.MacroElement) -> None:
    """Drop a plugin's own CDN links: the map already loads its files."""
    element.default_js, element.default_css = [], []  # type: ignore[attr-defined]


def inline_header(assets: MapAssets) -> str:
    """<style> and <script> tags holding the asset texts (for a page saved to a file)."""
    if assets.inline is None:
        return ""
    styles = "".join(f"<style>{assets.inline[path]}</style>\n" for _, path in CSS_FILES)
    scripts = "".join(
        f"<script>{_script_safe(assets.inline[path])}</script>\n" for _, path in JS_FILES
    )
    return styles + scripts


def _script_safe(text: str) -> str:
    # A literal "</script" inside inlined code would end the tag early.
    return text.replace("</script", "<\\/script")


class AssetsMissing(Unavailable):
    """The map's scripts are not installed: run `python -m maps.assets install`."""

    code = "assets_missing"


def missing_files(modules_dir: Path = MODULES_DIR) -> list[str]:
    """Asset files the pages need that are not on disk."""
    return [path for path in ASSET_FILES + DOC_FILES if not (modules_dir / path).is_file()]


def install(vendor_dir: Path = VENDOR_DIR, *, force: bool = False) -> list[str]:
    """npm-install the pinned packages into `vendor_dir`; returns the packages installed."""
    if not force and not missing_files(vendor_dir / "node_modules"):
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsMissing(
            Message("npm is not installed: install Node.js and npm (apt-get install npm)")
        )
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
    for name, version in NPM_BUNDLES.items():
        _unpack_bundle(npm, name, version, vendor_dir / "node_modules")
        specs.append(f"{name}@{version}")
    still_missing = missing_files(vendor_dir / "node_modules")
    if still_missing:
        raise AssetsMissing(
            Message(
                "npm finished but these files are missing: {still_missing}",
                still_missing=str(", ".join(still_missing)),
            )
        )
    return specs


def _unpack_bundle(npm: str, name: str, version: str, modules_dir: Path) -> None:
    """`npm pack name@version` into a temporary folder, unpacked as modules_dir/name."""
    import tarfile
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        [tarball] = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            archive.extractall(tmp, filter="data")  # no links out, no odd modes
        target = modules_dir / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(Path(tmp) / "package"), target)


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
    """`python -m maps.assets install|check`."""
    parser = argparse.ArgumentParser(prog="python -m maps.assets", description=__doc__)
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
