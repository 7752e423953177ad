"""The fit window: which points of each curve a fit uses.

Warmup steps (the initial LR ramp) are always dropped.  ``window="auto"`` also drops the early transient
(small/short runs show a plateau and a sharp transition before the power-law regime): the cheap linear-loss-drop
law "LLDL" ``L0 + A S1^-alpha - B (eta_0 - eta_t)`` (the multi-power law with ``G = 1``, as the official MPL code
seeds its fits) is fitted on the common tail ``[TAIL_FRACTION * T_min, end]`` (``T_min`` = shortest curve's last
step); every earlier post-warmup point whose log residual under that fit exceeds ``tau = max(TRANSIENT_K * tail
RMS, TRANSIENT_FLOOR)`` is transient, and the window starts after the last transient point (never later than the
tail start).  ``FittedLaw.window`` records the start, tail RMS and threshold.  The LLDL fit also seeds every law's
start grid (:meth:`lrplan.laws.base.FitModel.starts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from lrplan.errors import DataError
from lrplan.laws.objective import loss_and_grad
from lrplan.laws.optimise import lbfgs
from lrplan.laws.warmup import law_lr, warmup_length

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.laws.fitted import Curve

TAIL_FRACTION = 0.25
TRANSIENT_K = 10.0
TRANSIENT_FLOOR = 2e-3


def post_warmup(c: "Curve") -> int:
    """The last warmup step of a curve (its LR's peak): the fit uses only later steps."""
    return warmup_length(c.lr)


def lldl_features(c: "Curve", st: np.ndarray, warmup: str, shape: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """LR area ``S1`` at steps ``st`` and the LR drop since warmup ``eta_0 - eta_t`` (the LLDL law's inputs)."""
    area, drop = law_lr(c.lr[: int(st.max()) + 1], warmup, *shape)
    w = warmup_length(c.lr)
    return np.cumsum(area)[st], drop[w] - drop[st]


def lldl_fit(curves: "list[Curve]", starts: dict[str, int], delta: float, warmup: str,
             shape: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, float]:
    """Fit L0 + A S^-alpha - B (eta_0 - eta_t) (MPL with G = 1); returns theta and objective."""
    data = []
    for c in curves:
        m = c.steps >= starts[c.name]
        data.append((*lldl_features(c, c.steps[m], warmup, shape), c.loss[m]))
    ymin = min(float(d[2].min()) for d in data)

    def f(z: np.ndarray) -> tuple[float, np.ndarray]:
        L0, lA, alpha, lB = z
        A, B = np.exp(lA), np.exp(lB)
        tot, g = 0.0, np.zeros(4)
        for S, dd, y in data:
            pw = S ** (-alpha)
            pred = L0 + A * pw - B * dd
            J = np.column_stack([np.ones_like(S), A * pw, -A * pw * np.log(S), -B * dd])
            v, gg = loss_and_grad(pred, J, y, delta)
            tot += v
            g += gg
        return tot / delta**2, g / delta**2

    best: tuple[np.ndarray | None, float] = (None, np.inf)
    bounds = [(0.0, ymin), (-8, 5), (0.02, 2.0), (-5, 12)]
    for L0f in (0.5, 0.8, 0.95):
        for alpha in (0.3, 0.6):
            z0 = np.array([L0f * ymin, np.log(max(ymin * (1 - L0f), 1e-3)), alpha, np.log(300.0)])
            z, v = lbfgs(f, z0, bounds, 500)
            if v < best[1]:
                best = (z, v)
    zb = best[0]
    assert zb is not None
    return np.array([zb[0], np.exp(zb[1]), zb[2], np.exp(zb[3])]), best[1]


def lldl_residuals(curves: "list[Curve]", th: np.ndarray, warmup: str,
                   shape: tuple[float, float]) -> dict[str, np.ndarray]:
    out = {}
    for c in curves:
        S, dd = lldl_features(c, c.steps, warmup, shape)
        pred = th[0] + th[1] * S ** (-th[2]) - th[3] * dd
        out[c.name] = np.log(np.maximum(pred, 1e-6)) - np.log(c.loss)
    return out


def auto_window(curves: "list[Curve]", warmup: str, delta: float,
                shape: tuple[float, float] = (1.0, 1.0)) -> dict[str, Any]:
    """Earliest start from which the data follow the tail's power law (see module docstring)."""
    w = {c.name: post_warmup(c) for c in curves}
    t_min = min(int(c.steps.max()) for c in curves)
    w_max = max(w.values())
    s_tail = max(w_max + 1, int(TAIL_FRACTION * t_min))
    tail_starts = {c.name: max(s_tail, w[c.name] + 1) for c in curves}
    if any(int(np.sum(c.steps >= tail_starts[c.name])) < 5 for c in curves):
        return {"rule": "auto", "start": int(w_max + 1), "note": "too few points for the transient test"}
    th, _ = lldl_fit(curves, tail_starts, delta, warmup, shape)
    res = lldl_residuals(curves, th, warmup, shape)
    tail_r = np.concatenate([res[c.name][c.steps >= tail_starts[c.name]] for c in curves])
    rms = float(np.sqrt(np.mean(tail_r**2)))
    tau = max(TRANSIENT_K * rms, TRANSIENT_FLOOR)
    # latest post-warmup step (before the tail) whose residual exceeds tau, over all curves
    last_bad = w_max
    for c in curves:
        m = (c.steps > w[c.name]) & (c.steps < s_tail) & (np.abs(res[c.name]) > tau)
        if m.any():
            last_bad = max(last_bad, int(c.steps[m].max()))
    start = min(last_bad + 1, s_tail)
    return {"rule": "auto", "start": int(start), "tail_start": int(s_tail), "tail_rms_log": rms,
            "threshold_log": float(tau)}


def resolve_window(curves: "list[Curve]", window: Any, warmup: str, delta: float,
                   shape: tuple[float, float] = (1.0, 1.0)) -> dict[str, Any]:
    """The window record for ``window``: ``"auto"``, ``"post-warmup"``/``None``, or a start step."""
    if window == "auto":
        return auto_window(curves, warmup, delta, shape)
    if window is None or window == "post-warmup":
        return {"rule": "post-warmup", "start": int(max(post_warmup(c) for c in curves) + 1)}
    if isinstance(window, (int, np.integer)):
        return {"rule": "fixed", "start": int(window)}
    raise DataError(f"window must be 'auto', 'post-warmup', None or a start step (int), got {window!r}")
