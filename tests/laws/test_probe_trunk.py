"""``lrplan fit --trunk`` / ``probe --trunk`` (issue 16 point 3's last step): a probe run resumed from its
trunk's checkpoint logs only from its branch point; fitted with ``--trunk`` it takes the trunk's LR before that
point. On the real CPU runs of ``tests/data/curves/lrplan_cpu_tiny`` (Part 10): the branch-only log fitted this
way is the same fit as the full probe run's LR with the branch's points, and it closes the sharp-cooldown gap."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from lrplan.cli import app
from lrplan.laws import driver
from lrplan.laws.fitted import Curve

from .conftest import load_run_curves

DATA = Path(__file__).resolve().parents[1] / "data/curves/lrplan_cpu_tiny/curves.csv.gz"
HELD = ("linear_d2z", "wsd_linear20", "wsd_linear10", "wsd_linear5", "wsd_1sqrt20", "wsds_3")
runner = CliRunner()


def _write_log(path: Path, curves: list[Curve], first: int = 0, run_col: bool = True) -> None:
    """A step,lr,loss log (one row per update, the loss where it was evaluated), from step ``first`` on."""
    lines = [("run," if run_col else "") + "step,lr,loss"]
    for c in curves:
        at = dict(zip(c.steps.tolist(), c.loss.tolist()))
        run = f"{c.name}," if run_col else ""
        for s in range(first, c.lr.size):
            lines.append(f"{run}{s},{float(c.lr[s])!r},{at[s]!r}" if s in at else f"{run}{s},{float(c.lr[s])!r},")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def cpu(tmp_path_factory):
    C = load_run_curves(DATA)
    d = tmp_path_factory.mktemp("trunk")
    _write_log(d / "runs.csv", [C["constant"], C["cosine"]])
    b = int(C["probe"].steps[C["probe"].steps >= 2999][0])  # the probe's first eval after its branch point
    _write_log(d / "probe.csv", [C["probe"]], first=b, run_col=False)
    return C, d, b


def _fail(args, *needles):
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    line = r.output.strip()
    assert "Traceback" not in line and len(line.splitlines()) == 1, line
    for n in needles:
        assert n in line, line
    return line


def test_errors_name_the_trunk_and_the_fix(cpu, tmp_path):
    _, d, b = cpu
    runs, probe = str(d / "runs.csv"), str(d / "probe.csv")
    out = str(tmp_path / "law.yaml")
    _fail(["fit", runs, probe, "-o", out], f"probe has no LR before step {b:,}", "add --trunk RUN")  # without it
    _fail(["fit", runs, probe, "--trunk", "nosuch", "-o", out], "--trunk 'nosuch'", "no such curve", "runs:constant")
    _fail(["fit", runs, "--trunk", "constant", "-o", out], "x runs:constant's warmup")
    _fail(["fit", runs, probe, "--trunk", "probe", "-o", out], "no other log starts after step")
    short = tmp_path / "short.csv"
    short.write_text("\n".join(open(runs).read().splitlines()[: b // 2]) + "\n")  # constant's first updates only
    _fail(["fit", str(short), probe, "--trunk", "constant", "-o", out], f"starts at step {b:,}",
          "must reach the branch point")
    assert not Path(out).exists()


@pytest.mark.slow
def test_a_branch_only_probe_log_fits_as_the_whole_probe_run_and_closes_the_gap(cpu, tmp_path):
    C, d, b = cpu
    law = tmp_path / "law.yaml"
    r = runner.invoke(app, ["fit", str(d / "runs.csv"), str(d / "probe.csv"), "--trunk", "constant", "-q",
                            "-o", str(law)])
    assert r.exit_code == 0, r.output
    assert f"a branch of runs:constant at step {b:,}" in r.output
    rec = yaml.safe_load(law.read_text())
    branch = next(i for i in rec["inputs"] if i["curve"] == "probe")
    assert branch["branch_of"] == {"curve": "runs:constant", "from_step": b}
    # the same fit as the probe run's whole LR with only its own points after the branch
    p = C["probe"]
    keep = p.steps >= b
    whole = Curve("probe", p.steps[keep], p.loss[keep], p.lr)
    ref = driver.fit([dataclasses.replace(C["constant"], name="runs:constant"),
                      dataclasses.replace(C["cosine"], name="runs:cosine"), whole])
    for k, v in ref.params.items():
        assert rec["params"][k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
    # and it predicts the six held-out cooldowns far better than the fit without the probe
    got = driver.fit([C["constant"], C["cosine"]])
    fitted = dataclasses.replace(ref, params=rec["params"])

    def mean_abs(fl) -> float:
        return float(np.mean([abs(driver.predict(fl, C[n].lr, C[n].steps[-1:])[0] - C[n].loss[-1]) for n in HELD]))

    before, after = mean_abs(got), mean_abs(fitted)
    # measured with the automatic window: 0.0393 without the probe, 0.0040 with it
    assert before > 0.03 and after < 0.25 * before and after < 0.008, (before, after)


def test_probe_does_not_branch_off_a_branch_and_says_how_to_refit(cpu):
    _, d, _ = cpu
    spec = str(Path(__file__).resolve().parents[2] / "benchmarks/cpu_curves/specs/wsd_linear20.yaml")
    r = runner.invoke(app, ["probe", spec, "--logs", str(d / "runs.csv"), "--logs", str(d / "probe.csv"),
                            "--trunk", "constant"])
    assert r.exit_code == 0, r.output
    assert "branch off your constant-LR run runs:constant" in r.output
    assert "lrplan fit LOGS... PROBE_LOG --trunk runs:constant" in r.output


def test_runs_logged_from_inside_the_warmup_are_runs_of_their_own(cpu, tmp_path):
    """Framework logs start at the first log interval (Megatron's iteration 100, say): a trunk and a full run both
    logged from inside the warmup keep their assumed warmups; only the log that starts after it is a branch."""
    C, d, b = cpu
    late = tmp_path / "late.csv"
    _write_log(late, [C["constant"], C["cosine"]], first=40)  # warmup 100: both start inside it
    law = tmp_path / "law.yaml"
    r = runner.invoke(app, ["fit", str(late), str(d / "probe.csv"), "--trunk", "constant", "-q", "-o", str(law)])
    assert r.exit_code == 0, r.output
    inputs = {i["curve"]: i for i in yaml.safe_load(law.read_text())["inputs"]}
    assert inputs["probe"]["branch_of"] == {"curve": "late:constant", "from_step": b}
    assert "branch_of" not in inputs["late:cosine"] and inputs["late:cosine"]["lr_assumed_linear_warmup_before"] == 40
