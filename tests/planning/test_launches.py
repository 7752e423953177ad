"""lrplan plan --export: every exported config renders (through the framework simulators, i.e. --convention)
to the planned LRs on the steps it runs."""

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import lrplan
from lrplan.cli import app
from lrplan.frameworks.export import simulate
from lrplan.planning.launches import launches
from lrplan.planning.planner import make_plan

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _spec(kind, shape="linear", budgets=(12500, 25000, 50000)):
    return lrplan.load_spec({"budget": {"budgets": list(budgets), "batch_size": 1024, "seq_len": 4096},
                             "schedule": {"kind": kind, "peak_lr": 5e-4, "min_lr_ratio": 0.1, "warmup": 2000,
                                          "decay": "10%", "decay_shape": shape}})


@pytest.mark.parametrize("kind", ["wsd-s", "wsd"])
@pytest.mark.parametrize("shape", ["linear", "cosine", "1-sqrt", "exponential"])
def test_megatron_launches_run_the_plan_exactly(kind, shape):
    spec = _spec(kind, shape)
    jobs = launches(spec, make_plan(spec), "megatron")
    assert len(jobs) == (3 if kind == "wsd-s" else 6)  # WSD: a trunk piece per branch point, and the branches
    for j in jobs:
        got = simulate("megatron", j.export.native)[j.resume_step : j.end_step]  # Megatron's own formula
        np.testing.assert_allclose(got, j.lr, rtol=1e-12, atol=0, err_msg=j.name)
    if kind == "wsd-s":  # the launches tile the single run
        full = spec.render().lr
        np.testing.assert_allclose(np.concatenate([j.lr for j in jobs]), full, rtol=0, atol=0)
        assert [j.resume_step for j in jobs] == [0, 12500, 26250]


@pytest.mark.parametrize("fw", ["torchtitan", "hf"])
def test_other_frameworks_report_their_true_deviation(fw, tmp_path):
    spec = _spec("wsd", "1-sqrt")
    res = make_plan(spec)
    for j in launches(spec, res, fw):
        got = simulate(fw, j.export.native)[j.resume_step : j.end_step]
        dev = float(np.max(np.abs(got - j.lr)))
        if j.name.startswith("branch"):
            np.testing.assert_allclose(got, j.lr, rtol=1e-12, atol=0)  # the decays themselves are native
        elif j.resume_step == 0:  # the first trunk piece runs the warmup, where the framework may differ
            assert dev == pytest.approx(j.export.max_abs_dev) or j.export.exact
        else:  # later pieces resume after the warmup: what differs there is not on their steps
            assert dev <= j.export.max_abs_dev


def test_cli_export_writes_configs_launch_order_and_csv(tmp_path):
    out = tmp_path / "exp"
    res = runner.invoke(app, ["plan", str(ROOT / "schedules/wsd-s.yaml"), "--no-law", "--export", "megatron", "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["LAUNCH.md", "segment-1.args", "segment-2.args", "segment-3.args", "wsd-s-run.csv"]
    launch = (out / "LAUNCH.md").read_text()
    assert "resume from the checkpoint after update 12,500 with --override-opt-param-scheduler" in launch
    seg2 = (out / "segment-2.args").read_text()
    assert "--lr-decay-iters 26250" in seg2 and "--lr-wsd-decay-iters 2500" in seg2
    rows = list(csv.DictReader((out / "wsd-s-run.csv").open()))
    assert len(rows) == 53750 and rows[12500]["lr"] == "0.0005"


def test_cli_export_errors(tmp_path):
    res = runner.invoke(app, ["plan", str(ROOT / "schedules/wsd-s.yaml"), "--no-law", "--export", "megatron"])
    assert res.exit_code == 2 and "--export needs -o DIR" in res.stderr
    res = runner.invoke(app, ["plan", str(ROOT / "schedules/wsd-s.yaml"), "--no-law", "--export", "deepspeed", "-o", str(tmp_path)])
    assert res.exit_code == 2 and "--export supports megatron, torchtitan, hf" in res.stderr


@pytest.mark.parametrize("fw", ["megatron", "torchtitan", "hf"])
def test_wsd_export_saves_the_trunk_checkpoints_the_branches_resume_from(fw, tmp_path):
    """The trunk runs in pieces that end at the branch points (the frameworks save at the end of training and
    none saves at a list of steps), so every branch's checkpoint exists; each launch says which one it needs."""
    spec = _spec("wsd")
    res = make_plan(spec)
    jobs = launches(spec, res, fw)
    points = [c.branch_point_step for c in res.checkpoints]
    trunks = [j for j in jobs if j.name.startswith("trunk")]
    assert [j.end_step for j in trunks] == points == [11250, 22500, 45000]
    assert [j.resume_step for j in trunks] == [0, 11250, 22500]
    for c, b in zip(res.checkpoints, [j for j in jobs if j.name.startswith("branch")]):
        src = next(j for j in trunks if j.name == b.resumes_from)
        assert src.end_step == b.resume_step == c.branch_point_step and b.name in src.needed_by
    for j in trunks:  # the pieces together run the planned trunk
        got = simulate(fw, j.export.native)[j.resume_step:j.end_step] if fw == "megatron" else None
        if got is not None:
            np.testing.assert_allclose(got, j.lr, rtol=1e-12, atol=0)
    out = tmp_path / "exp"
    r = runner.invoke(app, ["plan", str(ROOT / "schedules/plan-wsd.yaml"), "--no-law", "--export", fw, "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    launch = (out / "LAUNCH.md").read_text()
    assert "save its final checkpoint (after update 11,158): trunk-2 and branch-1 start from it" in launch
    assert "(trunk-2's final checkpoint)" in launch


def test_resumed_megatron_launches_carry_the_override_flag_and_the_spec_is_never_replaced(tmp_path):
    out = tmp_path / "exp"
    res = runner.invoke(app, ["plan", str(ROOT / "schedules/plan-wsd.yaml"), "--no-law", "--export", "megatron", "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    for f in sorted(out.glob("*.args")):
        args = [ln for ln in f.read_text().splitlines() if not ln.startswith("#")]
        resumed = f.name != "trunk-1.args"
        assert ("--override-opt-param-scheduler" in args) == resumed, f.name  # pasted as written, it resumes
        assert all(ln.endswith(" \\") for ln in args[:-1]) and not args[-1].endswith("\\")
    spec = out / "branch-1.csv"  # a spec named like one of the files the export writes
    spec.write_text((ROOT / "schedules/plan-wsd.yaml").read_text())
    res = runner.invoke(app, ["plan", str(spec), "--no-law", "--export", "megatron", "-o", str(out)])
    assert res.exit_code == 2 and "is the input" in res.stderr
    assert spec.read_text() == (ROOT / "schedules/plan-wsd.yaml").read_text()
