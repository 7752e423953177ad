"""Time `lrplan plot` on a 1,000,000-step WSD schedule (spec built in code): median of 5 runs.

    /work/venv/bin/python benchmarks/bench_plot.py [--width 200 --height 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

SPEC = {
    "name": "wsd-1M",
    "budget": {"steps": 1_000_000, "batch_size": 1024, "seq_len": 4096},
    "schedule": {
        "kind": "wsd",
        "peak_lr": 3.0e-4,
        "min_lr": 3.0e-5,
        "warmup": 2000,
        "decay": "10%",
        "decay_shape": "1-sqrt",
    },
}


def bench(width: int, height: int, runs: int = 5) -> dict[str, float]:
    """Median seconds of: load + plot (fresh spec each run), and plot alone (plan already built)."""
    from lrplan.output.plot import _plotext, plot_specs

    _plotext()  # import cost is paid once per process, not per plot
    from lrplan.spec.loading import load_spec

    plot_specs([load_spec(SPEC)], width, height)  # warm-up: first plotext build
    total, plot_only = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        spec = load_spec(SPEC)
        t1 = time.perf_counter()
        text = plot_specs([spec], width, height)
        t2 = time.perf_counter()
        total.append(t2 - t0)
        plot_only.append(t2 - t1)
    assert "wsd-1M" in text
    return {"load+plot": statistics.median(total), "plot": statistics.median(plot_only)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--width", type=int, default=200)
    ap.add_argument("--height", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    t0 = time.perf_counter()
    from lrplan.output.plot import _plotext

    _plotext()
    imp = time.perf_counter() - t0
    res = bench(a.width, a.height, a.runs)
    print(f"1,000,000-step WSD, {a.width}x{a.height}, median of {a.runs}: "
          f"load+plot {res['load+plot'] * 1e3:.1f} ms, plot {res['plot'] * 1e3:.1f} ms (import plotext once: {imp * 1e3:.0f} ms)")
    print(f"end to end, `lrplan plot` of that spec in a new process: {cli(a.width, a.height, a.runs):.3f} s (target < 0.5 s)")


def cli(width: int, height: int, runs: int) -> float:
    import json
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "wsd-1m.yaml"
        spec.write_text(json.dumps(SPEC))  # JSON is YAML
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lrplan", "plot", str(spec), "-W", str(width), "-H", str(height), "--no-color"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


if __name__ == "__main__":
    main()
