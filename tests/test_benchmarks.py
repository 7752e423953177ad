"""The benchmarks' peak-RSS measure can fail: a child's peak is its own, not the (large) parent's.

``benchmarks/measure.py`` reads ``ru_maxrss`` of each command through a small forker (GNU ``/usr/bin/time`` or
``benchmarks/_launcher.py``).  Here the test process holds ~600 MiB while a child allocates 300 MiB: the child
must report ~300 MiB (the old method, the child's own ``RUSAGE_SELF``, reported the parent's ~600+).  No timing
assertions.  Linux only (``ru_maxrss`` in KiB, fork + exec semantics).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss semantics are Linux's")


def _measure():
    spec = importlib.util.spec_from_file_location("lrplan_bench_measure", ROOT / "benchmarks" / "measure.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


measure = _measure()
METHODS = ["launcher"] + (["time"] if measure.gnu_time_ok() else [])


@pytest.mark.parametrize("method", METHODS)
def test_child_peak_is_its_own_not_the_parents(method):
    ballast = b"\x01" * (600 << 20)  # the parent's peak: every page written
    alloc = measure.run([sys.executable, "-c", measure.ALLOC_CODE.format(mib=300)], method=method, timeout=60)
    idle = measure.run([sys.executable, "-c", "pass"], method=method, timeout=60)
    assert len(ballast) == 600 << 20
    assert alloc.rc == 0 and idle.rc == 0
    assert 250 <= alloc.rss_mib <= 450, alloc
    assert idle.rss_mib < 100, idle


def test_sanity_rows_pass():  # what run_all.py prints first, with the method it uses
    rows = measure.sanity(measure.default_method(), parent_mib=600, child_mib=300)
    checked = [r for r in rows if r["ok"] is not None]
    assert len(checked) == 2 and all(r["ok"] for r in checked), rows


@pytest.mark.parametrize("method", METHODS)
def test_failures_and_timeouts_are_reported(method):
    r = measure.run([sys.executable, "-c", "raise SystemExit(3)"], method=method, timeout=60)
    assert r.rc == 3 and not r.timed_out
    r = measure.run([sys.executable, "-c", "import time; time.sleep(30)"], method=method, timeout=0.5)
    assert r.timed_out and r.rss_mib is None


def test_growth_exponent():
    assert measure.exponent([1e6, 1e7, 1e8], [0.5, 5.0, 50.0]) == pytest.approx(1.0)
    assert measure.exponent([10, 100], [1.0, 100.0]) == pytest.approx(2.0)
    assert measure.exponent([10], [1.0]) is None
