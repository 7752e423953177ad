"""Families that PyTorch implements: lrplan's values equal torch's own scheduler at every update."""

import numpy as np
import pytest

from .helpers import lrs

torch = pytest.importorskip("torch")


def _torch_lrs(make, n):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])  # LR this update uses
        opt.step()
        sched.step()
    return np.array(out)


@pytest.mark.parametrize("n,pct,three,anneal", [(100, 0.3, False, "cos"), (97, 0.25, True, "cos"), (1000, 0.1, False, "linear"), (53, 0.45, True, "linear")])
def test_onecycle_equals_torch(n, pct, three, anneal):
    want = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=3e-4, total_steps=n, pct_start=pct, three_phase=three,
                                                      anneal_strategy=anneal, cycle_momentum=False), n)
    got = lrs({"kind": "onecycle", "peak_lr": 3e-4, "pct_start": pct, "three_phase": three, "anneal_strategy": anneal}, n)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("t0,mult,n", [(10, 1, 55), (7, 2, 100), (5, 3, 200)])
def test_sgdr_equals_torch(t0, mult, n):
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=t0, T_mult=mult, eta_min=0.01), n)
    got = lrs({"kind": "cosine-restarts", "peak_lr": 1.0, "min_lr": 0.01, "cycle": t0, "t_mult": mult}, n)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_multistep_equals_torch():
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[30, 60, 90], gamma=0.1), 100)
    got = lrs({"kind": "multistep", "peak_lr": 1.0, "milestones": [30, 60, 90]}, 100)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_exponential_and_polynomial_equal_torch():
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.97), 50)
    np.testing.assert_allclose(lrs({"kind": "exponential", "peak_lr": 1.0, "gamma": 0.97}, 50), want, rtol=1e-12)
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=40, power=2.0), 40)
    np.testing.assert_allclose(lrs({"kind": "polynomial", "peak_lr": 1.0, "power": 2.0}, 40), want, rtol=1e-12)
