"""``lrplan plan`` with a law reads every run as a history (issue 19.3): the WSD branches share the trunk's cells
and give exactly what each branch gives on its own; ``--optimize``'s WSD-S candidates are laid out incrementally,
exactly as the WSD-S family lays them out; the fast search finds what the per-candidate search finds."""

from __future__ import annotations

import numpy as np
import pytest

import lrplan
from lrplan.laws.builtin import builtin_laws
from lrplan.laws.history import History
from lrplan.laws.resolve import Predictor
from lrplan.planning import losses
from lrplan.planning.branches import checkpoints, cosine_specs, wsd_branch_specs
from lrplan.planning.planner import make_plan

LAW = builtin_laws()["mpl-400m"]


def _spec(kind, budgets, **sched):
    s = {"kind": kind, "peak_lr": 3e-4, "min_lr_ratio": 0.1, "warmup": 500, "decay": "10%", "decay_shape": "linear"}
    s.update(sched)
    return lrplan.load_spec({"budget": {"budgets": budgets, "batch_size": 1024, "seq_len": 4096}, "schedule": s})


SPECS = {
    "wsd-steps": lambda: _spec("wsd", [20_000, 90_000, 200_000, 350_000], decay_shape="1-sqrt"),
    "wsd-tokens": lambda: _spec("wsd", ["100B tokens", "400B tokens", "1T tokens"], decay_shape="cosine"),
    "wsd-s": lambda: _spec("wsd-s", [20_000, 90_000, 200_000, 350_000]),
}


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("exact", [0, losses.PLAN_EXACT_STEPS])
def test_shared_trunk_equals_each_run_on_its_own(name, exact, monkeypatch):
    """Every predicted loss of the plan equals that run predicted from its own spec, from scratch: bit for bit
    (with the sampled cells, ``exact = 0``, and with per-update sums for short runs)."""
    monkeypatch.setattr(losses, "PLAN_EXACT_STEPS", exact)
    spec = SPECS[name]()
    pred = Predictor(LAW)
    cps = checkpoints(spec)
    losses.predictions(spec, cps, pred)
    kind = spec.schedule.kind
    branches = wsd_branch_specs(losses._as_wsd(spec) if kind == "wsd-s" else spec)
    for c, b, cos in zip(cps, branches, cosine_specs(spec)):
        for key, s in (("WSD", b), ("cosine", cos)):
            plan = s.schedule_plan()
            own = pred.history(History.from_plan(plan), np.array([plan.total_steps - 1]), exact)[0]
            assert c.predicted_loss[key] == own, (key, c.index)
            if plan.total_steps <= exact:  # short runs: the numbers lrplan plan always gave
                assert own == LAW.predict(plan.render().lr, np.array([plan.total_steps - 1]))[0]
    if kind == "wsd":  # the trunk really is shared: the branches' histories extend one trunk
        hs = losses.trunk_histories([b.schedule_plan() for b in branches])
        assert all(h.parent is not None for h in hs) and len({id(h.cache) for h in hs}) == 1


@pytest.mark.parametrize("sched", [
    {"warmup_shape": "cosine"},
    {"rewarmup": 500, "decay_shape": "1-sqrt"},
    {"warmup": "1B tokens", "rewarmup": "2B tokens", "clock": "tokens"},
])
def test_incremental_wsds_candidates_are_the_familys_runs(sched):
    """Every ``--optimize`` candidate, laid out budget by budget, has exactly the LR of every update of the run
    the WSD-S family builds for the same decays (the way the search used to build each candidate)."""
    spec = lrplan.load_spec({"budget": {"budgets": ["52B tokens", "105B tokens", "210B tokens"], "batch_size": 1024,
                                        "seq_len": 4096},
                             "schedule": {"kind": "wsd-s", "peak_lr": 5e-4, "min_lr_ratio": 0.1, "warmup": 2000,
                                          "decay": "10%", **sched}})
    from lrplan.spec.units import Length

    base = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    run = losses._WsdsRun(spec)
    chosen: list[tuple[float, str]] = []
    for i, (f, shape) in enumerate([(0.1, "cosine"), (0.25, "1-sqrt"), (0.05, "linear")]):
        for cand in [(0.4, "sqrt-cube"), (f, shape)]:
            h = run.candidate(i, *cand)
            choices = chosen + [cand]
            budgets = base["budget"]["budgets"]
            sp = spec.derive(budget={"budgets": budgets[: i + 1]})
            decays = [(Length(float(f"{x * 100:g}"), "percent"), s) for x, s in choices]
            sp = sp.with_schedule(sp.schedule.with_decays(decays, probe_tail=i + 1 < len(budgets)))
            plan = sp.schedule_plan()
            end = next(s.end for s in plan.segments if s.phase == f"decay{i + 1}")
            assert h.total == end
            assert np.array_equal(h.array(), plan.render().lr[:end]), (i, cand)
        run.choose(i, f, shape)
        chosen.append((f, shape))


@pytest.mark.parametrize("kind,budgets", [("wsd-s", [12_500, 25_000, 50_000]), ("wsd", [12_500, 25_000, 50_000]),
                                          ("wsd-s", [30_000, 70_000, 110_000, 160_000])])
def test_fast_optimize_finds_what_the_per_candidate_search_finds(kind, budgets, monkeypatch):
    """The search with the sampled cells picks the decays the per-update search picks, and reports each
    winner's loss as the plan's own table does (bit for bit for runs of at most PLAN_EXACT_STEPS updates)."""
    spec = _spec(kind, budgets, warmup=2000)
    slow = make_plan(spec, lambda lr, q: LAW.predict(lr, q), "law", do_optimize=True)
    fast = make_plan(spec, Predictor(LAW), "law", do_optimize=True)
    assert [(o.index, o.decay_fraction, o.decay_shape) for o in fast.optimized] == \
           [(o.index, o.decay_fraction, o.decay_shape) for o in slow.optimized]
    for o, p in zip(fast.optimized, slow.optimized):
        if max(budgets) <= losses.PLAN_EXACT_STEPS // 2:
            assert (o.predicted_loss, o.spec_loss) == (p.predicted_loss, p.spec_loss)
        else:
            assert abs(o.predicted_loss - p.predicted_loss) < 1e-6 and abs(o.spec_loss - p.spec_loss) < 1e-6
        assert o.gain >= 0 or (o.decay_fraction, o.decay_shape) != (0.1, "linear")


def test_optimize_cost_does_not_grow_with_earlier_budgets(monkeypatch):
    """A WSD-S candidate extends the run chosen so far: its cells before the candidate's stable stretch are not
    recomputed (the law is asked only about the new steps)."""
    from lrplan.laws import cells

    spec = _spec("wsd-s", [20_000 * (i + 1) for i in range(12)])
    seen: list[int] = []
    real = cells.summarize

    def count(hist, tf, u, v, org):
        seen.append(int((v - u).sum()))
        return real(hist, tf, u, v, org)

    monkeypatch.setattr(cells, "summarize", count)
    cps = checkpoints(spec)
    losses.predictions(spec, cps, Predictor(LAW))
    seen.clear()
    run = losses._WsdsRun(spec)
    pred = Predictor(LAW)
    for i in range(len(cps)):
        before = len(seen)
        h = run.candidate(i, 0.1, "cosine")
        pred.history(h, np.array([h.total - 1]), 0)
        new_steps = sum(seen[before:])
        own = h.total - (run.hist.total if run.hist is not None else 0)
        assert new_steps <= 3 * own + 100_000, (i, new_steps, own)  # the candidate's own steps (+ its query cells)
        run.choose(i, 0.1, "linear")
