"""Multi-budget planning (``lrplan plan``): WSD branch points and WSD-S checkpoints, costs, predicted loss.

WSD (Hu et al. 2024; Hägele et al. 2024) trains one stable trunk and branches a decay off it for each budget:
branch ``i`` leaves the trunk at ``s_i = B_i - d_i`` and ends at ``B_i``; total compute
``(B_k - d_k) + sum_i d_i``. WSD-S (Wen et al. 2024, arXiv 2410.05192) runs the decays inside one run:
checkpoint ``i`` lands at ``C_i = (B_i - d_i) + sum_{j<=i} d_j`` — with ``d_i = f B_i`` this is
``(1-f) B_i + f sum_{j<=i} B_j``, the same total compute as WSD (schedules.md §13).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from lrplan.errors import LrplanError, SpecError, spec_error
from lrplan.spec.loading import load_spec
from lrplan.spec.models import Replace, Spec

Predictor = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (per-step LR, query steps) -> loss


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


@dataclass
class Cost:
    strategy: str
    steps: int
    tokens: Optional[int]
    flops: Optional[float]
    gpu_hours: Optional[float]
    note: str = ""


@dataclass
class Optimized:
    index: int
    decay_fraction: float
    decay_shape: str
    predicted_loss: float
    spec_loss: float

    @property
    def gain(self) -> float:
        return self.spec_loss - self.predicted_loss


@dataclass
class PlanResult:
    kind: str
    checkpoints: list[Checkpoint]
    costs: list[Cost]
    law: Optional[str] = None
    optimized: list[Optimized] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Plain-text warnings for the caller to show (e.g. the spec is outside the law's fitted range)."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("warnings")
        for o, oo in zip(d["optimized"], self.optimized):
            o["gain"] = oo.gain
        return d


def _budget_spec(spec: Spec, length: Any, schedule: dict[str, Any]) -> Spec:
    """A single-budget spec with the same tokens per step / batch schedule and model as ``spec``."""
    if length.unit == "tokens":
        budget: dict[str, Any] = {"tokens": int(length.value)}
    elif length.unit == "samples":
        budget = {"tokens": int(length.value) * (spec.budget.seq_len or 1)}
    else:
        budget = {"steps": int(length.value)}
    budget["budgets"] = None
    if spec.budget.batch_schedule is not None:  # changes after this budget do not apply
        clock = spec.budget.make_clock()
        horizon = budget["tokens"] if "tokens" in budget else int(clock.tokens_before(budget["steps"]))
        written = spec.model_dump(mode="json", by_alias=True, exclude_none=True)["budget"].get("batch_schedule")
        if written:
            keep = [i == 0 or bp.tokens(spec.budget.seq_len, clock) < horizon
                    for i, bp in enumerate(spec.budget.batch_schedule)]
            budget["batch_schedule"] = [bp for bp, k in zip(written, keep) if k]
    return spec.derive(budget=budget, schedule=Replace(schedule))


def _sched(spec: Spec) -> dict[str, Any]:
    return spec.model_dump(mode="json", by_alias=True, exclude_none=True)["schedule"]


def wsd_branch_specs(spec: Spec) -> list[Spec]:
    """For ``kind: wsd`` with budgets: the full WSD run (trunk + this budget's decay) for every budget."""
    sched = _sched(spec)
    sched["kind"] = "wsd"
    return [_budget_spec(spec, length, sched) for length in spec.budget.budgets or []]


def cosine_specs(spec: Spec) -> list[Spec]:
    """One cosine run per budget with the same peak, floor and warmup (the usual baseline)."""
    s = spec.schedule
    base = {"kind": "cosine", "peak_lr": s.peak_lr, "min_lr": getattr(s, "floor", 0.0), "warmup": str(s.warmup),
            "warmup_shape": s.warmup_shape, "warmup_init_lr": s.warmup_init_lr}
    return [_budget_spec(spec, length, dict(base)) for length in spec.budget.budgets or []]


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
        assert seg.phase == "decay"
        lr = plan.lr_at(np.array([seg.start, seg.end - 1]))
        cp = Checkpoint(i + 1, plan.total_steps, seg.start, seg.end, seg.length, seg.start, float(lr[0]), float(lr[1]), None)
        _add_tokens([cp], plan)
        out.append(cp)
    return out


def _budget_steps(spec: Spec) -> list[int]:
    """Budgets in steps (each as long as a run of that budget on its own)."""
    return [_budget_spec(spec, length, {"kind": "constant", "peak_lr": 1.0}).schedule_plan().total_steps
            for length in spec.budget.budgets or []]


def _add_tokens(cps: list[Checkpoint], plan) -> None:
    if not plan.has_tokens:
        return
    for c in cps:
        t = plan.tokens_at(np.array([c.budget_steps if c.budget_steps <= plan.total_steps else plan.total_steps, c.decay_start_step, c.checkpoint_step]))
        c.budget_tokens, c.decay_start_tokens, c.checkpoint_tokens = (int(x) for x in t)


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


def _finite(v: float, what: str) -> float:
    if not np.isfinite(v):
        raise LrplanError(f"the loss law gives a non-finite loss for {what}; it cannot evaluate this schedule")
    return float(v)


def _predict_final(predict: Predictor, plan) -> float:
    """Predicted loss after the run's last update."""
    n = plan.total_steps
    return _finite(float(predict(plan.render().lr, np.array([n - 1]))[0]), f"a run of {n:,} steps")


def predictions(spec: Spec, cps: list[Checkpoint], predict: Predictor) -> None:
    """Fill ``predicted_loss`` of each checkpoint for WSD, WSD-S and cosine-per-budget."""
    kind = spec.schedule.kind
    if kind == "wsd-s":
        plan = spec.schedule_plan()
        lr = plan.render().lr
        q = np.array([c.checkpoint_step - 1 for c in cps])
        for c, v in zip(cps, predict(lr, q)):
            c.predicted_loss["WSD-S"] = _finite(float(v), f"WSD-S checkpoint {c.index}")
        branches = wsd_branch_specs(_as_wsd(spec))
    else:
        branches = wsd_branch_specs(spec)
        wsds = _as_wsds(spec)
        if wsds is not None:
            plan = wsds.schedule_plan()
            decs = [s for s in plan.segments if s.phase.startswith("decay")]
            vals = predict(plan.render().lr, np.array([s.end - 1 for s in decs]))
            for c, v in zip(cps, vals):
                c.predicted_loss["WSD-S"] = _finite(float(v), f"WSD-S checkpoint {c.index}")
    for c, b in zip(cps, branches):
        p = b.schedule_plan()
        c.predicted_loss["WSD"] = _predict_final(predict, p)
    for c, b in zip(cps, cosine_specs(spec)):
        p = b.schedule_plan()
        c.predicted_loss["cosine"] = _predict_final(predict, p)


def _as_wsd(spec: Spec) -> Spec:
    return spec.derive(schedule={"kind": "wsd", "rewarmup": None})


def _as_wsds(spec: Spec) -> Spec | None:
    try:
        return spec.derive(schedule={"kind": "wsd-s"})
    except LrplanError:
        return None


SHAPES = ("linear", "cosine", "1-sqrt", "sqrt-cube", "1-square")
FRACTIONS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def optimize(spec: Spec, cps: list[Checkpoint], predict: Predictor,
             fractions: tuple[float, ...] = FRACTIONS, shapes: tuple[str, ...] = SHAPES) -> list[Optimized]:
    """Per budget, the decay fraction and shape (from the grid) with the lowest predicted loss at the checkpoint.
    WSD: each branch on its own. WSD-S: greedily in budget order, earlier choices fixed (they shape the run)."""
    base = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    kind = base["schedule"]["kind"]
    out: list[Optimized] = []
    chosen: list[tuple[float, str]] = []
    for i, cp in enumerate(cps):
        best: tuple[float, float, str] | None = None
        spec_loss = cp.predicted_loss.get("WSD-S" if kind == "wsd-s" else "WSD")
        for f in fractions:
            for shape in shapes:
                try:
                    if kind == "wsd":
                        sched = dict(base["schedule"], decay=f"{f * 100:g}%", decay_shape=shape)
                        p = _budget_spec(spec, spec.budget.budgets[i], sched).schedule_plan()
                        loss = _predict_final(predict, p)
                    else:
                        loss = _wsds_loss_with(spec, base, chosen + [(f, shape)], i, predict)
                except LrplanError:
                    continue
                if best is None or loss < best[0]:
                    best = (loss, f, shape)
        if best is None:
            if kind == "wsd-s":  # later decays are laid out after this one: the greedy search cannot go on
                break
            continue
        chosen.append((best[1], best[2]))
        if spec_loss is None:  # pragma: no cover - predictions() always fills it
            continue
        out.append(Optimized(i + 1, best[1], best[2], best[0], spec_loss))
    return out


def _wsds_loss_with(spec: Spec, base: dict, choices: list[tuple[float, str]], i: int, predict: Predictor) -> float:
    """Predicted loss at checkpoint ``i`` of the spec's WSD-S run cut after budget ``i``, whose decays use
    ``choices`` (fraction of their budget, shape); built by the WSD-S family itself (warmup shape, rewarmup)."""
    from lrplan.spec.units import Length

    budgets = base["budget"]["budgets"]
    last = i + 1 == len(budgets)
    sp = spec.derive(budget={"budgets": budgets[: i + 1]})
    decays = [(Length(float(f"{f * 100:g}"), "percent"), shape) for f, shape in choices]  # as "decay: 10%" reads
    # an earlier checkpoint ends its decay as inside the whole run (a tail after it), the last one as the run ends
    sp = sp.with_schedule(sp.schedule.with_decays(decays, probe_tail=not last))
    plan = sp.schedule_plan()
    end = next(s.end for s in plan.segments if s.phase == f"decay{i + 1}")  # checkpoint i, as in the whole run
    lr = plan.render().lr[:end]
    return _finite(float(predict(lr, np.array([end - 1]))[0]), f"a WSD-S run of {end:,} steps")


def make_plan(spec: Spec, predict: Predictor | None = None, law_name: str | None = None, do_optimize: bool = False) -> PlanResult:
    """The whole plan: checkpoints, costs, and (with a law) predicted losses and the optimised decays."""
    cps = checkpoints(spec)
    res = PlanResult(spec.schedule.kind, cps, costs(spec, cps), law=law_name)
    res.notes = list(spec.schedule_plan().notes)
    budgets = [c.budget_steps for c in cps]
    for i in range(1, len(budgets)):
        d = cps[i].decay_steps
        if budgets[i] - budgets[i - 1] < d and spec.schedule.kind == "wsd-s":
            res.notes.append(
                f"budget {i + 1} is only {budgets[i] - budgets[i - 1]:,} steps after budget {i}: its stable stretch "
                f"is shorter than its decay ({d:,} steps)"
            )
    if predict is not None:
        predictions(spec, cps, predict)
        if do_optimize:
            res.optimized = optimize(spec, cps, predict)
    elif do_optimize:
        raise LrplanError("--optimize needs a loss law (built-in or --law)")
    return res


def plan(spec: "Spec | str | dict", law: Any = None, optimize: bool = False) -> PlanResult:
    """Python API for ``lrplan plan``: ``lrplan.plan("wsd-s.yaml")`` → :class:`PlanResult` (checkpoints, costs,
    and with ``law`` — a FittedLaw, a law.yaml path or ``"builtin:NAME"`` — predicted losses; ``optimize``
    searches the decay fraction and shape per budget)."""
    s = spec if isinstance(spec, Spec) else load_spec(spec)
    predict = name = warning = None
    if law is not None:
        from lrplan.laws import FittedLaw

        if isinstance(law, FittedLaw):
            predict, name = law.predict, law.law
        else:
            from lrplan.laws.resolve import predictor_for

            predict, name, warning = predictor_for(str(law), s, required=True)
    try:
        res = make_plan(s, predict, name, do_optimize=optimize)
    except SpecError as e:  # name the spec's file and line, as the CLI does
        raise s.locate(e) from None
    if warning:
        res.warnings.append(warning)
    return res


def plan_refusal(spec: Spec) -> str | None:
    """Why ``lrplan plan`` would refuse this multi-budget WSD / WSD-S spec although its run is well defined
    (e.g. a branch shorter than warmup + decay), as ``file:line: field: what``; ``None`` if it would not."""
    if not (spec.budget.budgets and len(spec.budget.budgets) > 1 and getattr(spec.schedule, "kind", None) in ("wsd", "wsd-s")):
        return None
    try:
        make_plan(spec, None, None)
    except SpecError as e:
        return str(spec.locate(e))
    return None


def plan_with_law(spec: Spec, law: str | None = None, *, use_law: bool = True, optimize: bool = False) -> PlanResult:
    """``lrplan plan``: the plan with predicted losses from ``law`` (a law.yaml or ``builtin:NAME``; ``None``:
    the default built-in law). With the default law, a spec it cannot evaluate is planned without predictions
    and a warning says why; a named law (or ``optimize``) that cannot evaluate it is an error. Warnings (outside
    the law's fitted range, no predictions) are in ``PlanResult.warnings``."""
    predict = name = warning = None
    if use_law:
        from lrplan.laws.resolve import predictor_for

        predict, name, warning = predictor_for(law, spec, required=optimize or law is not None)
    try:
        res = make_plan(spec, predict, name, do_optimize=optimize)
    except SpecError as e:
        raise spec.locate(e) from None
    except LrplanError as e:  # the default law cannot evaluate this spec: plan without predicted losses
        if predict is None or optimize or law is not None:
            raise
        res = make_plan(spec, None, None, do_optimize=False)
        res.warnings.append(f"no predicted losses: {e}")
    else:
        if warning:  # said once the plan succeeded: a failure is one error line
            res.warnings.append(warning)
    return res
