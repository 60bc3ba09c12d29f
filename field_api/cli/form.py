"""`herdwatch form`: write the ODK Collect form as an XLSForm, its markdown twin and XForm."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from data.xlsform import FORM_ID, herd_sighting_workbook, markdown, write_xlsx
from domain.i18n import Message
from field_api.cli.common import Command, _, say
from field_api.openrosa_form import form_spec, served_form
from field_api.settings import Settings


def add_arguments(subparsers: Any) -> None:
    """Register `herdwatch form` on the main parser."""
    cmd = subparsers.add_parser(
        "form",
        help=_("write the herd_sighting XLSForm (.xlsx and .md) and the XForm ODK Collect gets"),
    )
    cmd.add_argument(
        "--out", type=Path, default=Path("forms"), help=_("folder to write to (default: forms)")
    )


def write_form(args: argparse.Namespace, settings: Settings) -> int:
    """The built-in form for these settings, and the XForm the server serves (converted)."""
    args.out.mkdir(parents=True, exist_ok=True)
    workbook = herd_sighting_workbook(form_spec(settings))
    write_xlsx(workbook, args.out / f"{FORM_ID}.xlsx")
    (args.out / f"{FORM_ID}.md").write_text(markdown(workbook), encoding="utf-8")
    served = served_form(settings)
    (args.out / f"{served.form_id}.xml").write_bytes(served.xml)
    for warning in served.warnings:
        print(say(Message("pyxform: {warning}", warning=str(warning))))
    print(
        say(
            Message(
                "wrote {out}/{FORM_ID}.xlsx, .md and {form_id}.xml (md5 {md5})",
                out=str(args.out),
                FORM_ID=str(FORM_ID),
                form_id=str(served.form_id),
                md5=str(served.md5),
            )
        )
    )
    return 0


COMMANDS: dict[str, Command] = {"form": write_form}
