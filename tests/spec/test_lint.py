"""Values a spec may hold but almost surely does not mean get a located warning; what contradicts a family's own
meaning is refused; a bare ``100B`` in a step field says it was read as steps."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import lrplan
from lrplan.cli import app
from lrplan.spec.lint import lint

runner = CliRunner()


def _spec(tmp_path, text):
    f = tmp_path / "x.yaml"
    f.write_text(text)
    return f


@pytest.mark.parametrize("peak,hint", [("5", "a typo?"), ("3e4", "(3e4 for 3e-4 loses the minus sign)")])
def test_implausible_peak_lr_warns_with_file_and_line(tmp_path, peak, hint):
    f = _spec(tmp_path, f"budget: {{steps: 1000}}\nschedule:\n  kind: cosine\n  peak_lr: {peak}\n")
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 0 and res.stdout.strip().endswith("ok")
    assert res.stderr.startswith(f"warning: {f}:4: schedule.peak_lr: a peak LR of ") and hint in res.stderr


def test_plausible_specs_have_no_warnings():
    from pathlib import Path

    for f in sorted((Path(__file__).resolve().parents[2] / "schedules").glob("*.yaml")):
        assert lint(lrplan.load_spec(f)) == [], f.name


def test_bare_100B_steps_warns_that_it_was_read_as_steps(tmp_path):
    f = _spec(tmp_path, "budget: {steps: 100B, batch_size: 8, seq_len: 8}\nschedule: {kind: constant, peak_lr: 1.0e-3}\n")
    res = runner.invoke(app, ["check", str(f)])
    assert "budget.steps: 1e+11 optimizer updates is far longer than any pretraining run; a bare count such as " \
           "100B is read as steps: for tokens write '100B tokens'" in res.stderr


def test_bare_counts_in_budgets_past_the_token_limit_say_read_as_steps(tmp_path):
    f = _spec(tmp_path, "budget:\n  budgets: [100B, 200B]\n  batch_size: 1024\n  seq_len: 8192000\n"
                        "schedule: {kind: wsd-s, peak_lr: 1.0e-3}\n")
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 2
    assert "it is given in steps (a bare 100B counts steps): for tokens write '100B tokens'" in res.stderr


def test_a_list_of_tokens_points_to_budgets(tmp_path):
    f = _spec(tmp_path, "budget:\n  tokens: [100B, 200B]\n  batch_size: 1024\n  seq_len: 4096\n"
                        "schedule: {kind: wsd-s, peak_lr: 1.0e-3}\n")
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 2 and res.stderr == (f"error: {f}:2: budget.tokens: one tokens count, not a list; several "
                                                 "budgets go in budget.budgets: [52B tokens, 105B tokens]\n")


@pytest.mark.parametrize("field", ["div_factor", "final_div_factor"])
def test_onecycle_factor_below_one_is_refused(field):
    with pytest.raises(lrplan.SpecError, match=rf"schedule.{field}: below 1: "):
        lrplan.load_spec({"budget": {"steps": 100}, "schedule": {"kind": "onecycle", "peak_lr": 1e-3, field: 0.5}})
