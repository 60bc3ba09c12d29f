"""The kept herd grouping saved to disk, so that a new process (a restarted worker, another
worker, `herdwatch report`) starts from it instead of reading and grouping every sighting.

A saved grouping is a state of the store at one data version: the herd cache loads it and
brings it up to the store's current version as it would a grouping of its own
(reports.herd_update), or builds everything again where that cannot be done. It is used
only when it was made of this store (its URL, and the revision numbered at its version
still there, with as many revisions up to it: a restored backup or another store at the
same path has others; its decisions still the store's first ones), with the same seasons,
de-duplication rule and herd code (a hash of the modules that make herds and of the
versions of numpy, scipy, pandas and pyarrow), else ignored and replaced. current.json
names the store by a hash of its URL without the password.

Format: Arrow IPC files (pyarrow), one each for the kept sightings, the herds and the
candidate pairs, named by a random token, and `current.json` naming the token and what it
was made of; the files are written first and `current.json` replaced last, so a reader
sees a whole grouping or the one before it. At a million sightings about 0.25 GB.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict
from functools import cache
from importlib.metadata import version as package_version
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from data.herds import HerdDecision
from data.store import ObservationStore, store_identity
from domain.seasons import SeasonCalendar
from geo.dedup import Candidates, DedupParams, Grouping

if TYPE_CHECKING:  # pandas, pyarrow and the herd tables load with a grouping, not its check
    import pandas as pd

    from reports.herds import HerdTables, ReportInputs

FORMAT = 1
POINTER = "current.json"
STALE_S = 60.0
PARTS = ("sightings", "herds", "candidates")
# The modules whose code decides the herds and their columns (and the libraries below).
HERD_CODE = (
    "geo.dedup",
    "reports.herds",
    "reports.herd_update",
    "reports.herd_file",
    "data.herds",
    "data.sql_store",
    "data.sqlite",
    "data.postgis",
    "data.sql_shared",
    "data.sqlite_queries",
    "data.postgis_queries",
    "domain.periods",
    "domain.seasons",
)
HERD_LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow")
log = logging.getLogger(__name__)


@cache  # the code does not change under a running process
def herd_code_hash() -> str:
    """A hash of the herd code and the versions of the libraries it runs on."""
    digest = hashlib.sha256(str(FORMAT).encode())
    for name in HERD_CODE:
        spec = find_spec(name)
        if spec is None or spec.origin is None:
            return ""
        digest.update(Path(spec.origin).read_bytes())
    for library in HERD_LIBRARIES:
        digest.update(f"{library}=={package_version(library)}".encode())
    return digest.hexdigest()[:16]


def decisions_hash(decisions: Sequence[HerdDecision]) -> str:
    """A hash of the decisions a grouping replayed, in order: a restored copy of the store
    with as many, but other, decisions does not match."""
    digest = hashlib.sha256()
    for d in decisions:
        when = d.decided_at.isoformat() if d.decided_at else ""
        ids = ",".join(str(i) for i in d.observation_ids)
        others = ",".join(str(i) for i in d.other_ids)
        digest.update(f"{d.id}|{d.action}|{ids}|{others}|{when}\n".encode())
    return digest.hexdigest()[:32]


def _made_of(
    store: ObservationStore, seasons: SeasonCalendar, params: DedupParams
) -> dict[str, Any]:
    """What a saved grouping must match to be used (the mark is checked against the store)."""
    return {
        "format": FORMAT,
        "store": store_identity(store.url),
        "seasons": [list(pair) for pair in seasons.starts],
        "params": asdict(params),
        "code": herd_code_hash(),
    }


def describe(store: ObservationStore, inputs: ReportInputs, tables: HerdTables) -> dict[str, Any]:
    """What `write` puts in current.json for this grouping (read from the store now, on
    the request's thread: the write itself runs on another)."""
    count, mark = store.revision_mark(inputs.data_version[0])
    return {
        **_made_of(store, inputs.seasons, inputs.params),
        "token": secrets.token_hex(8),
        "data_version": list(inputs.data_version),
        "revisions": count,
        "mark": mark,
        "decisions": decisions_hash(inputs.decisions),
        "n_herds": tables.grouping.n_herds,
        "refused_links": [list(p) for p in tables.grouping.refused_links],
    }


def write(directory: Path, pointer: dict[str, Any], tables: HerdTables) -> None:
    """The grouping's files, then current.json naming them, then older files away."""
    import pandas as pd
    import pyarrow as pa

    directory.mkdir(parents=True, exist_ok=True)
    token = pointer["token"]
    frames = {
        "sightings": tables.sightings,
        "herds": tables.herds.reset_index(drop=True),
        "candidates": pd.DataFrame(
            {n: getattr(tables.grouping.candidates, n) for n in ("i", "j", "km", "hours")},
            copy=False,
        ),
    }
    for part, frame in frames.items():
        table = pa.Table.from_pandas(frame, preserve_index=False)
        with pa.OSFile(str(directory / f"{token}.{part}.arrow"), "wb") as sink:
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
    replaced = _pointed_to(directory)
    temporary = directory / f"{token}.json"
    temporary.write_text(json.dumps(pointer))
    os.replace(temporary, directory / POINTER)
    _remove_others(directory, token, replaced)


def _pointed_to(directory: Path) -> str | None:
    try:
        token = json.loads((directory / POINTER).read_text()).get("token")
    except (OSError, ValueError, AttributeError):
        return None
    return token if isinstance(token, str) else None


def _remove_others(directory: Path, token: str, replaced: str | None) -> None:
    """The grouping current.json named before, and any other once a minute old (another
    process may be writing one it will point to next); a reader that opened a file reads
    on from the open file."""
    now = time.time()
    for path in directory.glob("*.arrow"):
        if path.name.startswith(f"{token}."):
            continue
        try:
            if path.name.startswith(f"{replaced}.") or now - path.stat().st_mtime > STALE_S:
                path.unlink(missing_ok=True)
        except OSError:
            continue


def load(
    directory: Path, store: ObservationStore, seasons: SeasonCalendar
) -> tuple[ReportInputs, HerdTables] | None:
    """The saved grouping as kept inputs and tables, or None where there is none to use."""
    import pandas as pd
    import pyarrow as pa

    from reports.herds import HerdTables, ReportInputs, load_inputs

    pointer = _pointer(directory)
    if pointer is None:
        return None
    inputs = load_inputs(store, seasons=seasons, sightings=False)
    if not _usable(pointer, store, seasons, inputs.params, inputs.decisions):
        return None
    version = pointer["data_version"]
    try:
        parts = {part: _read(directory / f"{pointer['token']}.{part}.arrow") for part in PARTS}
    except (OSError, pa.ArrowException):
        return None  # replaced meanwhile by a newer one: build
    sightings, herds, pairs = parts["sightings"], parts["herds"], parts["candidates"]
    herds.index = pd.RangeIndex(len(herds), name="herd")
    labels = sightings["herd"].to_numpy()
    grouping = Grouping(
        labels=labels,
        n_herds=int(pointer["n_herds"]),
        candidates=Candidates(*(pairs[n].to_numpy() for n in ("i", "j", "km", "hours"))),
        refused_links=[(int(a), int(b)) for a, b in pointer["refused_links"]],
    )
    kept = ReportInputs(
        sightings=inputs.sightings,
        surveys=inputs.surveys,
        decisions=inputs.decisions[: version[2]],  # those it replayed (_usable checked)
        params=inputs.params,
        seasons=seasons,
        data_version=tuple(version),
    )
    return kept, HerdTables(sightings, herds, grouping)


def usable(directory: Path, store: ObservationStore, seasons: SeasonCalendar) -> bool:
    """Whether `directory` holds a grouping of this store that `load` would use: a few
    small queries, neither the grouping's files nor pandas or pyarrow (every `herdwatch
    migrate` and `serve` asks)."""
    pointer = _pointer(directory)
    return pointer is not None and _usable(
        pointer, store, seasons, DedupParams(), store.list_herd_decisions()
    )


def _pointer(directory: Path) -> dict[str, Any] | None:
    """current.json, its data version as four whole numbers, or None where it or the
    files it names are not there whole (`usable` and `load` then agree: neither uses it)."""
    try:
        pointer = json.loads((directory / POINTER).read_text())
        pointer["data_version"] = [int(v) for v in pointer.get("data_version", [])]
        token, n_herds, refused = pointer["token"], pointer["n_herds"], pointer["refused_links"]
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None
    shaped = isinstance(token, str) and isinstance(n_herds, int) and isinstance(refused, list)
    if not shaped or len(pointer["data_version"]) != 4:
        return None
    return pointer if all(_whole(directory / f"{token}.{part}.arrow") for part in PARTS) else None


def _whole(path: Path) -> bool:
    """An Arrow IPC file with its magic bytes at both ends (a write cut short has none at
    its end), checked without pyarrow."""
    try:
        with path.open("rb") as file:
            head = file.read(6)
            file.seek(-6, os.SEEK_END)
            return head == file.read(6) == b"ARROW1"
    except OSError:  # missing, or shorter than 6 bytes
        return False


def _usable(
    pointer: dict[str, Any],
    store: ObservationStore,
    seasons: SeasonCalendar,
    params: DedupParams,
    decisions: Sequence[HerdDecision],
) -> bool:
    made = {key: pointer.get(key) for key in ("format", "store", "seasons", "params", "code")}
    if made != _made_of(store, seasons, params):
        return False
    version = pointer["data_version"]
    # The decisions it replayed are still the store's first ones.
    if decisions_hash(decisions[: version[2]]) != pointer.get("decisions"):
        return False
    # The revision numbered at the saved version is still the same one (a store restored
    # from an older copy, or another at the same URL, has another or none).
    return store.revision_mark(version[0]) == (pointer.get("revisions"), pointer.get("mark"))


def _read(path: Path) -> pd.DataFrame:
    import pyarrow as pa

    with pa.OSFile(str(path), "rb") as source:
        table = pa.ipc.open_file(source).read_all()
    return table.to_pandas()
