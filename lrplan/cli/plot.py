"""``lrplan plot``: LR schedules as terminal plots. Light to import (numpy and plotext load inside functions)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, TextIO

import typer

from lrplan.cli import console
from lrplan.cli.console import PlainPath

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.spec.models import Spec


class XAxisChoice(str, Enum):
    step = "step"
    tokens = "tokens"


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
    law: Optional[str] = None,
    loss: bool = False,
    convention: Optional[str] = None,
) -> tuple[str, list[tuple[str, str]]]:
    """The plot of ``specs`` sized for the terminal, coloured if ``stream`` is a colour terminal, and the
    messages to show with it (``("note" | "warning", text)``). With ``loss`` (or a ``law``: a law.yaml or
    ``builtin:NAME``) the predicted loss of each spec is overlaid on the right axis; with ``convention`` what that
    framework runs. An auto-sized plot leaves room for the messages, so none scrolls off the screen."""
    from lrplan.cli.console import plot_size, want_color
    from lrplan.output.plot import MIN_HEIGHT, check_size, plot_series, plot_specs

    w, h = plot_size(width, height, max_height)
    check_size(w, h)
    messages: list[tuple[str, str]] = []
    right: list = []
    if loss or law is not None:
        from lrplan.output.overlays import loss_series

        right, notes, warnings = loss_series(specs, w, x, law)
        messages += [("note", n) for n in notes] + [("warning", m) for m in warnings]
    series = None
    if convention is not None:
        from lrplan.output.overlays import convention_series

        series, notes = convention_series(specs, w, x, convention)
        messages += [("note", n) for n in notes]
    if height is None and messages:  # room for the messages printed under the plot
        lines = sum(-(-(len(m) + 10) // max(w, 1)) for _, m in messages)
        h = max(MIN_HEIGHT, h - lines)
    color = want_color(no_color, stream)
    axis = "tokens" if x == "tokens" else "step"
    if series is not None:
        return plot_series(series, w, h, log_y, color, axis, title=title, right=right), messages
    return plot_specs(specs, w, h, x=axis, log_y=log_y, color=color, title=title, right=right), messages


def write_plot(specs: "list[Spec]", stream: TextIO, **kwargs) -> None:
    """Write :func:`plot_text` to ``stream``, then its notes and warnings on stderr, so they stay on screen
    (used by ``plot`` and ``render --plot``)."""
    text, messages = plot_text(specs, stream, **kwargs)
    stream.flush()
    stream.write(text + "\n")
    stream.flush()
    console.show(messages)


def plot(
    specs: Annotated[list[Path], typer.Argument(metavar="SPEC...", click_type=PlainPath(), help="One or more YAML specs; several are overlaid.", show_default=False)],
    x: Annotated[XAxisChoice, typer.Option("--x", metavar="step|tokens", help="x axis: optimizer step or tokens consumed.")] = XAxisChoice.step,
    log_y: Annotated[bool, typer.Option("--log-y", help="Logarithmic LR axis (LR 0 is left out).")] = False,
    width: Annotated[Optional[int], typer.Option("--width", "-W", metavar="N", help="Columns (default: the terminal's).", show_default=False)] = None,
    height: Annotated[Optional[int], typer.Option("--height", "-H", metavar="N", help="Rows, legend included (default: the terminal's).", show_default=False)] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text, one marker character per spec (automatic when not a terminal or NO_COLOR is set).")] = False,
    title: Annotated[Optional[str], typer.Option("--title", metavar="TEXT", help="Plot title.", show_default=False)] = None,
    loss: Annotated[bool, typer.Option("--loss", help="Overlay the predicted loss (right axis), with the built-in law unless --law.")] = False,
    law: Annotated[Optional[str], typer.Option("--law", metavar="LAW", autocompletion=console.complete_law, help="Loss law for the overlay: a law.yaml from `lrplan fit` or builtin:NAME (implies --loss).", show_default=False)] = None,
    convention: Annotated[Optional[str], typer.Option("--convention", metavar="FW", autocompletion=console.complete_framework, help=f"Also plot what a framework ({console.FRAMEWORKS_HELP}) really runs with lrplan's snippet.", show_default=False)] = None,
) -> None:
    """Plot the LR of one or more specs against step (or tokens), phase starts marked; --loss adds the predicted loss.

    Example:

        lrplan plot schedules/wsd.yaml schedules/cosine.yaml --log-y

        lrplan plot schedules/wsd.yaml --loss --law builtin:mpl-25m

        lrplan plot schedules/constant.yaml --convention torchtitan
    """
    from lrplan.cli.console import plot_size
    from lrplan.output.plot import check_size

    check_size(*plot_size(width, height))  # before loading: a too-small terminal is the first thing to say
    loaded = [console.load(p) for p in specs]
    if convention is not None:
        from lrplan.frameworks import resolve

        resolve(convention)  # unknown framework: one line listing the known ones, before any work
    write_plot(loaded, sys.stdout, x=x.value, log_y=log_y, width=width, height=height, no_color=no_color, title=title,
               law=law, loss=loss, convention=convention)
