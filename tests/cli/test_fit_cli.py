"""`lrplan fit`, `lrplan predict`, `lrplan laws` (issue 5): logs -> law.yaml -> predictions, built-in laws, and
every robustness case (bad logs and law files give one `error:` line naming the file, exit 2, no output file)."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from lrplan.cli import app  # noqa: E402

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "tests" / "data" / "logs"
MPL25 = ROOT / "tests" / "data" / "curves" / "multipowerlaw" / "loss_curve_repo" / "csv_25"
WSD = ROOT / "schedules" / "wsd.yaml"
COSINE = ROOT / "schedules" / "cosine.yaml"
CONSTANT = ROOT / "schedules" / "constant.yaml"
FAST = ["--max-points", "30"]  # fits on ~30 points per curve: accuracy is not the point here


def run(*args, env=None):
    res = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "160", **(env or {})})
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    return res


def fails(res, *needles):
    """Exit 2 and stderr is exactly one `error:` line, containing every needle."""
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    errs = res.stderr.strip().splitlines()
    assert len(errs) == 1 and errs[0].startswith("error: "), res.stderr
    for n in needles:
        assert n in errs[0], (n, errs[0])
    return errs[0]


def spec(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / f"{name}.yaml"
    p.write_text(text)
    return p


@pytest.fixture(scope="module")
def law_file(tmp_path_factory):
    """A multi-power law fitted on the three runs of the shipped multi-run log (constant, cosine, two-stage)."""
    d = tmp_path_factory.mktemp("law")
    out = d / "law.yaml"
    res = run("fit", LOGS / "mpl25m_runs.csv", *FAST, "-o", out)
    assert res.exit_code == 0, res.stderr
    return out, res


# ------------------------------------------------------------------------------------------------ fit


def test_fit_writes_law_with_hashes_metrics_window(law_file):
    out, res = law_file
    assert "fit window: steps" in res.stderr and "automatic" in res.stderr
    assert "no LR before step 2,160: assumed a linear warmup from 0" in res.stderr  # first LR logged at 2160
    assert "fit quality per curve" in res.stdout and "wrote" in res.stdout
    d = yaml.safe_load(out.read_text())
    assert d["law"] == "multi-power" and d["warmup"] == "area" and d["flags"] == []
    assert set(d["params"]) >= {"L0", "A", "alpha", "B", "C", "beta", "gamma"}
    assert all(math.isfinite(v) for v in d["params"].values())
    names = ["mpl25m_runs:constant", "mpl25m_runs:cosine", "mpl25m_runs:wsdcon"]
    assert list(d["metrics"]) == names
    for m in d["metrics"].values():
        assert m["r2"] > 0.99 and m["mae"] < 0.02 and m["worst_e"] < 0.02
    digest = hashlib.sha256((LOGS / "mpl25m_runs.csv").read_bytes()).hexdigest()
    assert [i["curve"] for i in d["inputs"]] == names
    assert all(i["sha256"] == digest and i["lr_source"] == "column:lr" for i in d["inputs"])
    assert d["inputs"][0]["lr_assumed_linear_warmup_before"] == 2176
    assert d["window"]["rule"] == "auto" and d["window"]["start"] > 2160
    assert d["meta"]["peak_lr"] == pytest.approx(3e-4) and d["meta"]["fitted_step_range"][1] > 20000
    res = run("laws", out)  # a law file shows in full: parameters, fit quality, inputs
    assert res.exit_code == 0 and "alpha" in res.stdout and f"input: mpl25m_runs:cosine from {LOGS / 'mpl25m_runs.csv'}" in res.stdout


def test_fit_round_trips_through_predict(law_file, tmp_path):
    """The law predicts the logged cosine run (its LR read from the log as an LR table) within 1 %."""
    out, _ = law_file
    pred = tmp_path / "pred.csv"
    res = run("predict", "--lr-csv", MPL25 / "cosine_24000.csv", "--law", out, "-o", pred)
    assert res.exit_code == 0, res.stderr
    assert f"using law {out}" in res.stderr
    got = np.genfromtxt(pred, delimiter=",", names=True)
    logged = np.genfromtxt(MPL25 / "cosine_24000.csv", delimiter=",", names=True)
    common, i, j = np.intersect1d(got["step"].astype(int), logged["step"].astype(int), return_indices=True)
    assert common.size > 100
    rel = np.abs(got["loss"][i] - logged["loss"][j]) / logged["loss"][j]
    assert rel[common > 4000].max() < 0.01
    assert np.allclose(got["lr"][i], logged["lr"][j], rtol=1e-6)


def test_fit_files_momentum_with_schedule_and_window(tmp_path):
    cos = spec(tmp_path, "cos24k", "budget: {steps: 24000}\nschedule: {kind: cosine, peak_lr: 3.0e-4, min_lr: 3.0e-5, warmup: 2160}\n")
    const = spec(tmp_path, "const24k", "budget: {steps: 24000}\nschedule: {kind: constant, peak_lr: 3.0e-4, warmup: 2160}\n")
    out = tmp_path / "law.yaml"
    res = run("fit", MPL25 / "constant_24000.csv", MPL25 / "cosine_24000.csv", "--law", "momentum",
              "--schedule", const, "--schedule", cos, "--from-step", 4000, "--to-step", 20000, *FAST, "-o", out)
    assert res.exit_code == 0, res.stderr
    assert "fit window: steps 4," in res.stderr and "--from-step" in res.stderr  # thinned inside the window
    d = yaml.safe_load(out.read_text())
    assert d["law"] == "momentum" and d["warmup"] == "peak"
    assert d["window"]["end"] == 20000 and d["window"]["start"] == 4000
    for first, last, _ in d["window"]["per_curve"].values():
        assert first >= 4000 and last <= 20000
    assert [i["lr_source"] for i in d["inputs"]] == [f"schedule:{const}", f"schedule:{cos}"]
    assert all("'lr' column is ignored" in " ".join(i["notes"]) for i in d["inputs"])
    assert min(m["r2"] for m in d["metrics"].values()) > 0.98


def test_fit_yaml_to_stdout_summary_to_stderr():
    res = run("fit", LOGS / "cosine_sparse_lr.csv", "--loss-col", "val_loss", "--law", "mtl", *FAST)
    assert res.exit_code == 0, res.stderr
    d = yaml.safe_load(res.stdout)
    assert d["law"] == "momentum" and d["inputs"][0]["curve"] == "cosine_sparse_lr"
    assert "interpolated" in res.stderr and "fit quality per curve" in res.stderr


# ------------------------------------------------------------------------------------------------ predict


def test_predict_curve_shape_columns_values(law_file, tmp_path):
    out, _ = law_file
    pred = tmp_path / "pred.csv"
    res = run("predict", WSD, "--law", out, "-o", pred, "--every", "1000")
    assert res.exit_code == 0, res.stderr
    assert "predicted final loss" in res.stdout
    lines = pred.read_text().splitlines()
    assert lines[0] == "step,lr,loss,loss_lo,loss_hi"
    a = np.genfromtxt(pred, delimiter=",", names=True)
    assert np.all(a["loss_lo"] < a["loss"]) and np.all(a["loss"] < a["loss_hi"])  # the 90 % band
    steps = a["step"].astype(int)
    assert steps[0] == 2000 and steps[-1] == 23841  # from the end of warmup; the last step always
    assert all(s % 1000 == 0 for s in steps[1:-1]) and np.all(np.diff(steps) > 0)
    assert np.all(np.isfinite(a["loss"])) and np.all((a["loss"] > 1) & (a["loss"] < 10))
    import lrplan

    lr = lrplan.load_spec(WSD).render().lr
    assert np.allclose(a["lr"], lr[steps], rtol=1e-8)
    final = float(res.stdout.split("predicted final loss")[1].split()[0])
    assert final == pytest.approx(a["loss"][-1], abs=1e-4)
    # --steps: exactly those rows
    res = run("predict", WSD, "--law", out, "-o", pred, "--steps", "5000,10000,23841")
    assert res.exit_code == 0, res.stderr
    assert [ln.split(",")[0] for ln in pred.read_text().splitlines()[1:]] == ["5000", "10000", "23841"]


def test_predict_comparison_sorted_by_final_loss(tmp_path, law_file):
    """Under a law fitted on runs of several lengths (14k and 24k steps) at the specs' peak LR, the specs are
    ranked by their absolute predicted loss (issue 17: a law fitted on one length would group them instead)."""
    short = spec(tmp_path, "short", "name: short\nbudget: {steps: 6000}\nschedule: {kind: cosine, peak_lr: 3.0e-4, warmup: 500}\n")
    long_ = spec(tmp_path, "long", "name: long\nbudget: {steps: 30000}\nschedule: {kind: cosine, peak_lr: 3.0e-4, warmup: 500}\n")
    const = spec(tmp_path, "flat", "name: flat\nbudget: {steps: 30000}\nschedule: {kind: constant, peak_lr: 3.0e-4, warmup: 500}\n")
    pred = tmp_path / "pred.csv"
    res = run("predict", short, const, long_, "-o", pred, "--every", "5000", "--law", law_file[0])
    assert res.exit_code == 0, res.stderr
    rows = [ln for ln in res.stdout.splitlines() if ln.startswith("│")]
    order = [r.split("│")[2].strip() for r in rows]
    assert order == ["long", "flat", "short"]  # more steps and an anneal win
    losses = [float(r.split("│")[6].split("±")[0]) for r in rows]
    halves = [float(r.split("│")[6].split("±")[1]) for r in rows]
    assert losses == sorted(losses) and all(0 < h < 0.1 for h in halves)
    assert rows[0].split("│")[7].strip() == "best"
    assert float(rows[2].split("│")[7].split()[0]) == pytest.approx(losses[2] - losses[0], abs=2e-4)
    lines = pred.read_text().splitlines()
    assert lines[0] == "name,step,lr,loss,loss_lo,loss_hi"
    assert {ln.split(",")[0] for ln in lines[1:]} == {"short", "flat", "long"}


def test_predict_builtin_default_and_range_warning():
    res = run("predict", WSD)
    assert res.exit_code == 0, res.stderr
    assert "using the default law builtin:mpl-400m" in res.stderr
    assert "wsd-100B: predicted final loss" in res.stdout
    # wsd.yaml: same peak LR and length as the law, 8x its tokens per step
    warn = [ln for ln in res.stderr.splitlines() if ln.startswith("warning: wsd-100B")]
    assert warn and "peak LR 0.0003 = 1.00x" in warn[0] and "8.00x" in warn[0] and "extrapolates" in warn[0]


def test_predict_warns_when_peak_lr_differs_from_the_fitted_logs(law_file):
    out, _ = law_file
    res = run("predict", CONSTANT, "--law", out)  # peak 1e-3 vs the logs' 3e-4
    assert res.exit_code == 0, res.stderr
    assert "warning: constant: peak LR 0.001 = 3.33x the law's 0.0003" in res.stderr


def test_predict_lr_table_and_builtin_by_name():
    res = run("predict", "--lr-csv", LOGS / "wsd_lr_table.csv", "--law", "builtin:mpl-25m")
    assert res.exit_code == 0, res.stderr
    assert "wsd_lr_table: predicted final loss" in res.stdout and "builtin:mpl-25m" in res.stderr
    res2 = run("predict", "--lr-csv", LOGS / "wsd_lr_table.csv", "--law", "mpl-25m")
    assert res2.stdout == res.stdout


def test_laws_lists_builtins():
    res = run("laws")
    assert res.exit_code == 0, res.stderr
    for name in ("mpl-25m", "mpl-100m", "mpl-400m (default)", "Llama-2 400M", "524,288", "2,160-23,936", "0.0003"):
        assert name in res.stdout, name
    res = run("laws", "mpl-25m")
    assert res.exit_code == 0 and "parameters" in res.stdout and "held-out" in res.stdout
    fails(run("laws", "builtin:nope"), "no built-in law 'nope'", "mpl-400m")


def test_plot_loss_overlay_and_plan_law(law_file):
    out, _ = law_file
    res = run("plot", WSD, "--loss", "--law", out, "-W", "80", "-H", "20", "--no-color")
    assert res.exit_code == 0, res.stderr
    assert "wsd-100B (loss, right axis)" in res.stdout and f"law {out}" in res.stderr
    fails(run("plot", WSD, "--law", "missing.yaml", "-W", "80", "-H", "20"), "missing.yaml")
    res = run("plan", ROOT / "schedules" / "plan-wsd.yaml", "--law", out, "-f", "csv")
    assert res.exit_code == 0, res.stderr
    assert "loss_WSD" in res.stdout.splitlines()[0]
    fails(run("plan", ROOT / "schedules" / "plan-wsd.yaml", "--law", "builtin:nope"), "no built-in law")


@pytest.mark.parametrize("cmd", ["fit", "predict", "laws"])
def test_help_has_example(cmd):
    res = run(cmd, "--help")
    assert res.exit_code == 0 and "Example:" in res.stdout


# ------------------------------------------------------------------------------------------------ robustness


def test_constant_lr_only_log_fits_what_it_can(tmp_path):
    out = tmp_path / "law.yaml"
    res = run("fit", MPL25 / "constant_24000.csv", *FAST, "-o", out)
    assert res.exit_code == 0, res.stderr
    assert "warning: annealing-unidentifiable" in res.stderr
    d = yaml.safe_load(out.read_text())
    assert d["flags"] and d["params"]["B"] == 0.0
    res = run("predict", COSINE, "--law", out)
    assert res.exit_code == 0, res.stderr
    assert "the law is flagged: annealing-unidentifiable" in res.stderr


def _noisy_log(path: Path, spikes: int = 12, dup: bool = False, shuffle: bool = False) -> None:
    """Per-step train loss of a short WSD run (builtin mpl-25m + 2 % noise + loss spikes), LR every step."""
    import lrplan
    from lrplan.laws import builtin_laws

    lr = lrplan.load_spec({"budget": {"steps": 6000}, "schedule": {"kind": "wsd", "peak_lr": 3e-4, "warmup": 300,
                                                                  "decay": "20%", "min_lr": 3e-5}}).render().lr
    steps = np.arange(1, lr.size)
    rng = np.random.default_rng(0)
    y = builtin_laws()["mpl-25m"].predict(lr, steps) * np.exp(0.02 * rng.standard_normal(steps.size))
    y[rng.choice(steps.size, spikes, replace=False)] += 2.0
    rows = [f"{s},{float(lr[s])!r},{v:.5f}" for s, v in zip(steps, y)]
    if dup:
        rows += rows[1000:1010]
    if shuffle:
        rng.shuffle(rows)
    path.write_text("step,lr,loss\n" + "\n".join(rows) + "\n")


def test_noisy_per_step_train_loss_with_spikes(tmp_path):
    log = tmp_path / "train.csv"
    _noisy_log(log, dup=True, shuffle=True)
    out = tmp_path / "law.yaml"
    res = run("fit", log, "--max-points", "60", "-o", out)
    assert res.exit_code == 0, res.stderr
    assert "rows were not in step order: sorted by step" in res.stderr
    assert "10 duplicate step(s): their losses were averaged" in res.stderr
    assert "thinned to 60" in res.stderr
    d = yaml.safe_load(out.read_text())
    assert d["metrics"]["train"]["r2"] > 0.95
    res = run("predict", WSD, "--law", out)
    assert res.exit_code == 0 and "predicted final loss" in res.stdout


CSV_OK = "step,lr,loss\n" + "".join(f"{s},3e-4,{3 + (100 / s) ** 0.5:.4f}\n" for s in range(100, 1100, 100))
assert ",3e-4,4.0000\n" in CSV_OK  # step 100: the row the cases below break


def _bad(value: str) -> str:
    return CSV_OK.replace(",3e-4,4.0000\n", f",3e-4,{value}\n")


@pytest.mark.parametrize("name,content,needles", [
    ("few.csv", "step,lr,loss\n100,3e-4,4\n200,3e-4,3.9\n300,3e-4,3.8\n400,3e-4,3.7\n", ["only 4 usable loss point(s)", "at least 5"]),
    ("noloss.csv", CSV_OK.replace("loss", "val"), ["no 'loss' column", "columns: step, lr, val", "--loss-col"]),
    ("nostep.csv", CSV_OK.replace("step", "iter"), ["no 'step' column", "--step-col"]),
    ("nolr.csv", CSV_OK.replace(",3e-4", "").replace("lr,", ""), ["no way to know the LR", "--schedule"]),
    ("emptylr.csv", CSV_OK.replace("3e-4", ""), ["no way to know the LR", "has no values"]),
    ("nan.csv", _bad("nan"), ["nan.csv:", "loss is nan"]),
    ("inf.csv", CSV_OK.replace("3e-4", "inf", 1), ["lr is inf"]),
    ("neg.csv", CSV_OK.replace("300,", "-300,"), ["step -300 is negative"]),
    ("zero.csv", _bad("0"), ["loss 0 is not positive"]),
    ("huge.csv", _bad("1e300"), ["implausibly large"]),
    ("text.csv", _bad("abc"), ["'abc' is not a number"]),
    ("frac.csv", CSV_OK.replace("300,", "300.5,"), ["'300.5' is not a whole number"]),
    ("trunc.csv", CSV_OK[:-9], ["fields where the header has 3"]),
    ("empty.csv", "", ["empty file"]),
    ("blank.csv", "\n\n  \n", ["empty file"]),
    ("header.csv", "step,lr,loss\n", ["only a header row"]),
    ("latin1.csv", CSV_OK.replace("loss", "lo\xdfs").encode("latin-1"), ["not UTF-8 text (byte"]),
    ("nul.csv", b"step,lr,loss\n1\x00,2,3\n", ["NUL"]),
    ("zerolr.csv", CSV_OK.replace("3e-4", "0"), ["the LR is 0 at every step"]),
])
def test_bad_logs_one_line_exit_2_no_output(tmp_path, name, content, needles):
    log = tmp_path / name
    log.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "law.yaml"
    line = fails(run("fit", log, "-o", out), str(log), *needles)
    assert len(line) < 400
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_duplicates_and_unsorted_small_log_is_fine(tmp_path):
    rows = CSV_OK.splitlines()
    log = tmp_path / "u.csv"
    log.write_text("\n".join([rows[0]] + rows[:0:-1] + rows[3:5]) + "\n")
    res = run("fit", log, "-o", tmp_path / "law.yaml")
    assert res.exit_code == 0, res.stderr
    assert "sorted by step" in res.stderr and "2 duplicate step(s)" in res.stderr


def test_runs_and_schedule_options_errors(tmp_path):
    fails(run("fit", LOGS / "mpl25m_runs.csv", "--runs", "constant,nope"), "no run 'nope'", "constant, cosine, wsdcon")
    fails(run("fit", MPL25 / "constant_24000.csv", "--runs", "a"), "--runs needs a 'run' column")
    fails(run("fit", MPL25 / "constant_24000.csv", MPL25 / "cosine_24000.csv", "--schedule", WSD),
          "--schedule given 1 time(s) for 2 log(s)")
    short = spec(tmp_path, "short", "budget: {steps: 1000}\nschedule: {kind: constant, peak_lr: 3.0e-4}\n")
    fails(run("fit", MPL25 / "constant_24000.csv", "--schedule", short), "reaches step 23,936", "only 1,000 steps")
    fails(run("fit", MPL25 / "constant_24000.csv", "--law", "chinchilla"), "unknown law")
    fails(run("fit", MPL25 / "constant_24000.csv", "--from-step", "23900"), "in the fit window")
    fails(run("fit", MPL25 / "constant_24000.csv", "--to-step", "100"), "only 0 loss point(s)", "in the fit window")
    fails(run("fit", MPL25 / "constant_24000.csv", "--from-step", "9000", "--to-step", "5000"), "must be after")
    fails(run("fit", tmp_path / "missing.csv"), "missing.csv", "cannot read the log")
    fails(run("fit", tmp_path), "is a directory")


LAW_OK = {"law": "multi-power", "warmup": "area",
          "params": {"L0": 3.0, "A": 2.0, "alpha": 0.5, "B": 40.0, "C": 2.0, "beta": 1.0, "gamma": 0.0, "rho": 0.7, "kappa": 0.7}}


@pytest.mark.parametrize("name,content,needles", [
    ("syntax.yaml", "law: [multi-power\nparams: {", ["not valid YAML"]),
    ("list.yaml", "- 1\n- 2\n", ["not a law file: expected a mapping"]),
    ("unknown.yaml", yaml.safe_dump({**LAW_OK, "law": "chinchilla"}), ["unknown law 'chinchilla'"]),
    ("noparams.yaml", yaml.safe_dump({k: v for k, v in LAW_OK.items() if k != "params"}), ["missing 'params'"]),
    ("missing.yaml", yaml.safe_dump({**LAW_OK, "params": {"L0": 3.0, "A": 2.0}}), ["missing params"]),
    ("text.yaml", yaml.safe_dump({**LAW_OK, "params": {**LAW_OK["params"], "A": "big"}}), ["'A' is 'big'"]),
    ("nanparam.yaml", yaml.safe_dump({**LAW_OK, "params": {**LAW_OK["params"], "A": float("nan")}}), ["not a finite number"]),
    ("warmup.yaml", yaml.safe_dump({**LAW_OK, "warmup": "sideways"}), ["unknown warmup convention"]),
    ("overflow.yaml", yaml.safe_dump({**LAW_OK, "params": {**LAW_OK["params"], "L0": 1e308, "A": 1e308}}), ["non-finite loss"]),
    ("binary.yaml", b"\xff\xfe\x00law", ["not UTF-8"]),
    ("empty.yaml", "", ["empty file"]),
])
def test_bad_law_files(tmp_path, name, content, needles):
    law = tmp_path / name
    law.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "pred.csv"
    fails(run("predict", WSD, "--law", law, "-o", out), str(law), *needles)
    assert not out.exists()


def test_non_finite_prediction_is_an_error_not_nan(tmp_path):
    law = tmp_path / "steep.yaml"  # a sane law (loads), asked about a schedule whose LR area underflows its power
    law.write_text(yaml.safe_dump({**LAW_OK, "params": {**LAW_OK["params"], "alpha": 1.5}}))
    tiny = spec(tmp_path, "tiny", "budget: {steps: 1000}\nschedule: {kind: constant, peak_lr: 1.0e-250}\n")
    out = tmp_path / "pred.csv"
    fails(run("predict", tiny, "--law", law, "-o", out), "too far outside what the law was fitted for", str(tiny))
    assert not out.exists()
    garbage = tmp_path / "garbage.yaml"  # alpha 100: 1e123 nats on a plain schedule: refused when loaded
    garbage.write_text(yaml.safe_dump({**LAW_OK, "params": {**LAW_OK["params"], "alpha": 100.0}}))
    fails(run("predict", WSD, "--law", garbage), "not a loss", str(garbage))


def test_predict_argument_errors(tmp_path):
    fails(run("predict"), "nothing to predict")
    fails(run("predict", WSD, "--every", "10", "--steps", "5"), "exclude each other")
    fails(run("predict", WSD, "--steps", "a,b", "-o", tmp_path / "p.csv"), "'a' is not a step number")
    fails(run("predict", WSD, "--steps", "99999999", "-o", tmp_path / "p.csv"), "past the end of wsd-100B")
    fails(run("predict", "--lr-csv", MPL25.parent / "nope.csv"), "nope.csv", "cannot read")
    p = tmp_path / "lr.csv"
    p.write_text("step,loss\n1,3\n")
    fails(run("predict", "--lr-csv", p), "no 'lr' column")
    assert not (tmp_path / "p.csv").exists()


def test_output_directory_missing_is_one_line(tmp_path):
    fails(run("predict", WSD, "-o", tmp_path / "no" / "pred.csv"), "directory")
    shutil.rmtree(tmp_path, ignore_errors=True)


# ---------------------------------------------------------------- review findings (each failed before its fix)
def _csv(path: Path, header: str, rows) -> Path:
    path.write_text(header + "\n" + "".join(",".join(str(v) for v in r) + "\n" for r in rows))
    return path


def test_huge_steps_and_every_are_errors_or_clamped(tmp_path):
    out = tmp_path / "p.csv"
    fails(run("predict", WSD, "-o", out, "--steps", "1e19"), "--steps", "past the end")
    fails(run("predict", WSD, "-o", out, "--steps", "9223372036854775808"), "--steps", "past the end")
    res = run("predict", WSD, "-o", out, "--every", "9223372036854775808")
    assert res.exit_code == 0, res.stderr
    assert len(out.read_text().splitlines()) == 3  # header, the first step after warmup, the last step


def test_every_and_steps_need_an_output(tmp_path):
    fails(run("predict", WSD, "--steps", "99999999"), "--steps", "add -o FILE")
    fails(run("predict", WSD, "--every", "100"), "--every", "add -o FILE")


def test_steps_before_any_lr_area_is_a_clear_error(tmp_path):
    fails(run("predict", WSD, "-o", tmp_path / "p.csv", "--steps", "0,1000"), "step 0", "before any LR area",
          "from step 1 on")


def test_predictions_below_the_laws_floor_are_refused_not_ranked(tmp_path):
    """multistep.yaml peaks at 0.1 (333x the default law's 3e-4): the law's annealing term outgrows it (it used to
    print -8.45 and rank it best). The floor: L0 - B * peak**kappa, the lowest loss the law gives within its range."""
    ms = ROOT / "schedules" / "multistep.yaml"
    fails(run("predict", ms, "-o", tmp_path / "p.csv"), "multistep.yaml", "below the lowest it gives",
          "peak LR 0.1")
    assert not (tmp_path / "p.csv").exists()
    res = run("predict", ms, WSD, COSINE)  # the built-in law: shapes compared per group, multistep left out
    assert res.exit_code == 0, res.stderr
    rows = [r for r in res.stdout.splitlines() if "│" in r]
    ranked = [r.split("│")[2].strip() for r in rows if r.split("│")[1].strip().rstrip("=").isdigit()]
    assert sorted(ranked) == ["cosine", "wsd-100B"]
    assert any(ln.startswith("not compared: multistep") for ln in res.stdout.splitlines())
    assert "-8.45" not in res.stdout and "warning: " in res.stderr and "not ranked" in res.stderr
    out = tmp_path / "none.csv"
    fails(run("predict", ms, ROOT / "schedules" / "power.yaml", "-o", out), "cannot evaluate any of the schedules",
          "multistep.yaml", "and the 1 other")
    assert not out.exists()


def test_plan_without_law_drops_predictions_the_default_law_cannot_make(tmp_path):
    s = spec(tmp_path, "hot", "budget: {budgets: [10000, 20000]}\nschedule: {kind: wsd, peak_lr: 0.1, warmup: 100, "
                              "decay: 20%}\n")
    res = run("plan", s)
    assert res.exit_code == 0, res.stderr
    assert "no predicted losses" in res.stderr and "below the lowest" in res.stderr
    fails(run("plan", s, "--law", "builtin:mpl-400m"), "below the lowest")


def test_output_dash_keeps_stdout_clean(tmp_path):
    res = run("fit", MPL25 / "constant_24000.csv", MPL25 / "cosine_24000.csv", *FAST, "-o", "-")
    assert res.exit_code == 0, res.stderr
    assert yaml.safe_load(res.stdout)["law"] == "multi-power"  # stdout is exactly the law file
    assert "wrote" not in res.stdout and "parameters" in res.stderr
    res = run("predict", WSD, "-o", "-", "--every", "5000")
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "step,lr,loss,loss_lo,loss_hi" and all(len(r.split(",")) == 5 for r in lines[1:])
    assert "predicted final loss" in res.stderr


def test_fewer_than_five_points_after_warmup_is_an_error(tmp_path):
    six = _csv(tmp_path / "six.csv", "step,lr,loss",
               [(0, 0, 10), (100, 1e-4, 7), (500, 3e-4, 5), (1000, 3e-4, 4), (1500, 3e-4, 3.8), (2000, 3e-4, 3.7)])
    fails(run("fit", six), "six.csv", "only 3 loss point(s)", "after warmup", "at least 5")
    fails(run("fit", MPL25 / "constant_24000.csv", MPL25 / "cosine_24000.csv", "--to-step", "2800"),
          "constant_24000.csv", "only 4 loss point(s)")


def test_window_is_applied_before_thinning(tmp_path):
    """A per-step log thinned to --max-points before windowing kept 3 points in --from-step 71500.. ."""
    steps = np.arange(0, 72001)
    lr = np.where(steps < 2000, 3e-4 * steps / 2000, 3e-4)
    loss = 2.5 + 3.0 * (1.0 + steps / 1000.0) ** -0.5
    path = tmp_path / "perstep.csv"
    path.write_text("step,lr,loss\n" + "".join(f"{s},{a:.6g},{b:.6f}\n" for s, a, b in zip(steps, lr, loss)))
    res = run("fit", path, "--law", "momentum", "--from-step", "60000", "-o", tmp_path / "w.yaml")
    assert res.exit_code == 0, res.stderr
    per = yaml.safe_load((tmp_path / "w.yaml").read_text())["window"]["per_curve"]["perstep"]
    assert per[0] >= 60000 and per[2] > 400  # ~500 thinned points inside the window, not 3


def test_run_column_problems_are_errors(tmp_path):
    fails(run("fit", LOGS / "mpl25m_runs.csv", "--run-col", "xyz"), "--run-col 'xyz': no such column")
    fails(run("predict", "--lr-csv", LOGS / "mpl25m_runs.csv"), "3 runs in its 'run' column", "its own file")
    merged = _csv(tmp_path / "merged.csv", "name,step,lr,loss",
                  [(n, s, lr, 4.0 - s / 1e4) for s in range(1000, 9000, 500) for n, lr in (("a", 3e-4), ("b", 1e-4))])
    fails(run("fit", merged), "merged.csv", "different lr values", "--run-col")
    blank = _csv(tmp_path / "blank.csv", "run,step,lr,loss", [("a", 1000, 3e-4, 4.0), ("", 1500, 3e-4, 3.9)])
    fails(run("fit", blank), "blank.csv:3", "empty 'run' cell")


def test_numbers_with_underscores_or_non_ascii_digits_are_refused(tmp_path):
    rows = [(s, 3e-4, 4.0 - s / 1e5) for s in range(1000, 5000, 200)]
    p = _csv(tmp_path / "u.csv", "step,lr,loss", rows + [("5_000", 3e-4, 3.9)])
    fails(run("fit", p), "u.csv:22", "'5_000' is not a number")
    p = _csv(tmp_path / "a.csv", "step,lr,loss", rows + [(5200, 3e-4, "\u0663.\u0669")])
    fails(run("fit", p), "a.csv:22", "is not a number")


def test_law_fitted_on_several_peaks_checks_the_range(tmp_path):
    law = tmp_path / "two.yaml"
    law.write_text(yaml.safe_dump({**LAW_OK, "meta": {"peak_lr": 6e-4, "peak_lr_range": [3e-4, 6e-4],
                                                      "fitted_step_range": [2000, 24000]}}))
    res = run("predict", WSD, "--law", law)
    assert res.exit_code == 0, res.stderr
    assert "fitted for peak LR 0.0003-0.0006" in res.stderr and "outside" not in res.stderr
    hot = spec(tmp_path, "hot", "budget: {steps: 20000}\nschedule: {kind: constant, peak_lr: 1.0e-3}\n")
    res = run("predict", hot, "--law", law)
    assert "vs the law's 0.0003-0.0006" in res.stderr and "outside the fitted range" in res.stderr


@pytest.mark.parametrize("edit,needle", [
    ({"law": "momentum"}, "law 'momentum' has no parameter 'B'"),
    ({"params": {**LAW_OK["params"], "zzz": 1.0}}, "no parameter 'zzz'"),
    ({"params": {**LAW_OK["params"], "C": -3.0}}, "C = -3 is outside its domain [0, inf)"),
    ({"params": {**LAW_OK["params"], "rho": -1.0}}, "rho = -1 is outside its domain (0, 2]"),
    ({"params": {**LAW_OK["params"], "L0": -5.0}}, "L0 = -5 is outside its domain"),
    ({"params": {**LAW_OK["params"], "A": 1e300}}, "not a loss"),
])
def test_law_file_parameters_are_validated(tmp_path, edit, needle):
    law = tmp_path / "edited.yaml"
    law.write_text(yaml.safe_dump({**LAW_OK, **edit}))
    fails(run("predict", WSD, "--law", law), str(law), needle)


def test_law_file_errors_do_not_speak_of_csv(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    fails(run("predict", WSD, "--law", empty), "empty file: not a law file")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00law")
    msg = fails(run("predict", WSD, "--law", binary), "not UTF-8", "save the law file as UTF-8")
    assert "CSV" not in msg


def test_malformed_meta_entry_keeps_the_others(tmp_path):
    law = tmp_path / "meta.yaml"
    law.write_text(yaml.safe_dump({**LAW_OK, "meta": {"peak_lr": "abc", "fitted_step_range": [2000, 24000]}}))
    res = run("predict", WSD, "--law", law)
    assert res.exit_code == 0, res.stderr
    assert "runs of up to 24,001 steps, from step 2,000" in res.stderr
    assert "does not record its fitted range" not in res.stderr


def test_fit_refuses_parameters_it_could_not_reload(tmp_path):
    """Loss 1e-9 everywhere: the fit's L0 went negative and the law was written anyway (predict then said -0.004)."""
    p = _csv(tmp_path / "tiny.csv", "step,lr,loss", [(s, 3e-4, 1e-9) for s in range(1000, 24001, 128)])
    out = tmp_path / "tiny.yaml"
    res = run("fit", p, "-o", out)
    if res.exit_code == 0:  # a fit that stays in the domain is fine: it must then reload and predict > 0
        pr = run("predict", WSD, "--law", out)
        assert pr.exit_code in (0, 2) and "-0." not in pr.stdout
    else:
        fails(res, "the fit gave parameters the law cannot use")
        assert not out.exists()


# ------------------------------------------------------ second review of those fixes (each failed before its fix)
def test_floor_with_gamma_uses_the_schedules_own_drops(tmp_path):
    """With gamma > 0 a drop to ~0 and the climb back do not cancel in the annealing term, so a schedule within
    the peak LR that drops and recovers often can legitimately go below L0 - B*peak**kappa."""
    params = {"L0": 3.153, "A": 0.5186, "alpha": 0.5033, "B": 441.1, "C": 6.388e-4, "beta": 0.4076, "gamma": 1.5,
              "rho": 1.0, "kappa": 1.0}  # the published form fitted to the 25M MPL curves
    law = tmp_path / "g.yaml"
    law.write_text(yaml.safe_dump({**LAW_OK, "params": params, "meta": {"peak_lr": 3e-4}}))
    s = np.arange(24000)
    lr = np.where(s < 1000, 3e-4 * (s + 1) / 1000, np.where((s % 250) < 5, 0.0, 3e-4))
    table = tmp_path / "spikes.csv"
    table.write_text("step,lr\n" + "".join(f"{a},{b:.6g}\n" for a, b in zip(s, lr)))
    res = run("predict", "--lr-csv", table, "--law", law)
    assert res.exit_code == 0, res.stderr
    final = float(res.stdout.split("predicted final loss ")[1].split()[0])
    assert final < params["L0"] - params["B"] * 3e-4 ** params["kappa"]  # below the gamma = 0 bound, yet in range
    hot = tmp_path / "hot.csv"  # the same at 100x the peak: refused
    hot.write_text("step,lr\n" + "".join(f"{a},{100 * b:.6g}\n" for a, b in zip(s, lr)))
    fails(run("predict", "--lr-csv", hot, "--law", law), "below the lowest")


def test_law_fitted_at_a_small_peak_lr_loads(tmp_path):
    law = tmp_path / "small.yaml"  # LAW_OK rescaled to peak 1e-6 (LR units): at a fixed 3e-4 reference it gave -1.2
    law.write_text(yaml.safe_dump({**LAW_OK, "params": {**LAW_OK["params"], "B": 40.0 * 300**0.7, "A": 2.0 / 300**0.35,
                                                         "C": 2.0 * 300**0.7},
                                   "meta": {"peak_lr": 1e-6}}))
    s = spec(tmp_path, "cos-small", "budget: {steps: 24000}\nschedule: {kind: cosine, peak_lr: 1.0e-6, warmup: 2000}\n")
    res = run("predict", s, "--law", law)
    assert res.exit_code == 0, res.stderr


def test_window_past_the_end_of_a_log_is_an_error_not_a_traceback(tmp_path):
    fails(run("fit", MPL25 / "wsdcon_9.csv", MPL25 / "constant_24000.csv", "--from-step", "15000"),
          "wsdcon_9.csv", "only 0 loss point(s)")


def test_single_run_logs_with_reformatted_lr_duplicates_and_blank_run_column(tmp_path):
    def loss(s, lr):  # a plausible curve: a power law in LR area, lower while the LR is lower
        return 2.5 + 3.0 * (1.0 + s * 3e-4 / 0.3) ** -0.5 - 150.0 * (3e-4 - lr)

    rows = [(s, 3e-4 * (1 - s / 30000), round(loss(s, 3e-4 * (1 - s / 30000)), 6)) for s in range(2000, 20000, 250)]
    dup = rows + [(rows[5][0], float(np.float32(rows[5][1])), rows[5][2])]  # the same LR again, as float32
    p = _csv(tmp_path / "dup.csv", "step,lr,loss", dup)
    q = _csv(tmp_path / "blank.csv", "run,step,lr,loss", [("", *r) for r in rows])
    const = _csv(tmp_path / "c.csv", "step,lr,loss", [(s, 3e-4, round(loss(s, 3e-4), 6)) for s in range(2000, 20000, 250)])
    for log in (p, q):
        res = run("fit", const, log, *FAST, "-o", tmp_path / "x.yaml")
        assert res.exit_code == 0, (log.name, res.stderr)


def test_prediction_inside_warmup_does_not_depend_on_later_queries(tmp_path):
    mtl = tmp_path / "m.yaml"
    mtl.write_text(yaml.safe_dump({"law": "momentum", "warmup": "peak",
                                   "params": {"L0": 3.227, "A": 0.5518, "alpha": 0.7582, "C": 0.3967, "lam": 0.999},
                                   "meta": {"peak_lr": 3e-4}}))
    s = spec(tmp_path, "w", "budget: {steps: 24000}\nschedule: {kind: cosine, peak_lr: 3.0e-4, warmup: 2000}\n")
    a = run("predict", s, "--law", mtl, "--steps", "1,2,10", "-o", "-")
    b = run("predict", s, "--law", mtl, "--steps", "1,2,10,20001", "-o", "-")
    assert a.exit_code == 0 and b.exit_code == 0, (a.stderr, b.stderr)
    assert b.stdout.splitlines()[:4] == a.stdout.splitlines()[:4]


def test_a_subnormal_loss_names_its_row(tmp_path):
    """A loss of 1e-320 is no loss in nats: the error names the file and row (was 'the fit did not converge')."""
    lines = (ROOT / "tests/data/logs/cosine_sparse_lr.csv").read_text().splitlines()
    cells = lines[60].split(",")
    cells[2] = "1e-320"
    lines[60] = ",".join(cells)
    log = tmp_path / "tiny.csv"
    log.write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, ["fit", str(log), "--loss-col", "val_loss", "-q", "-o", str(tmp_path / "law.yaml")])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {log}:61: val_loss 9.99989e-321 is too small for a loss in nats")


# --- framework logs (issue 17 point 1)
FW = LOGS / "frameworks"


def test_fit_framework_logs_detected():
    pytest.importorskip("tensorboard")
    res = run("fit", FW / "megatron_stdout.log", FW / "megatron_tb", *FAST, "-q")
    assert res.exit_code == 0, res.stderr
    law = yaml.safe_load(res.stdout)
    assert [i["curve"] for i in law["inputs"]] == ["megatron_stdout", "megatron_tb"]
    assert law["inputs"][0]["lr_source"] == "column:learning rate"
    assert "Megatron-LM convention" in res.stderr
    again = run("fit", FW / "megatron_stdout.log", FW / "megatron_tb", *FAST, "-q")
    assert again.stdout == res.stdout  # deterministic


def test_fit_format_forced_and_bad(tmp_path):
    fails(run("fit", FW / "hf" / "trainer_state.json", "--format", "megatron"), "trainer_state.json",
          "no Megatron-LM")
    fails(run("fit", FW / "bad" / "not_hf.json"), "not_hf.json", "JSON with keys", "--format")
    fails(run("fit", FW / "megatron_stdout.log", "--format", "xml"), "--format 'xml'")
    pytest.importorskip("tensorboard")
    fails(run("fit", FW / "bad" / "tb_no_loss"), "tb_no_loss", "TensorBoard events with tags: grad_norm, throughput",
          "--loss-col")


def test_fit_directory(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    shutil.copy(FW / "megatron_stdout.log", d / "a.log")
    shutil.copy(LOGS / "cosine_sparse_lr.csv", d / "b.csv")
    res = run("fit", d, *FAST, "-q", "--loss-col", "val_loss")
    assert res.exit_code == 2 and "a.log" in res.stderr  # --loss-col val_loss names a series: not in the Megatron log
    res = run("fit", d / "a.log", d, *FAST, "-q", "--format", "megatron")
    assert res.exit_code == 0, res.stderr
    assert [i["curve"] for i in yaml.safe_load(res.stdout)["inputs"]] == ["a", "a.log"]


def test_fit_reads_a_log_from_stdin():
    """``lrplan fit -`` (format detection reads the log once, the parser again: stdin is read once and kept)."""
    import subprocess
    import sys

    log = (ROOT / "tests/data/logs/mpl25m_runs.csv").read_text()
    r = subprocess.run([sys.executable, "-m", "lrplan", "fit", "-", "--run-col", "run", "-q", "-o", "-"], input=log,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("law: multi-power") or "law: multi-power" in r.stdout


def test_a_peak_range_whose_ends_agree_reads_as_one_peak_with_a_ratio(tmp_path):
    """Runs logged at 0.003 and 0.0030000001 were fitted at one peak LR: no '0.003-0.003' range, and predict gives
    the ratio to it."""
    law = tmp_path / "one_peak.yaml"
    law.write_text(yaml.safe_dump({**LAW_OK, "meta": {"peak_lr_range": [0.003, 0.0030000001],
                                                      "fitted_step_range": [2000, 24000]}}))
    res = run("predict", WSD, "--law", law)
    assert res.exit_code == 0, res.stderr
    assert "fitted for peak LR 0.003," in res.stderr and "0.003-0.003" not in res.stderr
    assert "peak LR 0.0003 = 0.10x the law's 0.003" in res.stderr
    law.write_text(yaml.safe_dump({**LAW_OK, "meta": {"peak_lr_range": [0.001, 0.003]}}))
    res = run("predict", WSD, "--law", law)
    assert "fitted for peak LR 0.001-0.003" in res.stderr and "vs the law's 0.001-0.003" in res.stderr


def test_fit_table_names_runs_of_one_file_by_run_and_never_folds_a_cell():
    """Curves of one log file are named by their run (the file goes to the title): at 80 columns
    'mpl25m_runs:co…' named both constant and cosine, and '56, 2,944..23,936' split over two lines."""
    res = runner.invoke(app, ["fit", str(ROOT / "tests/data/logs/mpl25m_runs.csv"), "-o", "-"], env={"COLUMNS": "80"})
    out = res.stdout + res.stderr
    assert "fit quality per curve (curves of mpl25m_runs)" in out
    rows = [ln for ln in out.splitlines() if ln.startswith("│ ")]
    names = [ln.split("│")[1].strip() for ln in rows if ln.split("│")[1].strip()]
    assert {"constant", "cosine", "wsdcon"} <= set(names)
    assert any("56, 2,944..23,936" in ln for ln in rows)
