"""Peer of `lrplan render -o FILE`: pyarrow's CSV writer streaming the same table (step,tokens,lr,phase).

    python benchmarks/peers/pyarrow_csv.py N OUT.csv

Builds the WSD schedule of the benchmark (see _common.py) with numpy, 1,048,576 rows a record batch, and writes
it with ``pyarrow.csv.CSVWriter`` (header written by hand: pyarrow quotes header names).  Needs ``pip install
pyarrow``.  Reports the work time (schedule + formatting + writing) and the bytes written.
"""

import os
import sys
import time

from _common import TOKENS_PER_STEP, phase_codes, report, wsd_lr

t_imp = time.perf_counter()
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402

BATCH = 1 << 20


def main() -> None:
    n, out = int(sys.argv[1]), sys.argv[2]
    t0 = time.perf_counter()
    phases = pa.array(["warmup", "stable", "decay"])
    schema = pa.schema([("step", pa.int64()), ("tokens", pa.int64()), ("lr", pa.float64()),
                        ("phase", pa.dictionary(pa.int8(), pa.string()))])
    with open(out, "wb") as fh:
        fh.write(b"step,tokens,lr,phase\n")
        opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
        with pacsv.CSVWriter(fh, schema, write_options=opts) as w:
            for a in range(0, n, BATCH):
                b = min(n, a + BATCH)
                step = np.arange(a, b, dtype=np.int64)
                batch = pa.record_batch([pa.array(step), pa.array(step * TOKENS_PER_STEP), pa.array(wsd_lr(a, b, n)),
                                         pa.DictionaryArray.from_arrays(pa.array(phase_codes(a, b, n)), phases)],
                                        schema=schema)
                w.write_batch(batch)
    report(work_s=time.perf_counter() - t0, import_s=t0 - t_imp, bytes=os.path.getsize(out), rows=n,
           pyarrow=pa.__version__)


if __name__ == "__main__":
    main()
