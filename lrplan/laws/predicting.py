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
from typing import Sequence

import numpy as np

from lrplan.errors import LrplanError
from lrplan.laws.resolve import (OutsideLaw, ResolvedLaw, _first_predictable, check_predicted, law_description,
                                 range_detail, resolve_law)
from lrplan.laws.warmup import warmup_length

MAX_STEPS = 200_000_000  # a spec longer than this is refused (its per-step LR alone is 1.6 GB)


@dataclass
class Schedule:
    """A schedule to predict: its label, per-step LR, tokens per step (``None`` if unknown) and its file."""

    name: str
    lr: np.ndarray
    tokens_per_step: int | None
    source: str


@dataclass
class Predicted:
    """One schedule's prediction: the final loss (at its last step) and, when asked, the curve rows."""

    schedule: Schedule
    final: float
    steps: np.ndarray | None = None
    loss: np.ndarray | None = None


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

    @property
    def several(self) -> bool:
        return len(self.predicted) + len(self.invalid) > 1

    @property
    def rows(self) -> int:
        """Curve rows over all schedules."""
        return sum(p.steps.size for p in self.predicted if p.steps is not None)

    def curve_csv(self) -> str:
        """The predicted curves: ``step,lr,loss`` (a ``name`` column first when there are several schedules)."""
        buf = io.StringIO()
        buf.write(("name," if self.several else "") + "step,lr,loss\n")
        for p in self.predicted:
            if p.steps is None or p.loss is None:
                continue
            pre = f"{_csv_cell(p.schedule.name)}," if self.several else ""
            lrq = p.schedule.lr[p.steps]
            buf.write("".join(f"{pre}{s},{lr:.9g},{v:.6f}\n"
                              for s, lr, v in zip(p.steps.tolist(), lrq.tolist(), p.loss.tolist())))
        return buf.getvalue()


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
        out.append(Schedule(spec_label(s), s.render().lr, plan.tokens_per_step, str(p)))
    if lr_tables:
        from lrplan.laws.logs import read_lr_table

        for p in lr_tables:
            c = read_lr_table(p)
            notes += [("note", f"note: {p}: {n}") for n in c.notes]
            out.append(Schedule(Path(p).stem, c.lr, None, str(p)))
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
    for inp in inputs:
        detail, outside = range_detail(res, inp.lr, inp.tokens_per_step)
        T = inp.lr.size
        start = _first_predictable(inp.lr)
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
        p = Predicted(inp, float(final))
        if curve:
            p.steps = _curve_steps(inp, start, want, every, messages)
            p.loss = _predict(res, inp, p.steps, detail)
        done.append(p)
    if not done:
        more = f" (and the {len(invalid) - 1} other schedules)" if len(invalid) > 1 else ""
        raise LrplanError(f"the law cannot evaluate any of the schedules: {invalid[0][1]}{more}")
    return Prediction(res, done, invalid, messages)


def _curve_steps(inp: Schedule, start: int, want: list[int] | None, every: int | None,
                 messages: list[tuple[str, str]]) -> np.ndarray:
    """The curve's rows: ``want`` (checked against the schedule), else every ``every``-th step after warmup."""
    T = inp.lr.size
    if want is not None:
        if want[-1] >= T:
            raise LrplanError(f"--steps: step {want[-1]:,} is past the end of {inp.name} ({T:,} steps, 0..{T - 1:,})")
        if want[0] < start:
            zero = "at step 0" if start == 1 else f"at steps 0..{start - 1:,}"
            raise LrplanError(f"--steps: step {want[0]:,} of {inp.name} comes before any LR area (its LR is 0 "
                              f"{zero}); the law predicts from step {start:,} on")
        q = np.array(want, dtype=np.int64)
        w = warmup_length(inp.lr)
        if q.min() < max(start, w):
            messages.append(("note", f"note: {inp.name}: steps before {max(start, w):,} are in the warmup, where the "
                                     "law was not fitted"))
        return q
    n = min(every or 1, T)
    first = max(start, warmup_length(inp.lr))
    q = np.arange(first, T, dtype=np.int64)
    if n > 1:
        q = q[(q % n == 0)]
    return np.unique(np.concatenate([[first], q, [T - 1]]))


def _predict(res: ResolvedLaw, inp: Schedule, q: np.ndarray, context: str = "") -> np.ndarray:
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = np.asarray(res.fitted.predict(inp.lr, q), dtype=float)
    except (ValueError, OverflowError, ZeroDivisionError) as e:
        raise LrplanError(f"{inp.source}: cannot predict with law {res.label}: {str(e).splitlines()[0][:200]}") from None
    check_predicted(res, y, q, inp.source, context, inp.lr)
    return y


def _csv_cell(s: str) -> str:
    return '"' + s.replace('"', '""') + '"' if any(ch in s for ch in ',"\n\r') else s
