"""The per-step LR arrays rebuilt for the shipped reference curves equal the LR their logs recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lrplan.laws.reference_curves import (MPL_SIZES, MPL_TEST, MPL_TRAIN, load_schaipp_curves, load_schaipp_sizes,
                                          mpl_lr, schaipp_lr, schaipp_spec)

DATA = Path(__file__).resolve().parents[1] / "data" / "curves"
MPL_DATA = DATA / "multipowerlaw"
SCHAIPP_DATA = DATA / "schaipp2025_124m"
MORE = DATA / "schaipp2025_more"
SIZES = DATA / "schaipp2025_sizes"
SCHAIPP_FOLDERS = {SCHAIPP_DATA: 1e-3, MORE / "124m_lr0.0005": 5e-4, MORE / "124m_lr0.002": 2e-3,
                   MORE / "horizon_124m": 1e-3, MORE / "horizon_209m": 1e-3}


def _rows(path: Path) -> tuple[np.ndarray, np.ndarray]:
    a = np.genfromtxt(path, delimiter=",", names=True)
    return a["step"].astype(np.int64), a["lr"].astype(float)


@pytest.mark.parametrize("folder", sorted(SCHAIPP_FOLDERS), ids=lambda p: p.name)
def test_schaipp_lr_matches_every_logged_row(folder: Path) -> None:
    peak = SCHAIPP_FOLDERS[folder]
    files = sorted(folder.glob("*.csv"))
    assert len(files) in (6, 30)
    for path in files:
        spec = schaipp_spec(path.stem)
        lr = schaipp_lr(spec.pop("kind"), spec.pop("T"), peak=peak, **spec)
        steps, logged = _rows(path)
        # derive.py interpolates the logged train_lr at the loss steps; the first logged LR is at step 50 (or 10),
        # so np.interp fills step 0 with it: compare from step 1 on
        keep = (steps > 0) & (steps < lr.size)
        # the CSVs store the logged LR with 6 significant digits
        np.testing.assert_allclose(lr[steps[keep]], logged[keep], rtol=5e-6, atol=1e-12 * peak, err_msg=path.name)


@pytest.mark.parametrize(("T", "factor", "points"), [
    # values of train_lr in the horizon-transfer two-stage logs (12 x 768, peak 1e-3)
    (100000, 0.525, {40000: 1e-3, 40050: 0.97625e-3, 41000: 0.525e-3, 80000: 0.525e-3, 80050: 0.5236875e-3}),
    (200000, 0.375, {40050: 0.96875e-3, 41000: 0.375e-3, 160000: 0.375e-3, 160050: 0.37453125e-3}),
])
def test_schaipp_twostage_at_logged_points(T: int, factor: float, points: dict[int, float]) -> None:
    lr = schaipp_lr("wsd", T, peak=1e-3, frac=0.2, twostage=factor)
    for step, want in points.items():
        assert lr[step] == pytest.approx(want, rel=1e-12), step
    assert lr[-1] == pytest.approx(factor * 1e-3 / (0.2 * T), rel=1e-9)  # one step before 0 on the linear cooldown


def test_schaipp_twostage_rejects_what_it_does_not_model() -> None:
    with pytest.raises(ValueError, match="overlaps the cooldown"):
        schaipp_lr("wsd", 50000, frac=0.2, twostage=0.5)  # cooldown from 40000
    with pytest.raises(ValueError, match="wsd' only"):
        schaipp_lr("cos", 50000, twostage=0.5)


@pytest.mark.parametrize("folder", ["horizon_124m", "horizon_209m"])
def test_load_schaipp_curves_horizon_folders(folder: str) -> None:
    curves = load_schaipp_curves(MORE / folder, peak=1e-3)
    assert sorted(curves) == ["twostage-0.375-linear-0.2_200000", "twostage-0.525-linear-0.2_100000",
                              "wsd-linear-0.2_100000", "wsd-linear-0.2_200000", "wsd-linear-0.2_50000",
                              "wsd-linear-0.6_100000"]
    c = curves["twostage-0.525-linear-0.2_100000"]
    assert c.lr.size == 100000 and c.steps[-1] == 99800
    assert c.lr[41000] == pytest.approx(0.525e-3, rel=1e-12)
    base = curves["wsd-linear-0.2_50000"]
    n = int(np.searchsorted(base.steps, 40000))  # the extensions share the base run's loss before its cooldown
    np.testing.assert_array_equal(c.loss[:n], base.loss[:n])


def test_load_schaipp_sizes_rebuilds_the_logged_lr() -> None:
    # reads the CSVs only: the size series is held out from law scoring
    sets = load_schaipp_sizes(SIZES)
    assert len(sets) == 11 and {"slimpajama_33m", "slimpajama_360m", "openwebtext2_166m"} <= set(sets)
    for folder, (peak, curves) in sets.items():
        assert peak in (5e-4, 1e-3), folder
        assert sum(n.startswith("constant_") for n in curves) == 1, folder
        assert sum(n.startswith("cosine10_") for n in curves) == 3, folder
        assert sum(n.startswith("wsd-linear-0.2_") for n in curves) in (2, 3), folder
        for name, c in curves.items():
            steps, logged = _rows(SIZES / folder / f"{name}.csv")
            keep = (steps > 0) & (steps < c.lr.size)  # step 0 holds np.interp's fill (see above)
            # 6 significant digits (<= 5e-6 relative); slimpajama_152m/cosine10_25000 has no train_lr at step 8000,
            # so its CSV interpolates the cosine between 7950 and 8050 there (5.8e-6 off)
            np.testing.assert_allclose(c.lr[steps[keep]], logged[keep], rtol=1e-5, atol=1e-12 * peak,
                                       err_msg=f"{folder}/{name}")
            top = 2 * peak if name.startswith("cosine") else peak
            assert c.lr.max() == pytest.approx(top, rel=1e-12), (folder, name)
            if name.startswith("cosine10_"):
                assert c.lr[-1] == pytest.approx(0.1 * top, rel=1e-6), (folder, name)


def test_schaipp_spec_parses_cosine_to_a_fraction() -> None:
    assert schaipp_spec("cosine10_7500") == {"kind": "cos", "T": 7500, "frac": 0.0, "decay": "linear",
                                             "cos_final_frac": 0.1}
    lr = schaipp_lr("cos", 7500, peak=2e-3, cos_final_frac=0.1)
    assert lr[-1] == pytest.approx(2e-4, rel=1e-12)
    np.testing.assert_array_equal(schaipp_lr("cos", 7500, peak=2e-3, cos_final=2e-4), lr)
    with pytest.raises(ValueError, match="'cos' only"):
        schaipp_lr("wsd", 7500, cos_final_frac=0.1)


def test_schaipp_spec_parses_twostage_names() -> None:
    assert schaipp_spec("twostage-0.525-linear-0.2_100000") == {
        "kind": "wsd", "T": 100000, "frac": 0.2, "decay": "linear", "twostage": 0.525}
    with pytest.raises(ValueError, match="unknown Schaipp curve name"):
        schaipp_spec("twostage-linear-0.2_100000")


@pytest.mark.parametrize("size", MPL_SIZES)
def test_mpl_lr_matches_every_logged_row(size: str) -> None:
    for name in MPL_TRAIN + MPL_TEST:
        steps, logged = _rows(MPL_DATA / "loss_curve_repo" / f"csv_{size}" / f"{name}.csv")
        lr = mpl_lr(name)
        keep = steps < lr.size
        np.testing.assert_allclose(lr[steps[keep]], logged[keep], rtol=1e-9, err_msg=name)
