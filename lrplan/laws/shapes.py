"""Comparing schedule *shapes* with a law fitted on one model, one peak LR and one length (issue 17 point 2).

A built-in law (e.g. ``builtin:mpl-400m``: a 400M model at peak 3e-4 over 24,000 steps) predicts absolute losses
of *its* reference model. Applied to a schedule at another peak LR or length it mostly measures LR area (more
area always means lower loss under it), not schedule quality. So without ``--law`` lrplan compares shapes:

1. each schedule is mapped onto the law's fitted length (:func:`to_regime`): its steps relative to its own
   length, times the law's longest fitted curve. Its LR is kept as it is: how fast a cooldown pays off depends
   on the absolute LR (the noise floor is proportional to it), and scaling the LR to the law's peak as well
   ranks real cooldowns worse (``benchmarks/builtin_shapes.py``: Schaipp 124M at peak 2e-3, Kendall tau -0.14
   with the LR scaled vs 0.87 kept; README has every set);
2. it is predicted there next to a reference schedule with the same peak LR, length and warmup (default: cosine
   to 10 % of the peak, :func:`cosine_reference`; or ``--baseline SPEC``), mapped the same way;
3. the result is the difference of their final losses, with the band of the difference
   (:func:`lrplan.laws.bands.difference_band`, members paired);
4. schedules are ranked against each other only within a group of the same peak LR and length
   (:func:`groups`): a law fitted on one peak LR and one length says nothing about which peak or length is better.

Pure functions of LR arrays and :class:`~lrplan.laws.history.History` objects; the CLI renders the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from lrplan.errors import LrplanError
from lrplan.laws.history import History

REFERENCE_FINAL = 0.1
"""The default reference: cosine from the peak to ``REFERENCE_FINAL`` x peak (Loshchilov & Hutter 2017, as
Megatron's ``--lr-decay-style cosine`` with ``--min-lr`` = 0.1 x peak)."""

SAME_PEAK_RTOL = 1e-9


@dataclass(frozen=True)
class Regime:
    """The law's fitted regime: its peak LR and the length of its longest fitted curve (updates)."""

    peak_lr: float
    steps: int

    @classmethod
    def of(cls, law_range: dict[str, Any]) -> "Regime":
        """From :func:`lrplan.laws.resolve.law_range` (``peak_lr``, ``steps = (first, last)`` fitted step)."""
        if "peak_lr" not in law_range or "steps" not in law_range:
            raise LrplanError("the law does not record its fitted peak LR and length: cannot map schedules onto "
                              "its regime; pass --law with a law fitted on your runs")
        return cls(float(law_range["peak_lr"]), int(law_range["steps"][1]) + 1)


def to_regime(hist: History, regime: Regime, scale_lr: bool = False) -> np.ndarray:
    """The LR array of ``hist`` mapped onto ``regime``'s length: ``regime.steps`` updates, update ``j`` taking
    the LR of update ``floor((j + 1/2) T / n)`` of the ``T``-update run (a run of ``regime.steps`` updates maps
    onto itself). ``scale_lr``: also scale the LR by ``regime.peak_lr / peak`` (the variant the benchmark
    reports next to the default; it ranks real cooldowns worse)."""
    T, n = hist.total, regime.steps
    peak = hist.peak()
    if not peak > 0:
        raise LrplanError("the LR is 0 at every step: no loss to predict")
    src = np.minimum(((np.arange(n, dtype=np.float64) + 0.5) * T / n).astype(np.int64), T - 1)
    lr = hist.lr_at(src)
    return lr * (regime.peak_lr / peak) if scale_lr else lr


def warmup_steps(lr: np.ndarray) -> int:
    """Updates before the LR first reaches its peak (the warmup ramp of a mapped schedule)."""
    return int(np.argmax(lr >= lr.max() * (1 - 1e-12)))


def cosine_reference(lr: np.ndarray, final: float = REFERENCE_FINAL) -> np.ndarray:
    """The reference for a mapped schedule ``lr``: its own warmup (the first :func:`warmup_steps` updates, kept
    as they are), then a cosine from its peak to ``final`` x peak at the last update."""
    n = lr.size
    w = warmup_steps(lr)
    peak = float(lr.max())
    out = lr.copy()
    k = np.arange(n - w, dtype=np.float64)
    span = max(n - w - 1, 1)
    out[w:] = peak * (final + (1 - final) * 0.5 * (1 + np.cos(np.pi * k / span)))
    return out


@dataclass
class Group:
    """Schedules with the same peak LR and length: ranked against each other, each against one reference."""

    peak_lr: float
    steps: int
    members: list[int] = field(default_factory=list)


def groups(peaks: Sequence[float], steps: Sequence[int]) -> list[Group]:
    """Indices grouped by (peak LR, length), in first-seen order (peaks equal within :data:`SAME_PEAK_RTOL`)."""
    out: list[Group] = []
    for i, (p, t) in enumerate(zip(peaks, steps)):
        for g in out:
            if g.steps == t and abs(g.peak_lr - p) <= SAME_PEAK_RTOL * max(abs(p), abs(g.peak_lr)):
                g.members.append(i)
                break
        else:
            out.append(Group(float(p), int(t), [i]))
    return out


@dataclass
class Relative:
    """One schedule's final loss relative to its reference, in the law's regime: ``delta`` (negative: better
    than the reference) and its 90 % band ``[lo, hi]``; ``tie``: the band contains 0."""

    delta: float
    lo: float
    hi: float

    @property
    def tie(self) -> bool:
        return self.lo <= 0.0 <= self.hi


def relative_finals(predictor: Any, mapped: Sequence[np.ndarray], references: Sequence[np.ndarray]) -> list[Relative]:
    """``final(mapped[i]) - final(references[i])`` per schedule under ``predictor`` (a
    :class:`~lrplan.laws.resolve.Predictor`), with the band of each difference (members paired; a law without
    members gives a band of its central difference only)."""
    return _relative(predictor, mapped, references)[0]


def _relative(predictor: Any, mapped: Sequence[np.ndarray], references: Sequence[np.ndarray]
              ) -> tuple[list[Relative], np.ndarray | None]:
    """:func:`relative_finals` and the schedules' member predictions ``(K, n)`` (``None`` without members)."""
    hs = [History.from_array(np.asarray(a, dtype=np.float64)) for a in mapped]
    hr = [History.from_array(np.asarray(a, dtype=np.float64)) for a in references]
    n = len(hs)
    if hasattr(predictor, "member_finals"):
        m = np.asanyarray(predictor.member_finals(hs + hr, 0), dtype=float)  # the cells: laid out once for all
        ms, mr = m[:, :n], m[:, n:]
        from lrplan.laws.bands import difference_band

        lo, hi = difference_band(ms, mr)
        d = ms[0] - mr[0]
    else:
        ms = None
        vals = []
        for v in predictor.finals(hs + hr):
            if isinstance(v, Exception):
                raise v
            vals.append(float(v[0]))
        d = np.array(vals[:n]) - np.array(vals[n:])
        lo = hi = d
    out = [Relative(float(a), float(b), float(c)) for a, b, c in zip(d, lo, hi)]
    for r in out:
        if not all(np.isfinite([r.delta, r.lo, r.hi])):
            raise LrplanError("the law gives a non-finite loss for a mapped schedule; it cannot compare them")
    return out, ms


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-a of two score lists (pairs tied in either count as 0): +1 = the same order."""
    a, b = np.asarray(x, float), np.asarray(y, float)
    i, j = np.triu_indices(a.size, 1)
    s = np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
    return float(s.mean()) if s.size else float("nan")


def pairs_right(predicted: Sequence[float], observed: Sequence[float], min_gap: float = 0.002) -> tuple[int, int]:
    """``(right, total)`` over the pairs whose observed values differ by more than ``min_gap``: how many the
    predicted values order the same way (issue 16's pair count)."""
    p, o = np.asarray(predicted, float), np.asarray(observed, float)
    i, j = np.triu_indices(o.size, 1)
    keep = np.abs(o[i] - o[j]) > min_gap
    right = np.sign(p[i] - p[j]) == np.sign(o[i] - o[j])
    return int((right & keep).sum()), int(keep.sum())


@dataclass
class ShapeComparison:
    """``predict`` without ``--law``: per group of schedules (same peak LR and length), each one's final loss
    relative to its reference in the law's regime. ``reference``: how the reference is described."""

    regime: Regime
    reference: str
    groups: list[Group]
    names: list[str]
    relative: list[Relative]
    members: np.ndarray | None = None
    """The law's member predictions of the mapped schedules, ``(K, n)``: for ties within a group."""

    def ranked(self, g: Group) -> list[int]:
        """The group's members, best (most negative difference) first; ties keep the input order."""
        return sorted(g.members, key=lambda i: (self.relative[i].delta, i))

    def tied_with_best(self, g: Group) -> set[int]:
        """The group's schedules (other than its best) whose difference to the best is within uncertainty: the
        band of their paired difference (:func:`lrplan.laws.bands.difference_band`) contains 0. Without
        members: those whose central difference is 0."""
        order = self.ranked(g)
        best, out = order[0], set()
        for i in order[1:]:
            if self.members is not None:
                from lrplan.laws.bands import difference_band

                lo, _ = difference_band(self.members[:, i : i + 1], self.members[:, best : best + 1])
                tie = float(lo[0]) <= 0.0
            else:
                tie = self.relative[i].delta == self.relative[best].delta
            if tie:
                out.add(i)
        return out


def compare_shapes(names: Sequence[str], hists: Sequence[History], predictor: Any, regime: Regime,
                   baseline: History | None = None, baseline_name: str | None = None) -> ShapeComparison:
    """Map every schedule onto ``regime`` (:func:`to_regime`) and predict it relative to its reference: cosine to
    :data:`REFERENCE_FINAL` x its peak with its own warmup (:func:`cosine_reference`), or ``baseline`` (a
    schedule of the same peak LR and length as every one compared with it; :class:`LrplanError` otherwise)."""
    peaks = [h.peak() for h in hists]
    lengths = [h.total for h in hists]
    mapped = [to_regime(h, regime) for h in hists]
    if baseline is not None:
        bp, bt = baseline.peak(), baseline.total
        for n, p, t in zip(names, peaks, lengths):
            if t != bt or abs(p - bp) > SAME_PEAK_RTOL * max(p, bp):
                raise LrplanError(f"--baseline {baseline_name}: its peak LR {bp:.4g} and length {bt:,} steps differ "
                                  f"from {n}'s ({p:.4g}, {t:,} steps); a baseline is compared with schedules of "
                                  "the same peak LR and budget only")
        ref = to_regime(baseline, regime)
        refs = [ref] * len(mapped)
        what = f"the baseline {baseline_name}"
    else:
        refs = [cosine_reference(m) for m in mapped]
        what = f"cosine to {REFERENCE_FINAL:.0%} of the same peak LR, budget and warmup"
    rel, ms = _relative(predictor, mapped, refs)
    return ShapeComparison(regime, what, groups(peaks, lengths), list(names), rel, ms)


def single_regime(law_range: dict[str, Any], fitted: Any) -> tuple[bool, bool]:
    """``(one_peak, one_length)``: whether a law was fitted at one peak LR (``peak_lr_range`` of one value, or
    none recorded) and on curves of one length (their fit windows end within 5 % of each other)."""
    pr = law_range.get("peak_lr_range")
    one_peak = not pr or abs(pr[1] - pr[0]) <= 1e-9 * max(abs(pr[1]), 1e-300)
    ends = [v[1] for v in ((getattr(fitted, "window", None) or {}).get("per_curve") or {}).values()
            if isinstance(v, (list, tuple)) and len(v) >= 2]
    one_length = not ends or (max(ends) - min(ends)) <= 0.05 * max(ends)
    return one_peak, one_length


def compare_needed(pred: Any, law_given: bool) -> bool:
    """Whether ``predict`` compares shapes (:func:`compare_prediction`) instead of ranking absolute losses: always
    under the built-in law (no ``--law``); under a given law when the schedules differ in peak LR (or budget) and
    the law was fitted at one peak LR (or length)."""
    if not law_given:
        return True
    from lrplan.laws.resolve import law_range

    ps = pred.predicted
    if len(ps) < 2:
        return False
    one_peak, one_length = single_regime(law_range(pred.law.meta), pred.law.fitted)
    peaks = [p.schedule.history.peak() for p in ps]
    lengths = {p.schedule.history.total for p in ps}
    peaks_differ = max(peaks) - min(peaks) > SAME_PEAK_RTOL * max(peaks)
    return (peaks_differ and one_peak) or (len(lengths) > 1 and one_length)


def compare_prediction(pred: Any, baseline: Any = None) -> ShapeComparison:
    """:func:`compare_shapes` for ``lrplan predict``'s schedules (a :class:`~lrplan.laws.predicting.Prediction`;
    those the law cannot evaluate left out) under its law; ``baseline``: a spec path (``--baseline``)."""
    from lrplan.laws.resolve import Predictor, law_range

    res = pred.law
    base_hist = base_name = None
    if baseline is not None:
        from lrplan.spec.loading import load_spec

        try:
            base_hist = History.from_plan(load_spec(baseline).schedule_plan())
        except LrplanError as e:
            raise LrplanError(f"--baseline: {e}") from None
        base_name = str(baseline)
    ps = pred.predicted
    return compare_shapes([p.schedule.name for p in ps], [p.schedule.history for p in ps], Predictor(res.fitted, res),
                          Regime.of(law_range(res.meta)), base_hist, base_name)
