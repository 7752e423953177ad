"""Values a spec may hold but almost surely does not mean: warnings, each ``file:line: field: what, and the fix``.

A warning never changes the schedule; ``lrplan check`` and the commands that load a spec print them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lrplan.errors import spec_error

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.spec.models import Spec

MAX_PLAUSIBLE_LR = 1.0  # Adam pretraining LRs are 1e-5..1e-2; above 1 is a typo (3e4 for 3e-4) or another optimiser
MAX_PLAUSIBLE_STEPS = 10**9  # a billion optimizer updates: 100x the longest published pretraining runs
MAX_PLAUSIBLE_TOKENS = 10**15  # a quadrillion tokens: 30x the largest published pretraining corpora


def lint(spec: "Spec") -> list[str]:
    """Warnings for ``spec``, located in its file when it has one."""
    out: list[tuple[tuple, str]] = []
    peak = spec.schedule.peak()
    if peak > MAX_PLAUSIBLE_LR:
        hint = f" (3e4 for 3e-4 loses the minus sign)" if peak >= 100 else ""
        field = "peak_lr" if hasattr(spec.schedule, "peak_lr") else ""
        out.append((("schedule", field) if field else ("schedule",),
                    f"a peak LR of {peak:g} is far above the LRs used to pretrain language models (1e-5 to 1e-2); "
                    f"a typo?{hint}"))
    plan = spec.schedule_plan()
    b = spec.budget
    where = ("budget", "steps" if b.steps is not None else "tokens" if b.tokens is not None else "budgets")
    if plan.total_steps > MAX_PLAUSIBLE_STEPS:
        bare = b.steps is not None or (b.budgets and any(getattr(x, "unit", "") == "steps" for x in b.budgets))
        out.append((where, f"{plan.total_steps:.3g} optimizer updates is far longer than any pretraining run"
                    + ("; a bare count such as 100B is read as steps: for tokens write '100B tokens' (or budget.tokens)"
                       if bare else "")))
    if plan.has_tokens:
        import numpy as np

        tokens = int(plan.tokens_at(np.array([plan.total_steps]))[0])
        if tokens > MAX_PLAUSIBLE_TOKENS and plan.total_steps <= MAX_PLAUSIBLE_STEPS:
            out.append((where, f"{tokens:.3g} tokens is far beyond any pretraining corpus; check the budget and "
                               "tokens per step"))
    return [str(spec.locate(spec_error(path, msg))) for path, msg in out]
