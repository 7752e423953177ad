"""Hardening (issue 8): determinism of every output, limits, help examples, exit codes."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import lrplan
from lrplan.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
S = str(ROOT / "schedules")


@pytest.mark.parametrize(
    "args",
    [
        ["render", f"{S}/wsd.yaml", "-q"],
        ["render", f"{S}/cyclic-cosine.yaml", "-q", "--format", "json", "--every", "13"],
        ["render", f"{S}/wsd-s.yaml", "--format", "megatron"],
        ["render", f"{S}/cosine.yaml", "--format", "torchtitan"],
        ["render", f"{S}/wsd.yaml", "--format", "hf"],
        ["render", f"{S}/constant.yaml", "--convention", "torchtitan", "-q"],
        ["plan", f"{S}/wsd-s.yaml", "--format", "json"],
        ["plan", f"{S}/plan-wsd.yaml", "--format", "csv", "--no-law"],
        ["predict", f"{S}/wsd.yaml", f"{S}/cosine.yaml", "-o", "-", "--every", "1000"],
        ["import", "megatron", "--", "--lr", "3e-4", "--train-iters", "1000", "--global-batch-size", "8", "--lr-decay-style", "cosine"],
        ["plot", f"{S}/wsd.yaml", f"{S}/cosine.yaml", "-W", "100", "-H", "25", "--no-color"],
    ],
    ids=lambda a: " ".join(a[:2] + a[3:5]).replace(S + "/", ""),
)
def test_same_input_byte_identical_output(args):
    outs = [runner.invoke(app, args) for _ in range(2)]
    assert all(o.exit_code == 0 for o in outs), outs[0].stderr
    assert outs[0].stdout == outs[1].stdout and outs[0].stdout
    assert "nan" not in outs[0].stdout.lower().replace("name", "")


def test_absurd_table_is_refused_and_large_one_warned(tmp_path):
    spec = tmp_path / "huge.yaml"
    spec.write_text("budget: {steps: 900_000_000_000, tokens_per_step: 1M}\nschedule: {kind: constant, peak_lr: 1.0e-3}\n")
    res = runner.invoke(app, ["render", str(spec), "-o", str(tmp_path / "x.csv"), "-q"])
    assert res.exit_code == 2 and "TiB" in res.stderr and "--every" in res.stderr
    assert not (tmp_path / "x.csv").exists()
    res = runner.invoke(app, ["render", str(spec), "-o", str(tmp_path / "x.csv"), "-q", "--every", "1000000"])
    assert res.exit_code == 0 and (tmp_path / "x.csv").stat().st_size < 50_000_000


def test_budget_limits():
    with pytest.raises(lrplan.SpecError, match="beyond lrplan's limit"):
        lrplan.load_spec({"budget": {"steps": 10**13}, "schedule": {"kind": "constant", "peak_lr": 1.0}})
    with pytest.raises(lrplan.SpecError, match="beyond lrplan's limit"):
        lrplan.load_spec({"budget": {"steps": 10**10, "tokens_per_step": 10**9}, "schedule": {"kind": "constant", "peak_lr": 1.0}})


def _commands():
    import typer.main

    group = typer.main.get_command(app)
    return sorted(group.commands)


@pytest.mark.parametrize("cmd", _commands())
def test_every_command_help_has_an_example(cmd):
    res = runner.invoke(app, [cmd, "--help"], env={"COLUMNS": "120"})
    assert res.exit_code == 0 and "Example" in res.stdout, cmd


def test_exit_codes_documented():
    readme = (ROOT / "README.md").read_text()
    assert "`0` success, `2` anything you can fix" in readme and "--install-completion" in readme


def test_thinned_huge_budget_is_fast_and_exact(tmp_path):
    spec = lrplan.load_spec({"budget": {"steps": 1_000_000_000, "tokens_per_step": "4M"},
                             "schedule": {"kind": "wsd", "peak_lr": 3e-4, "min_lr": 3e-5, "warmup": 2000}})
    from lrplan.table import table_chunks

    body = b"".join(table_chunks(spec.schedule_plan(), "csv", every=10_000_000)).decode().splitlines()
    rows = [r.split(",") for r in body[1:]]
    steps = np.array([int(r[0]) for r in rows])
    lr = np.array([float(r[2]) for r in rows])
    np.testing.assert_array_equal(lr, spec.schedule_plan().lr_at(steps))
    assert steps[-1] == 999_999_999 and 900_000_000 in steps.tolist()


@pytest.mark.parametrize(
    "args,want",
    [
        (["render"], "error: Missing argument 'spec'. (see '"),
        (["render", "schedules/wsd.yaml", "--every", "0"], "error: Invalid value for '--every'"),
        (["render", "schedules/wsd.yaml", "--bogus"], "error: No such option: --bogus"),
        (["nocmd"], "error: No such command 'nocmd'."),
    ],
)
def test_usage_errors_are_one_line(args, want):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "lrplan", *args], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.startswith(want) and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert res.stdout == ""
