"""``-o`` never replaces an input: the same file by device and inode, whatever the spelling; an empty ``-o`` is a
clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lrplan.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.mark.parametrize("cmd", [["render", "{spec}", "-q"], ["plan", "{spec}", "--no-law", "-f", "json"]])
@pytest.mark.parametrize("spelling", ["same", "dot", "symlink"])
def test_output_naming_the_input_is_refused(tmp_path, cmd, spelling, monkeypatch):
    src = (ROOT / "schedules" / ("wsd-s.yaml" if cmd[0] == "plan" else "wsd.yaml")).read_text()
    spec = tmp_path / "w.yaml"
    spec.write_text(src)
    monkeypatch.chdir(tmp_path)
    if spelling == "same":
        target = str(spec)
    elif spelling == "dot":
        target = "./w.yaml"
    else:
        os.symlink(spec, tmp_path / "link.yaml")
        target = "link.yaml"
    res = runner.invoke(app, [c.replace("{spec}", str(spec)) for c in cmd] + ["-o", target])
    assert res.exit_code == 2, res.stdout
    assert res.stderr.startswith(f"error: -o {target} is the input ") and "write to another file" in res.stderr
    assert spec.read_text() == src  # the input is untouched


def test_empty_output_name_is_one_clear_line():
    res = runner.invoke(app, ["render", str(ROOT / "schedules/wsd.yaml"), "-q", "-o", ""])
    assert res.exit_code == 2
    assert res.stderr == "error: -o needs a file name (got an empty one); give a path, or - for stdout\n"


def test_fit_and_predict_refuse_an_output_naming_an_input(tmp_path):
    log = tmp_path / "log.csv"
    log.write_bytes((ROOT / "tests/data/logs/mpl25m_runs.csv").read_bytes())
    before = log.read_bytes()
    res = runner.invoke(app, ["fit", str(log), "--run-col", "run", "-o", str(log)])
    assert res.exit_code == 2 and res.stderr.startswith(f"error: -o {log} is the input {log}") and log.read_bytes() == before
    spec = tmp_path / "w.yaml"
    spec.write_text((ROOT / "schedules/wsd.yaml").read_text())
    res = runner.invoke(app, ["predict", str(spec), "-o", str(spec)])
    assert res.exit_code == 2 and "is the input" in res.stderr and spec.read_text() == (ROOT / "schedules/wsd.yaml").read_text()
