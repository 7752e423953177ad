"""Resolved schedules and per-step rendering (vectorised, in chunks, so memory stays flat for any length)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from lrplan.errors import LrplanError

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.schedules.segments import Segment

CHUNK = 1 << 20
MAX_IN_MEMORY = 200_000_000  # updates whose LRs render() holds at once (1.6 GB of float64)


@dataclass(frozen=True)
class Phase:
    name: str
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class Rendered:
    """Per-update arrays: ``step`` (0-based update index), ``tokens`` (consumed before the update, or None when
    the budget gives no tokens per step), ``lr`` (the LR the update uses), and the ``phases``."""

    step: np.ndarray
    tokens: np.ndarray | None
    lr: np.ndarray
    phases: list[Phase]

    def __len__(self) -> int:
        return int(self.step.size)


@dataclass(frozen=True)
class Chunk:
    step: np.ndarray
    tokens: np.ndarray | None
    lr: np.ndarray
    phase: np.ndarray  # index into SchedulePlan.phases


class SchedulePlan:
    """A schedule resolved against its budget: contiguous segments over ``[0, total_steps)``."""

    def __init__(
        self,
        segments: list["Segment"],
        total_steps: int,
        clock: Any = None,
        notes: list[str] | None = None,
        spec: Any = None,
        unit: str = "steps",
        budgets: list[int] | None = None,
    ):
        self.segments = segments
        self.total_steps = total_steps
        self.clock = clock  # lrplan.spec.clock.Clock, or None when tokens per step are unknown
        self.notes = notes or []
        self.spec = spec
        self.unit = unit  # the clock the schedule's progress runs on
        self.budgets = budgets  # multi-budget specs: the budgets on that clock
        self._starts = np.array([s.start for s in segments], dtype=np.int64)

    @property
    def tokens_per_step(self) -> int | None:
        """Tokens per step when the batch is constant (None when unknown or variable)."""
        return self.clock.constant_tps if self.clock is not None else None

    @property
    def has_tokens(self) -> bool:
        return self.clock is not None

    @property
    def variable_batch(self) -> bool:
        return self.clock is not None and self.clock.variable

    @property
    def phases(self) -> list[Phase]:
        return [Phase(s.phase, s.start, s.end) for s in self.segments]

    def tokens_at(self, steps: np.ndarray) -> np.ndarray | None:
        """Tokens consumed before each step (None when the budget gives no tokens per step)."""
        if self.clock is None:
            return None
        return self.clock.tokens_before(steps)

    def batch_at(self, steps: np.ndarray) -> np.ndarray | None:
        """Global batch (sequences) of each step, when known."""
        return self.clock.batch_at(steps) if self.clock is not None else None

    def lr_at(self, steps: np.ndarray) -> np.ndarray:
        """LR at arbitrary (sorted or not) steps in ``[0, total_steps)``."""
        steps = np.asarray(steps, dtype=np.int64)
        out = np.empty(steps.shape, dtype=np.float64)
        idx = np.searchsorted(self._starts, steps, side="right") - 1
        with np.errstate(all="ignore"):  # an overflow is reported by _check, as one line, not as numpy warnings
            for i in np.unique(idx):
                m = idx == i
                out[m] = self.segments[int(i)].fn(steps[m])
        self._check(out, steps)
        return out

    def _check(self, lr: np.ndarray, steps: np.ndarray) -> None:
        bad = ~np.isfinite(lr) | (lr < 0)
        if bad.any():
            k = int(np.argmax(bad))
            step = int(steps[k])
            seg = self.segments[int(np.searchsorted(self._starts, step, side="right")) - 1]
            value = float(lr[k])
            if np.isfinite(value):
                raise LrplanError(f"the schedule gives an invalid LR (negative: {value:.6g}) at step {step:,} "
                                  f"(phase {seg.phase}); check the phase's LRs and factors")
            raise LrplanError(f"the schedule gives an invalid LR ({value}) at step {step:,} (phase {seg.phase}): its "
                              "values overflow double precision there; check the phase's LRs and factors")

    def probe(self) -> None:
        """Evaluate every phase at its first, middle and last step: a schedule whose values overflow (e.g. a
        OneCycle ``div_factor`` of 1e-300) fails here, at load time, instead of midway through a table."""
        pts = sorted({p for s in self.segments for p in (s.start, (s.start + s.end - 1) // 2, s.end - 1)})
        self.lr_at(np.array(pts, dtype=np.int64))

    def chunks(self, start: int = 0, stop: int | None = None, size: int = CHUNK) -> Iterator[Chunk]:
        """Yield consecutive chunks of at most ``size`` steps covering ``[start, stop)``."""
        stop = self.total_steps if stop is None else stop
        for pos in range(start, stop, size):
            end = min(stop, pos + size)
            steps = np.arange(pos, end, dtype=np.int64)
            lr = np.empty(end - pos, dtype=np.float64)
            phase = np.empty(end - pos, dtype=np.int32)
            first = int(np.searchsorted(self._starts, pos, side="right")) - 1
            last = int(np.searchsorted(self._starts, end - 1, side="right")) - 1
            with np.errstate(all="ignore"):
                for j in range(first, last + 1):
                    seg = self.segments[j]
                    a, b = max(seg.start, pos) - pos, min(seg.end, end) - pos
                    lr[a:b] = seg.fn(steps[a:b])
                    phase[a:b] = j
            self._check(lr, steps)
            yield Chunk(steps, self.tokens_at(steps), lr, phase)

    def lr_range(self, start: int, stop: int) -> np.ndarray:
        """The LRs of the updates ``[start, stop)`` (one contiguous block, checked like :meth:`chunks`; neither
        tokens nor phases)."""
        steps = np.arange(start, stop, dtype=np.int64)
        lr = np.empty(steps.size, dtype=np.float64)
        if steps.size:
            first = int(np.searchsorted(self._starts, start, side="right")) - 1
            last = int(np.searchsorted(self._starts, stop - 1, side="right")) - 1
            with np.errstate(all="ignore"):
                for j in range(first, last + 1):
                    seg = self.segments[j]
                    a, b = max(seg.start, start) - start, min(seg.end, stop) - start
                    lr[a:b] = seg.fn(steps[a:b])
            self._check(lr, steps)
        return lr

    def render(self) -> Rendered:
        if self.total_steps > MAX_IN_MEMORY:
            src = getattr(self.spec, "source", None)
            raise LrplanError(f"{src + ': ' if src else ''}{self.total_steps:,} steps is too many to hold in memory at "
                              f"once (up to {MAX_IN_MEMORY:,}): framework configs, conventions and loss predictions "
                              "need every update's LR; `lrplan render` of the table streams any length")
        steps = np.arange(self.total_steps, dtype=np.int64)
        lr = np.empty(self.total_steps, dtype=np.float64)
        with np.errstate(all="ignore"):
            for seg in self.segments:
                lr[seg.start : seg.end] = seg.fn(steps[seg.start : seg.end])
        self._check(lr, steps)
        return Rendered(steps, self.tokens_at(steps), lr, self.phases)

    def pieces(self) -> list[tuple[int, int, Any]]:
        """``(start, end, form)`` stretches covering ``[0, total_steps)``: each inside one segment (and, on the
        token clock, one run of constant batch), with the segment's closed form on update indices
        (:class:`lrplan.schedules.forms.StepForm`), or None when the segment has none that
        :mod:`lrplan.schedules.forms` covers. O(segments + batch changes)."""
        from lrplan.schedules.forms import to_steps

        out: list[tuple[int, int, Any]] = []
        tokens = self.unit == "tokens" and self.clock is not None
        for seg in self.segments:
            form = getattr(seg.fn, "lr_form", None)
            if not tokens:
                out.append((seg.start, seg.end, to_steps(form, 0, 1, seg.start, seg.end) if form is not None else None))
                continue
            c = self.clock
            cuts = sorted({seg.start, seg.end} | {int(x) for x in c.starts if seg.start < int(x) < seg.end})
            for a, b in zip(cuts, cuts[1:]):
                k = int(np.searchsorted(c.starts, a, side="right")) - 1
                alpha = int(c.before[k]) - int(c.tps[k]) * int(c.starts[k])  # tokens = alpha + tps * s on this run
                out.append((a, b, to_steps(form, alpha, int(c.tps[k]), a, b) if form is not None else None))
        return out

    def boundary_steps(self) -> np.ndarray:
        """First step of every phase and the last step of the run."""
        pts = {s.start for s in self.segments} | {self.total_steps - 1}
        return np.array(sorted(p for p in pts if 0 <= p < self.total_steps), dtype=np.int64)


def with_lrs(plan: "SchedulePlan", lr: np.ndarray) -> "SchedulePlan":
    """A copy of ``plan`` (phases, tokens, chunking) whose LRs are ``lr``, e.g. the LRs a framework really runs
    (``render --convention FW``); they are taken as they are (no range check)."""
    import copy
    import dataclasses

    base = type(plan)

    class _Plan(base):  # type: ignore[valid-type, misc]
        # both ways a table reads LRs: whole chunks, and single steps (--every, the terminal preview)
        def chunks(self, start: int = 0, stop: int | None = None, size: int = 1 << 20):
            for ch in base.chunks(self, start, stop, size):
                a = int(ch.step[0]) if ch.step.size else 0
                yield dataclasses.replace(ch, lr=lr[a : a + ch.step.size])

        def lr_at(self, steps: "np.ndarray") -> "np.ndarray":
            return lr[np.asarray(steps, dtype=np.int64)]

        def _check(self, lr_, steps) -> None:  # the framework's values are what they are
            return None

    out = copy.copy(plan)
    out.__class__ = _Plan
    return out


def with_lr_fn(plan: "SchedulePlan", lr_at: Any, lr_range: Any = None) -> "SchedulePlan":
    """A copy of ``plan`` (phases, tokens, chunking) whose LRs come from ``lr_at(steps)`` (and, for a block of
    updates, ``lr_range(start, stop)``), evaluated only for the rows a table reads: :func:`with_lrs` for a run too
    long to hold (``render --convention FW`` of any length streams with flat memory). Taken as they are (no range
    check)."""
    import copy

    base = type(plan)

    class _Plan(base):  # type: ignore[valid-type, misc]
        def chunks(self, start: int = 0, stop: int | None = None, size: int = CHUNK):
            stop = self.total_steps if stop is None else stop
            for pos in range(start, stop, size):
                end = min(stop, pos + size)
                steps = np.arange(pos, end, dtype=np.int64)
                phase = (np.searchsorted(self._starts, steps, side="right") - 1).astype(np.int32)
                lr = lr_range(pos, end) if lr_range is not None else lr_at(steps)
                yield Chunk(steps, self.tokens_at(steps), np.asarray(lr, dtype=np.float64), phase)

        def lr_at(self, steps: "np.ndarray") -> "np.ndarray":
            return np.asarray(lr_at(np.asarray(steps, dtype=np.int64)), dtype=np.float64)

        def _check(self, lr_, steps) -> None:  # the framework's values are what they are
            return None

    out = copy.copy(plan)
    out.__class__ = _Plan
    return out
