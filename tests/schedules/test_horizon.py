"""``horizon``: a decay defined over a length beyond the budget (Megatron's --lr-decay-iters above --train-iters):
the schedule is laid out over the horizon and the run stops at the budget, partway into its decay or warmup."""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

import lrplan
from lrplan.cli import app
from lrplan.frameworks.export import export
from lrplan.frameworks.megatron import simulator
from lrplan.frameworks.megatron.export import prepare
from lrplan.frameworks.megatron.importer import import_megatron
from tests.schedules.helpers import lrs, plan


def test_cosine_with_twice_the_budget_is_half_way_down_at_the_end():
    got = lrs({"kind": "cosine", "peak_lr": 1.0, "min_lr": 0.1, "horizon": 2000}, 1000)
    assert got.size == 1000
    assert got[500] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 500 / 2000)), rel=1e-12)
    assert got[500] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.sqrt(0.5)), rel=1e-12)  # cos(pi/4)
    assert got[999] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 999 / 2000)), rel=1e-12)
    assert got[999] > 0.1 + 0.9 * 0.5 - 1e-3  # about half-way down, never at min_lr


def test_linear_after_a_warmup_runs_on_the_horizon():
    got = lrs({"kind": "linear", "peak_lr": 1.0, "min_lr": 0.2, "warmup": 100, "horizon": 1100}, 1000)
    assert got[50] == pytest.approx(0.5)
    assert got[100] == pytest.approx(1.0)
    assert got[600] == pytest.approx(0.2 + 0.8 * (1 - 500 / 1000), rel=1e-12)


def test_warmup_longer_than_the_run():
    got = lrs({"kind": "cosine", "peak_lr": 1.0, "warmup": 200, "horizon": 1000}, 100)
    assert np.allclose(got, np.arange(100) / 200, rtol=1e-12, atol=0)


def test_wsd_lays_out_the_decay_over_the_horizon():
    got = lrs({"kind": "wsd", "peak_lr": 1.0, "min_lr": 0.1, "warmup": 10, "decay": 50, "decay_shape": "1-sqrt",
               "horizon": 120}, 100)
    assert got[69] == 1.0  # stable until the decay starts at 120 - 50 = 70
    assert got[95] == pytest.approx(0.1 + 0.9 * (1 - math.sqrt(25 / 50)), rel=1e-12)


@pytest.mark.parametrize("kind", ["linear", "cosine", "wsd", "wsdc"])
def test_a_horizon_equal_to_the_budget_changes_nothing(kind):
    sch = {"kind": kind, "peak_lr": 1.0, "min_lr": 0.1, "warmup": 10}
    if kind == "wsdc":
        sch["tail"] = 5
    assert np.array_equal(lrs({**sch, "horizon": 200}, 200), lrs(sch, 200))
    assert np.array_equal(lrs({**sch, "horizon": "100%"}, 200), lrs(sch, 200))


def test_the_horizon_is_noted():
    p = plan({"kind": "cosine", "peak_lr": 1.0, "horizon": "1M"}, steps=10000)
    assert any("defined over 1,000,000 steps; the run stops at 1% of it" in n for n in p.notes)


def test_horizon_in_samples_on_the_token_clock():
    got = lrs({"kind": "cosine", "peak_lr": 1.0, "warmup": "80 samples", "horizon": "1600 samples", "clock": "tokens"},
              tokens=800 * 16, batch_size=8, seq_len=16)
    assert got.size == 100
    assert got[60] == pytest.approx(0.5 * (1 + math.cos(math.pi * (480 - 80) / (1600 - 80))), rel=1e-12)


ERRORS = {
    "short": ("  kind: cosine\n  peak_lr: 1e-3\n  horizon: 500\n",
              "x.yaml:6: schedule.horizon: horizon (500 steps) is shorter than the budget (1,000 steps); a decay that "
              "ends before the run ends is a `tail`"),
    "tail_too": ("  kind: linear\n  peak_lr: 1e-3\n  tail: 10\n  horizon: 2000\n",
                 "x.yaml:7: schedule.horizon: give tail (the decay ends before the run does) or horizon (it ends after), not both"),
    "warmup": ("  kind: cosine\n  peak_lr: 1e-3\n  warmup: 3000\n  horizon: 2000\n",
               "x.yaml:6: schedule.warmup: warmup (3000 steps) must be shorter than the horizon (2000 steps)"),
    "wsd": ("  kind: wsd\n  peak_lr: 1e-3\n  warmup: 1500\n  decay: 600\n  horizon: 2000\n",
            "x.yaml:7: schedule.decay: warmup (1500 steps) + decay (600 steps) = 2100 steps is longer than the horizon (2000 steps)"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_one_line_with_file_and_line(tmp_path, monkeypatch, name):
    body, want = ERRORS[name]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.yaml").write_text("budget:\n  steps: 1000\nschedule:\n" + body)
    res = CliRunner().invoke(app, ["render", "x.yaml", "-o", "out.csv"])
    assert res.exit_code == 2, res.output
    assert want in res.stderr and res.stderr.strip().count("\n") == 0, res.stderr


def test_megatron_export_writes_the_horizon_as_decay_iters():
    s = lrplan.load_spec({"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": 1e-3, "min_lr": 1e-5,
                                                                 "warmup": 10, "horizon": 1000}})
    e = export(s, "megatron")
    assert e.exact and e.native["lr_decay_iters"] == 1000 and e.native["train_iters"] == 100
    s2 = lrplan.load_spec({"budget": {"steps": 100, "batch_size": 4}, "schedule": s.model_dump(mode="json")["schedule"]})
    e = export(s2, "megatron", sample_based=True)
    assert e.exact and e.native["lr_decay_samples"] == 4000 and e.native["train_samples"] == 400


@pytest.mark.parametrize("style, extra", [("cosine", []), ("linear", ["--lr-warmup-iters", "150"]),
                                          ("WSD", ["--lr-wsd-decay-style", "minus_sqrt", "--lr-wsd-decay-iters", "400"])])
def test_import_export_round_trip(style, extra):
    argv = ["--lr", "3e-4", "--min-lr", "3e-5", "--train-iters", "100", "--lr-decay-iters", "1000", "--global-batch-size",
            "8", "--lr-decay-style", style, "--lr-warmup-iters", "20"] + extra
    imp = import_megatron(argv)
    assert imp.exact and imp.spec["schedule"]["horizon"] == 1000
    e = export(lrplan.load_spec(imp.yaml), "megatron")
    assert e.exact and e.native["lr_decay_iters"] == 1000 and e.native["lr_decay_style"] == style
    a, b = simulator.simulate(imp.config), simulator.simulate(prepare(e.native))
    assert a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.parametrize("fw", ["torchtitan", "hf", "olmo-core", "deepspeed"])
def test_frameworks_without_a_horizon_say_not_exact(fw):
    s = lrplan.load_spec({"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": 1e-3, "min_lr": 1e-5,
                                                                 "warmup": 10, "horizon": 1000}})
    e = export(s, fw)
    assert not e.exact and any("no decay defined over a horizon beyond the run" in d for d in e.differences)
    if fw != "deepspeed":  # (a JSON config: no comments)
        assert "NOT EXACT" in e.snippet


@pytest.mark.parametrize("fw", ["torchtitan", "hf", "olmo-core", "deepspeed"])
def test_a_decay_mostly_beyond_the_run_gets_a_nearest_config(fw):
    """The decay and warmup lie past the run's end: the nearest configs are clipped to the run (valid ones)."""
    s = lrplan.load_spec({"budget": {"steps": 100}, "schedule": {"kind": "wsdc", "peak_lr": 1e-3, "min_lr": 1e-5,
                                                                 "warmup": 150, "decay": 300, "tail": 10,
                                                                 "horizon": 1000, "decay_shape": "1-sqrt"}})
    e = export(s, fw)
    assert not e.exact and e.lr.size == 100
    assert export(s, "megatron").exact


def test_an_exact_config_without_the_horizon_is_still_found():
    """A run that stops inside its warmup is a plain warmup to HF: exact, horizon or not."""
    s = lrplan.load_spec({"budget": {"steps": 100}, "schedule": {"kind": "linear", "peak_lr": 1e-3, "warmup": 150,
                                                                 "horizon": 1000}})
    assert export(s, "hf").exact
