"""``lrplan list``: the schedule families and decay shapes, with their parameters, defaults and sources."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lrplan.cli import console


def list_(
    kind: Annotated[Optional[str], typer.Argument(help="Show one family's parameters in full.")] = None,
) -> None:
    """List schedule families and decay shapes, with their parameters, defaults and sources.

    Example:

        lrplan list wsd
    """
    from lrplan.output.catalog import print_catalog

    print_catalog(console.stdout(), kind)
