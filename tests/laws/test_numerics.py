"""Analytic gradients vs finite differences; fast/bounded predictors vs the naive O(T*K) sums."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrplan.laws import momentum as mtl
from lrplan.laws import multipower as mpl
from lrplan.laws._drops import block_terms, events
from lrplan.laws.objective import objective
from lrplan.laws.reference_curves import mpl_lr

P = mpl.MPLParams(2.4, 0.65, 0.43, 520.0, 2.0, 0.6, 0.63)
P_RK = mpl.MPLParams(2.57, 2.0, 0.48, 52.0, 2.9, 1.2, 0.1, rho=0.7, kappa=0.7)


def _wsd(T=30_000, W=1000, D=6000, peak=3e-4, final=3e-6):
    lr = np.full(T, peak)
    lr[:W] = np.linspace(0, peak, W)
    lr[T - D:] = np.linspace(peak, final, D)
    return lr


SCHEDULES = {
    "cosine_24000": mpl_lr("cosine_24000"),
    "wsdcon_3": mpl_lr("wsdcon_3"),
    "wsd_exp": mpl_lr("wsd_20000_24000"),
    "wsd_linear_to_small": _wsd(),
    "step_up_and_down": np.r_[np.full(3000, 3e-4), np.full(3000, 1e-4), np.full(3000, 2e-4), np.full(3000, 5e-5)],
}


@pytest.mark.parametrize("warmup", ["area", "ramp", "peak"])
@pytest.mark.parametrize("p", [P, P_RK], ids=["mpl", "mpl-rk"])
def test_mpl_jacobian_matches_finite_differences(warmup, p):
    lr = mpl_lr("cosine_24000")
    steps = np.arange(2200, 24000, 700)
    ev = events(lr, warmup, p.rho, p.kappa)
    t = block_terms(ev, steps)
    S = ev.cs[steps]
    th = p.as_array()
    f0, J = mpl.value_and_grad(th, S, t)
    for i in range(7):
        h = 1e-6 * max(abs(th[i]), 1e-2)
        tp, tm = th.copy(), th.copy()
        tp[i] += h
        tm[i] -= h
        fd = (mpl.value_and_grad(tp, S, t)[0] - mpl.value_and_grad(tm, S, t)[0]) / (2 * h)
        np.testing.assert_allclose(J[:, i], fd, rtol=2e-5, atol=2e-8, err_msg=mpl.PARAM_NAMES[i])


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("name", ["cosine_24000", "wsdcon_9", "wsd_20000_24000"])
def test_shape_jacobian_matches_finite_differences_and_value(name, exact):
    """9-parameter MPL (rho, kappa fitted): value equals the 7-parameter block sum, Jacobian equals FD."""
    lr = mpl_lr(name)
    steps = np.arange(2200, lr.size, 300)
    prep = mpl.ShapePrep(lr, "area", steps, 0.8, 0.9, exact=exact)
    th = np.array([2.5, 0.6, 0.45, 300.0, 1.5, 0.6, 0.5, 0.8, 0.9])
    f0, J = mpl.value_and_grad_shape(th, prep)
    p = mpl.MPLParams.from_array(th, rho=0.8, kappa=0.9)
    ev = events(lr, "area", 0.8, 0.9)
    t = block_terms(ev, steps, exact=exact)
    np.testing.assert_allclose(f0, p.L0 + p.A * ev.cs[steps] ** (-p.alpha) - p.B * mpl.ld_sum(p, t), atol=1e-11)
    for i in range(9):
        h = 1e-6 * max(abs(th[i]), 1e-2)
        tp, tm = th.copy(), th.copy()
        tp[i] += h
        tm[i] -= h
        fd = (mpl.value_and_grad_shape(tp, prep)[0] - mpl.value_and_grad_shape(tm, prep)[0]) / (2 * h)
        np.testing.assert_allclose(J[:, i], fd, rtol=1e-5, atol=1e-6 * max(np.abs(fd).max(), 1e-3), err_msg=str(i))


@pytest.mark.parametrize("law,kw", [("multi-power", {}), ("momentum", {"fit_lambda": True}),
                                    ("multi-power-shape", {})])
def test_objective_gradient_matches_finite_differences(law, kw, mpl_curves):
    c = mpl_curves["100"]
    curves = [c["constant_24000"], c["cosine_24000"], c["wsdcon_9"]]
    if law == "multi-power":
        model = mpl.MPLModel("area", 0.7, 0.7)
        th = np.array([2.8, 2.0, 0.52, 42.0, 1.7, 2.0, 0.1])
    elif law == "multi-power-shape":
        model = mpl.MPLShapeModel("area", 0.8, 0.9, (0.5, 1.0), (0.5, 1.0))
        th = np.array([2.8, 1.5, 0.5, 200.0, 2.0, 0.8, 0.2, 0.75, 0.85])
    else:
        model = mtl.MTLModel("peak", True, 0.999)
        th = np.array([2.7, 0.6, 0.5, 0.4, 0.998])
    data = [model.prepare(x, x.steps, x.loss) for x in curves]
    for p in data:  # non-uniform (late-point) weights exercise the weighted objective
        p.w = (p.steps / 12000.0) ** 2
    z = model.z(th)
    free = np.ones(z.size, dtype=bool)
    f = objective(model, data, 1e-3, free, z, 1.0)
    v, g = f(z)
    for i in range(z.size):
        h = 1e-7 * max(abs(z[i]), 1e-2)
        zp, zm = z.copy(), z.copy()
        zp[i] += h
        zm[i] -= h
        fd = (f(zp)[0] - f(zm)[0]) / (2 * h)
        assert fd == pytest.approx(g[i], rel=1e-4, abs=1e-7 * max(1.0, abs(v))), (i, fd, g[i])


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("p", [P, P_RK], ids=["mpl", "mpl-rk"])
def test_block_decomposition_within_rigorous_bound(name, p):
    lr = SCHEDULES[name]
    steps = np.unique(np.r_[np.linspace(1000, lr.size - 1, 60).astype(int), np.arange(7990, 8300, 13)])
    steps = steps[steps < lr.size]
    naive = mpl.predict_naive(p, lr, steps)
    exact, b0 = mpl.predict_with_bound(p, lr, steps)  # exact (small work) -> bound 0
    assert np.all(b0 == 0)
    np.testing.assert_allclose(exact, naive, rtol=0, atol=1e-10)
    ev = events(lr, "area", p.rho, p.kappa)
    t = block_terms(ev, steps, theta=0.05, theta_eta=0.05)
    approx = p.L0 + p.A * ev.cs[steps] ** (-p.alpha) - p.B * mpl.ld_sum(p, t)
    bound = p.B * mpl.ld_bound(p, t)
    err = np.abs(approx - naive)
    assert np.all(err <= bound + 1e-12)
    assert err.max() <= 2e-6
    assert t.size < 0.25 * len(steps) * max(ev.n, 1) or ev.n < 50


@pytest.mark.parametrize("p", [P, P_RK], ids=["mpl", "mpl-rk"])
def test_dense_predict_matches_naive(p, monkeypatch):
    lr = _wsd(T=60_000, W=1000, D=20_000)
    monkeypatch.setattr(mpl, "DENSE_QUERIES", 5_000)  # force the anchor/interpolation path
    steps = np.arange(lr.size)
    fast = mpl.predict(p, lr, steps)
    check = np.unique(np.r_[np.linspace(1001, lr.size - 1, 150).astype(int), np.arange(39_990, 40_400, 3)])
    np.testing.assert_allclose(fast[check], mpl.predict_naive(p, lr, check), rtol=0, atol=2e-5)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(50, 3000), st.floats(0.0, 1.0)), min_size=1, max_size=6))
def test_predict_finite_and_exact_on_random_piecewise_schedules(pieces):
    """Random piecewise-constant schedules (up and down): compressed exact sum == naive sum, finite output."""
    lr = np.concatenate([np.linspace(0, 3e-4, 200)] + [np.full(n, 3e-4 * max(v, 1e-3)) for n, v in pieces])
    steps = np.linspace(201, lr.size - 1, 25).astype(int)
    fast = mpl.predict(P, lr, steps)
    assert np.all(np.isfinite(fast))
    np.testing.assert_allclose(fast, mpl.predict_naive(P, lr, steps), rtol=0, atol=1e-9)


def test_momentum_recursion_matches_closed_form():
    p = mtl.MTLParams(2.6, 0.43, 0.55, 0.41, 0.999)
    lr = SCHEDULES["step_up_and_down"]
    steps = np.arange(100, lr.size, 517)
    np.testing.assert_allclose(mtl.predict(p, lr, steps), mtl.predict_naive(p, lr, steps), rtol=0, atol=1e-10)


def test_import_is_cheap():
    import subprocess
    import sys

    code = "import sys, lrplan.laws; print('scipy' in sys.modules)"
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False"
