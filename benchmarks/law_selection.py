"""How lrplan's default loss law was selected, reproducibly (the selection set only; no MPL test curve is read).

    python benchmarks/law_selection.py          # the 5x5 (rho, kappa) grid that chose the default MPL-rk law
    python benchmarks/law_selection.py --fsl    # the same grid for the FSL-amplitude variant (rejected, ~4 min)
    python benchmarks/law_selection.py --beta-max 10   # the same grid with a wider bound on beta (rejected)
    python benchmarks/law_selection.py --spl    # the same grid with the annealing kernel on a step clock (rejected)
    python benchmarks/law_selection.py --broad  # the 5x5 grid on the broader selection set v2 (~5 min)
    python benchmarks/law_selection.py --broad --fit-rho   # v2 score of kappa 0.7 with rho fitted (rejected)
    python benchmarks/law_selection.py --lag    # v1 and v2 scores of the lagged-drop variant (rejected, ~1 min)
    python benchmarks/law_selection.py --drift  # v1 and v2 scores of the drifting-rate variant (rejected)
    python benchmarks/law_selection.py --neg-gamma  # v1 and v2 scores with gamma allowed below 0 (rejected)

Selection set: the Schaipp/Hägele 124M SlimPajama runs (arXiv 2501.18965, peak LR 1e-3, ``tests/data/curves``);
fit ``constant_50000 + cosine_25000 + cosine_50000`` with the default fit, score = mean MAE over the 27 WSD cooldown
runs on steps >= the fit-window start; the lowest score wins.  ``--broad`` is selection set v2 (five tasks: three
peak LRs and two 2-4x horizon tasks).  The protocol, the pre-registered rules and every result, including the
rejected variants below (FSL amplitude, step clock, lagged drop, drifting rate, negative gamma), are in
``benchmarks/LAW_SELECTION.md``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

F = importlib.import_module("lrplan.laws.driver")  # the generic fit driver: fit, predict, HUBER_DELTA
M = importlib.import_module("lrplan.laws.multipower")
from lrplan.laws._drops import Events, Terms, block_terms, events  # noqa: E402
from lrplan.laws.base import Prepared  # noqa: E402
from lrplan.laws.objective import objective  # noqa: E402
from lrplan.laws.optimise import lbfgs  # noqa: E402
from lrplan.laws.window import lldl_fit, post_warmup, resolve_window  # noqa: E402
from lrplan.laws.warmup import law_lr  # noqa: E402
from lrplan.laws.metrics import curve_metrics  # noqa: E402
from lrplan.laws.reference_curves import SCHAIPP_TRAIN, load_schaipp_curves  # noqa: E402

SCHAIPP_DATA = ROOT / "tests/data/curves/schaipp2025_124m"
MORE_DATA = ROOT / "tests/data/curves/schaipp2025_more"
GRID = (0.6, 0.7, 0.8, 0.9, 1.0)
HORIZON_TRAIN = ("wsd-linear-0.2_50000",)


def broad_tasks() -> dict[str, tuple[list, list]]:
    """Selection set v2: (fit curves, predicted curves) per task; see the module docstring."""
    tasks = {}
    for name, root, peak, train in (("124m_lr0.0005", MORE_DATA / "124m_lr0.0005", 5e-4, SCHAIPP_TRAIN),
                                    ("124m_lr0.001", SCHAIPP_DATA, 1e-3, SCHAIPP_TRAIN),
                                    ("124m_lr0.002", MORE_DATA / "124m_lr0.002", 2e-3, SCHAIPP_TRAIN),
                                    ("horizon_124m", MORE_DATA / "horizon_124m", 1e-3, HORIZON_TRAIN),
                                    ("horizon_209m", MORE_DATA / "horizon_209m", 1e-3, HORIZON_TRAIN)):
        curves = load_schaipp_curves(root, peak=peak)
        tasks[name] = ([curves[n] for n in train], [c for n, c in curves.items() if n not in train])
    return tasks


def broad_grid(fit_rho: bool = False) -> None:
    """MPL-rk on selection set v2: score = mean over tasks of the task's mean held-out MAE, for the 5x5
    (rho, kappa) grid, or (``fit_rho``) for kappa = 0.7 with rho fitted per task."""
    tasks = broad_tasks()
    cells: list[tuple[Any, float]] = [("fit", 0.7)] if fit_rho else [(r, k) for r in GRID for k in GRID]
    print("MPL-rk on selection set v2: score = mean over 5 tasks of the mean held-out MAE")
    print(f"{'rho':>4} {'kappa':>5} {'score':>8} " + " ".join(f"{k:>13}" for k in tasks))
    scores = {}
    for rho, kappa in cells:
        per, fitted = [], []
        for train, held in tasks.values():
            fl = F.fit(train, rho=rho, kappa=kappa)
            start = fl.window["start"]
            fitted.append(fl.params["rho"])
            per.append(np.mean([curve_metrics(c.loss[c.steps >= start],
                                              F.predict(fl, c.lr, c.steps[c.steps >= start]))["mae"]
                                for c in held]))
        scores[(rho, kappa)] = float(np.mean(per))
        print(f"{rho:>4} {kappa:5.1f} {scores[(rho, kappa)]:8.5f} " + " ".join(f"{v:13.5f}" for v in per),
              flush=True)
        if fit_rho:
            print("fitted rho per task: " + " ".join(f"{r:.3f}" for r in fitted))
    best = min(scores, key=lambda k: scores[k])
    print(f"lowest score: rho {best[0]}, kappa {best[1]}: {scores[best]:.5f}")


# ------------------------------------------------------------------------------ FSL-amplitude variant
def fsl_value_and_grad(th: np.ndarray, S: np.ndarray, t: Terms) -> tuple[np.ndarray, np.ndarray]:
    """Prediction and Jacobian w.r.t. (L0, A, alpha, B, C, beta, gamma, w) of the FSL-amplitude variant."""
    L0, A, alpha, B, C, beta, gamma, w = th
    logS = np.log(S)
    pw = np.exp(-alpha * logS)
    x = C * np.exp(-gamma * t.log_eta) * np.maximum(t.D, 0.0)
    lu = np.log1p(x)
    pu = np.exp(-beta * lu)
    G = 1.0 - pu
    xg = beta * pu * x / (1.0 + x)  # x * dG/dx
    l_sk = np.log(np.maximum(S[t.q] - t.D, 1e-300))  # log S1(k-1) (block centre)
    p_sk = np.exp(-alpha * l_sk)
    amp = t.delta * (1.0 + w * p_sk)

    def bc(v: np.ndarray) -> np.ndarray:
        return np.bincount(t.q, weights=v, minlength=t.n_query)

    sG = bc(amp * G)
    J = np.empty((S.size, 8))
    J[:, 0] = 1.0
    J[:, 1] = pw
    J[:, 2] = -A * pw * logS + B * bc(t.delta * w * p_sk * l_sk * G)
    J[:, 3] = -sG
    J[:, 4] = -B * bc(amp * xg) / C
    J[:, 5] = -B * bc(amp * pu * lu)
    J[:, 6] = B * bc(amp * xg * t.log_eta)
    J[:, 7] = -B * bc(t.delta * p_sk * G)
    return L0 + A * pw - B * sG, J


class _FSLModel(M.MPLModel):
    names = M.PARAM_NAMES + ("w",)
    log_idx = (1, 3, 4, 7)  # A, B, C, w
    bounds = list(M.MPLModel.bounds) + [(-12, 8)]

    def value_jac(self, th: np.ndarray, p: Any) -> tuple[np.ndarray, np.ndarray]:
        return fsl_value_and_grad(th, p.S, p.extra)


def fit_variant(model: Any, curves: list, rho: float, kappa: float,
                initial: Callable[[np.ndarray], list[np.ndarray]],
                delta: float = F.HUBER_DELTA) -> tuple[np.ndarray, dict, float]:
    """Fit a variant law the way :func:`lrplan.laws.fit` fits MPL-rk: the same auto window and LLDL-seeded
    starts (each expanded by ``initial`` into full parameter vectors), 60-iteration screen, best 3 refined.
    Returns the parameters, the window and the training objective."""
    conv, shape = M.DEFAULT_WARMUP, (rho, kappa)
    win = resolve_window(curves, "auto", conv, delta, shape)
    starts = {c.name: max(win["start"], post_warmup(c) + 1) for c in curves}
    data = [model.prepare(c, c.steps[c.steps >= starts[c.name]], c.loss[c.steps >= starts[c.name]])
            for c in curves]
    scale = 1.0 / (delta**2 * sum(p.y.size for p in data))
    free = np.ones(len(model.names), dtype=bool)
    screened = []
    lldl, _ = lldl_fit(curves, starts, delta, conv, shape)
    for th0 in M.MPLModel(conv, *shape).starts(lldl, True):
        for th in initial(th0):
            z0 = model.z(th)
            zf, v = lbfgs(objective(model, data, delta, free, z0, scale), z0, model.bounds, 60)
            screened.append((v, zf))
    screened.sort(key=lambda s: s[0])
    best_v, best_z = np.inf, screened[0][1]
    for _, z0 in screened[:3]:
        zf, v = lbfgs(objective(model, data, delta, free, z0, scale), z0, model.bounds, 3000)
        if v < best_v:
            best_v, best_z = v, zf
    return model.theta(best_z), win, float(best_v)


def fit_fsl(curves: list, rho: float, kappa: float) -> tuple[np.ndarray, dict, float]:
    """The FSL-amplitude variant: MPL-rk's starts x 3 values of w."""
    return fit_variant(_FSLModel(M.DEFAULT_WARMUP, rho, kappa), curves, rho, kappa,
                       lambda th0: [np.r_[th0, w0] for w0 in (1e-4, 1.0, 10.0)])


def predict_fsl(th: np.ndarray, rho: float, kappa: float, lr: np.ndarray, steps: np.ndarray) -> np.ndarray:
    ev = events(lr[: int(steps.max()) + 1], M.DEFAULT_WARMUP, rho, kappa)
    t = block_terms(ev, steps, theta=0.01, theta_eta=0.01, exact=steps.size * ev.n <= 3_000_000)
    return fsl_value_and_grad(th, ev.cs[steps], t)[0]


# ------------------------------------------------------------------------------------- step-clock variant
def step_clock(ev: Any) -> Any:
    """``ev`` with the drop kernel's clock in steps: ``D = t - k + 1`` instead of the LR area since the drop."""
    import dataclasses

    return dataclasses.replace(ev, cs=np.arange(1, ev.cs.size + 1, dtype=float), s_prev=ev.k.astype(float))


class _SPLModel(M.MPLModel):
    def prepare(self, c: Any, steps: np.ndarray, y: np.ndarray) -> Any:
        ev = events(c.lr[: int(steps.max()) + 1], self.warmup, self.rho, self.kappa)
        t = block_terms(step_clock(ev), steps, theta=self.theta_blocks, theta_eta=self.theta_blocks,
                        exact=steps.size * ev.n <= M.FIT_EXACT_WORK)
        return Prepared(c.name, steps, y, ev.cs[steps], t)


def fit_spl(curves: list, rho: float, kappa: float) -> tuple[np.ndarray, dict, float]:
    """The step-clock variant: MPL-rk's starts x 3 values of C (per step, not per unit of LR area)."""
    return fit_variant(_SPLModel(M.DEFAULT_WARMUP, rho, kappa), curves, rho, kappa,
                       lambda th0: [np.r_[th0[:4], C0, th0[5:]] for C0 in (1e-4, 1e-2, 1.0)])


def predict_spl(th: np.ndarray, rho: float, kappa: float, lr: np.ndarray, steps: np.ndarray) -> np.ndarray:
    ev = events(lr[: int(steps.max()) + 1], M.DEFAULT_WARMUP, rho, kappa)
    t = block_terms(step_clock(ev), steps, theta=0.01, theta_eta=0.01, exact=steps.size * ev.n <= 3_000_000)
    return M.value_and_grad(th, ev.cs[steps], t)[0]


# ------------------------------------------------------------- lagged-drop and drifting-rate variants
LAMS = (0.0, 0.99, 0.995, 0.998, 0.999, 0.9995)


def lag_events(lr: np.ndarray, lam: float) -> Events:
    """Default events, but the drop LR (after ``**kappa``) passes an EMA in steps, ``e_t = lam e_(t-1) + (1-lam)
    lr_t`` (so a drop takes effect over ~1/(1-lam) steps); the forward area and the kernel clock keep the true LR.
    Changes below 1e-12 of the peak (the EMA's far tail) are dropped."""
    area, drop = law_lr(lr, M.DEFAULT_WARMUP, M.DEFAULT_RHO, M.DEFAULT_KAPPA)
    cs = np.cumsum(area)
    if lam > 0:
        from scipy.signal import lfilter

        drop = lfilter([1 - lam], [1, -lam], drop, zi=[lam * drop[0]])[0]
    k = np.flatnonzero(np.abs(np.diff(drop)) > 1e-12 * drop.max()) + 1
    eta = np.maximum(drop[k], 1e-9 * drop.max())
    return Events(cs=cs, k=k, delta=drop[k - 1] - drop[k], log_eta=np.log(eta), s_prev=cs[k - 1])


class _LagModel(M.MPLModel):
    def __init__(self, lam: float) -> None:
        super().__init__(M.DEFAULT_WARMUP, M.DEFAULT_RHO, M.DEFAULT_KAPPA)
        self.lam = lam

    def prepare(self, c: Any, steps: np.ndarray, y: np.ndarray) -> Any:
        ev = lag_events(c.lr[: int(steps.max()) + 1], self.lam)
        t = block_terms(ev, steps, theta=self.theta_blocks, theta_eta=self.theta_blocks,
                        exact=steps.size * ev.n <= M.FIT_EXACT_WORK)
        return Prepared(c.name, steps, y, ev.cs[steps], t)


def drift_value_and_grad(th: np.ndarray, S: np.ndarray, t: Terms, s_ref: float) -> tuple[np.ndarray, np.ndarray]:
    """Prediction and Jacobian w.r.t. (L0, A, alpha, B, C, beta, gamma, zeta) of the drifting-rate variant:
    the kernel argument of a drop at forward area ``S1(k-1)`` is ``C (S1(k-1)/s_ref)^zeta eta_k^-gamma D``."""
    L0, A, alpha, B, C, beta, gamma, zeta = th
    logS = np.log(S)
    pw = np.exp(-alpha * logS)
    l_rel = np.log(np.maximum(S[t.q] - t.D, 1e-300) / s_ref)  # log(S1(k-1) / s_ref) (block centre)
    x = C * np.exp(-gamma * t.log_eta + zeta * l_rel) * np.maximum(t.D, 0.0)
    lu = np.log1p(x)
    pu = np.exp(-beta * lu)
    G = 1.0 - pu
    xg = beta * pu * x / (1.0 + x)  # x * dG/dx

    def bc(v: np.ndarray) -> np.ndarray:
        return np.bincount(t.q, weights=v, minlength=t.n_query)

    sG = bc(t.delta * G)
    J = np.empty((S.size, 8))
    J[:, 0] = 1.0
    J[:, 1] = pw
    J[:, 2] = -A * pw * logS
    J[:, 3] = -sG
    J[:, 4] = -B * bc(t.delta * xg) / C
    J[:, 5] = -B * bc(t.delta * pu * lu)
    J[:, 6] = B * bc(t.delta * xg * t.log_eta)
    J[:, 7] = -B * bc(t.delta * xg * l_rel)
    return L0 + A * pw - B * sG, J


class _DriftModel(M.MPLModel):
    names = M.PARAM_NAMES + ("zeta",)
    bounds = list(M.MPLModel.bounds) + [(-2.0, 2.0)]

    def __init__(self, s_ref: float) -> None:
        super().__init__(M.DEFAULT_WARMUP, M.DEFAULT_RHO, M.DEFAULT_KAPPA)
        self.s_ref = s_ref

    def value_jac(self, th: np.ndarray, p: Any) -> tuple[np.ndarray, np.ndarray]:
        return drift_value_and_grad(th, p.S, p.extra, self.s_ref)


class _NegGammaModel(M.MPLModel):
    bounds = list(M.MPLModel.bounds[:6]) + [(-1.5, 1.5)]


def variant_task_score(variant: str, train: list, held: list) -> tuple[float, str]:
    """Fit ``variant`` (``"lag"``: lam chosen from ``LAMS`` by the training objective; ``"drift"``: zeta fitted,
    s_ref = the first fit curve's forward area at the window start; ``"neggamma"``: gamma in [-1.5, 1.5], the
    default's starts plus each with gamma -0.5) and return its mean held-out MAE."""
    rho, kappa = M.DEFAULT_RHO, M.DEFAULT_KAPPA
    if variant == "neggamma":
        th, win, _ = fit_variant(_NegGammaModel(M.DEFAULT_WARMUP, rho, kappa), train, rho, kappa,
                                 lambda th0: [th0, np.r_[th0[:6], -0.5]])
        note = f"gamma {th[6]:.3f}"
    elif variant == "lag":
        fits = [(fit_variant(_LagModel(lam), train, rho, kappa, lambda th0: [th0]), lam) for lam in LAMS]
        (th, win, _), lam = min(fits, key=lambda f: f[0][2])
        note = f"lam {lam}"
    else:
        win = resolve_window(train, "auto", M.DEFAULT_WARMUP, F.HUBER_DELTA, (rho, kappa))
        area, _ = law_lr(train[0].lr, M.DEFAULT_WARMUP, rho, kappa)
        s_ref = float(np.cumsum(area)[max(win["start"], post_warmup(train[0]) + 1)])
        th, win, _ = fit_variant(_DriftModel(s_ref), train, rho, kappa,
                                 lambda th0: [np.r_[th0, z0] for z0 in (-0.5, 0.0, 0.5)])
        note = f"zeta {th[7]:.3f}"
    maes = []
    for c in held:
        m = c.steps >= win["start"]
        lr = c.lr[: int(c.steps[m].max()) + 1]
        ev = lag_events(lr, lam) if variant == "lag" else events(lr, M.DEFAULT_WARMUP, rho, kappa)
        t = block_terms(ev, c.steps[m], theta=0.01, theta_eta=0.01, exact=c.steps[m].size * ev.n <= 3_000_000)
        S = ev.cs[c.steps[m]]
        pred = drift_value_and_grad(th, S, t, s_ref)[0] if variant == "drift" else M.value_and_grad(th, S, t)[0]
        maes.append(curve_metrics(c.loss[m], pred)["mae"])
    return float(np.mean(maes)), note


def variant_scores(variant: str) -> None:
    """Score a variant on both selection sets (v1 = the ``124m_lr0.001`` task, v2 = the mean of the five)."""
    per = {}
    for name, (train, held) in broad_tasks().items():
        per[name] = variant_task_score(variant, train, held)
        print(f"{name:>14}: MAE {per[name][0]:.5f} ({per[name][1]})", flush=True)
    print(f"{variant}: v1 {per['124m_lr0.001'][0]:.5f} (default 0.00269), "
          f"v2 {np.mean([v[0] for v in per.values()]):.5f} (default 0.00490)")


# ------------------------------------------------------------------------------------------------ grid
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fsl", action="store_true", help="grid for the FSL-amplitude variant instead")
    ap.add_argument("--spl", action="store_true", help="grid for the step-clock variant instead")
    ap.add_argument("--beta-max", type=float, default=None, help="upper bound on beta (default: the fit's 3.0)")
    ap.add_argument("--broad", action="store_true", help="the MPL-rk grid on selection set v2 (5 tasks)")
    ap.add_argument("--fit-rho", action="store_true", help="with --broad: kappa 0.7, rho fitted per task")
    ap.add_argument("--lag", action="store_true", help="v1 and v2 scores of the lagged-drop variant (rejected)")
    ap.add_argument("--drift", action="store_true", help="v1 and v2 scores of the drifting-rate variant (rejected)")
    ap.add_argument("--neg-gamma", action="store_true", help="v1 and v2 scores with gamma allowed below 0 (rejected)")
    args = ap.parse_args()
    if args.lag or args.drift or args.neg_gamma:
        variant_scores("lag" if args.lag else "drift" if args.drift else "neggamma")
        return
    if args.broad:
        broad_grid(args.fit_rho)
        return
    if args.beta_max is not None:
        M.MPLModel.bounds[5] = (M.MPLModel.bounds[5][0], args.beta_max)
    curves = load_schaipp_curves(SCHAIPP_DATA)
    train = [curves[n] for n in SCHAIPP_TRAIN]
    held = [c for n, c in curves.items() if n not in SCHAIPP_TRAIN]
    label = "MPL-rk, step clock" if args.spl else "MPL-rk + FSL amplitude" if args.fsl else "MPL-rk"
    label += f", beta <= {M.MPLModel.bounds[5][1]}"
    print(f"{label}: fit {' + '.join(SCHAIPP_TRAIN)}, mean MAE on the {len(held)} WSD cooldown runs")
    print(f"{'rho':>4} {'kappa':>5} {'MAE':>8} {'window':>6}" + ("   w" if args.fsl else ""))
    scores = {}
    for rho in GRID:
        for kappa in GRID:
            if args.spl:
                th, win, _ = fit_spl(train, rho, kappa)
                preds = [predict_spl(th, rho, kappa, c.lr, c.steps[c.steps >= win["start"]]) for c in held]
                extra = f"   C={th[4]:.3g} beta={th[5]:.3g} gamma={th[6]:.3g}"
            elif args.fsl:
                th, win, _ = fit_fsl(train, rho, kappa)
                preds = [predict_fsl(th, rho, kappa, c.lr, c.steps[c.steps >= win["start"]]) for c in held]
                extra = f"   {th[7]:.3g}"
            else:
                fl = F.fit(train, rho=rho, kappa=kappa)
                win = fl.window
                preds = [F.predict(fl, c.lr, c.steps[c.steps >= win["start"]]) for c in held]
                extra = ""
            maes = [curve_metrics(c.loss[c.steps >= win["start"]], p)["mae"] for c, p in zip(held, preds)]
            scores[(rho, kappa)] = float(np.mean(maes))
            print(f"{rho:4.1f} {kappa:5.1f} {scores[(rho, kappa)]:8.5f} {win['start']:6d}{extra}", flush=True)
    best = min(scores, key=lambda k: scores[k])
    print(f"lowest mean MAE: rho {best[0]}, kappa {best[1]}: {scores[best]:.5f}")


if __name__ == "__main__":
    main()
