"""Faithful plain references for lrplan's multi-power-law (MPL) costs: numpy + scipy only, no lrplan import.

    python benchmarks/peers/mpl_reference.py fit LOG.csv LAW.yaml [--starts 1|8] [--max-seconds S]
    python benchmarks/peers/mpl_reference.py plan LAW.yaml B1,B2,... [--optimize]

The law is the one ``lrplan fit`` fits by default (Luo et al. 2025, arXiv 2503.12811, Eq. 1-2, with lrplan's
"MPL-rk" exponents rho/kappa read from LAW.yaml and its "area" warmup convention)::

    L(t) = L0 + A S1(t)^-alpha - B sum_{k=1..t} (d[k-1] - d[k]) G(C d[k]^-gamma (S1(t) - S1(k-1)))
    G(x) = 1 - (1 + x)^-beta,  S1 = cumsum(lr^rho),  d = lr^kappa with the warmup ramp held at the peak

summed naively: every step k is a potential LR drop (O(T) per query point, no compression, no blocks).

fit: the same data as ``lrplan fit LOG.csv --run-col run`` (a ``run,step,lr,loss`` CSV; the per-step LR linearly
interpolated between logged points, a linear warmup from 0 before the first one -- what lrplan's notes say it
does), the same points (each curve's fit window from LAW.yaml, which lrplan wrote in the timed run), the same
objective (Huber, delta 1e-3, on log residuals, divided by delta^2 x points: LAW.yaml's ``objective``), the same
coordinates and box (log A, log B, log C).  The optimiser is scipy's L-BFGS-B with 2-point finite-difference
gradients.  Starts: the LLDL seed ``L0 + A S1^-alpha - B (d_peak - d_t)`` fitted first (as the official code's
``initialize_params``), then ``--starts 1`` = the official code's single 7-parameter start (C, beta, gamma) =
(1, 0.5, 0.5), or ``--starts 8`` = lrplan's 8 (C, beta, gamma) combinations.  Prints the objective this
reference reaches and, as the faithfulness check, its objective at lrplan's fitted parameters (should equal
LAW.yaml's ``objective``).

plan: for each budget (steps) the predicted final loss of the WSD run (the spec's warmup, 10% 1-sqrt decay) and of
a cosine run, with the law's parameters from LAW.yaml -- what ``lrplan plan`` reports for WSD and cosine (it
also predicts the WSD-S run's checkpoints; this peer does not).  ``--optimize``: also every decay fraction x
shape of lrplan's grid per budget.  Peak / floor / warmup / decay of the benchmark's plan spec are fixed below.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict

t_imp = time.perf_counter()
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from _common import report, shape  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

NAMES = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
LOG_IDX = (1, 3, 4)
BOUNDS = [(None, None), (-10, 5), (0.01, 2.0), (-10, 12), (-12, 8), (0.05, 3.0), (0.0, 1.5)]
DELTA = 1e-3


def warmup_length(lr: np.ndarray) -> int:
    """Length of the initial strictly increasing LR ramp."""
    nu = np.flatnonzero(np.diff(lr) <= 0.0)
    return int(nu[0]) if nu.size else int(lr.size - 1)


class Curve:
    """One curve's precomputed arrays for the naive sum."""

    def __init__(self, lr: np.ndarray, steps: np.ndarray, loss: np.ndarray, rho: float, kappa: float) -> None:
        w = warmup_length(lr)
        held = lr.copy()
        held[:w] = lr[w]
        self.cs = np.cumsum(lr**rho)
        d = held**kappa
        self.d = d
        self.delta = np.concatenate([[0.0], d[:-1] - d[1:]])
        self.cs_prev = np.concatenate([[0.0], self.cs[:-1]])
        self.log_d = np.log(np.maximum(d, 1e-9 * d.max()))
        self.steps, self.loss = steps, loss
        self.d_peak = d[w]

    def predict(self, th: np.ndarray) -> np.ndarray:
        L0, A, alpha, B, C, beta, gamma = th
        eg = np.exp(-gamma * self.log_d)
        out = np.empty(self.steps.size)
        for i, t in enumerate(self.steps):
            x = C * eg[1:t + 1] * (self.cs[t] - self.cs_prev[1:t + 1])
            ld = float(np.dot(self.delta[1:t + 1], 1.0 - (1.0 + x) ** (-beta)))
            out[i] = L0 + A * self.cs[t] ** (-alpha) - B * ld
        return out


def huber(r: np.ndarray) -> np.ndarray:
    a = np.abs(r)
    return np.where(a <= DELTA, 0.5 * r * r, DELTA * (a - 0.5 * DELTA))


def theta(z: np.ndarray) -> np.ndarray:
    th = np.array(z, dtype=float)
    th[list(LOG_IDX)] = np.exp(th[list(LOG_IDX)])
    return th


def read_runs(path: str) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """run -> (loss steps, losses, lr steps, lrs) of a ``run,step,lr,loss`` CSV."""
    rows: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            rows[r["run"]].append((int(r["step"]), float(r["lr"]), float(r["loss"])))
    out = {}
    for run, rr in rows.items():
        rr.sort()
        s = np.array([r[0] for r in rr])
        out[run] = (s, np.array([r[2] for r in rr]), s, np.array([r[1] for r in rr]))
    return out


def per_step_lr(lr_steps: np.ndarray, lrs: np.ndarray, length: int) -> np.ndarray:
    s = np.arange(length, dtype=float)
    lr = np.interp(s, lr_steps.astype(float), lrs)
    s0 = int(lr_steps[0])
    if s0 > 0:
        lr[:s0] = lrs[0] * s[:s0] / s0
    return lr


def fit(a: argparse.Namespace) -> None:
    with open(a.law) as fh:
        law = yaml.safe_load(fh)
    rho, kappa = float(law["params"]["rho"]), float(law["params"]["kappa"])
    windows = {k.split(":", 1)[1]: v for k, v in law["window"]["per_curve"].items()}
    curves = []
    for run, (st, loss, ls, lrs) in read_runs(a.log).items():
        if run not in windows:
            continue
        lo, hi = windows[run][0], windows[run][1]
        keep = (st >= lo) & (st <= hi)
        lr = per_step_lr(ls, lrs, int(max(st.max(), ls.max())) + 1)
        curves.append(Curve(lr, st[keep], loss[keep], rho, kappa))
    n_pts = sum(c.steps.size for c in curves)
    scale = 1.0 / (DELTA**2 * n_pts)
    n_eval = [0]

    def obj(z: np.ndarray) -> float:
        n_eval[0] += 1
        th = theta(z)
        tot = 0.0
        for c in curves:
            p = c.predict(th)
            r = np.log(np.maximum(p, 1e-6)) - np.log(c.loss)
            tot += float(huber(r).sum())
        return tot * scale

    t0 = time.perf_counter()
    z_lrplan = np.array([np.log(law["params"][k]) if i in LOG_IDX else law["params"][k] for i, k in enumerate(NAMES)])
    at_lrplan = obj(z_lrplan)
    t_check = time.perf_counter() - t0
    n_eval[0] = 0

    # LLDL seed: L0 + A S1^-alpha - B (d_peak - d_t), cheap (no sum), a small grid of starts as the official code
    def obj4(z4: np.ndarray) -> float:
        L0, lA, alpha, lB = z4
        tot = 0.0
        for c in curves:
            S = c.cs[c.steps]
            p = L0 + np.exp(lA) * S ** (-alpha) - np.exp(lB) * (c.d_peak - c.d[c.steps])
            tot += float(huber(np.log(np.maximum(p, 1e-6)) - np.log(c.loss)).sum())
        return tot * scale

    t1 = time.perf_counter()
    y_min = min(float(c.loss.min()) for c in curves)
    best4 = None
    for L0 in np.linspace(y_min - 0.4, y_min, 3):
        for alpha in (0.3, 0.5, 0.7):
            for lB in (np.log(10.0), np.log(100.0)):
                r = minimize(obj4, [L0, 0.0, alpha, lB], method="L-BFGS-B", bounds=BOUNDS[:4])
                if best4 is None or r.fun < best4.fun:
                    best4 = r
    t_seed = time.perf_counter() - t1
    L0, lA, alpha, lB = best4.x
    if a.starts == 1:
        cbg = [(1.0, 0.5, 0.5)]
    else:
        cbg = [(C, b, g) for C in (0.5, 2.0) for b in (0.4, 0.7) for g in (0.4, 0.6)]
    results = []
    deadline = time.perf_counter() + a.max_seconds
    for C, beta, gamma in cbg:
        z0 = np.array([L0, lA, alpha, max(lB, 0.0) + np.log(1.3), np.log(C), beta, gamma])
        ts = time.perf_counter()
        r = minimize(obj, z0, method="L-BFGS-B", bounds=BOUNDS,
                     options={"maxiter": a.maxiter} if a.maxiter else {})
        results.append({"start": [C, beta, gamma], "objective": float(r.fun), "nit": int(r.nit),
                        "nfev": int(r.nfev), "seconds": time.perf_counter() - ts, "converged": bool(r.success)})
        if time.perf_counter() > deadline:
            break
    work = time.perf_counter() - t1
    best = min(results, key=lambda r: r["objective"])
    report(work_s=work, import_s=t0 - t_imp, seed_s=t_seed, points=n_pts, starts_done=len(results),
           starts_planned=len(cbg), objective=best["objective"], objective_at_lrplan_params=at_lrplan,
           lrplan_objective=float(law["objective"]), eval_s=t_check, results=results,
           complete=len(results) == len(cbg))


# ----------------------------------------------------------------------------------------------------- plan
PEAK, FLOOR, WARMUP, DECAY = 3.0e-4, 3.0e-5, 2000, 0.10  # the benchmark's plan spec (run_all.plan_spec)
FRACTIONS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
SHAPES = ("linear", "cosine", "1-sqrt", "sqrt-cube", "1-square")


def final_loss(p: dict, lr: np.ndarray) -> float:
    """The law after the last update of ``lr``: one query point, the naive O(T) sum."""
    c = Curve(lr, np.array([lr.size - 1]), np.ones(1), p["rho"], p["kappa"])
    return float(c.predict(np.array([p[k] for k in NAMES]))[0])


def wsd(n: int, frac: float, shp: str) -> np.ndarray:
    s = np.arange(n, dtype=float)
    d = int(np.floor(n * frac + 0.5))
    lr = np.full(n, PEAK)
    lr[:WARMUP] = PEAK * s[:WARMUP] / WARMUP
    lr[n - d:] = FLOOR + (PEAK - FLOOR) * shape((s[n - d:] - (n - d)) / d, shp)
    return lr


def cosine(n: int) -> np.ndarray:
    s = np.arange(n, dtype=float)
    lr = FLOOR + (PEAK - FLOOR) * 0.5 * (1.0 + np.cos(np.pi * (s - WARMUP) / (n - WARMUP)))
    lr[:WARMUP] = PEAK * s[:WARMUP] / WARMUP
    return lr


def plan(a: argparse.Namespace) -> None:
    with open(a.law) as fh:
        p = {k: float(v) for k, v in yaml.safe_load(fh)["params"].items()}
    budgets = [int(b) for b in a.budgets.split(",")]
    t0 = time.perf_counter()
    wsd_loss, cos_loss, best = [], [], []
    for n in budgets:
        wsd_loss.append(final_loss(p, wsd(n, DECAY, "1-sqrt")))
        cos_loss.append(final_loss(p, cosine(n)))
        if a.optimize:
            best.append(min((final_loss(p, wsd(n, f, s)), f, s) for f in FRACTIONS for s in SHAPES))
    report(work_s=time.perf_counter() - t0, import_s=t0 - t_imp, budgets=len(budgets), loss_wsd=wsd_loss,
           loss_cosine=cos_loss, optimized=best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit")
    f.add_argument("log")
    f.add_argument("law")
    f.add_argument("--starts", type=int, choices=(1, 8), default=1)
    f.add_argument("--maxiter", type=int, default=0, help="L-BFGS-B iterations per start (0: scipy's default)")
    f.add_argument("--max-seconds", type=float, default=1e9, help="no further starts after this")
    p = sub.add_parser("plan")
    p.add_argument("law")
    p.add_argument("budgets")
    p.add_argument("--optimize", action="store_true")
    a = ap.parse_args()
    fit(a) if a.cmd == "fit" else plan(a)


if __name__ == "__main__":
    main()
