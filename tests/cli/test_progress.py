"""Progress on long work (issue 19 point 4): a bar on stderr only on a terminal, only past the delay, never
under -q; the bar never changes what is written; an unwritable -o is refused before any work starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ptyscreen import screen

from lrplan.cli.progress import Bar

ROOT = Path(__file__).resolve().parents[2]
STEPS = 300_000  # five chunks of the table writer


@pytest.fixture
def long_spec(tmp_path: Path) -> Path:
    p = tmp_path / "long.yaml"
    p.write_text(f"budget:\n  steps: {STEPS}\nschedule:\n  kind: cosine\n  peak_lr: 3.0e-4\n  warmup: 2000\n")
    return p


def _run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lrplan", *args], capture_output=True, cwd=ROOT, **kw)


def test_render_to_a_file_shows_rows_on_a_terminal(long_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("LRPLAN_PROGRESS_DELAY", "0")
    out = tmp_path / "a.csv"
    text = "\n".join(screen(["render", str(long_spec), "-o", str(out)], 100, 24))
    assert "render: steps" in text
    assert f"{STEPS:,}/{STEPS:,}" in text  # the last update reaches the total, with thousands separators
    ref = _run("render", str(long_spec), "-q")
    assert ref.returncode == 0
    assert out.read_bytes() == ref.stdout  # the bar changes nothing in the table


def test_quiet_and_short_work_and_pipes_show_no_bar(long_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("LRPLAN_PROGRESS_DELAY", "0")
    quiet = "\n".join(screen(["render", str(long_spec), "-o", str(tmp_path / "q.csv"), "-q"], 100, 24))
    assert "render:" not in quiet
    piped = _run("render", str(long_spec), "-o", str(tmp_path / "p.csv"),
                 env={**os.environ, "LRPLAN_PROGRESS_DELAY": "0"})
    assert piped.returncode == 0 and b"render:" not in piped.stderr and b"\x1b[" not in piped.stderr
    monkeypatch.setenv("LRPLAN_PROGRESS_DELAY", "30")  # work shorter than the delay: no bar at all
    short = "\n".join(screen(["render", str(long_spec), "-o", str(tmp_path / "s.csv")], 100, 24))
    assert "render: steps" not in short and any(ln.startswith("wrote ") or "phase" in ln for ln in short.splitlines())


def test_fit_shows_its_iterations(tmp_path, monkeypatch):
    monkeypatch.setenv("LRPLAN_PROGRESS_DELAY", "0")
    law = tmp_path / "law.yaml"
    text = "\n".join(screen(["fit", "tests/data/logs/mpl25m_runs.csv", "--runs", "constant,cosine", "-o", str(law)],
                            100, 24))
    assert "fit: fitting" in text and "fit: reading logs" in text
    ref = _run("fit", "tests/data/logs/mpl25m_runs.csv", "--runs", "constant,cosine", "-q")
    assert law.read_bytes() == ref.stdout  # the law file is the same with or without the bar


def test_bar_is_a_no_op_off_a_terminal(monkeypatch):
    b = Bar("x", quiet=False, delay=0)
    assert not b.enabled  # pytest captures stderr: not a terminal
    b("rows", 1, 2)
    assert b._progress is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert Bar("x", quiet=False).enabled and not Bar("x", quiet=True).enabled


@pytest.mark.parametrize("cmd", [
    ["render", "{spec}"],
    ["render", "{spec}", "--format", "megatron"],
    ["fit", "tests/data/logs/mpl25m_runs.csv", "--runs", "constant,cosine"],
    ["predict", "{spec}"],
])
def test_an_unwritable_output_is_refused_before_any_work(cmd, long_spec, tmp_path):
    args = [a.replace("{spec}", str(long_spec)) for a in cmd]
    missing = tmp_path / "no" / "such" / "dir" / "out.txt"
    r = _run(*args, "-o", str(missing))
    assert r.returncode == 2 and r.stdout == b""
    err = r.stderr.decode().strip().splitlines()
    assert err == [f"error: cannot write {missing}: directory {missing.parent} does not exist"], err
    r = _run(*args, "-o", str(tmp_path))  # a directory
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode().strip().splitlines() == [
        f"error: cannot write {tmp_path}: it is a directory; give a file name inside it"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any directory")
def test_a_read_only_directory_is_refused_before_any_work(long_spec, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        r = _run("render", str(long_spec), "-o", str(ro / "a.csv"))
        assert r.returncode == 2 and b"is not writable" in r.stderr and r.stdout == b""
    finally:
        ro.chmod(0o700)


def test_predict_to_a_file_shows_rows(long_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("LRPLAN_PROGRESS_DELAY", "0")
    out = tmp_path / "p.csv"
    text = "\n".join(screen(["predict", str(long_spec), "-o", str(out)], 100, 24))
    rows = STEPS - 2000  # predictions start after the warmup
    assert "predict: rows" in text and f"{rows:,}/{rows:,}" in text
    ref = tmp_path / "q.csv"
    quiet = "\n".join(screen(["predict", str(long_spec), "-o", str(ref), "-q"], 100, 24))
    assert "predict:" not in quiet and "wrote" not in quiet and "predicted final loss" in quiet
    assert out.read_bytes() == ref.read_bytes()  # the bar changes nothing in the curve


def test_plan_optimize_shows_budgets(tmp_path, monkeypatch):
    monkeypatch.setenv("LRPLAN_PROGRESS_DELAY", "0")
    spec = ROOT / "schedules" / "wsd-s.yaml"
    out, ref = tmp_path / "a.json", tmp_path / "b.json"
    text = "\n".join(screen(["plan", str(spec), "--optimize", "-f", "json", "-o", str(out)], 100, 24))
    assert "plan: predicting WSD-S, WSD, cosine" in text and "plan: optimising budgets" in text
    quiet = "\n".join(screen(["plan", str(spec), "--optimize", "-f", "json", "-o", str(ref), "-q"], 100, 24))
    assert "plan:" not in quiet
    assert out.read_bytes() == ref.read_bytes()


def test_plan_refuses_an_unwritable_output_before_planning(tmp_path):
    spec = str(ROOT / "schedules" / "wsd-s.yaml")
    missing = tmp_path / "no" / "out.json"
    r = _run("plan", spec, "--optimize", "-f", "json", "-o", str(missing))
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode().strip().splitlines() == [
        f"error: cannot write {missing}: directory {missing.parent} does not exist"]
    afile = tmp_path / "a-file"
    afile.write_text("x")
    r = _run("plan", spec, "--export", "megatron", "-o", str(afile))
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode().strip().splitlines() == [f"error: cannot export to {afile}: it exists and is not a directory"]
    assert afile.read_text() == "x"
