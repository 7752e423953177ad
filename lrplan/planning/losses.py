"""Predicted losses of a plan's checkpoints (WSD, WSD-S, cosine per budget) with a loss law, and
``--optimize``: the decay fraction and shape per budget with the lowest predicted loss."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrplan.errors import LrplanError
from lrplan.planning.branches import Checkpoint, Predictor, budget_spec, cosine_specs, wsd_branch_specs
from lrplan.spec.models import Spec


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
                        p = budget_spec(spec, spec.budget.budgets[i], sched).schedule_plan()
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
