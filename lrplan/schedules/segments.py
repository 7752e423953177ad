"""Pieces of a schedule and how they join.

A schedule is a list of contiguous :class:`Segment` s covering steps ``0 .. N-1``. Each segment owns a pure,
vectorised function of the *global* step array (like optax's ``join_schedules``, but every piece is built on its
own local clock by the helpers below). Step convention (the one lrplan uses everywhere): row ``s`` (0-based) is
the ``(s+1)``-th optimizer update, and ``lr[s] = f(s)`` where ``f`` is the continuous schedule and ``s`` the number
of updates already done. This equals Megatron-Core's ``get_lr(num_steps=s)`` for the same lengths.
"""

from __future__ import annotations

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
    """Segments placed one after another from step 0. ``add`` appends a piece of a given length."""

    segments: list[Segment] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.segments[-1].end if self.segments else 0

    def add(self, phase: str, length: int, make: Callable[[int, int], LrFn]) -> None:
        """Append ``length`` steps; ``make(start, length)`` returns the piece's LR function. Empty pieces vanish."""
        if length < 0:
            raise ValueError(f"negative segment length {length} for phase {phase!r}")
        if length == 0:
            return
        start = self.end
        self.segments.append(Segment(phase, start, start + length, make(start, length)))


# ---------------------------------------------------------------------------------------------- piece factories
# Each returns ``make(start, length) -> fn``; ``p = (s - start) / length`` is the progress within the piece.


def constant(value: float) -> Callable[[int, int], LrFn]:
    def make(start: int, length: int) -> LrFn:
        import numpy as np

        return lambda s: np.full(s.shape, value, dtype=np.float64)

    return make


def ramp(shape: Callable[["np.ndarray", float, float], "np.ndarray"], a: float, b: float) -> Callable[[int, int], LrFn]:
    """A piece going from ``a`` (at p=0) towards ``b`` (at p=1, reached at the next piece's first step)."""

    def make(start: int, length: int) -> LrFn:
        import numpy as np

        def fn(s: "np.ndarray") -> "np.ndarray":
            p = (s - start).astype(np.float64) / float(length)
            return shape(p, a, b)

        return fn

    return make


def custom(fn_of_local: Callable[["np.ndarray", int, int], "np.ndarray"]) -> Callable[[int, int], LrFn]:
    """A piece from any ``f(local_step, start, length)``; local_step = s - start (int64)."""

    def make(start: int, length: int) -> LrFn:
        return lambda s: fn_of_local(s - start, start, length)

    return make
