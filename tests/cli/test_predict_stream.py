"""``predict -o`` and ``plot --loss`` of long runs (issue 19.3): the curve streams in blocks, nothing renders the
whole run, and a failure part-way leaves no file. "Long" is made cheap here by lowering the threshold above which
a run is streamed (``lrplan.laws.fitted.EXACT_STEPS``) instead of predicted from its whole LR array."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrplan.cli import app

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "schedules"
runner = CliRunner()


def _read(path_or_text) -> tuple[list[str], np.ndarray]:
    text = Path(path_or_text).read_text() if isinstance(path_or_text, Path) else path_or_text
    lines = text.splitlines()
    cols = lines[0].split(",")  # step, lr, loss, and the 90 % band loss_lo, loss_hi
    use = tuple(cols.index(c) for c in ("step", "lr", "loss", "loss_lo", "loss_hi"))
    return lines, np.loadtxt(io.StringIO("\n".join(lines[1:])), delimiter=",", usecols=use, ndmin=2)


@pytest.mark.parametrize("args", [[], ["--every", "13"], ["--steps", "2000,9000,23841"]])
def test_streamed_curve_agrees_with_the_in_memory_one(tmp_path, monkeypatch, args):
    spec = SPECS / "wsd.yaml"
    small = tmp_path / "mem.csv"
    res = runner.invoke(app, ["predict", str(spec), "-o", str(small), *args])
    assert res.exit_code == 0, res.stderr
    monkeypatch.setattr("lrplan.laws.fitted.EXACT_STEPS", 1000)
    monkeypatch.setattr("lrplan.laws.multipower.DENSE_QUERIES", 500)  # the anchor path, on 22k rows
    monkeypatch.setattr("lrplan.laws.predicting.CURVE_BLOCK", 777)
    big = tmp_path / "stream.csv"
    res2 = runner.invoke(app, ["predict", str(spec), "-o", str(big), *args])
    assert res2.exit_code == 0, res2.stderr
    (h1, a), (h2, b) = _read(small), _read(big)
    assert h1[0] == h2[0] == "step,lr,loss,loss_lo,loss_hi" and len(h1) == len(h2)
    assert np.array_equal(a[:, :2], b[:, :2])  # the same rows and LRs, as text
    assert [ln.split(",")[:2] for ln in h1] == [ln.split(",")[:2] for ln in h2]
    assert np.abs(a[:, 2] - b[:, 2]).max() <= 2e-5  # the law's dense tolerance (1e-5) plus the last digit
    # the band: the same members' offsets at the anchors (the in-memory curve has more of them, at LR jumps)
    assert np.all(a[:, 3] < a[:, 2]) and np.all(a[:, 2] < a[:, 4]) and np.all(b[:, 3] < b[:, 2])
    assert np.abs(a[:, 3:] - b[:, 3:]).max() <= 2e-3
    rows = len(h1) - 1
    assert f"({rows:,} rows)" in res2.stderr
    assert res.stdout == res2.stdout or abs(float(res.stdout.split()[4]) - float(res2.stdout.split()[4])) <= 1e-4
    assert " ± " in res.stdout and " ± " in res2.stdout


def test_several_streamed_curves_have_the_name_column(tmp_path, monkeypatch):
    monkeypatch.setattr("lrplan.laws.fitted.EXACT_STEPS", 1000)
    out = tmp_path / "two.csv"
    res = runner.invoke(app, ["predict", str(SPECS / "wsd.yaml"), str(SPECS / "cosine.yaml"), "-o", str(out),
                              "--every", "1000"])
    assert res.exit_code == 0, res.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "name,step,lr,loss,loss_lo,loss_hi"
    names = {ln.split(",")[0] for ln in lines[1:]}
    assert names == {"wsd-100B", "cosine"} or len(names) == 2


def test_a_failure_while_streaming_leaves_no_file(tmp_path, monkeypatch):
    from lrplan.laws import predicting, resolve

    monkeypatch.setattr("lrplan.laws.fitted.EXACT_STEPS", 1000)
    monkeypatch.setattr(predicting, "CURVE_BLOCK", 4096)
    calls = {"n": 0}
    real = resolve.check_predicted

    def flaky(res, y, q, what, context="", lr=None, floor=None, exact_steps=None):
        if floor is not None:  # a streamed block
            calls["n"] += 1
            if calls["n"] == 3:
                raise resolve.OutsideLaw(f"{what}: law {res.label} gives a non-finite loss at step {int(q[0]):,}")
        return real(res, y, q, what, context, lr, floor, exact_steps)

    monkeypatch.setattr(predicting, "check_predicted", flaky)
    out = tmp_path / "curve.csv"
    res = runner.invoke(app, ["predict", str(SPECS / "wsd.yaml"), "-o", str(out)])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert not out.exists() and not list(tmp_path.iterdir())  # no file, no temporary left behind


def test_long_runs_are_never_rendered(monkeypatch, tmp_path):
    """plot --loss, predict and predict --plot of a 10^8-step run read the spec's segments, not its every LR."""
    from lrplan.schedules.render import SchedulePlan

    def no(self):
        raise AssertionError("rendered a long run")

    monkeypatch.setattr(SchedulePlan, "render", no)
    spec = tmp_path / "long.yaml"
    spec.write_text("budget: {steps: 100000000, batch_size: 64, seq_len: 2048}\n"
                    "schedule: {kind: wsd, peak_lr: 3.0e-4, min_lr: 3.0e-5, warmup: 2000, decay: 10%}\n")
    res = runner.invoke(app, ["plot", str(spec), "--loss", "--width", "80", "--height", "24", "--no-color"])
    assert res.exit_code == 0, res.stderr
    assert "loss, right axis" in res.stdout
    res = runner.invoke(app, ["predict", str(spec), "--plot"], env={"COLUMNS": "100", "LINES": "40"})
    assert res.exit_code == 0, res.stderr
    assert "predicted final loss" in res.stdout and "at step 99,999,999" in res.stdout
    res = runner.invoke(app, ["predict", str(spec), "-o", str(tmp_path / "c.csv"), "--every", "1000000"])
    assert res.exit_code == 0, res.stderr
    lines = (tmp_path / "c.csv").read_text().splitlines()
    assert lines[1].startswith("2000,0.0003,") and lines[-1].startswith("99999999,")
