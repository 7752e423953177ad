"""Compute of the strategies a multi-budget plan compares: WSD (trunk + branches), WSD-S (one run), cyclic
cosine and one cosine run per budget, in steps, tokens, FLOPs (6·N·D) and GPU-hours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lrplan.planning.branches import Checkpoint
from lrplan.spec.models import Spec


@dataclass
class Cost:
    strategy: str
    steps: int
    tokens: Optional[int]
    flops: Optional[float]
    gpu_hours: Optional[float]
    note: str = ""


def costs(spec: Spec, cps: list[Checkpoint]) -> list[Cost]:
    """Total compute of WSD (trunk + branches), WSD-S (one run), cyclic cosine, and one cosine run per budget."""
    budgets = [c.budget_steps for c in cps]
    decays = [c.decay_steps for c in cps]
    trunk = budgets[-1] - decays[-1]
    wsd_steps = trunk + sum(decays)
    wsds_steps = cps[-1].checkpoint_step if spec.schedule.kind == "wsd-s" else wsd_steps
    rows = [
        ("WSD (trunk + branches)", wsd_steps, f"trunk to {trunk:,}, branches run in parallel"),
        ("WSD-S (one run)", wsds_steps, "sequential: one job"),
        ("cyclic cosine", budgets[-1], "one run, a cosine cycle per budget"),
        ("cosine per budget", sum(budgets), f"{len(budgets)} separate runs"),
    ]
    clock = spec.schedule_plan().clock
    model = spec.model
    out = []
    for name, steps, note in rows:
        tokens = None
        if clock is not None:
            if name.startswith("cosine per"):
                tokens = int(sum(int(clock.tokens_before(b)) for b in budgets))
            elif name.startswith("WSD ("):
                tokens = int(clock.tokens_before(trunk)) + sum(
                    int(clock.tokens_before(b) - clock.tokens_before(b - d)) for b, d in zip(budgets, decays)
                )
            else:
                tokens = int(clock.tokens_before(steps))
        flops = 6.0 * model.params * tokens if model and model.params and tokens is not None else None
        hours = None
        if model and model.tokens_per_second and tokens is not None:
            hours = tokens / model.tokens_per_second / 3600.0 * (model.gpus or 1)
        out.append(Cost(name, steps, tokens, flops, hours, note))
    return out
