"""``lrplan check``: validate a spec and summarise it."""

from __future__ import annotations

from lrplan.cli import console
from lrplan.cli.console import SpecArg


def check(spec: SpecArg) -> None:
    """Validate a spec and summarise it: phases with their steps, tokens and LRs at the boundaries.

    Example:

        lrplan check schedules/wsd-s.yaml
    """
    from lrplan.output.summary import print_summary
    from lrplan.planning.planner import plan_refusal

    from lrplan.output.plot import sparkline

    s = console.load(spec)
    out = console.stdout()
    print_summary(s, out)
    plan = s.schedule_plan()
    head, tail = f"LR 0..{s.schedule.peak():.3g}  ", f"  {plan.total_steps:,} steps"
    width = max(10, min(60, out.width - len(head) - len(tail) - 1))
    out.print(f"{head}[cyan]{sparkline(plan, width)}[/cyan]{tail}", soft_wrap=True)
    refusal = plan_refusal(s)
    if refusal:
        console.warn(f"lrplan plan would refuse this spec: {refusal}")
    out.print("[green]ok[/green]")
