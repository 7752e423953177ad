"""Compressed annealing events and a bounded-error block decomposition of the drop sums (internal).

Both laws contain sums over LR changes ("drops") ``delta_k = eta_{k-1} - eta_k`` of a kernel that depends on the
query step ``t`` only through ``D = S(t) - S(k-1)`` (LR area elapsed since the drop) and ``eta_k``.

* Exact compression: only steps where the drop LR actually changes carry a term, so a piecewise-constant
  schedule with ``K`` changes costs ``O(Q*K)`` for ``Q`` query steps, independent of the run length.
* Block decomposition (Barnes-Hut style, 1-D): for each query the drops before it are cut into contiguous
  blocks whose LR-area width is at most ``theta`` times the block's distance to the query and whose
  ``log eta`` spread is at most ``theta_eta``; a block is replaced by one term at its |delta|-weighted centre.
  Blocks adjacent to the query are single drops (exact).  Cost ``O(Q log(S_total/S_min) / theta)``.
  Each block also carries its extreme ``D`` and ``log eta`` so a law with a kernel monotone in
  ``x = c * eta^-g * D`` can return a rigorous error bound ``sum |delta| (G(x_hi) - G(x_lo))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrplan.laws.warmup import law_lr

ETA_FLOOR_REL = 1e-9
"""LRs below ``ETA_FLOOR_REL * max(lr)`` are floored there inside ``eta^-gamma`` (a drop to exactly 0 is legal)."""


@dataclass(frozen=True)
class Events:
    """Per-schedule prefix sums and the compressed list of LR changes."""

    cs: np.ndarray  # cs[s] = sum(area_lr[0..s]) (forward area after the update using lr[s])
    k: np.ndarray  # step of each change (first step using the new LR), ascending, >= 1
    delta: np.ndarray  # drop_lr[k-1] - drop_lr[k] (positive = decrease)
    log_eta: np.ndarray  # log(max(drop_lr[k], floor))
    s_prev: np.ndarray  # cs[k-1]

    @property
    def n(self) -> int:
        return int(self.k.size)


def events(lr: np.ndarray, convention: str, rho: float = 1.0, kappa: float = 1.0) -> Events:
    """Build :class:`Events` for a per-step LR array under a warmup convention (and MPL power transforms)."""
    area, drop = law_lr(lr, convention, rho, kappa)
    cs = np.cumsum(area)
    k = np.flatnonzero(np.diff(drop) != 0.0) + 1
    floor = ETA_FLOOR_REL * max(float(drop.max()), np.finfo(float).tiny)
    eta = np.maximum(drop[k], floor)
    return Events(cs=cs, k=k, delta=drop[k - 1] - drop[k], log_eta=np.log(eta), s_prev=cs[k - 1])


@dataclass(frozen=True)
class Terms:
    """Flattened (query, block) terms: query index, summed delta, |delta|, centre D and log eta, extremes."""

    q: np.ndarray
    delta: np.ndarray
    abs_delta: np.ndarray
    D: np.ndarray
    log_eta: np.ndarray
    D_lo: np.ndarray
    D_hi: np.ndarray
    le_lo: np.ndarray
    le_hi: np.ndarray
    n_query: int

    @property
    def size(self) -> int:
        return int(self.q.size)


def _range_tables(x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Dyadic min/max tables: level l holds min/max over aligned blocks of 2**l entries."""
    mins, maxs = [x], [x]
    while mins[-1].size > 1:
        a, b = mins[-1], maxs[-1]
        if a.size % 2:
            a, b = np.append(a, a[-1]), np.append(b, b[-1])
        mins.append(np.minimum(a[0::2], a[1::2]))
        maxs.append(np.maximum(b[0::2], b[1::2]))
    return mins, maxs


def block_index(ev: Events, steps: np.ndarray, theta: float = 0.05, theta_eta: float = 0.05,
                exact: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block structure of the drop sums at query ``steps``: arrays ``(q, a, b)``, one entry per term, meaning
    query ``q`` gets the drops ``a .. b-1`` (indices into ``ev.k``) as one block.  See :func:`block_terms`."""
    steps = np.asarray(steps, dtype=np.int64)
    S = ev.cs[steps]
    n_active = np.searchsorted(ev.k, steps, side="right")  # drops with k <= t
    K = ev.n
    if K == 0 or not np.any(n_active):
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    if exact:
        q = np.repeat(np.arange(steps.size), n_active)
        start = np.repeat(np.cumsum(n_active) - n_active, n_active)
        j = np.arange(q.size) - start
        return q, j, j + 1

    mins, maxs = _range_tables(ev.log_eta)
    lmax = len(mins) - 1

    qs, As, Bs = [], [], []
    pos = n_active.copy()
    qi = np.arange(steps.size)
    act = pos > 0
    qi, pos = qi[act], pos[act]
    while qi.size:
        # largest aligned level allowed by pos's trailing zeros (pos > 0; log2 of a power of two is exact)
        lvl = np.minimum(np.log2(pos & -pos).astype(np.int64), lmax)
        Sq = S[qi]
        last = ev.s_prev[pos - 1]
        dist = Sq - last
        chosen = np.zeros(pos.size, dtype=np.int64)
        undecided = np.ones(pos.size, dtype=bool)
        for lv in range(lmax, 0, -1):
            cand = undecided & (lvl >= lv)
            if not cand.any():
                continue
            c = np.flatnonzero(cand)
            a = pos[c] - (1 << lv)
            width = last[c] - ev.s_prev[a]
            spread = maxs[lv][a >> lv] - mins[lv][a >> lv]
            ok = (width <= theta * dist[c]) & (spread <= theta_eta)
            chosen[c[ok]] = lv
            undecided[c[ok]] = False
        size = np.left_shift(1, chosen)
        a = pos - size
        qs.append(qi)
        As.append(a)
        Bs.append(pos)
        pos = a
        keep = pos > 0
        qi, pos = qi[keep], pos[keep]
    return np.concatenate(qs), np.concatenate(As), np.concatenate(Bs)


def block_terms(ev: Events, steps: np.ndarray, theta: float = 0.05, theta_eta: float = 0.05,
                exact: bool = False) -> Terms:
    """Decompose the drop sums at query ``steps`` into blocks (see module docstring).

    ``exact=True`` emits one term per (query, drop) pair (the exact compressed sum).
    """
    steps = np.asarray(steps, dtype=np.int64)
    q, a, b = block_index(ev, steps, theta, theta_eta, exact)
    if q.size == 0:
        empty = np.zeros(0)
        return Terms(q, empty, empty, empty, empty, empty, empty, empty, empty, steps.size)
    S = ev.cs[steps]
    if exact:
        D = S[q] - ev.s_prev[a]
        le = ev.log_eta[a]
        return Terms(q, ev.delta[a], np.abs(ev.delta[a]), D, le, D, D, le, le, steps.size)
    w = np.abs(ev.delta)
    P_d = np.concatenate([[0.0], np.cumsum(ev.delta)])
    P_w = np.concatenate([[0.0], np.cumsum(w)])
    P_ws = np.concatenate([[0.0], np.cumsum(w * ev.s_prev)])
    P_wl = np.concatenate([[0.0], np.cumsum(w * ev.log_eta)])
    mins, maxs = _range_tables(ev.log_eta)
    wsum = P_w[b] - P_w[a]
    s_c = (P_ws[b] - P_ws[a]) / wsum
    le_c = (P_wl[b] - P_wl[a]) / wsum
    single = (b - a) == 1
    s_c[single] = ev.s_prev[a[single]]
    le_c[single] = ev.log_eta[a[single]]
    # extremes for the bound: level tables give min/max of log eta per aligned block
    lvl = np.log2(b - a).astype(np.int64)
    le_lo = np.empty(q.size)
    le_hi = np.empty(q.size)
    for lv in np.unique(lvl):
        m = lvl == lv
        le_lo[m] = mins[lv][a[m] >> lv]
        le_hi[m] = maxs[lv][a[m] >> lv]
    Sq = S[q]
    return Terms(q=q, delta=P_d[b] - P_d[a], abs_delta=wsum, D=Sq - s_c, log_eta=le_c,
                 D_lo=Sq - ev.s_prev[b - 1], D_hi=Sq - ev.s_prev[a], le_lo=le_lo, le_hi=le_hi,
                 n_query=steps.size)
