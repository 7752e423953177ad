"""Cells: the multi-power law's sums over a long run without visiting every update (internal).

The law needs, at a query step ``t``, the LR area ``S(t) = sum_{s<=t} area(s)`` and the drop sum
``sum_{k<=t} delta_k G(C eta_k^-gamma (S(t) - S(k-1)))`` (:mod:`lrplan.laws.multipower`). A run of 10^8 updates
has up to 10^8 drops; this module summarises it in *cells*, contiguous steps ``[u, v)`` inside one schedule piece
(a segment, cut at the warmup end):

* a cell of at most :data:`M_EXACT` steps is summed update by update (exact): one row per update, each drop its
  own event as in :mod:`lrplan.laws._drops` (one row for a cell without drops);
* a longer cell is sampled at five steps ``u = x0 < x1 < x2 < x3 < x4 = v - 1`` (and ``u - 1``). Its LR-area sum
  is the sum over the integers of the quartic through the samples (exact for polynomials up to degree 4); the
  three-sample (quadratic) sum estimates the error. A cell is split (into 2 to 64 equal parts, by how far off it
  is) until that estimate is below :data:`AREA_TOL` of its sum, its drop LR is monotone over the samples and
  its ``log eta`` changes by at most :data:`LE_SPREAD`. Its drops telescope exactly (``sum delta = drop(u-1) -
  drop(v-1)``; monotone, so ``sum |delta| = |sum delta|``); their first and second moments (centre and spread
  in ``S(k-1)`` and ``log eta_k``) come from the four quarters between the samples; the extremes
  (``S(u-1)..S(v-2)``, ``log eta`` at both ends) make the block bound rigorous for LRs that are monotone
  between the samples (every shape lrplan builds is monotone within a phase; a schedule that wiggles between
  samples 1/64 of a cell apart would escape the checks).

A run is cut into cells once (:func:`coarse`): one single-step cell at each piece start (the LR jump there), then
cells of :data:`H0` steps, refined as above; the last piece is cut towards the run's end as a query's own cells
are. A query adds its own cells (:func:`fine`) over the steps before it where the run's cells are not yet small
against their distance (:data:`RATIO`): per update for the last :data:`SINGLES` steps, then :data:`PER_LEVEL`
cells each of 2, 4, 8, ... steps. The run's cells before that window are summed one by one, or grouped into
blocks by :func:`lrplan.laws._drops.macro_terms` as drops are by :func:`lrplan.laws._drops.block_terms`. Cost per
query ``O(log T)`` LR evaluations; per run ``O(T / H0 + log T)``.

A cell is a function of its steps and its piece's LR function only: the cells of pieces that runs share are
memoised in :attr:`lrplan.laws.history.History.cache` (the WSD trunk of ``lrplan plan``), and a run extending a
long one (``--optimize``'s WSD-S candidates) reuses the other's cells as one link (:class:`Coarse`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrplan.laws._drops import ETA_FLOOR_REL, Macro
from lrplan.laws.history import History

H0 = 1 << 16
"""Size of the cells a run is first cut into (steps)."""
M_EXACT = 16
"""Cells of at most this many steps are summed per update."""
AREA_TOL = 1e-9
"""A sampled cell's LR-area sum is accepted when its (conservative) error estimate is below this fraction of it."""
LE_SPREAD = 0.025
"""... and its ``log eta`` changes by at most this much (so blocks of cells can form, as blocks of drops do; it also
keeps each cell's drops spread evenly enough for its quarter moments)."""
SINGLES = 16
"""A query's own cells: one per update for the last ``SINGLES`` steps before it, ..."""
PER_LEVEL = 8
"""... then ``PER_LEVEL`` cells each of 2, 4, 8, ... steps (a cell of ``n`` steps ``PER_LEVEL * n`` or more before)."""
RATIO = 8
"""A run's cell of ``n > 1`` steps with drops is used as it is from ``RATIO * n`` steps after it on; closer to a
query, the query's own cells replace it."""
NEAR = 2 * M_EXACT * (SINGLES + PER_LEVEL * 2 * M_EXACT)
"""Exact cells within this many steps of a run's end are kept one row per update (a query there has no cells of
its own); elsewhere an exact cell is one row with its updates' exact sums."""
CHAIN_PIECES = 8
"""A run extending another with more pieces than this reuses the other's cells as one link (see :func:`coarse`)."""


@dataclass(frozen=True)
class Transform:
    """The law's two views of the LR (:func:`lrplan.laws.warmup.law_lr`): the area LR ``** rho`` and the drop
    LR ``** kappa``, the drop LR held at ``lr_W`` during the warmup ramp (``W`` steps) unless ``conv == "ramp"``."""

    conv: str
    rho: float
    kappa: float
    W: int
    lr_W: float

    def apply(self, steps: np.ndarray, lr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.conv == "ramp":
            held = lr
        else:
            held = np.where(steps < self.W, self.lr_W, lr) if self.W > 0 else lr
        area = lr if self.conv in ("area", "ramp") else held
        drop = held
        with np.errstate(all="ignore"):
            if self.rho != 1.0:
                area = area**self.rho
            if self.kappa != 1.0:
                drop = drop**self.kappa
        return area, drop

    @property
    def key(self) -> tuple:
        return (self.conv, self.rho, self.kappa, self.W, self.lr_W if self.conv != "ramp" else None)


def transform(hist: History, conv: str, rho: float, kappa: float) -> Transform:
    """The law's view of ``hist``'s LR (its warmup end from a scan of its first updates)."""
    W = hist.warmup_length()
    lr_W = float(hist.lr_at(np.array([min(W, hist.total - 1)]))[0]) if hist.total else 0.0
    return Transform(conv, float(rho), float(kappa), W, lr_W)


# ---------------------------------------------------------------------------------------------- quadrature
def _rule_table(ms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample offsets (5) and the weights of the 5- and 3-sample sums over ``m`` consecutive integers, for each
    ``m`` of ``ms`` (all ``>= 5``): the weights make the sums exact for polynomials of degree 4 (2)."""
    m = ms.astype(np.float64)
    offs = (np.arange(5)[None, :] * (ms[:, None] - 1) + 2) // 4
    c0, h = (m - 1) / 2.0, (m - 1) / 4.0
    y = (offs - c0[:, None]) / h[:, None]
    mom = np.stack([m, np.zeros_like(m), m * (m * m - 1.0) / 12.0 / h**2, np.zeros_like(m),
                    m * (m * m - 1.0) * (3.0 * m * m - 7.0) / 240.0 / h**4], axis=1)
    V = y[:, None, :] ** np.arange(5)[None, :, None]  # V[i, p, k] = y_k ** p
    w5 = np.linalg.solve(V, mom[:, :, None])[:, :, 0]
    y3 = y[:, [0, 2, 4]]
    V3 = y3[:, None, :] ** np.arange(3)[None, :, None]
    w3 = np.linalg.solve(V3, mom[:, :3, None])[:, :, 0]
    return offs.astype(np.int64), w5, w3


_TABLE_MAX = 2 * H0 + 1
_TABLE: list = []  # offsets, 5- and 3-sample weights by cell size, filled as sizes are first met


def _rules(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_rule_table` rows for cell sizes ``m`` (memoised by size up to ``2 * H0 + 1``)."""
    if m.size and int(m.max()) > _TABLE_MAX:  # the few very long cells on their own
        big = m > _TABLE_MAX
        small = _rules(np.where(big, _TABLE_MAX, m))
        large = _rule_table(m[big])
        out = tuple(x.copy() for x in small)
        for o, l_ in zip(out, large):
            o[big] = l_
        return out  # type: ignore[return-value]
    if not _TABLE:
        n = _TABLE_MAX + 1
        _TABLE.extend([np.zeros((n, 5), np.int64), np.zeros((n, 5)), np.zeros((n, 3)), np.zeros(n, bool)])
    offs, w5, w3, have = _TABLE
    if not have[m].all():  # fill whole blocks of sizes at once: few fills over a process
        blocks = np.unique(m[~have[m]] >> 12)
        new = (blocks[:, None] * 4096 + np.arange(4096)[None, :]).ravel()
        new = new[(new > M_EXACT) & (new <= _TABLE_MAX)]
        offs[new], w5[new], w3[new] = _rule_table(new)
        have[new] = True
    return offs[m], w5[m], w3[m]


# ---------------------------------------------------------------------------------------------- raw cells
@dataclass
class Raw:
    """Cells before the LR floor is known: sampled cells (five samples each) and exact ones (every update)."""

    # sampled
    su: np.ndarray
    sv: np.ndarray
    sorg: np.ndarray
    a: np.ndarray  # (K, 5) area at the samples
    d: np.ndarray  # (K, 5) drop at the samples
    d_in: np.ndarray  # drop at u - 1
    A: np.ndarray  # area sum (5-sample rule)
    # exact
    eu: np.ndarray
    ev: np.ndarray
    eorg: np.ndarray
    e_start: np.ndarray  # offset of each exact cell's updates in the flat arrays
    e_area: np.ndarray  # area of every update of the exact cells
    e_drop: np.ndarray  # drop of every update
    e_din: np.ndarray  # drop at u - 1 per exact cell (its own drop at u when u == 0: no event)

    @staticmethod
    def empty() -> "Raw":
        z, zf = np.zeros(0, np.int64), np.zeros(0)
        return Raw(z, z, z, np.zeros((0, 5)), np.zeros((0, 5)), zf, zf, z, z, z, z, zf, zf, zf)

    @staticmethod
    def concat(parts: list["Raw"]) -> "Raw":
        if not parts:
            return Raw.empty()
        if len(parts) == 1:
            return parts[0]
        off = np.cumsum([0] + [p.e_area.size for p in parts[:-1]])
        return Raw(*(np.concatenate([p.su for p in parts]), np.concatenate([p.sv for p in parts]),
                     np.concatenate([p.sorg for p in parts]), np.concatenate([p.a for p in parts]),
                     np.concatenate([p.d for p in parts]), np.concatenate([p.d_in for p in parts]),
                     np.concatenate([p.A for p in parts]), np.concatenate([p.eu for p in parts]),
                     np.concatenate([p.ev for p in parts]), np.concatenate([p.eorg for p in parts]),
                     np.concatenate([p.e_start + o for p, o in zip(parts, off)]),
                     np.concatenate([p.e_area for p in parts]), np.concatenate([p.e_drop for p in parts]),
                     np.concatenate([p.e_din for p in parts])))

    def take(self, s_sel: np.ndarray, e_sel: np.ndarray) -> "Raw":
        """The sampled cells ``s_sel`` and exact cells ``e_sel`` (index arrays, in order)."""
        lens = self.ev[e_sel] - self.eu[e_sel]
        starts = self.e_start[e_sel]
        flat = _ranges(starts, lens)
        new_start = _excl(lens)
        return Raw(self.su[s_sel], self.sv[s_sel], self.sorg[s_sel], self.a[s_sel], self.d[s_sel], self.d_in[s_sel],
                   self.A[s_sel], self.eu[e_sel], self.ev[e_sel], self.eorg[e_sel], new_start,
                   self.e_area[flat], self.e_drop[flat], self.e_din[e_sel])

    def dmax(self) -> float:
        m = 0.0
        if self.d.size:
            m = max(m, float(self.d.max()), float(self.d_in.max()))
        if self.e_drop.size:
            m = max(m, float(self.e_drop.max()))
        return m


def _excl(lens: np.ndarray) -> np.ndarray:
    """Exclusive prefix sums (the start offset of each of consecutive runs of ``lens``)."""
    out = np.zeros(lens.size, np.int64)
    if lens.size > 1:
        np.cumsum(lens[:-1], out=out[1:])
    return out


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each start and length."""
    total = int(lens.sum()) if lens.size else 0
    if total == 0:
        return np.zeros(0, np.int64)
    rep = np.repeat(starts - _excl(lens), lens)
    return np.arange(total, dtype=np.int64) + rep


def _evaluate(hist, tf, pts: np.ndarray, porg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The area and drop LR at steps ``pts``: of one run, or (``hist`` and ``tf`` lists) of run ``porg``."""
    if not isinstance(hist, list):
        return tf.apply(pts, hist.lr_at(pts))
    area = np.empty(pts.size)
    drop = np.empty(pts.size)
    order = np.argsort(porg, kind="stable")
    so = porg[order]
    cuts = np.flatnonzero(np.diff(so)) + 1
    for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), so.size]):
        if a == b:
            continue
        sel = order[a:b]
        r = int(so[a])
        area[sel], drop[sel] = tf[r].apply(pts[sel], hist[r].lr_at(pts[sel]))
    return area, drop


def summarize(hist, tf, u: np.ndarray, v: np.ndarray, org: np.ndarray) -> Raw:
    """Cells for ``[u, v)`` (each inside one piece of ``hist`` and on one side of the warmup end), split until
    accepted (module docstring); ``org`` tags each with its origin (kept through the splits). ``hist`` and ``tf``
    may be lists, one per run: ``org`` is then the run (:func:`coarse_many`)."""
    u, v, org = (np.asarray(x, dtype=np.int64) for x in (u, v, org))
    s_parts: list[tuple] = []
    e_cells: list[tuple] = []
    while u.size:
        m = v - u
        small = m <= M_EXACT
        if small.any():
            e_cells.append((u[small], v[small], org[small]))
        u, v, org, m = u[~small], v[~small], org[~small], m[~small]
        if not u.size:
            break
        offs, w5, w3 = _rules(m)
        x = u[:, None] + offs
        pts = np.concatenate([u - 1, x.ravel()])
        area, drop = _evaluate(hist, tf, pts, np.concatenate([org, np.repeat(org, 5)]))
        K = u.size
        d_in, a, d = drop[:K], area[K:].reshape(K, 5), drop[K:].reshape(K, 5)
        A5 = np.einsum("ij,ij->i", w5, a)
        A3 = np.einsum("ij,ij->i", w3, a[:, [0, 2, 4]])
        seq = np.concatenate([d_in[:, None], d], axis=1)
        diff = np.diff(seq, axis=1)
        mono = np.all(diff <= 0, axis=1) | np.all(diff >= 0, axis=1)
        with np.errstate(all="ignore"):
            le0, le4 = np.log(np.maximum(d[:, 0], 1e-300)), np.log(np.maximum(d[:, 4], 1e-300))
            r_le = np.abs(le0 - le4) / LE_SPREAD
            r_a = np.abs(A5 - A3) / (AREA_TOL * np.abs(A5))
            ok = (r_a <= 1) & mono & (r_le <= 1) & np.isfinite(A5)
            # a rejected cell is cut into 2**k equal parts at once: k from how far it is off (the area error
            # falls ~16x per halving, the log-eta change 2x), at least 1, at most 6; not monotone: halves
            k = np.maximum(np.ceil(np.log2(np.maximum(r_le, 1.0))), np.ceil(np.log2(np.maximum(r_a, 1.0)) / 4))
            k = np.where(mono & np.isfinite(k), np.clip(k, 1, 6), 1).astype(np.int64)
        if ok.any():
            s_parts.append((u[ok], v[ok], org[ok], a[ok], d[ok], d_in[ok], A5[ok]))
        bad = ~ok
        ub, mb, ob, parts = u[bad], m[bad], org[bad], np.minimum(np.left_shift(1, k[bad]), m[bad])
        cell = np.repeat(np.arange(ub.size), parts)
        i = np.arange(cell.size) - np.repeat(np.cumsum(parts) - parts, parts)
        u = ub[cell] + (i * mb[cell]) // parts[cell]
        v = ub[cell] + ((i + 1) * mb[cell]) // parts[cell]
        org = ob[cell]
    if s_parts:
        su, sv, sorg, a, d, d_in, A = (np.concatenate([p[i] for p in s_parts]) for i in range(7))
    else:
        z = np.zeros(0, np.int64)
        su = sv = sorg = z
        a = d = np.zeros((0, 5))
        d_in = A = np.zeros(0)
    if e_cells:
        eu, ev, eorg = (np.concatenate([c[i] for c in e_cells]) for i in range(3))
        lens = ev - eu
        steps = _ranges(eu, lens)
        prev = np.maximum(eu - 1, 0)
        pts = np.concatenate([prev, steps])
        area, drop = _evaluate(hist, tf, pts, np.concatenate([eorg, np.repeat(eorg, lens)]))
        n = eu.size
        e_din = drop[:n]  # drop(u - 1); for the cell at step 0 its own drop (step 0 carries no drop)
        e_area, e_drop = area[n:], drop[n:]
        e_start = _excl(lens)
    else:
        z = np.zeros(0, np.int64)
        eu = ev = eorg = e_start = z
        e_area = e_drop = e_din = np.zeros(0)
    return Raw(su, sv, sorg, a, d, d_in, A, eu, ev, eorg, e_start, e_area, e_drop, e_din)


# ---------------------------------------------------------------------------------------------- moments
@dataclass
class Cells:
    """Cells in order (by origin, then step), with their sums; positions relative to ``S(u - 1)``."""

    u: np.ndarray
    v: np.ndarray
    org: np.ndarray
    A: np.ndarray  # LR-area sum over the cell
    delta: np.ndarray  # sum of the drops in the cell
    w: np.ndarray  # sum of |drop|
    ws: np.ndarray  # sum |drop| * (S(k-1) - S(u-1))
    wl: np.ndarray  # sum |drop| * log eta_k
    lo: np.ndarray  # min over the cell's drops of S(k-1) - S(u-1)
    hi: np.ndarray  # max
    le_lo: np.ndarray
    le_hi: np.ndarray
    wv: np.ndarray  # sum |drop| * (S(k-1) - centre)**2
    wvl: np.ndarray  # sum |drop| * (log eta_k - its centre)**2
    wc: np.ndarray  # sum |drop| * (S(k-1) - centre) * (log eta_k - its centre)

    @property
    def n(self) -> int:
        return int(self.u.size)


_FIELDS = ("A", "delta", "w", "ws", "wl", "lo", "hi", "le_lo", "le_hi", "wv", "wvl", "wc")


def _floors(floor, org: np.ndarray):
    """The LR floor of each row: one for all, or ``floor[org]`` (a floor per run)."""
    return floor[org] if isinstance(floor, np.ndarray) else floor


def _sampled(raw: Raw, floor) -> np.ndarray:
    """The sums of the sampled cells, one row each in :data:`_FIELDS` order (quarters between the samples)."""
    K = raw.su.size
    fl = _floors(floor, raw.sorg)
    fl2 = fl[:, None] if isinstance(fl, np.ndarray) else fl
    a, d, d_in = raw.a, raw.d, raw.d_in
    le = np.maximum(np.log(np.maximum(d, fl2)), np.log(fl2))
    x = raw.su[:, None] + _rules(raw.sv - raw.su)[0]
    n_q = np.diff(x, axis=1).astype(np.float64)  # (K, 4)
    t_q = n_q * (a[:, :-1] + a[:, 1:]) / 2.0 + (a[:, :-1] - a[:, 1:]) / 2.0
    trap = t_q.sum(axis=1) + a[:, 4]
    with np.errstate(all="ignore"):
        r = np.where(trap > 0, raw.A / trap, 1.0)
    P = np.zeros((K, 5))
    np.cumsum(t_q * r[:, None], axis=1, out=P[:, 1:])
    dq = np.abs(d[:, :-1] - d[:, 1:])
    ra = r[:, None] * a[:, :-1]
    cen = (P[:, :-1] + ra + P[:, 1:]) / 2.0
    w0 = np.abs(d_in - d[:, 0])
    out = np.empty((K, len(_FIELDS)))
    out[:, 0] = raw.A
    out[:, 1] = d_in - d[:, 4]
    out[:, 2] = s_w = w0 + dq.sum(axis=1)
    out[:, 3] = s_ws = (dq * cen).sum(axis=1)
    # the drops x_q < k <= x_(q+1) of quarter q have eta_k = drop(k): log eta from le(x_q + 1) to le(x_(q+1))
    lq = le[:, :-1] + (le[:, 1:] - le[:, :-1]) * (n_q + 1.0) / (2.0 * np.maximum(n_q, 1.0))
    out[:, 4] = s_wl = w0 * le[:, 0] + (dq * lq).sum(axis=1)
    out[:, 5] = 0.0
    out[:, 6] = raw.A - a[:, 4]
    out[:, 7] = np.minimum(le[:, 0], le[:, 4])
    out[:, 8] = np.maximum(le[:, 0], le[:, 4])
    # the drops' spread about their centre: between the quarters, and within each (spread evenly over its extent)
    with np.errstate(all="ignore"):
        mS = np.where(s_w > 0, s_ws / s_w, 0.0)
        mL = np.where(s_w > 0, s_wl / s_w, 0.0)
    q_ext = P[:, 1:] - (P[:, :-1] + ra)
    l_ext = (le[:, 1:] - le[:, :-1]) * (n_q - 1.0) / np.maximum(n_q, 1.0)
    dS, dL = cen - mS[:, None], lq - mL[:, None]
    out[:, 9] = (dq * (dS**2 + q_ext**2 / 12.0)).sum(axis=1) + w0 * mS**2
    out[:, 10] = (dq * (dL**2 + l_ext**2 / 12.0)).sum(axis=1) + w0 * (le[:, 0] - mL) ** 2
    out[:, 11] = (dq * (dS * dL + q_ext * l_ext / 12.0)).sum(axis=1) - w0 * mS * (le[:, 0] - mL)
    return out


def _exact_rows(raw: Raw, floor) -> tuple[np.ndarray, np.ndarray]:
    """The exact cells, one row per update (each drop its own event, as in :mod:`lrplan.laws._drops`), or one
    row for a cell without drops (its LR area summed update by update): ``(u, v, origin)`` and the rows in
    :data:`_FIELDS` order. (A query's own cells next to it: exact.)"""
    E = raw.eu.size
    lens = raw.ev - raw.eu
    cell = np.repeat(np.arange(E), lens)
    first = raw.e_start
    k = raw.eu[cell] + (np.arange(raw.e_area.size) - first[cell])
    prev = np.empty(raw.e_drop.size)
    prev[1:] = raw.e_drop[:-1]
    prev[first] = raw.e_din
    delta = np.where(k >= 1, prev - raw.e_drop, 0.0)
    w = np.abs(delta)
    quiet = np.bincount(cell, weights=(w > 0), minlength=E) == 0  # cells without a drop: one row each
    keep = ~quiet[cell]
    fl = _floors(floor, raw.eorg[cell[keep]])
    lf = np.log(fl)
    le = np.maximum(np.log(np.maximum(raw.e_drop[keep], fl)), lf)
    n1, n2 = int(keep.sum()), int(quiet.sum())
    out = np.zeros((n1 + n2, len(_FIELDS)))
    out[:n1, 0] = raw.e_area[keep]
    out[:n1, 1] = delta[keep]
    out[:n1, 2] = w[keep]
    out[:n1, 4] = w[keep] * le
    out[:n1, 7] = out[:n1, 8] = np.where(w[keep] > 0, le, lf)
    q = np.flatnonzero(quiet)
    out[n1:, 0] = np.bincount(cell, weights=raw.e_area, minlength=E)[q]
    out[n1:, 7] = out[n1:, 8] = np.log(_floors(floor, raw.eorg[q]))
    ints = np.stack([np.concatenate([k[keep], raw.eu[q]]), np.concatenate([k[keep] + 1, raw.ev[q]]),
                     np.concatenate([raw.eorg[cell[keep]], raw.eorg[q]])])
    return ints, out


def _cell_grid(raw: Raw) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The exact cells' updates as a padded matrix (one row per cell): ``(E, col, inside, idx)``: the number
    of cells, the column index, which entries are real updates, and each entry's index into the event arrays."""
    E = raw.eu.size
    lens = raw.ev - raw.eu
    col = np.arange(int(lens.max()))[None, :]
    inside = col < lens[:, None]
    idx = np.minimum(raw.e_start[:, None] + col, raw.e_area.size - 1)
    return E, col, inside, idx


def _smooth_exact(raw: Raw, floor) -> np.ndarray:
    """Which exact cells may be one row: their drops of one sign, their ``log eta`` within :data:`LE_SPREAD`
    (as a sampled cell's), so that one centre with the second-order spread correction stands for them."""
    E, col, inside, idx = _cell_grid(raw)
    drop = raw.e_drop[idx]
    prev = np.concatenate([raw.e_din[:, None], drop[:, :-1]], axis=1)
    delta = np.where(inside & ((raw.eu[:, None] + col) >= 1), prev - drop, 0.0)
    fl = _floors(floor, raw.eorg)
    fl2 = fl[:, None] if isinstance(fl, np.ndarray) else fl
    le = np.log(np.maximum(drop, fl2))
    on = delta != 0
    with np.errstate(over="ignore"):
        spread = np.where(on, le, -np.inf).max(axis=1) - np.where(on, le, np.inf).min(axis=1)
    one_sign = ~((delta > 0).any(axis=1) & (delta < 0).any(axis=1))
    return (~on.any(axis=1)) | ((spread <= LE_SPREAD) & one_sign) | (E == 0)


def _exact(raw: Raw, floor) -> tuple[np.ndarray, np.ndarray]:
    """The exact cells, one row each with the exact sums of its updates (per update: ``delta_k``, ``S(k-1)``,
    ``log eta_k``; their ``|delta|``-weighted centre and spread): ``(u, v, origin)`` and the rows in
    :data:`_FIELDS` order. A one-update cell is one drop, as in :mod:`lrplan.laws._drops`."""
    E, col, inside, idx = _cell_grid(raw)
    area = np.where(inside, raw.e_area[idx], 0.0)
    drop = raw.e_drop[idx]
    prev = np.concatenate([raw.e_din[:, None], drop[:, :-1]], axis=1)
    k = raw.eu[:, None] + col
    delta = np.where(inside & (k >= 1), prev - drop, 0.0)
    w = np.abs(delta)
    fl = _floors(floor, raw.eorg)
    fl2 = fl[:, None] if isinstance(fl, np.ndarray) else fl
    lf = np.log(fl2)
    le = np.maximum(np.log(np.maximum(drop, fl2)), lf)
    part = np.cumsum(area, axis=1) - area  # S(k-1) - S(u-1), summed update by update within the cell
    out = np.zeros((E, len(_FIELDS)))
    out[:, 0] = np.cumsum(area, axis=1)[:, -1]  # (sequential, as a run's cumulative sum)
    out[:, 1] = delta.sum(axis=1)
    out[:, 2] = sw = w.sum(axis=1)
    out[:, 3] = sws = (w * part).sum(axis=1)
    out[:, 4] = swl = (w * le).sum(axis=1)
    has = w > 0
    big = np.finfo(float).max
    out[:, 5] = np.where(sw > 0, np.where(has, part, big).min(axis=1), 0.0)
    out[:, 6] = np.where(sw > 0, np.where(has, part, -big).max(axis=1), 0.0)
    lfr = np.log(fl) if isinstance(fl, np.ndarray) else np.full(E, np.log(fl))
    out[:, 7] = np.where(sw > 0, np.where(has, le, big).min(axis=1), lfr)
    out[:, 8] = np.where(sw > 0, np.where(has, le, -big).max(axis=1), lfr)
    with np.errstate(all="ignore"):
        mS = np.where(sw > 0, sws / sw, 0.0)[:, None]
        mL = np.where(sw > 0, swl / sw, 0.0)[:, None]
    out[:, 9] = (w * (part - mS) ** 2).sum(axis=1)
    out[:, 10] = (w * (le - mL) ** 2).sum(axis=1)
    out[:, 11] = (w * (part - mS) * (le - mL)).sum(axis=1)
    return np.stack([raw.eu, raw.ev, raw.eorg]), out


def moments(raw: Raw, floor, rows=False) -> Cells:
    """The cells' sums (module docstring) with ``log eta`` floored at ``floor`` (or ``floor[origin]``), sorted by
    (origin, step). ``rows`` (for all exact cells, or one flag each): an exact cell as one row per update (next to
    a query), else one row with its updates' exact sums."""
    parts_i, parts_f, v_parts = [], [], []
    if raw.su.size:
        parts_i.append(np.stack([raw.su, raw.sorg]))
        parts_f.append(_sampled(raw, floor))
        v_parts.append(raw.sv)
    if raw.eu.size:
        per = np.broadcast_to(np.asarray(rows, dtype=bool), raw.eu.shape) | ~_smooth_exact(raw, floor)
        for sel, fn in ((per, _exact_rows), (~per, _exact)):
            if sel.any():
                sub = raw if sel.all() else raw.take(np.zeros(0, np.int64), np.flatnonzero(sel))
                ki, kf = fn(sub, floor)
                parts_i.append(ki[[0, 2]])
                parts_f.append(kf)
                v_parts.append(ki[1])
    if not parts_i:
        z, zf = np.zeros(0, np.int64), np.zeros(0)
        return Cells(z, z, z, *([zf] * len(_FIELDS)))
    ints = np.concatenate(parts_i, axis=1) if len(parts_i) > 1 else parts_i[0]
    flts = np.concatenate(parts_f) if len(parts_f) > 1 else parts_f[0]
    vv = np.concatenate(v_parts) if len(v_parts) > 1 else v_parts[0]
    u, org = ints
    if org.size and bool((org == org[0]).all()):
        order = np.argsort(u, kind="stable")
    else:
        order = np.lexsort((u, org))
    f = flts[order]
    return Cells(u[order], vv[order], org[order], *(np.ascontiguousarray(f[:, i]) for i in range(len(_FIELDS))))


# ---------------------------------------------------------------------------------------------- a run's cells
@dataclass
class Coarse:
    """The cells of the updates ``[start, stop)`` of a run, with the LR area before each and their drops as a
    :class:`~lrplan.laws._drops.Macro`. A run's cells are one such link, or (a run extending another,
    :meth:`lrplan.laws.history.History.then`) the other run's cells followed by a link for the new steps."""

    start: int
    stop: int
    cells: Cells
    S_before: np.ndarray  # S(u - 1) of each cell
    S_end: float  # S(stop - 1)
    macro: Macro
    n_macro_before: np.ndarray  # macro events among cells [0, j) for j = 0..n
    floor: float
    dmax: float
    tf: Transform
    piece_starts: np.ndarray  # pieces (cut at the warmup end) starting in [start, stop)
    reach: np.ndarray  # see _reach

    @property
    def starts(self) -> np.ndarray:
        return self.cells.u


def _pieces(hist: History, tf: Transform, start: int, stop: int) -> list[tuple[int, int, int]]:
    """``(start, end, piece index)`` of the pieces of ``[start, stop)``, cut at the warmup end."""
    out = []
    for j, p in enumerate(hist.pieces):
        a, b = max(p.start, start), min(p.end, stop)
        if a >= b:
            continue
        if tf.conv != "ramp" and a < tf.W < b:
            out += [(a, tf.W, j), (tf.W, b, j)]
        else:
            out.append((a, b, j))
    return out


def _initial(pieces: list[tuple[int, int, int]], graded: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first cut: the single update at each piece start, then :data:`H0`-step cells; the piece that ends at
    ``graded`` (a query's step + 1) is cut as a query's own cells are (:func:`fine`) towards its end, so a query
    at the last step needs no cells of its own."""
    us, vs, js = [], [], []
    for a, b, j in pieces:
        us.append(a)
        vs.append(a + 1)
        js.append(j)
        if b > a + 1:
            g = np.arange(a + 1, b, H0, dtype=np.int64)
            if graded is not None and b == graded:
                near = b - _M[_M < b - a - 1]
                g = np.union1d(g, near)
            us.extend(g.tolist())
            vs.extend(np.concatenate([g[1:], [b]]).tolist())
            js.extend([j] * g.size)
    return np.array(us, np.int64), np.array(vs, np.int64), np.array(js, np.int64)


def _raw(hist: History, tf: Transform, start: int, stop: int, graded: bool = False) -> tuple[Raw, np.ndarray]:
    """The raw cells of ``[start, stop)``, and the piece starts. The initial cells of pieces another run shares
    (:attr:`~lrplan.laws.history.History.own_from`) are memoised in ``hist.cache`` by their steps and LR
    function (and the function before, for a piece's first update); the run's own are computed with them."""
    pieces = _pieces(hist, tf, start, stop)
    u, v, j = _initial(pieces, stop if graded else None)
    piece_starts = np.array([a for a, _, _ in pieces], np.int64)
    shared = (j < hist.own_from) if hist.shared else np.zeros(u.size, bool)
    if not shared.any():  # no other run reads these cells: no need to keep them one by one
        return summarize(hist, tf, u, v, np.zeros(u.size, np.int64)), piece_starts
    memo = hist.cache.setdefault(("cells", tf.key), {})
    pstart = {int(a) for a, _, _ in pieces}
    keys: dict[int, tuple] = {}
    fns: dict[int, object] = {}
    for i in np.flatnonzero(shared).tolist():
        prev = None
        if int(u[i]) in pstart and u[i] > 0:
            prev = id(hist.pieces[int(hist.piece_index(np.array([u[i] - 1]))[0])].fn)
        fns[i] = hist.pieces[int(j[i])].fn
        keys[i] = (id(fns[i]), int(u[i]), int(v[i]), prev)
    miss = [i for i, k in keys.items() if k not in memo or memo[k][0] is not fns[i]]
    own = np.flatnonzero(~shared)
    todo = np.concatenate([np.array(miss, np.int64), own])
    parts = []
    if todo.size:
        tag = np.concatenate([np.array(miss, np.int64) + 1, np.zeros(own.size, np.int64)])  # 0: the run's own
        raw = summarize(hist, tf, u[todo], v[todo], tag)
        s_ord, e_ord = np.argsort(raw.sorg, kind="stable"), np.argsort(raw.eorg, kind="stable")
        marks = np.concatenate([[0], np.array(miss, np.int64) + 1])
        s_lo, s_hi = np.searchsorted(raw.sorg[s_ord], marks, "left"), np.searchsorted(raw.sorg[s_ord], marks, "right")
        e_lo, e_hi = np.searchsorted(raw.eorg[e_ord], marks, "left"), np.searchsorted(raw.eorg[e_ord], marks, "right")
        for t, mark in enumerate(marks.tolist()):
            part = raw.take(s_ord[s_lo[t]:s_hi[t]], e_ord[e_lo[t]:e_hi[t]])
            part.sorg = np.zeros(part.su.size, np.int64)
            part.eorg = np.zeros(part.eu.size, np.int64)
            if mark == 0:
                parts.append(part)
            else:
                memo[keys[mark - 1]] = (fns[mark - 1], part)  # the function is kept alive with its cells
    parts += [memo[k][1] for k in keys.values()]
    return Raw.concat(parts), piece_starts


def _link(hist: History, tf: Transform, start: int, stop: int, S0: float, floor: float | None = None,
          graded: bool = True) -> Coarse:
    raw, piece_starts = _raw(hist, tf, start, stop, graded)
    dmax = raw.dmax()
    if floor is None:
        floor = ETA_FLOOR_REL * max(dmax, np.finfo(float).tiny)
    cells = moments(raw, floor, _near(raw, stop) if graded else False)
    cs = np.cumsum(np.concatenate([[S0], cells.A]))
    S_before = cs[:-1]
    has = cells.w > 0
    macro = _macro(cells, S_before, np.flatnonzero(has))
    n_before = np.concatenate([[0], np.cumsum(has)]).astype(np.int64)
    return Coarse(start, stop, cells, S_before, float(cs[-1]), macro, n_before, floor, dmax, tf, piece_starts,
                  _reach(cells))


def _near(raw: Raw, stop: int) -> np.ndarray:
    """Which exact cells lie next to a run's end (a query there): those stay one row per update."""
    return raw.ev > stop - NEAR


def _reach(cells: Cells) -> np.ndarray:
    """``reach[j]``: the first query step from which all cells ``[0, j)`` are small enough against their
    distance to be used as they are (a cell with drops of ``n > 1`` steps ending at ``v`` from ``v - 1 + RATIO
    * n`` on; single updates always)."""
    size = cells.v - cells.u
    ok_from = np.where((cells.w > 0) & (size > 1), cells.v - 1 + RATIO * size, -1)
    return np.maximum.accumulate(np.concatenate([[-1], ok_from])) if ok_from.size else np.array([-1], np.int64)


def _macro(cells: Cells, S_before: np.ndarray, idx: np.ndarray) -> Macro:
    w = cells.w[idx]
    sb = S_before[idx]
    return Macro(delta=cells.delta[idx], w=w, ws=w * sb + cells.ws[idx], wl=cells.wl[idx], s_lo=sb + cells.lo[idx],
                 s_hi=sb + cells.hi[idx], le_lo=cells.le_lo[idx], le_hi=cells.le_hi[idx], wv=cells.wv[idx],
                 wvl=cells.wvl[idx], wc=cells.wc[idx])


def merge(links: list[Coarse]) -> Coarse:
    """One link for consecutive links (same floor)."""
    if len(links) == 1:
        return links[0]
    cat = np.concatenate
    cells = Cells(*(cat([getattr(L.cells, f) for L in links]) for f in
                    ("u", "v", "org", "A", "delta", "w", "ws", "wl", "lo", "hi", "le_lo", "le_hi", "wv", "wvl", "wc")))
    macro = Macro(*(cat([getattr(L.macro, f) for L in links]) for f in
                    ("delta", "w", "ws", "wl", "s_lo", "s_hi", "le_lo", "le_hi", "wv", "wvl", "wc")))
    off = np.cumsum([0] + [L.macro.n for L in links[:-1]])
    n_before = cat([links[0].n_macro_before[:1]] + [L.n_macro_before[1:] + o for L, o in zip(links, off)])
    return Coarse(links[0].start, links[-1].stop, cells, cat([L.S_before for L in links]), links[-1].S_end, macro,
                  n_before, links[0].floor, max(L.dmax for L in links), links[0].tf,
                  cat([L.piece_starts for L in links]), _reach(cells))


def coarse(hist: History, tf: Transform, stop: int, graded: bool = True) -> list[Coarse]:
    """The cells of ``hist``'s first ``stop`` updates as links (see :class:`Coarse`): the cells of the run it
    extends (:attr:`~lrplan.laws.history.History.parent`), merged into one link once, then a link for its own
    steps; so a run extending a long one costs only its own steps (``lrplan plan --optimize``)."""
    key = ("coarse", tf.key, stop, graded, tuple((id(p.fn), p.start, p.end) for p in hist.pieces))
    got = hist.cache.get(key)
    if got is not None and all(a.fn is b.fn for a, b in zip(got[0], hist.pieces)):
        return got[1]
    parent = hist.parent
    out = None
    # a long run extended (--optimize's candidates): its cells once, then only the new steps; a short one (a WSD
    # branch's trunk): one link, its shared cells memoised (the same numbers either way, unless blocks are used)
    if parent is not None and 0 < parent.total < stop and len(parent.pieces) > CHAIN_PIECES:
        base = merged(parent, tf)
        tail = _link(hist, tf, parent.total, stop, base.S_end, base.floor, graded)
        if tail.dmax <= base.dmax:  # else the LR floor rises: all cells anew
            out = [base, tail]
    if out is None:
        out = [_link(hist, tf, 0, stop, 0.0, None, graded)]
    hist.cache[key] = (list(hist.pieces), out)  # the pieces keep their functions' ids unique
    return out


def single_link(hist: History) -> bool:
    """Whether :func:`coarse` lays ``hist``'s cells out as one link (what :func:`coarse_many` computes)."""
    p = hist.parent
    return p is None or not (0 < p.total < hist.total and len(p.pieces) > CHAIN_PIECES)


def coarse_many(hists: list[History], tfs: list[Transform]) -> list[Coarse]:
    """``coarse(h, tf, h.total)[0]`` for many runs at once (each :func:`single_link`): one :func:`summarize`
    and one :func:`moments` for all of them, the same numbers as one by one (``lrplan plan``'s many runs)."""
    R = len(hists)
    group_hist: list[History] = []
    group_tf: list[Transform] = []
    group_key: list = []  # the memo key of a shared initial cell (None: a run's own cells)
    U, V, G = [], [], []
    run_parts: list[list] = [[] for _ in range(R)]  # memo keys (shared cells) of each run, in order
    run_group = np.full(R, -1, np.int64)
    piece_starts = []
    for r, (h, tf) in enumerate(zip(hists, tfs)):
        pieces = _pieces(h, tf, 0, h.total)
        u, v, j = _initial(pieces, h.total)
        piece_starts.append(np.array([a for a, _, _ in pieces], np.int64))
        shared = (j < h.own_from) if h.shared else np.zeros(u.size, bool)
        memo = h.cache.setdefault(("cells", tf.key), {}) if shared.any() else None
        pstart = {int(a) for a, _, _ in pieces}
        for i in np.flatnonzero(shared).tolist():
            prev = None
            if int(u[i]) in pstart and u[i] > 0:
                prev = id(h.pieces[int(h.piece_index(np.array([u[i] - 1]))[0])].fn)
            fn = h.pieces[int(j[i])].fn
            key = (id(fn), int(u[i]), int(v[i]), prev)
            run_parts[r].append((memo, key))
            if key not in memo or memo[key][0] is not fn:  # type: ignore[operator]
                memo[key] = (fn, None)  # type: ignore[index]  # computed below
                group_hist.append(h)
                group_tf.append(tf)
                group_key.append((memo, key))
                U.append(u[i:i + 1])
                V.append(v[i:i + 1])
                G.append(np.array([len(group_hist) - 1]))
        own = np.flatnonzero(~shared)
        if own.size:
            group_hist.append(h)
            group_tf.append(tf)
            group_key.append(None)
            run_group[r] = len(group_hist) - 1
            U.append(u[own])
            V.append(v[own])
            G.append(np.full(own.size, len(group_hist) - 1))
    raw = summarize(group_hist, group_tf, np.concatenate(U), np.concatenate(V), np.concatenate(G)) if U else Raw.empty()
    s_ord, e_ord = np.argsort(raw.sorg, kind="stable"), np.argsort(raw.eorg, kind="stable")
    gs = np.arange(len(group_hist))
    s_lo, s_hi = np.searchsorted(raw.sorg[s_ord], gs, "left"), np.searchsorted(raw.sorg[s_ord], gs, "right")
    e_lo, e_hi = np.searchsorted(raw.eorg[e_ord], gs, "left"), np.searchsorted(raw.eorg[e_ord], gs, "right")
    own_parts: dict[int, Raw] = {}
    for g in gs.tolist():
        part = raw.take(s_ord[s_lo[g]:s_hi[g]], e_ord[e_lo[g]:e_hi[g]])
        if group_key[g] is None:
            own_parts[g] = part
        else:
            memo, key = group_key[g]
            part.sorg = np.zeros(part.su.size, np.int64)
            part.eorg = np.zeros(part.eu.size, np.int64)
            memo[key] = (memo[key][0], part)
    from dataclasses import replace

    tagged = []
    for r in range(R):
        parts = ([own_parts[int(run_group[r])]] if run_group[r] >= 0 else []) + [m[k][1] for m, k in run_parts[r]]
        tagged += [replace(pt, sorg=np.full(pt.su.size, r, np.int64), eorg=np.full(pt.eu.size, r, np.int64))
                   for pt in parts]  # (a memoised part may serve several runs)
    allraw = Raw.concat(tagged)
    dm = np.zeros(R)
    if allraw.su.size:
        np.maximum.at(dm, allraw.sorg, np.maximum(allraw.d.max(axis=1), allraw.d_in))
    if allraw.eu.size:
        np.maximum.at(dm, np.repeat(allraw.eorg, allraw.ev - allraw.eu), allraw.e_drop)
    floors = ETA_FLOOR_REL * np.maximum(dm, np.finfo(float).tiny)
    stops = np.array([h.total for h in hists], np.int64)
    cells = moments(allraw, floors, allraw.ev > stops[allraw.eorg] - NEAR)
    bounds = np.searchsorted(cells.org, np.arange(R + 1), side="left")
    out = []
    for r, (h, tf) in enumerate(zip(hists, tfs)):
        a, b = int(bounds[r]), int(bounds[r + 1])
        c = Cells(*(getattr(cells, f)[a:b] for f in ("u", "v", "org", *_FIELDS)))
        c.org = np.zeros(b - a, np.int64)
        cs = np.cumsum(np.concatenate([[0.0], c.A]))
        has = c.w > 0
        S_before = cs[:-1]
        out.append(Coarse(0, h.total, c, S_before, float(cs[-1]), _macro(c, S_before, np.flatnonzero(has)),
                          np.concatenate([[0], np.cumsum(has)]).astype(np.int64), float(floors[r]), float(dm[r]), tf,
                          piece_starts[r], _reach(c)))
    return out


def merged(hist: History, tf: Transform) -> Coarse:
    """All of ``hist``'s cells as one link (cached on it)."""
    got = hist.cache.get(("merged", tf.key, id(hist)))
    if got is not None and got[0] is hist:
        return got[1]
    out = merge(coarse(hist, tf, hist.total, graded=False))
    hist.cache[("merged", tf.key, id(hist))] = (hist, out)
    hist.parent = None  # its cells stand on their own now: the run it extended (and its cells) can go
    return out


# ---------------------------------------------------------------------------------------------- queries
_M = np.unique(np.concatenate([np.arange(1, SINGLES + 1)] + [
    SINGLES * 2 ** (j - 1) + np.arange(1, PER_LEVEL + 1) * 2**j for j in range(1, 48)]).astype(np.int64))
"""Distances (in steps, from ``t + 1``) of the boundaries of a query's own cells."""


@dataclass
class Fine:
    """Per query ``q``: ``S(t_q)``, the macro events of each link before its window (``n_act[:, link]``) and its
    own cells."""

    S: np.ndarray
    n_act: np.ndarray
    cells: Cells
    S_before: np.ndarray  # absolute S(u - 1) of each own cell


def fine(hist: History, links: list[Coarse], t: np.ndarray) -> Fine:
    """Each query's window of own cells (module docstring) and ``S(t)``."""
    t = np.asarray(t, dtype=np.int64)
    Q = t.size
    # the window: from the first cell that is not yet small enough against its distance to the query
    w0 = np.zeros(Q, np.int64)
    S0 = np.zeros(Q)
    n_act = np.zeros((Q, len(links)), np.int64)
    done = np.zeros(Q, bool)  # the window starts in an earlier link
    carry = -1
    for k, L in enumerate(links):
        reach = np.maximum(L.reach, carry)  # reach[j] for j = 0..n: cells [0, j) usable
        j = np.searchsorted(reach, t, side="right") - 1  # the most cells usable by each query (>= 0)
        j = np.minimum(j, np.searchsorted(L.cells.v, t + 1, side="right"))  # and ending by the query
        here = ~done & (j < L.cells.n)
        past = ~done & ~here  # every cell of this link is usable
        n_act[past, k] = L.macro.n
        if here.any():
            jj = j[here]
            w0[here] = L.starts[jj]
            S0[here] = L.S_before[jj]
            n_act[here, k] = L.n_macro_before[jj]
            done |= here
        carry = int(reach[-1])
    rest = ~done  # every cell before the query is usable: an empty window at the run's end
    if rest.any():
        w0[rest] = links[-1].stop
        S0[rest] = links[-1].S_end
    # boundaries: t + 1 - m (m in _M) above w0, w0, piece starts (and the step after) in [w0, t]
    w0 = np.minimum(w0, t + 1)
    span = t + 1 - w0
    cnt = np.searchsorted(_M, span, side="left")  # m < span
    qb = np.repeat(np.arange(Q), cnt)
    mb = _M[_ranges(np.zeros(Q, np.int64), cnt)]
    bnd = [t[qb] + 1 - mb, w0, t + 1]
    qid = [qb, np.arange(Q), np.arange(Q)]
    ps = np.concatenate([L.piece_starts for L in links])
    lo = np.searchsorted(ps, w0, side="left")  # a piece starting at w0 still needs its single first update
    hi = np.searchsorted(ps, t, side="right")
    n_ps = np.maximum(hi - lo, 0)
    if n_ps.any():
        qp = np.repeat(np.arange(Q), n_ps)
        pp = ps[_ranges(lo, n_ps)]
        bnd += [pp, pp + 1]
        qid += [qp, qp]
    b = np.concatenate(bnd)
    q = np.concatenate(qid)
    keep = b <= t[q] + 1
    b, q = b[keep], q[keep]
    order = np.lexsort((b, q))
    b, q = b[order], q[order]
    first = np.concatenate([[True], (q[1:] != q[:-1]) | (b[1:] != b[:-1])])
    b, q = b[first], q[first]
    same = q[1:] == q[:-1]
    u, v, org = b[:-1][same], b[1:][same], q[:-1][same]
    if not u.size:  # every query at a run's last step: no cells of their own
        return Fine(S0, n_act, moments(Raw.empty(), links[0].floor), np.zeros(0))
    raw = summarize(hist, links[0].tf, u, v, org)
    cells = moments(raw, links[0].floor, rows=True)
    # LR area per query: S(w0 - 1) then its cells in order, summed sequentially row by row (a query's sums do
    # not depend on which other queries are evaluated with it)
    cstart = np.searchsorted(cells.org, np.arange(Q), side="left")
    cnt = np.searchsorted(cells.org, np.arange(Q), side="right") - cstart
    width = int(cnt.max()) + 1 if Q else 1
    col = np.arange(cells.n) - cstart[cells.org] + 1
    mat = np.zeros((Q, width))
    mat[:, 0] = S0
    mat[cells.org, col] = cells.A
    acc = np.cumsum(mat, axis=1)
    return Fine(acc[np.arange(Q), cnt], n_act, cells, acc[cells.org, col - 1])


def fine_macro(fi: Fine) -> tuple[np.ndarray, Macro]:
    """The query windows' cells that carry drops, as (query index, :class:`Macro`)."""
    idx = np.flatnonzero(fi.cells.w > 0)
    return fi.cells.org[idx], _macro(fi.cells, fi.S_before, idx)
