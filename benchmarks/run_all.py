"""Every performance target of lrplan in one command: `python benchmarks/run_all.py` (add --quick for a smoke run).

Runs each benchmark script in its own process (so start-up costs are real) and prints its table: medians of
repeats, and ratios against the plain reference implementations measured in the same run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ("render: start-up, 10M-step CSV, memory", "bench_render.py"),
    ("plot: 1M-step schedule", "bench_plot.py"),
    ("loss laws: fit and predict", "bench_laws.py"),
    ("framework snippets", "bench_snippets.py"),
]


def main() -> None:
    quick = "--quick" in sys.argv
    for title, script in SCRIPTS:
        path = HERE / script
        if not path.exists():
            continue
        args = [sys.executable, str(path)] + (["--quick"] if quick and script == "bench_render.py" else [])
        print(f"\n== {title} ({script})", flush=True)
        t0 = time.perf_counter()
        res = subprocess.run(args, capture_output=True, text=True)
        sys.stdout.write(res.stdout)
        if res.returncode:
            sys.stdout.write(res.stderr)
            print(f"!! {script} failed (exit {res.returncode})")
        print(f"   ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
