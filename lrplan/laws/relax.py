"""Absolute-LR relaxation law ("relax"; candidate of issue 16, not registered by default).

    L(t) = L0 + A * S(t)^(-alpha) + B * N(t)                      (noise="lr", the default)
    L(t) = (L0 + A * S(t)^(-alpha)) * (1 + B * N(t))              (noise="loss": noise proportional to the loss)

    e_s = eta_s / ETA_REF,   S(t) = sum_{s<=t} e_s,
    N(t) = sum_k u_k * [1 - (1 + C * D_k(t))^(-beta)],   u_k = d_k - d_{k-1},   D_k(t) = S(t) - S(k-1),

with ``d`` the *driving* LR (``e`` itself, or with ``lag = b2 > 0`` the LR seen through an EMA of factor ``b2``,
Adam's second-moment timescale), ``d_{-1} = 0``.  Every LR change is a term: the warmup ramp and re-warms are
positive increments, decays negative ones, all through the same kernel.  ``N`` is the noise part of the loss
relaxing towards the current (absolute) LR: ``N -> d_t`` once the LR has been constant for long, so the noise floor
is ``B * eta / ETA_REF`` (or ``B`` times the loss times that) with ONE reference LR ``ETA_REF`` for every run, and a
run at half the peak LR gets half the floor.  ``N >= 0`` for any non-negative schedule: each relaxation mode obeys
``dm/dS = r (d - m)``, ``m(0) = 0``.

The kernel ``(1 + C D)^-beta = E[exp(-r D)]`` for rates ``r ~ Gamma(beta, scale C)`` is a mixture of relaxation
modes on the LR-area clock (as the multi-power law's ``G``, Luo et al. 2025, arXiv 2503.12811; noisy quadratic
model, Zhang et al. 2019, arXiv 1907.04164).  Compared with the multi-power law the exponents the fit data cannot
identify are fixed at their theoretical values: the area clock (MPL ``gamma = 0``), noise linear in the LR
(``kappa = 1``), forward area linear in the LR (``rho = 1``); ``beta`` may be fixed too (``beta=0.5``).
Parameters: ``L0, A, alpha, B, C, beta`` in units of the reference LR (``1/C``: the kernel's time scale in steps at
``ETA_REF``); options ``noise`` ("lr" | "loss"), ``lag`` (0 or Adam's b2), ``beta`` (a number or "fit"), and, for
the ablations of ``benchmarks/LAW_SELECTION_16.md`` only, fixed shape exponents ``rho`` / ``kappa`` (forward area
``e^rho``, driving LR ``e^kappa``; 1 = the law above).  Status: a candidate that did NOT pass the pre-registered
selection (no registry entry; the benchmark and the tests register it at run time).

Evaluation: the terms are exact for the changes within ``D0`` reference steps of the query and grouped beyond into
blocks of relative LR-area width ``theta`` (one term at the |u|-weighted centre), so a query costs
``O(log(S/D0) / theta)``; all of it is parameter-independent and computed once per curve for a fit.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from lrplan.laws.base import FitModel, LawSpec, Prepared
from lrplan.laws.warmup import lr_through, split_lr

ETA_REF = 1e-3
"""The one reference LR of every run (parameters are in its units)."""
PARAM_NAMES: tuple[str, ...] = ("L0", "A", "alpha", "B", "C", "beta")
OPTION_PARAMS: tuple[str, ...] = ("nl", "lag")
DEFAULT_WARMUP = "ramp"
D0 = 20.0
"""LR-area (reference steps) within which every LR change is its own term."""
THETA_FIT = 0.05
THETA_PREDICT = 0.02
EXACT_TERMS = 400_000
"""Below this many (query, change) pairs the sum is exact."""


# ------------------------------------------------------------------------------------------------ the sums
def drive(lr: np.ndarray, warmup: str, lag: float, rho: float = 1.0,
          kappa: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Forward area per step ``e`` and the driving LR ``d`` (both in units of ``ETA_REF``, to the powers ``rho``
    and ``kappa``: 1 in the law; other values only for the ablations of ``benchmarks/LAW_SELECTION_16.md``)."""
    area, drop = split_lr(np.asarray(lr, dtype=float), warmup)
    e, d = (area / ETA_REF) ** rho, (drop / ETA_REF) ** kappa
    if lag > 0.0:
        from scipy.signal import lfilter

        d = lfilter([1.0 - lag], [1.0, -lag], d)
    return e, d


class Terms:
    """Flattened (query, term) pairs: query index ``q``, summed increment ``U``, LR area since the change ``D``;
    ``S`` (forward area) at the queries."""

    def __init__(self, lr: np.ndarray, steps: np.ndarray, warmup: str, lag: float, theta: float,
                 exact: bool | None = None, rho: float = 1.0, kappa: float = 1.0) -> None:
        steps = np.asarray(steps, dtype=np.int64)
        e, d = drive(lr[: int(steps.max()) + 1], warmup, lag, rho, kappa)
        cs = np.cumsum(e)
        u = np.diff(d, prepend=0.0)
        scale = float(np.abs(d).max()) or 1.0
        k = np.flatnonzero(np.abs(u) > 1e-12 * scale)
        u_k = u[k]
        s_prev = np.where(k > 0, cs[np.maximum(k - 1, 0)], 0.0)
        self.S = cs[steps]
        self.n_query = steps.size
        n_t = np.searchsorted(k, steps, side="right")  # changes at or before each query step
        if exact is None:
            exact = int(n_t.sum()) <= EXACT_TERMS
        if exact:
            self.q = np.repeat(np.arange(steps.size), n_t)
            idx = np.concatenate([np.arange(n) for n in n_t]) if steps.size else np.zeros(0, np.int64)
            self.U = u_k[idx]
            self.D = self.S[self.q] - s_prev[idx]
            return
        parts = [_blocks(u_k[m], s_prev[m], self.S, np.searchsorted(k[m], steps, side="right"), theta)
                 for m in (u_k > 0, u_k < 0)]  # signs apart: a block's centre is then a true average
        self.q = np.concatenate([p[0] for p in parts])
        self.U = np.concatenate([p[1] for p in parts])
        self.D = np.maximum(np.concatenate([p[2] for p in parts]), 0.0)


def _blocks(u_k: np.ndarray, s_prev: np.ndarray, S: np.ndarray, n_t: np.ndarray,
            theta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Same-sign changes ``u_k`` at prefix areas ``s_prev`` grouped per query (area ``S``, ``n_t`` changes before
    it): exact within ``D0`` of the query, beyond it blocks ``(S - D0 (1+theta)^(j+1), S - D0 (1+theta)^j]``."""
    pu = np.concatenate([[0.0], np.cumsum(u_k)])
    pus = np.concatenate([[0.0], np.cumsum(u_k * s_prev)])
    qs, Us, Ds = [np.zeros(0, np.int64)], [np.zeros(0)], [np.zeros(0)]
    for i, (S_t, n) in enumerate(zip(S, n_t)):
        if n == 0:
            continue
        sp = s_prev[:n]
        near = int(np.searchsorted(sp, S_t - D0, side="right"))  # changes [near, n) are exact
        if near > 0:
            j_max = int(np.ceil(np.log(max(S_t / D0, 1.0 + 1e-12)) / np.log1p(theta))) + 1
            bounds = S_t - D0 * (1.0 + theta) ** np.arange(j_max + 1)
            cut = np.unique(np.r_[0, np.searchsorted(sp[:near], bounds[::-1], side="right"), near])
            a, b = cut[:-1], cut[1:]
            U = pu[b] - pu[a]
            ok = U != 0
            a, b, U = a[ok], b[ok], U[ok]
            qs.append(np.full(a.size, i))
            Us.append(U)
            Ds.append(S_t - (pus[b] - pus[a]) / U)
        qs.append(np.full(n - near, i))
        Us.append(u_k[near:n])
        Ds.append(S_t - sp[near:n])
    return np.concatenate(qs), np.concatenate(Us), np.concatenate(Ds)


def value_and_grad(th: np.ndarray, t: Terms, nl: bool) -> tuple[np.ndarray, np.ndarray]:
    """Prediction at the queries and its Jacobian (Q x 6) w.r.t. (L0, A, alpha, B, C, beta)."""
    L0, A, alpha, B, C, beta = th
    logS = np.log(t.S)
    pw = np.exp(-alpha * logS)
    x = C * t.D
    lu = np.log1p(x)
    K = np.exp(-beta * lu)  # (1 + C D)^-beta

    def bc(v: np.ndarray) -> np.ndarray:
        return np.bincount(t.q, weights=v, minlength=t.n_query)

    N = bc(t.U * (1.0 - K))
    dN_dC = bc(t.U * beta * t.D * K / (1.0 + x))
    dN_db = bc(t.U * K * lu)
    P = L0 + A * pw
    J = np.empty((t.n_query, 6))
    if nl:
        f = 1.0 + B * N
        J[:, 0] = f
        J[:, 1] = pw * f
        J[:, 2] = -A * pw * logS * f
        J[:, 3] = P * N
        J[:, 4] = P * B * dN_dC
        J[:, 5] = P * B * dN_db
        return P * f, J
    J[:, 0] = 1.0
    J[:, 1] = pw
    J[:, 2] = -A * pw * logS
    J[:, 3] = N
    J[:, 4] = B * dN_dC
    J[:, 5] = B * dN_db
    return P + B * N, J


def predict(params: Mapping[str, float], lr: np.ndarray, steps: np.ndarray, *, warmup: str = DEFAULT_WARMUP,
            theta: float = THETA_PREDICT, chunk: int = 4096) -> np.ndarray:
    """The law's loss at the query ``steps`` (``lr[s]`` = LR of update ``s``, the loss after it)."""
    lr = np.asarray(lr, dtype=float)
    steps = np.asarray(steps)
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError(f"steps must be a non-empty 1-D array, got shape {steps.shape}")
    steps = steps.astype(np.int64)
    if steps.min() < 0 or steps.max() >= lr.size:
        raise ValueError(f"steps must lie in [0, {lr.size - 1}], got [{steps.min()}, {steps.max()}]")
    th = np.array([params[k] for k in PARAM_NAMES], dtype=float)
    nl, lag = bool(params.get("nl", 0.0)), float(params.get("lag", 0.0))
    rho, kappa = float(params.get("rho", 1.0)), float(params.get("kappa", 1.0))
    uq, inv = np.unique(steps, return_inverse=True)
    lr = lr_through(lr, int(uq.max()))
    out = np.empty(uq.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(0, uq.size, chunk):
            t = Terms(lr, uq[i: i + chunk], warmup, lag, theta, rho=rho, kappa=kappa)
            out[i: i + chunk] = value_and_grad(th, t, nl)[0]
    return out[inv]


def predict_naive(params: Mapping[str, float], lr: np.ndarray, steps: np.ndarray, *,
                  warmup: str = DEFAULT_WARMUP) -> np.ndarray:
    """Reference: the sum over every step, no grouping (O(T) per query)."""
    th = [float(params[k]) for k in PARAM_NAMES]
    L0, A, alpha, B, C, beta = th
    e, d = drive(np.asarray(lr, float), warmup, float(params.get("lag", 0.0)), float(params.get("rho", 1.0)),
                 float(params.get("kappa", 1.0)))
    cs = np.cumsum(e)
    u = np.diff(d, prepend=0.0)
    s_prev = np.r_[0.0, cs[:-1]]
    out = []
    for t in np.asarray(steps, dtype=np.int64):
        N = float(np.sum(u[: t + 1] * (1.0 - (1.0 + C * (cs[t] - s_prev[: t + 1])) ** -beta)))
        P = L0 + A * cs[t] ** -alpha
        out.append(P * (1.0 + B * N) if params.get("nl", 0.0) else P + B * N)
    return np.array(out)


# ------------------------------------------------------------------------------------------------ fit adapter
DOMAINS = {"L0": (-np.inf, np.inf, True, True), "A": (0.0, np.inf, False, True), "alpha": (0.0, np.inf, True, True),
           "B": (0.0, np.inf, False, True), "C": (0.0, np.inf, True, True), "beta": (0.0, np.inf, True, True),
           "nl": (0.0, 1.0, False, False), "lag": (0.0, 1.0, False, True), "rho": (0.0, 2.0, True, False),
           "kappa": (0.0, 2.0, True, False)}


class RelaxModel(FitModel):
    """Fit adapter: ``A, B, C`` in log space; ``beta`` fitted or held (``beta_fixed``)."""

    names = PARAM_NAMES
    log_idx = (1, 3, 4)
    annealing = ("C", "beta")
    amplitude = None  # B is also the noise floor (identified by two peak LRs): never zeroed

    def __init__(self, warmup: str, noise: str = "lr", lag: float = 0.0, beta: float | None = None,
                 theta: float = THETA_FIT, rho: float = 1.0, kappa: float = 1.0) -> None:
        self.rho, self.kappa = rho, kappa
        self.warmup, self.nl, self.lag, self.beta_fixed, self.theta_blocks = warmup, noise == "loss", lag, beta, theta
        b = (beta, beta) if beta is not None else (0.05, 5.0)
        self.bounds = [(None, None), (-10.0, 8.0), (0.01, 2.0), (-14.0, 6.0), (-14.0, 8.0), b]
        self._peak: float | None = None

    @property
    def fixed(self) -> dict[str, float]:
        return {} if self.beta_fixed is None else {"beta": float(self.beta_fixed)}

    def prepare(self, c: Any, steps: np.ndarray, y: np.ndarray) -> Prepared:
        lr = c.lr[: int(steps.max()) + 1]
        t = Terms(lr, steps, self.warmup, self.lag, self.theta_blocks, rho=self.rho, kappa=self.kappa)
        self._peak = max(self._peak or 0.0, float(np.max(lr)) / ETA_REF)
        return Prepared(c.name, steps, y, t.S, t)

    def value_jac(self, th: np.ndarray, p: Prepared) -> tuple[np.ndarray, np.ndarray]:
        return value_and_grad(th, p.extra, self.nl)

    def starts(self, lldl: np.ndarray, annealing: bool) -> list[np.ndarray]:
        """LLDL ``L0 + A S^-alpha - B (eta_0 - eta_t)`` (raw LR) converted to reference units, x (C, beta)."""
        L0, A, alpha, B = (float(v) for v in lldl)
        A_n = max(A, 1e-6) * ETA_REF ** (-alpha)
        B_n = max(B, 1e-3) * ETA_REF
        peak = self._peak or 1.0
        L0_n = L0 - B_n * peak
        if self.nl:
            B_n = B_n / max(L0, 0.1)
            L0_n = L0 / (1.0 + B_n * peak)
            A_n = A_n / (1.0 + B_n * peak)
        betas = (self.beta_fixed,) if self.beta_fixed is not None else (0.5, 1.0)
        Cs = (0.003, 0.03, 0.3) if annealing else (0.03,)
        return [np.array([L0_n, A_n, alpha, B_n, C, b]) for C in Cs for b in betas]

    def params(self, th: np.ndarray) -> dict[str, float]:
        return {**super().params(th), "nl": float(self.nl), "lag": float(self.lag), "rho": self.rho,
                "kappa": self.kappa}

    @property
    def record(self) -> dict[str, Any]:
        return {"noise": "loss" if self.nl else "lr", "lag": self.lag, "beta_fixed": self.beta_fixed,
                "eta_ref": ETA_REF}


def fit_model(warmup: str, noise: str | None = None, lag: float | None = None,
              beta: float | str | None = None, rho: float | None = None, kappa: float | None = None) -> RelaxModel:
    """``noise``: "lr" (default) or "loss"; ``lag``: 0 (default) or Adam's b2; ``beta``: "fit" (default) or a
    number to hold it at."""
    noise = noise or "lr"
    if noise not in ("lr", "loss"):
        raise ValueError(f"noise must be 'lr' or 'loss', got {noise!r}")
    lag_v = float(lag or 0.0)
    if not 0.0 <= lag_v < 1.0:
        raise ValueError(f"lag must lie in [0, 1), got {lag_v}")
    b = None if beta in (None, "fit") else float(beta)
    if b is not None and not b > 0:
        raise ValueError(f"beta must be > 0, got {b}")
    shape = (1.0 if rho is None else float(rho), 1.0 if kappa is None else float(kappa))
    if not all(0.0 < v <= 2.0 for v in shape):
        raise ValueError(f"rho and kappa must lie in (0, 2], got {shape}")
    return RelaxModel(warmup, noise, lag_v, b, rho=shape[0], kappa=shape[1])


def predict_params(params: Mapping[str, float], lr: np.ndarray, steps: np.ndarray, warmup: str) -> np.ndarray:
    return predict(params, lr, steps, warmup=warmup)


def loss_bound(params: Mapping[str, float], peak: float, lr: np.ndarray | None = None) -> float:
    """``L0``: ``A S^-alpha > 0`` and ``N >= 0`` for every non-negative schedule (see the module docstring)."""
    return float(params.get("L0", 0.0))


LAW = LawSpec(name="relax", params=PARAM_NAMES, defaults={"nl": 0.0, "lag": 0.0, "rho": 1.0, "kappa": 1.0},
              domains=DOMAINS, default_warmup=DEFAULT_WARMUP, predict=predict_params, loss_bound=loss_bound,
              fit_model=fit_model, options=("noise", "lag", "beta", "rho", "kappa"))
