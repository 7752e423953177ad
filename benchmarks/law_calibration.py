"""Calibration of lrplan's prediction bands (issue 16 point 2; ``benchmarks/LAW_SELECTION_16.md`` Parts 3-4).

    python benchmarks/law_calibration.py --calibrate   # round 3: MODEL_ERROR_RMS, GAIN_ERROR, DIFF_* (selection only)
    python benchmarks/law_calibration.py --calibrate --round2   # round 2's rule (tau, fit-RMS terms only)
    python benchmarks/law_calibration.py               # coverage / width / signed errors, selection and held out
    python benchmarks/law_calibration.py --round2      # the same with round 2's bands (no gain term)
    python benchmarks/law_calibration.py --quick       # the 19M protocols only (~10 s)

The band (:mod:`lrplan.laws.bands`): members from a profile of the fit objective over the annealing kernel's
half-time, the 90 % band = the members' envelope widened by ``z * MODEL_ERROR_REL * centre``. The fits here are
the default law's (MPL-rk) in the protocols of ``benchmarks/law_accuracy.py``; each profile is run once with the
largest tau of the pre-registered grid and cut at smaller tau (the walk stops at the first rejected set, so the
members for a smaller tau are a prefix of each side's walk: the same sets a fit at that tau finds).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import OrderedDict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import law_accuracy as LA  # noqa: E402

from lrplan.laws import bands  # noqa: E402
from lrplan.laws import driver as D  # noqa: E402
from lrplan.laws.reference_curves import (  # noqa: E402
    MPL_SIZES, MPL_TEST, MPL_TRAIN, SCHAIPP_TRAIN, load_mpl_curves, load_schaipp_curves)

TAUS = (0.05, 0.1, 0.25, 0.5, 1.0)
S_GRID_REL = tuple(round(0.00025 * i, 5) for i in range(81))  # round 1: 0 .. 0.02 (relative to the loss)
S_GRID = tuple(0.25 * i for i in range(41))  # round 2: 0 .. 10 (in units of the fit's RMS residual)
S_GRID3 = tuple(0.25 * i for i in range(17))  # round 3: 0 .. 4 (fit RMS units)
Q_GRID3 = tuple(round(0.01 * i, 2) for i in range(31))  # round 3: 0 .. 0.30 (fraction of the annealing gain)
ROUND = {"mode": "rms", "q": 0.0, "qd": 0.0}
ROUND2_S, ROUND2_D = 1.5, 2.25  # round 2's MODEL_ERROR_RMS / DIFF_ERROR_RMS (Part 4), for --round2
LEVEL = 0.9
SCHAIPP_FAMILIES = OrderedDict([("cooldown 10-20 %", ("0.1", "0.2")), ("cooldown 40-60 %", ("0.4", "0.6")),
                                ("cooldown 80-99 %", ("0.8", "0.9", "0.994"))])


@dataclasses.dataclass
class Pred:
    """One predicted run: observed final, member finals (centre first), each member's objective and side."""

    set: str
    name: str
    obs: float
    finals: np.ndarray  # (K,)
    side: np.ndarray  # (K,): 0 centre, -1 faster kernel, +1 slower
    rank: np.ndarray  # (K,): position on its side's walk (1, 2, ...), 0 for the centre
    values: np.ndarray  # (K,) objective relative to the best
    rmse: float  # the fit's RMS residual (nats) over all fitted points
    group: str = ""  # pairs are formed within a group (set, horizon)
    gain: float = 0.0  # the centre's loss of the constant twin minus the centre's final (round 3)


def fit_all(curves: list, window: object = "auto"):
    """The default law's fit with the profile walked to the largest tau of the grid."""
    old = bands.PROFILE_TAU
    bands.PROFILE_TAU = max(TAUS)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return D.fit(curves, law="multi-power", window=window)
    finally:
        bands.PROFILE_TAU = old


def _walk(u: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """side, rank and relative objective of every member of an uncertainty section (centre first)."""
    h0 = u["centre_half_steps"]
    hs = np.array(u["member_half_steps"], dtype=float)
    vs = np.array(u["member_objectives"], dtype=float) / u["centre_objective"]
    side = np.sign(hs - h0)
    rank = np.zeros(hs.size, dtype=int)
    for s in (-1, 1):
        idx = np.flatnonzero(side == s)
        order = idx[np.argsort(np.abs(np.log(hs[idx] / h0)))]
        rank[order] = np.arange(1, order.size + 1)
    return np.r_[0, side], np.r_[0, rank], np.r_[1.0, vs]


def predictions(fl, curves: dict, names, set_name: str, group=lambda n: "") -> list[Pred]:
    ms = bands.members_of(fl.uncertainty, fl.params)
    side, rank, vals = _walk(fl.uncertainty) if fl.uncertainty else (np.zeros(1), np.zeros(1, int), np.ones(1))
    rmse = bands.fit_rmse(fl)
    out = []
    for n in names:
        c = curves[n]
        f = np.array([float(D.predict(dataclasses.replace(fl, params=m), c.lr, c.steps[-1:])[0]) for m in ms])
        twin = float(D.predict(fl, bands.constant_twin_lr(c.lr), c.steps[-1:])[0])
        out.append(Pred(set_name, n, float(c.loss[-1]), f, side, rank, vals, rmse, group(n), twin - f[0]))
    return out


def keep_mask(p: Pred, tau: float) -> np.ndarray:
    """The members a fit at ``tau`` keeps: on each side the walk up to (not including) its first rejection."""
    keep = np.ones(p.finals.size, dtype=bool)
    for s in (-1, 1):
        idx = np.flatnonzero(p.side == s)
        idx = idx[np.argsort(p.rank[idx])]
        bad = np.flatnonzero(p.values[idx] > 1.0 + tau + 1e-12)
        cut = bad[0] if bad.size else idx.size
        keep[idx[cut:]] = False
    return keep


def band(p: Pred, tau: float, s: float, q: float | None = None) -> tuple[float, float]:
    m = p.finals[keep_mask(p, tau)]
    q = ROUND["q"] if q is None else q
    e = (bands.z_of(LEVEL) * s * abs(p.finals[0]) if ROUND["mode"] == "rel"
         else float(bands.model_error(p.rmse, p.gain, LEVEL, s, q)))
    return min(m.min(), p.finals[0]) - e, max(m.max(), p.finals[0]) + e


def diff_band(a: Pred, b: Pred, tau: float, d: float, qd: float | None = None) -> tuple[float, float]:
    k = keep_mask(a, tau) & keep_mask(b, tau)
    dd = a.finals[k] - b.finals[k]
    c = a.finals[0] - b.finals[0]
    qd = ROUND["qd"] if qd is None else qd
    e = (bands.z_of(LEVEL) * d * 0.5 * (abs(a.finals[0]) + abs(b.finals[0])) if ROUND["mode"] == "rel"
         else float(bands.model_error(a.rmse, a.gain - b.gain, LEVEL, d, qd)))
    return min(dd.min(), c) - e, max(dd.max(), c) + e


def coverage(ps: list[Pred], tau: float, s: float, q: float | None = None) -> tuple[float, float, float]:
    """(coverage, mean width, mean relative width)."""
    inside, w, wr = [], [], []
    for p in ps:
        lo, hi = band(p, tau, s, q)
        inside.append(lo <= p.obs <= hi)
        w.append(hi - lo)
        wr.append((hi - lo) / abs(p.finals[0]))
    return float(np.mean(inside)), float(np.mean(w)), float(np.mean(wr))


def pair_list(ps: list[Pred]) -> list[tuple[Pred, Pred]]:
    out = []
    for a, b in itertools.combinations(ps, 2):
        if a.set == b.set and a.group == b.group and abs(a.obs - b.obs) > LA.PAIR_GAP:
            out.append((a, b))
    return out


def pair_coverage(pairs, tau: float, d: float, qd: float | None = None) -> tuple[float, float]:
    """(fraction of observed differences inside the difference band, fraction of pairs called a tie)."""
    inside, ties = [], []
    for a, b in pairs:
        lo, hi = diff_band(a, b, tau, d, qd)
        inside.append(lo <= a.obs - b.obs <= hi)
        ties.append(lo <= 0 <= hi)
    return float(np.mean(inside)), float(np.mean(ties))


def pair_width(pairs, tau: float, d: float, qd: float) -> float:
    return float(np.mean([np.subtract(*diff_band(a, b, tau, d, qd)[::-1]) for a, b in pairs]))


# ----------------------------------------------------------------------------------------------- the sets
def set19(C: dict, fit_names, runs, label: str) -> tuple[list[Pred], float]:
    t0 = time.perf_counter()
    fl = fit_all([C[n] for n in fit_names], LA.WINDOW19)
    dt = time.perf_counter() - t0
    return predictions(fl, C, [n for n in runs if n not in fit_names], label), dt


def set_schaipp(label: str) -> list[Pred]:
    root, peak = {lab: (r, p) for lab, r, p in LA.SCHAIPP_RUNS}[label]
    curves = load_schaipp_curves(root, peak=peak)
    fl = fit_all([curves[n] for n in SCHAIPP_TRAIN])
    held = [n for n in curves if n not in SCHAIPP_TRAIN]
    return predictions(fl, curves, held, f"Schaipp {label}", group=lambda n: n.rsplit("_", 1)[1])


FRESH_SCHAIPP = (("1e-4", ROOT / "tests/data/curves/schaipp2025_more/124m_lr0.0001", 1e-4, SCHAIPP_TRAIN),
                 ("3e-3", ROOT / "tests/data/curves/schaipp2025_more/124m_lr0.003", 3e-3,
                  ("constant_50000", "cosine_50000")))


def set_schaipp_fresh(label: str) -> list[Pred]:
    """Round 3's fresh held-out Schaipp peaks (Part 5): never predicted before that round."""
    root, peak, train = next((r, p, t) for lab, r, p, t in FRESH_SCHAIPP if lab == label)
    curves = load_schaipp_curves(root, peak=peak)
    fl = fit_all([curves[n] for n in train])
    held = [n for n in curves if n not in train]
    return predictions(fl, curves, held, f"Schaipp {label} (fresh)", group=lambda n: n.rsplit("_", 1)[1])


def set_sizes() -> list[list[Pred]]:
    """Round 3's fresh held-out size series (Part 5): per model, fit the constant run and the cosines, predict the
    20 % cooldowns."""
    try:
        from lrplan.laws.reference_curves import load_schaipp_sizes
    except ImportError:
        return []
    out = []
    for name, (peak, curves) in load_schaipp_sizes(ROOT / "tests/data/curves/schaipp2025_sizes").items():
        train = [n for n in curves if n.startswith(("constant", "cosine"))]
        held = [n for n in curves if n not in train]
        if not held or not train:
            continue
        fl = fit_all([curves[n] for n in train])
        out.append(predictions(fl, curves, held, f"sizes {name} (fresh)"))
    return out


def set_mpl(size: str) -> list[Pred]:
    curves = load_mpl_curves(LA.MPL_DATA, size)
    fl = fit_all([curves[n] for n in MPL_TRAIN])
    return predictions(fl, curves, MPL_TEST, f"MPL {size}M")


def selection_sets(C: dict) -> list[Pred]:
    a, _ = set19(C, LA.FIT_MAIN, LA.S19, "19M main S19")
    b, _ = set19(C, LA.FIT_PROBE, LA.S19, "19M probe S19")
    return a + b + set_schaipp("1e-3")


def heldout_sets(C: dict, quick: bool) -> list[list[Pred]]:
    """Round 3 order: the fresh held-out sets, then the second look (Part 4's held-out sets, seen before round 3)."""
    out = [] if quick else [set_schaipp_fresh("1e-4"), set_schaipp_fresh("3e-3")] + set_sizes()
    out += [set19(C, LA.FIT_MAIN, LA.R19, "19M main R19 (seen)")[0], set19(C, LA.FIT_PROBE, LA.R19, "19M probe R19 (seen)")[0]]
    if not quick:
        out += [set_schaipp("5e-4"), set_schaipp("2e-3")] + [set_mpl(s) for s in MPL_SIZES]
    return out


# ----------------------------------------------------------------------------------------------- reporting
def calibrate(sel: list[Pred]) -> tuple[float, float, float]:
    """The pre-registered rule (Part 3): per tau the smallest s with >= 90 % coverage; the tau of the smallest mean
    relative width; then the smallest d with >= 90 % of the selection pairs' differences inside."""
    best = None
    grid = S_GRID_REL if ROUND["mode"] == "rel" else S_GRID
    for tau in TAUS:
        s = next((s for s in grid if coverage(sel, tau, s)[0] >= 0.9), None)
        if s is None:
            print(f"tau {tau}: no s in the grid reaches 90 %")
            continue
        cov, w, wr = coverage(sel, tau, s)
        print(f"tau {tau:<5} s {s:.5f}: coverage {cov:.3f}, mean width {w:.4f}, mean relative width {wr:.5f}")
        if best is None or wr < best[2] - 1e-15:
            best = (tau, s, wr)
    assert best is not None
    tau, s, _ = best
    pairs = pair_list(sel)
    d = next((d for d in grid if pair_coverage(pairs, tau, d)[0] >= 0.9), grid[-1])
    pc, ties = pair_coverage(pairs, tau, d)
    print(f"chosen: tau {tau}, model error {s}, difference error {d} ({ROUND['mode']}; {len(pairs)} selection pairs: "
          f"{pc:.3f} inside, {ties:.3f} ties)")
    return tau, s, d


def calibrate3(sel: list[Pred]) -> tuple[float, float, float, float] | None:
    """Round 3's pre-registered rule (Part 5): tau stays; ``(s, q)`` with >= 90 % pooled and >= 80 % per selection
    group coverage and the smallest mean relative width (ties: smaller q, then s); then ``(d, q_d)`` with >= 90 %
    pooled and >= 80 % per group of the pairs' differences inside and the fewest ties (ties: smaller mean width,
    then smaller q_d, then d). ``None`` when no ``(s, q)`` qualifies."""
    tau = bands.PROFILE_TAU
    groups = list(dict.fromkeys(p.set for p in sel))
    by = {g: [p for p in sel if p.set == g] for g in groups}
    ok = []
    for q in Q_GRID3:
        for s in S_GRID3:
            cov, _, wr = coverage(sel, tau, s, q)
            if cov >= 0.9 - 1e-12 and all(coverage(by[g], tau, s, q)[0] >= 0.8 - 1e-12 for g in groups):
                ok.append((round(wr, 12), q, s))
    if not ok:
        print("round 3: no (s, q) in the grid meets the coverage conditions; round 2 stays")
        return None
    wr, q, s = min(ok)
    cov, w, _ = coverage(sel, tau, s, q)
    print(f"round 3 (s, q) = ({s}, {q}): pooled coverage {cov:.3f}, mean width {w:.4f}, mean relative width {wr:.5f}; "
          + ", ".join(f"{g} {coverage(by[g], tau, s, q)[0]:.0%}" for g in groups))
    pairs = pair_list(sel)
    pg = {g: [(a, b) for a, b in pairs if a.set == g] for g in groups}
    okd = []
    for qd in Q_GRID3:
        for d in S_GRID3:
            inside, ties = pair_coverage(pairs, tau, d, qd)
            if inside >= 0.9 - 1e-12 and all(pair_coverage(pg[g], tau, d, qd)[0] >= 0.8 - 1e-12 for g in groups if pg[g]):
                okd.append((round(ties, 12), round(pair_width(pairs, tau, d, qd), 12), qd, d))
    if not okd:
        print("round 3: no (d, q_d) meets the pair conditions; the largest of the grid is used")
        d, qd = S_GRID3[-1], Q_GRID3[-1]
    else:
        _, _, qd, d = min(okd)
    inside, ties = pair_coverage(pairs, tau, d, qd)
    print(f"round 3 (d, q_d) = ({d}, {qd}): {len(pairs)} selection pairs, {inside:.3f} inside, {ties:.3f} ties; "
          + ", ".join(f"{g} {pair_coverage(pg[g], tau, d, qd)[0]:.0%} inside" for g in groups if pg[g]))
    return s, q, d, qd


def families(ps: list[Pred]) -> "OrderedDict[str, list[Pred]]":
    out: "OrderedDict[str, list[Pred]]" = OrderedDict()
    for p in ps:
        if p.set.startswith("19M"):
            fam = next((f for f, ns in LA.FAMILIES.items() if p.name in ns), "other")
        elif p.set.startswith("Schaipp"):
            frac = p.name.split("-")[2].split("_")[0]
            fam = next((f for f, fr in SCHAIPP_FAMILIES.items() if frac in fr), "other")
        else:
            fam = p.name
        out.setdefault(fam, []).append(p)
    return out


def report(title: str, ps: list[Pred], tau: float, s: float, d: float) -> None:
    cov, w, _ = coverage(ps, tau, s)
    inside = [band(p, tau, s)[0] <= p.obs <= band(p, tau, s)[1] for p in ps]
    pairs = pair_list(ps)
    pc, ties = pair_coverage(pairs, tau, d) if pairs else (float("nan"), float("nan"))
    print(f"  {title}: coverage {sum(inside)}/{len(ps)} = {cov:.0%}, mean width {w:.4f} (half {w / 2:.4f}); "
          f"pairs {len(pairs)}: differences inside {pc:.0%}, ties {ties:.0%}")
    for fam, group in families(ps).items():
        cells = []
        for p in group:
            lo, hi = band(p, tau, s)
            cells.append(f"{p.name} {p.finals[0] - p.obs:+.3f} [{lo - p.obs:+.3f},{hi - p.obs:+.3f}]"
                         f"{'' if lo <= p.obs <= hi else ' OUT'}")
        print(f"    {fam:<26} mean signed {np.mean([p.finals[0] - p.obs for p in group]):+.4f}: " + "; ".join(cells))


def halves(C: dict) -> None:
    """Part 9's table: each fit's centre kernel half-time (updates at the peak LR) and its ratio to the longest
    fitted run; the ``slow-kernel`` flag is set above ``bands.SLOW_KERNEL_FRACTION``."""
    from lrplan.laws.reference_curves import load_schaipp_sizes

    fits = [("19M main", [C[n] for n in LA.FIT_MAIN], LA.WINDOW19),
            ("19M probe", [C[n] for n in LA.FIT_PROBE], LA.WINDOW19)]
    for lab, root, peak in LA.SCHAIPP_RUNS:
        cs = load_schaipp_curves(root, peak=peak)
        fits.append((f"Schaipp {lab}", [cs[n] for n in SCHAIPP_TRAIN], "auto"))
    for lab, root, peak, train in FRESH_SCHAIPP:
        cs = load_schaipp_curves(root, peak=peak)
        fits.append((f"Schaipp {lab}", [cs[n] for n in train], "auto"))
    for size in MPL_SIZES:
        cs = load_mpl_curves(LA.MPL_DATA, size)
        fits.append((f"MPL {size}M", [cs[n] for n in MPL_TRAIN], "auto"))
    for name, (_, cs) in load_schaipp_sizes(ROOT / "tests/data/curves/schaipp2025_sizes").items():
        fits.append((f"sizes {name}", [cs[n] for n in cs if n.startswith(("constant", "cosine"))], "auto"))
    for name, curves, window in fits:
        fl = fit_all(curves, window)
        h = fl.uncertainty["centre_half_steps"]
        T = max(int(c.steps.max()) + 1 for c in curves)
        flag = " slow-kernel" if any(str(f).startswith("slow-kernel") for f in fl.flags) else ""
        print(f"{name:<28} half-time {h:>10,.1f}  longest run {T:>6,}  ratio {h / T:.3f}{flag}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calibrate", action="store_true", help="run the pre-registered calibration (selection only)")
    ap.add_argument("--quick", action="store_true", help="19M protocols only")
    ap.add_argument("--round1", action="store_true", help="with --calibrate: round 1 (model error relative to the loss)")
    ap.add_argument("--round2", action="store_true", help="with --calibrate: round 2 (fit RMS only); without: "
                    "report with round 2's constants (no gain term)")
    ap.add_argument("--halves", action="store_true", help="each fit's kernel half-time (Part 9)")
    args = ap.parse_args()
    if args.halves:
        halves(LA.load_gpt19m())
        return
    if args.round1:
        ROUND["mode"] = "rel"
    C = LA.load_gpt19m()
    if args.calibrate:
        if args.round1 or args.round2:
            calibrate(selection_sets(C))
        else:
            calibrate3(selection_sets(C))
        return
    tau, s, d = bands.PROFILE_TAU, bands.MODEL_ERROR_RMS, bands.DIFF_ERROR_RMS
    if args.round2:
        s, d = ROUND2_S, ROUND2_D
    else:
        ROUND["q"], ROUND["qd"] = bands.GAIN_ERROR, bands.DIFF_GAIN_ERROR
    print(f"bands: tau {tau}, MODEL_ERROR_RMS {s}, DIFF_ERROR_RMS {d}, GAIN_ERROR {ROUND['q']}, "
          f"DIFF_GAIN_ERROR {ROUND['qd']}, level {LEVEL}")
    sel = selection_sets(C)
    print("selection (in-sample for the constants):")
    for name in dict.fromkeys(p.set for p in sel):
        report(name, [p for p in sel if p.set == name], tau, s, d)
    print("held out:")
    for ps in heldout_sets(C, args.quick):
        report(ps[0].set, ps, tau, s, d)


if __name__ == "__main__":
    main()
