"""Unbounded input is refused before it is read: /dev/zero, a FIFO with no writer, a directory, a file over the
size limit of its kind; ``-`` reads standard input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import lrplan
from lrplan.spec import files

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_non_regular_spec_is_refused_at_once(tmp_path, kind):
    path = {"device": "/dev/zero", "directory": str(tmp_path)}.get(kind)
    if kind == "fifo":
        path = str(tmp_path / "spec.fifo")
        os.mkfifo(path)
    r = subprocess.run([sys.executable, "-m", "lrplan", "check", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    want = {"device": "it is a device, not a file", "fifo": "it is a FIFO, not a file", "directory": "it is a directory"}
    assert r.stderr == f"error: {path}: cannot read spec: {want[kind]}" + (
        "; give a file (or - for standard input)\n" if kind != "directory" else "\n")


def test_spec_over_the_limit_is_refused_without_reading_it(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 2048)
    monkeypatch.setitem(files.LIMITS, "spec", 1024)
    with pytest.raises(lrplan.SpecError, match=r"big.yaml: the spec is 2 KiB, larger than the 1 KiB lrplan reads"):
        lrplan.load_spec(big)


def test_gradient_norm_file_from_dev_zero_is_a_field_error(tmp_path):
    spec = tmp_path / "r.yaml"
    spec.write_text("budget: {steps: 100}\nschedule: {kind: refined, peak_lr: 1.0e-3, grad_norms: /dev/zero}\n")
    with pytest.raises(lrplan.SpecError, match=r"r.yaml:2: schedule.grad_norms: /dev/zero: cannot read "
                                               r"gradient-norm log: it is a device"):
        lrplan.load_spec(spec)


def test_dash_reads_the_spec_from_stdin():
    text = (ROOT / "schedules" / "wsd.yaml").read_text()
    r = subprocess.run([sys.executable, "-m", "lrplan", "check", "-"], input=text, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok")
