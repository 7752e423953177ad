"""``lrplan predict`` without ``--law``: the shape comparison (:class:`lrplan.laws.shapes.ShapeComparison`) as
one rich table per group of schedules with the same peak LR and budget, and the lines that say what it means."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.laws.shapes import ShapeComparison


def _signed(r) -> str:  # type: ignore[no-untyped-def]
    half = 0.0 if r.lo == r.hi == 0.0 else max(r.hi - r.delta, r.delta - r.lo, 0.0)  # the same run: no band
    d = 0.0 if abs(r.delta) < 5e-5 else r.delta  # never "-0.0000"
    return f"{d:+.4f}" + (f" ± {half:.4f}" if half > 0 else "")


def _verdict(r) -> str:  # type: ignore[no-untyped-def]
    if r.lo == r.hi == 0.0:
        return "the same as the reference"
    if r.lo <= 0.0 <= r.hi:
        return "within uncertainty of the reference"
    if r.lo == r.hi:  # no band (a law without members)
        return "better" if r.delta < 0 else "worse"
    return "better" if r.hi < 0 else "worse"


def shape_lines(c: "ShapeComparison", law: str, reference_model: str | None, builtin: bool = True) -> list[str]:
    """The notes around the tables: what is compared, and why groups are not ranked against each other
    (``builtin``: the default law, not one the user fitted)."""
    model = f" ({reference_model})" if reference_model else ""
    head = (f"final loss relative to {c.reference}, under law {law} with each schedule's length mapped onto its "
            f"{c.regime.steps:,}-step regime (the LR kept)")
    out = [head + (f"; absolute losses belong to the law's reference model{model}, not to yours" if builtin else
                   "; the law was fitted at one peak LR or length and these schedules differ in it, so they are "
                   "compared as shapes (-o writes each one's own, unmapped curve)")]
    if len(c.groups) > 1:
        fix = ("fit a law on your runs at several peak LRs or lengths (`lrplan fit`) and pass it with --law" if builtin
               else "fit the law on runs at several peak LRs or lengths")
        out.append(f"the {len(c.groups)} groups (different peak LR or budget) are not ranked against each other: the "
                   f"law was fitted at peak LR {c.regime.peak_lr:.3g} on runs of up to {c.regime.steps:,} steps, so it "
                   f"cannot say which peak LR or budget is better; for that, {fix}")
    return out


def print_shapes(c: "ShapeComparison", console) -> None:  # type: ignore[no-untyped-def]
    """One table per group: rank, schedule, difference to the reference ± its 90 % band, verdict."""
    from rich.table import Table

    for g in c.groups:
        tied = c.tied_with_best(g)
        t = Table(title=f"peak LR {g.peak_lr:.3g}, {g.steps:,} steps", title_justify="left", header_style="bold")
        for col, just in (("#", "right"), ("schedule", "left"), ("vs reference", "right"), ("", "left")):
            t.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
        order = c.ranked(g)
        for k, i in enumerate(order, 1):
            r = c.relative[i]
            note = _verdict(r)
            if i in tied:
                note += f"; within uncertainty of {c.names[order[0]]}"
            rank = "1=" if (i in tied or (k == 1 and tied)) else str(k)
            t.add_row(rank, c.names[i], _signed(r), note)
        console.print(t)


def relative_line(c: "ShapeComparison", i: int) -> str:
    """One schedule against its reference, in a line (``predict`` of one spec)."""
    r = c.relative[i]
    return f"{c.names[i]} vs {c.reference}: {_signed(r)} ({_verdict(r)})"
