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

from dataclasses import dataclass, field

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
    var: np.ndarray | None = None  # |delta|-weighted variance of S(k-1) within each term (summarised drops)
    var_le: np.ndarray | None = None  # ... of log eta_k
    cov: np.ndarray | None = None  # ... covariance of S(k-1) and log eta_k

    @property
    def size(self) -> int:
        return int(self.q.size)


def _range_tables(x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Dyadic min/max tables: level l holds min/max over aligned blocks of 2**l entries."""
    return _min_max_tables(x, x)


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


# ------------------------------------------------------------------------------------ blocks of summarised drops
@dataclass(frozen=True)
class Macro:
    """Drop events that each stand for several drops (the cells of :mod:`lrplan.laws.cells`): their summed
    ``delta``, ``w = sum |delta|``, first moments ``ws = sum |delta| S(k-1)``, ``wl = sum |delta| log eta_k`` and
    the extremes of ``S(k-1)`` (``s_lo``, ``s_hi``) and ``log eta`` (``le_lo``, ``le_hi``) over their drops. A
    single drop is ``s_lo = s_hi = ws / w``."""

    delta: np.ndarray
    w: np.ndarray
    ws: np.ndarray
    wl: np.ndarray
    s_lo: np.ndarray
    s_hi: np.ndarray
    le_lo: np.ndarray
    le_hi: np.ndarray
    wv: np.ndarray  # sum |delta| (S(k-1) - ws / w)**2: the spread of the drops within each event
    wvl: np.ndarray  # sum |delta| (log eta_k - wl / w)**2
    wc: np.ndarray  # sum |delta| (S(k-1) - ws / w) (log eta_k - wl / w)
    aux: dict = field(default_factory=dict, repr=False, compare=False)  # tables and prefix sums, built once

    @property
    def n(self) -> int:
        return int(self.delta.size)


def _min_max_tables(lo: np.ndarray, hi: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Dyadic tables: level l holds min(lo) / max(hi) over aligned blocks of 2**l entries."""
    mins, maxs = [lo], [hi]
    while mins[-1].size > 1:
        a, b = mins[-1], maxs[-1]
        if a.size % 2:
            a, b = np.append(a, a[-1]), np.append(b, b[-1])
        mins.append(np.minimum(a[0::2], a[1::2]))
        maxs.append(np.maximum(b[0::2], b[1::2]))
    return mins, maxs


def macro_terms(mc: Macro, S: np.ndarray, n_act: np.ndarray, theta: float = 0.05, theta_eta: float = 0.05) -> Terms:
    """:func:`block_terms` for summarised drops: query ``i`` (LR area ``S[i]``) gets the events ``0 .. n_act[i]-1``
    grouped into blocks whose LR-area extent is at most ``theta`` times their distance to the query, whose
    ``log eta`` spread is at most ``theta_eta`` and whose drops are of one sign (single events always qualify;
    unlike :func:`block_terms`, a block never mixes decreases and increases, whose ``|delta|``-weighted centre
    would not be their ``delta``-weighted one); each block is one term at its centre, with its extremes for the
    rigorous bound."""
    S = np.asarray(S, dtype=np.float64)
    n_act = np.asarray(n_act, dtype=np.int64)
    Q = S.size
    empty = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    if mc.n == 0 or not np.any(n_act):
        return Terms(zi, empty, empty, empty, empty, empty, empty, empty, empty, Q)
    if "tables" not in mc.aux:
        mins_, maxs_ = _min_max_tables(mc.le_lo, mc.le_hi)
        off = np.cumsum([0] + [m.size for m in mins_[:-1]]).astype(np.int64)
        mc.aux["tables"] = (np.concatenate(mins_), np.concatenate(maxs_), off, len(mins_) - 1)
        up = mc.delta < 0  # increases of the drop LR (re-warmups, jumps back to peak)
        mc.aux["P"] = tuple(np.concatenate([[0.0], np.cumsum(np.where(side, x, 0.0))])
                            for side in (~up, up) for x in (mc.w, mc.ws, mc.wl))
    fmin, fmax, off, lmax = mc.aux["tables"]
    check_spread = bool(np.isfinite(theta_eta))
    qs, As, Bs = [], [], []
    qi = np.flatnonzero(n_act > 0)
    pos = n_act[qi].copy()
    while qi.size:
        # the largest aligned level the position allows, then the largest one that qualifies: a larger aligned
        # block contains the smaller, so "qualifies" is monotone in the level and a binary search finds it
        hi = np.minimum(np.log2(pos & -pos).astype(np.int64), lmax)
        lo = np.zeros(pos.size, dtype=np.int64)
        last = mc.s_hi[pos - 1]
        lim = theta * (S[qi] - last)
        while True:
            open_ = lo < hi
            if not open_.any():
                break
            mid = (lo + hi + 1) >> 1
            a = pos - np.left_shift(1, mid)
            ok = (last - mc.s_lo[a]) <= lim
            if check_spread:
                j = off[mid] + (a >> mid)
                ok &= (fmax[j] - fmin[j]) <= theta_eta
            ok |= mid == 0
            lo = np.where(open_ & ok, mid, lo)
            hi = np.where(open_ & ~ok, mid - 1, hi)
        a = pos - np.left_shift(1, lo)
        qs.append(qi)
        As.append(a)
        Bs.append(pos)
        pos = a
        keep = pos > 0
        qi, pos = qi[keep], pos[keep]
    q, a, b = np.concatenate(qs), np.concatenate(As), np.concatenate(Bs)
    # a block's decreases and increases are two terms, each at its own |delta|-weighted centre (which, for drops
    # of one sign, is their delta-weighted centre: no first-order error from mixing them)
    terms = []
    for k, sign in ((0, 1.0), (1, -1.0)):
        Pw, Pws, Pwl = mc.aux["P"][3 * k: 3 * k + 3]
        w = Pw[b] - Pw[a]
        keep = w > 0
        qq, aa, bb, ww = q[keep], a[keep], b[keep], w[keep]
        single = (bb - aa) == 1
        with np.errstate(all="ignore"):
            s_c = np.where(single, mc.ws[aa] / mc.w[aa], (Pws[bb] - Pws[aa]) / ww)
            le_c = np.where(single, mc.wl[aa] / mc.w[aa], (Pwl[bb] - Pwl[aa]) / ww)
            var, var_le, cov = (np.where(single, x[aa] / mc.w[aa], 0.0) for x in (mc.wv, mc.wvl, mc.wc))
        ww = np.where(single, mc.w[aa], ww)
        lvl = np.log2(bb - aa).astype(np.int64)
        j = off[lvl] + (aa >> lvl)
        Sq = S[qq]
        terms.append(Terms(q=qq, delta=sign * ww, abs_delta=ww, D=Sq - s_c, log_eta=le_c, D_lo=Sq - mc.s_hi[bb - 1],
                           D_hi=Sq - mc.s_lo[aa], le_lo=fmin[j], le_hi=fmax[j], n_query=Q, var=var, var_le=var_le,
                           cov=cov))
    return concat_terms(terms, Q)


def end_blocks(mc: Macro, S_end: float, theta: float, theta_eta: float) -> Macro:
    """``mc``'s events grouped into blocks for queries at or after the point of LR area ``S_end`` (the end of the
    events' run): each block's extent is at most about ``theta`` times its distance to ``S_end`` (so to any such
    query), its ``log eta`` spread at most ``theta_eta``; events next to the end stay single. Query-independent:
    built once, each query then costs the number of blocks (``lrplan plan --optimize``'s candidates, which all
    extend one run). A block holds drops of one sign only (its centre and spread are its events'
    ``|delta|``-weighted moments, which then are their ``delta``-weighted moments too)."""
    key = ("end", S_end, theta, theta_eta)
    if key in mc.aux:
        return mc.aux[key]
    n = mc.n
    if n == 0:
        return mc
    d = np.maximum(S_end - mc.s_hi, 0.0)
    step = np.log1p(theta)
    tiny = np.finfo(float).tiny
    cls = np.floor(np.log(np.maximum(d, tiny)) / step).astype(np.int64)
    # next to the end (the distance below its events' own extent): every event on its own
    single = d <= (mc.s_hi - mc.s_lo) / theta
    key_arr = np.where(single, -np.arange(n) - 1, cls) * 2 + (mc.delta < 0)  # drops and rises never mix
    if np.isfinite(theta_eta):
        key_arr = key_arr * 4096 + np.floor(mc.le_lo / theta_eta).astype(np.int64) % 4096
    starts = np.flatnonzero(np.concatenate([[True], key_arr[1:] != key_arr[:-1]]))
    ends = np.concatenate([starts[1:], [n]])
    add = np.add.reduceat
    w = add(mc.w, starts)
    with np.errstate(all="ignore"):
        sc_e = np.where(mc.w > 0, mc.ws / mc.w, mc.s_lo)
        lc_e = np.where(mc.w > 0, mc.wl / mc.w, mc.le_lo)
        ws = add(mc.ws, starts)
        wl = add(mc.wl, starts)
        sc = ws / w
        lc = wl / w
    rep = np.repeat(np.arange(starts.size), ends - starts)
    dS, dL = sc_e - sc[rep], lc_e - lc[rep]
    out = Macro(delta=add(mc.delta, starts), w=w, ws=ws, wl=wl, s_lo=mc.s_lo[starts], s_hi=mc.s_hi[ends - 1],
                le_lo=np.minimum.reduceat(mc.le_lo, starts), le_hi=np.maximum.reduceat(mc.le_hi, starts),
                wv=add(mc.wv + mc.w * dS**2, starts), wvl=add(mc.wvl + mc.w * dL**2, starts),
                wc=add(mc.wc + mc.w * dS * dL, starts))
    mc.aux[key] = out
    return out


def direct_terms(q: np.ndarray, mc: Macro, S: np.ndarray) -> Terms:
    """One term per summarised event: event ``i`` belongs to query ``q[i]`` (LR area ``S[q[i]]``)."""
    Sq = S[q]
    with np.errstate(all="ignore"):
        s_c = mc.ws / mc.w
        le_c = mc.wl / mc.w
        var, var_le, cov = mc.wv / mc.w, mc.wvl / mc.w, mc.wc / mc.w
    return Terms(q=np.asarray(q, dtype=np.int64), delta=mc.delta, abs_delta=mc.w, D=Sq - s_c, log_eta=le_c,
                 D_lo=Sq - mc.s_hi, D_hi=Sq - mc.s_lo, le_lo=mc.le_lo, le_hi=mc.le_hi, n_query=S.size, var=var,
                 var_le=var_le, cov=cov)


def all_terms(mc: Macro, S: np.ndarray, n_act: np.ndarray) -> Terms:
    """One term per summarised event and query: query ``i`` gets the events ``0 .. n_act[i]-1`` each on its own."""
    n_act = np.asarray(n_act, dtype=np.int64)
    q = np.repeat(np.arange(S.size), n_act)
    start = np.repeat(np.cumsum(n_act) - n_act, n_act)
    j = np.arange(q.size) - start
    Sq = S[q]
    with np.errstate(all="ignore"):
        s_c = mc.ws[j] / mc.w[j]
        le_c = mc.wl[j] / mc.w[j]
        var, var_le, cov = mc.wv[j] / mc.w[j], mc.wvl[j] / mc.w[j], mc.wc[j] / mc.w[j]
    return Terms(q=q, delta=mc.delta[j], abs_delta=mc.w[j], D=Sq - s_c, log_eta=le_c, D_lo=Sq - mc.s_hi[j],
                 D_hi=Sq - mc.s_lo[j], le_lo=mc.le_lo[j], le_hi=mc.le_hi[j], n_query=S.size, var=var,
                 var_le=var_le, cov=cov)


def concat_terms(parts: list[Terms], n_query: int) -> Terms:
    cat = [np.concatenate([getattr(t, f) for t in parts]) for f in
           ("q", "delta", "abs_delta", "D", "log_eta", "D_lo", "D_hi", "le_lo", "le_hi")]
    def spread(f: str) -> np.ndarray:
        return np.concatenate([getattr(t, f) if getattr(t, f) is not None else np.zeros(t.q.size) for t in parts])

    return Terms(*cat, n_query=n_query, var=spread("var"), var_le=spread("var_le"), cov=spread("cov"))
