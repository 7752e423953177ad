"""Predicting from a run's LR history without holding it (issue 19.3): the history, the query-step rules, the
multi-power law's sampled cells (vs the naive per-update sum, within the rigorous bound), the momentum law's
exact stream (vs the in-memory recursion, bit for bit) and the streamed curve (chunk sizes do not matter)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lrplan
from lrplan.laws import cells as C
from lrplan.laws import momentum as mtl
from lrplan.laws import multipower as mpl
from lrplan.laws._drops import Macro, block_terms, events, macro_terms
from lrplan.laws.history import History, Piece, QuerySteps
from lrplan.laws.warmup import warmup_length

SCHEDULES = Path(__file__).resolve().parents[2] / "schedules"
P = mpl.MPLParams(2.4, 0.65, 0.43, 520.0, 2.0, 0.6, 0.63)  # gamma > 0: log eta matters
P0 = mpl.MPLParams(2.4, 0.65, 0.43, 520.0, 2.0, 0.6, 0.0)
P_RK = mpl.MPLParams(2.57, 2.0, 0.48, 52.0, 2.9, 1.2, 0.1, rho=0.7, kappa=0.7)
M = mtl.MTLParams(2.7, 0.6, 0.5, 0.4, 0.998)


def _plan(name: str):
    return lrplan.load_spec(SCHEDULES / f"{name}.yaml").schedule_plan()


def _queries(plan) -> np.ndarray:
    T = plan.total_steps
    b = plan.boundary_steps()
    return np.unique(np.r_[np.linspace(1, T - 1, 25).astype(int), T - 1, b[b > 0], np.minimum(T - 1, b + 3)])


# ------------------------------------------------------------------------------------------------ history
@pytest.mark.parametrize("first,last,every", [(5, 100, 7), (7, 98, 7), (0, 10, 3), (3, 3, 5), (3, 4, 5),
                                              (200, 2384, 100), (10, 20, 1), (9, 20, 10), (11, 20, 10)])
def test_query_step_rule_matches_the_array(first, last, every):
    q = np.arange(first, last + 1)
    ref = np.unique(np.r_[first, q[q % every == 0] if every > 1 else q, last])
    qs = QuerySteps.rule(first, last, every)
    assert qs.size == ref.size and np.array_equal(qs.array(), ref)
    for s in range(first - 2, last + 3):
        assert qs.index_of(np.array([s]))[0] == min(np.searchsorted(ref, s), ref.size - 1)
    for a in range(first - 3, last + 3, 5):
        for b in range(a, last + 5, 7):
            assert np.array_equal(qs.between(a, b), ref[(ref >= a) & (ref < b)])
    assert np.array_equal(np.concatenate(list(qs.chunks(3))), ref)


@pytest.mark.parametrize("name", ["wsd", "cosine", "wsd-s", "power", "refined", "onecycle"])
def test_history_reads_the_plans_lrs(name):
    plan = _plan(name)
    lr = plan.render().lr
    h = History.from_plan(plan)
    for size in (1, 7, 4097):
        stop = min(lr.size, 20_000 if size == 1 else lr.size)
        got = np.concatenate([x for _, x in h.chunks(0, stop, size)])
        assert np.array_equal(got, lr[:stop])
    pts = np.random.default_rng(0).integers(0, lr.size, 500)
    assert np.array_equal(h.lr_at(pts), lr[pts])
    assert h.warmup_length() == warmup_length(lr)
    assert h.first_positive() == int(np.flatnonzero(lr > 0)[0])
    assert h.peak() == lr.max() and h.last_lr() == lr[-1]
    cut = lr.size // 3
    pre = h.prefix(cut)
    assert pre.total == cut and np.array_equal(pre.array(), lr[:cut])
    rest = [Piece(p.phase, max(p.start, cut), p.end, p.fn) for p in h.pieces if p.end > cut]
    assert np.array_equal(pre.then(rest, lr.size).array(), lr)


def test_history_refuses_an_invalid_lr_in_one_line():
    h = History([Piece("decay", 0, 100, lambda s: 1.0 - s / 50.0)], 100)
    with pytest.raises(lrplan.LrplanError, match="negative.*step 51.*phase decay"):
        h.lr_at(np.arange(100))


# ------------------------------------------------------------------------------------------------ multi-power
ALL = sorted(p.stem for p in SCHEDULES.glob("*.yaml"))


@pytest.mark.parametrize("name", ALL)
def test_sampled_cells_match_the_naive_sum_within_the_bound(name):
    """Every shipped schedule, three parameter sets, three warmup conventions: the history prediction is within
    its rigorous bound of the naive O(T*K) sum, and close (the bound is loose; the error is second order)."""
    plan = _plan(name)
    lr = plan.render().lr
    q = _queries(plan)
    for p in (P, P0, P_RK):
        for conv in ("area", "ramp", "peak"):
            y, bound = mpl.predict_history(p, History.from_plan(plan), q, warmup=conv)
            naive = mpl.predict_naive(p, lr, q, warmup=conv)
            ok = np.isfinite(naive)
            err = np.abs(y - naive)[ok]
            assert np.all(err <= bound[ok] + 1e-9), (p, conv)
            assert err.max() <= 2e-6, (p, conv, err.max())


@pytest.mark.parametrize("name", ["wsd-s", "cosine-restarts", "linear-d2z", "minicpm", "power"])
def test_blocks_of_cells_match_the_naive_sum_within_the_bound(name, monkeypatch):
    """Small cells (many of them, far from most queries) and no direct sums: the cells are grouped into blocks
    (:func:`lrplan.laws._drops.macro_terms`) and still agree with the naive sum within the bound."""
    monkeypatch.setattr(C, "H0", 64)
    monkeypatch.setattr(mpl, "HISTORY_DIRECT", 0)
    plan = _plan(name)
    lr = plan.render().lr
    q = _queries(plan)
    for p in (P, P0):
        y, bound = mpl.predict_history(p, History.from_plan(plan), q)
        naive = mpl.predict_naive(p, lr, q)
        err = np.abs(y - naive)
        assert np.all(err <= bound + 1e-9)
        assert err.max() <= 1e-5, err.max()


def test_macro_blocks_are_the_legacy_blocks_on_single_drops():
    """Fed one event per LR change of a schedule that only decreases, the summarised-drop blocks are exactly those
    of ``block_terms`` (the same blocks; the centre of a single drop is ``ws / w`` here, ``s_prev`` there: equal to
    rounding). (With increases too, they differ: blocks here never mix the two.)"""
    lr = _plan("cosine").render().lr
    ev = events(lr, "area", 0.8, 0.7)
    steps = np.arange(2_500, lr.size, 997)
    assert np.all(ev.delta > 0)
    old = block_terms(ev, steps)
    mc = Macro(ev.delta, np.abs(ev.delta), np.abs(ev.delta) * ev.s_prev, np.abs(ev.delta) * ev.log_eta, ev.s_prev,
               ev.s_prev, ev.log_eta, ev.log_eta, np.zeros(ev.n), np.zeros(ev.n), np.zeros(ev.n))
    new = macro_terms(mc, ev.cs[steps], np.searchsorted(ev.k, steps, side="right"))
    o, n = np.lexsort((old.D, old.q)), np.lexsort((new.D, new.q))
    assert np.array_equal(old.q[o], new.q[n])
    for f in ("delta", "abs_delta", "D", "D_lo", "D_hi", "le_lo", "le_hi"):
        np.testing.assert_allclose(getattr(new, f)[n], getattr(old, f)[o], rtol=1e-12, atol=1e-10, err_msg=f)


def test_prediction_at_a_step_does_not_depend_on_the_other_queries():
    plan = _plan("wsd-s")
    q = _queries(plan)
    all_, _ = mpl.predict_history(P_RK, History.from_plan(plan), q)
    one = [mpl.predict_history(P_RK, History.from_plan(plan), q[i:i + 1])[0][0] for i in (0, 7, q.size - 1)]
    assert np.array_equal(all_[[0, 7, q.size - 1]], one)


def test_a_long_run_is_summarised_in_few_cells():
    """10^8 updates of cosine: a few thousand cells, their own sampled steps only (never every update)."""
    s = lrplan.load_spec({"budget": {"steps": 100_000_000}, "schedule": {"kind": "cosine", "peak_lr": 3e-4,
                                                                          "warmup": 2000}})
    calls = []
    h = History.from_plan(s.schedule_plan())
    orig = h.lr_at
    h.lr_at = lambda st: (calls.append(np.size(st)), orig(st))[1]  # type: ignore[method-assign]
    y, bound = mpl.predict_history(P_RK, h, np.array([50_000_000, 99_999_999]))
    assert sum(calls) < 200_000 and np.all(np.isfinite(y)) and np.all(bound < 1e-5)


# ------------------------------------------------------------------------------------------------ momentum
@pytest.mark.parametrize("name", ["wsd", "wsd-s", "cosine-restarts", "multistep"])
@pytest.mark.parametrize("conv", ["area", "ramp", "peak"])
def test_momentum_stream_is_the_recursion_bit_for_bit(name, conv):
    plan = _plan(name)
    lr = plan.render().lr
    q = _queries(plan)
    ref = mtl.predict(M, lr, q, warmup=conv)
    assert np.array_equal(mtl.predict_history(M, History.from_plan(plan), q, warmup=conv), ref)
    qs = QuerySteps.rule(1, lr.size - 1, 7)
    full = mtl.predict(M, lr, qs.array(), warmup=conv)
    for chunk in (1, 7, 1000, 1 << 18):
        if chunk == 1 and lr.size > 30_000:
            continue
        rows = [(s, y) for s, _, y in mtl.curve_history(M, History.from_plan(plan), qs, warmup=conv, chunk=chunk)]
        assert np.array_equal(np.concatenate([s for s, _ in rows]), qs.array())
        assert np.array_equal(np.concatenate([y for _, y in rows]), full), chunk


# ------------------------------------------------------------------------------------------------ the curve
def test_streamed_curve_does_not_depend_on_the_chunking(monkeypatch):
    monkeypatch.setattr(mpl, "DENSE_QUERIES", 2_000)  # the anchor/interpolation path on a short run
    plan = _plan("wsd-s")
    qs = QuerySteps.rule(2000, plan.total_steps - 1, 1)
    outs = []
    for chunk in (7, 1000, 4096, 1 << 17):
        rows = list(mpl.curve_history(P_RK, History.from_plan(plan), qs, chunk=chunk))
        outs.append([np.concatenate([r[i] for r in rows]) for i in range(3)])
    for o in outs[1:]:
        for a, b in zip(outs[0], o):
            assert np.array_equal(a, b)
    steps, lr, y = outs[0]
    assert np.array_equal(steps, qs.array()) and np.array_equal(lr, plan.render().lr[steps])
    check = np.unique(np.r_[np.linspace(2000, plan.total_steps - 1, 60).astype(int), np.arange(11_200, 11_400, 7)])
    naive = mpl.predict_naive(P_RK, plan.render().lr, check)
    np.testing.assert_allclose(y[check - 2000], naive, rtol=0, atol=2e-5)


def test_fitted_law_reads_short_runs_from_their_array_as_before():
    from lrplan.laws.builtin import builtin_laws

    law = builtin_laws()["mpl-400m"]
    plan = _plan("cosine")
    lr = plan.render().lr
    q = np.arange(2000, lr.size, 13)
    assert np.array_equal(law.predict_history(History.from_plan(plan), q), law.predict(lr, q))
    assert np.array_equal(law.predict_history(History.from_array(lr), q), law.predict(lr, q))
    sampled = law.predict_history(History.from_plan(plan), q, exact_steps=0)
    np.testing.assert_allclose(sampled, law.predict(lr, q), rtol=0, atol=1e-6)
    rows = list(law.curve(History.from_plan(plan), QuerySteps(q), chunk=100))
    assert np.array_equal(np.concatenate([r[2] for r in rows]), law.predict(lr, q))
