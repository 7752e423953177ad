"""Pieces of a schedule and how they join.

A schedule is a list of contiguous :class:`Segment` s covering steps ``0 .. N-1``. Each segment owns a pure,
vectorised function of the *global* step array (like optax's ``join_schedules``, but every piece is built on its
own local clock by the helpers below). Step convention (the one lrplan uses everywhere): row ``s`` (0-based) is
the ``(s+1)``-th optimizer update, and ``lr[s] = f(s)`` where ``f`` is the continuous schedule and ``s`` the number
of updates already done. This equals Megatron-Core's ``get_lr(num_steps=s)`` for the same lengths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

LrFn = Callable[["np.ndarray"], "np.ndarray"]


@dataclass(frozen=True)
class Segment:
    """Steps ``[start, end)`` in phase ``phase``; ``fn`` maps global steps (int64 array) to LRs (float64)."""

    phase: str
    start: int
    end: int
    fn: LrFn

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass
class Timeline:
    """Segments placed one after another from step 0. ``add`` appends a piece of a given length.

    A piece may also end between two steps (a warmup of 3.2 steps: Megatron's ``--lr-warmup-fraction``): then
    ``make`` gets the piece's real start and length, and the piece holds the steps ``s`` with ``start <= s <
    start + length`` (a step belongs to the piece its position falls in); the next piece starts at that real
    position. With whole lengths everything is integer, as before."""

    segments: list[Segment] = field(default_factory=list)
    real_end: "int | float | None" = None  # where the last piece ended, when that is between two steps

    @property
    def end(self) -> int:
        if self.real_end is not None:
            return math.ceil(self.real_end)
        return self.segments[-1].end if self.segments else 0

    @property
    def position(self) -> "int | float":
        """Where the next piece starts (a float when the last one ended between two steps)."""
        return self.real_end if self.real_end is not None else self.end

    def add(self, phase: str, length: "int | float", make: Callable[[int, int], LrFn]) -> None:
        """Append ``length`` steps; ``make(start, length)`` returns the piece's LR function. Empty pieces vanish."""
        if length < 0:
            raise ValueError(f"negative segment length {length} for phase {phase!r}")
        if length == 0:
            return
        if self.real_end is None and isinstance(length, int):
            start = self.end
            self.segments.append(Segment(phase, start, start + length, make(start, length)))
            return
        self._place(phase, self.position, self.position + length, length, make)

    def add_until(self, phase: str, end: "int | float", make: Callable[[int, int], LrFn]) -> None:
        """Append a piece from where the last one ended up to the position ``end`` (its length is ``end`` minus
        that start, so a piece after a fractional one still ends exactly at ``end``)."""
        start = self.position
        if end < start:
            raise ValueError(f"negative segment length {end - start} for phase {phase!r}")
        if end == start:
            return
        if isinstance(start, int) and isinstance(end, int):
            return self.add(phase, end - start, make)
        self._place(phase, start, end, end - start, make)

    def cut(self, end: int) -> None:
        """Stop the run at step ``end``: pieces past it are dropped and the one it falls in ends there (a decay
        defined over a ``horizon`` beyond the budget; each piece keeps its function of the global step)."""
        if self.end <= end:
            return
        self.segments = [sg if sg.end <= end else Segment(sg.phase, sg.start, end, sg.fn)
                         for sg in self.segments if sg.start < end]
        self.real_end = None

    def _place(self, phase: str, start: "int | float", end: "int | float", length: "int | float",
               make: Callable[[int, int], LrFn]) -> None:
        a, b = math.ceil(start), math.ceil(end)
        if b > a:
            self.segments.append(Segment(phase, a, b, make(start, length)))  # type: ignore[arg-type]
        self.real_end = None if float(end).is_integer() else end  # back on a whole step: the last segment's end


# ---------------------------------------------------------------------------------------------- piece factories
# Each returns ``make(start, length) -> fn``; ``p = (s - start) / length`` is the progress within the piece.


def constant(value: float) -> Callable[[int, int], LrFn]:
    def make(start: int, length: int) -> LrFn:
        import numpy as np

        from lrplan.schedules.forms import Form

        fn = lambda s: np.full(s.shape, value, dtype=np.float64)  # noqa: E731
        fn.lr_form = Form("const", float(value))  # type: ignore[attr-defined]  # (lrplan.schedules.forms)
        return fn

    return make


def ramp(shape: Callable[["np.ndarray", float, float], "np.ndarray"], a: float, b: float) -> Callable[[int, int], LrFn]:
    """A piece going from ``a`` (at p=0) towards ``b`` (at p=1, reached at the next piece's first step)."""

    def make(start: int, length: int) -> LrFn:
        import numpy as np

        def fn(s: "np.ndarray") -> "np.ndarray":
            p = (s - start).astype(np.float64) / float(length)
            return shape(p, a, b)

        form = getattr(shape, "lr_form", None)  # its closed form, when lrplan.schedules.forms knows the shape
        if form is not None:
            from lrplan.schedules.forms import Form

            g, way = form
            base, delta = (a, b - a) if way == "up" else (b, a - b)
            fn.lr_form = Form(g, float(base), float(delta), start, float(length))  # type: ignore[attr-defined]
        return fn

    return make


def custom(fn_of_local: Callable[["np.ndarray", int, int], "np.ndarray"]) -> Callable[[int, int], LrFn]:
    """A piece from any ``f(local_step, start, length)``; local_step = s - start (int64)."""

    def make(start: int, length: int) -> LrFn:
        return lambda s: fn_of_local(s - start, start, length)

    return make
