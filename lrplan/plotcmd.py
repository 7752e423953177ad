"""``lrplan plot``: LR schedules as terminal plots. Light to import (numpy and plotext load inside functions)."""

from __future__ import annotations

import os
import shutil
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, TextIO

import typer

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.spec import Spec


class XAxisChoice(str, Enum):
    step = "step"
    tokens = "tokens"


def want_color(no_color: bool, stream: TextIO) -> bool:
    """Colour only on a terminal, and not with ``--no-color`` or the ``NO_COLOR`` environment variable."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def plot_size(width: Optional[int], height: Optional[int], max_height: Optional[int] = None) -> tuple[int, int]:
    """``--width``/``--height``, else the terminal's size (minus two rows for the prompt)."""
    term = shutil.get_terminal_size()
    w = width if width is not None else term.columns
    h = height if height is not None else term.lines - 2
    if height is None and max_height is not None:
        h = min(h, max_height)
    return w, h


def plot_text(
    specs: "list[Spec]",
    stream: TextIO,
    *,
    x: str = "step",
    log_y: bool = False,
    width: Optional[int] = None,
    height: Optional[int] = None,
    no_color: bool = False,
    title: Optional[str] = None,
    max_height: Optional[int] = None,
) -> str:
    """The plot of ``specs`` sized for the terminal, coloured if ``stream`` is a colour terminal."""
    from lrplan.plot import check_size, plot_specs

    w, h = plot_size(width, height, max_height)
    check_size(w, h)
    return plot_specs(specs, w, h, x="tokens" if x == "tokens" else "step", log_y=log_y, color=want_color(no_color, stream), title=title)


def write_plot(specs: "list[Spec]", stream: TextIO, **kwargs) -> None:
    """Write :func:`plot_text` to ``stream`` (used by ``plot`` and ``render --plot``)."""
    text = plot_text(specs, stream, **kwargs)
    stream.flush()
    stream.write(text + "\n")
    stream.flush()


def plot(
    specs: Annotated[list[Path], typer.Argument(help="One or more YAML specs; several are overlaid.", show_default=False)],
    x: Annotated[XAxisChoice, typer.Option("--x", help="x axis: optimizer step or tokens consumed.")] = XAxisChoice.step,
    log_y: Annotated[bool, typer.Option("--log-y", help="Logarithmic LR axis (LR 0 is left out).")] = False,
    width: Annotated[Optional[int], typer.Option("--width", "-W", help="Columns (default: the terminal's).", show_default=False)] = None,
    height: Annotated[Optional[int], typer.Option("--height", "-H", help="Rows, legend included (default: the terminal's).", show_default=False)] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text, one marker character per spec (automatic when not a terminal or NO_COLOR is set).")] = False,
    title: Annotated[Optional[str], typer.Option("--title", help="Plot title.", show_default=False)] = None,
) -> None:
    """Plot the LR of one or more specs against step (or tokens), phase starts marked.

    Example:

        lrplan plot schedules/wsd.yaml schedules/cosine.yaml --log-y
    """
    from lrplan.plot import check_size
    from lrplan.spec import load_spec

    check_size(*plot_size(width, height))  # before loading: a too-small terminal is the first thing to say
    loaded = [load_spec(p) for p in specs]
    write_plot(loaded, sys.stdout, x=x.value, log_y=log_y, width=width, height=height, no_color=no_color, title=title)
