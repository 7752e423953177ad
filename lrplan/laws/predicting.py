"""Predict the loss of schedules with a law, as ``lrplan predict`` does: load the schedules (specs or plain LR
tables), resolve the law (:func:`~lrplan.laws.resolve.resolve_law`), predict the final loss (and the curve at
chosen steps), check each against the law's fitted range and loss floor, rank by final loss.

Every problem is one :class:`~lrplan.errors.LrplanError` line; notes and warnings come back as plain text in
:attr:`Prediction.messages`.  With several schedules, one the law cannot evaluate is listed, not ranked.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Sequence

import numpy as np

from lrplan.errors import LrplanError
from lrplan.laws.history import History, QuerySteps
from lrplan.laws.resolve import OutsideLaw, ResolvedLaw, check_predicted, law_description, range_detail, resolve_law

MAX_STEPS = 200_000_000  # a spec longer than this is refused (lrplan's limit for any run)
CURVE_BLOCK = 1 << 16  # rows formatted at once by Prediction.write_curve


@dataclass
class Schedule:
    """A schedule to predict: its label, its LR history (:class:`~lrplan.laws.history.History`: a spec's
    segments, never rendered, or an LR table), tokens per step (``None`` if unknown) and its file."""

    name: str
    history: History
    tokens_per_step: int | None
    source: str

    @property
    def lr(self) -> np.ndarray:
        """Every update's LR (materialised: for short runs)."""
        return self.history.array()

    @property
    def steps(self) -> int:
        return self.history.total

    @property
    def peak(self) -> float:
        return self.history.peak()

    @property
    def final_lr(self) -> float:
        return self.history.last_lr()


@dataclass
class Predicted:
    """One schedule's prediction: the final loss (at its last step) and, when asked, the curve rows: in memory
    (``steps``, ``loss``) for a run of at most :data:`lrplan.laws.fitted.EXACT_STEPS` updates, else described by
    ``queries`` and streamed by :meth:`Prediction.write_curve`."""

    schedule: Schedule
    final: float
    steps: np.ndarray | None = None
    loss: np.ndarray | None = None
    queries: QuerySteps | None = None
    context: str = ""
    members: np.ndarray | None = None
    """The final loss under every member of the law's ensemble (:mod:`lrplan.laws.bands`; row 0 = ``final``), a
    ``(K, 1)`` :class:`~lrplan.laws.bands.Members`."""
    band_steps: np.ndarray | None = None
    """The curve's band: offsets of the members' envelope from the centre at these anchor steps (interpolated
    onto every row), ``band_lo`` / ``band_hi``, without the model-error term."""
    band_lo: np.ndarray | None = None
    band_hi: np.ndarray | None = None
    band_gain: np.ndarray | None = None
    """The centre's annealing gain at ``band_steps`` (:class:`~lrplan.laws.bands.Members`), for the model-error
    term of every row; ``None`` without a gain term."""

    @property
    def final_band(self) -> tuple[float, float]:
        """The 90 % band of the final loss (:func:`lrplan.laws.bands.final_band`)."""
        from lrplan.laws.bands import final_band

        lo, hi = final_band(self.members if self.members is not None else np.array([[self.final]]))
        return float(lo[0]), float(hi[0])

    @property
    def half_width(self) -> float:
        """The ``±`` of the prediction: the larger distance from it to an end of :attr:`final_band` (the band
        need not be centred on the prediction; ``final ± half_width`` always contains it). ``plan`` uses the same."""
        lo, hi = self.final_band
        return max(hi - self.final, self.final - lo, 0.0)

    def curve_band(self, steps: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` of the 90 % band at curve rows ``steps`` (centre ``loss``): the members' offsets
        interpolated from the anchors, widened by the model-error term."""
        from lrplan.laws.bands import model_error, rmse_of

        st = np.asarray(steps, dtype=np.float64)
        g = (np.interp(st, self.band_steps, self.band_gain) if self.band_steps is not None
             and self.band_gain is not None else np.zeros(1))
        e = model_error(rmse_of(self.members), g)
        if self.band_steps is None or self.band_lo is None or self.band_hi is None:
            return loss - e, loss + e
        return (loss + np.interp(st, self.band_steps, self.band_lo) - e,
                loss + np.interp(st, self.band_steps, self.band_hi) + e)


@dataclass
class Prediction:
    """The predictions of one law for several schedules."""

    law: ResolvedLaw
    predicted: list[Predicted]
    """In input order (the curve file's order)."""
    invalid: list[tuple[Schedule, str]] = field(default_factory=list)
    """The schedules the law cannot evaluate, with why (only when there were several)."""
    messages: list[tuple[str, str]] = field(default_factory=list)
    """``("note" | "warning", text)``, in order."""

    @property
    def ranked(self) -> list[Predicted]:
        """Best (lowest final loss) first."""
        return sorted(self.predicted, key=lambda p: p.final)

    def ties_best(self, p: Predicted) -> bool:
        """Whether ``p`` is within uncertainty of the best prediction: the band of their difference
        (:func:`lrplan.laws.bands.difference_band`, members paired) contains 0."""
        from lrplan.laws.bands import difference_band

        best = self.ranked[0]
        if p is best or p.members is None or best.members is None:
            return p is best
        lo, hi = difference_band(p.members, best.members)
        return bool(lo[0] <= 0.0 <= hi[0])

    @property
    def several(self) -> bool:
        return len(self.predicted) + len(self.invalid) > 1

    @property
    def rows(self) -> int:
        """Curve rows over all schedules."""
        return sum(p.steps.size if p.steps is not None else p.queries.size if p.queries is not None else 0
                   for p in self.predicted)

    def curve_blocks(self, p: Predicted, block: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(steps, lr, loss)`` blocks (of :data:`CURVE_BLOCK` rows) of one schedule's curve, in step order; a
        streamed block is checked like the rest (:func:`~lrplan.laws.resolve.check_predicted`) before it is
        given out."""
        block = block or CURVE_BLOCK
        hist = p.schedule.history
        if p.steps is not None and p.loss is not None:
            for i in range(0, p.steps.size, block):
                st = p.steps[i : i + block]
                yield st, hist.lr_at(st), p.loss[i : i + block]
            return
        if p.queries is None:
            return
        for st, lr, y in _checked_curve(self.law, p, block):
            yield st, lr, y

    def write_curve(self, fh: BinaryIO, block: int | None = None, progress: Any = None) -> None:
        """Write the predicted curves as CSV: ``step,lr,loss,loss_lo,loss_hi`` (a ``name`` column first when there
        are several schedules; ``loss_lo``/``loss_hi``: the 90 % band, :mod:`lrplan.laws.bands`), in blocks of rows, so a curve of any length streams in flat memory. ``progress(stage, done,
        total)`` (:data:`lrplan.cli.progress.Callback`) is told the rows written after each block."""
        from lrplan.output.table import curve_rows

        fh.write((("name," if self.several else "") + "step,lr,loss,loss_lo,loss_hi\n").encode())
        total, done = self.rows, 0
        for p in self.predicted:
            pre = f"{_csv_cell(p.schedule.name)},".encode() if self.several else b""
            for st, lr, y in self.curve_blocks(p, block):
                lo, hi = p.curve_band(st, y)
                fh.write(curve_rows(st, lr, y, pre, lo, hi))
                done += st.size
                if progress is not None:
                    progress("rows", done, total)

    def curve_csv(self) -> str:
        """:meth:`write_curve` as a string."""
        buf = io.BytesIO()
        self.write_curve(buf)
        return buf.getvalue().decode()


def parse_steps(text: str) -> list[int]:
    """``--steps 1000,5000`` -> sorted distinct steps."""
    out = []
    for tok in text.replace(" ", "").split(","):
        if not tok:
            continue
        try:
            v = float(tok.replace("_", ""))
        except ValueError:
            raise LrplanError(f"--steps: {tok[:40]!r} is not a step number (use e.g. --steps 1000,2000,5000)") from None
        if not math.isfinite(v) or v != int(v) or v < 0:
            raise LrplanError(f"--steps: {tok[:40]!r} is not a whole, non-negative step")
        if v > 1e15:
            raise LrplanError(f"--steps: {tok[:40]!r} is past the end of any schedule lrplan predicts")
        out.append(int(v))
    if not out:
        raise LrplanError("--steps needs step numbers separated by commas, e.g. --steps 1000,2000")
    return sorted(set(out))


def load_schedules(specs: Sequence[str | Path] = (), lr_tables: Sequence[str | Path] = ()
                   ) -> tuple[list[Schedule], list[tuple[str, str]]]:
    """The schedules of spec files and plain LR tables (``step,lr``), with distinct names, and their notes."""
    from lrplan.spec.labels import spec_label, unique_labels
    from lrplan.spec.loading import load_spec

    out: list[Schedule] = []
    notes: list[tuple[str, str]] = []
    for p in specs:
        s = load_spec(p)
        plan = s.schedule_plan()
        if plan.total_steps > MAX_STEPS:
            raise LrplanError(f"{p}: {plan.total_steps:,} steps is too many to predict (limit {MAX_STEPS:,})")
        out.append(Schedule(spec_label(s), History.from_plan(plan), plan.tokens_per_step, str(p)))
    if lr_tables:
        from lrplan.laws.logs import read_lr_table

        for p in lr_tables:
            c = read_lr_table(p)
            notes += [("note", f"note: {p}: {n}") for n in c.notes]
            out.append(Schedule(Path(p).stem, History.from_array(c.lr), None, str(p)))
    for sch, lab in zip(out, unique_labels([s.name for s in out])):
        sch.name = lab
    return out, notes


def predict_schedules(specs: Sequence[str | Path] = (), lr_tables: Sequence[str | Path] = (), *,
                      law: str | None = None, curve: bool = False, every: int | None = None,
                      steps: str | None = None) -> Prediction:
    """Predict ``specs`` and ``lr_tables`` with ``law`` (a law file, ``builtin:NAME``; default the built-in law).

    ``curve``: also predict the curve, at every step after warmup (``every``: the multiples of N, plus the first
    step after warmup and the last step) or at ``steps`` (``"1000,5000"``).
    """
    if not specs and not lr_tables:
        raise LrplanError("nothing to predict: give one or more spec files, or --lr-csv FILE")
    if every is not None and steps is not None:
        raise LrplanError("--every and --steps exclude each other; use one")
    if (every is not None or steps is not None) and not curve:
        raise LrplanError(f"--{'every' if every is not None else 'steps'} chooses the rows of the predicted curve: "
                          "add -o FILE (or -o - for stdout)")
    want = parse_steps(steps) if steps is not None else None
    inputs, messages = load_schedules(specs, lr_tables)
    res = resolve_law(law)
    messages.append(("note", ("using " if law else "using the default ") + law_description(res)))
    messages += [("warning", f"the law is flagged: {f}") for f in res.fitted.flags]
    done: list[Predicted] = []
    invalid: list[tuple[Schedule, str]] = []
    from lrplan.laws.bands import fit_rmse, has_gain_term
    from lrplan.laws.fitted import EXACT_STEPS
    from lrplan.laws.resolve import Predictor

    laws = Predictor(res.fitted, res).member_laws()
    rmse = fit_rmse(res.fitted)

    for inp in inputs:
        detail, outside = range_detail(res, inp.history, inp.tokens_per_step)
        T = inp.history.total
        start = inp.history.first_positive()
        if start is None or start > T - 1:
            raise LrplanError(f"{inp.source}: the LR is 0 at every step: no loss to predict")
        try:
            final = _predict(res, inp, np.array([T - 1]), detail)[0]
        except OutsideLaw as e:
            if len(inputs) == 1:
                raise
            invalid.append((inp, str(e)))
            messages.append(("warning", f"{e}; not ranked"))
            continue
        messages.append(("warning", f"{inp.name}: {detail}") if outside else ("note", f"note: {inp.name}: {detail}"))
        p = Predicted(inp, float(final), context=detail)
        p.members = _member_finals(laws, inp, p.final, rmse)
        if curve:
            qs = _curve_steps(inp, start, want, every, messages)
            if T <= EXACT_STEPS:  # in memory, checked before anything is written
                p.steps = qs.array()
                p.loss = _predict(res, inp, p.steps, detail)
            else:  # streamed by Prediction.write_curve
                p.queries = qs
            if len(laws) > 1 or has_gain_term():
                p.band_steps, p.band_lo, p.band_hi, p.band_gain = _band_anchors(laws, inp, qs, p.steps)
        done.append(p)
    if not done:
        more = f" (and the {len(invalid) - 1} other schedules)" if len(invalid) > 1 else ""
        raise LrplanError(f"the law cannot evaluate any of the schedules: {invalid[0][1]}{more}")
    return Prediction(res, done, invalid, messages)


BAND_ANCHORS = 256
"""Rows (evenly spread) at which a curve's band is evaluated, besides its phase edges and LR jumps."""


def _member_offsets(laws: list, hist: History, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(centre, offsets)`` at ``steps``: the centre's prediction and each member's minus it, ``(K - 1, n)``, both
    from the law's sampled cells (``exact_steps=0``: ``O(log T)`` per step, within 1e-6 of the exact sum), so their
    difference is consistent; a non-finite difference counts as 0."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lrplan.laws.fitted import members_history

        ys = members_history(laws, hist, steps, exact_steps=0)
    d = np.array(ys[1:]) - ys[0][None, :]
    return ys[0], np.where(np.isfinite(d), d, 0.0)


def _member_finals(laws: list, inp: Schedule, final: float, rmse: float) -> np.ndarray:
    """The final loss under every member (:class:`~lrplan.laws.bands.Members`, ``(K, 1)``, row 0 = ``final``)."""
    from lrplan.laws.bands import Members, gains

    last = np.array([inp.history.total - 1])
    g = gains(laws[0], [inp.history], [last], [[final]], exact_steps=0)  # the twin from sampled cells: 1e-6
    gain = None if g is None else g[0]
    if len(laws) == 1:
        return Members(np.array([[final]]), rmse, gain)
    _, off = _member_offsets(laws, inp.history, last)
    return Members(np.r_[[[final]], final + off], rmse, gain)


def _band_anchors(laws: list, inp: Schedule, qs: QuerySteps, rows: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Anchor steps of a curve's band (:data:`BAND_ANCHORS` rows spread evenly, the first and last rows, the rows
    at and before each phase start, and for a curve in memory the rows around every LR jump of more than 1 % of
    peak) with the members' lowest and highest offsets from the centre there (0 included) and the centre's
    annealing gain there (``None`` without a gain term), all from the law's sampled cells."""
    from lrplan.laws.bands import gains

    hist = inp.history
    idx = [np.linspace(0, qs.size - 1, BAND_ANCHORS).round().astype(np.int64), np.array([0, qs.size - 1])]
    edges = hist.starts[(hist.starts > qs.first) & (hist.starts <= qs.last)]
    idx.append(qs.index_of(np.concatenate([edges, edges - 1])))
    if rows is not None and rows.size > 1:
        lr = hist.lr_at(rows)
        j = np.flatnonzero(np.abs(np.diff(lr)) > 0.01 * (float(lr.max()) or 1.0))
        if j.size > 4 * BAND_ANCHORS:  # an LR that jumps everywhere: a denser even spread instead
            j = np.linspace(0, rows.size - 2, 4 * BAND_ANCHORS).round().astype(np.int64)
        idx += [j, j + 1]
    steps = np.unique(qs.at(np.unique(np.concatenate(idx)).clip(0, qs.size - 1)))
    centre, off = _member_offsets(laws, hist, steps)
    g = gains(laws[0], [hist], [steps], [centre], exact_steps=0)
    return (steps.astype(np.float64), off.min(axis=0, initial=0.0), off.max(axis=0, initial=0.0),
            None if g is None else g[0])


def _curve_steps(inp: Schedule, start: int, want: list[int] | None, every: int | None,
                 messages: list[tuple[str, str]]) -> QuerySteps:
    """The curve's rows: ``want`` (checked against the schedule), else every ``every``-th step after warmup."""
    T = inp.history.total
    if want is not None:
        if want[-1] >= T:
            raise LrplanError(f"--steps: step {want[-1]:,} is past the end of {inp.name} ({T:,} steps, 0..{T - 1:,})")
        if want[0] < start:
            zero = "at step 0" if start == 1 else f"at steps 0..{start - 1:,}"
            raise LrplanError(f"--steps: step {want[0]:,} of {inp.name} comes before any LR area (its LR is 0 "
                              f"{zero}); the law predicts from step {start:,} on")
        q = np.array(want, dtype=np.int64)
        w = inp.history.warmup_length()
        if q.min() < max(start, w):
            messages.append(("note", f"note: {inp.name}: steps before {max(start, w):,} are in the warmup, where the "
                                     "law was not fitted"))
        return QuerySteps(q)
    n = min(every or 1, T)
    first = max(start, inp.history.warmup_length())
    return QuerySteps.rule(first, T - 1, n)


def _predict(res: ResolvedLaw, inp: Schedule, q: np.ndarray, context: str = "") -> np.ndarray:
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = np.asarray(res.fitted.predict_history(inp.history, q), dtype=float)
    except (ValueError, OverflowError, ZeroDivisionError) as e:
        raise LrplanError(f"{inp.source}: cannot predict with law {res.label}: {str(e).splitlines()[0][:200]}") from None
    check_predicted(res, y, q, inp.source, context, inp.history)
    return y


def _checked_curve(res: ResolvedLaw, p: Predicted, block: int):
    """The streamed curve of a long run, each block checked before it is given out."""
    from lrplan.laws.resolve import loss_floor

    inp = p.schedule
    assert p.queries is not None
    floor = loss_floor(res, inp.history.prefix(p.queries.last + 1))  # one floor for all rows, as in memory
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for st, lr, y in res.fitted.curve(inp.history, p.queries):
                for i in range(0, st.size, block):
                    s_, y_ = st[i : i + block], np.asarray(y[i : i + block], dtype=float)
                    check_predicted(res, y_, s_, inp.source, p.context, floor=floor)
                    yield s_, lr[i : i + block], y_
    except (ValueError, OverflowError, ZeroDivisionError) as e:
        raise LrplanError(f"{inp.source}: cannot predict with law {res.label}: {str(e).splitlines()[0][:200]}") from None


def _csv_cell(s: str) -> str:
    return '"' + s.replace('"', '""') + '"' if any(ch in s for ch in ',"\n\r') else s
