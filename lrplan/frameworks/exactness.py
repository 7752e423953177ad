"""Is what a framework runs the spec, update for update? In O(segments) for long runs, with flat memory always.

:func:`check` compares a framework run (:class:`FrameworkRun`: the simulator's ``lr_at`` and ``pieces`` for a native
config) with a spec's :class:`lrplan.schedules.render.SchedulePlan` at rtol 1e-12 (atol 1e-300), the test of
:func:`lrplan.frameworks.common.compare`, and returns the same ``(exact, max_abs_dev, max_rel_dev, first_diff)``
together with the counts :func:`lrplan.frameworks.export.describe_stats` words a mismatch with.

**The guarantee.** ``exact=True`` means every update ``s`` in ``[0, n)`` satisfies
``|framework(s) - spec(s)| <= 1e-12 |spec(s)| + 1e-300``, where both sides are the values the code computes. It is
established update by update, or per stretch by a bound:

* ``n <= EXHAUSTIVE_MAX`` (and always when the stretch has no closed form on either side): every update is
  evaluated on both sides and compared, in chunks of ``CHUNK`` updates (flat memory).
* Otherwise the run is cut at the union of both sides' boundaries (the spec's phases and batch changes, the
  framework's piece edges: :meth:`FrameworkRun.pieces`, :meth:`~lrplan.schedules.render.SchedulePlan.pieces`). On
  a stretch where both sides have a closed form (:class:`lrplan.schedules.forms.StepForm`) that
  :func:`lrplan.schedules.forms.agreement_bound` can compare (the same shape at the same position, or two
  affine functions), ``|framework(s) - spec(s)| <= E`` for every update of the stretch, where ``E`` is the exact
  difference of the two exact-arithmetic forms plus a bound on the rounding of each side's code (4x a first-order
  analysis). The exact spec form is monotone on the stretch, so the updates whose spec LR is at least
  ``E / 1e-12 + 2 err_spec`` (a prefix or suffix, found by bisection) pass without being evaluated; the rest of the
  stretch (the low LRs where rounding could exceed 1e-12 relative, e.g. the end of a decay to 0) is compared update
  by update, in chunks. Stretches without comparable forms are compared update by update.

The bound rests on the forms being what the code computes: the spec's are attached where its pieces are built
(:func:`lrplan.schedules.segments.ramp`, ``constant``), each simulator's come from its ``pieces``; both are
tested against the code on every conformance config and spec of the test corpus (``tests/frameworks/
test_exactness.py``). A stretch whose form is unknown on either side (inverse-sqrt, HF, OLMo-core, DeepSpeed,
custom shapes, a 1-sqrt decay whose clock rounds past 2**53) is compared update by update: slower, never less
exact. On every stretch, whatever the path, a window of ``WINDOW`` updates at each end and ``SAMPLE`` evenly
spaced interior updates are also compared directly (a check of the forms themselves, not part of the bound).

When anything differs, the whole run is scanned in chunks for the true ``first_diff``, maximum deviations and
counts: a mismatch is reported exactly as a comparison of the two full arrays reports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from lrplan.frameworks.common import RTOL
from lrplan.schedules.forms import agreement_bound

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.schedules.render import SchedulePlan

__all__ = ["CHUNK", "EXHAUSTIVE_MAX", "Check", "FrameworkRun", "Stats", "check", "scan"]

EXHAUSTIVE_MAX = 1 << 22  # up to ~4.2M updates every update is compared (a fraction of a second)
CHUNK = 1 << 20
WINDOW = 64
SAMPLE = 2048
TINY = np.finfo(np.float64).tiny


# ------------------------------------------------------------------------------------------- framework runs


class FrameworkRun:
    """What a native config (or a list of them: one launch per segment, stitched as
    :func:`lrplan.frameworks.export.simulate` stitches them) runs, evaluated lazily: ``n`` updates,
    :meth:`lr_at` any of them, :meth:`pieces` its closed forms. The framework's refusals raise ``ValueError``
    (the simulator's ``validate``), as ``simulate`` does."""

    def __init__(self, fw: Any, native: Any):
        """``fw``: the :class:`lrplan.frameworks.base.Framework`; ``native``: one config or a list of them."""
        sim = fw.simulator
        ex = fw.exporter
        if getattr(ex, "run", None) is not None and getattr(ex, "prepare", None) is None or not _lazy(sim):
            sim = _Materialized(sim, fw.run)  # an exporter's own ``run`` hook (or a simulator without lr_at): as is
        self.sim = sim
        cfgs = native if isinstance(native, list) else [native]
        parts = []  # (first global update, first local update, local end, config)
        start = offset = 0
        for cfg in cfgs:
            cfg = fw.prepare(cfg)
            problems = sim.validate(cfg)
            if problems:
                raise ValueError("; ".join(problems))
            end = int(sim.run_length(cfg))
            if end > start:
                parts.append((offset, start, end, cfg))
                offset += end - start
            start = end
        self.parts = parts
        self.n = offset

    @classmethod
    def of(cls, sim: Any, config: Any) -> "FrameworkRun":
        """The run of one config of the simulator module ``sim`` (no exporter: an imported config)."""
        out = cls.__new__(cls)
        if not _lazy(sim):
            sim = _Materialized(sim, sim.simulate)
        out.sim = sim
        problems = sim.validate(config)
        if problems:
            raise ValueError("; ".join(problems))
        n = int(sim.run_length(config))
        out.parts = [(0, 0, n, config)] if n > 0 else []
        out.n = max(n, 0)
        return out

    def lr_at(self, steps: Any) -> np.ndarray:
        """The LR of the (0-based) updates ``steps``."""
        steps = np.asarray(steps, dtype=np.int64)
        if len(self.parts) == 1:
            g0, l0, _, cfg = self.parts[0]
            return np.asarray(self.sim.lr_at(cfg, steps - g0 + l0), dtype=np.float64)
        out = np.empty(steps.shape, dtype=np.float64)
        for g0, l0, l1, cfg in self.parts:
            m = (steps >= g0) & (steps < g0 + l1 - l0)
            if m.any():
                out[m] = self.sim.lr_at(cfg, steps[m] - g0 + l0)
        return out

    def lr_range(self, start: int, stop: int) -> np.ndarray:
        return self.lr_at(np.arange(start, stop, dtype=np.int64))

    def pieces(self) -> list[tuple[int, int, Any]]:
        """``(start, end, form)`` stretches covering ``[0, n)`` (each simulator's ``pieces``, shifted per launch)."""
        out = []
        for g0, l0, l1, cfg in self.parts:
            shift = g0 - l0
            for a, b, form in self.sim.pieces(cfg, l1):
                a, b = max(a, l0), min(b, l1)
                if a < b:
                    if form is not None and shift:
                        form = replace(form, s0=form.s0 + shift)
                    out.append((a + shift, b + shift, form))
        return out


def _lazy(sim: Any) -> bool:
    return all(callable(getattr(sim, k, None)) for k in ("lr_at", "run_length", "pieces"))


class _Materialized:
    """A simulator without ``lr_at`` (or an exporter ``run`` hook without ``prepare``): each config simulated
    once, whole, by ``run(config)``; no closed forms (every update compared)."""

    def __init__(self, sim: Any, run: Callable[[Any], np.ndarray]):
        self._sim, self._run = sim, run
        self._cache: dict[int, tuple[Any, np.ndarray]] = {}

    def validate(self, config: Any) -> list[str]:
        return self._sim.validate(config)

    def _lr(self, config: Any) -> np.ndarray:
        hit = self._cache.get(id(config))
        if hit is None or hit[0] is not config:
            hit = (config, np.asarray(self._run(config), dtype=np.float64))
            self._cache[id(config)] = hit
        return hit[1]

    def run_length(self, config: Any) -> int:
        return int(self._lr(config).size)

    def lr_at(self, config: Any, steps: np.ndarray) -> np.ndarray:
        return self._lr(config)[np.asarray(steps, dtype=np.int64)]

    def pieces(self, config: Any, n: int) -> list[tuple[int, int, Any]]:
        return [(0, n, None)] if n > 0 else []


# ------------------------------------------------------------------------------------------------ statistics


@dataclass
class Stats:
    """What a full comparison of ``got`` (framework) with ``want`` (spec) finds, accumulated chunk by chunk: the
    numbers of :func:`lrplan.frameworks.common.compare` and of :func:`lrplan.frameworks.export.describe_stats`."""

    peak: float
    n: int = 0
    bad: int = 0
    first_bad: Optional[int] = None
    max_dev: float = 0.0
    argmax_dev: int = 0
    max_rel: float = 0.0
    any_pos: bool = False
    zeros: int = 0
    near0: int = 0
    g_peak_first: Optional[int] = None
    w_peak_first: Optional[int] = None
    g_peak: int = 0
    w_peak: int = 0
    close_first: bool = True
    close_last: bool = True
    invalid: int = 0  # updates where the framework's LR is not finite or is negative
    got_first: float = 0.0
    want_first: float = 0.0
    got_last: float = 0.0
    want_last: float = 0.0

    def add(self, got: np.ndarray, want: np.ndarray, offset: int, counts: bool = True) -> None:
        """The next chunk: updates ``offset .. offset + len(got) - 1``, in order. ``counts=False``: only whether
        (and where first) they differ, and whether the framework's LRs are valid (the rest is left as it is)."""
        if got.size == 0:
            return
        dev = np.abs(got - want)
        close = dev <= RTOL * np.abs(want) + 1e-300
        if not counts:
            if not close.all():
                bad = ~close
                if self.first_bad is None:
                    self.first_bad = offset + int(np.argmax(bad))
                self.bad += int(bad.sum())
            self.invalid += int((~np.isfinite(got) | (got < 0)).sum())
            self.n += got.size
            return
        bad = ~close
        nb = int(bad.sum())
        if nb and self.first_bad is None:
            self.first_bad = offset + int(np.argmax(bad))
        self.bad += nb
        k = int(np.argmax(dev))
        if self.n == 0 or dev[k] > self.max_dev or (np.isnan(dev[k]) and not np.isnan(self.max_dev)):
            self.max_dev, self.argmax_dev = float(dev[k]), offset + k
        pos = want >= TINY
        if pos.any():
            with np.errstate(over="ignore"):
                r = float((dev[pos] / want[pos]).max())
            self.max_rel = r if not self.any_pos else max(self.max_rel, r)
            self.any_pos = True
        self.invalid += int((~np.isfinite(got) | (got < 0)).sum())
        self.zeros += int(((want == 0) & bad).sum())
        self.near0 += int(((want > 0) & (want < TINY) & bad).sum())
        pk = self.peak * (1 - 1e-12)
        gp, wp = got >= pk, want >= pk
        if self.g_peak_first is None and gp.any():
            self.g_peak_first = offset + int(np.argmax(gp))
        if self.w_peak_first is None and wp.any():
            self.w_peak_first = offset + int(np.argmax(wp))
        self.g_peak += int(gp.sum())
        self.w_peak += int(wp.sum())
        if self.n == 0:
            self.close_first, self.got_first, self.want_first = bool(close[0]), float(got[0]), float(want[0])
        self.close_last, self.got_last, self.want_last = bool(close[-1]), float(got[-1]), float(want[-1])
        self.n += got.size

    @property
    def exact(self) -> bool:
        return self.bad == 0

    def compare(self) -> tuple[bool, float, float, Optional[int]]:
        """What :func:`lrplan.frameworks.common.compare` returns for the two full arrays."""
        if self.exact:
            return True, 0.0, 0.0, None
        return False, self.max_dev, (self.max_rel if self.any_pos else 0.0), self.first_bad

    @classmethod
    def of(cls, got: np.ndarray, want: np.ndarray, peak: float) -> "Stats":
        st = cls(peak)
        for a in range(0, max(got.size, 1), CHUNK):
            st.add(got[a : a + CHUNK], want[a : a + CHUNK], a)
        return st


def scan(got: Callable[[int, int], np.ndarray], want: Callable[[int, int], np.ndarray], n: int, peak: float,
         start: int = 0, stop: Optional[int] = None, stop_at_first: bool = False) -> Stats:
    """:class:`Stats` of updates ``[start, stop)`` (default the whole run), ``CHUNK`` updates at a time;
    ``got(a, b)`` / ``want(a, b)`` give the LRs of updates ``a .. b-1``. ``stop_at_first``: only whether they
    differ (no deviations or counts), stopping after the chunk holding the first difference."""
    stop = n if stop is None else stop
    st = Stats(peak)
    for a in range(start, stop, CHUNK):
        b = min(stop, a + CHUNK)
        st.add(got(a, b), want(a, b), a, counts=not stop_at_first)
        if stop_at_first and st.bad:
            break
    return st


# ---------------------------------------------------------------------------------------------------- check


@dataclass
class Check:
    """The result of :func:`check`: ``compare``'s four numbers, the :class:`Stats` of the full scan (None when
    exact without one), and how it was established (``"exhaustive"``, ``"segments"``)."""

    exact: bool
    max_abs_dev: float
    max_rel_dev: float
    first_diff: Optional[int]
    stats: Optional[Stats]
    method: str
    certified: int = 0  # updates covered by a bound, not evaluated (segments only)
    valid: bool = True  # the framework's LRs are finite and >= 0 at every update evaluated (the others: bounded > 0)


def _form_at(pieces: list[tuple[int, int, Any]], starts: np.ndarray, s: int) -> Any:
    i = int(np.searchsorted(starts, s, side="right")) - 1
    return pieces[i][2] if i >= 0 else None


def _close(got: np.ndarray, want: np.ndarray) -> bool:
    return bool((np.abs(got - want) <= RTOL * np.abs(want) + 1e-300).all())


def _uncertified(F: Any, G: Any, a: int, b: int, spec_lr: Callable[[np.ndarray], np.ndarray]) -> list[tuple[int, int]]:
    """The updates of ``[a, b)`` that the bound does not cover (all of them when the forms are not comparable)."""
    if F is None or G is None:
        return [(a, b)]
    E = agreement_bound(F, G, a, b)
    if E is None:
        return [(a, b)]
    thr = E / RTOL * (1 + 1e-9) + 2 * G.err
    ga, gb = (float(x) for x in spec_lr(np.array([a, b - 1], dtype=np.int64)))
    if min(ga, gb) >= thr:
        return []
    if max(ga, gb) < thr:
        return [(a, b)]
    lo, hi = (a, b - 1) if ga >= gb else (b - 1, a)  # spec_lr(lo) >= thr > spec_lr(hi); the exact form is monotone
    while abs(hi - lo) > 1:
        mid = (lo + hi) // 2
        if float(spec_lr(np.array([mid], dtype=np.int64))[0]) >= thr:
            lo = mid
        else:
            hi = mid
    return [(lo + 1, b)] if ga >= gb else [(a, lo)]


def check(run: Any, plan: "SchedulePlan", peak: float, exhaustive_max: int = EXHAUSTIVE_MAX,
          full: bool = True) -> Check:
    """Compare ``run`` (a :class:`FrameworkRun`, or anything with ``n``, ``lr_at``, ``lr_range``, ``pieces``) with
    ``plan`` over all ``plan.total_steps`` updates; see the module docstring for the guarantee. ``peak`` is the
    spec's peak LR (for the counts of :class:`Stats`). ``full=False``: on a mismatch, return at once (``exact``
    False, no deviations or counts) instead of scanning the whole run for them."""
    n = plan.total_steps
    if run.n != n:  # pragma: no cover - the caller compares lengths first
        raise ValueError(f"the framework runs {run.n:,} updates where the spec has {n:,}")

    if n <= exhaustive_max:
        st = scan(run.lr_range, plan.lr_range, n, peak, stop_at_first=not full)
        if not full:
            if not st.exact:
                return Check(False, math.nan, math.nan, None, None, "exhaustive", valid=not st.invalid)
            return Check(True, 0.0, 0.0, None, None, "exhaustive", valid=not st.invalid)
        ex, mx, mr, first = st.compare()
        return Check(ex, mx, mr, first, st, "exhaustive", valid=not st.invalid)
    fp, gp = run.pieces(), plan.pieces()
    fs = np.array([p[0] for p in fp], dtype=np.int64)
    gs = np.array([p[0] for p in gp], dtype=np.int64)
    cuts = np.union1d(np.union1d(fs, gs), [0, n])
    cuts = cuts[(cuts >= 0) & (cuts <= n)]
    todo: list[tuple[int, int]] = []
    valid = True
    for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
        probe = np.unique(np.concatenate([
            np.arange(a, min(b, a + WINDOW)), np.arange(max(a, b - WINDOW), b),
            np.linspace(a, b - 1, min(SAMPLE, b - a)).astype(np.int64),
        ])).astype(np.int64)
        got = run.lr_at(probe)
        valid = valid and bool((np.isfinite(got) & (got >= 0)).all())
        if not _close(got, plan.lr_at(probe)):
            return _mismatch(run, plan, n, peak, full)
        todo += _uncertified(_form_at(fp, fs, a), _form_at(gp, gs, a), a, b, plan.lr_at)
    for a, b in todo:
        st = scan(run.lr_range, plan.lr_range, n, peak, a, b, stop_at_first=True)
        valid = valid and not st.invalid
        if st.bad:
            return _mismatch(run, plan, n, peak, full)
    evaluated = sum(b - a for a, b in todo)
    return Check(True, 0.0, 0.0, None, None, "segments", certified=n - evaluated, valid=valid)


def _mismatch(run: Any, plan: "SchedulePlan", n: int, peak: float, full: bool) -> Check:
    if not full:
        return Check(False, math.nan, math.nan, None, None, "segments")
    st = scan(run.lr_range, plan.lr_range, n, peak)
    ex, mx, mr, first = st.compare()
    if ex:  # pragma: no cover - a probe differed, so the scan does too
        raise AssertionError("a probed update differs but the full scan finds none")
    return Check(ex, mx, mr, first, st, "segments")


# ------------------------------------------------------------------------------------------------- lazy LRs


class LazyLR:
    """The LRs of ``n`` updates, evaluated on demand (``lr_at`` of arbitrary updates, ``lr_range`` of a block):
    indexing (an int, or a slice) evaluates only those updates; :meth:`array` (and ``np.asarray``) holds all of
    them, for runs of at most ``MAX_IN_MEMORY`` updates (:mod:`lrplan.schedules.render`)."""

    def __init__(self, n: int, lr_at: Callable[[np.ndarray], np.ndarray], lr_range: Callable[[int, int], np.ndarray],
                 what: str = "the LRs"):
        self.n = int(n)
        self.lr_at = lr_at
        self.lr_range = lr_range
        self.what = what
        self._all: Optional[np.ndarray] = None

    @property
    def size(self) -> int:
        return self.n

    @property
    def shape(self) -> tuple[int]:
        return (self.n,)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key: Any) -> Any:
        if self._all is not None:
            return self._all[key]
        if isinstance(key, slice):
            a, b, step = key.indices(self.n)
            return self.lr_at(np.arange(a, b, step, dtype=np.int64))
        k = int(key)
        if k < 0:
            k += self.n
        if not 0 <= k < self.n:
            raise IndexError(f"update {key} of {self.n}")
        return np.float64(self.lr_at(np.array([k], dtype=np.int64))[0])

    def array(self) -> np.ndarray:
        """Every update's LR as one float64 array (computed once, in chunks)."""
        if self._all is None:
            from lrplan.errors import LrplanError
            from lrplan.schedules.render import MAX_IN_MEMORY

            if self.n > MAX_IN_MEMORY:
                raise LrplanError(f"{self.n:,} updates is too many to hold {self.what} in memory at once (up to "
                                  f"{MAX_IN_MEMORY:,}); `lrplan render --convention FW -o FILE` streams any length")
            out = np.empty(self.n, dtype=np.float64)
            for a in range(0, self.n, CHUNK):
                b = min(self.n, a + CHUNK)
                out[a:b] = self.lr_range(a, b)
            self._all = out
        return self._all

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.array()
        return out if dtype is None else out.astype(dtype)

    def chunks(self, size: int = CHUNK):
        """``(start, lrs)`` blocks of at most ``size`` updates, in order (flat memory)."""
        for a in range(0, self.n, size):
            yield a, self.lr_range(a, min(self.n, a + size))
