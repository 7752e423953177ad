"""The generic fit driver: one registered law fitted jointly to observed curves (one parameter set for all).

:func:`fit` knows a law only through its :class:`~lrplan.laws.base.LawSpec` (registry) and the fit adapter
that ``LawSpec.fit_model`` returns (a :class:`~lrplan.laws.base.FitModel`):

1. the fit window (:mod:`lrplan.laws.window`; warmup steps are always dropped);
2. the objective (:mod:`lrplan.laws.objective`): Huber on log loss, ``delta = 1e-3``, optionally weighted by
   ``step**late_weight`` (normalised to mean 1) to emphasise the late part of the curves;
3. the optimiser (:mod:`lrplan.laws.optimise`): L-BFGS-B with analytic gradients from the law's start grid;
   a two-stage adapter (the multi-power law with ``rho="fit"``) then refines the best start in its full model.

A fit on curves without any post-warmup LR decrease cannot identify the annealing terms: only the other
parameters are fitted, the annealing amplitude is set to 0 and ``FittedLaw.flags`` says so.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np

from lrplan.errors import DataError
from lrplan.laws.base import FitModel, Prepared
from lrplan.laws.fitted import Curve, FittedLaw, predict
from lrplan.laws.metrics import curve_metrics
from lrplan.laws.objective import HUBER_DELTA, objective
from lrplan.laws.optimise import REFINE_ITERS, blas_single_thread, lbfgs, multistart
from lrplan.laws.registry import get_law
from lrplan.laws.warmup import WARMUP_CONVENTIONS, law_lr, warmup_length
from lrplan.laws.window import lldl_fit, post_warmup, resolve_window

__all__ = ["fit", "Curve", "FittedLaw", "predict", "HUBER_DELTA", "DEFAULT_LATE_WEIGHT"]

DEFAULT_LATE_WEIGHT = 0.0


@blas_single_thread()
def fit(curves: Sequence[Curve], law: str = "multi-power", window: Any = "auto", *, warmup: str | None = None,
        huber_delta: float = HUBER_DELTA, n_starts: int | None = None, late_weight: float | None = None,
        progress: Any = None, **options: Any) -> FittedLaw:
    """Jointly fit one law to ``curves`` and return a :class:`FittedLaw`.

    Args:
        curves: observed curves (each with its per-step LR from step 0).
        law: a registered law (:mod:`lrplan.laws.registry`): ``"multi-power"`` (Luo et al. 2025, arXiv
            2503.12811) or ``"momentum"`` (Tissue et al. 2024, arXiv 2408.11029), or an alias.
        window: ``"auto"`` (default; see :mod:`lrplan.laws.window`), ``"post-warmup"``/``None``, or a start step.
        warmup: warmup convention (default: the law's, ``"area"`` for MPL, ``"peak"`` for MTL).
        huber_delta: Huber threshold on log-loss residuals.
        n_starts: number of L-BFGS-B starts (default: the law's whole start grid).
        late_weight: exponent ``p`` of the per-point weights ``step**p`` (default ``DEFAULT_LATE_WEIGHT`` = 0).
        progress: an optional ``progress(stage, done, total)`` callback, called with ``"iterations"`` as the
            optimiser runs (for a progress bar; it does not change the fit).
        options: the law's own options (``None`` = the law's default): multi-power ``rho``, ``kappa`` (a number,
            default 0.8 / 0.7, or ``"fit"``; :func:`lrplan.laws.multipower.fit_model`); momentum ``fit_lambda``,
            ``lam`` (:func:`lrplan.laws.momentum.fit_model`).
    """
    spec = get_law(law)
    if isinstance(curves, (str, bytes, dict)) or not hasattr(curves, "__iter__"):
        raise DataError(f"fit takes a list of lrplan.laws.Curve, not {type(curves).__name__}")
    curves = list(curves)
    odd = [type(c).__name__ for c in curves if not isinstance(c, Curve)]
    if odd:
        raise DataError(f"fit takes a list of lrplan.laws.Curve; got {', '.join(sorted(set(odd)))}")
    if not curves:
        raise DataError("fit needs at least one curve")
    if len({c.name for c in curves}) != len(curves):
        raise DataError("curve names must be unique")
    conv = warmup or spec.default_warmup
    if conv not in WARMUP_CONVENTIONS:
        raise DataError(f"unknown warmup convention {conv!r}; choose from {WARMUP_CONVENTIONS}")
    options = {k: v for k, v in options.items() if v is not None}
    unknown = [k for k in options if k not in spec.options]
    if unknown:
        raise DataError(f"{', '.join(unknown)}: not an option of the {spec.name} law "
                         f"(its options: {', '.join(spec.options) or 'none'})")
    model = spec.fit_model(conv, **options)
    p_late = float(DEFAULT_LATE_WEIGHT if late_weight is None else late_weight)
    if not 0.0 <= p_late <= 4.0:
        raise DataError(f"late_weight must lie in [0, 4], got {p_late}")
    win = resolve_window(curves, window, conv, huber_delta, model.lr_shape)
    starts = {c.name: max(win["start"], post_warmup(c) + 1) for c in curves}
    sel = []
    for c in curves:
        m = c.steps >= starts[c.name]
        if m.sum() < 3:
            raise DataError(f"curve {c.name!r} has fewer than 3 points in the fit window (start {starts[c.name]})")
        sel.append((c, c.steps[m], c.loss[m]))
    win["per_curve"] = {c.name: [int(st[0]), int(st[-1]), int(st.size)] for c, st, _ in sel}
    annealing = any(_has_decrease(c, st, conv) for c, st, _ in sel)  # identifiability

    stage = model.screening_model()
    free = stage.free(annealing)
    flags: list[str] = []
    if not annealing and stage.annealing:
        kept = ", ".join(n for n, f in zip(stage.names, free) if f)
        flags.append("annealing-unidentifiable: no post-warmup LR decrease in the fitted curves; "
                     f"only {kept} were fitted and the annealing amplitude is 0")

    def prepare_all(m: FitModel) -> list[Prepared]:
        out = [m.prepare(c, st, y) for c, st, y in sel]
        if p_late > 0:  # late-point weights ~ step**p, normalised to mean 1 over all fitted points
            raw_w = [p.steps.astype(float) ** p_late for p in out]
            norm = sum(p.y.size for p in out) / sum(float(w.sum()) for w in raw_w)
            for p, w in zip(out, raw_w):
                p.w = w * norm
        return out

    data = prepare_all(stage)
    n_pts = sum(p.y.size for p in data)
    scale = 1.0 / (huber_delta**2 * n_pts)
    lldl, _ = lldl_fit(curves, starts, huber_delta, conv, model.lr_shape)
    th_starts = stage.starts(lldl, annealing)
    if n_starts is not None:
        th_starts = th_starts[: max(1, n_starts)]
    bounds = [b for b, f in zip(stage.bounds, free) if f]
    best_z, best_v = multistart(lambda z0: objective(stage, data, huber_delta, free, z0, scale),
                                [stage.z(th0) for th0 in th_starts], free, bounds, progress)
    if stage is not model:  # two stages: refine the screening model's optimum in the full model
        best_z = model.extend(best_z)
        if annealing:
            data, free = prepare_all(model), model.free(annealing)
            f = objective(model, data, huber_delta, free, best_z, scale)
            zf, best_v = lbfgs(f, best_z[free], [b for b, fr in zip(model.bounds, free) if fr], REFINE_ITERS)
            best_z = best_z.copy()
            best_z[free] = zf
    unc = _uncertainty(model, data, huber_delta, free, best_z, float(best_v), scale, curves, annealing)
    from lrplan.laws.bands import slow_kernel_flag

    slow = slow_kernel_flag(unc, max(int(c.steps.max()) + 1 for c in curves))
    if slow:
        flags.append(slow)
    th = model.theta(best_z)
    for name, v in model.fixed.items():
        th[model.names.index(name)] = v
    if not annealing and model.amplitude is not None:  # exactly 0: the annealing parameters are placeholders
        th[model.names.index(model.amplitude)] = 0.0
    # law.yaml layout: every law records fit_lambda (lrplan 0.1 files do; only the momentum law sets it)
    meta = {"huber_delta": huber_delta, "n_points": n_pts, "fit_lambda": False, "late_weight": p_late}
    meta.update(model.record)
    fl = FittedLaw(law=spec.name, params=model.params(th), warmup=conv, window=win, flags=tuple(flags),
                   objective=float(best_v), meta=meta, uncertainty=unc)
    mets = {c.name: curve_metrics(y, predict(fl, c.lr, st)) for c, st, y in sel}
    fl = dataclasses.replace(fl, metrics=mets)
    if fl.uncertainty.get("members"):
        from lrplan.laws.bands import cooldown_spread

        fl.uncertainty["unidentified"] = cooldown_spread(fl, max(curves, key=lambda c: int(c.steps.max())))
    return fl


def _has_decrease(c: Curve, st: np.ndarray, conv: str) -> bool:
    """Whether the curve's LR decreases after its warmup, at or before its last fitted step."""
    _, drop = law_lr(c.lr[: int(st.max()) + 1], conv)
    return bool(np.any(np.diff(drop[warmup_length(c.lr):]) < 0))


def _uncertainty(model: FitModel, data: list[Prepared], delta: float, free: np.ndarray, best_z: np.ndarray,
                 best_v: float, scale: float, curves: Sequence[Curve], annealing: bool) -> dict[str, Any]:
    """The ``uncertainty`` section of the law (:mod:`lrplan.laws.bands`): members along the annealing kernel's
    half-time, which a fit leaves undetermined; empty for a law without that kernel or without annealing data."""
    from lrplan.laws import bands

    if not annealing or not math.isfinite(best_v) or best_v <= 0:
        return {}
    centre = model.params(model.theta(best_z))
    rate = bands.mpl_rate(model.names, max(float(c.lr.max()) for c in curves), centre.get("rho", 1.0),
                          centre.get("kappa", 1.0))
    if rate is None:
        return {}
    f = objective(model, data, delta, free, best_z, scale)
    bounds = [b for b, fr in zip(model.bounds, free) if fr]
    longest = max(int(c.steps.max()) + 1 for c in curves)
    prof = bands.profile_members(f, best_z, best_v, free, bounds, rate, longest)
    fixed = model.fixed
    members = []
    for z, _, _ in prof:
        p = model.params(model.theta(z))
        p.update(fixed)
        members.append(p)
    out = bands.summary(centre, members, [v for _, v, _ in prof], [math.exp(h) / rate.area_per_step
                                                                   for _, _, h in prof],
                        best_v, bands.half_steps(best_z, rate))
    return out
