"""WSD branch points and WSD-S checkpoints for several budgets (``lrplan plan``).

WSD (Hu et al. 2024; Hägele et al. 2024) trains one stable trunk and branches a decay off it for each budget:
branch ``i`` leaves the trunk at ``s_i = B_i - d_i`` and ends at ``B_i``; total compute
``(B_k - d_k) + sum_i d_i``. WSD-S (Wen et al. 2024, arXiv 2410.05192) runs the decays inside one run:
checkpoint ``i`` lands at ``C_i = (B_i - d_i) + sum_{j<=i} d_j`` — with ``d_i = f B_i`` this is
``(1-f) B_i + f sum_{j<=i} B_j``, the same total compute as WSD (schedules.md §13).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from lrplan.errors import LrplanError, spec_error
from lrplan.spec.models import Replace, Spec

Predictor = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(per-step LR, query steps) -> loss; a law's :class:`lrplan.laws.resolve.Predictor` also reads runs as
:class:`lrplan.laws.history.History` (no rendering; see :mod:`lrplan.planning.losses`)."""


@dataclass
class Checkpoint:
    """One budget's checkpoint. Steps are 0-based update indices; ``checkpoint_step`` = updates done."""

    index: int
    budget_steps: int
    decay_start_step: int
    checkpoint_step: int
    decay_steps: int
    branch_point_step: Optional[int]  # WSD: the trunk step the branch leaves from
    lr_decay_start: float
    lr_last_update: float
    lr_after: Optional[float]  # WSD-S: the LR the run continues with after the checkpoint
    budget_tokens: Optional[int] = None
    decay_start_tokens: Optional[int] = None
    checkpoint_tokens: Optional[int] = None
    predicted_loss: dict[str, float] = field(default_factory=dict)
    predicted_band: dict[str, list[float]] = field(default_factory=dict)
    """Per family, the 90 % band ``[lo, hi]`` of ``predicted_loss`` (:mod:`lrplan.laws.bands`)."""
    best: list[str] = field(default_factory=list)
    """The family with the lowest predicted loss, followed by those within uncertainty of it (a tie)."""


def budget_spec(spec: Spec, length: Any, schedule: dict[str, Any], base: "Spec | None" = None) -> Spec:
    """A single-budget spec with the same tokens per step / batch schedule and model as ``spec``. ``base``:
    :func:`single_budget` of ``spec``, for many budgets (deriving from it does not re-read the whole list)."""
    if length.unit == "tokens":
        budget: dict[str, Any] = {"tokens": int(length.value)}
    elif length.unit == "samples":
        budget = {"tokens": int(length.value) * (spec.budget.seq_len or 1)}
    else:
        budget = {"steps": int(length.value)}
    budget["budgets"] = None
    if base is not None:
        budget.setdefault("steps", None)
        budget.setdefault("tokens", None)
    if spec.budget.batch_schedule is not None:  # changes after this budget do not apply
        clock = spec.budget.make_clock()
        horizon = budget["tokens"] if budget.get("tokens") is not None else int(clock.tokens_before(budget["steps"]))
        written = _written_batches(spec)
        if written:
            keep = [i == 0 or bp.tokens(spec.budget.seq_len, clock) < horizon
                    for i, bp in enumerate(spec.budget.batch_schedule)]
            budget["batch_schedule"] = [bp for bp, k in zip(written, keep) if k]
    return (base or spec).derive(budget=budget, schedule=Replace(schedule))


def _written_batches(spec: Spec) -> Any:
    return spec.model_dump(mode="json", by_alias=True, exclude_none=True)["budget"].get("batch_schedule")


def single_budget(spec: Spec) -> Spec:
    """``spec`` without its list of budgets (its last budget as the one budget): what :func:`budget_spec`
    derives each budget's spec from when there are many (the whole list is validated once, not per budget)."""
    last = (spec.budget.budgets or [None])[-1]
    if last is None or getattr(last, "unit", None) == "percent":
        return spec
    one: dict[str, Any] = {"budgets": None}
    if last.unit in ("tokens", "samples"):
        one["tokens"] = int(last.value) * ((spec.budget.seq_len or 1) if last.unit == "samples" else 1)
    else:
        one["steps"] = int(last.value)
    try:
        return spec.derive(budget=one)
    except LrplanError:  # pragma: no cover - the full spec validated; keep deriving from it
        return spec


def _sched(spec: Spec) -> dict[str, Any]:
    return spec.model_dump(mode="json", by_alias=True, exclude_none=True)["schedule"]


def wsd_branch_specs(spec: Spec) -> list[Spec]:
    """For ``kind: wsd`` with budgets: the full WSD run (trunk + this budget's decay) for every budget."""
    sched = _sched(spec)
    sched["kind"] = "wsd"
    base = single_budget(spec)
    return [budget_spec(spec, length, sched, base) for length in spec.budget.budgets or []]


def cosine_specs(spec: Spec) -> list[Spec]:
    """One cosine run per budget with the same peak, floor and warmup (the usual baseline)."""
    s = spec.schedule
    base = {"kind": "cosine", "peak_lr": s.peak_lr, "min_lr": getattr(s, "floor", 0.0), "warmup": str(s.warmup),
            "warmup_shape": s.warmup_shape, "warmup_init_lr": s.warmup_init_lr}
    one = single_budget(spec)
    return [budget_spec(spec, length, dict(base), one) for length in spec.budget.budgets or []]


def percent_warmup(spec: Spec) -> bool:
    """The warmup is a percentage (of the run the spec describes)."""
    return getattr(getattr(spec.schedule, "warmup", None), "unit", None) == "percent"


def check_plannable(spec: Spec) -> None:
    """Raise the :class:`SpecError` that ``lrplan plan`` gives for a spec it cannot plan at all."""
    if spec.schedule.kind not in ("wsd", "wsd-s"):
        raise spec_error(("schedule", "kind"), f"lrplan plan plans wsd or wsd-s schedules, not {spec.schedule.kind!r}")
    if not spec.budget.budgets:
        raise spec_error(("budget",), "lrplan plan needs budget.budgets: a list of token or step budgets, e.g. [52B tokens, 105B tokens]")
    if spec.schedule.kind == "wsd" and len(spec.budget.budgets) > 1 and percent_warmup(spec):
        raise spec_error(("schedule", "warmup"), f"warmup {getattr(spec.schedule, 'warmup')} is ambiguous with several "
                         "budgets: the WSD branches share one trunk, so it cannot be a percentage of each; give it in "
                         "steps or tokens (e.g. warmup: 2000)")


def checkpoints(spec: Spec) -> list[Checkpoint]:
    """The per-budget table for WSD (branches) or WSD-S (positions in the single run)."""
    check_plannable(spec)
    out: list[Checkpoint] = []
    if spec.schedule.kind == "wsd-s":
        plan = spec.schedule_plan()
        decays = [s for s in plan.segments if s.phase.startswith("decay")]
        budgets = _budget_steps(spec)
        for i, seg in enumerate(decays):
            lr = plan.lr_at(np.array([seg.start, seg.end - 1]))
            after = float(plan.lr_at(np.array([seg.end]))[0]) if seg.end < plan.total_steps else None
            out.append(Checkpoint(i + 1, budgets[i], seg.start, seg.end, seg.length, None, float(lr[0]), float(lr[1]), after))
        _add_tokens(out, plan)
        return out
    for i, bspec in enumerate(wsd_branch_specs(spec)):
        plan = bspec.schedule_plan()
        seg = plan.segments[-1]
        if seg.phase != "decay":  # e.g. decay: 0 -- a branch with no decay is the trunk itself
            raise spec_error(("schedule", "decay"), f"the decay for budget {i + 1} ({plan.total_steps:,} steps) is "
                             "shorter than one step: a WSD branch needs a decay (e.g. decay: 10%)")
        lr = plan.lr_at(np.array([seg.start, seg.end - 1]))
        cp = Checkpoint(i + 1, plan.total_steps, seg.start, seg.end, seg.length, seg.start, float(lr[0]), float(lr[1]), None)
        _add_tokens([cp], plan)
        out.append(cp)
    return out


def _budget_steps(spec: Spec) -> list[int]:
    """Budgets in steps (each as long as a run of that budget on its own)."""
    return [budget_spec(spec, length, {"kind": "constant", "peak_lr": 1.0}).schedule_plan().total_steps
            for length in spec.budget.budgets or []]


def _add_tokens(cps: list[Checkpoint], plan) -> None:
    if not plan.has_tokens:
        return
    for c in cps:
        t = plan.tokens_at(np.array([c.budget_steps if c.budget_steps <= plan.total_steps else plan.total_steps, c.decay_start_step, c.checkpoint_step]))
        c.budget_tokens, c.decay_start_tokens, c.checkpoint_tokens = (int(x) for x in t)
