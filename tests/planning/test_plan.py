"""lrplan plan: the WSD-S paper's checkpoints, cost identities, token/step conversions, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import lrplan
from lrplan.cli import app
from lrplan.planning.branches import checkpoints
from lrplan.planning.costs import costs
from lrplan.planning.planner import make_plan

runner = CliRunner()


def _spec(kind, budgets, decay="10%", **extra):
    sched = {"kind": kind, "peak_lr": 5e-4, "min_lr_ratio": 0.1, "warmup": 2000, "decay": decay, "decay_shape": "linear"}
    sched.update(extra.pop("schedule", {}))
    data = {"budget": {"budgets": budgets, "batch_size": 1024, "seq_len": 4096}, "schedule": sched}
    if "model" in extra:
        data["model"] = extra.pop("model")
    return lrplan.load_spec(data)


def test_wsd_s_paper_numbers():
    cps = checkpoints(_spec("wsd-s", [12500, 25000, 50000]))
    assert [c.checkpoint_step for c in cps] == [12500, 26250, 53750]
    assert [(c.decay_start_step, c.checkpoint_step) for c in cps] == [(11250, 12500), (23750, 26250), (48750, 53750)]
    assert [c.decay_steps for c in cps] == [1250, 2500, 5000]
    assert [c.checkpoint_tokens for c in cps] == [s * 1024 * 4096 for s in (12500, 26250, 53750)]
    assert cps[0].lr_decay_start == 5e-4 and cps[0].lr_after == 5e-4 and cps[-1].lr_after is None


def test_wsd_branches_and_total():
    s = _spec("wsd", [12500, 25000, 50000])
    cps = checkpoints(s)
    assert [c.branch_point_step for c in cps] == [11250, 22500, 45000]
    assert [c.checkpoint_step for c in cps] == [12500, 25000, 50000]
    total = {c.strategy: c.steps for c in costs(s, cps)}
    assert total["WSD (trunk + branches)"] == 53750 == total["WSD-S (one run)"]
    assert total["cosine per budget"] == 87500 and total["cyclic cosine"] == 50000


@given(st.lists(st.integers(1000, 200_000), min_size=1, max_size=4, unique=True), st.integers(1, 30))
def test_cost_identity_wsd_equals_wsds(budgets, pct):
    budgets = sorted(budgets)
    try:
        wsds = _spec("wsd-s", budgets, decay=f"{pct}%", schedule={"warmup": 0})
        cps = checkpoints(wsds)
    except lrplan.SpecError:
        return  # budgets too close for this decay: refused (tested below)
    f = pct / 100
    ds = [int(np.floor(f * b + 0.5)) for b in budgets]
    # (1-f) B_k + f sum B_i, with each decay rounded to whole steps
    assert cps[-1].checkpoint_step == budgets[-1] - ds[-1] + sum(ds)
    wsd_total = costs(_spec("wsd", budgets, decay=f"{pct}%", schedule={"warmup": 0}), checkpoints(_spec("wsd", budgets, decay=f"{pct}%", schedule={"warmup": 0})))[0].steps
    assert wsd_total == cps[-1].checkpoint_step


def test_odd_batch_token_budgets():
    # 1000 sequences x 3000 tokens = 3M tokens/step; 52B tokens = 17333.3 steps -> 17333
    s = lrplan.load_spec({"budget": {"budgets": ["52B tokens", "105B tokens"], "batch_size": 1000, "seq_len": 3000},
                          "schedule": {"kind": "wsd-s", "peak_lr": 1e-3, "decay": "10%"}})
    cps = checkpoints(s)
    assert cps[0].budget_steps == 17333 and cps[1].budget_steps == 35000
    assert cps[0].checkpoint_tokens == 17333 * 3_000_000
    assert cps[1].checkpoint_step == 35000 - 3500 + 1733 + 3500
    assert any("rounded to 17,333 steps" in n for n in s.schedule_plan().notes)


def test_flops_and_gpu_hours():
    s = _spec("wsd", [10000, 20000], model={"params": "1B", "tokens_per_second": "4M", "gpus": 8})
    cs = {c.strategy: c for c in costs(s, checkpoints(s))}
    c = cs["cosine per budget"]
    assert c.tokens == 30000 * 1024 * 4096
    assert c.flops == pytest.approx(6 * 1e9 * c.tokens)
    assert c.gpu_hours == pytest.approx(c.tokens / 4e6 / 3600 * 8)


def test_predictions_with_a_toy_law():
    # a toy 'law': loss = 3 - 100 * sum(lr) ** 0.1 + 50 * lr_last (any function of the LR sequence will do)
    def predict(lr, steps):
        cs = np.cumsum(lr)
        return 3.0 - 0.1 * cs[steps] ** 0.1 + 50 * lr[steps]

    s = _spec("wsd-s", [12500, 25000, 50000])
    res = make_plan(s, predict, "toy", do_optimize=True)
    for c in res.checkpoints:
        assert set(c.predicted_loss) == {"WSD", "WSD-S", "cosine"}
    assert res.checkpoints[0].predicted_loss["WSD"] == pytest.approx(res.checkpoints[0].predicted_loss["WSD-S"])
    assert len(res.optimized) == 3 and all(o.gain >= -1e-12 for o in res.optimized)


@pytest.mark.parametrize("sched", [
    {"warmup_shape": "cosine"},
    {"rewarmup": 500, "decay_shape": "1-sqrt"},
    {"warmup": "1B tokens", "rewarmup": "2B tokens", "clock": "tokens"},
])
def test_optimize_scores_the_spec_as_written_like_the_spec(sched):
    """--optimize builds its WSD-S candidates with the family itself: the as-written choice (10%, the spec's
    shape) gets exactly the spec's own predicted loss at every checkpoint (warmup shape, rewarmup, token clock)."""
    from lrplan.planning.losses import _wsds_loss_with, predictions

    def predict(lr, steps):  # sensitive to the LR path, not only to its sum
        cs, c2 = np.cumsum(lr), np.cumsum(lr**2)
        return 3.0 - 0.1 * cs[steps] ** 0.1 + 50 * lr[steps] + 1e3 * c2[steps]

    s = lrplan.load_spec({"budget": {"budgets": ["52B tokens", "105B tokens", "210B tokens"], "batch_size": 1024,
                                     "seq_len": 4096},
                          "schedule": {"kind": "wsd-s", "peak_lr": 5e-4, "min_lr_ratio": 0.1, "warmup": 2000,
                                       "decay": "10%", **sched}})
    cps = checkpoints(s)
    predictions(s, cps, predict)
    base = s.model_dump(mode="json", by_alias=True, exclude_none=True)
    shape = s.schedule.decay_shape
    for i, c in enumerate(cps):
        got = _wsds_loss_with(s, base, [(0.1, shape)] * (i + 1), i, predict)
        assert got == c.predicted_loss["WSD-S"], i


@pytest.mark.parametrize(
    "budgets,kw,want",
    [
        ([50000, 25000], {}, "budgets must strictly increase"),
        ([12500, 12600], {"schedule": {"rewarmup": 200}}, "leaves 90 stable steps before its decay, less than the rewarmup (200 steps)"),
        ([1000, 5000], {"schedule": {"warmup": 2000}}, "less than the warmup (2000 steps)"),
        ([10, 20], {"decay": "1%"}, "shorter than one step"),
    ],
)
def test_bad_plans(budgets, kw, want):
    with pytest.raises(lrplan.SpecError) as e:
        checkpoints(_spec("wsd-s", budgets, **kw))
    assert want in str(e.value)


def test_plan_refuses_non_wsd(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("budget: {budgets: [100, 200]}\nschedule: {kind: cosine, peak_lr: 1.0}\n")
    res = runner.invoke(app, ["plan", str(p), "--no-law"])
    assert res.exit_code == 2 and "plans wsd or wsd-s schedules, not 'cosine'" in res.stderr


def test_cli_plan_json_and_table(tmp_path):
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "schedules" / "wsd-s.yaml"
    res = runner.invoke(app, ["plan", str(spec), "--no-law", "--format", "json"])
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert [c["checkpoint_step"] for c in data["checkpoints"]] == [12500, 26250, 53750]
    res = runner.invoke(app, ["plan", str(spec), "--no-law"], env={"COLUMNS": "140"})
    assert "26,250" in res.stdout and "WSD-S (one run)" in res.stdout
    res = runner.invoke(app, ["plan", str(spec), "--no-law", "-f", "csv"])
    assert res.stdout.splitlines()[2].startswith("2,25000,")


def test_python_api_plan():
    res = lrplan.plan({"budget": {"budgets": [12500, 25000, 50000]},
                       "schedule": {"kind": "wsd-s", "peak_lr": 5e-4, "min_lr_ratio": 0.1, "warmup": 2000}})
    assert [c.checkpoint_step for c in res.checkpoints] == [12500, 26250, 53750]
    assert res.to_dict()["checkpoints"][1]["decay_start_step"] == 23750


def test_cli_plan_with_builtin_law_and_plot():
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "schedules" / "wsd-s.yaml"
    res = runner.invoke(app, ["plan", str(spec), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["law"] == "builtin:mpl-400m"
    for c in data["checkpoints"]:
        assert set(c["predicted_loss"]) == {"WSD", "WSD-S", "cosine"} and all(np.isfinite(v) for v in c["predicted_loss"].values())
    # the first checkpoint is the same run for WSD and WSD-S (paper: "by definition ... the same loss")
    assert data["checkpoints"][0]["predicted_loss"]["WSD"] == pytest.approx(data["checkpoints"][0]["predicted_loss"]["WSD-S"])
    res = runner.invoke(app, ["plan", str(spec), "--no-law", "--plot"], env={"COLUMNS": "100", "LINES": "30", "NO_COLOR": "1"})
    assert res.exit_code == 0 and "┊ checkpoint (decay ends)" in res.stdout and "plan" in res.stdout
    assert "phase start" not in res.stdout and "| = checkpoint" not in res.stdout  # the dotted lines are the checkpoints
    plot = [ln for ln in res.stdout.splitlines() if "┤" in ln or "│" in ln and "┃" not in ln]
    cols = {i for ln in plot for i, ch in enumerate(ln) if ch == "┊"}  # the checkpoints inside the run (12.5k, 25k)
    assert len(cols) >= 2, res.stdout
    wsd = Path(__file__).resolve().parents[2] / "schedules" / "plan-wsd.yaml"
    res = runner.invoke(app, ["plan", str(wsd), "--no-law", "--plot"], env={"COLUMNS": "100", "LINES": "30", "NO_COLOR": "1"})
    assert res.exit_code == 0 and "┊ branch point (decay starts)" in res.stdout
    res = runner.invoke(app, ["plan", str(spec), "--no-law", "--plot", "--format", "json"],
                        env={"COLUMNS": "100", "LINES": "30", "NO_COLOR": "1"})
    assert res.exit_code == 0 and json.loads(res.stdout)["checkpoints"] and "┊ checkpoint" in res.stderr  # stdout: JSON only


@pytest.mark.parametrize("kind", ["wsd", "wsd-s"])
def test_multi_budget_decay_zero_is_a_spec_error_not_a_traceback(kind, tmp_path):
    """``decay: 0`` with several budgets: a WSD branch with no decay is refused with a file:line error by
    ``plan``, warned about by ``check``, and ``lrplan.plan()`` raises SpecError (was a bare AssertionError)."""
    f = tmp_path / "d0.yaml"
    f.write_text(f"budget: {{budgets: [1000, 2000]}}\nschedule: {{kind: {kind}, peak_lr: 1.0e-3, decay: 0}}\n")
    res = runner.invoke(app, ["plan", str(f), "--no-law"])
    assert res.exit_code == 2 and res.stderr.startswith(f"error: {f}:2: schedule.decay: ")
    assert "shorter than one step" in res.stderr and "Traceback" not in res.stderr
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code in (0, 2) and "Traceback" not in res.stderr
    with pytest.raises(lrplan.SpecError, match="schedule.decay"):
        lrplan.plan(str(f))


def test_api_plan_returns_its_warnings_instead_of_printing(capsys):
    """lrplan.plan() with a law whose range the spec is outside: the warning is in PlanResult.warnings; nothing is
    printed (the CLI prints them)."""
    res = lrplan.plan(str(Path(__file__).resolve().parents[2] / "schedules" / "wsd-s.yaml"), law="builtin:mpl-25m")
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert res.warnings and all(isinstance(w, str) and "builtin:mpl-25m" in w for w in res.warnings)
    assert "warnings" not in res.to_dict()  # plan --format json is unchanged
