"""The fit objective: the sum over all fitted points of ``Huber_delta(log L_hat - log L)`` with ``delta = 1e-3``
(Tissue et al. arXiv 2408.11029 Eq. 6; Luo et al. arXiv 2503.12811 App. D.2), with its analytic gradient.

>>> import numpy as np
>>> [round(float(v), 12) for v in huber(np.array([0.0, 1e-4, -1.0]), 1e-3)[0]]
[0.0, 5e-09, 0.0009995]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.laws.base import FitModel, Prepared

HUBER_DELTA = 1e-3


def huber(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Huber loss and its derivative."""
    a = np.abs(r)
    quad = a <= delta
    val = np.where(quad, 0.5 * r * r, delta * (a - 0.5 * delta))
    der = np.where(quad, r, delta * np.sign(r))
    return val, der


def loss_and_grad(pred: np.ndarray, J: np.ndarray, y: np.ndarray, delta: float,
                  w: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Huber loss of the log residuals of ``pred`` (Jacobian ``J``) against ``y``, and its gradient."""
    ok = pred > 1e-6
    safe = np.where(ok, pred, 1e-6)
    r = np.log(safe) - np.log(y)
    v, d = huber(r, delta)
    if w is not None:
        v, d = v * w, d * w
    g = (d * ok / safe) @ J
    return float(v.sum()), g


def objective(model: "FitModel", data: "list[Prepared]", delta: float, free: np.ndarray,
              z_fixed: np.ndarray, scale: float) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``f(z_free) -> (value, gradient)`` over all curves, in the model's coordinates ``z`` (the parameters not
    ``free`` stay at ``z_fixed``), times ``scale``."""
    def f(zf: np.ndarray) -> tuple[float, np.ndarray]:
        z = z_fixed.copy()
        z[free] = zf
        th = model.theta(z)
        tot, g = 0.0, np.zeros(z.size)
        for p in data:
            pred, J = model.value_jac(th, p)
            v, gg = loss_and_grad(pred, J, p.y, delta, p.w)
            tot += v
            g += gg
        g = g * model.dtheta_dz(z)
        return tot * scale, g[free] * scale
    return f
