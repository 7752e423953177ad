"""`lrplan plot` and `lrplan render --plot` through the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lrplan.cli import app
from lrplan.cli.console import plot_size, want_color

from .canvas import parse

ROOT = Path(__file__).resolve().parents[2]
WSD = str(ROOT / "schedules" / "wsd.yaml")
COSINE = str(ROOT / "schedules" / "cosine.yaml")
MULTISTEP = str(ROOT / "schedules" / "multistep.yaml")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_plot_wsd(runner):
    r = runner.invoke(app, ["plot", WSD, "--width", "80", "--height", "20", "--no-color"])
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "learning rate" in out and "step" in out and "wsd-100B" in out
    assert "\x1b" not in out
    lines = out.rstrip("\n").split("\n")
    assert len(lines) <= 20 and max(len(ln) for ln in lines) <= 80
    c = parse(out.rstrip("\n"))
    assert len(c.cols_in_row(0, "*")) > 0.6 * c.width  # the plateau


def test_plot_overlay_log_tokens(runner):
    r = runner.invoke(app, ["plot", WSD, COSINE, "--x", "tokens", "--log-y", "-W", "100", "-H", "24", "--title", "two runs"])
    assert r.exit_code == 0, r.output
    assert "tokens" in r.stdout and "two runs" in r.stdout
    assert "* wsd-100B" in r.stdout and "+ cosine" in r.stdout


def test_plot_follows_the_terminal(runner):
    r = runner.invoke(app, ["plot", WSD], env={"COLUMNS": "70", "LINES": "18"})
    assert r.exit_code == 0, r.output
    lines = r.stdout.rstrip("\n").split("\n")
    assert len(lines) == 16 and max(len(ln) for ln in lines) == 70
    assert "\x1b" not in r.stdout  # not a terminal: no colour


@pytest.mark.parametrize(
    "args,env",
    [
        (["--width", "39", "--height", "20"], {}),
        (["--width", "80", "--height", "9"], {}),
        ([], {"COLUMNS": "30", "LINES": "24"}),
    ],
)
def test_too_small_is_one_error_line(runner, args, env):
    r = runner.invoke(app, ["plot", WSD, *args], env=env)
    assert r.exit_code == 2
    assert r.stdout == ""
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("error: ") and "at least 40x10" in lines[0]
    assert "Traceback" not in r.output


@pytest.mark.parametrize("args", [["-W", "1000000", "-H", "20"], ["-W", "80", "-H", "10000000"]])
def test_too_large_is_one_error_line(runner, args):
    r = runner.invoke(app, ["plot", WSD, *args])  # took 44 s and 12 GB, or aborted in C++ (exit 134)
    assert r.exit_code == 2 and r.stdout == "" and r.stderr.startswith("error: the plot can be at most 1000x500")


def test_a_huge_terminal_only_limits_the_size(runner):
    r = runner.invoke(app, ["plot", WSD, "--no-color"], env={"COLUMNS": "5000", "LINES": "3000"})
    lines = r.stdout.splitlines()
    assert r.exit_code == 0 and len(lines) == 500 and max(map(len, lines)) <= 1000


def test_unknown_spec_and_tokens_errors(runner):
    r = runner.invoke(app, ["plot", "no-such.yaml", "--width", "80", "--height", "20"])
    assert r.exit_code == 2 and r.stderr.startswith("error: no-such.yaml")
    r = runner.invoke(app, ["plot", MULTISTEP, "--x", "tokens", "--width", "80", "--height", "20"])
    assert r.exit_code == 2 and "--x tokens needs tokens per step" in r.stderr


def test_render_plot_under_summary(runner):
    r = runner.invoke(app, ["render", WSD, "--plot", "--every", "5000"], env={"COLUMNS": "80", "LINES": "24"})
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("step,tokens,lr,phase")  # the table is untouched
    err = r.stderr
    assert "total:" in err and "learning rate" in err and "wsd-100B" in err
    assert err.index("total:") < err.index("┌")  # the plot comes under the summary
    parse(err[err.index("learning rate by step") :].rstrip("\n"))


def test_render_plot_quiet_and_without(runner):
    r = runner.invoke(app, ["render", WSD, "--plot", "-q", "--every", "5000"], env={"COLUMNS": "80", "LINES": "24"})
    assert r.exit_code == 0 and "total:" not in r.stderr and "learning rate" in r.stderr
    r = runner.invoke(app, ["render", WSD, "--every", "5000"])
    assert r.exit_code == 0 and "learning rate" not in r.stderr


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_rules(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert want_color(False, _TTY())
    assert not want_color(True, _TTY())
    assert not want_color(False, io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not want_color(False, _TTY())


def test_plot_size(monkeypatch):
    monkeypatch.setenv("COLUMNS", "123")
    monkeypatch.setenv("LINES", "45")
    assert plot_size(None, None) == (123, 43)
    assert plot_size(90, None) == (90, 43)
    assert plot_size(None, None, max_height=30) == (123, 30)
    assert plot_size(None, 12, max_height=30) == (123, 12)


def test_help_mentions_plot(runner):
    r = runner.invoke(app, ["--help"])
    assert "plot" in r.stdout
    r = runner.invoke(app, ["render", "--help"])
    assert "--plot" in r.stdout


def test_plot_convention_overlays_the_framework_run():
    from pathlib import Path

    from typer.testing import CliRunner

    from lrplan.cli import app

    root = Path(__file__).resolve().parents[2]
    res = CliRunner().invoke(app, ["plot", str(root / "schedules/wsd.yaml"), "--convention", "megatron", "-W", "100", "-H", "24", "--no-color"])
    assert res.exit_code == 0, res.stderr
    assert "wsd-100B (spec)" in res.stdout and "wsd-100B (megatron)" in res.stdout
    assert "megatron 0.16 runs the spec exactly" in res.stderr
    res = CliRunner().invoke(app, ["plot", str(root / "schedules/constant.yaml"), "--convention", "torchtitan", "-W", "100", "-H", "24", "--no-color"])
    assert res.exit_code == 0 and "differs: max deviation" in res.stderr
    res = CliRunner().invoke(app, ["plot", str(root / "schedules/wsd.yaml"), "--convention", "nope", "-W", "100", "-H", "24"])
    assert res.exit_code == 2 and res.stderr.startswith("error: unknown framework 'nope'")


def test_loss_curve_refused_where_predict_refuses_it(runner):
    """multistep.yaml (peak LR 333x the built-in law's) gets -8.5 from the law: predict refuses it, so plot must not
    draw it; the in-range spec beside it keeps its loss curve."""
    assert runner.invoke(app, ["predict", MULTISTEP]).exit_code == 2
    r = runner.invoke(app, ["plot", MULTISTEP, WSD, "--loss", "-W", "80", "-H", "24", "--no-color"])
    assert r.exit_code == 0 and "warning: no loss curve: multistep: law builtin:mpl-400m gives a loss of" in r.stderr
    legend = r.stdout.splitlines()[-1]
    assert "wsd-100B (loss, right axis)" in legend and "multistep (loss" not in legend


@pytest.mark.parametrize("peak", ["5.0e-324", "1.0e-320", "1.0e+308", "1.7e+308"])
@pytest.mark.parametrize("log_y", [False, True])
def test_extreme_but_legal_peak_lrs_plot(runner, tmp_path, peak, log_y):
    p = tmp_path / "e.yaml"
    p.write_text(f"budget: {{steps: 100}}\nschedule: {{kind: wsd, peak_lr: {peak}, warmup: 10}}\n")
    r = runner.invoke(app, ["plot", str(p), "-W", "60", "-H", "15", "--no-color"] + (["--log-y"] if log_y else []))
    assert r.exit_code == 0 and "Traceback" not in r.output and r.exception is None, r.output  # were tick-math tracebacks


def test_every_curve_keeps_its_marker_and_its_legend_line(runner, tmp_path):
    specs = []
    for i in range(21):
        p = tmp_path / f"s{i}.yaml"
        p.write_text(f"name: run{i}\nbudget: {{steps: 100}}\nschedule: {{kind: constant, peak_lr: {i + 1}.0e-4}}\n")
        specs.append(str(p))
    r = runner.invoke(app, ["plot", *specs[:20], "-W", "200", "-H", "40", "--no-color"])
    legend = " ".join(r.stdout.splitlines()[-3:])
    markers = [legend.split(f" run{i}")[0].split()[-1] for i in range(20)]
    assert r.exit_code == 0 and len(set(markers)) == 20, legend  # 10 markers used to repeat
    r = runner.invoke(app, ["plot", *specs, "-W", "200", "-H", "40", "--no-color"])  # a 21st curve reuses a marker
    assert r.exit_code == 0 and "* run20" in r.stdout
    r = runner.invoke(app, ["plot", *specs[:20], "-W", "40", "-H", "10"])  # legend lines were dropped silently
    assert r.exit_code == 2 and "the legend of 20 curves needs" in r.stderr and r.stdout == ""
    r = runner.invoke(app, ["plot", str(ROOT / "schedules" / "wsd.yaml"), "--loss", "-W", "40", "-H", "10", "--no-color"])
    assert r.exit_code == 0 and "phase start" not in r.stdout and "(loss, right axis)" in r.stdout  # room: no phase lines


def test_legend_truncates_wide_characters_by_terminal_cells(runner, tmp_path):
    from rich.cells import cell_len

    p = tmp_path / "cjk.yaml"
    p.write_text('name: "学习率计划学习率计划学习率计划学习率计划学习率计划"\nbudget: {steps: 100}\n'
                 "schedule: {kind: constant, peak_lr: 1.0e-3}\n")
    r = runner.invoke(app, ["plot", str(p), "-W", "40", "-H", "12", "--no-color"])
    assert r.exit_code == 0 and max(cell_len(line) for line in r.stdout.splitlines()) <= 40  # was 59
