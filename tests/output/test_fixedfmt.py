"""The byte-matrix forms of ``.9g`` and ``.6f`` (``predict -o``'s lr and loss columns): the same bytes as
Python's f-strings, ties and all, and the streamed curve CSV byte-identical to the row-by-row one."""

from __future__ import annotations

import io

import numpy as np
import pytest

from lrplan.output.fixedfmt import f6_matrix, g9_matrix
from lrplan.output.numfmt import join_rows
from lrplan.output.table import curve_rows

RNG = np.random.default_rng(19)
EDGES = np.array([0.0, -0.0, 1e-4, 9.99999999e-5, 9.999999995e-5, 1e9, 999999999.5, 123456789.0, 0.5, 1.5, 2.5,
                  1e-5, 3e-4, 3.0e-5, 1.5e-07, 0.1, 1e22, 1e-14, 9.9999999999e-15, 1.0000000005, np.nan, np.inf,
                  -np.inf, -3.2, -1e-7, 5e-324, 1.7976931348623157e308, 1e100, 1e-100, 1.5e-200, 100.0, 120.5,
                  12000.0, 1.0, 10.0, 99999999.0, 100000000.0, 12345678.9, 2.412735, 3.1415926535])


def _texts(m: np.ndarray) -> list[str]:
    return join_rows([m, b"\n"]).decode().split("\n")[:-1]


@pytest.mark.parametrize("x", [
    RNG.uniform(0, 1e-3, 50_000), 10 ** RNG.uniform(-20, 12, 50_000), -(10 ** RNG.uniform(-20, 12, 5_000)),
    np.sort(RNG.uniform(3e-6, 3e-3, 20_000))[::-1], np.full(100, 3e-4), EDGES,
    # ties: a 5 in the tenth significant digit, exactly representable or one ulp off
    np.concatenate([(RNG.integers(10**8, 10**9, 5_000) + 0.5) / 10.0**k for k in range(6, 16)]),
    np.array([k / 2**7 for k in range(2000)]),
], ids=["lr", "decades", "negative", "decay", "constant", "edges", "ties", "binary-ties"])
def test_g9_is_pythons(x):
    assert _texts(g9_matrix(x)) == [format(v, ".9g") for v in x.tolist()]


@pytest.mark.parametrize("x", [
    RNG.uniform(1.5, 12.0, 50_000), RNG.uniform(0, 1, 10_000), -RNG.uniform(0, 10, 1_000),
    (RNG.integers(0, 10**7, 20_000) + 0.5) / 1e6, np.array([k / 2**7 for k in range(2000)]),
    EDGES[np.abs(np.nan_to_num(EDGES, posinf=0, neginf=0)) < 1e15], np.array([np.nan, np.inf, 1e12, -5e10, 9.0e9]),
], ids=["losses", "unit", "negative", "ties", "binary-ties", "edges", "large"])
def test_f6_is_pythons(x):
    assert _texts(f6_matrix(x)) == [format(v, ".6f") for v in x.tolist()]


@pytest.mark.parametrize("prefix", [b"", b"wsd,", b'"a,b",', "λ-名,".encode(), b"nul\x00,"])
def test_curve_rows_are_the_row_by_row_csv(prefix):
    steps = np.arange(2000, 7000, 3)
    lr = np.where(steps < 5000, 3e-4, 3e-4 * (7000 - steps) / 2000)
    loss = 3.0 - np.log1p(steps) / 10
    pre = prefix.decode()
    want = "".join(f"{pre}{s},{v:.9g},{y:.6f}\n" for s, v, y in zip(steps.tolist(), lr.tolist(), loss.tolist()))
    assert curve_rows(steps, lr, loss, prefix) == want.encode()
    lo, hi = loss - 0.0123456789 * (1 + steps % 7), loss + 5e-7 * (steps % 3)  # the band columns
    want = "".join(f"{pre}{s},{v:.9g},{y:.6f},{a:.6f},{b:.6f}\n" for s, v, y, a, b in
                   zip(steps.tolist(), lr.tolist(), loss.tolist(), lo.tolist(), hi.tolist()))
    assert curve_rows(steps, lr, loss, prefix, lo, hi) == want.encode()


def _old_curve_csv(res) -> str:
    """``Prediction.curve_csv`` as it was: one f-string per row (the reference the streamed CSV must equal)."""
    from lrplan.laws.predicting import _csv_cell

    buf = io.StringIO()
    buf.write(("name," if res.several else "") + "step,lr,loss,loss_lo,loss_hi\n")
    for p in res.predicted:
        pre = f"{_csv_cell(p.schedule.name)}," if res.several else ""
        lrq = p.schedule.lr[p.steps]
        lo, hi = p.curve_band(p.steps, p.loss)
        buf.write("".join(f"{pre}{s},{lr:.9g},{v:.6f},{a:.6f},{b:.6f}\n" for s, lr, v, a, b in
                          zip(p.steps.tolist(), lrq.tolist(), p.loss.tolist(), lo.tolist(), hi.tolist())))
    return buf.getvalue()


@pytest.mark.parametrize("every", [None, 7])
def test_written_curve_is_byte_identical_to_the_row_by_row_one(every):
    from pathlib import Path

    from lrplan.laws.predicting import predict_schedules

    sched = Path(__file__).resolve().parents[2] / "schedules"
    specs = [sched / "wsd.yaml", sched / "cosine.yaml", sched / "wsd-s.yaml"]
    for several in (specs[:1], specs):
        res = predict_schedules(several, curve=True, every=every)
        buf = io.BytesIO()
        res.write_curve(buf, block=1000)
        assert buf.getvalue().decode() == _old_curve_csv(res) == res.curve_csv()
