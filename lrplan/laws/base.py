"""What a law module provides: one :class:`LawSpec` (``LAW``) and a fit adapter (a :class:`FitModel` subclass).

The generic driver (:func:`lrplan.laws.driver.fit`), :class:`~lrplan.laws.fitted.FittedLaw` and the loss floor
(:func:`lrplan.laws.resolve.loss_floor`) know a law only through these two; see "Adding a loss law" in
:mod:`lrplan.laws`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

Domain = tuple[float, float, bool, bool]
"""``(low, high, low excluded, high excluded)``: where a parameter's formula means something (a law file outside
it is refused; wider than the fit's bounds)."""


@dataclass(frozen=True)
class LawSpec:
    """A loss law as the rest of lrplan sees it (one per law module, ``LAW = LawSpec(...)``)."""

    name: str
    """The registered name (``"multi-power"``), as written in law files."""
    params: tuple[str, ...]
    """The parameters a law file must give, in law-file order."""
    defaults: Mapping[str, float]
    """Parameters a law file may leave out, with the value :attr:`predict` then uses."""
    domains: Mapping[str, Domain]
    """Every parameter's domain (required and optional ones)."""
    default_warmup: str
    """The warmup convention (:mod:`lrplan.laws.warmup`) when the caller gives none."""
    predict: Callable[[Mapping[str, float], np.ndarray, np.ndarray, str], np.ndarray]
    """``predict(params, lr, steps, warmup)``: the loss at ``steps`` (``params`` has every parameter)."""
    loss_bound: Callable[[Mapping[str, float], float, "np.ndarray | None"], float]
    """``loss_bound(params, peak, lr)``: a loss no schedule whose LR stays at or below ``peak`` can go under
    (``lr``, when given, is the schedule's own LR: a law may use it for a tighter bound)."""
    fit_model: Callable[..., "FitModel"]
    """``fit_model(warmup, **options)``: the fit adapter for these options (``ValueError`` on a bad value)."""
    options: tuple[str, ...] = ()
    """The options :attr:`fit_model` accepts (``lrplan.laws.fit(..., **options)``)."""
    predict_history: "Callable[[Mapping[str, float], Any, np.ndarray, str], np.ndarray] | None" = None
    """``predict_history(params, history, steps, warmup)``: the loss at ``steps`` of a run given as a
    :class:`lrplan.laws.history.History`, without holding every update's LR (``None``: the law reads the whole
    per-step LR array, so the run must fit in memory). :meth:`lrplan.laws.FittedLaw.predict_history` uses it for
    runs longer than :data:`lrplan.laws.fitted.EXACT_STEPS`."""
    predict_finals: "Callable[[Mapping[str, float], Any, str], np.ndarray] | None" = None
    """``predict_finals(params, histories, warmup)``: :attr:`predict_history` at the last step of each of many
    runs at once (``None``: one by one)."""
    curve: "Callable[[Mapping[str, float], Any, Any, str], Any] | None" = None
    """``curve(params, history, query_steps, warmup)``: ``(steps, lr, loss)`` blocks in step order for many query
    steps (``predict -o``) in memory that does not grow with the run (``None``: the whole LR array is read)."""

    @property
    def all_params(self) -> tuple[str, ...]:
        """Required then optional parameters: everything a law file may contain."""
        return self.params + tuple(k for k in self.defaults if k not in self.params)


@dataclass
class Prepared:
    """One curve's data at its fitted steps, as the law's :meth:`FitModel.value_jac` needs it."""

    name: str
    steps: np.ndarray
    y: np.ndarray
    S: np.ndarray
    extra: Any
    w: np.ndarray | None = None  # per-point objective weights (None = 1)


class FitModel(abc.ABC):
    """A law's fit adapter: the parameter vector ``theta`` (``names``), its optimisation coordinates ``z``
    (``log`` of the positive coefficients at ``log_idx``) with box ``bounds`` on ``z``, the per-curve data and the
    value with its analytic Jacobian, the start grid, and what the fit records.

    The driver freezes the ``annealing`` parameters at their start values when no fitted curve has an LR decrease
    (they cannot be identified) and then sets ``amplitude`` to exactly 0; parameters in ``fixed`` are never
    optimised and end at their given value.
    """

    names: tuple[str, ...]
    log_idx: tuple[int, ...]
    bounds: list[tuple[float | None, float | None]]
    annealing: tuple[str, ...] = ()
    amplitude: str | None = None
    lr_shape: tuple[float, float] = (1.0, 1.0)
    """``(rho, kappa)`` of the cheap LLDL law the automatic window and the start grid fit (multi-power: its own)."""

    @property
    def fixed(self) -> dict[str, float]:
        """Parameters held at a given value (not optimised)."""
        return {}

    @abc.abstractmethod
    def prepare(self, c: Any, steps: np.ndarray, y: np.ndarray) -> Prepared:
        """Per-curve data the law needs (LR-sum tables, drop events) at the fitted steps."""

    @abc.abstractmethod
    def value_jac(self, th: np.ndarray, p: Prepared) -> tuple[np.ndarray, np.ndarray]:
        """Predicted loss at the fitted steps and its Jacobian with respect to ``th``."""

    @abc.abstractmethod
    def starts(self, lldl: np.ndarray, annealing: bool) -> list[np.ndarray]:
        """Start parameter vectors (``theta``), seeded by the LLDL fit ``(L0, A, alpha, B)`` of
        :func:`lrplan.laws.window.lldl_fit`; ``annealing``: whether the curves identify the annealing terms."""

    def free(self, annealing: bool) -> np.ndarray:
        """Which parameters the optimiser moves."""
        fixed = self.fixed
        return np.array([n not in fixed and (annealing or n not in self.annealing) for n in self.names], dtype=bool)

    def screening_model(self) -> "FitModel":
        """The model the multi-start runs on (a cheaper one for a two-stage fit; see :meth:`extend`)."""
        return self

    def extend(self, z: np.ndarray) -> np.ndarray:
        """The screening model's optimum ``z`` as this model's start (two-stage fits)."""
        return z

    def params(self, th: np.ndarray) -> dict[str, float]:
        """The fitted parameters as recorded in the law file."""
        return {n: float(v) for n, v in zip(self.names, th)}

    @property
    def record(self) -> dict[str, Any]:
        """Law-specific entries of ``FittedLaw.meta`` (how it was fitted)."""
        return {}

    def theta(self, z: np.ndarray) -> np.ndarray:
        th = z.copy()
        th[list(self.log_idx)] = np.exp(z[list(self.log_idx)])
        return th

    def z(self, theta: np.ndarray) -> np.ndarray:
        z = np.asarray(theta, float).copy()
        z[list(self.log_idx)] = np.log(np.maximum(z[list(self.log_idx)], 1e-300))
        return z

    def dtheta_dz(self, z: np.ndarray) -> np.ndarray:
        d = np.ones_like(z)
        d[list(self.log_idx)] = np.exp(z[list(self.log_idx)])
        return d


def domain_text(lo: float, hi: float, lo_open: bool, hi_open: bool) -> str:
    """``[0, inf)``."""
    return f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def in_domain(v: float, d: Domain) -> bool:
    lo, hi, lo_open, hi_open = d
    return not (v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi))

