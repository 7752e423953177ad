"""Momentum law (MTL) of Tissue, Wang, Wang et al., "Scaling Law with Learning Rate Annealing",
arXiv 2408.11029 (NeurIPS 2025), Eq. (1), (5):

    L(s) = L0 + A * S1(s)^(-alpha) - C * S2(s),
    S1(s) = sum(area_lr[0..s]),   m_i = lam * m_{i-1} + (eta_{i-1} - eta_i),  m_0 = 0,   S2(s) = sum(m[1..s]),

i.e. ``S2(s) = sum_k delta_k (1 - lam^(s-k+1)) / (1 - lam)`` (MPL paper App. A).  Raw LR units; ``lam`` = 0.999
in the paper (fixed), optionally fitted here.  Default warmup convention ``"peak"`` (warmup counted as eta_max
in S1, no contribution to S2), which reproduces the paper's Fig. 2 constants exactly; see
:mod:`lrplan.laws.warmup`.  Evaluation is O(T) through the recursion (``scipy.signal.lfilter``).

Fitting (:class:`MTLModel`): ``A, C`` in log space, starts from a subset of Tissue et al.'s example grid plus the
LLDL-seeded start.  Loss bound (:func:`loss_bound`): ``S2 <= peak / (1 - lam)`` for an LR at or below ``peak``.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import numpy as np

from lrplan.laws.base import FitModel, LawSpec, Prepared
from lrplan.laws.warmup import lr_through, split_lr

PARAM_NAMES: tuple[str, ...] = ("L0", "A", "alpha", "C", "lam")
DEFAULT_WARMUP = "peak"
DEFAULT_LAMBDA = 0.999


@dataclass(frozen=True)
class MTLParams:
    """Momentum-law parameters (raw LR units); ``lam`` is the annealing-momentum decay factor."""

    L0: float
    A: float
    alpha: float
    C: float
    lam: float = DEFAULT_LAMBDA

    def as_array(self) -> np.ndarray:
        return np.array(astuple(self), dtype=float)

    @classmethod
    def from_array(cls, x: np.ndarray) -> "MTLParams":
        return cls(*(float(v) for v in x))

    def to_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


def s1_s2(lr: np.ndarray, lam: float, warmup: str = DEFAULT_WARMUP,
          with_dlam: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-step S1, S2 (and dS2/dlam if requested) for all steps ``0..len(lr)-1``."""
    area, drop = split_lr(lr, warmup)
    s2, ds2 = s2_from_drops(drops(drop), lam, with_dlam)
    return np.cumsum(area), s2, ds2


def drops(drop_lr: np.ndarray) -> np.ndarray:
    """Per-step LR decrease ``eta_{s-1} - eta_s`` (0 at step 0): the input of the momentum."""
    return np.concatenate([[0.0], drop_lr[:-1] - drop_lr[1:]])


def s2_from_drops(delta: np.ndarray, lam: float, with_dlam: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """S2 (and dS2/dlam) from the per-step drops: ``m_s = lam m_{s-1} + delta_s``, ``S2 = cumsum(m)``."""
    from scipy.signal import lfilter

    m = lfilter([1.0], [1.0, -lam], delta)
    ds2 = np.cumsum(lfilter([0.0, 1.0], [1.0, -lam], m)) if with_dlam else None
    return np.cumsum(m), ds2


def predict(params: MTLParams, lr: np.ndarray, steps: np.ndarray, *, warmup: str = DEFAULT_WARMUP) -> np.ndarray:
    """Momentum-law loss at the query ``steps`` (exact, O(max(steps)))."""
    lr = np.asarray(lr, dtype=float)
    steps = np.asarray(steps).astype(np.int64)
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError(f"steps must be a non-empty 1-D array, got shape {steps.shape}")
    if steps.min() < 0 or steps.max() >= lr.size:
        raise ValueError(f"steps must lie in [0, {lr.size - 1}], got [{steps.min()}, {steps.max()}]")
    s1, s2, _ = s1_s2(lr_through(lr, int(steps.max())), params.lam, warmup)
    return params.L0 + params.A * s1[steps] ** (-params.alpha) - params.C * s2[steps]


def predict_naive(params: MTLParams, lr: np.ndarray, steps: np.ndarray, *,
                  warmup: str = DEFAULT_WARMUP) -> np.ndarray:
    """Reference via the closed form sum over all steps (O(T) per query)."""
    lr = np.asarray(lr, dtype=float)
    steps = np.asarray(steps).astype(np.int64)
    area, drop = split_lr(lr_through(lr, int(steps.max())), warmup)
    cs = np.cumsum(area)
    delta = np.concatenate([[0.0], drop[:-1] - drop[1:]])
    out = np.empty(steps.size)
    for i, t in enumerate(steps):
        k = np.arange(1, t + 1)
        s2 = np.sum(delta[1 : t + 1] * (1.0 - params.lam ** (t - k + 1)) / (1.0 - params.lam))
        out[i] = params.L0 + params.A * cs[t] ** (-params.alpha) - params.C * s2
    return out



# ----------------------------------------------------------------------------- predicting from a run's history
def _stream(params: MTLParams, hist, warmup: str, stop: int, chunk: int = 1 << 18):
    """``(steps, lr, S1, S2)`` for consecutive blocks of the updates ``[0, stop)`` of a
    :class:`~lrplan.laws.history.History`: the recursion of :func:`s1_s2` carried from block to block (the same
    operations in the same order, so the same values), in memory that does not grow with the run."""
    from scipy.signal import lfilter

    W = hist.warmup_length() if warmup != "ramp" else 0
    lr_W = float(hist.lr_at(np.array([min(W, hist.total - 1)]))[0])
    cs, s2c, prev = 0.0, 0.0, None
    zi = np.zeros(1)
    for steps, lr in hist.chunks(0, stop, chunk):
        held = np.where(steps < W, lr_W, lr) if W > 0 else lr
        area = held if warmup == "peak" else lr
        drop = lr if warmup == "ramp" else held
        delta = np.empty(drop.size)
        delta[1:] = drop[:-1] - drop[1:]
        delta[0] = 0.0 if prev is None else prev - drop[0]
        prev = float(drop[-1])
        m, zi = lfilter([1.0], [1.0, -params.lam], delta, zi=zi)
        s1 = np.cumsum(np.concatenate([[cs], area]))[1:]
        s2 = np.cumsum(np.concatenate([[s2c], m]))[1:]
        cs, s2c = float(s1[-1]), float(s2[-1])
        yield steps, lr, s1, s2


def predict_history(params: MTLParams, hist, steps: np.ndarray, *, warmup: str = DEFAULT_WARMUP) -> np.ndarray:
    """:func:`predict` for a run given as a :class:`~lrplan.laws.history.History` (exact: one pass over its
    updates up to the last query, in blocks)."""
    steps = np.asarray(steps).astype(np.int64)
    from lrplan.laws.multipower import unique_steps

    uq, inv = unique_steps(steps)
    out = np.empty(uq.size)
    for st, _, s1, s2 in _stream(params, hist, warmup, int(uq.max()) + 1):
        a, b = np.searchsorted(uq, [st[0], st[-1] + 1])
        if b > a:
            r = uq[a:b] - st[0]
            out[a:b] = params.L0 + params.A * s1[r] ** (-params.alpha) - params.C * s2[r]
    return out[inv]


def curve_history(params: MTLParams, hist, qs, *, warmup: str = DEFAULT_WARMUP, chunk: int = 1 << 18):
    """``(steps, lr, loss)`` blocks at the query steps ``qs`` (:class:`~lrplan.laws.history.QuerySteps`)."""
    for st, lr, s1, s2 in _stream(params, hist, warmup, qs.last + 1, chunk):
        rows = qs.between(int(st[0]), int(st[-1]) + 1)
        if rows.size:
            r = rows - st[0]
            with np.errstate(divide="ignore"):
                yield rows, lr[r], params.L0 + params.A * s1[r] ** (-params.alpha) - params.C * s2[r]

# ------------------------------------------------------------------------------------ the law for the registry
DOMAINS = {"L0": (0.0, np.inf, False, True), "A": (0.0, np.inf, False, True), "alpha": (0.0, np.inf, True, True),
           "C": (0.0, np.inf, False, True), "lam": (0.0, 1.0, False, True)}


class MTLModel(FitModel):
    """The momentum law's fit adapter: ``lam`` fitted (``fit_lambda``) or held at ``lam``."""

    names = PARAM_NAMES
    log_idx = (1, 3)  # A, C
    bounds = [(None, None), (-10, 5), (0.01, 2.0), (-12, 8), (0.9, 0.99999)]
    annealing = ("C", "lam")
    amplitude = "C"

    def __init__(self, warmup: str, fit_lambda: bool, lam: float) -> None:
        self.warmup = warmup
        self.fit_lambda = fit_lambda
        self.lam = lam
        if not fit_lambda:
            self.bounds = self.bounds[:4] + [(lam, lam)]

    @property
    def fixed(self) -> dict[str, float]:
        return {} if self.fit_lambda else {"lam": self.lam}

    def prepare(self, c, steps: np.ndarray, y: np.ndarray) -> Prepared:
        area, drop = split_lr(c.lr[: int(steps.max()) + 1], self.warmup)
        delta = drops(drop)  # lambda-independent: computed once per curve
        s2, _ = s2_from_drops(delta, self.lam)
        return Prepared(c.name, steps, y, np.cumsum(area)[steps], {"delta": delta, "s2": s2[steps], "lam": self.lam})

    def value_jac(self, th: np.ndarray, p: Prepared) -> tuple[np.ndarray, np.ndarray]:
        L0, A, alpha, C, lam = th
        ex = p.extra
        if lam != ex["lam"] or "ds2" not in ex:
            if self.fit_lambda:
                s2, ds2 = s2_from_drops(ex["delta"], lam, with_dlam=True)
                assert ds2 is not None
                ex.update(lam=lam, s2=s2[p.steps], ds2=ds2[p.steps])
            else:
                ex["ds2"] = np.zeros_like(ex["s2"])
        logS = np.log(p.S)
        pw = np.exp(-alpha * logS)
        pred = L0 + A * pw - C * ex["s2"]
        J = np.column_stack([np.ones_like(pw), pw, -A * pw * logS, -ex["s2"], -C * ex["ds2"]])
        return pred, J

    def starts(self, lldl: np.ndarray, annealing: bool) -> list[np.ndarray]:
        """Tissue et al.'s example grid (subset) plus the LLDL-seeded start."""
        L0, A, alpha, B = lldl
        lam = self.lam
        c0 = max(B, 1e-3) * (1 - lam) if annealing else 1e-6
        out = [np.array([L0, A, alpha, c0, lam])]
        for L0g in (0.1, 2.1):
            for Ag in (1.0, 11.5):
                for ag in (0.4, 0.8):
                    out.append(np.array([min(L0g, L0), Ag, ag, 1.0 if annealing else 1e-6, lam]))
        return out

    @property
    def record(self) -> dict[str, bool]:
        return {"fit_lambda": bool(self.fit_lambda)}


def fit_model(warmup: str, fit_lambda: bool = False, lam: float = DEFAULT_LAMBDA) -> MTLModel:
    """The fit adapter: ``fit_lambda`` also fits the momentum decay (else it stays at ``lam``)."""
    return MTLModel(warmup, fit_lambda, lam)


def predict_params(params, lr: np.ndarray, steps: np.ndarray, warmup: str) -> np.ndarray:
    """:func:`predict` from a parameter mapping (a law file's ``params`` with the defaults filled in)."""
    return predict(MTLParams(**{k: params[k] for k in PARAM_NAMES}), lr, steps, warmup=warmup)


def history_params(params, hist, steps: np.ndarray, warmup: str) -> np.ndarray:
    """:func:`predict_history` from a parameter mapping."""
    return predict_history(MTLParams(**{k: params[k] for k in PARAM_NAMES}), hist, steps, warmup=warmup)


def curve_params(params, hist, qs, warmup: str):
    """:func:`curve_history` from a parameter mapping."""
    return curve_history(MTLParams(**{k: params[k] for k in PARAM_NAMES}), hist, qs, warmup=warmup)


def loss_bound(params, peak: float, lr: np.ndarray | None = None) -> float:
    """``L0 - C * peak / (1 - lam)``: ``S2 <= peak / (1 - lam)`` for any LR at or below ``peak``."""
    return params.get("L0", 0.0) - params.get("C", 0.0) * peak / (1.0 - params.get("lam", DEFAULT_LAMBDA))


LAW = LawSpec(name="momentum", params=("L0", "A", "alpha", "C"), defaults={"lam": DEFAULT_LAMBDA}, domains=DOMAINS,
              default_warmup=DEFAULT_WARMUP, predict=predict_params, loss_bound=loss_bound, fit_model=fit_model,
              options=("fit_lambda", "lam"), predict_history=history_params, curve=curve_params)
