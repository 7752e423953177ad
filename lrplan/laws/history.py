"""The LR of every update of a run, for the loss laws, without holding it in memory (internal).

A :class:`History` is a list of contiguous pieces ``[start, end)`` over ``[0, total)``, each with a vectorised
function of the global step (a :class:`~lrplan.schedules.render.SchedulePlan`'s segments, or one piece reading a
plain LR array).  The laws read it three ways: the LR at arbitrary steps (:meth:`History.lr_at`, what the sampled
multi-power evaluator of :mod:`lrplan.laws.cells` needs), consecutive chunks (:meth:`History.chunks`, for the exact
per-step streams: the momentum law, ``predict -o``), or the whole array (:meth:`History.array`, for short runs,
which are predicted exactly as before from their per-step LRs).

``lrplan plan`` shares work between the runs it predicts through :meth:`History.prefix` (the first steps of a run)
and :meth:`History.then` (a prefix followed by more segments): a WSD branch is the trunk's prefix and its decay,
so the trunk's sums are computed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from lrplan.errors import LrplanError

LrFn = Callable[[np.ndarray], np.ndarray]
SCAN_CHUNK = 1 << 11


@dataclass(frozen=True)
class Piece:
    """Steps ``[start, end)`` of one schedule phase; ``fn`` maps global steps (int64) to LRs."""

    phase: str
    start: int
    end: int
    fn: LrFn


class History:
    """The per-update LR of a run of ``total`` updates as contiguous :class:`Piece` s (see module docstring)."""

    def __init__(self, pieces: Sequence[Piece], total: int, array: np.ndarray | None = None,
                 cache: dict | None = None):
        self.pieces = [p for p in pieces if p.end > p.start]
        self.total = int(total)
        self._array = array
        self._starts = np.array([p.start for p in self.pieces], dtype=np.int64)
        self._scan: dict[str, int] = {}
        self.parent: "History | None" = None  # the run this one extends (:meth:`then`)
        self.shared = cache is not None  # another history reads the same cache (a prefix or extension of it)
        self.own_from = len(self.pieces) if cache is not None else 0  # pieces before this one are shared
        self.cache: dict[Any, Any] = {} if cache is None else cache
        """Work a law keeps between evaluations of this run; a :meth:`prefix` or :meth:`then` of it shares it
        (:mod:`lrplan.laws.cells` keys its cells by their steps and LR functions, so only what is the same is
        reused)."""

    # ------------------------------------------------------------------------------------------ building
    @classmethod
    def from_plan(cls, plan: Any) -> "History":
        """The run of a :class:`~lrplan.schedules.render.SchedulePlan` (its segments, never rendered)."""
        return cls([Piece(s.phase, s.start, s.end, s.fn) for s in plan.segments], plan.total_steps)

    @classmethod
    def from_array(cls, lr: np.ndarray) -> "History":
        """A plain per-step LR array (an LR table, or a caller's array)."""
        lr = np.asarray(lr, dtype=np.float64)
        return cls([Piece("lr", 0, lr.size, lambda s: lr[s])], lr.size, array=lr)

    def prefix(self, stop: int) -> "History":
        """The first ``stop`` updates."""
        stop = int(min(stop, self.total))
        if stop == self.total:
            return self
        keep = [Piece(p.phase, p.start, min(p.end, stop), p.fn) for p in self.pieces if p.start < stop]
        arr = self._array[:stop] if self._array is not None else None
        self.shared = True
        self.own_from = len(self.pieces)
        out = History(keep, stop, arr, cache=self.cache)
        out._scan = {k: v for k, v in self._scan.items() if k != "peak" and v < stop - 1}  # found inside the prefix
        return out

    def then(self, pieces: Sequence[Piece], total: int, share: bool = True) -> "History":
        """This history followed by ``pieces`` (which start where it ends), ``total`` updates in all. ``share``:
        the new run keeps its work in this one's cache (so that its siblings find it); else in its own (a
        short-lived candidate, whose work dies with it)."""
        if self.pieces and pieces and pieces[0].start != self.total:
            raise ValueError(f"pieces must start at step {self.total}, not {pieces[0].start}")
        self.shared = True
        out = History(list(self.pieces) + list(pieces), total, cache=self.cache if share else {})
        out.own_from = len(self.pieces)
        self.own_from = len(self.pieces)
        out._scan = {k: v for k, v in self._scan.items() if k != "peak" and v < self.total - 1}
        out.parent = self if self.total else None
        return out

    def flat(self) -> "History":
        """The same run, not marked as extending another (its cells are laid out as for a run built whole)."""
        self.shared = True
        out = History(self.pieces, self.total, self._array, cache=self.cache)
        out._scan = dict(self._scan)
        return out

    # ------------------------------------------------------------------------------------------ reading
    @property
    def starts(self) -> np.ndarray:
        return self._starts

    def piece_index(self, steps: np.ndarray) -> np.ndarray:
        return np.searchsorted(self._starts, steps, side="right") - 1

    def lr_at(self, steps: np.ndarray) -> np.ndarray:
        """LR at arbitrary steps in ``[0, total)`` (any order); an invalid LR is one :class:`LrplanError` line."""
        steps = np.asarray(steps, dtype=np.int64)
        if self._array is not None:
            return self._array[steps]
        flat = steps.ravel()
        out = np.empty(flat.size, dtype=np.float64)
        if flat.size == 0:
            return out.reshape(steps.shape)
        idx = self.piece_index(flat)
        with np.errstate(all="ignore"):
            if idx[0] == idx[-1] and (flat.size < 2 or bool((idx == idx[0]).all())):
                out[:] = self.pieces[int(idx[0])].fn(flat)
            else:
                order = np.argsort(idx, kind="stable")
                sidx = idx[order]
                cuts = np.flatnonzero(np.diff(sidx)) + 1
                for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), sidx.size]):
                    sel = order[a:b]
                    out[sel] = self.pieces[int(sidx[a])].fn(flat[sel])
        self._check(out, flat)
        return out.reshape(steps.shape)

    def _check(self, lr: np.ndarray, steps: np.ndarray) -> None:
        bad = ~np.isfinite(lr) | (lr < 0)
        if bad.any():
            k = int(np.argmax(bad))
            step = int(steps[k])
            phase = self.pieces[int(self.piece_index(np.array([step]))[0])].phase
            value = float(lr[k])
            if np.isfinite(value):
                raise LrplanError(f"the schedule gives an invalid LR (negative: {value:.6g}) at step {step:,} "
                                  f"(phase {phase}); check the phase's LRs and factors")
            raise LrplanError(f"the schedule gives an invalid LR ({value}) at step {step:,} (phase {phase}): its "
                              "values overflow double precision there; check the phase's LRs and factors")

    def range_lr(self, start: int, stop: int) -> np.ndarray:
        """LRs of the updates ``[start, stop)`` (one contiguous block)."""
        if self._array is not None:
            return self._array[start:stop]
        steps = np.arange(start, stop, dtype=np.int64)
        out = np.empty(steps.size, dtype=np.float64)
        if not steps.size:
            return out
        first = int(self.piece_index(np.array([start]))[0])
        last = int(self.piece_index(np.array([stop - 1]))[0])
        with np.errstate(all="ignore"):
            for j in range(first, last + 1):
                p = self.pieces[j]
                a, b = max(p.start, start) - start, min(p.end, stop) - start
                out[a:b] = p.fn(steps[a:b])
        self._check(out, steps)
        return out

    def chunks(self, start: int = 0, stop: int | None = None, size: int = 1 << 18) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(steps, lr)`` for consecutive blocks of at most ``size`` updates covering ``[start, stop)``."""
        stop = self.total if stop is None else int(stop)
        for pos in range(int(start), stop, max(1, int(size))):
            end = min(stop, pos + size)
            yield np.arange(pos, end, dtype=np.int64), self.range_lr(pos, end)

    def array(self) -> np.ndarray:
        """Every update's LR (only for runs that fit in memory)."""
        if self._array is None:
            self._array = self.range_lr(0, self.total)
        return self._array

    # ------------------------------------------------------------------------------------------ scans
    def _first(self, name: str, test: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> int:
        """The first step ``s`` with ``test(lr[s], lr[s+1])`` (``total - 1`` if none), scanning from step 0 in
        growing blocks (a run whose warmup is short costs a few thousand LR evaluations)."""
        if name in self._scan:
            return self._scan[name]
        if self._array is not None:
            lr = self._array
            hit = np.flatnonzero(test(lr[:-1], lr[1:])) if lr.size > 1 else np.zeros(0, np.int64)
            found = int(hit[0]) if hit.size else max(0, self.total - 1)
            self._scan[name] = found
            return found
        pos, size, prev = 0, SCAN_CHUNK, None
        found = max(0, self.total - 1)
        while pos < self.total:
            end = min(self.total, pos + size)
            lr = self.range_lr(pos, end)
            if prev is not None:
                lr = np.r_[prev, lr]
                base = pos - 1
            else:
                base = pos
            if lr.size > 1:
                hit = np.flatnonzero(test(lr[:-1], lr[1:]))
                if hit.size:
                    found = base + int(hit[0])
                    break
            prev = lr[-1:]
            pos, size = end, min(size * 4, 1 << 22)
        self._scan[name] = found
        return found

    def warmup_length(self) -> int:
        """:func:`lrplan.laws.warmup.warmup_length` of the whole run: the first ``W`` with ``lr[W+1] <= lr[W]``."""
        if self.total < 2:
            return 0
        return self._first("warmup", lambda a, b: b <= a)

    def first_positive(self) -> int | None:
        """The first step whose LR is above 0 (``None`` if every LR is 0)."""
        if self.total == 0:
            return None
        if float(self.lr_at(np.array([0]))[0]) > 0:
            return 0
        s = self._first("positive", lambda a, b: b > 0) + 1
        if s >= self.total or float(self.lr_at(np.array([s]))[0]) <= 0:
            return None
        return s

    def last_lr(self) -> float:
        return float(self.lr_at(np.array([self.total - 1]))[0])

    def sample(self, per_piece: int = 4096) -> np.ndarray:
        """The LR at every piece's first and last update and at up to ``per_piece`` evenly spread updates of
        each piece, in step order: the whole array for an array history. Of a piece whose LR is monotone this
        has the exact maximum and the exact sum of decreases (what :meth:`peak` and the laws' loss floors read)."""
        if self._array is not None:
            return self._array
        out = []
        memo = self.cache.setdefault("sample", {})
        for p in self.pieces:
            key = (id(p.fn), p.start, p.end, per_piece)
            got = memo.get(key)
            if got is None or got[0] is not p.fn:
                pts = np.unique(np.linspace(p.start, p.end - 1, min(per_piece, p.end - p.start)).round().astype(np.int64))
                got = memo[key] = (p.fn, self.lr_at(pts))
            out.append(got[1])
        return np.concatenate(out) if out else np.zeros(0)

    def peak(self) -> float:
        """The largest LR (of :meth:`sample`: exact for monotone pieces)."""
        if "peak" not in self._scan:
            self._scan["peak"] = float(self.sample().max()) if self.total else 0.0  # type: ignore[assignment]
        return float(self._scan["peak"])


def as_history(source: Any) -> History:
    """A :class:`History` of a plan, an array, or a history."""
    if isinstance(source, History):
        return source
    if hasattr(source, "segments") and hasattr(source, "total_steps"):
        return History.from_plan(source)
    return History.from_array(np.asarray(source, dtype=np.float64))


class QuerySteps:
    """Sorted distinct query steps, held as an array or described by a rule (``first``, the multiples of
    ``every`` after it, and ``last``): ``predict -o`` of a 10^8-step run never holds its 10^8 row steps."""

    def __init__(self, steps: np.ndarray | None = None, first: int = 0, last: int = 0, every: int = 1):
        if steps is not None:
            self._steps: np.ndarray | None = np.unique(np.asarray(steps, dtype=np.int64))
            self.first, self.last, self.every = int(self._steps[0]), int(self._steps[-1]), 0
            self.size = int(self._steps.size)
            return
        self._steps = None
        self.first, self.last, self.every = int(first), int(last), max(1, int(every))
        if self.every == 1:
            self.size = self.last - self.first + 1
            return
        m0 = -(-(self.first + 1) // self.every) * self.every  # first multiple after `first`
        self._m0 = m0
        self._nm = max(0, (self.last - 1 - m0) // self.every + 1) if m0 <= self.last - 1 else 0
        self.size = 1 + self._nm + (1 if self.last > self.first else 0)

    @classmethod
    def rule(cls, first: int, last: int, every: int = 1) -> "QuerySteps":
        """``first``, the multiples of ``every`` in ``(first, last)``, and ``last``."""
        return cls(None, first, last, every)

    def at(self, idx: np.ndarray) -> np.ndarray:
        """The steps of indices ``idx`` (``0 .. size-1``)."""
        idx = np.asarray(idx, dtype=np.int64)
        if self._steps is not None:
            return self._steps[idx]
        if self.every == 1:
            return self.first + idx
        out = self._m0 + (idx - 1) * self.every
        out = np.where(idx == 0, self.first, out)
        return np.where(idx == self.size - 1, self.last, out)

    def index_of(self, steps: np.ndarray) -> np.ndarray:
        """The index of the first query at or after each step (clipped to the last)."""
        steps = np.asarray(steps, dtype=np.int64)
        if self._steps is not None:
            return np.minimum(np.searchsorted(self._steps, steps, side="left"), self.size - 1)
        if self.every == 1:
            return np.clip(steps - self.first, 0, self.size - 1)
        k = -(-(steps - self._m0) // self.every) + 1  # multiples at or after the step
        k = np.where(steps <= self.first, 0, np.clip(k, 1, self._nm + 1))
        return np.minimum(k, self.size - 1)

    def between(self, a: int, b: int) -> np.ndarray:
        """The query steps in ``[a, b)``."""
        if self._steps is not None:
            return self._steps[np.searchsorted(self._steps, a):np.searchsorted(self._steps, b)]
        if self.every == 1:
            return np.arange(max(a, self.first), min(b, self.last + 1), dtype=np.int64)
        lo, hi = max(a, self.first), min(b, self.last + 1)
        if lo >= hi:
            return np.zeros(0, np.int64)
        i0 = int(self.index_of(np.array([lo]))[0])
        i1 = int(self.index_of(np.array([hi]))[0])
        if int(self.at(np.array([i1]))[0]) < hi:
            i1 += 1
        return self.at(np.arange(i0, i1))

    def array(self) -> np.ndarray:
        return self._steps if self._steps is not None else self.at(np.arange(self.size))

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        for i in range(0, self.size, size):
            yield self.at(np.arange(i, min(self.size, i + size)))
