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


def _pm(v: float, band: "list[float] | None", lines: int = 1) -> str:
    """``3.2104 ± 0.0061``: the prediction and the larger distance to its 90 % band's ends, as ``predict`` prints
    it (:attr:`lrplan.laws.predicting.Predicted.half_width`; ``lines=2``: on a second line, for narrow tables)."""
    if not band:
        return f"{v:.4f}"
    return f"{v:.4f}{' ' if lines == 1 else chr(10)}± {max(band[1] - v, v - band[0], 0.0):.4f}"


def _best(c) -> str:  # type: ignore[no-untyped-def]
    """``WSD-S (≈ WSD)``: the lowest prediction, and the families within uncertainty of it."""
    if not c.best:
        return "-"
    return c.best[0] + (f"\n≈ {', '.join(c.best[1:])}" if len(c.best) > 1 else "")


def print_plan(res: "PlanResult", console) -> None:
    wsds = res.kind == "wsd-s"
    title = "WSD-S: checkpoints in the single run" if wsds else "WSD: a decay branch off the stable trunk per budget"
    preds = sorted({k for c in res.checkpoints for k in c.predicted_loss})
    # too wide for the terminal (an 80-column one): no cell padding, headers on two lines, numbers never fold
    t = (_fitting(console, lambda narrow: _checkpoint_table(res, preds, title, wsds, narrow)) if preds
         else _checkpoint_table(res, preds, title, wsds, False))
    console.print(t)
    _plan_footer(res, console, wsds)


def _fitting(console, build):  # type: ignore[no-untyped-def]
    """``build(False)``, the padded table, if it fits the console's width, else ``build(True)``, the narrow one."""
    from rich.measure import Measurement

    t = build(False)
    if Measurement.get(console, console.options.update_width(10_000), t).maximum > console.width:
        t = build(True)
    return t


def _checkpoint_table(res: "PlanResult", preds: list, title: str, wsds: bool, narrow: bool):
    """The checkpoint table (``narrow``: no padding, two-line headers)."""
    from rich.table import Table

    t = Table(title=title, title_justify="left", header_style="bold", padding=(0, 0) if narrow else (0, 1))
    cols = ["#", "budget", "decay", "decay start" if wsds else "branch at", "checkpoint", "tokens seen"]
    cols += [] if preds else ["LR last update"]  # with predictions the LR goes to the caption, the losses here
    for col in cols:
        t.add_column(col.replace(" ", "\n") if narrow else col, justify="right", no_wrap=bool(preds))
    for k in preds:
        t.add_column(f"loss\n{k}", justify="right", no_wrap=True)
    if preds:
        t.add_column("best", justify="left", overflow="fold")
    for c in res.checkpoints:
        budget = _si(c.budget_tokens) if c.budget_tokens is not None else f"{c.budget_steps:,}"
        seen = _si(c.checkpoint_tokens) if c.checkpoint_tokens is not None else f"{c.checkpoint_step:,} steps"
        row = [str(c.index), budget, f"{c.decay_steps:,}", f"{c.decay_start_step:,}", f"{c.checkpoint_step:,}", seen]
        row += [] if preds else [_fmt_lr(c.lr_last_update)]
        row += [_pm(c.predicted_loss[k], c.predicted_band.get(k), 2) if k in c.predicted_loss else "-" for k in preds]
        row += [_best(c)] if preds else []
        t.add_row(*row)
    return t


def _optimize_table(res: "PlanResult", within: bool, lines: int):
    """The ``--optimize`` table (``lines=2``: each ``±`` on a second line, for narrow terminals)."""
    from rich.table import Table

    ot = Table(title=f"--optimize (law: {res.law})", title_justify="left", header_style="bold")
    for col in ["#", "decay", "shape", "predicted loss", "as written", "gain"] + (["within uncertainty"] if within else []):
        ot.add_column(col, justify="left" if col == "within uncertainty" else "right", overflow="fold",
                      no_wrap=col in ("predicted loss", "gain"))
    for o in res.optimized:
        row = [str(o.index), f"{o.decay_fraction:.0%}", o.decay_shape, _pm(o.predicted_loss, o.predicted_band, lines),
               f"{o.spec_loss:.4f}", f"{o.gain:+.4f}" + (" tie" if o.written_within else "")]
        if within:
            row.append(_within(o))
        ot.add_row(*row)
    return ot


def _plan_footer(res: "PlanResult", console, wsds: bool) -> None:
    from rich.table import Table

    first = res.checkpoints[0]
    banded = any(c.predicted_band for c in res.checkpoints)
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
        within = any(o.fractions_within for o in res.optimized)
        # narrow: the ± on its own line, never folded
        console.print(_fitting(console, lambda narrow: _optimize_table(res, within, 2 if narrow else 1)))
        console.print("[dim]gain: the loss as written minus the optimum's predicted loss (positive: the optimum is "
                      "lower)[/dim]", soft_wrap=not console.is_terminal)
        if within:
            console.print("[dim]within uncertainty: the decay fractions and shapes whose difference to the best "
                          "one's predicted loss has a 90 % band (paired members) that contains 0: the law cannot "
                          "choose among them" + ("; tie: the spec's own decay is one of them, so the law cannot vouch "
                          "for its gain" if any(o.written_within for o in res.optimized) else "") + "[/dim]",
                          soft_wrap=not console.is_terminal)
    if res.law:
        console.print(f"predicted loss from law {res.law}" + (" (± the 90 % band); best: the lowest, ≈ the families "
                      "within uncertainty of it (the band of their difference contains 0)" if banded else ""),
                      soft_wrap=not console.is_terminal)
    for n in res.notes:
        console.print(f"[yellow]note:[/yellow] {n}", soft_wrap=not console.is_terminal)


def plan_csv(res: "PlanResult") -> str:
    cols = ["index", "budget_steps", "budget_tokens", "decay_start_step", "decay_start_tokens", "checkpoint_step",
            "checkpoint_tokens", "decay_steps", "branch_point_step", "lr_decay_start", "lr_last_update", "lr_after"]
    preds = sorted({k for c in res.checkpoints for k in c.predicted_loss})
    banded = sorted({k for c in res.checkpoints for k in c.predicted_band})
    head = cols + [f"loss_{k}" for k in preds] + [f"loss_{k}_{e}" for k in banded for e in ("lo", "hi")]
    lines = [",".join(head + (["best"] if preds else []))]
    for c in res.checkpoints:
        vals = [getattr(c, k) for k in cols] + [c.predicted_loss.get(k) for k in preds]
        vals += [(c.predicted_band.get(k) or [None, None])[j] for k in banded for j in (0, 1)]
        vals += ["|".join(c.best)] if preds else []
        lines.append(",".join("" if v is None else repr(v) if isinstance(v, float) else str(v) for v in vals))
    return "\n".join(lines) + "\n"


def _within(o) -> str:  # type: ignore[no-untyped-def]
    """``10%..30% (linear, cosine)``: the optimiser's range of decay fractions within uncertainty of the best."""
    if not o.fractions_within:
        return "-"
    a, b = o.fractions_within
    frac = f"{a:.0%}" if a == b else f"{a:.0%}..{b:.0%}"
    from lrplan.planning.losses import SHAPES

    shapes = "any shape" if set(o.shapes_within) == set(SHAPES) else ", ".join(o.shapes_within)
    return f"{frac} ({shapes})"


def plan_text(res: "PlanResult", width: int = 160) -> str:
    """The tables of :func:`print_plan` as plain text (no colour), for a file."""
    import io

    from rich.console import Console

    buf = io.StringIO()
    print_plan(res, Console(file=buf, width=width, color_system=None, force_terminal=False, highlight=False))
    return buf.getvalue()
