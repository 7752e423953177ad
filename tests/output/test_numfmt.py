"""Vectorised number formatting: every float parses back to the same double; short values equal repr()."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrplan.output.numfmt import float_matrix, format_float, int_matrix, join_rows


def _fmt(vals):
    return join_rows([float_matrix(np.asarray(vals, dtype=np.float64)), b"\n"]).decode().split("\n")[:-1]


def test_round_trip_random_and_edge_values():
    rng = np.random.default_rng(0)
    vals = np.concatenate([
        rng.random(50_000) * 1e-3, 10 ** rng.uniform(-300, 300, 50_000), np.round(rng.random(10_000), 6),
        [0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e16, 9.999999999999998e15, 1e-5, 9.9999e-5, 1e-4],
    ])
    out = _fmt(vals)
    assert len(out) == vals.size
    assert [float(s) for s in out] == vals.tolist()


def test_short_values_are_exactly_repr():
    vals = [0.0, 3e-4, 3e-5, 1e-4, 1.5e-7, 1.0, 2.5, 10.0, 123456.0, 1e16, 0.1, 0.30000000000000004, 6e-4, 2.4e-05, 1e22, 0.0003]
    assert _fmt(vals) == [repr(v) for v in vals]
    assert format_float(3e-4) == "0.0003"


@given(st.floats(min_value=0.0, max_value=1e300, allow_nan=False, allow_infinity=False))
def test_any_float_round_trips(v):
    s = format_float(v)
    assert float(s) == v
    if 1e-8 <= v < 1e22 and len(repr(v).replace("e", "").replace("-", "").replace("+", "").replace(".", "").strip("0")) <= 15:
        assert s == repr(v)


@given(st.lists(st.integers(0, 2**62), min_size=1, max_size=50))
def test_ints(values):
    out = join_rows([int_matrix(np.array(values, dtype=np.int64)), b"\n"]).decode().split("\n")[:-1]
    assert out == [str(v) for v in values]


def test_seventeen_digit_path_is_correctly_rounded():
    from lrplan.output.numfmt import _digits17

    rng = np.random.default_rng(5)
    x = np.concatenate([rng.random(20_000) * 1e-3, 10 ** rng.uniform(-27, 16, 20_000)])
    m, e = _digits17(x)
    ref = [f"{v:.16e}" for v in x.tolist()]
    assert m.tolist() == [int(t[0] + t[2:18]) for t in ref]
    assert e.tolist() == [int(t[19:]) for t in ref]


def test_written_table_is_byte_identical_to_the_chunks(tmp_path):
    import lrplan
    from lrplan.output.table import table_chunks, write_table

    plan = lrplan.load_spec({"budget": {"steps": 300_000, "tokens_per_step": 4096},
                             "schedule": {"kind": "cosine", "peak_lr": 3e-4, "warmup": 1000}}).schedule_plan()
    for fmt in ("csv", "json"):
        one = b"".join(table_chunks(plan, fmt, every=3, chunk=1 << 12))
        with open(tmp_path / "two", "wb") as fh:
            fh.write(b"prefix")  # writing continues at the current position
            write_table(plan, fh, fmt, every=3, chunk=1 << 12)
            fh.write(b"suffix")
        assert (tmp_path / "two").read_bytes() == b"prefix" + one + b"suffix"


def test_formatting_errors_surface(tmp_path):
    import lrplan
    from lrplan.output.table import write_table

    plan = lrplan.load_spec({"budget": {"steps": 100_000}, "schedule": {"kind": "constant", "peak_lr": 1.0}}).schedule_plan()
    seg = plan.segments[0]
    object.__setattr__(seg, "fn", lambda s: s * float("nan"))
    with open(tmp_path / "x", "wb") as fh, pytest.raises(lrplan.LrplanError, match="invalid LR"):
        write_table(plan, fh, "csv", chunk=1 << 12)
