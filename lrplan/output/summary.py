"""Human-facing summaries rendered with rich (only the CLI imports this)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lrplan.output.numfmt import format_float
from lrplan.spec.units import si

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from lrplan.schedules.render import SchedulePlan
    from lrplan.spec.models import Spec


def phase_rows(plan: "SchedulePlan") -> list[dict]:
    """One dict per phase: name, first/last step, tokens at start, steps, LR at first/last step."""
    segs = plan.segments
    firsts = np.array([s.start for s in segs], dtype=np.int64)
    lasts = np.array([s.end - 1 for s in segs], dtype=np.int64)
    lr_first = plan.lr_at(firsts)
    lr_last = plan.lr_at(lasts)
    tok = plan.tokens_at(firsts) if plan.has_tokens else None
    rows = []
    for i, s in enumerate(segs):
        rows.append(
            {
                "phase": s.phase,
                "start": s.start,
                "end": s.end,
                "steps": s.end - s.start,
                "tokens_start": int(tok[i]) if tok is not None else None,
                "lr_first": float(lr_first[i]),
                "lr_last": float(lr_last[i]),
            }
        )
    return rows


def print_summary(spec: "Spec", console: "Console", title: str | None = None) -> None:
    from rich.table import Table

    plan = spec.schedule_plan()
    sched = spec.schedule
    t = Table(title=title or f"{spec.source or 'spec'}: {sched.kind}", title_justify="left", header_style="bold")
    t.add_column("phase", overflow="fold")
    t.add_column("steps", justify="right", overflow="fold")
    t.add_column("first..last", justify="right", overflow="fold")
    if plan.has_tokens:
        t.add_column("tokens at start", justify="right", overflow="fold")
    t.add_column("LR first", justify="right", overflow="fold")
    t.add_column("LR last", justify="right", overflow="fold")
    for r in phase_rows(plan):
        cells = [r["phase"], f"{r['steps']:,}", f"{r['start']:,}..{r['end'] - 1:,}"]
        if plan.has_tokens:
            cells.append(si(r["tokens_start"]))
        cells += [f"{r['lr_first']:.4g}", f"{r['lr_last']:.4g}"]
        t.add_row(*cells)
    console.print(t)
    total = f"total: {plan.total_steps:,} steps"
    if plan.has_tokens:
        tot = int(plan.tokens_at(np.array([plan.total_steps]))[0])
        per = f"{plan.tokens_per_step:,} per step" if plan.tokens_per_step else "variable batch"
        total += f", {si(tot)} tokens ({tot:,}; {per})"
    if plan.variable_batch:
        assert plan.clock is not None  # variable batch = a batch clock
        starts = plan.clock.starts[plan.clock.starts < plan.total_steps]
        sizes = [int(v) for v in plan.batch_at(starts)]
        if len(set(sizes)) == 1:  # e.g. a batch_schedule change after this run's end
            batch = f"batch {sizes[0]} sequences throughout"
        elif len(sizes) <= 5:
            batch = "batch " + " -> ".join(map(str, sizes)) + " sequences"
        else:
            batch = (f"batch {sizes[0]} -> {sizes[-1]} sequences in {len(sizes)} steps of the batch schedule "
                     f"(min {min(sizes)}, max {max(sizes)})")
        total += f"; {batch}; progress on the {plan.unit} clock"
    console.print(total)
    last = plan.lr_at(np.array([plan.total_steps - 1]))[0]
    console.print(f"peak LR {sched.peak():.4g}; last update's LR {format_float(float(last))}")
    for note in plan.notes:
        console.print(f"[yellow]note:[/yellow] {note}", soft_wrap=not console.is_terminal)
