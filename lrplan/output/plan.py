"""``lrplan plan``'s output: the checkpoint, compute and --optimize tables (rich), and the CSV form."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.planning.planner import PlanResult


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
        t.add_column(col, justify="right", overflow="fold")
    for k in preds:
        t.add_column(f"loss {k}", justify="right", overflow="fold")
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
    console.print(f"[dim]steps are optimizer updates; checkpoint = updates done. {how}.[/dim]", soft_wrap=not console.is_terminal)
    ct = Table(title="compute for the same budgets", title_justify="left", header_style="bold")
    for col in ["strategy", "steps", "tokens", "FLOPs 6ND", "GPU-h", "note"]:
        ct.add_column(col, justify="left" if col in ("strategy", "note") else "right", overflow="fold")
    for c in res.costs:
        ct.add_row(c.strategy, f"{c.steps:,}", _si(c.tokens), "-" if c.flops is None else f"{c.flops:.3g}",
                   "-" if c.gpu_hours is None else f"{c.gpu_hours:,.0f}", c.note)
    console.print(ct)
    if res.optimized:
        ot = Table(title=f"--optimize (law: {res.law})", title_justify="left", header_style="bold")
        for col in ["#", "decay", "shape", "predicted loss", "as written", "gain"]:
            ot.add_column(col, justify="right", overflow="fold")
        for o in res.optimized:
            ot.add_row(str(o.index), f"{o.decay_fraction:.0%}", o.decay_shape, f"{o.predicted_loss:.4f}", f"{o.spec_loss:.4f}", f"{o.gain:+.4f}")
        console.print(ot)
    if res.law:
        console.print(f"predicted loss from law {res.law}")
    for n in res.notes:
        console.print(f"[yellow]note:[/yellow] {n}", soft_wrap=not console.is_terminal)


def plan_csv(res: "PlanResult") -> str:
    cols = ["index", "budget_steps", "budget_tokens", "decay_start_step", "decay_start_tokens", "checkpoint_step",
            "checkpoint_tokens", "decay_steps", "branch_point_step", "lr_decay_start", "lr_last_update", "lr_after"]
    preds = sorted({k for c in res.checkpoints for k in c.predicted_loss})
    lines = [",".join(cols + [f"loss_{k}" for k in preds])]
    for c in res.checkpoints:
        vals = [getattr(c, k) for k in cols] + [c.predicted_loss.get(k) for k in preds]
        lines.append(",".join("" if v is None else repr(v) if isinstance(v, float) else str(v) for v in vals))
    return "\n".join(lines) + "\n"


def plan_text(res: "PlanResult", width: int = 160) -> str:
    """The tables of :func:`print_plan` as plain text (no colour), for a file."""
    import io

    from rich.console import Console

    buf = io.StringIO()
    print_plan(res, Console(file=buf, width=width, color_system=None, force_terminal=False, highlight=False))
    return buf.getvalue()
