"""Loss-law accuracy on the issue-16 protocols (19M set, MPL paper protocol, Schaipp 124M at three peaks).

    python benchmarks/law_accuracy.py                 # today's default law (MPL-rk), every protocol
    python benchmarks/law_accuracy.py --law K5        # a candidate of benchmarks/LAW_SELECTION_16.md (or a law name)
    python benchmarks/law_accuracy.py --select        # round 1 of the pre-registered selection (K0..K9), ~2 min
    python benchmarks/law_accuracy.py --select --round2   # round 2 (K10..K13 against K0), ~1 min
    python benchmarks/law_accuracy.py --all           # every candidate on every protocol (~25 min)
    python benchmarks/law_accuracy.py --quick         # 19M protocols only
    python benchmarks/law_accuracy.py --explore-shape # exploratory rho/kappa grid (after the selection), ~3 min

Protocols (``benchmarks/LAW_SELECTION_16.md``):

* 19M main: fit ``constant + cosine`` (window from step 400), predict the 19 other runs at peak 1.5e-3 (16
  full-length + 3 cooldown branches).  Prints mean |final-loss error| and MAE (steps >= 400) over the 19, the pairs
  ranked right among the 16 full-length runs (pairs whose observed finals differ by more than 0.002: 108), the
  signed final error per schedule (grouped by family), the same restricted to the held-out runs (R19), and the
  peak x0.5 / x2 runs.
* 19M probe: the same with ``wsd_branch_50`` added to the fit (18 predicted runs).
* 19M three peaks: fit the three ``constant*`` runs + ``cosine``; predict ``wsd_linear20`` at the three peaks,
  ``cosine`` x0.5 / x2 (held out) and the six x0.5 / x2 branches (selection).
* MPL paper protocol (Luo et al. Table 1): per size, fit constant_24000 + cosine_24000 + wsdcon_9, mean MAE on the
  six test curves (today's default: 0.00338 / 0.00280 / 0.00411).
* Schaipp/Hägele 124M at peaks 5e-4 / 1e-3 / 2e-3: fit constant_50000 + cosine_25000 + cosine_50000, predict the 27
  WSD runs: MAE, mean |final|, pairs ranked right within each horizon (observed gap > 0.002).

Step convention of the 19M file: its ``val_loss`` at row ``r`` is after ``r`` updates, lrplan's loss at step ``s``
is after the update using ``lr[s]``: row ``r`` is lrplan step ``r - 1`` (the fit window "from step 400" is lrplan
step 400).  Candidates are registered at run time (``registry.LAWS``), no library file is changed.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import gzip  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import OrderedDict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import importlib  # noqa: E402

F = importlib.import_module("lrplan.laws.driver")
from lrplan.laws.metrics import curve_metrics  # noqa: E402
from lrplan.laws.reference_curves import (  # noqa: E402
    MPL_SIZES, MPL_TEST, MPL_TRAIN, SCHAIPP_TRAIN, load_mpl_curves, load_schaipp_curves)
from lrplan.laws.registry import LAWS, Entry  # noqa: E402

DATA19 = ROOT / "tests/data/curves/lrplan_gpt19m_code"
MPL_DATA = ROOT / "tests/data/curves/multipowerlaw"
SCHAIPP_RUNS = (("5e-4", ROOT / "tests/data/curves/schaipp2025_more/124m_lr0.0005", 5e-4),
                ("1e-3", ROOT / "tests/data/curves/schaipp2025_124m", 1e-3),
                ("2e-3", ROOT / "tests/data/curves/schaipp2025_more/124m_lr0.002", 2e-3))
WINDOW19 = 400
PAIR_GAP = 0.002
MPL_TODAY = {"25": 0.00338, "100": 0.00280, "400": 0.00411}

FIT_MAIN = ("constant", "cosine")
FIT_PROBE = ("constant", "cosine", "wsd_branch_50")
FIT_PEAKS = ("constant", "constant_peak_x0.5", "constant_peak_x2", "cosine")
S19 = ("wsd_linear10", "wsd_linear50", "wsd_1sqrt20", "wsds_3", "cyclic_cos3", "step", "linear_d2z",
       "wsd_branch_25", "wsd_branch_75")
R19 = ("wsd_linear5", "wsd_linear20", "wsd_exp10", "wsds_rewarm", "rewarm_decay", "inv_sqrt", "rex", "power",
       "wsdc", "wsd_branch_50")
PEAK_SEL = tuple(f"wsd_branch_{b}_peak_x{f}" for f in ("0.5", "2") for b in (25, 50, 75))
PEAK_HELD = ("wsd_linear20_peak_x0.5", "wsd_linear20", "wsd_linear20_peak_x2", "cosine_peak_x0.5", "cosine_peak_x2")
FAMILIES = OrderedDict([
    ("sharp cooldown", ("wsd_linear5", "wsd_linear10", "wsd_linear20", "wsd_exp10", "power")),
    ("long cooldown", ("wsd_linear50", "wsd_1sqrt20", "wsdc", "linear_d2z", "rex")),
    ("WSD-S / re-warm / cyclic", ("wsds_3", "wsds_rewarm", "rewarm_decay", "cyclic_cos3")),
    ("step / inv-sqrt", ("step", "inv_sqrt")),
    ("branches", ("wsd_branch_25", "wsd_branch_50", "wsd_branch_75")),
])

# id -> (label, law, fit options); see LAW_SELECTION_16.md (K0, K1 references; K2..K9 candidates)
CANDIDATES: "OrderedDict[str, tuple[str, str, dict]]" = OrderedDict([
    ("K0", ("MPL-rk (today)", "multi-power", {})),
    ("K1", ("momentum", "momentum", {})),
    ("K2", ("ABS", "relax", {})),
    ("K3", ("ABS b=0.5", "relax", {"beta": 0.5})),
    ("K4", ("ABS b=1", "relax", {"beta": 1.0})),
    ("K5", ("ABS-NL", "relax", {"noise": "loss"})),
    ("K6", ("ABS-LAG", "relax", {"lag": 0.95})),
    ("K7", ("ABS-NL-LAG", "relax", {"noise": "loss", "lag": 0.95})),
    # second round of round 1 (its condition held: the best of K2/K5/K6/K7 was K5, beta fitted)
    ("K8", ("ABS-NL b=0.5", "relax", {"noise": "loss", "beta": 0.5})),
    ("K9", ("ABS-NL b=1.0", "relax", {"noise": "loss", "beta": 1.0})),
    # round 2 (pre-registered after round 1): today's shape exponents rho 0.8 / kappa 0.7 in the ABS family
    ("K10", ("ABS-NL r.8 k.7", "relax", {"noise": "loss", "rho": 0.8, "kappa": 0.7})),
    ("K11", ("ABS r.8 k.7", "relax", {"rho": 0.8, "kappa": 0.7})),
    ("K12", ("ABS-NL r1 k.7", "relax", {"noise": "loss", "kappa": 0.7})),
    ("K13", ("ABS-NL-LAG r.8 k.7", "relax", {"noise": "loss", "lag": 0.95, "rho": 0.8, "kappa": 0.7})),
])
ROUND1 = ("K0", "K1", "K2", "K3", "K4", "K5", "K6", "K7")
ROUND2 = ("K10", "K11", "K12", "K13")
SECOND_ROUND = {"K2": {}, "K5": {"noise": "loss"}, "K6": {"lag": 0.95}, "K7": {"noise": "loss", "lag": 0.95}}


def register() -> None:
    """Make the candidate law known to the driver (runtime registry entry; the default stays the first)."""
    LAWS.setdefault("relax", Entry("lrplan.laws.relax", summary="6 params, candidate (issue 16)"))


# ----------------------------------------------------------------------------------------------- the 19M data
def _rows(path: Path) -> "OrderedDict[str, list[tuple[int, float, float]]]":
    out: "OrderedDict[str, list[tuple[int, float, float]]]" = OrderedDict()
    with gzip.open(path, "rt") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["run"], []).append((int(r["step"]), float(r["lr"]), float(r["val_loss"])))
    return out


def load_gpt19m(root: str | Path = DATA19) -> dict:
    """All 33 runs as :class:`lrplan.laws.Curve` in lrplan's step convention (val row ``r`` -> step ``r - 1``,
    ``lr`` = the file's rows 0..3999); ``wsd_branch_*`` runs spliced onto their ``constant`` trunk (same peak)."""
    from lrplan.laws.fitted import Curve

    raw = _rows(Path(root) / "curves.csv.gz")
    curves = {}
    for name, rows in raw.items():
        step = np.array([r[0] for r in rows])
        lr = np.array([r[1] for r in rows])
        val = np.array([r[2] for r in rows])
        if name.startswith("wsd_branch"):
            trunk = raw["constant" + (name[name.index("_peak"):] if "_peak" in name else "")]
            t_step = np.array([r[0] for r in trunk])
            keep = t_step < step[0]
            step = np.r_[t_step[keep], step]
            lr = np.r_[np.array([r[1] for r in trunk])[keep], lr]
            val = np.r_[np.array([r[2] for r in trunk])[keep], val]
        assert np.array_equal(step, np.arange(step.size)), name
        lr_u = lr[: step.size - 1]  # the last row has no update
        assert np.all(np.isfinite(lr_u)), name
        m = np.isfinite(val) & (step >= 1)
        curves[name] = Curve(name, step[m] - 1, val[m], lr_u)
    return curves


def full_length(name: str) -> bool:
    return "branch" not in name and "peak" not in name


# ----------------------------------------------------------------------------------------------- evaluation
def fit(curves: list, cand: str, window: object = "auto"):
    _, law, opts = CANDIDATES[cand] if cand in CANDIDATES else (cand, cand, {})
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return F.fit(curves, law=law, window=window, **opts)


def evaluate(fl, curves: dict, names, start: int) -> dict:
    """name -> (observed final, predicted final, MAE on steps >= start)."""
    out = {}
    for n in names:
        c = curves[n]
        m = c.steps >= start
        p = F.predict(fl, c.lr, c.steps[m])
        out[n] = (float(c.loss[m][-1]), float(p[-1]), curve_metrics(c.loss[m], p)["mae"])
    return out


def pairs(rows: dict, names, gap: float = PAIR_GAP) -> tuple[int, int]:
    ok = tot = 0
    for a, b in itertools.combinations(names, 2):
        d = rows[a][0] - rows[b][0]
        if abs(d) > gap:
            tot += 1
            ok += int(np.sign(d) == np.sign(rows[a][1] - rows[b][1]))
    return ok, tot


def mean_final(rows: dict, names) -> float:
    return float(np.mean([abs(rows[n][1] - rows[n][0]) for n in names]))


def mean_mae(rows: dict, names) -> float:
    return float(np.mean([rows[n][2] for n in names]))


def proto19(C: dict, cand: str, fit_names: tuple[str, ...]) -> dict:
    fl = fit([C[n] for n in fit_names], cand, WINDOW19)
    pred = [n for n in C if n not in fit_names and ("peak" not in n)]
    extra = [n for n in C if "peak" in n and "branch" not in n]
    rows = evaluate(fl, C, pred + extra + [n for n in fit_names], WINDOW19)
    full = [n for n in C if full_length(n)]  # incl. the fitted ones, for pairs (fitted: as observed)
    rank = [n for n in full if n not in fit_names]
    return {"fl": fl, "rows": rows, "pred": pred, "rank": rank, "extra": extra}


def proto_peaks(C: dict, cand: str) -> dict:
    fl = fit([C[n] for n in FIT_PEAKS], cand, WINDOW19)
    return {"fl": fl, "rows": evaluate(fl, C, PEAK_HELD + PEAK_SEL, WINDOW19)}


def proto_mpl(cand: str) -> dict:
    out = {}
    for size in MPL_SIZES:
        curves = load_mpl_curves(MPL_DATA, size)
        fl = fit([curves[n] for n in MPL_TRAIN], cand)
        rows = {}
        for n in MPL_TEST:  # the MPL metric: whole test curve (as bench_laws --accuracy)
            c = curves[n]
            p = F.predict(fl, c.lr, c.steps)
            rows[n] = (float(c.loss[-1]), float(p[-1]), curve_metrics(c.loss, p)["mae"])
        out[size] = rows
    return out


def schaipp_set(cand: str, root: Path, peak: float, train=SCHAIPP_TRAIN) -> tuple:
    """One Schaipp set: fit ``train``, predict the rest; ``(fit, rows, held, pairs right, pairs)``, pairs within a
    horizon."""
    curves = load_schaipp_curves(root, peak=peak)
    fl = fit([curves[n] for n in train], cand)
    held = [n for n in curves if n not in train]
    rows = evaluate(fl, curves, held, fl.window["start"])
    ok = tot = 0
    for T in sorted({n.rsplit("_", 1)[1] for n in held}):
        a, b = pairs(rows, [n for n in held if n.endswith("_" + T)])
        ok, tot = ok + a, tot + b
    return fl, rows, held, ok, tot


def proto_schaipp(cand: str, peaks=("5e-4", "1e-3", "2e-3")) -> dict:
    out = {}
    for label, root, peak in SCHAIPP_RUNS:
        if label not in peaks:
            continue
        fl, rows, held, ok, tot = schaipp_set(cand, root, peak)
        out[label] = {"rows": rows, "mae": mean_mae(rows, held), "final": mean_final(rows, held), "pairs": (ok, tot),
                      "start": fl.window["start"]}
    return out


# ----------------------------------------------------------------------------------------------- printing
def label(cand: str) -> str:
    return f"{cand} {CANDIDATES[cand][0]}" if cand in CANDIDATES else cand


def print19(title: str, r: dict) -> None:
    rows, pred, rank = r["rows"], r["pred"], r["rank"]
    ok, tot = pairs(rows, rank)
    held = [n for n in pred if n in R19]
    okh, toth = pairs(rows, [n for n in rank if n in R19])
    print(f"  {title}: mean |final| {mean_final(rows, pred):.4f}, MAE {mean_mae(rows, pred):.4f} "
          f"({len(pred)} runs); pairs right {ok}/{tot} | held-out R19 only: mean |final| "
          f"{mean_final(rows, held):.4f}, MAE {mean_mae(rows, held):.4f} ({len(held)} runs), pairs {okh}/{toth}")
    for fam, names in FAMILIES.items():
        names = [n for n in names if n in pred]
        if not names:
            continue
        cells = " ".join(f"{n}{'*' if n in R19 else ''} {rows[n][1] - rows[n][0]:+.3f}" for n in names)
        print(f"    {fam:<25} mean {np.mean([rows[n][1] - rows[n][0] for n in names]):+.3f}: {cells}")
    if r["extra"]:
        print("    other peaks (signed final): " + " ".join(f"{n} {rows[n][1] - rows[n][0]:+.3f}"
                                                       for n in r["extra"]))


def print_peaks(r: dict) -> None:
    rows = r["rows"]
    print("  three peaks (fit constant x0.5/x1/x2 + cosine): held out: "
          + " ".join(f"{n} {rows[n][1] - rows[n][0]:+.4f}" for n in PEAK_HELD))
    print(f"    selection branches: mean |final| {mean_final(rows, PEAK_SEL):.4f}: "
          + " ".join(f"{n.replace('wsd_branch_', 'b')} {rows[n][1] - rows[n][0]:+.3f}" for n in PEAK_SEL))
    lin = max(abs(rows[n][1] - rows[n][0]) for n in PEAK_HELD[:3])
    cos = max(abs(rows[n][1] - rows[n][0]) for n in PEAK_HELD[3:])
    print(f"    max |final| wsd_linear20 x3: {lin:.4f} (target <= 0.015); cosine x0.5/x2: {cos:.4f} (target <= 0.02)")


def report(cand: str, C: dict, quick: bool = False) -> None:
    t0 = time.perf_counter()
    print(f"\n=== {label(cand)} ===")
    r = proto19(C, cand, FIT_MAIN)
    print19("19M main (fit constant + cosine from 400)", r)
    print(f"    params: { {k: round(v, 5) for k, v in r['fl'].params.items()} }")
    print19("19M probe (+ wsd_branch_50)", proto19(C, cand, FIT_PROBE))
    print_peaks(proto_peaks(C, cand))
    if not quick:
        m = proto_mpl(cand)
        print("  MPL protocol mean MAE per size: " + " ".join(
            f"{s}M {mean_mae(m[s], MPL_TEST):.5f} (today {MPL_TODAY[s]}, x{mean_mae(m[s], MPL_TEST) / MPL_TODAY[s]:.2f})"
            for s in MPL_SIZES) + "; mean |final| " + " ".join(f"{mean_final(m[s], MPL_TEST):.4f}" for s in MPL_SIZES))
        for lab, v in proto_schaipp(cand).items():
            print(f"  Schaipp 124M peak {lab}: MAE {v['mae']:.5f}, mean |final| {v['final']:.5f}, pairs right "
                  f"{v['pairs'][0]}/{v['pairs'][1]} (window start {v['start']})")
    print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)


def select(C: dict, cands) -> dict:
    """The pre-registered selection score: mean of T1..T4 (each a mean |final error| on selection runs)."""
    print(f"{'cand':<20} {'T1 main':>8} {'T2 probe':>8} {'T3 peaks':>8} {'T4 Sch1e-3':>10} {'score':>8} "
          f"{'Sch MAE':>8} {'npar':>4}")
    out = {}
    for cand in cands:
        r1 = proto19(C, cand, FIT_MAIN)
        r2 = proto19(C, cand, FIT_PROBE)
        r3 = proto_peaks(C, cand)
        r4 = proto_schaipp(cand, peaks=("1e-3",))["1e-3"]
        T = [mean_final(r1["rows"], S19), mean_final(r2["rows"], S19), mean_final(r3["rows"], PEAK_SEL), r4["final"]]
        npar = len(r1["fl"].params) if cand not in CANDIDATES else None
        fl = r1["fl"]
        if npar is None:
            from lrplan.laws.registry import get_law

            spec = get_law(fl.law)
            model = spec.fit_model(fl.warmup, **CANDIDATES[cand][2])
            npar = int(model.free(True).sum())
        out[cand] = {"T": T, "score": float(np.mean(T)), "sch_mae": r4["mae"], "npar": npar}
        print(f"{label(cand):<20} {T[0]:8.4f} {T[1]:8.4f} {T[2]:8.4f} {T[3]:10.5f} {np.mean(T):8.5f} "
              f"{r4['mae']:8.5f} {npar:4d}", flush=True)
    return out


def explore_shape(C: dict, noise: str = "loss") -> None:
    """EXPLORATORY (after both selection rounds; not a selection): the three-peak fit set identifies rho and kappa
    (three peak LRs), so pick them on a grid by the *training* objective of the three-peak fit, then show the
    held-out three-peak runs and the main protocol at that cell."""
    grid = [(r, k) for r in (0.4, 0.5, 0.6, 0.7, 0.8, 1.0) for k in (0.3, 0.4, 0.5, 0.7, 1.0)]
    res = []
    for rho, kappa in grid:
        CANDIDATES["X"] = (f"ABS-{noise} r{rho} k{kappa}", "relax", {"noise": noise, "rho": rho, "kappa": kappa})
        r = proto_peaks(C, "X")
        res.append((r["fl"].objective, rho, kappa, r))
        rows = r["rows"]
        print(f"rho {rho} kappa {kappa}: train objective {r['fl'].objective:.4f}, sel branches mean |final| "
              f"{mean_final(rows, PEAK_SEL):.4f}, held: " + " ".join(f"{rows[n][1] - rows[n][0]:+.3f}"
                                                                   for n in PEAK_HELD), flush=True)
    _, rho, kappa, _r = min(res, key=lambda x: x[0])
    print(f"lowest training objective: rho {rho}, kappa {kappa}")
    CANDIDATES["X"] = (f"ABS-{noise} r{rho} k{kappa} (exploratory)", "relax",
                       {"noise": noise, "rho": rho, "kappa": kappa})
    report("X", C)


FRESH_CANDS = ("K0", "K1", "K5", "K7", "K10", "K13")
SIZES = ROOT / "tests/data/curves/schaipp2025_sizes"


def proto_sizes(cand: str) -> dict:
    """Exploratory (LAW_SELECTION_16.md Part 7): per model of the size series, fit the constant run (peak p) and
    the cosines (2p), predict the 20 % cooldowns (p); rows as :func:`evaluate`, from the fit window's start."""
    from lrplan.laws.reference_curves import load_schaipp_sizes

    out = {}
    for name, (_, curves) in load_schaipp_sizes(SIZES).items():
        train = [n for n in curves if n.startswith(("constant", "cosine"))]
        held = [n for n in curves if n not in train]
        fl = fit([curves[n] for n in train], cand)
        out[name] = evaluate(fl, curves, held, fl.window["start"])
    return out


def fresh(cands=FRESH_CANDS) -> None:
    """Part 7's table: per candidate and model, mean |final|, mean signed final error, MAE; then the pooled row."""
    print("size series (fit constant at p + cosines at 2p, predict the 20 % cooldowns at p); exploratory")
    res = {c: proto_sizes(c) for c in cands}
    models = list(next(iter(res.values())))
    print("| cand | " + " | ".join(models) + " | pooled mean abs final / mean signed / MAE |")
    print("|---|" + "---|" * (len(models) + 1))
    for c in cands:
        cells, allrows = [], []
        for m in models:
            rows = res[c][m]
            allrows += list(rows.values())
            cells.append(f"{np.mean([p - o for o, p, _ in rows.values()]):+.3f}")
        fin = np.mean([abs(p - o) for o, p, _ in allrows])
        sig = np.mean([p - o for o, p, _ in allrows])
        mae = np.mean([e for _, _, e in allrows])
        print(f"| {label(c)} | " + " | ".join(cells) + f" | {fin:.4f} / {sig:+.4f} / {mae:.4f} |")


CONFIRM_SETS = (("1e-4", ROOT / "tests/data/curves/schaipp2025_more/124m_lr0.0001", 1e-4, SCHAIPP_TRAIN),
                ("3e-3", ROOT / "tests/data/curves/schaipp2025_more/124m_lr0.003", 3e-3,
                 ("constant_50000", "cosine_50000")))


def confirm(cands=("K0", "K13")) -> None:
    """Part 8's confirmatory test: K0 and K13 on Schaipp 124M at 1e-4 and 3e-3, once; the pre-registered rule."""
    res = {}
    for cand in cands:
        rows_all, ok_all, tot_all = {}, 0, 0
        for lab, root, peak, train in CONFIRM_SETS:
            _, rows, held, ok, tot = schaipp_set(cand, root, peak, train)
            sig = np.mean([p - o for o, p, _ in rows.values()])
            print(f"{label(cand)} {lab}: mean abs final {mean_final(rows, held):.4f}, mean signed {sig:+.4f}, "
                  f"MAE {mean_mae(rows, held):.5f}, pairs {ok}/{tot}")
            rows_all.update({f"{lab}/{k}": v for k, v in rows.items()})
            ok_all, tot_all = ok_all + ok, tot_all + tot
        names = list(rows_all)
        res[cand] = (mean_final(rows_all, names), ok_all, tot_all, mean_mae(rows_all, names))
        print(f"{label(cand)} pooled ({len(names)} runs): mean abs final {res[cand][0]:.4f}, pairs {ok_all}/{tot_all}, "
              f"MAE {res[cand][3]:.5f}")
    k0, k = res[cands[0]], res[cands[1]]
    passed = k[0] <= k0[0] and k[1] >= k0[1] and k[3] <= 1.1 * k0[3]
    print(f"rule (Part 8): {cands[1]} {'PASSES' if passed else 'FAILS'} (final {k[0]:.4f} vs {k0[0]:.4f}, pairs "
          f"{k[1]} vs {k0[1]}, MAE {k[3]:.5f} vs 1.1 x {k0[3]:.5f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--law", default="K0", help="a candidate id (K0..K9) or a registered law name")
    ap.add_argument("--select", action="store_true", help="the pre-registered selection table (round 1)")
    ap.add_argument("--round2", action="store_true", help="with --select: round 2 (K10-K13) against K0")
    ap.add_argument("--all", action="store_true", help="every candidate on every protocol")
    ap.add_argument("--quick", action="store_true", help="19M protocols only")
    ap.add_argument("--explore-shape", action="store_true",
                    help="exploratory: rho/kappa grid chosen by the three-peak training objective")
    ap.add_argument("--fresh", action="store_true",
                    help="exploratory: the fixed candidates on the fresh size series (LAW_SELECTION_16.md Part 7)")
    ap.add_argument("--confirm", action="store_true",
                    help="Part 8's confirmatory test of K13 against K0 on Schaipp 124M at 1e-4 and 3e-3")
    args = ap.parse_args()
    register()
    if args.fresh:
        fresh()
        return
    if args.confirm:
        confirm()
        return
    C = load_gpt19m()
    if args.explore_shape:
        explore_shape(C)
        return
    if args.select and args.round2:
        res = select(C, ["K0", *ROUND2])
        ok = [k for k in ROUND2 if res[k]["sch_mae"] <= 1.1 * res["K0"]["sch_mae"]]
        if ok:
            lo = min(res[k]["score"] for k in ok)
            tied = [k for k in ok if res[k]["score"] <= 1.02 * lo]
            win = min(tied, key=lambda k: (res[k]["npar"], ("NL" in label(k)) + ("LAG" in label(k)),
                                           res[k]["score"]))
            print(f"winner: {label(win)} (score {res[win]['score']:.5f}; within 2 %: {', '.join(tied)})")
        else:
            print("no candidate passes the Schaipp 1e-3 MAE condition")
        return
    if args.select:
        res = select(C, list(ROUND1))
        best = min(SECOND_ROUND, key=lambda k: res[k]["score"])
        if best in SECOND_ROUND:  # pre-registered: beta of the best fitted variant, held at 0.5 and 1
            for i, b in (("K8", 0.5), ("K9", 1.0)):
                CANDIDATES[i] = (f"{CANDIDATES[best][0]} b={b}", "relax", {**SECOND_ROUND[best], "beta": b})
            res.update(select(C, ["K8", "K9"]))
        ok = [k for k in res if k not in ("K0", "K1") and res[k]["sch_mae"] <= 1.1 * res["K0"]["sch_mae"]]
        if ok:
            lo = min(res[k]["score"] for k in ok)
            tied = [k for k in ok if res[k]["score"] <= 1.02 * lo]
            win = min(tied, key=lambda k: (res[k]["npar"], ("NL" in label(k)) + ("LAG" in label(k)),
                                           res[k]["score"]))
            print(f"winner: {label(win)} (score {res[win]['score']:.5f}; within 2 %: {', '.join(tied)})")
        else:
            print("no candidate passes the Schaipp 1e-3 MAE condition")
        return
    for cand in (list(CANDIDATES) if args.all else [args.law]):
        report(cand, C, args.quick)


if __name__ == "__main__":
    main()
