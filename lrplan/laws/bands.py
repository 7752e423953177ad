"""Bands on loss predictions: which parameter directions a fit leaves undetermined, an ensemble of equally good
parameter sets ("members") along them, and a 90 % band built from the members' predictions plus a model-error
term calibrated on selection data (``benchmarks/LAW_SELECTION_16.md``, Parts 3-4).

The fit data of a typical run (a constant and a cosine run) do not identify how fast a decay pays off: the
annealing kernel's rate (Luo et al. 2025, arXiv 2503.12811, Eq. 2: ``G(x) = 1 - (1 + x)^-beta``, ``x = C eta^-gamma
S_k(t)``). At fit time :func:`profile_members` profiles the fit objective over the kernel's half-time ``h`` (the
LR area after a drop at which half of its gain is realised, at the fitted peak LR; a profile likelihood, e.g.
Venzon & Moolgavkar 1988): ``h`` is held at a grid of values around the fit, everything else is refitted, and a
parameter set is kept as a member while its objective is at most ``(1 + PROFILE_TAU)`` times the best. The members
are recorded in ``law.yaml`` (``uncertainty``), the fit's own parameters stay the centre (member 0).

A prediction's band (:func:`final_band`): the envelope of the members' predictions, widened on each side by the
model error ``z(level) sqrt((MODEL_ERROR_RMS r)^2 + (GAIN_ERROR g)^2)`` (:func:`model_error`), with ``r`` the
fit's own RMS residual in nats and ``g`` the run's annealing gain (:func:`gains`: the part of the prediction that
comes from the law's annealing term), the error of the centre law on unseen schedules that the members do not
explain (calibrated on the selection runs only, Parts 4-6). A comparison (:func:`difference_band`) pairs the
members (their common errors cancel) and adds the same with ``DIFF_ERROR_RMS``, ``DIFF_GAIN_ERROR``.
:meth:`lrplan.laws.resolve.Predictor.member_finals` returns :class:`Members`, which carry ``r`` and ``g``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

PROFILE_TAU = 0.5
"""A profiled parameter set is a member while its fit objective is at most ``1 + PROFILE_TAU`` times the best
(Part 3 of ``benchmarks/LAW_SELECTION_16.md``)."""
PROFILE_FACTOR = 2.0
"""The profile's step in the half-time ``h`` (tried outwards on each side until a set is rejected)."""
MIN_HALF_STEPS = 0.5
"""The shortest half-time profiled, in updates at the peak LR (faster kernels are all instantaneous)."""
PROFILE_ITERS = 200
"""L-BFGS-B iterations of each profile refit (from the previous member)."""
MODEL_ERROR_RMS = 2.25
"""One-sigma model error of the centre law on unseen schedules, in units of the fit's own RMS residual (calibrated on
the selection runs: ``benchmarks/LAW_SELECTION_16.md`` Part 4)."""
DIFF_ERROR_RMS = 2.75
"""One-sigma model error of a difference of two predictions, in the same units (calibrated likewise)."""
GAIN_ERROR = 0.03
"""One-sigma model error of the part of a prediction that comes from the law's annealing term, as a fraction of
that part (the *gain*: the loss of the run's constant twin minus its own, :func:`constant_twin`); added in
quadrature to ``MODEL_ERROR_RMS * r`` (``benchmarks/LAW_SELECTION_16.md`` Parts 5-6)."""
DIFF_GAIN_ERROR = 0.0
"""The same for a difference of two predictions, as a fraction of the difference of their gains."""
SLOW_KERNEL_FRACTION = 0.25
"""A fit whose annealing kernel's half-time (updates at the peak LR) is longer than this fraction of its longest
fitted run is flagged ``slow-kernel`` (:func:`slow_kernel_flag`): its data have not shown a decay paying off. A
diagnostic, set after one failure (``benchmarks/LAW_SELECTION_16.md`` Part 9: Schaipp 124M at 3e-3, ratio 1.35;
the 20 other fits there have at most 0.067)."""
SAME_LOSS = 1e-5
"""Two predictions whose difference is at most this (nats) under every member are the same run for the law: their
difference band is exactly 0. (A spec mapped onto a law's regime differs from the identical reference built there
by ~1e-4 relative in the LR, from interpolation: ~2e-6 nats.)"""
FALLBACK_RMSE = 0.003
"""The RMS residual (nats) assumed for members that do not say theirs (a bare array)."""
LEVEL = 0.9


def z_of(level: float) -> float:
    """The two-sided normal quantile: ``z_of(0.9) = 1.645``."""
    from statistics import NormalDist

    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    return NormalDist().inv_cdf(0.5 + level / 2.0)


class Members(np.ndarray):
    """Member predictions (K x n, row 0 the centre) that carry their law's fit RMS residual ``rmse`` (nats), the
    scale of the model-error term (:func:`final_band`), and optionally each column's annealing ``gain`` (nats, the
    centre's loss of the run's constant twin minus its own: :func:`constant_twin`). Slices keep both (a column
    slice keeps those columns' gains); arithmetic keeps ``rmse``."""

    rmse: float = FALLBACK_RMSE
    gain: np.ndarray | None = None

    def __new__(cls, values: Any, rmse: float = FALLBACK_RMSE, gain: Any = None) -> "Members":
        obj = np.asarray(values, dtype=float).view(cls)
        obj.rmse = float(rmse)
        obj.gain = None if gain is None else np.atleast_1d(np.asarray(gain, dtype=float))
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self.rmse = float(getattr(obj, "rmse", FALLBACK_RMSE))
        self.gain = getattr(obj, "gain", None)

    def __getitem__(self, key: Any) -> Any:
        out = super().__getitem__(key)
        if isinstance(out, Members) and self.gain is not None and self.ndim == 2:
            col = key[1] if isinstance(key, tuple) and len(key) == 2 else slice(None)
            g = self.gain if self.gain.size == self.shape[1] else np.broadcast_to(self.gain, (self.shape[1],))
            out.gain = np.atleast_1d(g[col])
        return out


def gain_of(members: Any, n: int, gain: Any = None) -> np.ndarray:
    """The annealing gain of each of ``n`` columns: ``gain`` if given, else the members' own
    (:class:`Members`), else zeros; non-finite values count as 0, one value serves every column."""
    g = gain if gain is not None else getattr(members, "gain", None)
    if g is None:
        return np.zeros(n)
    g = np.atleast_1d(np.asarray(g, dtype=float))
    if g.size not in (1, n):
        raise ValueError(f"{g.size} gains for {n} predictions")
    return np.broadcast_to(np.where(np.isfinite(g), g, 0.0), (n,)).copy()


def model_error(r: float, gain: np.ndarray, level: float = LEVEL, rms: float | None = None,
                frac: float | None = None) -> np.ndarray:
    """The model-error half-width ``z(level) sqrt((rms r)^2 + (frac gain)^2)`` per column (defaults:
    :data:`MODEL_ERROR_RMS`, :data:`GAIN_ERROR`)."""
    rms = MODEL_ERROR_RMS if rms is None else rms
    frac = GAIN_ERROR if frac is None else frac
    return z_of(level) * np.hypot(rms * r, frac * np.asarray(gain, dtype=float))


def rmse_of(members: Any, rmse: float | None = None) -> float:
    """The model-error scale: ``rmse`` if given, else the members' own (:class:`Members`), else
    :data:`FALLBACK_RMSE`; a non-finite or negative value falls back too."""
    r = rmse if rmse is not None else getattr(members, "rmse", FALLBACK_RMSE)
    try:
        r = float(r)
    except (TypeError, ValueError):
        return FALLBACK_RMSE
    return r if math.isfinite(r) and r >= 0 else FALLBACK_RMSE


def _clean(m: Any) -> np.ndarray:
    """Members as a plain 2-D float array, non-finite member predictions replaced by the centre (row 0)."""
    m = np.atleast_2d(np.asarray(m, dtype=float)).view(np.ndarray)
    bad = ~np.isfinite(m)
    if bad.any():
        m = np.where(bad, m[0][None, :], m)
    return m


def final_band(members: np.ndarray, level: float = LEVEL, rmse: float | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` per column of ``members`` (K x n; row 0 the centre): the members' envelope widened on each side
    by the calibrated model error :func:`model_error` (the fit RMS term, :func:`rmse_of`, and the annealing-gain
    term, :func:`gain_of`). Always contains the centre; one row (a law without members) gives the model-error band
    alone."""
    m = _clean(members)
    e = model_error(rmse_of(members, rmse), gain_of(members, m.shape[1]), level)
    return np.minimum(m.min(axis=0), m[0]) - e, np.maximum(m.max(axis=0), m[0]) + e


def difference_band(ma: np.ndarray, mb: np.ndarray, level: float = LEVEL, rmse: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` of ``a - b`` per column: members paired (member ``k`` of ``a`` minus member ``k`` of ``b``, so
    what they share cancels), widened by :func:`model_error` with :data:`DIFF_ERROR_RMS` and
    :data:`DIFF_GAIN_ERROR` applied to the difference of the two gains. ``lo <= 0 <= hi``: the two are
    within uncertainty (a tie); ``lo == hi == 0``: the same run (:data:`SAME_LOSS`). Ensembles of different sizes:
    the centres only."""
    a, b = _clean(ma), _clean(mb)
    if a.shape[0] != b.shape[0]:
        a, b = a[:1], b[:1]
    d = a - b
    dg = gain_of(ma, a.shape[1]) - gain_of(mb, b.shape[1])
    e = model_error(max(rmse_of(ma, rmse), rmse_of(mb, rmse)), dg, level, DIFF_ERROR_RMS, DIFF_GAIN_ERROR)
    same = np.all(np.abs(d) <= SAME_LOSS, axis=0)  # the same run twice (up to the mapping's rounding): exactly 0
    lo, hi = np.minimum(d.min(axis=0), d[0]) - e, np.maximum(d.max(axis=0), d[0]) + e
    return np.where(same, 0.0, lo), np.where(same, 0.0, hi)


def tie(ma: np.ndarray, mb: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """Whether each comparison ``a`` vs ``b`` is within uncertainty (:func:`difference_band` contains 0)."""
    lo, hi = difference_band(ma, mb, level)
    return (lo <= 0.0) & (hi >= 0.0)


def constant_twin_lr(lr: np.ndarray) -> np.ndarray:
    """A per-step LR array's constant twin: its warmup ramp (:func:`lrplan.laws.warmup.warmup_length` ``W``), then
    the LR the ramp reaches (``lr[W]``, the peak of a WSD or cosine run) held to the end; the run a schedule's
    decays are measured against (its gain, :class:`Members`)."""
    from lrplan.laws.warmup import warmup_length

    lr = np.asarray(lr, dtype=float)
    if lr.size == 0:
        return lr.copy()
    w = warmup_length(lr)
    out = np.full(lr.size, float(lr[w]))
    out[: w + 1] = lr[: w + 1]
    return out


def constant_twin(hist: Any) -> Any:
    """:func:`constant_twin_lr` of a :class:`~lrplan.laws.history.History`, as a history of two parts (the ramp's
    pieces and one constant piece), never rendered."""
    from lrplan.laws.history import History, Piece

    if hist._array is not None:
        key = ("constant twin", hist.total, id(hist._array))
        if key not in hist.cache:
            hist.cache[key] = History.from_array(constant_twin_lr(hist._array))
        return hist.cache[key]
    w, T = hist.warmup_length(), hist.total
    if w + 1 >= T:
        return hist
    top = float(hist.lr_at(np.array([w]))[0])
    key = ("constant twin", T, w, top, id(hist.pieces[0].fn))  # runs sharing this cache share their first piece
    got = hist.cache.get(key)
    if got is None:  # kept with the run, so a law's work on the twin is kept too
        got = hist.cache[key] = hist.prefix(w + 1).then(
            [Piece("constant twin", w + 1, T, lambda s: np.full(np.shape(s), top))], T, share=False)
    return got


def _ramp_key(hist: Any) -> tuple:
    """Runs with the same key have the same constant twin up to its length: the same warmup length and LR at 64
    points of the ramp, its last included."""
    w = hist.warmup_length()
    pts = np.unique(np.r_[np.linspace(0, w, 64).round().astype(np.int64), w])
    return (w, hist.lr_at(pts).tobytes())


def twin_losses(fitted: Any, hists: list, steps: list, exact_steps: int | None = None) -> list[np.ndarray]:
    """The centre law's loss of each run's constant twin (:func:`constant_twin`) at ``steps[i]`` of run ``i``:
    runs that share a ramp (:func:`_ramp_key`) share one twin, as long as the longest, read at all their steps at
    once (the law is causal: a twin's loss at a step does not depend on how long it runs)."""
    groups: dict[tuple, list[int]] = {}
    for i, h in enumerate(hists):
        groups.setdefault(_ramp_key(h), []).append(i)
    out: list[np.ndarray] = [np.zeros(0)] * len(hists)
    for idx in groups.values():
        longest = max(idx, key=lambda i: hists[i].total)
        twin = constant_twin(hists[longest])
        q = [np.asarray(steps[i], dtype=np.int64) for i in idx]
        allq, inv = np.unique(np.concatenate(q), return_inverse=True)
        with np.errstate(all="ignore"):
            y = np.asarray(fitted.predict_history(twin, allq, exact_steps), dtype=float)[inv]
        pos = 0
        for i, qi in zip(idx, q):
            out[i] = y[pos : pos + qi.size]
            pos += qi.size
    return out


def has_gain_term() -> bool:
    """Whether the bands have a gain term (:data:`GAIN_ERROR` or :data:`DIFF_GAIN_ERROR` not 0)."""
    return GAIN_ERROR != 0.0 or DIFF_GAIN_ERROR != 0.0


def gains(fitted: Any, hists: list, steps: list, centres: list, exact_steps: int | None = None
          ) -> list[np.ndarray] | None:
    """The centre's annealing gain of run ``i`` at ``steps[i]``: its constant twin's loss (:func:`twin_losses`)
    minus ``centres[i]``, a non-finite gain counted as 0; ``None`` when the bands have no gain term."""
    if not has_gain_term():
        return None
    import warnings

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tw = twin_losses(fitted, hists, steps, exact_steps)
    out = []
    for t, c in zip(tw, centres):
        g = t - np.asarray(c, dtype=float)
        out.append(np.where(np.isfinite(g), g, 0.0))
    return out


def fit_rmse(fitted: Any) -> float:
    """A fitted law's RMS residual in nats over all its fitted points (its per-curve ``rmse`` weighted by points;
    :data:`FALLBACK_RMSE` when the law file does not record them)."""
    per = (getattr(fitted, "window", None) or {}).get("per_curve") or {}
    num = den = 0.0
    for name, m in (getattr(fitted, "metrics", None) or {}).items():
        try:
            r = float(m["rmse"])
            n = float(per[name][2]) if name in per else 1.0
        except (KeyError, TypeError, ValueError, IndexError):
            continue
        if math.isfinite(r) and r >= 0 and math.isfinite(n) and n > 0:
            num += n * r * r
            den += n
    return math.sqrt(num / den) if den > 0 else FALLBACK_RMSE


# ------------------------------------------------------------------------------------------- the fit side
@dataclass(frozen=True)
class Rate:
    """How a law's kernel half-time ``log h`` depends on its fit coordinates ``z`` (multi-power: ``C`` in log
    space at ``iC``, ``beta`` at ``ib``, ``gamma`` at ``ig``): ``log h = log(2^(1/beta) - 1) - log C +
    gamma log(peak^kappa)``, the LR area after a drop at which ``G`` reaches 1/2 at LR ``peak``."""

    iC: int
    ib: int
    ig: int
    log_eta: float  # log(peak**kappa)
    area_per_step: float  # peak**rho: LR area of one update at the peak


def mpl_rate(names: Sequence[str], peak: float, rho: float, kappa: float) -> Rate | None:
    """The :class:`Rate` of a multi-power fit model (``None`` for a law without that kernel)."""
    try:
        iC, ib, ig = names.index("C"), names.index("beta"), names.index("gamma")
    except ValueError:
        return None
    return Rate(iC, ib, ig, kappa * math.log(peak), peak**rho)


def log_half(z: np.ndarray, r: Rate) -> float:
    """``log h`` at coordinates ``z`` (see :class:`Rate`)."""
    beta = float(z[r.ib])
    return math.log(2.0 ** (1.0 / beta) - 1.0) - float(z[r.iC]) + float(z[r.ig]) * r.log_eta


def half_steps(z: np.ndarray, r: Rate) -> float:
    """The kernel half-time in updates at the peak LR (``h / peak**rho``)."""
    return math.exp(log_half(z, r)) / r.area_per_step


def _with_half(z: np.ndarray, r: Rate, target: float) -> tuple[np.ndarray, float, float]:
    """``z`` with ``log C`` set so that ``log h = target``, and ``d logC / d beta``, ``d logC / d gamma``."""
    beta = float(z[r.ib])
    p = 2.0 ** (1.0 / beta)
    out = z.copy()
    out[r.iC] = math.log(p - 1.0) + float(z[r.ig]) * r.log_eta - target
    return out, p * math.log(2.0) * (-1.0 / beta**2) / (p - 1.0), r.log_eta


def profile_members(f_full: Callable[[np.ndarray], tuple[float, np.ndarray]], z_best: np.ndarray, v_best: float,
                    free: np.ndarray, bounds: list, r: Rate, max_steps: float, tau: float | None = None,
                    factor: float = PROFILE_FACTOR, iters: int = PROFILE_ITERS,
                    ) -> list[tuple[np.ndarray, float, float]]:
    """Profile the objective over ``log h`` (:class:`Rate`): outwards from the fit on both sides, ``h`` times
    ``factor`` per step, between ``MIN_HALF_STEPS`` and ``max_steps`` updates (at the peak LR), hold ``log h``
    there, refit the other free coordinates (L-BFGS-B from the previous set; ``log C`` follows from ``beta`` and
    ``gamma``), keep the set while its objective is at most ``(1 + tau) * v_best`` and stop at the first that is
    not. ``f_full(z_free) -> (value, grad)`` is the fit objective over the ``free`` coordinates; returns ``(z,
    value, log h)`` of every kept set, ordered by ``log h`` (the centre not included)."""
    from lrplan.laws.optimise import lbfgs

    tau = PROFILE_TAU if tau is None else tau  # read when called (the calibration benchmark sets it)
    idx = np.flatnonzero(free)
    if not (free[r.iC] and free[r.ib]):
        return []
    keep = [i for i in idx if i != r.iC]
    pos = {i: k for k, i in enumerate(idx)}
    sub_bounds = [bounds[pos[i]] for i in keep]
    lo_c, hi_c = bounds[pos[r.iC]]
    h0 = log_half(z_best, r)
    unit = math.log(r.area_per_step)  # log h of one update at the peak
    h_lo, h_hi = unit + math.log(MIN_HALF_STEPS), unit + math.log(max(max_steps, MIN_HALF_STEPS))
    limit = (1.0 + tau) * v_best
    out: list[tuple[np.ndarray, float, float]] = []
    for sign in (-1.0, 1.0):
        z_prev = z_best.copy()
        target = h0
        while True:
            target = target + sign * math.log(factor)
            if sign > 0:
                target = max(target, h_lo)  # an instantaneous kernel: the first slower step is MIN_HALF_STEPS
                if target > h_hi:
                    break
            elif target < h_lo:
                break

            def g(zs: np.ndarray, target: float = target, base: np.ndarray = z_prev) -> tuple[float, np.ndarray]:
                z = base.copy()
                z[keep] = zs
                z, dcb, dcg = _with_half(z, r, target)
                v, grad = f_full(z[idx])
                gd = dict(zip(idx.tolist(), grad))
                gC = gd[r.iC]
                gs = np.array([gd[i] + (gC * dcb if i == r.ib else gC * dcg if i == r.ig else 0.0) for i in keep])
                return v, gs

            zs, v = lbfgs(g, z_prev[keep], sub_bounds, iters)
            z = z_prev.copy()
            z[keep] = zs
            z, _, _ = _with_half(z, r, target)
            ok = (math.isfinite(v) and v <= limit and (lo_c is None or z[r.iC] >= lo_c)
                  and (hi_c is None or z[r.iC] <= hi_c))
            if not ok:
                break
            out.append((z, float(v), log_half(z, r)))
            z_prev = z
    out.sort(key=lambda t: t[2])
    return out


def summary(centre: dict[str, float], members: list[dict[str, float]], values: list[float], halves: list[float],
            v_best: float, h_best: float, tau: float | None = None) -> dict[str, Any]:
    """The ``uncertainty`` section of ``law.yaml``: method, members (their parameters; the centre is ``params``),
    their objectives and kernel half-times in updates at the peak LR, and what the data leave unidentified."""
    return {
        "method": "profile of the fit objective over the annealing kernel's half-time (lrplan.laws.bands)",
        "tau": float(PROFILE_TAU if tau is None else tau),
        "model_error_rms": MODEL_ERROR_RMS,
        "diff_error_rms": DIFF_ERROR_RMS,
        "gain_error": GAIN_ERROR,
        "diff_gain_error": DIFF_GAIN_ERROR,
        "centre_half_steps": float(h_best),
        "centre_objective": float(v_best),
        "members": [{k: float(v) for k, v in m.items()} for m in members],
        "member_objectives": [float(v) for v in values],
        "member_half_steps": [float(h) for h in halves],
        "unidentified": [],
    }


def slow_kernel_flag(uncertainty: Any, longest: int) -> str | None:
    """The ``slow-kernel`` flag of a fit (:data:`SLOW_KERNEL_FRACTION`), or ``None``."""
    try:
        h = float(uncertainty["centre_half_steps"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(h) and longest > 0 and h > SLOW_KERNEL_FRACTION * longest):
        return None
    return (f"slow-kernel: the fitted annealing kernel's half-time ({h:,.0f} updates at the peak LR) is longer than "
            f"{SLOW_KERNEL_FRACTION:.0%} of the longest fitted run ({longest:,} updates): these runs have not shown a decay paying off, "
            "so predictions of cooldowns extrapolate and can be far off (a fit like this put Schaipp 124M's short "
            "cooldowns 0.16 too high at peak LR 3e-3, with a narrow band); add a run with a short cooldown, see "
            "`lrplan probe`")


def members_of(uncertainty: Any, centre: dict[str, float]) -> list[dict[str, float]]:
    """The parameter sets of a law's ``uncertainty`` section, centre first (a law without one: the centre only).
    A malformed member is left out."""
    out = [dict(centre)]
    if not isinstance(uncertainty, dict):
        return out
    for m in uncertainty.get("members") or []:
        if not isinstance(m, dict):
            continue
        try:
            p = {**centre, **{str(k): float(v) for k, v in m.items()}}
        except (TypeError, ValueError):
            continue
        if all(math.isfinite(v) for v in p.values()):
            out.append(p)
    return out


COOLDOWN_FRACTIONS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
"""Linear cooldowns (fractions of the longest fitted curve) on which :func:`cooldown_spread` measures the members."""


def probe_lr(lr: np.ndarray, total: int, cooldown: int) -> np.ndarray:
    """A WSD run of ``total`` updates on the warmup of ``lr``: its warmup, then its peak LR, then a linear decay to 0
    over the last ``cooldown`` updates (``lr[s]`` the LR of update ``s + 1``, as in a fitted curve)."""
    from lrplan.laws.warmup import warmup_length

    peak = float(np.max(lr))
    w = min(warmup_length(lr), total - cooldown - 1)
    out = np.full(total, peak)
    out[: w + 1] = lr[: w + 1]
    out[total - cooldown :] = peak * (1.0 - np.arange(1, cooldown + 1) / cooldown)
    return out


def cooldown_spread(fitted: Any, longest: Any) -> list[dict[str, Any]]:
    """What the fit leaves undetermined, for ``law.yaml``: the members' range of the kernel half-time and, for WSD
    runs as long as the longest fitted curve (``longest``, a :class:`~lrplan.laws.fitted.Curve`) with linear
    cooldowns of :data:`COOLDOWN_FRACTIONS` of it, the members' range of the final loss; ``cooldown_steps`` is the
    longest of those cooldowns whose range is wider than the model-error band (:func:`final_band` without members),
    ``None`` when none is."""
    import dataclasses

    T = int(longest.steps.max()) + 1
    sets = members_of(fitted.uncertainty, fitted.params)
    laws = [dataclasses.replace(fitted, params=p, uncertainty={}) for p in sets]
    e = 2.0 * z_of(LEVEL) * MODEL_ERROR_RMS * fit_rmse(fitted)
    rows = []
    for f in COOLDOWN_FRACTIONS:
        n = max(2, int(round(f * T)))
        if n >= T - 2:
            continue
        lr = probe_lr(longest.lr, T, n)
        with np.errstate(all="ignore"):
            y = np.array([float(law.predict(lr, np.array([T - 1]))[0]) for law in laws])
        y = y[np.isfinite(y)]
        if y.size:
            rows.append({"cooldown_steps": n, "final_range": [float(y.min()), float(y.max())],
                         "centre": float(y[0])})
    wide = [r for r in rows if r["final_range"][1] - r["final_range"][0] > e]
    halves = uncertainty_halves(fitted.uncertainty)
    return [{"direction": "how fast a decay pays off (the annealing kernel's half-time)",
             "half_steps_range": halves,
             "probe": {"steps": T, "peak_lr": float(np.max(longest.lr)), "cooldown": "linear to 0"},
             "model_error_width": float(e),
             "cooldowns": rows,
             "cooldown_steps": max((r["cooldown_steps"] for r in wide), default=None)}]


def uncertainty_halves(u: Any) -> list[float]:
    """The range of kernel half-times (updates at the peak LR) over the centre and the members."""
    try:
        hs = [float(u["centre_half_steps"]), *(float(h) for h in u.get("member_half_steps") or [])]
    except (KeyError, TypeError, ValueError):
        return []
    return [min(hs), max(hs)]


def undetermined_line(u: Any) -> str | None:
    """``fit``'s one line when the data leave the decay payoff undetermined (from ``law.yaml``'s
    ``uncertainty.unidentified``), else ``None``."""
    try:
        d = u["unidentified"][0]
        n = d["cooldown_steps"]
        if n is None:
            return None
        row = min(d["cooldowns"], key=lambda r: r["cooldown_steps"])
        x, y = (float(v) for v in row["final_range"])
        m, T = int(row["cooldown_steps"]), int(d["probe"]["steps"])
    except (KeyError, TypeError, IndexError, ValueError):
        return None
    return (f"the data do not determine how fast a decay pays off: predictions for cooldowns of up to {int(n):,} "
            f"steps span up to {x:.4f}..{y:.4f} (a {T:,}-step run at peak LR with a {m:,}-step linear cooldown); "
            "add a probe run, see `lrplan probe`")
