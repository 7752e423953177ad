"""Python's ``f"{x:.9g}"`` and ``f"{x:.6f}"`` for whole float arrays, as byte matrices (no per-row Python).

``predict -o`` writes its ``lr`` column as ``.9g`` and its ``loss`` column as ``.6f``; these give the same bytes
as those f-strings (correctly rounded, ties to even, like CPython), so a streamed curve is byte-identical to one
built row by row. Rows are padded byte matrices as in :mod:`lrplan.output.numfmt` (byte 0 is padding, removed by
:func:`~lrplan.output.numfmt.join_rows`). The exact rounding: ``x * 10**k`` is computed as an exact
double-double (Dekker's product; ``10**k`` is exact for ``k <= 22``), rounded to an integer half to even; values
outside that range (an LR below 1e-14 or above 1e9, a loss above 9e9) are formatted by Python, one by one.
"""

from __future__ import annotations

import numpy as np

from lrplan.output.numfmt import _two_prod  # Dekker's exact product, shared with the g/f formatter

_P10 = np.array([float(10**k) for k in range(23)], dtype=np.float64)
_P10_I = np.array([10**k for k in range(19)], dtype=np.int64)
_DIG = np.frombuffer(b"0123456789", dtype=np.uint8)




def _round_scaled(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``x * 10**k`` (``0 <= k <= 22``, exact product below 2**53) rounded to an integer, half to even.

    The rounded float product decides wherever it is further than a few ulps from a half-integer (the exact
    product is then on the same side); only the rest takes the exact double-double product (Dekker)."""
    s = _P10[k]
    p = x * s
    r = np.rint(p)
    amb = np.abs(np.abs(p - r) - 0.5) <= 4.0 * np.spacing(np.abs(p))
    if amb.any():
        i = np.flatnonzero(amb)
        pe, err = _two_prod(x[i], s[i] if np.ndim(s) else s)
        re = np.rint(pe)
        d = pe - re
        re = np.where((d == 0.5) & (err > 0), re + 1.0, re)
        re = np.where((d == -0.5) & (err < 0), re - 1.0, re)
        r[i] = re
    return r.astype(np.int64)


_D4 = np.array([[ord(c) for c in f"{i:04d}"] for i in range(10_000)], dtype=np.uint8).view(np.uint32).ravel()


def _digits(v: np.ndarray, width: int) -> np.ndarray:
    """``(n, width)`` ASCII digits of non-negative ints, zero-filled on the left."""
    groups = -(-width // 4)
    out = np.empty((v.size, groups), dtype=np.uint32)
    r = v.astype(np.int64, copy=True)
    for g in range(groups - 1, -1, -1):
        q = r // 10_000
        out[:, g] = _D4[r - q * 10_000]
        r = q
    return out.view(np.uint8).reshape(v.size, 4 * groups)[:, 4 * groups - width :]


def _python(values: np.ndarray, spec: str, width: int) -> np.ndarray:
    out = np.zeros((values.size, width), dtype=np.uint8)
    for i, v in enumerate(values.tolist()):
        b = format(v, spec).encode()
        out[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    return out


W9 = 16


def _put(out: np.ndarray, rows, e: int, neg: bool, D: np.ndarray, onedigit: np.ndarray, ex: np.ndarray) -> None:
    """Write the ``.9g`` text of ``rows`` (all with exponent ``e`` and sign ``neg``) from their 9 digits ``D``
    (trailing zeros already blanked): CPython's layout, fixed for ``-4 <= e < 9``, else ``d.dddde+XX``."""
    c = 0
    if neg:
        out[rows, 0] = ord("-")
        c = 1
    if -4 <= e < 0:
        out[rows, c] = ord("0")
        out[rows, c + 1] = ord(".")
        c += 2
        if e < -1:
            out[rows, c : c - e - 1] = ord("0")
            c += -e - 1
        out[rows, c : c + 9] = D
    elif 0 <= e < 9:
        out[rows, c : c + e + 1] = D[:, : e + 1]
        if e < 8:
            out[rows, c + e + 1] = np.where(onedigit, 0, ord("."))  # here: no digit after the point
            out[rows, c + e + 2 : c + 10] = D[:, e + 1 :]
    else:
        out[rows, c] = D[:, 0]
        out[rows, c + 1] = np.where(onedigit, 0, ord("."))
        out[rows, c + 2 : c + 10] = D[:, 1:]
        out[rows, c + 10] = ord("e")
        out[rows, c + 11] = ord("-") if e < 0 else ord("+")
        ae = abs(e)
        if ae >= 100:
            out[rows, c + 12] = ord("0") + ae // 100
        out[rows, c + 13] = ord("0") + ae // 10 % 10
        out[rows, c + 14] = ord("0") + ae % 10


def g9_matrix(x: np.ndarray) -> np.ndarray:
    """``f"{v:.9g}"`` of each value, as a padded byte matrix."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    out = np.zeros((n, W9), dtype=np.uint8)
    if n == 0:
        return out
    ax = np.abs(x)
    pos = (ax > 0) & np.isfinite(ax)
    allpos = bool(pos.all())
    with np.errstate(all="ignore"):
        axp = ax if allpos else np.where(pos, ax, 1.0)
        e = np.floor(np.log10(axp)).astype(np.int64)
        for _ in range(3):  # log10 may be off by one near powers of ten; rounding may carry to 10**9
            m = _round_scaled(axp, np.clip(8 - e, 0, 22))
            hi, lo = m >= 10**9, m < 10**8
            if not (hi.any() or lo.any()):
                break
            e = e + hi - lo
    fast = (e <= 8) & (e >= -14) & (m >= 10**8) & (m < 10**9)
    if not allpos:
        fast &= pos
    all_fast = bool(fast.all())
    if not all_fast:
        m = np.where(fast, m, 10**8)
        e = np.where(fast, e, -1)
    # significant digits: the 9 digits of m without its trailing zeros (kept where they are integer digits)
    nd = np.full(n, 9, np.int64)
    idx = np.flatnonzero(m % 10 == 0)
    if idx.size:
        mm = m[idx] // 10
        while idx.size:
            nd[idx] -= 1
            keep = (mm % 10 == 0) & (nd[idx] > 1)
            idx, mm = idx[keep], mm[keep] // 10
    D = _digits(m, 9)
    if (nd < 9).any():
        col = np.arange(9)[None, :]
        D[(col >= nd[:, None]) & (col > np.maximum(e, -1)[:, None])] = 0
    onedigit = nd <= np.maximum(e, 0) + 1
    neg = np.signbit(x)
    key = e * 2 + neg
    k0 = int(key[0])
    runs = np.flatnonzero(key[1:] != key[:-1]) + 1
    if runs.size < 64:  # one exponent, or monotone LRs: a few runs of one exponent, written as slices
        for lo_, hi_ in zip(np.r_[0, runs], np.r_[runs, n]):
            kk = int(key[lo_])
            _put(out, slice(lo_, hi_), kk >> 1, bool(kk & 1), D[lo_:hi_], onedigit[lo_:hi_], e[lo_:hi_])
    else:
        order = np.argsort(key, kind="stable")
        sk = key[order]
        cuts = np.flatnonzero(np.diff(sk)) + 1
        for lo_, hi_ in zip(np.r_[0, cuts], np.r_[cuts, n]):
            rows = order[lo_:hi_]
            kk = int(sk[lo_])
            _put(out, rows, kk >> 1, bool(kk & 1), D[rows], onedigit[rows], e[rows])
    del k0
    if not all_fast:
        slow = ~fast
        r = np.flatnonzero(slow)
        zero = r[(ax[r] == 0)]
        out[zero] = 0
        out[zero, 0] = np.where(np.signbit(x[zero]), ord("-"), ord("0"))
        out[zero[np.signbit(x[zero])], 1] = ord("0")
        r = r[ax[r] != 0]
        if r.size:
            out[r] = _python(x[r], ".9g", W9)
    return out


F6_LIMIT = 9.0e9  # |x| * 1e6 stays below 2**53


def f6_matrix(x: np.ndarray) -> np.ndarray:
    """``f"{v:.6f}"`` of each value, as a padded byte matrix."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n == 0:
        return np.zeros((0, 1), dtype=np.uint8)
    ax = np.abs(x)
    fast = np.isfinite(ax) & (ax < F6_LIMIT)
    N = _round_scaled(np.where(fast, ax, 0.0), np.full(n, 6, np.int64))
    ip = N // 1_000_000
    fr = N - ip * 1_000_000
    nd = np.maximum(1, np.searchsorted(_P10_I, ip, side="right"))
    w = int(nd.max()) if fast.any() else 1
    neg = np.signbit(x) & fast
    W = 1 + w + 7
    out = np.zeros((n, W), dtype=np.uint8)
    I = _digits(ip, w)
    I[np.arange(w)[None, :] < (w - nd)[:, None]] = 0
    # right-align the integer part after an optional sign: sign goes just before the first digit
    out[:, 1 : 1 + w] = I
    first = 1 + w - nd
    out[np.flatnonzero(neg), (first - 1)[neg]] = ord("-")
    out[:, 1 + w] = ord(".")
    out[:, 2 + w :] = _digits(fr, 6)
    slow = ~fast
    if slow.any():
        r = np.flatnonzero(slow)
        py = _python(x[r], ".6f", max(W, 32))
        out = np.concatenate([out, np.zeros((n, max(0, py.shape[1] - W)), dtype=np.uint8)], axis=1)
        out[r] = py[:, : out.shape[1]]
    return out
