"""A reader that closes the pipe early (``lrplan list | head -1``) is not an error: every command exits 0 with
nothing on stderr, as ``render`` does (exit 1 means an internal bug)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("args", [
    ["list"], ["list", "wsd"], ["check", "schedules/wsd.yaml"], ["plan", "schedules/wsd-s.yaml", "--no-law"],
    ["laws"], ["--help"], ["render", "--help"], ["render", "schedules/wsd.yaml"],
    ["render", "schedules/wsd.yaml", "--format", "megatron"], ["plot", "schedules/wsd.yaml", "-W", "80", "-H", "20"],
], ids=" ".join)
def test_closed_pipe_exits_0_quietly(args):
    p = subprocess.Popen([sys.executable, "-m", "lrplan", *args], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.close()  # the reader is gone before lrplan writes a byte: every write fails with EPIPE
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 0, err
    assert err == "" or "Traceback" not in err and not err.startswith("Exception")


@pytest.mark.parametrize("args", [["list"], ["--help"], ["check", "schedules/wsd.yaml"], ["render", "schedules/wsd.yaml"],
                                  ["laws"]], ids=" ".join)
def test_stdout_on_a_full_disk_is_one_line(args):
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "lrplan", *args], cwd=ROOT, stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == "error: cannot write the output: No space left on device"


def test_an_ascii_stdout_is_one_line():
    import os

    r = subprocess.run([sys.executable, "-m", "lrplan", "check", "schedules/wsd.yaml"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, PYTHONIOENCODING="ascii"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "PYTHONIOENCODING=utf-8" in r.stderr


@pytest.mark.parametrize("args", [["predict", "schedules/wsd.yaml"],
                                  ["predict", "schedules/wsd.yaml", "schedules/cosine.yaml"],
                                  ["fit", "tests/data/logs/mpl25m_runs.csv", "-o", "{tmp}/law.yaml"]], ids=" ".join)
def test_prose_to_a_pipe_keeps_whole_lines(args, tmp_path):
    """A pipe or a log gets each sentence on one line (rich's 80-column default once split ``-0.0292 ±`` from its
    half-width); the terminal word-wraps (tests/cli/test_terminal.py)."""
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    r = subprocess.run([sys.executable, "-m", "lrplan", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, env={**__import__("os").environ, "COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    lines = (r.stdout + r.stderr).splitlines()
    assert not [ln for ln in lines if ln.rstrip().endswith(("±", ",", "the"))], lines
    prose = [ln for ln in lines if ln.startswith(("final loss relative", "wsd-100B vs", "wsd-100B: predicted",
                                                  "the 2 groups", "law "))]
    assert prose and any(len(ln) > 80 for ln in prose), lines


def test_wrote_line_with_a_long_path_stays_whole(tmp_path):
    """``wrote FILE (N rows)`` to a pipe is one line however long FILE is (CI once split it at 80 columns when
    pytest's temp path grew by one character)."""
    d = tmp_path / ("a-long-directory-name-" * 4)
    d.mkdir()
    for args, out in ((["predict", "schedules/wsd.yaml", "--steps", "2000,9000"], d / "p.csv"),
                      (["plan", "schedules/plan-wsd.yaml", "--no-law", "--export", "megatron"], d / "launches")):
        r = subprocess.run([sys.executable, "-m", "lrplan", *args, "-o", str(out)], cwd=ROOT, capture_output=True,
                           text=True, timeout=120, env={**__import__("os").environ, "COLUMNS": "80"})
        assert r.returncode == 0, r.stderr
        wrote = [ln for ln in r.stderr.splitlines() if ln.startswith("wrote ")]
        assert wrote and all(str(d) in ln for ln in wrote), r.stderr
