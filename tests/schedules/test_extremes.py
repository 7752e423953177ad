"""Accepted extremes that overflow double precision fail at load time with file:line and field, no numpy
warnings, and nothing on stdout (was: a raw ``np.float64(inf)`` after the CSV header)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import lrplan


def test_overflow_is_a_located_error_before_any_output(tmp_path):
    spec = tmp_path / "ph.yaml"
    spec.write_text("budget: {steps: 100}\nschedule:\n  kind: phases\n  phases:\n"
                    "    - {name: up, length: 100, shape: geometric, from: 1.0e-300, to: 1.0e+300}\n")
    r = subprocess.run([sys.executable, "-m", "lrplan", "render", str(spec)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"error: {spec}:2: schedule: the schedule gives an invalid LR (inf) at step ")
    assert r.stderr.endswith("(phase up): its values overflow double precision there; check the phase's LRs and factors\n")


def test_onecycle_div_factor_that_would_overflow_is_refused(tmp_path):
    spec = tmp_path / "oc.yaml"
    spec.write_text("budget: {steps: 100}\nschedule: {kind: onecycle, peak_lr: 1.0e300, div_factor: 1.0e-300}\n")
    r = subprocess.run([sys.executable, "-m", "lrplan", "render", str(spec)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == "" and "schedule.div_factor: below 1" in r.stderr


def test_huge_gradient_norms_refine_like_any_constant_norms():
    """Refinement is scale-free: norms of 1e308 (whose squares underflow in G^-2) give the schedule of norms 1."""
    def lr(norms):
        return lrplan.load_spec({"budget": {"steps": 50}, "schedule": {"kind": "refined", "peak_lr": 1e-3,
                                                                     "grad_norms": norms}}).render().lr
    np.testing.assert_array_equal(lr([1e308, 1e308]), lr([1.0, 1.0]))
    assert np.all(np.isfinite(lr([1e-300, 1e300, 1.0])))


def test_no_numpy_warnings_reach_the_user(tmp_path):
    spec = tmp_path / "ph.yaml"
    spec.write_text("budget: {steps: 100}\nschedule:\n  kind: phases\n  phases:\n"
                    "    - {length: 100, shape: geometric, from: 1.0e-300, to: 1.0e+300}\n")
    r = subprocess.run([sys.executable, "-W", "default", "-m", "lrplan", "check", str(spec)], capture_output=True,
                       text=True, timeout=60)
    assert "RuntimeWarning" not in r.stderr and len(r.stderr.splitlines()) == 1
