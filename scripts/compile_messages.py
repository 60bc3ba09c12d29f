"""Compile a gettext catalogue (.po) to its .mo with Babel: `make install` runs this.

Why not `pybabel compile`: it checks printf-style placeholders, and Babel takes any "%"
before a letter for one ("95% intervals" reads as the placeholder "% i", "% calves" as
"% c"), so it refuses a Russian sentence that does not repeat those letters. Herdwatch's
messages use brace placeholders ({field}); tests/test_catalogue.py holds every
translation's braces to its msgid's, and fuzzy entries are left out here as there.

    python scripts/compile_messages.py domain/locales/ru/LC_MESSAGES/herdwatch.po OUT.mo
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def compile_catalogue(po: Path, mo: Path) -> int:
    """Write `mo` from `po`; returns how many messages are translated."""
    with po.open("rb") as source:
        catalogue = read_po(source)
    with mo.open("wb") as target:
        write_mo(target, catalogue, use_fuzzy=False)
    return sum(1 for message in catalogue if message.id and message.string)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    compile_catalogue(Path(sys.argv[1]), Path(sys.argv[2]))
