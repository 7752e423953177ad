"""Fit an annealing law to observed loss curves (joint fit over curves that share one parameter set).

Objective (Tissue et al. arXiv 2408.11029 Eq. 6; Luo et al. arXiv 2503.12811 App. D.2): the sum over all
fitted points of ``Huber_delta(log L_hat - log L)`` with ``delta = 1e-3``, minimised with scipy L-BFGS-B and
ANALYTIC gradients from a small grid of starts (MPL: starts seeded by the linear-loss-drop law "LLDL",
``L0 + A S1^-alpha - B (eta_0 - eta_t)``, as the official MPL code does).  Positive coefficients are optimised in
log space; exponents are box-bounded.

Fit window: warmup steps (the initial LR ramp) are always dropped.  ``window="auto"`` also drops the early
transient (small/short runs show a plateau and a sharp transition before the power-law regime): the cheap LLDL
law is fitted on the common tail ``[TAIL_FRACTION * T_min, end]`` (``T_min`` = shortest curve's last step);
every earlier post-warmup point whose log residual under that fit exceeds ``tau = max(TRANSIENT_K * tail RMS,
TRANSIENT_FLOOR)`` is transient, and the window starts after the last transient point (never later than the
tail start).  ``FittedLaw.window`` records the start, tail RMS and threshold.

Options for the multi-power law: ``rho``/``kappa`` fixed (defaults ``multipower.DEFAULT_RHO/KAPPA`` = 0.8 / 0.7;
how they were chosen is documented in :mod:`lrplan.laws.multipower`) or ``"fit"`` (fitted jointly, bounded to
``SHAPE_BOUNDS``: the usual multi-start 7-parameter fit at ``SHAPE_INIT``, then one 9-parameter L-BFGS-B
refinement with analytic d/drho, d/dkappa; ~2-5x slower).  ``late_weight = p`` weights each point's Huber term by
``step**p`` (normalised to mean 1), emphasising the late part of the curves (default 0 = unweighted).

A fit on curves without any post-warmup LR decrease cannot identify the annealing terms: only
``L0, A, alpha`` are fitted, the annealing amplitude is set to 0 and ``FittedLaw.flags`` says so.
"""

from __future__ import annotations

import abc

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from lrplan.laws import metrics as _metrics
from lrplan.laws import momentum as _mtl
from lrplan.laws import multipower as _mpl
from lrplan.laws._drops import block_terms, events
from lrplan.laws.warmup import WARMUP_CONVENTIONS, law_lr, split_lr, warmup_length

HUBER_DELTA = 1e-3
DEFAULT_LATE_WEIGHT = 0.0
SHAPE_INIT = (0.85, 0.9)
SHAPE_BOUNDS = (0.5, 1.0)
TAIL_FRACTION = 0.25
TRANSIENT_K = 10.0
TRANSIENT_FLOOR = 2e-3
LAW_ALIASES = {"multi-power": "multi-power", "mpl": "multi-power", "momentum": "momentum", "mtl": "momentum"}


@dataclass(frozen=True)
class Curve:
    """One observed loss curve: ``loss[i]`` measured at global step ``steps[i]``; ``lr`` per step from step 0."""

    name: str
    steps: np.ndarray
    loss: np.ndarray
    lr: np.ndarray

    def __post_init__(self) -> None:
        steps = np.asarray(self.steps).astype(np.int64)
        loss = np.asarray(self.loss, dtype=float)
        lr = np.asarray(self.lr, dtype=float)
        if steps.shape != loss.shape or steps.ndim != 1 or steps.size == 0:
            raise ValueError(f"curve {self.name!r}: steps and loss must be equal-length 1-D arrays")
        if steps.max() >= lr.size or steps.min() < 0:
            raise ValueError(f"curve {self.name!r}: lr (len {lr.size}) must cover steps 0..{steps.max()}")
        if not np.all(np.isfinite(loss)) or np.any(loss <= 0):
            raise ValueError(f"curve {self.name!r}: loss must be finite and positive")
        order = np.argsort(steps, kind="stable")
        object.__setattr__(self, "steps", steps[order])
        object.__setattr__(self, "loss", loss[order])
        object.__setattr__(self, "lr", lr)


# (low, high, low excluded, high excluded): where the formulas mean something (wider than the fit's bounds)
PARAM_DOMAINS: dict[str, tuple[float, float, bool, bool]] = {
    "L0": (0.0, np.inf, False, True), "A": (0.0, np.inf, False, True), "alpha": (0.0, np.inf, True, True),
    "B": (0.0, np.inf, False, True), "C": (0.0, np.inf, False, True), "beta": (0.0, np.inf, True, True),
    "gamma": (0.0, np.inf, False, True), "rho": (0.0, 2.0, True, False), "kappa": (0.0, 2.0, True, False),
    "lam": (0.0, 1.0, False, True),
}


@dataclass(frozen=True)
class FittedLaw:
    """A fitted law: name, parameters, warmup convention, fit window and per-curve fit metrics."""

    law: str
    params: dict[str, float]
    warmup: str
    window: dict[str, Any]
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    objective: float = float("nan")
    meta: dict[str, Any] = field(default_factory=dict)

    def predict(self, lr: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Predicted loss at ``steps`` for the per-step LR array ``lr``."""
        return predict(self, lr, steps)

    def to_dict(self) -> dict[str, Any]:
        """Plain-python dict (YAML/JSON-safe)."""
        return {"law": self.law, "params": {k: float(v) for k, v in self.params.items()}, "warmup": self.warmup,
                "window": _plain(self.window), "metrics": _plain(self.metrics), "flags": list(self.flags),
                "objective": float(self.objective), "meta": _plain(self.meta)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FittedLaw":
        law = LAW_ALIASES.get(str(d["law"]))
        if law is None:
            raise ValueError(f"unknown law {d['law']!r}; choose from {sorted(set(LAW_ALIASES.values()))}")
        names = _mpl.PARAM_NAMES if law == "multi-power" else _mtl.PARAM_NAMES
        params = {str(k): float(v) for k, v in d["params"].items()}
        missing = [n for n in names if n not in params and not (n == "lam")]
        if missing:
            raise ValueError(f"law {law!r}: missing params {missing}")
        allowed = names + (_mpl.SHAPE_NAMES if law == "multi-power" else ())
        unknown = [k for k in params if k not in allowed]
        if unknown:
            raise ValueError(f"law {law!r} has no parameter {unknown[0][:40]!r} (its parameters: {', '.join(allowed)})")
        for k, v in params.items():
            lo, hi, lo_open, hi_open = PARAM_DOMAINS[k]
            if v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
                raise ValueError(f"parameter {k} = {v:g} is outside its domain "
                                 f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}")
        if d.get("warmup") not in WARMUP_CONVENTIONS:
            raise ValueError(f"unknown warmup convention {d.get('warmup')!r}; choose from {WARMUP_CONVENTIONS}")
        return cls(law=law, params=params, warmup=str(d["warmup"]), window=dict(d.get("window", {})),
                   metrics={k: dict(v) for k, v in d.get("metrics", {}).items()},
                   flags=tuple(d.get("flags", ())), objective=float(d.get("objective", float("nan"))),
                   meta=dict(d.get("meta", {})))


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x)
    if isinstance(x, (np.integer, int)) and not isinstance(x, bool):
        return int(x)
    return x


def predict(law: FittedLaw, lr: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Predict with a :class:`FittedLaw` (dispatch on ``law.law``)."""
    if law.law == "multi-power":
        names = _mpl.PARAM_NAMES + _mpl.SHAPE_NAMES
        return _mpl.predict(_mpl.MPLParams(**{k: law.params[k] for k in names if k in law.params}), lr, steps,
                            warmup=law.warmup)
    p = {k: law.params[k] for k in _mtl.PARAM_NAMES if k in law.params}
    return _mtl.predict(_mtl.MTLParams(**p), lr, steps, warmup=law.warmup)


# ----------------------------------------------------------------------------------------------- objective
def huber(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Huber loss and its derivative."""
    a = np.abs(r)
    quad = a <= delta
    val = np.where(quad, 0.5 * r * r, delta * (a - 0.5 * delta))
    der = np.where(quad, r, delta * np.sign(r))
    return val, der


def _loss_and_grad(pred: np.ndarray, J: np.ndarray, y: np.ndarray, delta: float,
                   w: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    ok = pred > 1e-6
    safe = np.where(ok, pred, 1e-6)
    r = np.log(safe) - np.log(y)
    v, d = huber(r, delta)
    if w is not None:
        v, d = v * w, d * w
    g = (d * ok / safe) @ J
    return float(v.sum()), g


# --------------------------------------------------------------------------------------------- the laws
@dataclass
class _Prepared:
    name: str
    steps: np.ndarray
    y: np.ndarray
    S: np.ndarray
    extra: Any
    w: np.ndarray | None = None  # per-point objective weights (None = 1)


class _LawModel(abc.ABC):
    """Parameterisation z <-> theta with analytic chain rule, per-curve data and value/Jacobian."""

    names: tuple[str, ...]
    log_idx: tuple[int, ...]
    bounds: list[tuple[float | None, float | None]]

    @abc.abstractmethod
    def prepare(self, c: Curve, steps: np.ndarray, y: np.ndarray) -> _Prepared:
        """Per-curve data the law needs (LR-sum tables, drop events) at the fitted steps."""

    @abc.abstractmethod
    def value_jac(self, th: np.ndarray, p: _Prepared) -> tuple[np.ndarray, np.ndarray]:
        """Predicted loss at the fitted steps and its Jacobian with respect to ``th``."""

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


class _MPLModel(_LawModel):
    names = _mpl.PARAM_NAMES
    log_idx = (1, 3, 4)  # A, B, C
    bounds = [(None, None), (-10, 5), (0.01, 2.0), (-10, 12), (-12, 8), (0.05, 3.0), (0.0, 1.5)]

    def __init__(self, warmup: str, rho: float = 1.0, kappa: float = 1.0, theta_blocks: float = 0.05) -> None:
        self.warmup = warmup
        self.rho = rho
        self.kappa = kappa
        self.theta_blocks = theta_blocks

    def prepare(self, c: Curve, steps: np.ndarray, y: np.ndarray) -> _Prepared:
        ev = events(c.lr[: int(steps.max()) + 1], self.warmup, self.rho, self.kappa)
        exact = steps.size * ev.n <= _mpl.FIT_EXACT_WORK
        t = block_terms(ev, steps, theta=self.theta_blocks, theta_eta=self.theta_blocks, exact=exact)
        return _Prepared(c.name, steps, y, ev.cs[steps], t)

    def value_jac(self, th: np.ndarray, p: _Prepared) -> tuple[np.ndarray, np.ndarray]:
        return _mpl.value_and_grad(th, p.S, p.extra)


class _MPLShapeModel(_LawModel):
    """MPL with ``rho`` and ``kappa`` as fitted parameters (indices 7, 8; box-bounded, see ``SHAPE_BOUNDS``)."""

    names = _mpl.PARAM_NAMES + _mpl.SHAPE_NAMES
    log_idx = (1, 3, 4)

    def __init__(self, warmup: str, rho0: float, kappa0: float, rho_bounds: tuple[float, float],
                 kappa_bounds: tuple[float, float], theta_blocks: float = 0.05) -> None:
        self.warmup = warmup
        self.rho0, self.kappa0 = rho0, kappa0
        self.bounds = list(_MPLModel.bounds) + [rho_bounds, kappa_bounds]
        self.theta_blocks = theta_blocks

    def prepare(self, c: Curve, steps: np.ndarray, y: np.ndarray) -> _Prepared:
        prep = _mpl.ShapePrep(c.lr[: int(steps.max()) + 1], self.warmup, steps, self.rho0, self.kappa0,
                              theta=self.theta_blocks)
        return _Prepared(c.name, steps, y, prep.terms(self.rho0, self.kappa0)["S"], prep)

    def value_jac(self, th: np.ndarray, p: _Prepared) -> tuple[np.ndarray, np.ndarray]:
        return _mpl.value_and_grad_shape(th, p.extra)


class _MTLModel(_LawModel):
    names = _mtl.PARAM_NAMES
    log_idx = (1, 3)  # A, C
    bounds = [(None, None), (-10, 5), (0.01, 2.0), (-12, 8), (0.9, 0.99999)]

    def __init__(self, warmup: str, fit_lambda: bool, lam: float) -> None:
        self.warmup = warmup
        self.fit_lambda = fit_lambda
        self.lam = lam
        if not fit_lambda:
            self.bounds = self.bounds[:4] + [(lam, lam)]

    def prepare(self, c: Curve, steps: np.ndarray, y: np.ndarray) -> _Prepared:
        area, drop = split_lr(c.lr[: int(steps.max()) + 1], self.warmup)
        delta = _mtl.drops(drop)  # lambda-independent: computed once per curve
        s2, _ = _mtl.s2_from_drops(delta, self.lam)
        return _Prepared(c.name, steps, y, np.cumsum(area)[steps], {"delta": delta, "s2": s2[steps], "lam": self.lam})

    def value_jac(self, th: np.ndarray, p: _Prepared) -> tuple[np.ndarray, np.ndarray]:
        L0, A, alpha, C, lam = th
        ex = p.extra
        if lam != ex["lam"] or "ds2" not in ex:
            if self.fit_lambda:
                s2, ds2 = _mtl.s2_from_drops(ex["delta"], lam, with_dlam=True)
                assert ds2 is not None
                ex.update(lam=lam, s2=s2[p.steps], ds2=ds2[p.steps])
            else:
                ex["ds2"] = np.zeros_like(ex["s2"])
        logS = np.log(p.S)
        pw = np.exp(-alpha * logS)
        pred = L0 + A * pw - C * ex["s2"]
        J = np.column_stack([np.ones_like(pw), pw, -A * pw * logS, -ex["s2"], -C * ex["ds2"]])
        return pred, J


def _objective(model: _LawModel, data: list[_Prepared], delta: float, free: np.ndarray,
               z_fixed: np.ndarray, scale: float) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    def f(zf: np.ndarray) -> tuple[float, np.ndarray]:
        z = z_fixed.copy()
        z[free] = zf
        th = model.theta(z)
        tot, g = 0.0, np.zeros(z.size)
        for p in data:
            pred, J = model.value_jac(th, p)
            v, gg = _loss_and_grad(pred, J, p.y, delta, p.w)
            tot += v
            g += gg
        g = g * model.dtheta_dz(z)
        return tot * scale, g[free] * scale
    return f


_BLAS_THREAD_API = (("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                    ("openblas_get_num_threads", "openblas_set_num_threads"))


@contextlib.contextmanager
def blas_single_thread() -> Iterator[None]:
    """Pin every loaded OpenBLAS to one thread for the duration (best effort; Linux ``/proc`` only).

    L-BFGS-B calls tiny BLAS/LAPACK kernels thousands of times; through OpenBLAS's thread pool they are ~8x
    slower on a busy 2-core machine (measured: 0.8 s vs 6 s for the 3-curve MPL fit).  Restores the previous
    thread counts afterwards; silently does nothing where the libraries cannot be found.
    """
    restore: list[tuple[Any, int]] = []
    try:
        import ctypes

        with open("/proc/self/maps") as fh:
            paths = {ln.split()[-1] for ln in fh if "openblas" in ln and ".so" in ln.split()[-1]}
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for get_name, set_name in _BLAS_THREAD_API:
                getter, setter = getattr(lib, get_name, None), getattr(lib, set_name, None)
                if getter is not None and setter is not None:
                    n = int(getter())
                    setter(1)
                    restore.append((setter, n))
                    break
    except Exception:  # pragma: no cover - platform dependent, purely a speed optimisation
        pass
    try:
        yield
    finally:
        for setter, n in restore:
            setter(n)


def _lbfgs(f: Callable, z0: np.ndarray, bounds: list, maxiter: int) -> tuple[np.ndarray, float]:
    from scipy.optimize import minimize

    z0 = np.array([np.clip(v, lo if lo is not None else -np.inf, hi if hi is not None else np.inf)
                   for v, (lo, hi) in zip(z0, bounds)])
    with np.errstate(all="ignore"):
        r = minimize(f, z0, jac=True, method="L-BFGS-B", bounds=bounds,
                     options={"maxiter": maxiter, "ftol": 1e-12, "gtol": 1e-8, "maxcor": 10})
    return r.x, float(r.fun)


# ------------------------------------------------------------------------------------------------- window
def _post_warmup(c: Curve) -> int:
    return warmup_length(c.lr)


def _lldl_features(c: Curve, st: np.ndarray, warmup: str, shape: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """LR area ``S1`` at steps ``st`` and the LR drop since warmup ``eta_0 - eta_t`` (the LLDL law's inputs)."""
    area, drop = law_lr(c.lr[: int(st.max()) + 1], warmup, *shape)
    w = warmup_length(c.lr)
    return np.cumsum(area)[st], drop[w] - drop[st]


def _lldl_fit(curves: list[Curve], starts: dict[str, int], delta: float, warmup: str,
              shape: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, float]:
    """Fit L0 + A S^-alpha - B (eta_0 - eta_t) (MPL with G = 1); returns theta and objective."""
    data = []
    for c in curves:
        m = c.steps >= starts[c.name]
        data.append((*_lldl_features(c, c.steps[m], warmup, shape), c.loss[m]))
    ymin = min(float(d[2].min()) for d in data)

    def f(z: np.ndarray) -> tuple[float, np.ndarray]:
        L0, lA, alpha, lB = z
        A, B = np.exp(lA), np.exp(lB)
        tot, g = 0.0, np.zeros(4)
        for S, dd, y in data:
            pw = S ** (-alpha)
            pred = L0 + A * pw - B * dd
            J = np.column_stack([np.ones_like(S), A * pw, -A * pw * np.log(S), -B * dd])
            v, gg = _loss_and_grad(pred, J, y, delta)
            tot += v
            g += gg
        return tot / delta**2, g / delta**2

    best: tuple[np.ndarray | None, float] = (None, np.inf)
    bounds = [(0.0, ymin), (-8, 5), (0.02, 2.0), (-5, 12)]
    for L0f in (0.5, 0.8, 0.95):
        for alpha in (0.3, 0.6):
            z0 = np.array([L0f * ymin, np.log(max(ymin * (1 - L0f), 1e-3)), alpha, np.log(300.0)])
            z, v = _lbfgs(f, z0, bounds, 500)
            if v < best[1]:
                best = (z, v)
    zb = best[0]
    assert zb is not None
    return np.array([zb[0], np.exp(zb[1]), zb[2], np.exp(zb[3])]), best[1]


def _lldl_residuals(curves: list[Curve], th: np.ndarray, warmup: str,
                    shape: tuple[float, float]) -> dict[str, np.ndarray]:
    out = {}
    for c in curves:
        S, dd = _lldl_features(c, c.steps, warmup, shape)
        pred = th[0] + th[1] * S ** (-th[2]) - th[3] * dd
        out[c.name] = np.log(np.maximum(pred, 1e-6)) - np.log(c.loss)
    return out


def _auto_window(curves: list[Curve], warmup: str, delta: float,
                 shape: tuple[float, float] = (1.0, 1.0)) -> dict[str, Any]:
    """Earliest start from which the data follow the tail's power law (see module docstring)."""
    w = {c.name: _post_warmup(c) for c in curves}
    t_min = min(int(c.steps.max()) for c in curves)
    w_max = max(w.values())
    s_tail = max(w_max + 1, int(TAIL_FRACTION * t_min))
    tail_starts = {c.name: max(s_tail, w[c.name] + 1) for c in curves}
    if any(int(np.sum(c.steps >= tail_starts[c.name])) < 5 for c in curves):
        return {"rule": "auto", "start": int(w_max + 1), "note": "too few points for the transient test"}
    th, _ = _lldl_fit(curves, tail_starts, delta, warmup, shape)
    res = _lldl_residuals(curves, th, warmup, shape)
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


def _resolve_window(curves: list[Curve], window: Any, warmup: str, delta: float,
                    shape: tuple[float, float] = (1.0, 1.0)) -> dict[str, Any]:
    if window == "auto":
        return _auto_window(curves, warmup, delta, shape)
    if window is None or window == "post-warmup":
        return {"rule": "post-warmup", "start": int(max(_post_warmup(c) for c in curves) + 1)}
    if isinstance(window, (int, np.integer)):
        return {"rule": "fixed", "start": int(window)}
    raise ValueError(f"window must be 'auto', 'post-warmup', None or a start step (int), got {window!r}")


# -------------------------------------------------------------------------------------------------- fit
@blas_single_thread()
def fit(curves: Sequence[Curve], law: str = "multi-power", window: Any = "auto", *, warmup: str | None = None,
        huber_delta: float = HUBER_DELTA, fit_lambda: bool = False, lam: float = _mtl.DEFAULT_LAMBDA,
        rho: float | str | None = None, kappa: float | str | None = None, n_starts: int | None = None,
        late_weight: float | None = None) -> FittedLaw:
    """Jointly fit one law to ``curves`` and return a :class:`FittedLaw`.

    Args:
        curves: observed curves (each with its per-step LR from step 0).
        law: ``"multi-power"`` (Luo et al. 2025, arXiv 2503.12811) or ``"momentum"`` (Tissue et al. 2024,
            arXiv 2408.11029).
        window: ``"auto"`` (default; see module docstring), ``"post-warmup"``/``None``, or a start step.
        warmup: warmup convention (default: the law's default, ``"area"`` for MPL, ``"peak"`` for MTL).
        huber_delta: Huber threshold on log-loss residuals.
        fit_lambda: momentum law only: also fit the momentum decay ``lam`` (else fixed at ``lam``).
        rho, kappa: multi-power law only: fixed area / annealing-amplitude exponents (default
            ``multipower.DEFAULT_RHO`` / ``DEFAULT_KAPPA``; 1, 1 is the published MPL) or ``"fit"`` to fit
            them jointly (within ``SHAPE_BOUNDS``).
        n_starts: number of L-BFGS-B starts (default: law-specific small grid).
        late_weight: exponent ``p`` of the per-point weights ``step**p`` (default ``DEFAULT_LATE_WEIGHT`` = 0).
    """
    law_name = LAW_ALIASES.get(law)
    if law_name is None:
        raise ValueError(f"unknown law {law!r}; choose from {sorted(LAW_ALIASES)}")
    curves = list(curves)
    if not curves:
        raise ValueError("fit needs at least one curve")
    if len({c.name for c in curves}) != len(curves):
        raise ValueError("curve names must be unique")
    conv = warmup or (_mpl.DEFAULT_WARMUP if law_name == "multi-power" else _mtl.DEFAULT_WARMUP)
    if conv not in WARMUP_CONVENTIONS:
        raise ValueError(f"unknown warmup convention {conv!r}; choose from {WARMUP_CONVENTIONS}")
    fit_shape = [False, False]
    if law_name == "multi-power":
        raw = [_mpl.DEFAULT_RHO if rho is None else rho, _mpl.DEFAULT_KAPPA if kappa is None else kappa]
        vals = []
        for i, v in enumerate(raw):
            if isinstance(v, str):
                if v != "fit":
                    raise ValueError(f"rho/kappa must be a number or 'fit', got {v!r}")
                fit_shape[i] = True
                vals.append(SHAPE_INIT[i])
            else:
                vals.append(float(v))
        shape = (vals[0], vals[1])
    else:
        if rho is not None or kappa is not None:
            raise ValueError("rho/kappa apply to the multi-power law only")
        shape = (1.0, 1.0)
    if not all(0.0 < v <= 2.0 for v in shape):
        raise ValueError(f"rho and kappa must lie in (0, 2], got {shape}")
    p_late = float(DEFAULT_LATE_WEIGHT if late_weight is None else late_weight)
    if not 0.0 <= p_late <= 4.0:
        raise ValueError(f"late_weight must lie in [0, 4], got {p_late}")
    win = _resolve_window(curves, window, conv, huber_delta, shape)
    starts = {c.name: max(win["start"], _post_warmup(c) + 1) for c in curves}
    sel = []
    for c in curves:
        m = c.steps >= starts[c.name]
        if m.sum() < 3:
            raise ValueError(f"curve {c.name!r} has fewer than 3 points in the fit window (start {starts[c.name]})")
        sel.append((c, c.steps[m], c.loss[m]))
    win["per_curve"] = {c.name: [int(st[0]), int(st[-1]), int(st.size)] for c, st, _ in sel}

    # identifiability: any post-warmup LR decrease at or before a fitted step?
    annealing = False
    for c, st, _ in sel:
        _, drop = law_lr(c.lr[: int(st.max()) + 1], conv)
        w = warmup_length(c.lr)
        if np.any(np.diff(drop[w:]) < 0):
            annealing = True
    flags: list[str] = []
    if not annealing:
        flags.append("annealing-unidentifiable: no post-warmup LR decrease in the fitted curves; "
                     "only L0, A, alpha were fitted and the annealing amplitude is 0")

    model: _LawModel
    shape_model = law_name == "multi-power" and any(fit_shape)
    if shape_model:
        model = _MPLShapeModel(conv, shape[0], shape[1],
                               SHAPE_BOUNDS if fit_shape[0] else (shape[0], shape[0]),
                               SHAPE_BOUNDS if fit_shape[1] else (shape[1], shape[1]))
    elif law_name == "multi-power":
        model = _MPLModel(conv, *shape)
    else:
        model = _MTLModel(conv, fit_lambda, lam)
    # shape fitting runs in two stages: the usual multi-start 7-parameter fit at SHAPE_INIT, then one joint
    # 9-parameter L-BFGS-B refinement from its optimum (the 9-parameter evaluation is ~5x more expensive)
    stage_model: _LawModel = _MPLModel(conv, *shape) if shape_model else model

    def prepare_all(m: _LawModel) -> list[_Prepared]:
        out = [m.prepare(c, st, y) for c, st, y in sel]
        if p_late > 0:  # late-point weights ~ step**p, normalised to mean 1 over all fitted points
            raw_w = [p.steps.astype(float) ** p_late for p in out]
            norm = sum(p.y.size for p in out) / sum(float(w.sum()) for w in raw_w)
            for p, w in zip(out, raw_w):
                p.w = w * norm
        return out

    data = prepare_all(stage_model)
    n_pts = sum(p.y.size for p in data)
    scale = 1.0 / (huber_delta**2 * n_pts)
    zstarts = _starts(law_name, curves, starts, huber_delta, conv, lam, annealing, shape)
    if n_starts is not None:
        zstarts = zstarts[: max(1, n_starts)]
    nz = len(stage_model.names)
    free = np.ones(nz, dtype=bool)
    if not annealing:
        free[3:] = False
    if law_name == "momentum" and not fit_lambda:
        free[4] = False
    bounds = [b for b, f in zip(stage_model.bounds, free) if f]
    best_z, best_v = None, np.inf
    screened = []
    for th0 in zstarts:
        z0 = stage_model.z(th0)
        f = _objective(stage_model, data, huber_delta, free, z0, scale)
        zf, v = _lbfgs(f, z0[free], bounds, 60)
        z = z0.copy()
        z[free] = zf
        screened.append((v, z))
    screened.sort(key=lambda t: t[0])
    for v0, z0 in screened[:2]:
        f = _objective(stage_model, data, huber_delta, free, z0, scale)
        zf, v = _lbfgs(f, z0[free], bounds, 3000)
        if v < best_v:
            z = z0.copy()
            z[free] = zf
            best_z, best_v = z, v
    assert best_z is not None
    if shape_model and annealing:
        data = prepare_all(model)
        z0 = np.r_[best_z, shape]
        free = np.r_[np.ones(7, dtype=bool), fit_shape]
        f = _objective(model, data, huber_delta, free, z0, scale)
        zf, v = _lbfgs(f, z0[free], [b for b, fr in zip(model.bounds, free) if fr], 3000)
        best_z = z0.copy()
        best_z[free] = zf
        best_v = v
    elif shape_model:
        best_z = np.r_[best_z, shape]
    th = model.theta(best_z)
    if law_name == "momentum" and not fit_lambda:
        th[4] = lam
    if not annealing:  # amplitude exactly 0: the shape parameters are meaningless placeholders
        th[3] = 0.0
    params = {n: float(v) for n, v in zip(model.names, th)}
    if law_name == "multi-power" and not shape_model:
        params.update(rho=shape[0], kappa=shape[1])
    meta = {"huber_delta": huber_delta, "n_points": n_pts, "fit_lambda": bool(fit_lambda), "late_weight": p_late}
    if law_name == "multi-power":
        meta["fitted_shape"] = [n for n, f in zip(_mpl.SHAPE_NAMES, fit_shape) if f]
    fl = FittedLaw(law=law_name, params=params, warmup=conv, window=win, flags=tuple(flags),
                   objective=float(best_v), meta=meta)
    mets = {c.name: _metrics.curve_metrics(y, predict(fl, c.lr, st)) for c, st, y in sel}
    return FittedLaw(law=fl.law, params=fl.params, warmup=fl.warmup, window=fl.window, metrics=mets,
                     flags=fl.flags, objective=fl.objective, meta=fl.meta)



def _starts(law: str, curves: list[Curve], starts: dict[str, int], delta: float, conv: str, lam: float,
            annealing: bool, shape: tuple[float, float]) -> list[np.ndarray]:
    th, _ = _lldl_fit(curves, starts, delta, conv, shape)
    L0, A, alpha, B = th
    if law == "multi-power":
        if not annealing:
            return [np.array([L0, A, alpha, 1e-6, 1.0, 0.5, 0.5])]
        out = []
        for C in (0.5, 2.0):
            for beta in (0.4, 0.7):
                for gamma in (0.4, 0.6):
                    out.append(np.array([L0, A, alpha, max(B, 1.0) * 1.3, C, beta, gamma]))
        return out
    out = []
    # Tissue et al.'s example grid (subset) plus the LLDL-seeded start
    c0 = max(B, 1e-3) * (1 - lam) if annealing else 1e-6
    out.append(np.array([L0, A, alpha, c0, lam]))
    for L0g in (0.1, 2.1):
        for Ag in (1.0, 11.5):
            for ag in (0.4, 0.8):
                out.append(np.array([min(L0g, L0), Ag, ag, 1.0 if annealing else 1e-6, lam]))
    return out
