"""``plan`` with uncertainty (issues 16.4 and 17.3): every predicted loss has its 90 % band, families within
uncertainty of the best are a tie, ``--optimize`` reports the decay fractions within uncertainty of its choice,
and the JSON/CSV carry all of it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrplan.cli import app
from lrplan.laws.bands import difference_band
from lrplan.planning import losses
from lrplan.planning.planner import plan as plan_api

ROOT = Path(__file__).resolve().parents[2]
WSDS = ROOT / "schedules" / "wsd-s.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def planned():
    return plan_api(WSDS, law="builtin:mpl-400m", optimize=True)


def test_every_prediction_has_a_band_around_it(planned):
    for c in planned.checkpoints:
        assert set(c.predicted_band) == set(c.predicted_loss) == {"WSD", "WSD-S", "cosine"}
        for k, (lo, hi) in c.predicted_band.items():
            assert lo < c.predicted_loss[k] < hi and np.isfinite([lo, hi]).all()


def test_the_same_schedule_under_two_names_is_a_tie(planned):
    # checkpoint 1 of a WSD-S run is its WSD branch: the same LRs, so neither can be the winner
    c = planned.checkpoints[0]
    assert c.predicted_loss["WSD"] == pytest.approx(c.predicted_loss["WSD-S"], abs=1e-9)
    assert {"WSD", "WSD-S"} <= set(c.best)


def test_ties_are_the_paired_difference_band(monkeypatch):
    """A fake predictor whose members disagree on one family only: the tie follows the difference band."""
    from lrplan.laws.bands import Members

    cps = [type("C", (), {"predicted_loss": {"A": 1.0, "B": 1.01}, "best": []})()]
    wide = {"A": Members(np.array([[1.0], [0.9], [1.1]]), 0.0), "B": Members(np.array([[1.01], [1.01], [1.01]]), 0.0)}
    losses._ties(cps, wide)
    lo, hi = difference_band(wide["B"], wide["A"])
    assert lo[0] <= 0 <= hi[0] and cps[0].best == ["A", "B"]
    narrow = {"A": Members(np.array([[1.0], [1.0], [1.0]]), 0.0), "B": Members(np.array([[1.01], [1.01], [1.01]]), 0.0)}
    losses._ties(cps, narrow)
    assert cps[0].best == ["A"]


def test_optimize_reports_the_fractions_within_uncertainty(planned):
    assert planned.optimized
    for o in planned.optimized:
        lo, hi = o.predicted_band
        assert lo < o.predicted_loss < hi
        a, b = o.fractions_within
        assert a <= o.decay_fraction <= b and o.decay_shape in o.shapes_within


def test_json_and_csv_carry_bands_and_ties(tmp_path):
    out = tmp_path / "p.json"
    r = runner.invoke(app, ["plan", str(WSDS), "--optimize", "-f", "json", "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    d = json.loads(out.read_text())
    c = d["checkpoints"][1]
    assert set(c["predicted_band"]) == {"WSD", "WSD-S", "cosine"} and c["best"]
    assert d["optimized"][0]["fractions_within"] and d["optimized"][0]["predicted_band"]
    r = runner.invoke(app, ["plan", str(WSDS), "-f", "csv"])
    head = r.stdout.splitlines()[0].split(",")
    assert {"loss_WSD_lo", "loss_WSD_hi", "loss_cosine_lo", "best"} <= set(head)
    r = runner.invoke(app, ["plan", str(WSDS), "--optimize"], env={"COLUMNS": "160"})
    assert "± 0.0" in r.stdout and "within uncertainty" in r.stdout and "≈ WSD" in r.stdout


def test_many_checkpoints_say_why_wsds_has_no_band(monkeypatch):
    monkeypatch.setattr(losses, "BAND_MAX_CHECKPOINTS", 2)
    res = plan_api(WSDS, law="builtin:mpl-400m")
    assert all("WSD-S" not in c.predicted_band and "WSD" in c.predicted_band for c in res.checkpoints)
    assert any("no uncertainty band for WSD-S" in n for n in res.notes)


def test_a_gain_inside_the_band_is_a_tie(planned, tmp_path):
    # wsd-s.yaml decays 10 % linearly: on the grid, and within uncertainty of the optimiser's 30 % cosine
    assert [o.written_within for o in planned.optimized] == [True, True, True]
    r = runner.invoke(app, ["plan", str(WSDS), "--optimize"], env={"COLUMNS": "120"})
    assert r.exit_code == 0 and "tie" in r.stdout and "so the law cannot vouch for its gain" in " ".join(r.stdout.split())
    steps = tmp_path / "steps.yaml"  # a decay given in steps is not a grid point: no verdict rather than a wrong one
    steps.write_text(WSDS.read_text().replace("decay: 10%", "decay: 1000 steps"))
    from lrplan.spec.loading import load_spec

    assert losses._written(load_spec(steps)) is None and losses._written(load_spec(WSDS)) == (0.1, "linear")


@pytest.mark.parametrize("cols", [80, 90, 100, 110, 120, 160])
def test_plan_tables_fit_every_width_and_never_fold_a_number(cols):
    """At any width the checkpoint and --optimize tables fit, and no cell is squeezed so that a family name or a
    loss folds (between about 85 and 115 columns the padded layout used to squeeze `best` to one character)."""
    r = runner.invoke(app, ["plan", str(WSDS), "--optimize"], env={"COLUMNS": str(cols)})
    assert r.exit_code == 0, r.stderr
    table_lines = [ln for ln in r.stdout.splitlines() if ln[:1] in "┏┃┡│└"]
    assert table_lines and all(len(ln) <= cols for ln in table_lines)
    text = r.stdout
    assert "WSD-S" in text and "cosine" in text and "2.6001" in text and "± 0.0301" in text
    cells = [c.strip() for ln in table_lines for c in ln.strip("┃│").split("│" if "│" in ln else "┃")]
    assert not [c for c in cells if len(c) == 1 and c.isalpha()], cells  # no letter-per-line column
    assert "2.5706" in text and "± 0.0145" in text  # the optimum's loss and its ±, each whole
    assert "gain: the loss as written minus the optimum's predicted loss" in " ".join(text.split())


def test_plan_with_the_built_in_law_says_whose_losses_they_are():
    r = runner.invoke(app, ["plan", str(WSDS), "-f", "json"])
    notes = json.loads(r.stdout)["notes"]
    assert any(n.startswith("absolute losses belong to the built-in law's reference model (Llama-2 400M") for n in notes)
    r = runner.invoke(app, ["plan", str(WSDS), "-f", "json", "--law", "builtin:mpl-400m"])  # a law chosen: no note
    assert not any("reference model" in n for n in json.loads(r.stdout)["notes"])
