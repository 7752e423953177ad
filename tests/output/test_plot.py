"""lrplan.output.plot: the curve is drawn where it must be (read back from the plain-text canvas)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrplan.errors import LrplanError
from lrplan.output.plot import (
    MARKERS,
    Series,
    downsample,
    fmt_value,
    nice_ticks,
    plan_series,
    plot_series,
    plot_specs,
    sample_steps,
    spec_series,
)
from lrplan.spec.loading import load_spec

from .canvas import parse

ROOT = Path(__file__).resolve().parents[2]
SCHED = ROOT / "schedules"


def spec(name: str):
    return load_spec(SCHED / f"{name}.yaml")


def frac(col: int, width: int) -> float:
    return col / (width - 1)


# ------------------------------------------------------------------------------------------- text layout


def test_labels_title_legend_and_size():
    text = plot_specs([spec("wsd")], 80, 20)
    lines = text.split("\n")
    assert len(lines) <= 20 and all(len(ln) <= 80 for ln in lines)
    assert "\x1b" not in text
    c = parse(text)
    assert "learning rate" in text and "step" in lines[-2]
    assert "learning rate by step" in lines[0]
    assert any("* wsd-100B" in ln for ln in c.legend)
    assert any("┊ phase start" in ln for ln in c.legend)


def test_tokens_axis_label_and_ticks():
    text = plot_specs([spec("wsd")], 80, 20, x="tokens")
    assert "tokens" in text and "learning rate by tokens" in text
    ticks = text.split("\n")[-3].split()  # the tick-label row: round token counts (a 100B-token run)
    assert ticks[0] == "0" and len(ticks) >= 3 and all(t.endswith("B") for t in ticks[1:]), ticks


def test_file_stem_is_the_label_without_name():
    c = parse(plot_specs([spec("cosine")], 80, 20))
    assert any("* cosine" in ln for ln in c.legend)


def test_colour_has_escapes_and_no_colour_has_none():
    assert "\x1b[" in plot_specs([spec("wsd")], 80, 20, color=True)
    assert "\x1b" not in plot_specs([spec("wsd")], 80, 20, color=False)


# ------------------------------------------------------------------------------------------- curve position


def test_wsd_flat_at_the_top_from_warmup_end_to_decay_start():
    s = spec("wsd")
    plan = s.schedule_plan()
    phases = {p.name: p for p in plan.phases}
    c = parse(plot_specs([s], 80, 20))
    top = c.cols_in_row(0, "*")
    assert top, "nothing on the top row"
    tol = 2.5 / c.width
    assert abs(frac(top[0], c.width) - phases["stable"].start / (plan.total_steps - 1)) < tol
    assert abs(frac(top[-1], c.width) - phases["decay"].start / (plan.total_steps - 1)) < tol
    assert top == list(range(top[0], top[-1] + 1)), "the plateau has gaps"
    # warmup starts at the bottom-left, the decay ends low at the right
    assert c.rows_in_col(0, "*")[-1] == c.height - 1
    last = c.cols_with("*")[-1]
    assert last >= c.width - 2
    assert min(c.rows_in_col(last, "*")) >= c.height * 0.75


def test_cosine_ends_low():
    c = parse(plot_specs([spec("cosine")], 80, 20))
    h = c.height
    for col in range(c.width - 3, c.width):
        rows = c.rows_in_col(col, "*")
        assert rows and min(rows) >= h - 1 - 0.2 * h, (col, rows)  # 0.1 x peak: the bottom rows
    # and is high early on (peak just after warmup)
    assert c.cols_in_row(0, "*")[0] < 0.1 * c.width


def test_phase_starts_are_dotted_lines():
    s = spec("wsd-s")
    plan = s.schedule_plan()
    c = parse(plot_specs([s], 100, 24))
    dotted = c.cols_with("┊")
    for seg in plan.segments[1:]:
        col = round(seg.start / (plan.total_steps - 1) * (c.width - 1))
        assert any(abs(col - d) <= 1 for d in dotted), (seg.phase, col, dotted)


def test_wsd_s_decays_show_as_dips():
    s = spec("wsd-s")
    plan = s.schedule_plan()
    c = parse(plot_specs([s], 120, 24))
    decays = [p for p in plan.phases if p.name.startswith("decay")]
    for p in decays:  # each decay reaches the bottom part of the canvas at its end, then climbs back
        col = round((p.end - 1) / (plan.total_steps - 1) * (c.width - 1))
        rows = [r for k in (col - 1, col, col + 1) if 0 <= k < c.width for r in c.rows_in_col(k, "*")]
        assert max(rows) >= c.height * 0.75, (p.name, rows)


def test_overlay_two_specs_both_markers_and_labels():
    c = parse(plot_specs([spec("wsd"), spec("cosine")], 100, 24))
    legend = " ".join(c.legend)
    assert f"{MARKERS[0]} wsd-100B" in legend and f"{MARKERS[1]} cosine" in legend
    assert c.count(MARKERS[0]) > 20 and c.count(MARKERS[1]) > 20
    # the cosine (50k steps) is the longer run: it reaches the right edge, the WSD (23.8k) stops near 48%
    assert c.cols_with(MARKERS[1])[-1] >= c.width - 2
    assert abs(frac(c.cols_with(MARKERS[0])[-1], c.width) - 23841 / 49999) < 0.03


def test_same_spec_twice_gets_distinct_labels():
    c = parse(plot_specs([spec("wsd"), spec("wsd")], 80, 20))
    legend = " ".join(c.legend)
    assert "wsd-100B" in legend and "wsd-100B #2" in legend


def test_log_y_spaces_decades_evenly():
    # multistep: 0.1, 0.01, 0.001, 1e-4 -> four levels a third of the canvas apart on a log axis
    s = spec("multistep")
    plan = s.schedule_plan()
    c = parse(plot_specs([s], 80, 22, log_y=True))
    levels = []
    for p in plan.phases:
        mid = (p.start + p.end) / 2 / (plan.total_steps - 1)
        rows = c.rows_in_col(round(mid * (c.width - 1)), "*")
        assert len(rows) == 1
        levels.append(rows[0])
    assert levels[0] == 0 and levels[-1] == c.height - 1
    gaps = np.diff(levels)
    assert gaps.max() - gaps.min() <= 1
    assert "1e-3" in c.lines[0] or any("1e-3" in ln for ln in c.lines)  # decade tick labels
    assert "(log scale)" in c.lines[0]


def test_second_axis_loss_series():
    s = spec("wsd")
    lr = plan_series(s.schedule_plan(), "wsd", 100)
    x = np.linspace(0, lr.x[-1], 3000)
    loss = Series("predicted", x, 2.0 + 3.0 * (1.0 + x / 500.0) ** -0.5)
    text = plot_series([lr], 100, 24, right=[loss])
    c = parse(text)
    legend = " ".join(c.legend)
    assert f"{MARKERS[0]} wsd" in legend and f"{MARKERS[1]} predicted (loss, right axis)" in legend
    assert c.lines[-len(c.legend) - 1].rstrip().endswith("loss")  # right-axis label
    # its own scale: the loss starts on the top row and ends on the bottom row
    assert c.rows_in_col(0, MARKERS[1]) and min(c.rows_in_col(0, MARKERS[1])) == 0
    assert c.height - 1 in c.rows_in_col(c.width - 1, MARKERS[1])
    # the LR plateau is still at the top
    assert len(c.cols_in_row(0, MARKERS[0])) > 0.5 * c.width


def test_right_axis_only_series_is_allowed():
    x = np.linspace(0, 100, 50)
    text = plot_series([], 60, 15, right=[Series("loss", x, 5 - x / 50)])
    assert "loss" in text


# ------------------------------------------------------------------------------------------- sampling


def test_sample_steps_include_every_phase_first_and_last():
    plan = spec("phases").schedule_plan()
    steps = sample_steps(plan, 50)
    for seg in plan.segments:
        assert seg.start in steps and seg.end - 1 in steps
    assert steps[0] == 0 and steps[-1] == plan.total_steps - 1
    assert np.all(np.diff(steps) > 0)


def _one_step_drop(total: int):
    mid = total // 2
    return load_spec(
        {
            "name": "drop",
            "budget": {"steps": total},
            "schedule": {
                "kind": "phases",
                "phases": [
                    {"name": "a", "length": mid, "shape": "constant", "lr": 1e-3},
                    {"name": "drop", "length": 1, "shape": "constant", "lr": 1e-5},
                    {"name": "b", "shape": "constant", "lr": 1e-3},
                ],
            },
        }
    )


def test_a_one_step_drop_in_a_million_steps_shows_and_is_fast():
    s = _one_step_drop(1_000_000)
    plot_specs([s], 80, 20)  # warm-up (plotext's first build)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        text = plot_specs([s], 200, 50)
        times.append(time.perf_counter() - t)
    assert sorted(times)[1] < 0.5
    c = parse(text)
    bottom = c.cols_in_row(c.height - 1, "*")
    assert bottom and all(abs(frac(col, c.width) - 0.5) < 0.02 for col in bottom)
    assert len(c.cols_in_row(0, "*")) >= c.width - 3


def test_plan_series_never_renders_every_step():
    s = _one_step_drop(1_000_000)
    ser = plan_series(s.schedule_plan(), "drop", 100)
    assert ser.x.size < 1000
    assert 500_000 in ser.x and ser.y[np.searchsorted(ser.x, 500_000)] == pytest.approx(1e-5)


@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=3000),
    st.integers(1, 60),
)
def test_downsample_keeps_extremes_and_ends(ys, buckets):
    y = np.array(ys)
    x = np.arange(y.size, dtype=np.float64)
    xd, yd = downsample(x, y, buckets)
    assert yd.max() == y.max() and yd.min() == y.min()
    assert xd[0] == 0 and xd[-1] == y.size - 1
    assert np.all(np.diff(xd) > 0)
    assert xd.size <= max(4 * buckets, y.size)
    # per bucket extremes survive
    if y.size > 4 * buckets:
        b = np.minimum((x / x[-1] * buckets).astype(int), buckets - 1)
        bd = np.minimum((xd / x[-1] * buckets).astype(int), buckets - 1)
        for k in np.unique(b):
            assert yd[bd == k].max() == y[b == k].max() and yd[bd == k].min() == y[b == k].min()


def test_downsample_keeps_phase_edges_and_drops_nan():
    x = np.arange(10_000, dtype=np.float64)
    y = np.sin(x / 100)
    y[5] = np.nan
    xd, yd = downsample(x, y, 10, keep_x=np.array([1234.0, 7777.0]))
    assert {1233.0, 1234.0, 7776.0, 7777.0} <= set(xd.tolist())
    assert np.isfinite(yd).all()


# ------------------------------------------------------------------------------------------- errors, helpers


@pytest.mark.parametrize("w,h", [(39, 20), (80, 9), (20, 5)])
def test_too_small_is_a_clear_error(w, h):
    with pytest.raises(LrplanError, match=r"at least 40x10 .*got %dx%d" % (w, h)):
        plot_specs([spec("wsd")], w, h)


def test_minimum_size_draws():
    c = parse(plot_specs([spec("wsd"), spec("cosine")], 40, 10))
    assert c.height >= 3 and c.count("*") > 0


def test_tokens_without_tokens_per_step_is_an_error():
    with pytest.raises(LrplanError, match="--x tokens needs tokens per step"):
        spec_series([spec("multistep")], 80, "tokens")


def test_log_y_of_all_zero_is_an_error():
    x = np.arange(10.0)
    with pytest.raises(LrplanError, match="every LR is 0"):
        plot_series([Series("z", x, np.zeros(10))], 60, 15, log_y=True)


def test_nice_ticks_and_labels():
    assert nice_ticks(0, 23841, 7).tolist() == [0, 5000, 10000, 15000, 20000]
    assert nice_ticks(0, 6e-4, 4).tolist() == pytest.approx([0, 2e-4, 4e-4, 6e-4])
    assert [fmt_value(v) for v in (0, 3e-4, 1.5e-5, 0.01, 3.25)] == ["0", "3e-4", "1.5e-5", "0.01", "3.25"]
