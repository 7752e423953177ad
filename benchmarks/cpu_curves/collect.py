"""Gather the runs `train.py` wrote into one `curves.csv.gz` (byte-identical for the same runs: rows in run-name
order, gzip without a timestamp).

    python benchmarks/cpu_curves/collect.py DIR [OUT]   # DIR holds NAME.csv from train.py;
                                                        # OUT default tests/data/curves/lrplan_cpu_tiny/curves.csv.gz
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "tests/data/curves/lrplan_cpu_tiny/curves.csv.gz"


def main() -> None:
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else OUT
    files = sorted(Path(sys.argv[1]).glob("*.csv"))
    if not files:
        raise SystemExit(f"no runs in {sys.argv[1]}")
    body = []
    for i, f in enumerate(files):
        lines = f.read_text().splitlines()
        assert lines[0] == "run,step,lr,train_loss,val_loss", f
        body += lines[1:]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(("run,step,lr,train_loss,val_loss\n" + "\n".join(body) + "\n").encode())
    tmp.replace(out)
    print(f"wrote {out} ({len(files)} runs, {len(body):,} rows)")


if __name__ == "__main__":
    main()
