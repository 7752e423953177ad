"""Warmup-Stable-Decay and its relatives: WSD, WSDC (held constant tail) and WSD-S (one run, a decay per budget)."""

from __future__ import annotations

from typing import ClassVar, Literal, Optional

from pydantic import Field, PrivateAttr

from lrplan.errors import spec_error
from lrplan.schedules.base import ZERO, BuildContext, DecayShapeFields, HorizonFields, LengthT, MinFields, horizon_field
from lrplan.schedules.segments import Timeline, constant, ramp
from lrplan.schedules.shapes import warmup_fn
from lrplan.spec.units import Length

TEN_PERCENT = Length(10, "percent")


class Wsd(MinFields, DecayShapeFields, HorizonFields):
    """WSD: warmup ``[0, W)``, stable at peak, then ``decay`` steps from peak to ``min_lr`` with ``decay_shape``
    (progress ``p = (s - (N-D)) / D``). MiniCPM (Hu et al., arXiv 2404.06395); cooldown study Hägele et al.
    (arXiv 2405.18392). ``decay: 10%`` is of the whole budget. With a ``horizon`` the stable phase and the decay are laid out over
    the horizon and the run stops at the budget, before the decay ends (or before the warmup does)."""

    kind: Literal["wsd"]
    decay: LengthT = Field(TEN_PERCENT, description="decay (cooldown) length; a percentage is of the budget")
    horizon: Optional[LengthT] = horizon_field()
    summary: ClassVar[str] = "warmup, stable at peak, decay with any shape"
    formula: ClassVar[str] = "warmup, peak, decay (any shape)"
    source: ClassVar[str] = "Hu et al. 2024 (MiniCPM), arXiv 2404.06395; Hägele et al. 2024, arXiv 2405.18392"

    def tail_steps(self, ctx: BuildContext) -> int:
        return 0

    def build(self, ctx: BuildContext) -> Timeline:
        n = ctx.total_steps
        w = self.warmup_length(ctx)
        d = ctx.steps(self.decay, ("schedule", "decay"))
        tail = self.tail_steps(ctx)
        h = self.horizon_steps(ctx)
        if w + d + tail > h:
            parts = f"warmup ({w} steps) + decay ({d} steps)" + (f" + tail ({tail} steps)" if tail else "")
            if h > n:
                raise spec_error(("schedule", "decay"), f"{parts} = {w + d + tail} steps is longer than the horizon "
                                 f"({h} steps); shorten one")
            raise spec_error(("schedule", "decay"), f"{parts} = {w + d + tail} steps is longer than the budget ({n} steps); shorten one")
        tl = Timeline()
        self.add_warmup(tl, w)
        tl.add_until("stable", h - d - tail, constant(self.peak_lr))
        tl.add("decay", d, ramp(self.decay_fn(ctx, self.floor, d), self.peak_lr, self.floor))
        tl.add("tail", tail, constant(self.floor))
        tl.cut(n)
        return tl


class Wsdc(Wsd):
    """WSDC: WSD whose final LR is then held for an explicit ``tail`` (PLM, arXiv 2503.12167; only the name is
    documented there, so this is WSD + a constant segment at ``min_lr``)."""

    kind: Literal["wsdc"]  # type: ignore[assignment]
    tail: LengthT = Field(description="length of the constant tail at min_lr after the decay")
    summary: ClassVar[str] = "WSD, then min_lr held constant for a tail"
    formula: ClassVar[str] = "WSD, then a min_lr tail"
    source: ClassVar[str] = "PLM, arXiv 2503.12167 (WSDC)"

    def tail_steps(self, ctx: BuildContext) -> int:
        return ctx.steps(self.tail, ("schedule", "tail"))


def wsds_positions(budgets: list[int], decays: list[int]) -> list[tuple[int, int, int]]:
    """WSD-S arithmetic (Wen et al. 2024 §2; notes §13): for budgets ``B_i`` with decay lengths ``d_i``, the
    single run's decay ``i`` spans ``[C_i - d_i, C_i)`` with ``C_i = (B_i - d_i) + sum_{j<=i} d_j``. Returns
    ``(decay_start, checkpoint, stable_before)`` per budget. With ``d_i = f B_i`` this is
    ``C_i = (1-f) B_i + f sum_{j<=i} B_j``."""
    out = []
    done_decay = 0
    prev_branch = 0
    for b, d in zip(budgets, decays):
        branch = b - d  # WSD branch point for this budget
        stable = branch - prev_branch
        start = branch + done_decay
        done_decay += d
        out.append((start, start + d, stable))
        prev_branch = branch
    return out


class WsdS(MinFields, DecayShapeFields):
    """WSD-S (Wen et al., arXiv 2410.05192): one run; for each budget ``B_i`` (``budget.budgets``) it decays
    over ``d_i`` steps to ``min_lr`` (checkpoint i), then jumps back to peak — or re-warms linearly from the
    decayed LR over ``rewarmup`` steps — and continues. ``decay: 10%`` is of each budget."""

    kind: Literal["wsd-s"]
    decay: LengthT = Field(TEN_PERCENT, description="decay length per budget; a percentage is of that budget")
    rewarmup: LengthT = Field(ZERO, description="linear re-warmup after each decay (0 = jump straight back)")
    summary: ClassVar[str] = "one run, a decay (checkpoint) per budget, back to peak after each"
    formula: ClassVar[str] = "a WSD decay per budget, one run"
    source: ClassVar[str] = "Wen et al. 2024, arXiv 2410.05192 (authors' Levanter configs)"
    _per_budget: list[tuple[Length, str]] | None = PrivateAttr(None)
    _probe_tail: bool = PrivateAttr(False)

    def with_decays(self, decays: list[tuple[Length, str]], probe_tail: bool = False) -> "WsdS":
        """A copy whose decay ``i`` has its own length and shape, ``decays[i]`` (``lrplan plan --optimize``).
        ``probe_tail`` appends a stretch at ``min_lr`` as long as the last decay, so that the last decay ends
        on the same step as inside a longer run (on the tokens clock a run's own end rounds down)."""
        out = self.model_copy()
        out._per_budget = list(decays)
        out._probe_tail = probe_tail
        return out

    def _decays(self, n: int) -> list[tuple[Length, str]]:
        if self._per_budget is None:
            return [(self.decay, self.decay_shape)] * n
        if len(self._per_budget) != n:  # pragma: no cover - a caller bug
            raise AssertionError(f"{len(self._per_budget)} decays for {n} budgets")
        return self._per_budget

    def layout(self, ctx: BuildContext) -> tuple[list[int], list[int], list[tuple[int, int, int]]]:
        if not ctx.budgets:
            raise spec_error(("budget",), "wsd-s needs budget.budgets: a list of token or step budgets, e.g. [52B, 105B, 210B]")
        bs = ctx.budgets
        ds = [ctx.steps(d, ("schedule", "decay"), base=b) for b, (d, _) in zip(bs, self._decays(len(bs)))]
        for i, (b, d) in enumerate(zip(bs, ds)):
            if d < 1:
                raise spec_error(("schedule", "decay"), f"the decay for budget {i + 1} ({b} steps) is shorter than one step")
        pos = wsds_positions(bs, ds)
        w = self.warmup_steps(ctx)
        rw = ctx.steps(self.rewarmup, ("schedule", "rewarmup"))
        for i, (_start, _ckpt, stable) in enumerate(pos):
            need = w if i == 0 else rw
            if stable < need:
                what = "warmup" if i == 0 else "rewarmup"
                raise spec_error(
                    ("budget", "budgets", i),
                    f"budget {i + 1} leaves {stable} stable steps before its decay, less than the {what} ({need} steps); "
                    "spread the budgets or shorten the decay",
                )
        return bs, ds, pos

    def total_steps(self, ctx: BuildContext) -> int:
        _, ds, pos = self.layout(ctx)
        return pos[-1][1] + (ds[-1] if self._probe_tail else 0)

    def build(self, ctx: BuildContext) -> Timeline:
        import numpy as np

        _, ds, pos = self.layout(ctx)
        shapes = [shape for _, shape in self._decays(len(ds))]
        w = self.warmup_steps(ctx)
        rw = ctx.steps(self.rewarmup, ("schedule", "rewarmup"))
        tl = Timeline()
        for i, ((_start, _ckpt, stable), d) in enumerate(zip(pos, ds)):
            if i == 0:
                self.add_warmup(tl, w)
                tl.add("stable", stable - w, constant(self.peak_lr))
            else:
                prev = tl.segments[-1]  # the previous decay: re-warm from the LR of its last step
                last = float(prev.fn(np.array([prev.end - 1], dtype=np.int64))[0])
                tl.add("rewarmup", rw, ramp(warmup_fn("linear"), last, self.peak_lr))
                tl.add("stable", stable - rw, constant(self.peak_lr))
            shaped = self if shapes[i] == self.decay_shape else self.model_copy(update={"decay_shape": shapes[i]})
            tl.add(f"decay{i + 1}", d, ramp(shaped.decay_fn(ctx, self.floor, d), self.peak_lr, self.floor))
        if self._probe_tail:
            tl.add("tail", ds[-1], constant(self.floor))
        return tl


FAMILIES = [Wsd, Wsdc, WsdS]
