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
    from lrplan.spec.loading import load_spec

    s = load_spec(spec)
    print_summary(s, console.stdout())
    refusal = plan_refusal(s)
    if refusal:
        console.warn(f"lrplan plan would refuse this spec: {refusal}")
    console.stdout().print("[green]ok[/green]")
