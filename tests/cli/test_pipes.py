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
