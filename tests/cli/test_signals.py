"""Faults injected into a long ``render -o FILE``: SIGINT, SIGTERM and SIGHUP stop it at once with one line and no
traceback, the temporary file is removed and the target is untouched; a full disk and a read-only directory are
one clear line and leave nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _big(tmp_path: Path) -> Path:
    spec = tmp_path / "big.yaml"
    spec.write_text("budget: {steps: 100000000}\nschedule: {kind: cosine, peak_lr: 1.0e-3, warmup: 100}\n")
    return spec


@pytest.mark.parametrize("sig,code,name", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "SIGTERM"),
                                          (signal.SIGHUP, 129, "SIGHUP")])
def test_signal_mid_write_cleans_up(tmp_path, sig, code, name):
    out = tmp_path / "out.csv"
    out.write_text("the previous table\n")
    p = subprocess.Popen([sys.executable, "-m", "lrplan", "render", str(_big(tmp_path)), "-o", str(out), "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline and not any(f.name.startswith(".out.csv.") for f in tmp_path.iterdir()):
        time.sleep(0.05)
    time.sleep(0.3)  # mid-write
    p.send_signal(sig)
    _, err = p.communicate(timeout=20)
    assert p.returncode == code, err
    assert name in err.decode() and "Traceback" not in err.decode() and len(err.decode().splitlines()) <= 2
    assert sorted(f.name for f in tmp_path.iterdir()) == ["big.yaml", "out.csv"]  # no temporary file left
    assert out.read_text() == "the previous table\n"


def test_disk_full_is_one_line_and_leaves_nothing(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("budget: {steps: 100000}\nschedule: {kind: cosine, peak_lr: 1.0e-3}\n")
    r = subprocess.run([sys.executable, "-m", "lrplan", "render", str(spec), "-o", "/dev/full", "-q"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr == "error: cannot write /dev/full: No space left on device\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_directory_is_one_line(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    spec = tmp_path / "s.yaml"
    spec.write_text("budget: {steps: 100}\nschedule: {kind: cosine, peak_lr: 1.0e-3}\n")
    r = subprocess.run([sys.executable, "-m", "lrplan", "render", str(spec), "-o", str(ro / "x.csv"), "-q"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith(f"error: cannot write {ro / 'x.csv'}: ")
    assert list(ro.iterdir()) == []
