"""``lrplan list``: the schedule families and decay shapes, with their parameters, defaults and sources."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lrplan.cli import console
from lrplan.cli.console import PlainText


def list_(
    kind: Annotated[Optional[str], typer.Argument(metavar="KIND", click_type=PlainText(), autocompletion=console.complete_kind, help="Show one family's parameters in full (or 'shapes': the decay shapes).", show_default=False)] = None,
) -> None:
    """List the schedule families on one screen: kind, formula, source. With KIND: its parameters.

    Example:

        lrplan list

        lrplan list wsd

        lrplan list shapes
    """
    from lrplan.output.catalog import print_catalog

    print_catalog(console.stdout(), kind)
