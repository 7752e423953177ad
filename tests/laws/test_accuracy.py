"""Held-out accuracy regression guards.

MPL protocol (Luo et al., arXiv 2503.12811, Table 1): fit jointly on constant_24000, cosine_24000, wsdcon_9;
test on the other six curves; metrics averaged over test curves.  Issue targets: mean R2 >= 0.998 and mean
MAE <= 0.0035 per size.  Honest protocol: the only extra hyper-parameters of the default law (rho = 0.8,
kappa = 0.7) were chosen on the Schaipp/Hägele 124M set (see ``lrplan.laws.multipower``), never on the six MPL
test curves.  Measured with the defaults (warmup "area", auto window, unweighted Huber):
25M R2 0.99889 / MAE 0.00338, 100M 0.99924 / 0.00280, 400M 0.99858 / 0.00411 (published 7-parameter MPL fitted
the same way: MAE 0.00458 / 0.00528 / 0.00631; paper's Table 1: 0.0039 / 0.0038 / 0.0053).  The R2 target is met
for all sizes, the MAE target for 25M and 100M but not for 400M (strict expected failure below; a looser guard
at measured + ~3 % protects against regressions).  Schaipp numbers at peak 1e-3 are validation numbers (the set
was used to choose rho, kappa); the 5e-4 and 2e-3 Schaipp runs are held out.
Reproduce: ``python benchmarks/bench_laws.py --accuracy``.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # fits on real curves: seconds each

from lrplan.laws.metrics import curve_metrics, mean_metrics
from lrplan.laws.reference_curves import MPL_TEST, SCHAIPP_TRAIN

fitmod = importlib.import_module("lrplan.laws.driver")  # the generic fit driver (fit, FittedLaw, predict)

MAE_GUARD = {"25": 0.0035, "100": 0.0029, "400": 0.0042}


def _test_means(fl, curves):
    return mean_metrics({n: curve_metrics(curves[n].loss, fitmod.predict(fl, curves[n].lr, curves[n].steps))
                         for n in MPL_TEST})


@pytest.mark.parametrize("size", ["25", "100", "400"])
def test_mpl_protocol_r2_and_mae_guard(size, mpl_curves, mpl_fits):
    m = _test_means(mpl_fits[size], mpl_curves[size])
    assert m["r2"] >= 0.998, m
    assert m["mae"] <= MAE_GUARD[size], m
    assert m["worst_e"] <= 0.011, m
    # better than the paper's best row for this size (Table 1: MAE 0.0039 / 0.0038 / 0.0053)
    assert m["mae"] < {"25": 0.0039, "100": 0.0038, "400": 0.0053}[size]


@pytest.mark.parametrize("size", [
    "25",
    "100",
    pytest.param("400", marks=pytest.mark.xfail(reason="honest protocol: measured 0.00411 > 0.0035 target",
                                                strict=True)),
])
def test_mpl_protocol_mae_target(size, mpl_curves, mpl_fits):
    assert _test_means(mpl_fits[size], mpl_curves[size])["mae"] <= 0.0035


@pytest.mark.parametrize("size", ["25", "100", "400"])
def test_default_beats_published_form(size, mpl_curves):
    """The rho/kappa extension (chosen without these curves) beats the published 7-parameter form by > 20 % MAE."""
    from lrplan.laws.reference_curves import MPL_TRAIN

    c = mpl_curves[size]
    fl_pub = fitmod.fit([c[n] for n in MPL_TRAIN], rho=1.0, kappa=1.0)
    fl_def = fitmod.fit([c[n] for n in MPL_TRAIN])
    assert _test_means(fl_def, c)["mae"] < 0.8 * _test_means(fl_pub, c)["mae"]


def test_mpl_fit_window_and_serialisation(mpl_fits):
    fl = mpl_fits["400"]
    d = fl.to_dict()
    back = fitmod.FittedLaw.from_dict(d)
    assert back.params == fl.params and back.warmup == "area" and back.window["rule"] == "auto"
    assert set(d["metrics"]) == {"constant_24000", "cosine_24000", "wsdcon_9"}
    assert all(m["r2"] > 0.999 for m in fl.metrics.values())


@pytest.fixture(scope="module")
def schaipp_fit(schaipp_curves):
    return fitmod.fit([schaipp_curves[n] for n in SCHAIPP_TRAIN])


def test_schaipp_wsd_cooldowns_predicted(schaipp_fit, schaipp_curves):
    """Fit constant + cosine (124M, peak 1e-3), predict 27 WSD cooldown runs (linear 0.1-0.9/0.994, 1-sqrt 0.2)."""
    fl = schaipp_fit
    assert 1000 <= fl.window["start"] <= 6200  # the early transient (loss 10.9 -> ~3.7) is dropped
    maes, worst, final = [], [], []
    for n, c in schaipp_curves.items():
        if n in SCHAIPP_TRAIN:
            continue
        m = c.steps >= fl.window["start"]
        p = fitmod.predict(fl, c.lr, c.steps[m])
        met = curve_metrics(c.loss[m], p)
        maes.append(met["mae"])
        worst.append(met["worst_e"])
        final.append(abs(p[-1] - c.loss[m][-1]))
    assert len(maes) == 27
    assert np.mean(maes) <= 0.0028  # measured 0.00269 (validation number: this set chose rho, kappa)
    assert max(worst) <= 0.008  # measured 0.00772
    assert np.mean(final) <= 0.0105  # measured 0.01009 (rho = kappa = 0.7 had 0.0039, published form 0.0128)


def test_schaipp_final_loss_ranking(schaipp_fit, schaipp_curves):
    """Predicted final losses rank the cooldown runs of each horizon (15k/25k/35k/50k) like the observations.

    Measured with the defaults: 38 of the 54 run pairs whose observed final losses differ by > 0.005 are ordered
    correctly (rho = kappa = 0.7: 48, published form: 52).  Known weakness of the default: the longest cooldowns
    (0.9 / 0.994) are predicted worst at every horizon, while the shortest one (0.1) is observed worst; 0.1 is
    predicted second worst.
    """
    fl = schaipp_fit
    ok = total = 0
    for T in (15000, 25000, 35000, 50000):
        runs = [(n, c) for n, c in schaipp_curves.items() if n.endswith(f"_{T}") and n not in SCHAIPP_TRAIN]
        obs = {n: float(c.loss[-1]) for n, c in runs}
        pred = {n: float(fitmod.predict(fl, c.lr, c.steps[-1:])[0]) for n, c in runs}
        assert max(obs, key=obs.get) == f"wsd-linear-0.1_{T}"
        assert sorted(pred, key=pred.get)[-2] == f"wsd-linear-0.1_{T}"  # predicted second worst
        names = list(obs)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if abs(obs[a] - obs[b]) > 0.005:
                    total += 1
                    ok += np.sign(obs[a] - obs[b]) == np.sign(pred[a] - pred[b])
    assert total == 54
    assert ok >= 37, (ok, total)


@pytest.mark.parametrize(("folder", "peak", "mae_max", "pairs_min"), [
    # measured with the defaults: MAE 0.00258 / 0.00592; 56 of 57 / 57 of 57 clear pairs ranked right
    ("124m_lr0.0005", 5e-4, 0.0027, 55),
    ("124m_lr0.002", 2e-3, 0.0062, 56),
])
def test_schaipp_other_peak_lrs_held_out(folder, peak, mae_max, pairs_min):
    """The same Schaipp protocol at peak LR 5e-4 and 2e-3: held out for the default (its rho, kappa were fixed on
    the 1e-3 runs before these curves were added), so these are independent accuracy and ranking checks."""
    from pathlib import Path

    from lrplan.laws.reference_curves import load_schaipp_curves

    root = Path(__file__).resolve().parents[1] / "data" / "curves" / "schaipp2025_more" / folder
    curves = load_schaipp_curves(root, peak=peak)
    fl = fitmod.fit([curves[n] for n in SCHAIPP_TRAIN])
    held = {n: c for n, c in curves.items() if n not in SCHAIPP_TRAIN}
    assert len(held) == 27
    maes, final = [], {}
    for n, c in held.items():
        m = c.steps >= fl.window["start"]
        p = fitmod.predict(fl, c.lr, c.steps[m])
        maes.append(curve_metrics(c.loss[m], p)["mae"])
        final[n] = (float(c.loss[m][-1]), float(p[-1]))
    assert np.mean(maes) <= mae_max
    ok = total = 0
    for T in (15000, 25000, 35000, 50000):
        names = [n for n in final if n.endswith(f"_{T}")]
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                (oa, pa), (ob, pb) = final[a], final[b]
                if abs(oa - ob) > 0.005:
                    total += 1
                    ok += np.sign(oa - ob) == np.sign(pa - pb)
    assert total == 57
    assert ok >= pairs_min, (ok, total)
