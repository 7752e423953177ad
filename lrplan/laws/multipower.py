"""Multi-Power Law (MPL) of Luo et al., "A Multi-Power Law for Loss Curve Prediction Across Learning Rate
Schedules", ICLR 2025, arXiv 2503.12811, Eq. (1)-(2):

    L(t) = L0 + A * S1(t)^(-alpha) - B * sum_k delta_k * G(C * eta_k^(-gamma) * S_k(t)),
    G(x) = 1 - (1 + x)^(-beta),   delta_k = eta_{k-1} - eta_k,   S_k(t) = S1(t) - S1(k-1),

with 7 fitted parameters (L0, A, alpha, B, C, beta, gamma), raw (un-normalised) LR units and the step convention
of ``lrplan``: ``lr[s]`` is the LR used by update ``s + 1`` and the loss at query step ``t`` is predicted after
that update, ``S1(t) = sum(area_lr[0..t])`` (as in the official code).  The warmup convention (``"area"`` by
default = the paper's S1 + S_W with no annealing term for the ramp) is explained in :mod:`lrplan.laws.warmup`.

lrplan extension ("MPL-rk", two shape exponents): the forward area uses ``eta**rho`` and the annealing events
use ``eta**kappa`` (also inside ``eta_k^-gamma``).  ``rho = kappa = 1`` is the published law and the
:class:`MPLParams` default; :func:`lrplan.laws.fit` fixes ``DEFAULT_RHO = 0.8``, ``DEFAULT_KAPPA = 0.7`` (chosen on
the Schaipp/Hägele 124M runs, never on the MPL test curves: ``benchmarks/LAW_SELECTION.md``; with ``kappa < 1``
the fitted gamma usually goes to 0) or fits them (``rho="fit"``/``kappa="fit"``, within ``SHAPE_BOUNDS``).

``predict`` is exact on the compressed LR changes when the work is small, otherwise it uses the bounded block
decomposition of :mod:`lrplan.laws._drops` (``predict_with_bound`` returns the rigorous bound) and, for very many
query steps, evaluates a subset of anchor steps and interpolates the smooth remainder (error checked at
midpoints; see ``predict``).

A run too long to hold (:class:`lrplan.laws.history.History`: a spec's segments, never rendered) is predicted by
``predict_history`` / ``curve_history`` from its sampled cells (:mod:`lrplan.laws.cells`): ``O(log T)`` LR
evaluations per query step, within a rigorous bound of the exact sum for LRs monotone within each phase (on
every shipped schedule within 1e-6 nats of the naive sum); ``curve_history`` runs ``predict``'s anchor algorithm
on them and streams the rows with their exact LR area.

Fitting (:class:`MPLModel`, the law's fit adapter): positive coefficients ``A, B, C`` are optimised in log space,
the exponents are box-bounded, and the starts are seeded by the LLDL law ``L0 + A S1^-alpha - B (eta_0 - eta_t)``
as in the official MPL code (:func:`lrplan.laws.window.lldl_fit`).  Loss bound (:func:`loss_bound`): the
annealing term ``B sum_k delta_k G_k`` has ``0 <= G_k < 1``.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import numpy as np

from lrplan.laws._drops import ETA_FLOOR_REL, Events, Terms, block_terms, events
from lrplan.laws.base import FitModel, LawSpec, Prepared
from lrplan.laws.warmup import lr_through

PARAM_NAMES: tuple[str, ...] = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
SHAPE_NAMES: tuple[str, ...] = ("rho", "kappa")
DEFAULT_WARMUP = "area"
DEFAULT_RHO = 0.8
DEFAULT_KAPPA = 0.7
SHAPE_INIT = (0.85, 0.9)  # where a fit of rho / kappa (``"fit"``) starts
SHAPE_BOUNDS = (0.5, 1.0)  # and the box it stays in


@dataclass(frozen=True)
class MPLParams:
    """MPL parameters (raw LR units). ``B`` ~ 300-600 and ``C`` ~ 0.2-2 for peak LR ~ 3e-4."""

    L0: float
    A: float
    alpha: float
    B: float
    C: float
    beta: float
    gamma: float
    rho: float = 1.0
    kappa: float = 1.0

    def as_array(self) -> np.ndarray:
        """The 7 fitted parameters (``PARAM_NAMES`` order); ``rho``/``kappa`` are fixed hyper-parameters."""
        return np.array(astuple(self)[:7], dtype=float)

    @classmethod
    def from_array(cls, x: np.ndarray, rho: float = 1.0, kappa: float = 1.0) -> "MPLParams":
        L0, A, alpha, B, C, beta, gamma = (float(v) for v in x[:7])
        return cls(L0, A, alpha, B, C, beta, gamma, rho=rho, kappa=kappa)

    def to_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


def _check(lr: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lr = np.asarray(lr, dtype=float)
    steps = np.asarray(steps)
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError(f"steps must be a non-empty 1-D array, got shape {steps.shape}")
    if not np.issubdtype(steps.dtype, np.integer):
        if not np.all(np.equal(np.mod(steps, 1), 0)):
            raise ValueError("steps must be integers")
    steps = steps.astype(np.int64)
    if steps.min() < 0 or steps.max() >= lr.size:
        raise ValueError(f"steps must lie in [0, len(lr) - 1] = [0, {lr.size - 1}], got "
                         f"[{steps.min()}, {steps.max()}]")
    return lr, steps


def _G(x: np.ndarray, beta: float) -> np.ndarray:
    return 1.0 - np.exp(-beta * np.log1p(x))


def ld_sum(p: MPLParams, t: Terms) -> np.ndarray:
    """sum_k delta_k G(C eta_k^-gamma D_k) per query (without the factor B)."""
    x = p.C * np.exp(-p.gamma * t.log_eta) * np.maximum(t.D, 0.0)
    return np.bincount(t.q, weights=t.delta * _G(x, p.beta), minlength=t.n_query)


def ld_sum_spread(p: MPLParams, t: Terms) -> np.ndarray:
    """:func:`ld_sum` for summarised drops (:mod:`lrplan.laws.cells`): each term's ``G`` at its centre plus the
    second-order (midpoint-rule) correction from its drops' spread in ``S(k-1)`` and ``log eta`` (``t.var``,
    ``t.var_le``, ``t.cov``), kept within ``G``'s range over the term's extremes (so :func:`ld_bound` holds)."""
    if t.var is None:
        return ld_sum(p, t)
    c = p.C * np.exp(-p.gamma * t.log_eta)
    x = c * np.maximum(t.D, 0.0)
    l1 = np.log1p(x)
    g1 = p.beta * np.exp(-(p.beta + 1.0) * l1)  # G'
    g2 = -p.beta * (p.beta + 1.0) * np.exp(-(p.beta + 2.0) * l1)  # G''
    corr = g2 * c * c * t.var
    if p.gamma != 0.0 and t.var_le is not None and t.cov is not None:
        h = g2 * x + g1
        corr = corr + 2.0 * p.gamma * c * h * t.cov + p.gamma**2 * x * h * t.var_le
    g = _G(x, p.beta) + 0.5 * corr
    g_lo = _G(p.C * np.exp(-p.gamma * t.le_hi) * np.maximum(t.D_lo, 0.0), p.beta)
    g_hi = _G(p.C * np.exp(-p.gamma * t.le_lo) * np.maximum(t.D_hi, 0.0), p.beta)
    g = np.clip(g, np.minimum(g_lo, g_hi), np.maximum(g_lo, g_hi))
    return np.bincount(t.q, weights=t.delta * g, minlength=t.n_query)


def ld_bound(p: MPLParams, t: Terms) -> np.ndarray:
    """Rigorous bound on |exact LD sum - block LD sum| per query (without the factor B)."""
    x_hi = p.C * np.exp(-p.gamma * t.le_lo) * np.maximum(t.D_hi, 0.0)
    x_lo = p.C * np.exp(-p.gamma * t.le_hi) * np.maximum(t.D_lo, 0.0)
    return np.bincount(t.q, weights=t.abs_delta * (_G(x_hi, p.beta) - _G(x_lo, p.beta)), minlength=t.n_query)


def value_and_grad(theta: np.ndarray, S: np.ndarray, t: Terms) -> tuple[np.ndarray, np.ndarray]:
    """Prediction at the queries and its Jacobian (Q x 7) w.r.t. (L0, A, alpha, B, C, beta, gamma)."""
    L0, A, alpha, B, C, beta, gamma = theta
    logS = np.log(S)
    pw = np.exp(-alpha * logS)
    e = np.exp(-gamma * t.log_eta)
    x = C * e * np.maximum(t.D, 0.0)
    lu = np.log1p(x)
    pu = np.exp(-beta * lu)  # (1+x)^-beta
    G = 1.0 - pu
    w = beta * pu * x / (1.0 + x)  # x * dG/dx
    n = t.n_query
    sG = np.bincount(t.q, weights=t.delta * G, minlength=n)
    sW = np.bincount(t.q, weights=t.delta * w, minlength=n)
    sWl = np.bincount(t.q, weights=t.delta * w * t.log_eta, minlength=n)
    sB = np.bincount(t.q, weights=t.delta * pu * lu, minlength=n)
    pred = L0 + A * pw - B * sG
    J = np.empty((S.size, 7))
    J[:, 0] = 1.0
    J[:, 1] = pw
    J[:, 2] = -A * pw * logS
    J[:, 3] = -sG
    J[:, 4] = -B * sW / C if C != 0 else 0.0
    J[:, 5] = -B * sB
    J[:, 6] = B * sWl
    return pred, J


def _eval(p: MPLParams, ev: Events, steps: np.ndarray, exact: bool, theta: float) -> tuple[np.ndarray, np.ndarray]:
    t = block_terms(ev, steps, theta=theta, theta_eta=theta, exact=exact)
    S = ev.cs[steps]
    with np.errstate(divide="ignore"):  # S = 0 (before any LR area) -> +inf, the law is undefined there
        pred = p.L0 + p.A * S ** (-p.alpha) - p.B * ld_sum(p, t)
    bound = np.zeros(steps.size) if exact else abs(p.B) * ld_bound(p, t)
    return pred, bound


EXACT_WORK = 4_000_000
"""Use the exact compressed sum when (#queries x #LR changes) is at most this."""

FIT_EXACT_WORK = 200_000
"""The same threshold while fitting (the sums are evaluated hundreds of times)."""


def predict_with_bound(params: MPLParams, lr: np.ndarray, steps: np.ndarray, *, warmup: str = DEFAULT_WARMUP,
                       theta: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Predicted loss at ``steps`` and a rigorous bound on its deviation from the exact MPL sum.

    Exact (bound 0) when ``len(unique steps) * #LR changes <= EXACT_WORK``; otherwise the block decomposition
    with relative block width ``theta`` is used.  Cost ~ O(Q log(T) / theta).
    """
    lr, steps = _check(lr, steps)
    ev = events(lr_through(lr, int(steps.max())), warmup, params.rho, params.kappa)
    uq, inv = unique_steps(steps)
    exact = uq.size * ev.n <= EXACT_WORK
    pred, bound = _eval(params, ev, uq, exact, theta)
    return pred[inv], bound[inv]


def unique_steps(steps: np.ndarray) -> tuple[np.ndarray, np.ndarray | slice]:
    """``np.unique(steps, return_inverse=True)``, without its sort when ``steps`` are already strictly increasing
    (a curve's rows: the sort was half the cost of ``predict -o``); the inverse is then ``slice(None)``."""
    steps = np.asarray(steps)
    if steps.ndim == 1 and (steps.size < 2 or bool(np.all(steps[1:] > steps[:-1]))):
        return steps, slice(None)
    return np.unique(steps, return_inverse=True)


DENSE_QUERIES = 20_000
"""Above this many distinct query steps, ``predict`` evaluates anchors and interpolates (see ``predict``)."""


def predict(params: MPLParams, lr: np.ndarray, steps: np.ndarray, *, warmup: str = DEFAULT_WARMUP,
            theta: float = 0.05, tol: float = 1e-5, max_rounds: int = 24) -> np.ndarray:
    """MPL loss prediction at the query ``steps`` (see module docstring for the conventions).

    Args:
        params: fitted :class:`MPLParams` (raw LR units).
        lr: per-step LR for global steps ``0..max(steps)`` (``lr[s]`` = LR of update ``s + 1``).
        steps: query steps (any order, duplicates allowed).
        warmup: warmup convention, one of ``"area"`` (default), ``"ramp"``, ``"peak"``.
        theta: relative block width of the bounded decomposition (ignored when exact).
        tol: target absolute error (nats) of the dense-query interpolation.

    For at most ``DENSE_QUERIES`` distinct steps the result equals :func:`predict_with_bound` (exact or within its
    bound).  For more, the law is evaluated at anchor steps (a uniform grid in step and in LR area plus every step
    where the LR jumps by more than 1 % of peak) and the anchors' LD term is interpolated linearly in the LR area
    S1 (the power-law term is always exact).  Intervals whose midpoint check differs from the interpolation by more
    than ``tol`` are bisected, and so are their neighbours, until the check passes (at most ``max_rounds``).
    Tested against the naive O(T*K) sum in ``tests/laws``.
    """
    lr, steps = _check(lr, steps)
    uq, inv = unique_steps(steps)
    if uq.size <= DENSE_QUERIES:
        return predict_with_bound(params, lr, uq, warmup=warmup, theta=theta)[0][inv]
    ev = events(lr[: int(uq.max()) + 1], warmup, params.rho, params.kappa)
    S_all = ev.cs[uq]
    with np.errstate(divide="ignore"):
        power = params.L0 + params.A * S_all ** (-params.alpha)
    if ev.n == 0:
        return power[inv]

    def ld_at(idx: np.ndarray) -> np.ndarray:
        t = block_terms(ev, uq[idx], theta=theta, theta_eta=theta)
        return params.B * ld_sum(params, t)

    n = uq.size
    grid = np.linspace(0, n - 1, 2048).round().astype(np.int64)
    s_grid = np.searchsorted(S_all, np.linspace(S_all[0], S_all[-1], 2048)).clip(0, n - 1)
    lr_u = lr[uq]
    peak = float(lr.max()) or 1.0
    jump = np.flatnonzero(np.abs(np.diff(lr_u)) > 0.01 * peak)
    anchors = np.unique(np.concatenate([grid, s_grid, jump, jump + 1, [0, n - 1]]).clip(0, n - 1))
    S_a, vals = refine_anchors(anchors, S_all[anchors], ld_at(anchors), lambda m: (S_all[m], ld_at(m)), tol,
                               max_rounds)
    ld = np.interp(S_all, S_a, vals)
    return (power - ld)[inv]


def refine_anchors(anchors: np.ndarray, S_a: np.ndarray, vals: np.ndarray, at, tol: float, max_rounds: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Bisect the anchor intervals (row indices, sorted) until the annealing term, interpolated linearly in the LR
    area ``S``, is within ``tol`` at their midpoints (a failing interval's neighbours are bisected too; at most
    ``max_rounds``). ``at(rows) -> (S, term)`` evaluates new anchors. Returns the anchors' ``(S, term)``."""
    work = np.flatnonzero(np.diff(anchors) > 1)
    for _ in range(max_rounds):
        if work.size == 0:
            break
        a0 = anchors[work]
        mid = (a0 + anchors[work + 1]) // 2
        S_m, mv = at(mid)
        f = (S_m - S_a[work]) / np.maximum(S_a[work + 1] - S_a[work], 1e-300)
        est = vals[work] + f * (vals[work + 1] - vals[work])
        bad = mid[np.abs(est - mv) > tol]
        anchors = np.concatenate([anchors, mid])
        vals = np.concatenate([vals, mv])
        S_a = np.concatenate([S_a, S_m])
        order = np.argsort(anchors)
        anchors, vals, S_a = anchors[order], vals[order], S_a[order]
        p = np.searchsorted(anchors, bad)
        cand = np.unique(np.concatenate([p - 1, p]).clip(0, anchors.size - 2))
        work = cand[anchors[cand + 1] - anchors[cand] > 1]
    return S_a, vals


def predict_naive(params: MPLParams, lr: np.ndarray, steps: np.ndarray, *, warmup: str = DEFAULT_WARMUP,
                  chunk: int = 2_000_000) -> np.ndarray:
    """Straightforward O(T*K) reference: every step is a potential drop, no compression, no blocks."""
    from lrplan.laws.warmup import law_lr

    lr, steps = _check(lr, steps)
    area, drop = law_lr(lr_through(lr, int(steps.max())), warmup, params.rho, params.kappa)
    cs = np.cumsum(area)
    floor = 1e-9 * max(float(drop.max()), np.finfo(float).tiny)
    delta = np.concatenate([[0.0], drop[:-1] - drop[1:]])
    eta_g = np.exp(-params.gamma * np.log(np.maximum(drop, floor)))
    cs_prev = np.concatenate([[0.0], cs[:-1]])
    out = np.empty(steps.size)
    for i, t in enumerate(steps):
        acc = 0.0
        for a in range(1, int(t) + 1, chunk):
            b = min(int(t) + 1, a + chunk)
            x = params.C * eta_g[a:b] * (cs[t] - cs_prev[a:b])
            acc += float(np.sum(delta[a:b] * _G(x, params.beta)))
        out[i] = params.L0 + params.A * cs[t] ** (-params.alpha) - params.B * acc
    return out



# ----------------------------------------------------------------------------- predicting from a run's history
HISTORY_BATCH = 128
"""Queries evaluated together by :func:`history_parts` (their own cells are held at once)."""
HISTORY_DIRECT = 1_000_000
"""A run's summarised drops are summed one by one (no blocks) when (#queries x #summarised drops) is at most this."""
FINALS_BATCH = 128
"""Runs laid out together by :func:`predict_finals`."""
HISTORY_END_BLOCKS = 2048
"""The run a history extends is summed in blocks laid out from its end (:func:`lrplan.laws._drops.end_blocks`)
when it has more summarised drops than this."""
HISTORY_THETA = 0.02
"""Relative block width of :func:`history_parts` when cells are grouped (as :func:`predict_with_bound` groups
drops, there with 0.05)."""


def history_parts(params: MPLParams, hist, steps: np.ndarray, *, warmup: str = DEFAULT_WARMUP,
                  theta: float = HISTORY_THETA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(S, ld, bound)`` at the distinct sorted ``steps`` of a :class:`~lrplan.laws.history.History`: the LR
    area, the annealing term ``B * sum_k delta_k G(...)`` and a bound on its deviation from the exact per-update
    sum, from the run's cells (:mod:`lrplan.laws.cells`) without visiting every update: the cells near each query
    are the query's own (per update next to it), the run's cells before are summed one by one when there are few
    (:data:`HISTORY_DIRECT`), else grouped into blocks of relative width ``theta`` (and, for ``gamma > 0``,
    ``log eta`` spread 0.05) as :func:`predict_with_bound` groups drops. The bound is rigorous for LRs monotone
    between a cell's samples; the LR-area sums are accurate to ``cells.AREA_TOL`` (estimated)."""
    steps = np.asarray(steps, dtype=np.int64)
    S = np.empty(steps.size)
    ld = np.empty(steps.size)
    bound = np.empty(steps.size)
    for i, n, Si, terms in _history_terms(hist, steps, warmup, params.rho, params.kappa, params.gamma != 0, theta):
        S[i : i + n] = Si
        ld[i : i + n] = params.B * ld_sum_spread(params, terms)
        bound[i : i + n] = abs(params.B) * ld_bound(params, terms)
    return S, ld, bound


def _history_terms(hist, steps: np.ndarray, warmup: str, rho: float, kappa: float, eta_kernel: bool, theta: float):
    """The drop-sum terms of :func:`history_parts` at the sorted ``steps``, a batch of queries at a time:
    ``(first index, count, LR area, terms)``; parameter-free given ``rho``/``kappa`` and whether the kernel depends
    on the LR (``gamma != 0``: blocks also bounded in ``log eta`` spread 0.05), so an ensemble shares them."""
    from lrplan.laws import cells as C
    from lrplan.laws._drops import all_terms, concat_terms, direct_terms, end_blocks, macro_terms

    tf = C.transform(hist, warmup, rho, kappa)
    links = C.coarse(hist, tf, int(steps.max()) + 1)
    theta_eta = 0.05 if eta_kernel else np.inf  # with gamma = 0 the kernel does not depend on eta
    for i in range(0, steps.size, HISTORY_BATCH):
        t = steps[i : i + HISTORY_BATCH]
        fi = C.fine(hist, links, t)
        fq, fm = C.fine_macro(fi)
        parts = []
        for k, L in enumerate(links):
            na = fi.n_act[:, k]
            if k < len(links) - 1 and L.macro.n > HISTORY_END_BLOCKS and bool((na == L.macro.n).all()):
                # the run extended (--optimize): its drops in blocks laid out once from its end, for every query
                bl = end_blocks(L.macro, L.S_end, theta, theta_eta)
                parts.append(direct_terms(np.repeat(np.arange(t.size), bl.n), _tile(bl, t.size), fi.S))
            elif int(na.sum()) <= HISTORY_DIRECT:
                parts.append(all_terms(L.macro, fi.S, na))
            else:
                parts.append(macro_terms(L.macro, fi.S, na, theta, theta_eta))
        yield i, t.size, fi.S, concat_terms(parts + [direct_terms(fq, fm, fi.S)], t.size)


def history_many(params_list: list, hist, steps: np.ndarray, *, warmup: str = DEFAULT_WARMUP,
                 theta: float = HISTORY_THETA) -> np.ndarray:
    """:func:`predict_history` at the distinct sorted ``steps`` for several parameter sets sharing ``rho`` and
    ``kappa`` (a law's ensemble, :mod:`lrplan.laws.bands`), shape ``(len(params_list), len(steps))``: the run's
    cells and terms are laid out once (as :func:`history_parts` does) and each set sums them."""
    steps = np.asarray(steps, dtype=np.int64)
    p0 = params_list[0]
    out = np.empty((len(params_list), steps.size))
    eta = any(p.gamma != 0 for p in params_list)
    for i, n, Si, terms in _history_terms(hist, steps, warmup, p0.rho, p0.kappa, eta, theta):
        with np.errstate(divide="ignore"):
            for j, p in enumerate(params_list):
                out[j, i : i + n] = p.L0 + p.A * Si ** (-p.alpha) - p.B * ld_sum_spread(p, terms)
    return out


def many_params(params_list: list, hist, steps: np.ndarray, warmup: str) -> np.ndarray:
    """:func:`history_many` from parameter mappings (any step order; the sets grouped by ``rho``, ``kappa`` and
    whether ``gamma`` is 0, each group laid out once)."""
    ps = [MPLParams(**{k: p[k] for k in PARAM_NAMES + SHAPE_NAMES}) for p in params_list]
    steps = np.asarray(steps, dtype=np.int64)
    uq, inv = unique_steps(steps)
    out = np.empty((len(ps), uq.size))
    def key(p: MPLParams) -> tuple:  # gamma = 0 sets need no log-eta grouping: far fewer terms, laid out apart
        return (p.rho, p.kappa, p.gamma == 0)

    for sh in sorted({key(p) for p in ps}):
        rows = [i for i, p in enumerate(ps) if key(p) == sh]
        out[rows] = history_many([ps[i] for i in rows], hist, uq, warmup=warmup)
    return out[:, inv]


def _tile(mc, n: int):
    """``mc``'s events repeated for ``n`` queries (query-major), as a :class:`~lrplan.laws._drops.Macro`."""
    from lrplan.laws._drops import Macro

    return Macro(*(np.tile(getattr(mc, f), n) for f in
                   ("delta", "w", "ws", "wl", "s_lo", "s_hi", "le_lo", "le_hi", "wv", "wvl", "wc")))


def predict_history(params: MPLParams, hist, steps: np.ndarray, *, warmup: str = DEFAULT_WARMUP,
                    theta: float = HISTORY_THETA) -> tuple[np.ndarray, np.ndarray]:
    """MPL loss at ``steps`` (any order) of a run given as a :class:`~lrplan.laws.history.History`, and the bound
    of :func:`history_parts`; memory and time do not grow with the run's length (``O(log T)`` per query)."""
    steps = np.asarray(steps, dtype=np.int64)
    if steps.ndim != 1 or steps.size == 0 or steps.min() < 0 or steps.max() >= hist.total:
        raise ValueError(f"steps must be a non-empty 1-D array in [0, {hist.total - 1}]")
    uq, inv = unique_steps(steps)
    S, ld, bound = history_parts(params, hist, uq, warmup=warmup, theta=theta)
    with np.errstate(divide="ignore"):
        pred = params.L0 + params.A * S ** (-params.alpha) - ld
    return pred[inv], bound[inv]


def predict_finals(params: MPLParams, hists: list, *, warmup: str = DEFAULT_WARMUP,
                   theta: float = HISTORY_THETA) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict_history` at the last step of each of many runs (``lrplan plan``'s branches and baselines),
    their cells laid out together (:func:`lrplan.laws.cells.coarse_many`): the same numbers as one by one."""
    pred, bound = predict_finals_many([params], hists, warmup=warmup, theta=theta)
    return pred[0], bound[0]


def predict_finals_many(members: list[MPLParams], hists: list, *, warmup: str = DEFAULT_WARMUP,
                        theta: float = HISTORY_THETA) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict_finals` under several parameter sets (a law's ensemble, :mod:`lrplan.laws.bands`), shape
    ``(K, R)``: the cells depend only on the runs and ``rho``/``kappa``, so sets that share those are laid out
    once and only the sums are evaluated per set (others are evaluated one set at a time)."""
    from lrplan.laws import cells as C
    from lrplan.laws._drops import Macro, concat_terms, direct_terms

    K, R = len(members), len(hists)
    pred, bound = np.empty((K, R)), np.empty((K, R))
    shared = [k for k, m in enumerate(members) if (m.rho, m.kappa) == (members[0].rho, members[0].kappa)]
    for k in sorted(set(range(K)) - set(shared)):
        pred[k], bound[k] = predict_finals_many([members[k]], hists, warmup=warmup, theta=theta)
    ps = [members[k] for k in shared]
    if R > FINALS_BATCH:  # a bounded batch at a time (its cells are held at once)
        for i in range(0, R, FINALS_BATCH):
            a, b = predict_finals_many(ps, hists[i : i + FINALS_BATCH], warmup=warmup, theta=theta)
            pred[shared, i : i + FINALS_BATCH], bound[shared, i : i + FINALS_BATCH] = a, b
        return pred, bound
    p0 = ps[0]
    tfs = [C.transform(h, warmup, p0.rho, p0.kappa) for h in hists]
    batch = [r for r, h in enumerate(hists) if C.single_link(h)]
    links = C.coarse_many([hists[r] for r in batch], [tfs[r] for r in batch]) if batch else []
    done, qs, mcs, S = [], [], [], []
    for r, L in zip(batch, links):
        if L.reach[-1] > hists[r].total - 1 or L.macro.n > HISTORY_DIRECT:
            continue  # its last step needs cells of its own, or blocks: evaluated on its own below
        done.append(r)
        qs.append(np.full(L.macro.n, len(S), np.int64))
        mcs.append(L.macro)
        S.append(L.S_end)
    if done:
        mc = Macro(*(np.concatenate([getattr(m, f) for m in mcs]) for f in
                     ("delta", "w", "ws", "wl", "s_lo", "s_hi", "le_lo", "le_hi", "wv", "wvl", "wc")))
        Sa = np.array(S)
        terms = concat_terms([direct_terms(np.concatenate(qs), mc, Sa)], Sa.size)
        for k, p in zip(shared, ps):
            with np.errstate(divide="ignore"):
                pred[k, done] = p.L0 + p.A * Sa ** (-p.alpha) - p.B * ld_sum_spread(p, terms)
            bound[k, done] = abs(p.B) * ld_bound(p, terms)
    for r in sorted(set(range(R)) - set(done)):
        for k, p in zip(shared, ps):
            y, b = predict_history(p, hists[r], np.array([hists[r].total - 1]), warmup=warmup, theta=theta)
            pred[k, r], bound[k, r] = y[0], b[0]
    return pred, bound


def finals_params(params, hists: list, warmup: str) -> np.ndarray:
    """:func:`predict_finals` from a parameter mapping (the losses only); a list of mappings: one row per set
    (:func:`predict_finals_many`)."""
    if isinstance(params, (list, tuple)):
        sets = [MPLParams(**{k: p[k] for k in PARAM_NAMES + SHAPE_NAMES}) for p in params]
        return predict_finals_many(sets, hists, warmup=warmup)[0]
    return predict_finals(MPLParams(**{k: params[k] for k in PARAM_NAMES + SHAPE_NAMES}), hists, warmup=warmup)[0]


finals_params.many = True  # type: ignore[attr-defined]  # FittedLaw.predict_finals_members passes every set at once


def curve_history(params: MPLParams, hist, qs, *, warmup: str = DEFAULT_WARMUP, theta: float = HISTORY_THETA,
                  tol: float = 1e-5, max_rounds: int = 24, chunk: int = 1 << 17):
    """The predicted loss at the query steps ``qs`` (:class:`~lrplan.laws.history.QuerySteps`) of a run given as
    a :class:`~lrplan.laws.history.History`, as ``(steps, lr, loss)`` blocks in step order, with memory that does
    not grow with the run: :func:`predict`'s dense algorithm (anchors on a uniform grid in query index and in LR
    area and at every LR jump of more than 1 % of peak, their annealing term from :func:`history_parts`,
    intervals bisected until the linear interpolation in the LR area is within ``tol`` at their midpoints), then
    one pass over the run's updates for the exact LR area of every row."""
    from lrplan.laws import cells as C

    n = qs.size
    if n <= DENSE_QUERIES:
        for steps in qs.chunks(chunk):
            pred, _ = predict_history(params, hist, steps, warmup=warmup, theta=theta)
            yield steps, hist.lr_at(steps), pred
        return
    tf = C.transform(hist, warmup, params.rho, params.kappa)
    co = C.merge(C.coarse(hist, tf, qs.last + 1))
    # LR jumps between consecutive query rows (one pass over the rows' LRs)
    cand, cand_d, peak, prev = [], [], 0.0, None
    done = 0
    for steps in qs.chunks(chunk):
        lr_q = hist.lr_at(steps)
        peak = max(peak, float(lr_q.max()))
        seq = lr_q if prev is None else np.r_[prev, lr_q]
        d = np.abs(np.diff(seq))
        j = np.flatnonzero(d > 0.01 * peak)
        cand.append(j + (done - (0 if prev is None else 1)))
        cand_d.append(d[j])
        prev = lr_q[-1:]
        done += steps.size
    cj, cd = np.concatenate(cand), np.concatenate(cand_d)
    jump = cj[cd > 0.01 * (peak or 1.0)]

    def ld_at(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        S, ld, _ = history_parts(params, hist, qs.at(idx), warmup=warmup, theta=theta)
        return S, ld

    grid = np.linspace(0, n - 1, 2048).round().astype(np.int64)
    ends = np.array([0, n - 1])
    S_end, _ = ld_at(ends)
    cum = np.r_[co.S_before, co.S_end]
    pos = np.r_[co.starts, co.cells.v[-1]] - 1  # S at these steps (the step before each cell, and the last)
    targets = np.linspace(S_end[0], S_end[1], 2048)
    s_steps = np.interp(targets, cum, pos).round().astype(np.int64)
    s_grid = qs.index_of(s_steps)
    # and the rows at every phase start and just before it (the LR's kinks)
    edges = qs.index_of(np.concatenate([co.piece_starts, co.piece_starts - 1]).clip(0, None))
    anchors = np.unique(np.concatenate([grid, s_grid, jump, jump + 1, edges, ends]).clip(0, n - 1))
    S_a, vals = refine_anchors(anchors, *ld_at(anchors), ld_at, tol, max_rounds)
    # the rows: exact LR area of every update, the annealing term interpolated in it
    carry = 0.0
    for steps, lr in hist.chunks(0, qs.last + 1, chunk):
        a = int(steps[0])
        rows = qs.between(a, a + steps.size)
        area, _ = tf.apply(steps, lr)
        cs = np.cumsum(np.concatenate([[carry], area]))[1:]
        carry = float(cs[-1])
        if not rows.size:
            continue
        S = cs[rows - a]
        with np.errstate(divide="ignore"):
            power = params.L0 + params.A * S ** (-params.alpha)
        yield rows, lr[rows - a], power - np.interp(S, S_a, vals)

# ----------------------------------------------------------------------------- fitting rho and kappa (internal)
class ShapePrep:
    """Per-curve data for fitting ``rho`` and ``kappa`` jointly with the 7 MPL parameters (used by
    :class:`MPLShapeModel`, i.e. ``lrplan.laws.fit(..., rho="fit", kappa="fit")``).

    The block structure ``(q, a, b)`` of :func:`lrplan.laws._drops.block_index` is computed once at the initial
    shape ``(rho0, kappa0)`` and kept fixed; everything else (prefix areas, drop sizes, block centres) is
    recomputed for the current ``(rho, kappa)`` together with its analytic derivatives, so
    :func:`value_and_grad_shape` is smooth in all 9 parameters.
    """

    def __init__(self, lr: np.ndarray, warmup: str, steps: np.ndarray, rho0: float, kappa0: float,
                 theta: float = 0.05, exact: bool | None = None) -> None:
        from lrplan.laws._drops import block_index
        from lrplan.laws.warmup import split_lr

        area, drop = split_lr(lr, warmup)
        self.steps = np.asarray(steps, dtype=np.int64)
        self.pos_a = area > 0
        self.la = np.where(self.pos_a, np.log(np.where(self.pos_a, area, 1.0)), 0.0)
        ev0 = events(lr, warmup, rho0, kappa0)
        self.k = ev0.k
        if exact is None:
            exact = self.steps.size * ev0.n <= FIT_EXACT_WORK
        self.q, self.a, self.b = block_index(ev0, self.steps, theta, theta, exact)
        # block sums are differences of prefix sums at the distinct block boundaries U
        self.U, inv = np.unique(np.concatenate([self.a, self.b]), return_inverse=True)
        self.ia, self.ib = inv[: self.a.size], inv[self.a.size:]
        d_prev, d = drop[self.k - 1], drop[self.k]
        self.dmax = float(drop.max()) if drop.size else 0.0
        self.lnd_prev = np.log(np.where(d_prev > 0, d_prev, 1.0))
        self.lnd = np.log(np.where(d > 0, d, 1.0))
        self.zp, self.z = d_prev > 0, d > 0
        self.n_query = self.steps.size

    def terms(self, rho: float, kappa: float) -> dict[str, np.ndarray]:
        """Query areas ``S`` and per-term ``delta, D, log_eta`` with their d/drho, d/dkappa derivatives."""
        ar = np.where(self.pos_a, np.exp(rho * self.la), 0.0)
        cs = np.cumsum(ar)
        csr = np.cumsum(ar * self.la)
        S, Sr = cs[self.steps], csr[self.steps]
        out = {"S": S, "Sr": Sr}
        if self.q.size == 0:
            return out
        km = self.k - 1
        s_prev, s_prev_r = cs[km], csr[km]
        pp = np.where(self.zp, np.exp(kappa * self.lnd_prev), 0.0)
        pk = np.where(self.z, np.exp(kappa * self.lnd), 0.0)
        delta = pp - pk
        delta_k = pp * self.lnd_prev - pk * self.lnd
        floor = ETA_FLOOR_REL * self.dmax**kappa
        above = pk >= floor
        le = np.log(np.maximum(pk, floor))
        le_k = np.where(above, self.lnd, np.log(self.dmax))
        w = np.abs(delta)
        wk = np.sign(delta) * delta_k
        # all block sums from one stacked prefix sum (rows: see names below)
        X = np.stack([delta, delta_k, w, wk, w * s_prev, w * s_prev_r, wk * s_prev, w * le, wk * le, w * le_k])
        C = np.zeros((X.shape[0], X.shape[1] + 1))
        np.cumsum(X, axis=1, out=C[:, 1:])
        Gu = np.ascontiguousarray(C[:, self.U].T)
        Pd, Pdk, W, Wk, Pws, Pwsr, Pwks, Pwl, Pwkl, Pwlk = (Gu[self.ib] - Gu[self.ia]).T
        s_c = Pws / W
        s_c_k = (Pwks - s_c * Wk) / W
        le_c = Pwl / W
        out.update(delta=Pd, delta_k=Pdk, D=S[self.q] - s_c, D_r=Sr[self.q] - Pwsr / W, D_k=-s_c_k,
                   log_eta=le_c, log_eta_k=(Pwkl + Pwlk - le_c * Wk) / W)
        return out



def value_and_grad_shape(theta: np.ndarray, prep: ShapePrep) -> tuple[np.ndarray, np.ndarray]:
    """Prediction and Jacobian (Q x 9) w.r.t. (L0, A, alpha, B, C, beta, gamma, rho, kappa)."""
    L0, A, alpha, B, C, beta, gamma, rho, kappa = theta
    t = prep.terms(rho, kappa)
    S = t["S"]
    logS = np.log(S)
    pw = np.exp(-alpha * logS)
    n = prep.n_query
    J = np.zeros((S.size, 9))
    J[:, 0] = 1.0
    J[:, 1] = pw
    J[:, 2] = -A * pw * logS
    J[:, 7] = -alpha * A * pw / S * t["Sr"]
    pred = L0 + A * pw
    if prep.q.size == 0:
        return pred, J
    q, delta, le = prep.q, t["delta"], t["log_eta"]
    e = np.exp(-gamma * le)
    Dp = np.maximum(t["D"], 0.0)
    x = C * e * Dp
    lu = np.log1p(x)
    pu = np.exp(-beta * lu)
    G = 1.0 - pu
    w = beta * pu * x / (1.0 + x)
    dGdD = np.where(t["D"] > 0, beta * pu / (1.0 + x) * C * e, 0.0)

    def bc(v: np.ndarray) -> np.ndarray:
        return np.bincount(q, weights=v, minlength=n)

    sG = bc(delta * G)
    pred = pred - B * sG
    J[:, 3] = -sG
    J[:, 4] = -B * bc(delta * w) / C if C != 0 else 0.0
    J[:, 5] = -B * bc(delta * pu * lu)
    J[:, 6] = B * bc(delta * w * le)
    J[:, 7] -= B * bc(delta * dGdD * t["D_r"])
    J[:, 8] = -B * bc(t["delta_k"] * G + delta * dGdD * t["D_k"] - gamma * delta * w * t["log_eta_k"])
    return pred, J


# ------------------------------------------------------------------------------------ the law for the registry
DOMAINS = {"L0": (0.0, np.inf, False, True), "A": (0.0, np.inf, False, True), "alpha": (0.0, np.inf, True, True),
           "B": (0.0, np.inf, False, True), "C": (0.0, np.inf, False, True), "beta": (0.0, np.inf, True, True),
           "gamma": (0.0, np.inf, False, True), "rho": (0.0, 2.0, True, False), "kappa": (0.0, 2.0, True, False)}


class MPLModel(FitModel):
    """The 7 MPL parameters with ``rho``, ``kappa`` fixed (the fit adapter of :data:`LAW`)."""

    names = PARAM_NAMES
    log_idx = (1, 3, 4)  # A, B, C
    bounds = [(None, None), (-10, 5), (0.01, 2.0), (-10, 12), (-12, 8), (0.05, 3.0), (0.0, 1.5)]
    annealing = ("B", "C", "beta", "gamma")
    amplitude = "B"

    def __init__(self, warmup: str, rho: float = 1.0, kappa: float = 1.0, theta_blocks: float = 0.05) -> None:
        self.warmup = warmup
        self.rho = rho
        self.kappa = kappa
        self.theta_blocks = theta_blocks

    @property
    def lr_shape(self) -> tuple[float, float]:  # type: ignore[override]
        return (self.rho, self.kappa)

    def prepare(self, c, steps: np.ndarray, y: np.ndarray) -> Prepared:
        ev = events(c.lr[: int(steps.max()) + 1], self.warmup, self.rho, self.kappa)
        exact = steps.size * ev.n <= FIT_EXACT_WORK
        t = block_terms(ev, steps, theta=self.theta_blocks, theta_eta=self.theta_blocks, exact=exact)
        return Prepared(c.name, steps, y, ev.cs[steps], t)

    def value_jac(self, th: np.ndarray, p: Prepared) -> tuple[np.ndarray, np.ndarray]:
        return value_and_grad(th, p.S, p.extra)

    def starts(self, lldl: np.ndarray, annealing: bool) -> list[np.ndarray]:
        """The LLDL fit with 8 (C, beta, gamma) combinations; without annealing, one start."""
        L0, A, alpha, B = lldl
        if not annealing:
            return [np.array([L0, A, alpha, 1e-6, 1.0, 0.5, 0.5])]
        out = []
        for C in (0.5, 2.0):
            for beta in (0.4, 0.7):
                for gamma in (0.4, 0.6):
                    out.append(np.array([L0, A, alpha, max(B, 1.0) * 1.3, C, beta, gamma]))
        return out

    def params(self, th: np.ndarray) -> dict[str, float]:
        return {**super().params(th), "rho": self.rho, "kappa": self.kappa}

    @property
    def record(self) -> dict[str, list[str]]:
        return {"fitted_shape": []}


class MPLShapeModel(FitModel):
    """MPL with ``rho`` and ``kappa`` as fitted parameters (indices 7, 8; box-bounded, a bound ``(v, v)`` holds
    one at ``v``).  Two stages: the usual multi-start 7-parameter fit at ``(rho0, kappa0)``, then one 9-parameter
    L-BFGS-B refinement from its optimum with analytic d/drho, d/dkappa (:class:`ShapePrep`; ~2-5x slower)."""

    names = PARAM_NAMES + SHAPE_NAMES
    log_idx = (1, 3, 4)
    annealing = MPLModel.annealing
    amplitude = "B"

    def __init__(self, warmup: str, rho0: float, kappa0: float, rho_bounds: tuple[float, float],
                 kappa_bounds: tuple[float, float], theta_blocks: float = 0.05) -> None:
        self.warmup = warmup
        self.rho0, self.kappa0 = rho0, kappa0
        self.bounds = list(MPLModel.bounds) + [rho_bounds, kappa_bounds]
        self.theta_blocks = theta_blocks

    @property
    def lr_shape(self) -> tuple[float, float]:  # type: ignore[override]
        return (self.rho0, self.kappa0)

    @property
    def fixed(self) -> dict[str, float]:
        return {n: lo for n, (lo, hi) in zip(SHAPE_NAMES, self.bounds[7:]) if lo == hi}

    def prepare(self, c, steps: np.ndarray, y: np.ndarray) -> Prepared:
        prep = ShapePrep(c.lr[: int(steps.max()) + 1], self.warmup, steps, self.rho0, self.kappa0,
                         theta=self.theta_blocks)
        return Prepared(c.name, steps, y, prep.terms(self.rho0, self.kappa0)["S"], prep)

    def value_jac(self, th: np.ndarray, p: Prepared) -> tuple[np.ndarray, np.ndarray]:
        return value_and_grad_shape(th, p.extra)

    def screening_model(self) -> MPLModel:
        return MPLModel(self.warmup, self.rho0, self.kappa0, self.theta_blocks)

    def starts(self, lldl: np.ndarray, annealing: bool) -> list[np.ndarray]:
        return self.screening_model().starts(lldl, annealing)

    def extend(self, z: np.ndarray) -> np.ndarray:
        return np.r_[z, (self.rho0, self.kappa0)]

    @property
    def record(self) -> dict[str, list[str]]:
        return {"fitted_shape": [n for n in SHAPE_NAMES if n not in self.fixed]}


def fit_model(warmup: str, rho: float | str | None = None, kappa: float | str | None = None) -> FitModel:
    """The fit adapter: ``rho``/``kappa`` fixed (default ``DEFAULT_RHO``/``DEFAULT_KAPPA``; 1, 1 is the published
    MPL) or ``"fit"`` to fit them jointly (from ``SHAPE_INIT``, within ``SHAPE_BOUNDS``)."""
    raw = [DEFAULT_RHO if rho is None else rho, DEFAULT_KAPPA if kappa is None else kappa]
    fit_shape, vals = [False, False], []
    for i, v in enumerate(raw):
        if isinstance(v, str):
            if v != "fit":
                raise ValueError(f"rho/kappa must be a number or 'fit', got {v!r}")
            fit_shape[i] = True
            vals.append(SHAPE_INIT[i])
        else:
            vals.append(float(v))
    shape = (vals[0], vals[1])
    if not all(0.0 < v <= 2.0 for v in shape):
        raise ValueError(f"rho and kappa must lie in (0, 2], got {shape}")
    if any(fit_shape):
        return MPLShapeModel(warmup, shape[0], shape[1], SHAPE_BOUNDS if fit_shape[0] else (shape[0], shape[0]),
                             SHAPE_BOUNDS if fit_shape[1] else (shape[1], shape[1]))
    return MPLModel(warmup, *shape)


def predict_params(params, lr: np.ndarray, steps: np.ndarray, warmup: str) -> np.ndarray:
    """:func:`predict` from a parameter mapping (a law file's ``params`` with the defaults filled in)."""
    return predict(MPLParams(**{k: params[k] for k in PARAM_NAMES + SHAPE_NAMES}), lr, steps, warmup=warmup)


def history_params(params, hist, steps: np.ndarray, warmup: str) -> np.ndarray:
    """:func:`predict_history` from a parameter mapping (the loss only)."""
    p = MPLParams(**{k: params[k] for k in PARAM_NAMES + SHAPE_NAMES})
    return predict_history(p, hist, steps, warmup=warmup)[0]


def curve_params(params, hist, qs, warmup: str):
    """:func:`curve_history` from a parameter mapping."""
    return curve_history(MPLParams(**{k: params[k] for k in PARAM_NAMES + SHAPE_NAMES}), hist, qs, warmup=warmup)


def loss_bound(params, peak: float, lr: np.ndarray | None = None) -> float:
    """``L0`` minus the largest annealing gain within LR ``peak``: with ``gamma = 0`` the ``G_k`` fall with ``k`` and
    the term is below ``B * peak**kappa`` for any schedule; with ``gamma > 0`` it is below ``B * sum_k max(0,
    delta_k)`` of the schedule ``lr`` with its LR clipped to the peak (``delta_k``: the drops of ``eta**kappa``)."""
    kappa = params.get("kappa", 1.0)
    if params.get("gamma", 0.0) > 0.0 and lr is not None:
        x = np.minimum(np.asarray(lr, dtype=float), peak) ** kappa
        gain = params.get("B", 0.0) * float(np.maximum(-np.diff(x), 0.0).sum())
    else:
        gain = params.get("B", 0.0) * peak**kappa
    return params.get("L0", 0.0) - gain


LAW = LawSpec(name="multi-power", params=PARAM_NAMES, defaults={"rho": 1.0, "kappa": 1.0}, domains=DOMAINS,
              default_warmup=DEFAULT_WARMUP, predict=predict_params, loss_bound=loss_bound, fit_model=fit_model,
              options=("rho", "kappa"), predict_history=history_params, curve=curve_params,
              predict_finals=finals_params)
