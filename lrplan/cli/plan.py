"""``lrplan plan``: the CLI skin over :mod:`lrplan.planning` (tables, JSON/CSV, plots, exports)."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli import console
from lrplan.cli.console import Law, Output, PlainPath, Quiet


class PlanFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def plan(
    spec: Annotated[Path, typer.Argument(metavar="SPEC", click_type=PlainPath(), help="A multi-budget spec: budget.budgets and kind wsd or wsd-s.", show_default=False)],
    fmt: Annotated[PlanFormat, typer.Option("--format", "-f", metavar="table|json|csv", help="The plan as a table, JSON or CSV.")] = PlanFormat.table,
    output: Output = None,
    law: Law = None,
    no_law: Annotated[bool, typer.Option("--no-law", help="Skip loss predictions.")] = False,
    optimize: Annotated[bool, typer.Option("--optimize", help="Choose the decay fraction and shape per budget that minimise predicted loss.")] = False,
    export: Annotated[Optional[str], typer.Option("--export", metavar="FW", autocompletion=console.complete_plan_export, help=f"Write one config per branch/segment for {console.PLAN_FRAMEWORKS_HELP} into -o DIR.")] = None,
    show_plot: Annotated[bool, typer.Option("--plot", help="Plot the run with its checkpoints marked.")] = False,
    quiet: Quiet = False,
) -> None:
    """Plan WSD branch points or WSD-S checkpoints for several budgets: positions, compute, predicted loss.

    -o FILE takes the table, JSON or CSV; with --export, -o names the directory for the configs.

    Example:

        lrplan plan schedules/wsd-s.yaml --optimize
    """
    from lrplan.errors import LrplanError, SpecError
    from lrplan.output.plan import plan_csv, plan_text, print_plan
    from lrplan.cli.progress import bar
    from lrplan.output.table import atomic_output, check_output, check_output_dir
    from lrplan.planning.planner import plan_with_law

    inputs = [spec, *([law] if law else [])]
    if export:  # -o names the directory for the configs: refused at once if it cannot be one
        check_output_dir(output, inputs)
    else:
        check_output(output, inputs)  # an unwritable -o is refused before the (possibly long) plan
    if show_plot:  # a terminal too small for the plot: say so before writing anything
        console.check_plot_room(max_height=30)
    s = console.load(spec, quiet)
    with bar("plan", quiet) as progress:
        res = plan_with_law(s, law, use_law=not no_law, optimize=optimize, progress=progress)
    if not quiet:
        for w in res.warnings:
            console.warn(w)
    if export:
        from lrplan.planning.launches import export_plan

        if not output:
            raise LrplanError("--export needs -o DIR: the directory to write the configs into")
        try:
            written = export_plan(s, res, export, Path(output))
        except SpecError as e:
            raise s.locate(e) from None
        err = console.stderr()
        for p in written:
            console.line(f"wrote {p}", err)
        return
    if fmt == PlanFormat.json:
        text = json.dumps(res.to_dict(), indent=2, sort_keys=True) + "\n"
    elif fmt == PlanFormat.csv:
        text = plan_csv(res)
    elif output and output != "-":  # the table as plain text (no colour) into the file
        text = plan_text(res)
    else:
        text = None
    if text is not None:
        with atomic_output(output, inputs=[spec]) as fh:
            fh.write(text.encode())
    else:
        print_plan(res, console.stdout())
    if show_plot:  # JSON/CSV on stdout stays parseable: the plot then goes to stderr (as render --plot does)
        from lrplan.output.plot import plan_plot

        stream = sys.stderr if text is not None and output in (None, "-") else sys.stdout
        w, h = console.plot_size(None, None, max_height=30)
        stream.write(plan_plot(s, res, w, h, color=console.want_color(False, stream)) + "\n")
