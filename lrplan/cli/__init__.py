"""The ``lrplan`` command line: a thin skin that parses, calls the library, and renders with rich.

Heavy modules (numpy, pydantic, plotext, scipy) are imported inside commands so ``lrplan --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Callable, Optional, TypeVar

import typer

from lrplan import __version__
from lrplan.cli import console
from lrplan.cli.console import user_errors

app = typer.Typer(
    name="lrplan",
    help="Plan learning-rate schedules for LLM pretraining: render every step's LR, export framework configs, "
    "predict loss, plan WSD-S branches.\n\nExample: lrplan render schedules/wsd.yaml  (then lrplan COMMAND --help)",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lrplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = None,
) -> None:
    """lrplan: learning-rate schedule planner."""


from lrplan.cli.frameworks import RenderFormat  # noqa: E402

WARN_BYTES = 2 * 1024**3  # warn before writing a table larger than this
LIMIT_BYTES = 1024**4  # refuse (exit 2) a table larger than this, unless it goes to /dev/null

SpecArg = Annotated[Path, typer.Argument(help="YAML budget spec (see schedules/ for examples).", show_default=False)]


@app.command()
@user_errors
def render(
    spec: SpecArg,
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write to FILE (atomically) instead of stdout.")] = None,
    format_: Annotated[str, typer.Option("--format", "-f", help="csv or json (the per-step table), or a framework config snippet: megatron, torchtitan, hf, olmo-core, deepspeed.")] = "csv",
    every: Annotated[Optional[int], typer.Option("--every", min=1, help="Keep every N-th step (phase edges and the last step are always kept).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
    plot: Annotated[bool, typer.Option("--plot", help="Also plot the schedule under the summary (on stderr when the table goes to stdout).")] = False,
    convention: Annotated[Optional[str], typer.Option("--convention", help="Write the LRs a framework (megatron, torchtitan, hf, olmo-core, deepspeed) really runs with the --format <framework> snippet; differences go to stderr.")] = None,
    framework_version: Annotated[Optional[str], typer.Option("--framework-version", help="Framework version for --format/--convention (torchtitan 0.2 = TOML, 0.3 = Python; default the newest).")] = None,
    sample_based: Annotated[bool, typer.Option("--sample-based", help="Megatron: --train-samples / --lr-*-samples instead of iterations.")] = False,
) -> None:
    """Render the LR of every optimizer update: columns [bold]step,tokens,lr,phase[/bold].

    [dim]step[/dim] is the 0-based update, [dim]lr[/dim] the LR that update uses, [dim]tokens[/dim] the tokens
    consumed before it. On a terminal (no -o) it prints the summary and a preview; pipe or use -o for the table.

    Example:

        lrplan render schedules/wsd.yaml -o wsd.csv --every 100

        lrplan render schedules/wsd.yaml --format megatron
    """
    fmt = RenderFormat.parse(format_)
    if plot:  # a terminal too small for the plot: say so before printing anything
        from lrplan.cli.console import check_plot_room

        check_plot_room(max_height=30)
    if fmt.value not in ("csv", "json") or convention is not None or framework_version is not None or sample_based:
        from lrplan.errors import LrplanError
        from lrplan.cli.frameworks import render_framework

        if plot:
            raise LrplanError("--plot draws the spec's LR table (csv/json); for a framework's run use "
                              "`lrplan plot SPEC --convention FW`")

        return render_framework(spec, fmt.value, convention, framework_version, sample_based, output, every, quiet)
    from lrplan.errors import LrplanError
    from lrplan.spec.models import load_spec
    from lrplan.output.summary import print_summary
    from lrplan.output.table import atomic_output, estimate_bytes, write_table

    s = load_spec(spec)
    plan = s.schedule_plan()
    err = console.stderr()
    to_terminal = output is None and sys.stdout.isatty()
    if to_terminal:
        print_summary(s, console.stdout())
        if plot:
            from lrplan.cli.plot import write_plot

            write_plot([s], sys.stdout, max_height=30)
        _preview(plan)
        console.stdout().print("[dim](the full table: add -o FILE, or pipe the output)[/dim]")
        return
    size = estimate_bytes(plan, every)
    if output != os.devnull:
        if size > LIMIT_BYTES:
            raise LrplanError(
                f"the table would be about {size / 1024**4:.1f} TiB ({plan.total_steps:,} steps); thin it with --every N "
                f"(e.g. --every {max(2, plan.total_steps // 1_000_000)})"
            )
        if size > WARN_BYTES:
            err.print(f"[yellow]warning:[/yellow] the table will be about {size / 1024**3:.1f} GiB; --every N thins it", soft_wrap=True)
    if not quiet:
        print_summary(s, err)
    if plot:
        from lrplan.cli.plot import write_plot

        write_plot([s], sys.stderr, max_height=30)
    with atomic_output(output) as fh:
        write_table(plan, fh, fmt.value, every)


def _preview(plan) -> None:
    from lrplan.output.table import table_chunks

    lines: list[str] = []
    for chunk in table_chunks(plan, "csv", max(1, plan.total_steps // 8)):
        lines.extend(chunk.decode().splitlines())
    out = console.stdout()
    for line in lines[:40]:
        out.print(line, markup=False)
    if len(lines) > 40:
        out.print(f"... ({len(lines) - 40} more preview rows)")


@app.command("list")
@user_errors
def list_(
    kind: Annotated[Optional[str], typer.Argument(help="Show one family's parameters in full.")] = None,
) -> None:
    """List schedule families and decay shapes, with their parameters, defaults and sources.

    Example:

        lrplan list wsd
    """
    from lrplan.output.catalog import print_catalog

    print_catalog(console.stdout(), kind)


@app.command()
@user_errors
def check(spec: SpecArg) -> None:
    """Validate a spec and summarise it: phases with their steps, tokens and LRs at the boundaries.

    Example:

        lrplan check schedules/wsd-s.yaml
    """
    from lrplan.spec.models import load_spec
    from lrplan.output.summary import print_summary

    s = load_spec(spec)
    print_summary(s, console.stdout())
    if s.budget.budgets and len(s.budget.budgets) > 1 and getattr(s.schedule, "kind", None) in ("wsd", "wsd-s"):
        from lrplan.errors import SpecError
        from lrplan.planning.branches import make_plan

        try:  # the run above is well defined, but `lrplan plan` may still refuse the multi-budget spec (its branches)
            make_plan(s, None, None)
        except SpecError as e:
            from rich.markup import escape

            console.stderr().print(f"[yellow]warning:[/yellow] lrplan plan would refuse this spec: {escape(str(s.locate(e)))}",
                            soft_wrap=True)
    console.stdout().print("[green]ok[/green]")


# --- commands defined in other modules: one registration line each (keep those modules light to import) ---
from lrplan.cli.plan import plan as _plan  # noqa: E402

app.command("plan")(user_errors(_plan))
from lrplan.cli.plot import plot as _plot; app.command()(user_errors(_plot))  # noqa: E402, E702
from lrplan.cli.frameworks import import_ as _import; app.command("import", context_settings={"ignore_unknown_options": True})(user_errors(_import))  # noqa: E402, E702
from lrplan.cli.laws import fit as _fit, predict as _predict, laws as _laws; app.command("fit")(user_errors(_fit)); app.command("predict")(user_errors(_predict)); app.command("laws")(user_errors(_laws))  # noqa: E402, E702


def main() -> None:
    """Entry point: usage errors (unknown option, missing argument, bad value) are one `error:` line, exit 2."""
    try:
        rv = app(standalone_mode=False)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    except Exception as e:
        if hasattr(e, "format_message") and hasattr(e, "exit_code"):  # click's UsageError / BadParameter
            ctx = getattr(e, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            msg = " ".join(str(e.format_message()).split())
            if not msg:  # `lrplan` alone: the help was printed, nothing went wrong
                sys.exit(0)
            sys.stderr.write(f"error: {msg}{hint}\n")
            sys.exit(2 if e.exit_code in (1, 2) else e.exit_code)
        if type(e).__name__ == "Abort":
            sys.stderr.write("error: aborted\n")
            sys.exit(1)
        raise
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
