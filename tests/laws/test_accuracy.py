"""Held-out accuracy regression guards.

MPL protocol (Luo et al., arXiv 2503.12811, Table 1): fit jointly on constant_24000, cosine_24000, wsdcon_9;
test on the other six curves; metrics averaged over test curves.  Issue targets: mean R2 >= 0.998 and mean
MAE <= 0.0035 per size.  Measured with the defaults (MPL-rk, rho = kappa = 0.7, warmup "area", auto window):
25M R2 0.99873 / MAE 0.00339, 100M 0.99935 / 0.00266, 400M 0.99881 / 0.00363 (paper's best: R2 0.9971-0.9982,
MAE 0.0038-0.0053).  The R2 target is met for all sizes; the MAE target for 25M and 100M but not 400M, so the
strict MAE check is an expected failure for 400M and a looser guard (measured + ~3 %) protects against
regressions.  (Reproduce: ``python benchmarks/bench_laws.py --accuracy``.)
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from lrplan.laws.metrics import curve_metrics, mean_metrics
from lrplan.laws.reference_curves import MPL_TEST, SCHAIPP_TRAIN

fitmod = importlib.import_module("lrplan.laws.fit")  # the module (the package attribute is the function)

MAE_GUARD = {"25": 0.0035, "100": 0.0028, "400": 0.0037}


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
    pytest.param("400", marks=pytest.mark.xfail(reason="measured 0.00363 > 0.0035 target", strict=False)),
])
def test_mpl_protocol_mae_target(size, mpl_curves, mpl_fits):
    assert _test_means(mpl_fits[size], mpl_curves[size])["mae"] <= 0.0035


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
    assert np.mean(maes) <= 0.0035
    assert max(worst) <= 0.007
    assert np.mean(final) <= 0.005


def test_schaipp_final_loss_ranking(schaipp_fit, schaipp_curves):
    """Predicted final losses rank the cooldown runs of each horizon (15k/25k/35k/50k) like the observations.

    Measured: 48 of the 54 run pairs whose observed final losses differ by > 0.005 are ordered correctly; the
    misses involve the 1-sqrt cooldown (predicted best, observed mid-pack) and fractions 0.8/0.9 vs 0.2.  The
    shortest cooldown (0.1) is predicted worst at every horizon, as observed.
    """
    fl = schaipp_fit
    ok = total = 0
    for T in (15000, 25000, 35000, 50000):
        runs = [(n, c) for n, c in schaipp_curves.items() if n.endswith(f"_{T}") and n not in SCHAIPP_TRAIN]
        obs = {n: float(c.loss[-1]) for n, c in runs}
        pred = {n: float(fitmod.predict(fl, c.lr, c.steps[-1:])[0]) for n, c in runs}
        assert max(pred, key=pred.get) == max(obs, key=obs.get) == f"wsd-linear-0.1_{T}"
        names = list(obs)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if abs(obs[a] - obs[b]) > 0.005:
                    total += 1
                    ok += np.sign(obs[a] - obs[b]) == np.sign(pred[a] - pred[b])
    assert total == 54
    assert ok >= 46, (ok, total)
