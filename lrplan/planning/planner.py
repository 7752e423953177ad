"""The plan as a whole: :class:`PlanResult` (checkpoints, costs, predictions, warnings), :func:`make_plan`,
and the public :func:`lrplan.plan`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from lrplan.errors import LrplanError, SpecError
from lrplan.planning.branches import Checkpoint, Predictor, checkpoints
from lrplan.planning.costs import Cost, costs
from lrplan.planning.losses import Optimized, optimize, predictions
from lrplan.spec.loading import load_spec
from lrplan.spec.models import Spec


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


def make_plan(spec: Spec, predict: Predictor | None = None, law_name: str | None = None, do_optimize: bool = False,
              progress: Any = None) -> PlanResult:
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
        res.notes += predictions(spec, cps, predict, progress)
        if do_optimize:
            res.optimized = optimize(spec, cps, predict, progress=progress)
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
            from lrplan.laws.resolve import Predictor

            predict, name = Predictor(law), law.law  # unchecked, as law.predict
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


def plan_with_law(spec: Spec, law: str | None = None, *, use_law: bool = True, optimize: bool = False,
                  progress: Any = None) -> PlanResult:
    """``lrplan plan``: the plan with predicted losses from ``law`` (a law.yaml or ``builtin:NAME``; ``None``:
    the default built-in law). With the default law, a spec it cannot evaluate is planned without predictions
    and a warning says why; a named law (or ``optimize``) that cannot evaluate it is an error. Warnings (outside
    the law's fitted range, no predictions) are in ``PlanResult.warnings``."""
    predict = name = warning = None
    if use_law:
        from lrplan.laws.resolve import predictor_for

        predict, name, warning = predictor_for(law, spec, required=optimize or law is not None)
    try:
        res = make_plan(spec, predict, name, do_optimize=optimize, progress=progress)
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
        if law is None and predict is not None and res.law:  # the built-in law: like predict's shape notes
            model = (predict.res.meta.get("reference_model") if getattr(predict, "res", None) is not None else None)
            res.notes.append("absolute losses belong to the built-in law's reference model"
                             + (f" ({model})" if model else "") + ", not to yours: compare the families and "
                             "decays within a budget; for your model's losses, fit a law on your runs (`lrplan fit`) "
                             "and pass it with --law")
    return res
