"""``lrplan plan``: the CLI skin over :mod:`lrplan.planning.branches` (tables, JSON/CSV, plots, exports)."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lrplan.errors import LrplanError, SpecError

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.planning.branches import PlanResult


class PlanFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _fmt_lr(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def _si(v: float | None) -> str:
    from lrplan.spec.units import si

    return "-" if v is None else si(v)


def print_plan(res: "PlanResult", console) -> None:
    from rich.table import Table

    wsds = res.kind == "wsd-s"
    title = "WSD-S: checkpoints in the single run" if wsds else "WSD: a decay branch off the stable trunk per budget"
    t = Table(title=title, title_justify="left", header_style="bold")
    preds = sorted({k for c in res.checkpoints for k in c.predicted_loss})
    cols = ["#", "budget", "decay", "decay start" if wsds else "branch at", "checkpoint", "tokens seen"]
    cols += [] if preds else ["LR last update"]  # with predictions the LR goes to the caption, the losses here
    for col in cols:
        t.add_column(col, justify="right")
    for k in preds:
        t.add_column(f"loss {k}", justify="right")
    for c in res.checkpoints:
        budget = _si(c.budget_tokens) if c.budget_tokens is not None else f"{c.budget_steps:,}"
        seen = _si(c.checkpoint_tokens) if c.checkpoint_tokens is not None else f"{c.checkpoint_step:,} steps"
        row = [str(c.index), budget, f"{c.decay_steps:,}", f"{c.decay_start_step:,}", f"{c.checkpoint_step:,}", seen]
        row += [] if preds else [_fmt_lr(c.lr_last_update)]
        row += [f"{c.predicted_loss[k]:.4f}" if k in c.predicted_loss else "-" for k in preds]
        t.add_row(*row)
    console.print(t)
    first = res.checkpoints[0]
    how = (f"LR {_fmt_lr(first.lr_decay_start)} at each decay start, {_fmt_lr(first.lr_last_update)} at the last update "
           f"before checkpoint 1; after a checkpoint the run continues at "
           f"{_fmt_lr(first.lr_after)}" if wsds else f"each branch decays from {_fmt_lr(first.lr_decay_start)}; checkpoint = the branch's last update")
    console.print(f"[dim]steps are optimizer updates; checkpoint = updates done. {how}.[/dim]", soft_wrap=True)
    ct = Table(title="compute for the same budgets", title_justify="left", header_style="bold")
    for col in ["strategy", "steps", "tokens", "FLOPs 6ND", "GPU-h", "note"]:
        ct.add_column(col, justify="left" if col in ("strategy", "note") else "right")
    for c in res.costs:
        ct.add_row(c.strategy, f"{c.steps:,}", _si(c.tokens), "-" if c.flops is None else f"{c.flops:.3g}",
                   "-" if c.gpu_hours is None else f"{c.gpu_hours:,.0f}", c.note)
    console.print(ct)
    if res.optimized:
        ot = Table(title=f"--optimize (law: {res.law})", title_justify="left", header_style="bold")
        for col in ["#", "decay", "shape", "predicted loss", "as written", "gain"]:
            ot.add_column(col, justify="right")
        for o in res.optimized:
            ot.add_row(str(o.index), f"{o.decay_fraction:.0%}", o.decay_shape, f"{o.predicted_loss:.4f}", f"{o.spec_loss:.4f}", f"{o.gain:+.4f}")
        console.print(ot)
    if res.law:
        console.print(f"predicted loss from law {res.law}")
    for n in res.notes:
        console.print(f"[yellow]note:[/yellow] {n}", soft_wrap=True)


def plan_csv(res: "PlanResult") -> str:
    cols = ["index", "budget_steps", "budget_tokens", "decay_start_step", "decay_start_tokens", "checkpoint_step",
            "checkpoint_tokens", "decay_steps", "branch_point_step", "lr_decay_start", "lr_last_update", "lr_after"]
    preds = sorted({k for c in res.checkpoints for k in c.predicted_loss})
    lines = [",".join(cols + [f"loss_{k}" for k in preds])]
    for c in res.checkpoints:
        vals = [getattr(c, k) for k in cols] + [c.predicted_loss.get(k) for k in preds]
        lines.append(",".join("" if v is None else repr(v) if isinstance(v, float) else str(v) for v in vals))
    return "\n".join(lines) + "\n"


def plan(
    spec: Annotated[Path, typer.Argument(help="A multi-budget spec: budget.budgets and kind wsd or wsd-s.", show_default=False)],
    fmt: Annotated[PlanFormat, typer.Option("--format", "-f", help="table, json or csv.")] = PlanFormat.table,
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write the table/json/csv to FILE; with --export, the directory.")] = None,
    law: Annotated[Optional[str], typer.Option("--law", help="Loss law: a law.yaml from `lrplan fit`, or builtin:NAME (see `lrplan laws`).")] = None,
    no_law: Annotated[bool, typer.Option("--no-law", help="Skip loss predictions.")] = False,
    optimize: Annotated[bool, typer.Option("--optimize", help="Choose the decay fraction and shape per budget that minimise predicted loss.")] = False,
    export: Annotated[Optional[str], typer.Option("--export", help="Write one config per branch/segment for megatron, torchtitan or hf into -o DIR.")] = None,
    show_plot: Annotated[bool, typer.Option("--plot", help="Plot the run with its checkpoints marked.")] = False,
) -> None:
    """Plan WSD branch points or WSD-S checkpoints for several budgets: positions, compute, predicted loss.

    Example:

        lrplan plan schedules/wsd-s.yaml --optimize
    """
    from lrplan.planning.branches import make_plan
    from lrplan.spec.models import load_spec
    from lrplan.output.table import atomic_output

    if show_plot:  # a terminal too small for the plot: say so before writing anything
        from lrplan.cli.console import check_plot_room

        check_plot_room(max_height=30)
    s = load_spec(spec)
    predictor, law_name, warning = (None, None, None)
    if not no_law:
        from lrplan.laws.resolve import predictor_for

        predictor, law_name, warning = predictor_for(law, s, required=optimize or law is not None)
    from lrplan.cli import console

    try:
        res = make_plan(s, predictor, law_name, do_optimize=optimize)
    except SpecError as e:
        raise s.locate(e) from None
    except LrplanError as e:  # the default law cannot evaluate this spec: plan without predicted losses
        if predictor is None or optimize or law is not None:
            raise
        from rich.markup import escape

        console.stderr().print(f"[yellow]warning:[/yellow] no predicted losses: {escape(str(e))}", soft_wrap=True)
        res = make_plan(s, None, None, do_optimize=False)
    else:
        if warning:  # said once the plan succeeded: a failure is one error line
            from rich.markup import escape

            console.stderr().print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    if export:
        from lrplan.planning.launches import export_plan

        if not output:
            raise LrplanError("--export needs -o DIR: the directory to write the configs into")
        try:
            written = export_plan(s, res, export, Path(output))
        except SpecError as e:
            raise s.locate(e) from None
        from lrplan.cli import console

        err = console.stderr()
        for p in written:
            err.print(f"wrote {p}")
        return
    if fmt == PlanFormat.json:
        text = json.dumps(res.to_dict(), indent=2, sort_keys=True) + "\n"
    elif fmt == PlanFormat.csv:
        text = plan_csv(res)
    else:
        text = None
    if text is None and output and output != "-":  # the table as plain text (no colour) into the file
        import io

        from rich.console import Console

        buf = io.StringIO()
        print_plan(res, Console(file=buf, width=160, color_system=None, force_terminal=False, highlight=False))
        text = buf.getvalue()
    if text is not None:
        with atomic_output(output) as fh:
            fh.write(text.encode())
    else:
        from lrplan.cli import console

        print_plan(res, console.stdout())
    if show_plot:  # JSON/CSV on stdout stays parseable: the plot then goes to stderr (as render --plot does)
        _plot(s, res, sys.stderr if text is not None and output in (None, "-") else sys.stdout)


def _plot(s, res, stream) -> None:
    import numpy as np

    from lrplan.output.plot import Series, plan_series, plot_series
    from lrplan.cli.console import plot_size, want_color

    w, h = plot_size(None, None, max_height=30)
    if s.schedule.kind == "wsd-s":
        base = plan_series(s.schedule_plan(), s.name or "WSD-S run", w)
        marks = np.array([c.checkpoint_step for c in res.checkpoints], dtype=np.float64)
        series = [Series(base.label, base.x, base.y, marks)]
        edge_label = "checkpoint (decay ends)"
    else:
        from lrplan.planning.branches import wsd_branch_specs

        series = []
        edge_label = "branch point (decay starts)"
        for i, b in enumerate(wsd_branch_specs(s)):
            ser = plan_series(b.schedule_plan(), f"branch {i + 1}", w)
            series.append(Series(ser.label, ser.x, ser.y, np.array([res.checkpoints[i].branch_point_step], dtype=np.float64)))
    stream.write(plot_series(series, w, h, color=want_color(False, stream), x_label="step", title="plan",
                             edge_label=edge_label) + "\n")
