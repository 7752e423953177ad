"""Render benchmarks (issue 2): CLI start-up, 10M-step CSV, flat memory at 100M steps.

Run: python benchmarks/bench_render.py [--quick]
Prints a table of medians; the naive per-row formatter runs in the same process as the peer for the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _lrplan_cmd() -> list[str]:
    return [sys.executable, "-m", "lrplan"]


def time_cmd(args: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def spec_file(tmp: Path, kind: str, steps: int) -> Path:
    p = tmp / f"{kind}-{steps}.yaml"
    sched = {
        "wsd": "kind: wsd\n  peak_lr: 3.0e-4\n  min_lr: 3.0e-5\n  warmup: 2000\n  decay: 10%\n  decay_shape: 1-sqrt",
        "cosine": "kind: cosine\n  peak_lr: 3.0e-4\n  min_lr: 3.0e-5\n  warmup: 2000",
    }[kind]
    p.write_text(f"budget:\n  steps: {steps}\n  tokens_per_step: 4M\nschedule:\n  {sched}\n")
    return p


def naive_csv(spec_path: Path, out: Path, limit: int) -> float:
    """The peer: per-row Python formatting (f-string per row) of the same rendered arrays."""
    import lrplan

    plan = lrplan.load_spec(spec_path).schedule_plan()
    t0 = time.perf_counter()
    with open(out, "w") as fh:
        fh.write("step,tokens,lr,phase\n")
        for ch in plan.chunks(stop=limit):
            names = [plan.segments[i].phase for i in ch.phase.tolist()]
            for s, t, lr, ph in zip(ch.step.tolist(), ch.tokens.tolist(), ch.lr.tolist(), names):
                fh.write(f"{s},{t},{lr!r},{ph}\n")
    return time.perf_counter() - t0


def peak_rss_mb(args: list[str]) -> float:
    code = (
        "import resource, runpy, sys; sys.argv = ['lrplan'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('lrplan', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)"
    )
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return float(r.stderr.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1M instead of 10M/100M steps")
    ap.add_argument("--huge", action="store_true", help="also render 1,000,000,000 steps to /dev/null (minutes)")
    a = ap.parse_args()
    big = 1_000_000 if a.quick else 10_000_000
    huge = 10_000_000 if a.quick else 100_000_000
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows.append(("lrplan --help", f"{time_cmd(_lrplan_cmd() + ['--help']):.3f} s", "< 0.25 s"))
        rows.append(("lrplan list", f"{time_cmd(_lrplan_cmd() + ['list']):.3f} s", "< 0.25 s"))
        for kind in ("wsd", "cosine"):
            sp = spec_file(tmp, kind, big)
            t = time_cmd(_lrplan_cmd() + ["render", str(sp), "-q", "-o", str(tmp / "out.csv")], repeat=3)
            size = (tmp / "out.csv").stat().st_size / 1e6
            n_naive = min(big, 1_000_000)
            tn = naive_csv(sp, tmp / "naive.csv", n_naive) * big / n_naive
            rows.append((f"render {big:,} steps {kind} -> CSV ({size:.0f} MB)", f"{t:.2f} s", f"< 3 s; naive per-row {tn:.1f} s (x{tn / t:.1f})"))
        for n in (big // 10, huge) + ((1_000_000_000,) if a.huge else ()):
            sp = spec_file(tmp, "wsd", n)
            t0 = time.perf_counter()
            rss = peak_rss_mb(["render", str(sp), "-q", "-o", os.devnull])
            rows.append((f"peak RSS, {n:,} steps -> /dev/null", f"{rss:.0f} MB", f"flat in N ({time.perf_counter() - t0:.0f} s)"))
    w = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{w}}  {'median':>9}  target / peer")
    for name, val, note in rows:
        print(f"{name:<{w}}  {val:>9}  {note}")


if __name__ == "__main__":
    main()
