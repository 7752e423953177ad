"""Issue 16 on curves nothing was chosen on: the 0.14M CPU GPT of ``tests/data/curves/lrplan_cpu_tiny``
(``benchmarks/LAW_SELECTION_16.md`` Part 10, computed by ``benchmarks/cpu_curves/evaluate.py``) and its
replication on the 0.39M one of ``lrplan_cpu_small`` (Part 11, ``evaluate.py --part 11``).

Today's law fitted on ``constant`` + ``cosine`` predicts the six held-out cooldown runs 0.03-0.08 too low (the 19M
failure, reproduced on fresh data); the band covers all six, but only by being wide. The probe ``lrplan probe``
recommends for that choice was trained afterwards; adding it to the fit closes most of the gap. These tests fail
if the coverage, the width, the accuracy with the probe or the recommendation regress."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from lrplan.laws import bands
from lrplan.laws.fitted import Curve
from lrplan.laws.history import History
from lrplan.laws.probe import recommend, trunk_of

from .conftest import fitmod, load_run_curves

DATA = Path(__file__).resolve().parents[1] / "data/curves/lrplan_cpu_tiny/curves.csv.gz"
HELD = ("linear_d2z", "wsd_linear20", "wsd_linear10", "wsd_linear5", "wsd_1sqrt20", "wsds_3")
WINDOW = 300  # 10 % of the 3,000 updates, as the 19M protocol's 400 of 4,000

pytestmark = pytest.mark.slow


def _load() -> dict[str, Curve]:
    return load_run_curves(DATA)


def _members(fl, c: Curve) -> bands.Members:
    ms = bands.members_of(fl.uncertainty, fl.params)
    m = np.array([[fitmod.predict(dataclasses.replace(fl, params=p), c.lr, c.steps[-1:])[0]] for p in ms])
    twin = fitmod.predict(fl, bands.constant_twin_lr(c.lr), c.steps[-1:])[0]
    return bands.Members(m, bands.fit_rmse(fl), [twin - m[0, 0]])


def _score(fl, C, held=HELD) -> dict:
    rows = {}
    for n in held:
        m = _members(fl, C[n])
        lo, hi = bands.final_band(m)
        rows[n] = (float(C[n].loss[-1]), float(np.asarray(m)[0, 0]), float(lo[0]), float(hi[0]), m)
    err = np.array([r[1] - r[0] for r in rows.values()])
    right = total = diff_inside = 0
    for a, b in itertools.combinations(held, 2):
        d = rows[a][0] - rows[b][0]
        if abs(d) > 0.002:
            total += 1
            right += bool(np.sign(d) == np.sign(rows[a][1] - rows[b][1]))
            lo, hi = bands.difference_band(rows[a][4], rows[b][4])
            diff_inside += bool(lo[0] <= d <= hi[0])
    rows = {n: r[:4] for n, r in rows.items()}
    return {"diff_inside": diff_inside, "inside": sum(lo <= o <= hi for o, _, lo, hi in rows.values()),
            "width": float(np.mean([hi - lo for _, _, lo, hi in rows.values()])),
            "signed": float(err.mean()), "abs": float(np.abs(err).mean()), "right": right, "pairs": total}


@pytest.fixture(scope="module")
def cpu():
    C = _load()
    return C, fitmod.fit([C["constant"], C["cosine"]], window=WINDOW)


def test_the_runs_share_their_trunk_exactly():
    C = _load()
    const = C["constant"]
    for n in HELD[1:] + ("probe",):
        c = C[n]
        k = int(np.argmax(c.lr[100:] < c.lr[100])) + 100  # the first update of the decay
        steps = np.intersect1d(c.steps[c.steps < k - 1], const.steps)
        assert steps.size > 10
        assert np.array_equal(c.loss[np.isin(c.steps, steps)], const.loss[np.isin(const.steps, steps)]), n


def test_band_covers_the_fresh_cooldowns_and_the_default_law_errs_low(cpu):
    C, fl = cpu
    s = _score(fl, C)
    assert s["inside"] == 6  # measured 6 of 6
    assert 0.15 <= s["width"] <= 0.21  # measured 0.180: wider than the six finals' spread (0.108)
    assert -0.07 <= s["signed"] <= -0.04  # measured -0.054: every cooldown too low, as on the 19M set
    assert s["pairs"] == 14 and s["right"] >= 8  # measured 8 of 14
    assert s["diff_inside"] == 14  # every observed difference inside its difference band


def test_the_recommended_probe_closes_most_of_the_gap(cpu):
    C, fl = cpu
    rec = recommend(fl, [History.from_array(C[n].lr) for n in HELD], trunk_of([C["constant"]]), 3000, max_runs=1)
    p = rec.probes[0]
    assert (p.branch, p.decay) == (3000, 150)  # the run that was trained as `probe`
    lr = p.lr(trunk_of([C["constant"]]))
    assert lr.size == C["probe"].lr.size  # the data keep 7 digits of each LR
    np.testing.assert_allclose(C["probe"].lr, lr, rtol=1e-6, atol=0)
    before = _score(fl, C)
    after = _score(fitmod.fit([C["constant"], C["cosine"], C["probe"]], window=WINDOW), C)
    assert after["abs"] <= 0.5 * before["abs"]  # pre-registered pass; measured 0.0537 -> 0.0079
    assert after["abs"] <= 0.012
    assert after["right"] >= 13  # measured 13 of 14 (8 before)
    assert after["inside"] == 6 and after["width"] <= 0.14  # measured 0.123 (0.180 before)
    assert after["diff_inside"] == 14


# ------------------------------------------------------------------ Part 11: the replication on a 0.39M model
SMALL = Path(__file__).resolve().parents[1] / "data/curves/lrplan_cpu_small/curves.csv.gz"
HELD11 = ("linear_d2z", "wsd_linear20", "wsd_linear10", "wsd_1sqrt20")


@pytest.fixture(scope="module")
def small():
    C = load_run_curves(SMALL)
    return C, fitmod.fit([C["constant"], C["cosine"]], window=400)


def test_replication_band_covers_and_the_probe_closes_most_of_the_gap(small):
    """Part 11 (pre-registered): the band covers all four but is too wide (A fails on width: 0.154); the
    recommended probe (not a copy of any target here) cuts the mean |final| 0.0566 -> 0.0117."""
    C, fl = small
    const = C["constant"]
    probe = C["probe"]
    steps = np.intersect1d(probe.steps[probe.steps < 3999], const.steps)
    assert steps.size > 50 and np.array_equal(probe.loss[np.isin(probe.steps, steps)],
                                              const.loss[np.isin(const.steps, steps)])
    before = _score(fl, C, HELD11)
    assert before["inside"] == 4 and 0.13 <= before["width"] <= 0.18  # measured 4 of 4, 0.154
    assert -0.07 <= before["signed"] <= -0.045 and before["right"] >= 3  # measured -0.0566, 3 of 5
    rec = recommend(fl, [History.from_array(C[n].lr) for n in HELD11], trunk_of([const]), 4000, max_runs=1)
    assert (rec.probes[0].branch, rec.probes[0].decay) == (4000, 200)  # the run trained as `probe`
    after = _score(fitmod.fit([const, C["cosine"], probe], window=400), C, HELD11)
    assert after["abs"] <= 0.5 * before["abs"] and after["abs"] <= 0.015  # pre-registered pass; measured 0.0117
    assert after["inside"] == 4 and after["right"] == 5 and after["width"] <= 0.11  # measured 4, 5 of 5, 0.097
