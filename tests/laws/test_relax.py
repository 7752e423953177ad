"""The issue-16 candidate law ``lrplan.laws.relax`` (absolute-LR relaxation law; not registered by default).

Values at known points, the grouped sums against the plain sum, the analytic Jacobian, the fit recovering known
parameters on synthetic curves, and an accuracy guard on the 19M set (``tests/data/curves/lrplan_gpt19m_code``).
Selection and numbers: ``benchmarks/LAW_SELECTION_16.md``.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest

from lrplan.laws import relax as R
from lrplan.laws.fitted import Curve
from lrplan.laws.registry import LAWS, Entry

DATA19 = Path(__file__).resolve().parents[1] / "data" / "curves" / "lrplan_gpt19m_code"
P = {"L0": 0.75, "A": 30.0, "alpha": 0.6, "B": 0.03, "C": 0.02, "beta": 0.8}


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(LAWS, "relax", Entry("lrplan.laws.relax", summary="candidate"))


def wsd(T=4000, W=100, peak=1.5e-3, frac=0.2, rewarm=False):
    k = np.arange(T)
    lr = peak * np.minimum(1.0, (k + 1) / W)
    d0 = int(T * (1 - frac))
    lr[d0:] = peak * np.linspace(1.0, 0.0, T - d0)
    if rewarm:  # decay to 0.1 peak at T/2, straight back to peak, decay again
        h = T // 2
        lr[h - 200: h] = peak * np.linspace(1.0, 0.1, 200)
    return lr


def cosine(T=4000, W=100, peak=1.5e-3):
    k = np.arange(T)
    lr = peak * (0.1 + 0.45 * (1 + np.cos(np.pi * np.clip((k - W) / (T - W), 0, 1))))
    lr[:W] = peak * (k[:W] + 1) / W
    return lr


def test_constant_lr_closed_form():
    """No warmup, constant LR e: one increment e at step 0, N(t) = e (1 - (1 + C e (t+1))^-beta)."""
    eta = 2e-3
    lr = np.full(500, eta)
    t = np.array([0, 10, 499])
    e = eta / R.ETA_REF
    S = e * (t + 1)
    N = e * (1 - (1 + P["C"] * S) ** -P["beta"])
    want = P["L0"] + P["A"] * S ** -P["alpha"] + P["B"] * N
    np.testing.assert_allclose(R.predict(P, lr, t), want, rtol=1e-12)
    want_nl = (P["L0"] + P["A"] * S ** -P["alpha"]) * (1 + P["B"] * N)
    np.testing.assert_allclose(R.predict({**P, "nl": 1.0}, lr, t), want_nl, rtol=1e-12)


def test_noise_is_nonnegative_and_relaxes_to_the_lr():
    """N >= 0 for any schedule, and N -> e_t after a long constant stretch (the floor is B * eta / ETA_REF)."""
    lr = wsd(rewarm=True)
    t = R.Terms(lr, np.arange(0, 4000, 7), "ramp", 0.0, 0.05, exact=True)
    th = np.array([0.0, 0.0, 1.0, 1.0, 0.05, 1.0])  # L = N
    N = R.value_and_grad(th, t, False)[0]
    assert N.min() >= -1e-12
    long = np.full(200_000, 1e-3)
    assert abs(R.predict({**P, "L0": 0.0, "A": 0.0, "B": 1.0, "C": 1.0, "beta": 1.0}, long, [199_999])[0]
               - 1.0) < 1e-4


@pytest.mark.parametrize("lr", [wsd(), wsd(rewarm=True), cosine()], ids=["wsd", "rewarm", "cosine"])
@pytest.mark.parametrize("opts", [{}, {"nl": 1.0, "lag": 0.95}, {"rho": 0.8, "kappa": 0.7}])
def test_grouped_sum_matches_plain_sum(lr, opts):
    p = {**P, **opts}
    st = np.arange(400, 4000, 40)
    np.testing.assert_allclose(R.predict(p, lr, st), R.predict_naive(p, lr, st), atol=2e-6)
    blocks = R.Terms(lr, st, "ramp", opts.get("lag", 0.0), R.THETA_FIT, exact=False, rho=opts.get("rho", 1.0),
                     kappa=opts.get("kappa", 1.0))
    th = np.array([p[k] for k in R.PARAM_NAMES])
    np.testing.assert_allclose(R.value_and_grad(th, blocks, bool(opts.get("nl")))[0],
                               R.predict_naive(p, lr, st), atol=1e-5)


@pytest.mark.parametrize("nl", [False, True])
def test_analytic_jacobian(nl):
    lr = wsd(rewarm=True)
    t = R.Terms(lr, np.arange(400, 4000, 40), "ramp", 0.95, R.THETA_FIT)
    th = np.array([P[k] for k in R.PARAM_NAMES])
    _, J = R.value_and_grad(th, t, nl)
    for i in range(th.size):
        h = 1e-6 * max(1.0, abs(th[i]))
        up, dn = th.copy(), th.copy()
        up[i] += h
        dn[i] -= h
        num = (R.value_and_grad(up, t, nl)[0] - R.value_and_grad(dn, t, nl)[0]) / (2 * h)
        np.testing.assert_allclose(J[:, i], num, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("nl", [0.0, 1.0])
def test_fit_recovers_parameters(registered, nl):
    """Noise-free curves of a known law: constant at two peaks, WSD and cosine -> the parameters come back."""
    from lrplan.laws import fit

    truth = {**P, "nl": nl}
    if nl:
        truth["B"] = 0.04
    st = np.arange(400, 4000, 40)
    lrs = {"c": wsd(frac=0.0), "c_half": wsd(frac=0.0, peak=0.75e-3), "w": wsd(), "cos": cosine()}
    curves = [Curve(n, st, R.predict(truth, lr, st), lr) for n, lr in lrs.items()]
    fl = fit(curves, law="relax", window=400, noise="loss" if nl else "lr")
    for k in R.PARAM_NAMES:
        assert fl.params[k] == pytest.approx(truth[k], rel=0.03), (k, fl.params)
    held = wsd(frac=0.1, rewarm=True)
    np.testing.assert_allclose(fl.predict(held, st), R.predict(truth, held, st), atol=2e-4)


def test_beta_fixed_and_options(registered):
    from lrplan.laws import fit

    st = np.arange(400, 4000, 40)
    curves = [Curve(n, st, R.predict(P, lr, st), lr) for n, lr in (("c", wsd(frac=0.0)), ("w", wsd()))]
    fl = fit(curves, law="relax", window=400, beta=0.5)
    assert fl.params["beta"] == 0.5 and fl.meta["beta_fixed"] == 0.5
    with pytest.raises(ValueError, match="noise"):
        fit(curves, law="relax", window=400, noise="bogus")


# ------------------------------------------------------------------------------------ accuracy guard (real data)
def load19() -> dict[str, Curve]:
    rows: dict[str, list] = {}
    with gzip.open(DATA19 / "curves.csv.gz", "rt") as fh:
        for r in csv.DictReader(fh):
            rows.setdefault(r["run"], []).append((int(r["step"]), float(r["lr"]), float(r["val_loss"])))
    out = {}
    for name, rr in rows.items():
        if "branch" in name:
            continue
        a = np.array(rr)
        m = np.isfinite(a[:, 2]) & (a[:, 0] >= 1)
        out[name] = Curve(name, a[m, 0].astype(int) - 1, a[m, 2], a[:-1, 1])  # val row r -> lrplan step r - 1
    return out


@pytest.mark.slow
def test_accuracy_guard_19m_main_protocol(registered):
    """Fit constant + cosine from step 400 (the issue's protocol), predict the 16 other full-length runs at peak
    1.5e-3.  ABS-NL (candidate K5, rejected by the pre-registered rule on the Schaipp set) measured 0.0142 on these
    16 (0.0148 on the issue's 19 with the branches); today's default 0.0424 on the 16 (0.041 on the 19)."""
    from lrplan.laws import fit

    C = load19()
    fl = fit([C["constant"], C["cosine"]], law="relax", window=400, noise="loss")
    names = [n for n in C if "peak" not in n and n not in ("constant", "cosine")]
    assert len(names) == 16
    err = [float(fl.predict(C[n].lr, C[n].steps[-1:])[0] - C[n].loss[-1]) for n in names]
    assert np.mean(np.abs(err)) <= 0.018, dict(zip(names, np.round(err, 3)))
