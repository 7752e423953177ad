"""Benchmarks (and the accuracy table) for ``lrplan.laws``.

    python benchmarks/bench_laws.py              # timings: fast vs straightforward reference
    python benchmarks/bench_laws.py --accuracy   # MPL-protocol + Schaipp accuracy table

Accuracy rows: the default (MPL-rk, rho 0.8 / kappa 0.7, chosen on the Schaipp set only -> its Schaipp numbers
are validation numbers, its MPL numbers are held out), the published MPL form (rho = kappa = 1), the procedure
that cross-validation on the three MPL training curves selects (rho, kappa fitted, late-point weights step**3)
and the momentum law.

Timings:
1. Fitting the multi-power law to the three 24k-step MPL training curves (400M): ``lrplan.laws.fit`` (analytic
   gradients, block-decomposed drop sums, all starts) vs a straightforward reference (L-BFGS-B with 2-point
   numerical gradients on the naive O(T*K) sum, ONE start, ``REF_ITERS`` iterations; its full-fit time is
   extrapolated from the per-gradient cost x the fast fit's number of gradient evaluations).
2. Predicting every step of a 1,000,000-step WSD schedule (2k warmup, 100k-step linear decay = 100k LR drops):
   ``multipower.predict`` vs the naive per-step sum (timed on a subsample, extrapolated to 1M query steps).

OpenBLAS threads are pinned to 1 (L-BFGS-B's BLAS calls otherwise spin threads on this 2-core box).  These are
library timings in one process, not the CLI as installed: README's performance table comes from
``benchmarks/run_all.py``, which runs ``lrplan fit`` as a user would (and its peers: a numerical-gradient reference
and the official MPL code) in fresh processes with the caller's environment.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import importlib  # noqa: E402

F = importlib.import_module("lrplan.laws.driver")  # the generic fit driver: fit, predict, FittedLaw
M = importlib.import_module("lrplan.laws.multipower")
from lrplan.laws.metrics import curve_metrics, mean_metrics  # noqa: E402
from lrplan.laws.objective import huber  # noqa: E402
from lrplan.laws.reference_curves import (  # noqa: E402
    MPL_SIZES,
    MPL_TEST,
    MPL_TRAIN,
    SCHAIPP_TRAIN,
    load_mpl_curves,
    load_schaipp_curves,
)

MPL_DATA = ROOT / "tests/data/curves/multipowerlaw"
SCHAIPP_DATA = ROOT / "tests/data/curves/schaipp2025_124m"
SCHAIPP_RUNS = (("1e-3", SCHAIPP_DATA, 1e-3),  # the selection set of the default law: validation, not held out
                ("5e-4", ROOT / "tests/data/curves/schaipp2025_more/124m_lr0.0005", 5e-4),
                ("2e-3", ROOT / "tests/data/curves/schaipp2025_more/124m_lr0.002", 2e-3))
REF_ITERS = 15


def bench_fit() -> None:
    curves = load_mpl_curves(MPL_DATA, "400")
    train = [curves[n] for n in MPL_TRAIN]
    F.fit(train)  # warm-up (imports)
    n_grad = {"n": 0}
    orig = M.value_and_grad

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        n_grad["n"] += 1
        return orig(*a, **k)

    M.value_and_grad = counting
    t0 = time.perf_counter()
    fl = F.fit(train)
    t_fast = time.perf_counter() - t0
    M.value_and_grad = orig
    evals = n_grad["n"] // len(train)
    print(f"fit MPL, 3 x 24k-step curves: {t_fast:.2f} s  ({evals} analytic value+gradient evaluations, "
          f"objective {fl.objective:.5f})")

    # straightforward reference: naive sum + numerical gradient, one start
    from scipy.optimize import minimize

    win = fl.window["per_curve"]
    sel = [(c, c.steps[c.steps >= win[c.name][0]], c.loss[c.steps >= win[c.name][0]]) for c in train]
    rho, kappa = fl.params["rho"], fl.params["kappa"]

    def obj(z: np.ndarray) -> float:
        th = z.copy()
        th[[1, 3, 4]] = np.exp(z[[1, 3, 4]])
        p = M.MPLParams.from_array(th, rho=rho, kappa=kappa)
        tot = 0.0
        for c, st, y in sel:
            pred = M.predict_naive(p, c.lr, st)
            r = np.log(np.maximum(pred, 1e-6)) - np.log(y)
            tot += float(huber(r, 1e-3)[0].sum())
        return tot / (1e-6 * sum(s.size for _, s, _ in sel))

    z0 = np.array([fl.params[k] for k in M.PARAM_NAMES])
    z0[[1, 3, 4]] = np.log(np.maximum(z0[[1, 3, 4]], 1e-12))
    z0 = z0 * 1.02
    t0 = time.perf_counter()
    r = minimize(obj, z0, method="L-BFGS-B", options={"maxiter": REF_ITERS})
    t_ref = time.perf_counter() - t0
    per_grad_ref = t_ref / max(r.nfev / (len(z0) + 1), 1)
    est_full = per_grad_ref * evals
    print(f"reference (naive sum + numerical gradient), 1 start, {r.nit} iterations / {r.nfev} objective calls: "
          f"{t_ref:.2f} s -> {per_grad_ref * 1e3:.0f} ms per gradient; estimated full fit "
          f"({evals} gradients): {est_full:.0f} s; ratio ~{est_full / t_fast:.0f}x")


def wsd_1m() -> np.ndarray:
    T, W, D = 1_000_000, 2000, 100_000
    lr = np.full(T, 3e-4)
    lr[:W] = np.linspace(0.0, 3e-4, W)
    lr[T - D:] = np.linspace(3e-4, 3e-6, D)
    return lr


def bench_predict() -> None:
    from lrplan.laws.builtin import builtin_laws

    law = builtin_laws()["mpl-400m"]
    p = M.MPLParams(**{k: law.params[k] for k in M.PARAM_NAMES + M.SHAPE_NAMES})
    lr = wsd_1m()
    steps = np.arange(lr.size)
    M.predict(p, lr, steps[:100_000])  # warm-up
    t0 = time.perf_counter()
    y = M.predict(p, lr, steps)
    t_fast = time.perf_counter() - t0
    sub = np.unique(np.r_[np.linspace(2000, lr.size - 1, 100).astype(int),
                          lr.size - 100_000 + np.arange(0, 100_000, 1000), np.arange(899_990, 900_300, 10)])
    t0 = time.perf_counter()
    yn = M.predict_naive(p, lr, sub)
    t_sub = time.perf_counter() - t0
    est = t_sub / sub.size * lr.size
    print(f"predict 1,000,000-step WSD (100k-step linear decay), all 1M query steps: {t_fast:.2f} s; "
          f"max |fast - naive| on {sub.size} checked steps = {np.abs(y[sub] - yn).max():.2e}")
    print(f"reference naive O(T*K) sum: {t_sub:.2f} s for {sub.size} steps -> estimated {est:.0f} s for 1M steps; "
          f"ratio ~{est / t_fast:.0f}x")


VARIANTS: tuple[tuple[str, dict], ...] = (
    ("MPL-rk (dflt)", {}),  # rho 0.8, kappa 0.7 (chosen on the Schaipp set, see lrplan.laws.multipower)
    ("MPL (paper)", {"rho": 1.0, "kappa": 1.0}),
    ("rk-fit+late3", {"rho": "fit", "kappa": "fit", "late_weight": 3.0}),  # selected by training-curve CV
    ("v2 grid 1/.7", {"rho": 1.0, "kappa": 0.7}),  # selection set v2 winner (law_selection.py --broad), rejected
    ("v2 rho-fit/.7", {"rho": "fit", "kappa": 0.7}),  # pre-registered v2 candidate (--broad --fit-rho), rejected
    ("momentum", {"law": "momentum"}),
)


def accuracy() -> None:
    print("MPL protocol: fit constant_24000 + cosine_24000 + wsdcon_9, test on the other six curves (means)")
    print(f"{'size':>5} {'law':>14} {'R2':>8} {'MAE':>8} {'RMSE':>8} {'PredE':>8} {'WorstE':>8}  fit s")
    for size in MPL_SIZES:
        curves = load_mpl_curves(MPL_DATA, size)
        for label, kw in VARIANTS:
            t0 = time.perf_counter()
            fl = F.fit([curves[n] for n in MPL_TRAIN], **kw)
            dt = time.perf_counter() - t0
            m = mean_metrics({n: curve_metrics(curves[n].loss, F.predict(fl, curves[n].lr, curves[n].steps))
                              for n in MPL_TEST})
            print(f"{size + 'M':>5} {label:>14} {m['r2']:8.5f} {m['mae']:8.5f} {m['rmse']:8.5f} {m['pred_e']:8.5f} "
                  f"{m['worst_e']:8.5f}  {dt:.2f}")
    for peak_label, root, peak in SCHAIPP_RUNS:
        print(f"\nSchaipp/Hägele 124M SlimPajama, peak {peak_label}: fit constant_50000 + cosine_25000 + "
              "cosine_50000, predict 27 WSD cooldown runs (metrics on steps >= fit-window start)")
        curves = load_schaipp_curves(root, peak=peak)
        for label, kw in VARIANTS:
            fl = F.fit([curves[n] for n in SCHAIPP_TRAIN], **kw)
            res = schaipp_eval(fl, curves)
            print(f"{label:>14}: window start {fl.window['start']}, mean R2 {res['r2']:.5f}, MAE {res['mae']:.5f}, "
                  f"max WorstE {res['worst_e']:.5f}, mean |final err| {res['final_abs']:.5f}, "
                  f"ranking (Kendall tau per horizon 15k/25k/35k/50k) {res['tau']}, "
                  f"pairs ordered correctly when observed gap > 0.005: {res['pairs_ok']}/{res['pairs']}",
                  flush=True)


def schaipp_eval(fl: F.FittedLaw, curves: dict) -> dict:
    """Held-out errors on the WSD runs and final-loss ranking agreement per horizon."""
    rows = []
    for n, c in curves.items():
        if n in SCHAIPP_TRAIN:
            continue
        m = c.steps >= fl.window["start"]
        p = F.predict(fl, c.lr, c.steps[m])
        rows.append((n, curve_metrics(c.loss[m], p), float(c.loss[m][-1]), float(p[-1])))
    taus, ok, tot = [], 0, 0
    for T in (15000, 25000, 35000, 50000):
        rr = [r for r in rows if r[0].endswith(f"_{T}")]
        obs, pred = np.array([r[2] for r in rr]), np.array([r[3] for r in rr])
        conc = disc = 0
        for i in range(len(rr)):
            for j in range(i + 1, len(rr)):
                s = np.sign(obs[i] - obs[j]) * np.sign(pred[i] - pred[j])
                conc += s > 0
                disc += s < 0
                if abs(obs[i] - obs[j]) > 0.005:
                    tot += 1
                    ok += s > 0
        taus.append(round(float(conc - disc) / max(int(conc + disc), 1), 3))
    return {"r2": float(np.mean([r[1]["r2"] for r in rows])), "mae": float(np.mean([r[1]["mae"] for r in rows])),
            "worst_e": float(max(r[1]["worst_e"] for r in rows)),
            "final_abs": float(np.mean([abs(r[2] - r[3]) for r in rows])), "tau": taus, "pairs_ok": int(ok),
            "pairs": int(tot), "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accuracy", action="store_true", help="print the accuracy table instead of timings")
    args = ap.parse_args()
    if args.accuracy:
        accuracy()
    else:
        bench_fit()
        bench_predict()


if __name__ == "__main__":
    main()
