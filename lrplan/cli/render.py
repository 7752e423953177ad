"""``lrplan render``: every update's LR as a table (CSV/JSON), or a framework config snippet."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from lrplan.cli import console
from lrplan.cli.console import FrameworkVersion, Output, Quiet, SpecArg


def render(
    spec: SpecArg,
    output: Output = None,
    format_: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", autocompletion=console.complete_format, help=f"csv or json (the per-step table), or a framework config snippet: {console.FRAMEWORKS_HELP}.")] = "csv",
    every: Annotated[Optional[int], typer.Option("--every", min=1, metavar="N", help="Keep every N-th step (phase edges and the last step are always kept).")] = None,
    quiet: Quiet = False,
    plot: Annotated[bool, typer.Option("--plot", help="Also plot the schedule under the summary (on stderr when the table goes to stdout).")] = False,
    convention: Annotated[Optional[str], typer.Option("--convention", metavar="FW", autocompletion=console.complete_framework, help=f"Write the LRs a framework ({console.FRAMEWORKS_HELP}) really runs with the --format FW snippet; differences go to stderr.")] = None,
    framework_version: FrameworkVersion = None,
    sample_based: Annotated[bool, typer.Option("--sample-based", help="Megatron: --train-samples / --lr-*-samples instead of iterations.")] = False,
) -> None:
    """Render the LR of every optimizer update: columns [bold]step,tokens,lr,phase[/bold].

    [dim]step[/dim] is the 0-based update, [dim]lr[/dim] the LR that update uses, [dim]tokens[/dim] the tokens
    consumed before it. On a terminal (no -o) it prints the summary and a preview; pipe or use -o for the table.

    Example:

        lrplan render schedules/wsd.yaml -o wsd.csv --every 100

        lrplan render schedules/wsd.yaml --format megatron
    """
    from lrplan.cli.frameworks import RenderFormat
    from lrplan.errors import LrplanError

    fmt = RenderFormat.parse(format_)
    if plot:  # a terminal too small for the plot: say so before printing anything
        console.check_plot_room(max_height=30)
    if fmt.value not in ("csv", "json") or convention is not None or framework_version is not None or sample_based:
        from lrplan.cli.frameworks import render_framework

        if plot:
            raise LrplanError("--plot draws the spec's LR table (csv/json); for a framework's run use "
                              "`lrplan plot SPEC --convention FW`")
        return render_framework(spec, fmt.value, convention, framework_version, sample_based, output, every, quiet)
    from lrplan.output.summary import print_summary
    from lrplan.output.table import atomic_output, check_output, check_table_size, preview_lines, write_table

    check_output(output, [spec])  # an unwritable -o (or -o SPEC) is refused before any work or output
    s = console.load(spec, quiet)
    plan = s.schedule_plan()
    if output is None and sys.stdout.isatty():  # a person: the summary (unless -q) and a preview
        out = console.stdout()
        if not quiet:
            print_summary(s, out)
        if plot:
            from lrplan.cli.plot import write_plot

            write_plot([s], sys.stdout, max_height=30)
        import shutil

        # one screen: the summary (phases, totals, notes) and the preview together
        used = 0 if quiet else len(plan.segments) + 9 + 2 * len(plan.notes)
        rows = max(8, min(40, shutil.get_terminal_size().lines - used - 3))
        for line in preview_lines(plan, fmt.value, every, rows=rows):
            out.print(line, markup=False, soft_wrap=True)
        out.print("[dim](the full table: add -o FILE, or pipe the output)[/dim]")
        return
    warning = check_table_size(plan, every, output)
    if warning:
        console.warn(warning)
    if not quiet:
        print_summary(s, console.stderr())
    if plot:
        from lrplan.cli.plot import write_plot

        write_plot([s], sys.stderr, max_height=30)
    from lrplan.cli.progress import bar

    with bar("render", quiet) as progress, atomic_output(output, inputs=[spec]) as fh:
        write_table(plan, fh, fmt.value, every, progress=progress)
