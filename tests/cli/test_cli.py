"""The CLI: render CSV/JSON, --every, list, check, help, examples."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import lrplan
from lrplan.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "schedules").glob("*.yaml"))


def test_render_csv_columns_and_values(tmp_path):
    out = tmp_path / "wsd.csv"
    res = runner.invoke(app, ["render", str(ROOT / "schedules/wsd.yaml"), "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(out.open()))
    r = lrplan.load_spec(ROOT / "schedules/wsd.yaml").render()
    assert list(rows[0]) == ["step", "tokens", "lr", "phase"]
    assert len(rows) == len(r) == 23842
    assert [float(x["lr"]) for x in rows] == r.lr.tolist()  # exact round trip, every step
    assert [int(x["tokens"]) for x in rows] == r.tokens.tolist()
    assert rows[0] == {"step": "0", "tokens": "0", "lr": "0.0", "phase": "warmup"}
    assert rows[2000]["lr"] == "0.0003" and rows[2000]["phase"] == "stable"
    assert rows[-1]["phase"] == "decay"
    assert "rounded to 23842 steps" in res.stderr  # the summary says when token rounding changed anything


def test_render_json_matches_csv():
    res_j = runner.invoke(app, ["render", str(ROOT / "schedules/cosine.yaml"), "--format", "json", "-q"])
    res_c = runner.invoke(app, ["render", str(ROOT / "schedules/cosine.yaml"), "-q"])
    data = json.loads(res_j.stdout)
    rows = list(csv.DictReader(io.StringIO(res_c.stdout)))
    assert len(data) == len(rows) == 50000
    assert data[123] == {"step": 123, "tokens": int(rows[123]["tokens"]), "lr": float(rows[123]["lr"]), "phase": "warmup"}


def test_render_without_tokens_per_step_leaves_tokens_empty():
    res = runner.invoke(app, ["render", str(ROOT / "schedules/polynomial.yaml"), "-q", "--every", "10000"])
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert all(r["tokens"] == "" for r in rows)
    res = runner.invoke(app, ["render", str(ROOT / "schedules/polynomial.yaml"), "-q", "--every", "10000", "-f", "json"])
    assert json.loads(res.stdout)[0]["tokens"] is None


def test_every_keeps_phase_edges_and_last_step():
    res = runner.invoke(app, ["render", str(ROOT / "schedules/wsd-s.yaml"), "-q", "--every", "5000"])
    steps = [int(r["step"]) for r in csv.DictReader(io.StringIO(res.stdout))]
    for edge in (0, 1999, 2000, 11249, 11250, 12499, 12500, 23750, 26249, 26250, 48750, 53749):
        assert edge in steps
    assert 5000 in steps and 5001 not in steps and steps == sorted(steps) and steps[-1] == 53749


def test_render_is_deterministic(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for p in (a, b):
        assert runner.invoke(app, ["render", str(ROOT / "schedules/power.yaml"), "-o", str(p), "-q", "--every", "7"]).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_renders(path, tmp_path):
    out = tmp_path / "o.csv"
    res = runner.invoke(app, ["render", str(path), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    spec = lrplan.load_spec(path)
    lr = np.array([float(r["lr"]) for r in csv.DictReader(out.open())])
    assert lr.size == spec.schedule_plan().total_steps and np.all(np.isfinite(lr)) and lr.max() > 0
    assert "nan" not in out.read_text().lower()


def test_examples_cover_every_family():
    kinds = {lrplan.load_spec(p).schedule.kind for p in EXAMPLES}
    from lrplan.schedules import FAMILIES

    assert kinds == set(FAMILIES)


def test_check_summarises_phases():
    res = runner.invoke(app, ["check", str(ROOT / "schedules/wsd-s.yaml")], env={"COLUMNS": "120"})
    assert res.exit_code == 0
    for text in ("decay1", "11,250..12,499", "53,750 steps", "ok"):
        assert text in res.stdout


def test_list_and_list_kind():
    res = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    from lrplan.schedules import DECAY_SHAPES, FAMILIES

    for name in FAMILIES:  # one screen: a row per family, its formula and source
        assert f"\n{name} " in res.stdout
    assert len(res.stdout.splitlines()) <= len(FAMILIES) + 3
    res = runner.invoke(app, ["list", "shapes"], env={"COLUMNS": "200"})
    for name in DECAY_SHAPES:  # the shapes with their formulas
        assert f" {name} " in res.stdout
    assert "b + (a-b)(1-sqrt(p))" in res.stdout
    res = runner.invoke(app, ["list", "wsd"], env={"COLUMNS": "200"})
    assert "decay_shape" in res.stdout and "10%" in res.stdout and "2405.18392" in res.stdout
    res = runner.invoke(app, ["list", "wds"])
    assert res.exit_code == 2 and "did you mean 'wsd'" in res.stderr


@pytest.mark.parametrize("cmd", [[], ["render"], ["list"], ["check"]])
def test_help(cmd):
    res = runner.invoke(app, [*cmd, "--help"])
    assert res.exit_code == 0 and "Usage" in res.stdout and "Example" in res.stdout


def test_version_and_module_entry():
    res = subprocess.run([sys.executable, "-m", "lrplan", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == f"lrplan {lrplan.__version__}"


def test_render_to_dev_null_does_not_replace_device():
    res = runner.invoke(app, ["render", str(ROOT / "schedules/cosine.yaml"), "-o", "/dev/null", "-q"])
    assert res.exit_code == 0 and Path("/dev/null").is_char_device()


def test_catalog_file_is_current():
    from lrplan.output.catalog import CATALOG_FILE, build_catalog

    assert json.loads(CATALOG_FILE.read_text()) == build_catalog(), "regenerate with: python -m lrplan.output.catalog"
