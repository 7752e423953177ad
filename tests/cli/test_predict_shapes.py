"""``predict`` without ``--law`` compares shapes (issue 17 point 2): each schedule against cosine-to-10 % of its own
peak, budget and warmup (or ``--baseline``), grouped by peak LR and budget, with the band of the difference."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from lrplan.cli import app

ROOT = Path(__file__).resolve().parents[2]
S = ROOT / "schedules"
runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())


def _rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in ln.split("│")[1:-1]] for ln in text.splitlines() if ln.startswith("│")]


def test_specs_of_other_peaks_and_budgets_are_not_ranked_against_each_other():
    res = runner.invoke(app, ["predict", *(str(S / f"{n}.yaml") for n in ("wsd", "cosine", "linear-d2z", "rex",
                                                                          "wsd-s"))], env={"COLUMNS": "120"})
    assert res.exit_code == 0, res.stderr
    out = _flat(res.stdout)
    assert "peak LR 0.001, 20,000 steps" in out and "peak LR 0.0003, 23,842 steps" in out
    assert "the 4 groups (different peak LR or budget) are not ranked against each other" in out
    assert "absolute losses belong to the law's reference model (Llama-2 400M" in out
    rows = {r[1]: r for r in _rows(res.stdout)}
    assert set(rows) == {"wsd-100B", "cosine", "linear-d2z", "rex", "wsd-s-600m"}
    # rex and linear-d2z share peak and budget: ranked, and their difference is within uncertainty
    assert rows["rex"][0] == rows["linear-d2z"][0] == "1=" and "within uncertainty of rex" in rows["linear-d2z"][3]
    # the shipped cosine decays to 10 % of its peak: it is its own reference
    assert rows["cosine"][2] == "+0.0000" and rows["cosine"][3] == "the same as the reference"
    assert rows["wsd-100B"][2].startswith("-0.0") and rows["wsd-100B"][3] == "better"


def test_one_spec_says_how_it_compares_with_its_reference():
    res = runner.invoke(app, ["predict", str(S / "wsd.yaml")], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("wsd-100B vs cosine to 10%"))
    d, half = line.split(": ")[1].split(" (")[0].split(" ± ")
    assert float(d) < 0 < float(half) and line.endswith("(better)")
    assert "predicted final loss" in res.stdout  # the absolute number is still there, for the reference model


def test_baseline_must_share_peak_and_budget(tmp_path):
    res = runner.invoke(app, ["predict", str(S / "wsd.yaml"), "--baseline", str(S / "cosine.yaml")])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert "same peak LR and budget" in res.stderr and "cosine.yaml" in res.stderr
    same = tmp_path / "same.yaml"
    same.write_text((S / "wsd.yaml").read_text().replace("decay_shape: 1-sqrt", "decay_shape: linear"))
    res = runner.invoke(app, ["predict", str(S / "wsd.yaml"), "--baseline", str(same)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.stderr
    assert f"vs the baseline {same}:" in res.stdout
    res = runner.invoke(app, ["predict", str(S / "wsd.yaml"), "--baseline", str(same), "--law", "builtin:mpl-25m"])
    assert res.exit_code == 2 and "--baseline" in res.stderr and res.stderr.count("\n") == 1


def test_a_law_fitted_at_one_peak_groups_specs_of_other_peaks(tmp_path):
    law = tmp_path / "law.yaml"
    r = runner.invoke(app, ["fit", str(ROOT / "tests/data/logs/mpl25m_runs.csv"), "-o", str(law), "-q"])
    assert r.exit_code == 0, r.stderr
    hot = tmp_path / "hot.yaml"
    hot.write_text((S / "wsd.yaml").read_text().replace("peak_lr: 3.0e-4", "peak_lr: 6.0e-4")
                   .replace("name: wsd-100B", "name: hot"))
    res = runner.invoke(app, ["predict", str(S / "wsd.yaml"), str(hot), "--law", str(law)], env={"COLUMNS": "120"})
    assert res.exit_code == 0, res.stderr
    assert "not ranked against each other" in _flat(res.stdout) and "vs reference" in res.stdout
    assert "so they are compared as shapes (-o writes each one's own, unmapped curve)" in _flat(res.stdout)
    same = tmp_path / "lin.yaml"
    same.write_text((S / "wsd.yaml").read_text().replace("decay_shape: 1-sqrt", "decay_shape: linear")
                    .replace("name: wsd-100B", "name: lin"))
    res = runner.invoke(app, ["predict", str(S / "wsd.yaml"), str(same), "--law", str(law)], env={"COLUMNS": "120"})
    assert res.exit_code == 0, res.stderr  # same peak and budget: the absolute ranking
    assert "predicted final loss" in res.stdout and "vs best" in res.stdout and "vs reference" not in res.stdout


def test_a_spec_equal_to_its_reference_reads_the_same_with_no_band():
    """schedules/cosine.yaml is cosine to 10 % with its own peak, budget and warmup: mapped onto the law's regime it
    differs from the reference built there only by the mapping's interpolation (~2e-6 nats), so it is the same run."""
    res = runner.invoke(app, ["predict", str(S / "cosine.yaml")], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("cosine vs cosine to 10%"))
    assert line.endswith(": +0.0000 (the same as the reference)"), line
