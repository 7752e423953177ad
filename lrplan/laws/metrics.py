"""Per-curve fit-quality metrics, computed as in the Multi-Power-Law repository (arXiv 2503.12811,
``thu-yao-01-luo/MultiPowerLaw`` ``src/evaluation.py``): R2 (sklearn definition), MAE, RMSE,
PredE = mean relative error, WorstE = max relative error; averaged over curves by the caller.
"""

from __future__ import annotations

import numpy as np

METRIC_NAMES: tuple[str, ...] = ("r2", "mae", "rmse", "pred_e", "worst_e")


def r2(y: np.ndarray, y_hat: np.ndarray) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot (1.0 for a perfect fit; 0.0 if y is constant and fit exact)."""
    y, y_hat = np.asarray(y, float), np.asarray(y_hat, float)
    ss_res = float(np.sum((y - y_hat) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def mae(y: np.ndarray, y_hat: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(y, float) - np.asarray(y_hat, float))))


def rmse(y: np.ndarray, y_hat: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(y_hat, float)) ** 2)))


def pred_e(y: np.ndarray, y_hat: np.ndarray) -> float:
    """PredE: mean of |y - y_hat| / y."""
    y = np.asarray(y, float)
    return float(np.mean(np.abs(y - np.asarray(y_hat, float)) / y))


def worst_e(y: np.ndarray, y_hat: np.ndarray) -> float:
    """WorstE: max of |y - y_hat| / y (also the brief's "max relative error")."""
    y = np.asarray(y, float)
    return float(np.max(np.abs(y - np.asarray(y_hat, float)) / y))


def curve_metrics(y: np.ndarray, y_hat: np.ndarray) -> dict[str, float]:
    """All metrics of one curve as a plain dict (keys: ``METRIC_NAMES``)."""
    return {"r2": r2(y, y_hat), "mae": mae(y, y_hat), "rmse": rmse(y, y_hat),
            "pred_e": pred_e(y, y_hat), "worst_e": worst_e(y, y_hat)}


def mean_metrics(per_curve: dict[str, dict[str, float]]) -> dict[str, float]:
    """Average each metric over curves (the MPL paper's Table 1 convention)."""
    if not per_curve:
        return {}
    return {k: float(np.mean([m[k] for m in per_curve.values()])) for k in METRIC_NAMES}


METRIC_COLUMNS: tuple[str, ...] = ("R²", "MAE", "RMSE", "max rel err")
"""The columns of a fit-quality table (``lrplan fit``, ``lrplan laws NAME``), as :func:`metric_cells` fills them."""


def metric_cells(m: dict[str, float]) -> list[str]:
    """One curve's :data:`METRIC_COLUMNS` cells: R² to 5 decimals, MAE and RMSE to 4, max rel err in % ('-' if
    missing)."""
    def g(k: str, fmt: str) -> str:
        v = m.get(k)
        return format(v, fmt) if isinstance(v, (int, float)) else "-"
    return [g("r2", ".5f"), g("mae", ".4f"), g("rmse", ".4f"), g("worst_e", ".3%")]
