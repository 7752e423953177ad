"""Framework snippet generation, end to end (issue 3: under 0.3 s for any spec).

Run: python benchmarks/bench_snippets.py   (median of 5 runs of `lrplan render SPEC --format FW` per pair)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAIRS = [("wsd.yaml", "megatron"), ("cosine.yaml", "torchtitan"), ("wsd.yaml", "hf"), ("wsd-s.yaml", "megatron"),
         ("power.yaml", "deepspeed"), ("cosine.yaml", "olmo-core")]


def main() -> None:
    rows = []
    for spec, fw in PAIRS:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lrplan", "render", str(ROOT / "schedules" / spec), "--format", fw],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
        rows.append((f"render {spec} --format {fw}", statistics.median(times)))
    base = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append(time.perf_counter() - t0)
    w = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{w}}  {'median':>8}  target")
    for name, t in rows:
        print(f"{name:<{w}}  {t:7.3f}s  < 0.3 s")
    print(f"{'(python -c pass, for scale)':<{w}}  {statistics.median(base):7.3f}s")


if __name__ == "__main__":
    main()
