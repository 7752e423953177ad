"""Terminal plots of learning-rate schedules (plotext), as plain or coloured text.

The drawing function works on :class:`Series` (a label, x and y arrays, and the x positions of phase
starts), so anything that yields arrays can be plotted: a spec (:func:`plan_series`), what a framework
really runs, or a predicted loss on the right-hand axis.

>>> from lrplan.spec.loading import load_spec
>>> spec = load_spec({"budget": {"steps": 1000}, "schedule": {"kind": "cosine", "peak_lr": 1.0, "warmup": 100}})
>>> text = plot_series([plan_series(spec.schedule_plan(), "demo")], 60, 15)
>>> "learning rate" in text and "* demo" in text
True
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Literal, Sequence

import numpy as np
from rich.cells import cell_len

from lrplan.errors import LrplanError
from lrplan.spec.labels import spec_label, unique_labels  # noqa: F401  (legends; re-exported)
from lrplan.spec.units import si

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.schedules.render import SchedulePlan
    from lrplan.spec.models import Spec
    from lrplan.laws.predicting import Prediction
    from lrplan.planning.planner import PlanResult

MIN_WIDTH = 40
MIN_HEIGHT = 10
MAX_WIDTH = 1000  # a plot larger than any terminal is a mistake (and costs memory quadratically)
MAX_HEIGHT = 500
SAMPLES_PER_COLUMN = 4
MARKERS: tuple[str, ...] = ("*", "+", "o", "x", "#", "@", "%", "&", "=", "~", "$", "^", "!", "?", "s", "v", "z", "w", "m", "n")
"""Marker characters, one per series, in no-colour mode (overlaid curves stay distinguishable)."""
COLORS: tuple[int, ...] = (12, 10, 9, 14, 13, 11, 3, 4, 5, 6, 208, 129, 34, 196, 39, 226, 201, 46, 172, 245)
"""xterm-256 colour indices, one per series, in colour mode."""
MAX_SERIES = len(MARKERS)
EDGE_CHAR = "┊"
XAxis = Literal["step", "tokens"]

_EMPTY = np.empty(0, dtype=np.float64)
_LOCK = threading.Lock()  # plotext draws on one global figure


@dataclass(frozen=True)
class Series:
    """One curve: ``label`` for the legend, ``x``/``y`` arrays (x ascending), ``edges`` = x of phase starts."""

    label: str
    x: np.ndarray
    y: np.ndarray
    edges: np.ndarray = field(default_factory=lambda: _EMPTY)


# ------------------------------------------------------------------------------------------------ sampling


def check_size(width: int, height: int) -> None:
    """Refuse sizes too small to draw anything readable, or too large to be a terminal."""
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise LrplanError(
            f"the plot needs at least {MIN_WIDTH}x{MIN_HEIGHT} characters (got {width}x{height}); "
            "enlarge the terminal (`lrplan plot` also takes --width/--height)"
        )
    if width > MAX_WIDTH or height > MAX_HEIGHT:
        raise LrplanError(f"the plot can be at most {MAX_WIDTH}x{MAX_HEIGHT} characters (got {width}x{height}); "
                          "give a smaller --width/--height (for data, `lrplan render` writes every step)")


def sample_steps(plan: "SchedulePlan", n: int) -> np.ndarray:
    """About ``n`` evenly spread steps plus every phase's first and last step (sorted, unique)."""
    total = plan.total_steps
    grid = np.linspace(0, total - 1, max(2, n)).round().astype(np.int64)
    firsts = np.fromiter((s.start for s in plan.segments), dtype=np.int64, count=len(plan.segments))
    lasts = np.fromiter((s.end - 1 for s in plan.segments), dtype=np.int64, count=len(plan.segments))
    steps = np.unique(np.concatenate([grid, firsts, lasts]))
    return steps[(steps >= 0) & (steps < total)]


def plan_series(plan: "SchedulePlan", label: str, width: int = 200, x: XAxis = "step") -> Series:
    """Sample a resolved schedule for a plot ``width`` columns wide (never renders every step)."""
    steps = sample_steps(plan, SAMPLES_PER_COLUMN * width)
    lr = plan.lr_at(steps)
    starts = np.array([s.start for s in plan.segments[1:]], dtype=np.int64)
    if x == "tokens":
        if not plan.has_tokens:
            src = getattr(plan.spec, "source", None) or label
            raise LrplanError(
                f"{src}: --x tokens needs tokens per step; add budget.batch_size and seq_len (or tokens_per_step)"
            )
        return Series(label, plan.tokens_at(steps).astype(np.float64), lr, plan.tokens_at(starts).astype(np.float64))
    return Series(label, steps.astype(np.float64), lr, starts.astype(np.float64))


def downsample(x: np.ndarray, y: np.ndarray, buckets: int, keep_x: np.ndarray = _EMPTY) -> tuple[np.ndarray, np.ndarray]:
    """Keep the first, last, min and max point of each of ``buckets`` equal x-intervals, plus the points at
    ``keep_x`` and those just before them (phase edges), so spikes and drops survive. Vectorised, O(n)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.all():
        x, y = x[ok], y[ok]
    n = x.size
    if n <= 4 * buckets:
        return x, y
    lo, hi = x[0], x[-1]
    b = np.minimum(((x - lo) / (hi - lo) * buckets).astype(np.int64), buckets - 1) if hi > lo else np.zeros(n, np.int64)
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    counts = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(starts.size), counts)
    ymin = np.minimum.reduceat(y, starts)
    ymax = np.maximum.reduceat(y, starts)
    imin = np.flatnonzero(y == ymin[group])
    imax = np.flatnonzero(y == ymax[group])
    # first hit per group (indices are ascending, so the first of each run of equal groups)
    imin = imin[np.r_[True, group[imin][1:] != group[imin][:-1]]]
    imax = imax[np.r_[True, group[imax][1:] != group[imax][:-1]]]
    parts = [starts, starts + counts - 1, imin, imax]
    if keep_x.size:
        j = np.searchsorted(x, keep_x)
        parts += [j, j - 1]
    idx = np.unique(np.concatenate(parts))
    idx = idx[(idx >= 0) & (idx < n)]
    return x[idx], y[idx]


# ------------------------------------------------------------------------------------------------ ticks


def nice_ticks(lo: float, hi: float, max_ticks: int) -> np.ndarray:
    """Round tick positions (1, 2, 2.5, 5 x 10^k apart) inside ``[lo, hi]``, at most ``max_ticks`` (just the
    ends at the edges of floating point, e.g. LRs near 1e-323 or 1e308)."""
    if not hi > lo:
        return np.array([lo])
    try:
        with np.errstate(all="ignore"):
            return _nice_ticks(lo, hi, max_ticks)
    except (ValueError, OverflowError, StopIteration):  # (hi - lo) underflows to 0 or overflows
        return np.array([lo, hi])


def _nice_ticks(lo: float, hi: float, max_ticks: int) -> np.ndarray:
    ticks = np.array([lo])
    for n in range(max(2, max_ticks), max(2, max_ticks) + 8):  # more room until at least two ticks fit
        raw = (hi - lo) / (n - 1)
        mag = 10.0 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
        first = math.ceil(lo / step - 1e-9) * step
        ticks = first + step * np.arange(int((hi - first) / step + 1e-9) + 1)
        ticks = ticks[(ticks >= lo - 1e-9 * step) & (ticks <= hi + 1e-9 * step)]
        if ticks.size >= 2:
            break
    return ticks


def fmt_value(v: float) -> str:
    """Short tick label: ``3e-4``, ``0.01``, ``1.5e-5``, ``3.2``."""
    if v == 0:
        return "0"
    plain = f"{v:.3g}"
    m, e = f"{v:.2e}".split("e")
    sci = f"{m.rstrip('0').rstrip('.')}e{int(e)}"
    return sci if len(sci) < len(plain) else plain


def fmt_count(v: float) -> str:
    """Tick label for steps or tokens: ``0``, ``500``, ``12.5K``, ``1M``, ``100B``."""
    return si(round(v)) if abs(v) >= 1000 else f"{v:g}"


def _log_ticks(lo: float, hi: float, max_ticks: int) -> tuple[list[float], list[str]]:
    """Ticks for log10-transformed data in ``[lo, hi]`` (positions are exponents)."""
    try:
        return _log_ticks_in_range(lo, hi, max_ticks)
    except (ValueError, OverflowError):  # 10**d beyond floating point (LRs near 1e308)
        return [lo, hi], [f"1e{lo:.3g}", f"1e{hi:.3g}"]


def _log_ticks_in_range(lo: float, hi: float, max_ticks: int) -> tuple[list[float], list[str]]:
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if len(decades) >= 3:
        stride = max(1, math.ceil(len(decades) / max_ticks))
        decades = decades[::stride]
        return [float(d) for d in decades], [fmt_value(10.0**d) for d in decades]
    vals: list[float] = []
    for mults in ((1, 2, 5), (1, 3), (1,)):
        vals = [m * 10.0**d for d in range(math.floor(lo) - 1, math.ceil(hi) + 1) for m in mults]
        vals = [v for v in vals if lo - 1e-9 <= math.log10(v) <= hi + 1e-9]
        if len(vals) <= max_ticks:
            break
    if len(vals) < 2:
        vals = [10.0**lo, 10.0**hi]
    return [math.log10(v) for v in vals], [fmt_value(v) for v in vals]


# ------------------------------------------------------------------------------------------------ drawing


def _ansi(text: str, color: int) -> str:
    return f"\x1b[38;5;{color}m{text}\x1b[0m"


def _legend_lines(entries: list[tuple[str, str]], width: int, color: bool, edge: bool,
                  edge_label: str = "phase start") -> list[str]:
    """The legend under the plot: ``<marker> label`` per series (a coloured dot in colour mode), wrapped."""
    items = list(entries) + ([(EDGE_CHAR, edge_label)] if edge else [])
    lines: list[str] = []
    cur, cur_len = "", 0
    for i, (marker, label) in enumerate(items):
        if cell_len(label) > width - 6:  # terminal cells, not characters (CJK names take two each)
            while cell_len(label) > width - 7:
                label = label[:-1]
            label += "…"
        is_edge = edge and i == len(items) - 1
        if color:
            shown = f"{_ansi(EDGE_CHAR if is_edge else '●', 8 if is_edge else COLORS[i % len(COLORS)])} {label}"
        else:
            shown = f"{marker} {label}"
        n = 2 + cell_len(label)
        sep = "   " if cur else "  "
        if cur and cur_len + len(sep) + n > width:
            lines.append(cur)
            cur, cur_len, sep = "", 0, "  "
        cur += sep + shown
        cur_len += len(sep) + n
    if cur:
        lines.append(cur)
    return lines


def plot_series(
    series: Sequence[Series],
    width: int,
    height: int,
    log_y: bool = False,
    color: bool = False,
    x_label: str = "step",
    *,
    y_label: str = "learning rate",
    title: str | None = None,
    right: Sequence[Series] = (),
    right_label: str = "loss",
    right_log: bool = False,
    edge_label: str = "phase start",
    left_zero: bool = True,
) -> str:
    """Draw the ``series`` (LR, left axis; from 0 unless not ``left_zero``) and optional ``right`` series (e.g. predicted loss, right axis)
    into text at most ``width`` columns wide and ``height`` rows (the legend included).

    Without ``color`` the text has no escape codes and every series has its own marker character
    (``MARKERS``). With ``log_y`` non-positive values are left out. ``Series.edges`` (phase starts, or what
    ``edge_label`` names) are dotted vertical lines. Raises :class:`LrplanError` below ``MIN_WIDTH`` x ``MIN_HEIGHT``."""
    check_size(width, height)
    left = list(series)
    allser = left + list(right)
    if not allser:
        raise LrplanError("nothing to plot")
    markers = [MARKERS[i % MAX_SERIES] for i in range(len(allser))]  # distinct up to MAX_SERIES curves
    labels = [s.label + (f" ({right_label}, right axis)" if i >= len(left) else "") for i, s in enumerate(allser)]

    # x range and downsampling (2 sub-columns per character cell is the finest plotext marker)
    xs = [s.x for s in allser if s.x.size]
    if not xs:
        raise LrplanError("nothing to plot: the series are empty")
    x0 = float(min(a[0] for a in xs))
    x1 = float(max(a[-1] for a in xs))
    buckets = 2 * width
    data: list[tuple[np.ndarray, np.ndarray]] = []
    for i, s in enumerate(allser):
        xx, yy = downsample(s.x, s.y, buckets, s.edges)
        logged = log_y if i < len(left) else right_log
        if logged:
            pos = yy > 0
            xx, yy = xx[pos], np.log10(yy[pos])
        data.append((xx, yy))
    if log_y and not any(d[0].size for d in data[: len(left)]) and left:
        raise LrplanError("nothing to plot on a log scale: every LR is 0")

    # edges: unique per character column, dropped when too dense to read
    canvas_cols = max(10, width - 12)
    edges = np.unique(np.concatenate([s.edges for s in left] or [_EMPTY]))
    edges = edges[(edges > x0) & (edges <= x1)]
    if edges.size and x1 > x0:
        cols = np.round((edges - x0) / (x1 - x0) * (canvas_cols - 1)).astype(np.int64)
        _, first = np.unique(cols, return_index=True)
        edges = edges[first]
        if edges.size > canvas_cols // 4:
            edges = _EMPTY

    legend = _legend_lines(list(zip(markers, labels)), width, color, bool(edges.size), edge_label)
    if height - len(legend) < MIN_HEIGHT - 2 and edges.size:  # short of room: the phase-start lines are left out first
        edges = _EMPTY
        legend = _legend_lines(list(zip(markers, labels)), width, color, False, edge_label)
    plot_h = height - len(legend)
    if plot_h < MIN_HEIGHT - 2:  # never drop a curve's legend line: an unlabelled curve is worse than no plot
        raise LrplanError(f"the legend of {len(allser)} curves needs {len(legend)} lines: the plot needs at least "
                          f"{MIN_HEIGHT - 2 + len(legend)} rows at this width (got {height}); give a larger "
                          "--height/--width or fewer specs")
    if title is None:
        title = f"learning rate by {x_label}" + (" (log scale)" if log_y else "")
    text = _draw(data, len(left), markers, edges, width, plot_h, log_y, right_log, color, x_label, y_label, right_label,
                 title, x0, x1, left_zero=left_zero)
    return "\n".join([text.rstrip("\n"), *legend])


def _y_limits(ys: list[np.ndarray], log: bool, zero_floor: bool) -> tuple[float, float]:
    vals = [a for a in ys if a.size]
    if not vals:
        return (0.0, 1.0)
    lo = float(min(a.min() for a in vals))
    hi = float(max(a.max() for a in vals))
    if zero_floor and not log:
        lo = min(0.0, lo)
    if hi <= lo:
        pad = abs(hi) * 0.1 or (0.5 if log else 1.0)
        lo, hi = (lo - pad, hi + pad) if (log or not zero_floor or lo != 0) else (0.0, hi + pad)
    return lo, hi


def _plotext():
    """Import plotext without building its interactive documentation: ``plotext/__init__`` imports
    ``plotext._doc.doc``, which assembles docstrings for ``plotext.doc`` and is half of plotext's 0.3 s import.
    lrplan never uses ``plotext.doc``, so a stand-in module takes its place (only if plotext is not loaded yet)."""
    import sys
    import types

    if "plotext" not in sys.modules and "plotext._doc.doc" not in sys.modules:
        stub = types.ModuleType("plotext._doc.doc")
        stub.docs = None  # type: ignore[attr-defined]
        sys.modules["plotext._doc.doc"] = stub
    import plotext

    return plotext


def _draw(
    data: list[tuple[np.ndarray, np.ndarray]],
    n_left: int,
    markers: list[str],
    edges: np.ndarray,
    width: int,
    height: int,
    log_y: bool,
    right_log: bool,
    color: bool,
    x_label: str,
    y_label: str,
    right_label: str,
    title: str,
    x0: float,
    x1: float,
    left_zero: bool = True,
) -> str:
    """All plotext calls live here (plotext >= 6 figure API)."""
    plt = _plotext()
    from plotext import pixel

    with _LOCK:
        term = plt.terminal
        term.limit(False, False)  # our size, not the terminal's
        f = plt.figure
        f.clear()
        try:
            f.theme("simple" if color else "colorless")
            f.plot_size(width, height)
            rows = max(2, height - 5)
            limits: dict[int, tuple[float, float]] = {}
            for side, sl, logged in ((0, slice(0, n_left), log_y), (1, slice(n_left, None), right_log)):
                ys = [d[1] for d in data[sl]]
                if any(a.size for a in ys):
                    limits[side] = _y_limits(ys, logged, zero_floor=side == 0 and left_zero)
            # phase starts: dotted vertical segments drawn first, so the curves sit on top of them
            ylo, yhi = limits.get(0, limits.get(1, (0.0, 1.0)))
            eside = "left" if 0 in limits else "right"
            for e in edges.tolist():
                mk = plt.marker(EDGE_CHAR, pixel=pixel(foreground=8)) if color else EDGE_CHAR
                f.draw(f.signal([e, e], [ylo, yhi], marker=mk, yside=eside).lines().density("full"))
            for i, (xx, yy) in enumerate(data):
                if not xx.size:
                    continue
                side = "left" if i < n_left else "right"
                mk = plt.marker("hd", pixel=pixel(foreground=COLORS[i % len(COLORS)])) if color else markers[i]
                f.draw(f.signal(xx.tolist(), yy.tolist(), marker=mk, yside=side).lines().density("full"))
            # x axis
            f.ruler("x", 0).lim(x0, x1 if x1 > x0 else x0 + 1)
            xt = nice_ticks(x0, x1, max(2, width // 10))
            f.ruler("x", 0).ticks(xt.tolist(), [fmt_count(v) for v in xt])
            # y axes
            for side, (lo, hi) in limits.items():
                f.ruler("y", side).lim(lo, hi)
                if (log_y if side == 0 else right_log):
                    pos, labs = _log_ticks(lo, hi, max(2, rows // 3))
                else:
                    ticks = nice_ticks(lo, hi, max(2, rows // 3)).tolist()
                    if hi - ticks[-1] > 2 * (hi - lo) / max(1, rows - 1):  # label the top (the peak LR) too
                        ticks.append(hi)
                    pos, labs = ticks, [fmt_value(v) for v in ticks]
                f.ruler("y", side).ticks(pos, labs)
            f.title(title)
            f.label(x_label, axis="x")
            if n_left:
                f.label(y_label, axis="y", side=0)
            if len(data) > n_left:
                f.label(right_label, axis="y", side=1)
            return f.build().string(colorless=not color)
        finally:
            f.clear()
            term.limit()


# ------------------------------------------------------------------------------------------------ specs


def spec_series(specs: Iterable["Spec"], width: int, x: XAxis = "step") -> list[Series]:
    """One sampled :class:`Series` per spec, labelled by name (or file stem), labels made unique."""
    specs = list(specs)
    labels = unique_labels([spec_label(s) for s in specs])
    return [plan_series(s.schedule_plan(), lab, width, x) for s, lab in zip(specs, labels)]


def plot_specs(
    specs: Iterable["Spec"],
    width: int,
    height: int,
    *,
    x: XAxis = "step",
    log_y: bool = False,
    color: bool = False,
    title: str | None = None,
    right: Sequence[Series] = (),
) -> str:
    """Plot the LR of one or more specs against ``x`` (steps or tokens); see :func:`plot_series`."""
    check_size(width, height)
    series = spec_series(specs, width, x)
    return plot_series(series, width, height, log_y, color, "tokens" if x == "tokens" else "step", title=title, right=right)


def plan_plot(spec: "Spec", res: "PlanResult", width: int, height: int, color: bool) -> str:
    """``lrplan plan --plot``: the WSD-S run with its checkpoints marked, or each WSD branch with its branch point."""
    if spec.schedule.kind == "wsd-s":
        base = plan_series(spec.schedule_plan(), spec.name or "WSD-S run", width)
        marks = np.array([c.checkpoint_step for c in res.checkpoints], dtype=np.float64)
        series = [Series(base.label, base.x, base.y, marks)]
        edge_label = "checkpoint (decay ends)"
    else:
        from lrplan.planning.branches import wsd_branch_specs

        series = []
        edge_label = "branch point (decay starts)"
        for i, b in enumerate(wsd_branch_specs(spec)):
            ser = plan_series(b.schedule_plan(), f"branch {i + 1}", width)
            series.append(Series(ser.label, ser.x, ser.y, np.array([res.checkpoints[i].branch_point_step], dtype=np.float64)))
    return plot_series(series, width, height, color=color, x_label="step", title="plan", edge_label=edge_label)


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(plan: "SchedulePlan", width: int = 60) -> str:
    """The schedule in one line of ``width`` block characters, each the mean LR of its share of the run (from
    16 evenly spread samples per character), scaled from 0 (``▁``) to the peak (``█``)."""
    total = plan.total_steps
    width = max(1, min(width, total))
    steps = np.unique(np.linspace(0, total - 1, 16 * width).round().astype(np.int64))
    lr = plan.lr_at(steps)
    col = np.minimum((steps * width) // max(total, 1), width - 1)
    mean = np.bincount(col, weights=lr, minlength=width) / np.maximum(np.bincount(col, minlength=width), 1)
    peak = float(lr.max())
    if not np.isfinite(peak) or peak <= 0:
        return SPARK[0] * width
    idx = np.clip(np.rint(mean / peak * (len(SPARK) - 1)).astype(int), 0, len(SPARK) - 1)
    return "".join(SPARK[i] for i in idx)


def prediction_plot(res: "Prediction", width: int, height: int, color: bool) -> str:
    """``lrplan predict --plot``: the predicted loss of each schedule against step, overlaid (from the end of
    its warmup, where predictions start), so a comparison reads at a glance. Only the plotted steps are
    predicted (:meth:`lrplan.laws.FittedLaw.predict_history`: a long run is never rendered)."""
    series = []
    for p in res.predicted:
        hist = p.schedule.history
        first = max(hist.warmup_length(), hist.first_positive() or 0)
        steps = np.unique(np.linspace(first, hist.total - 1, SAMPLES_PER_COLUMN * width).round().astype(np.int64))
        with np.errstate(all="ignore"):
            y = np.asarray(res.law.fitted.predict_history(hist, steps), dtype=np.float64)
        ok = np.isfinite(y)
        series.append(Series(p.schedule.name, steps[ok].astype(np.float64), y[ok]))
    return plot_series(series, width, height, color=color, x_label="step", y_label="predicted loss",
                       title=f"predicted loss ({res.law.label})", left_zero=False)
