"""Classic budgeted schedules: constant, linear (D2Z), cosine, polynomial, inverse-sqrt, exponential, multi-step,
OneCycle, REX, UBA, cosine with restarts (SGDR) and cyclic cosine.

Every family here runs an optional warmup ``[0, W)`` and then its body on progress
``z = (s - W) / (N - W)`` (so ``lr[W] = peak``), which is Megatron-Core's ``decay_ratio`` for the same lengths.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal, Optional, Union

from pydantic import Field, ValidationInfo, field_validator

from lrplan.errors import spec_error
from lrplan.schedules.base import (
    Family,
    ZERO,
    BuildContext,
    HorizonFields,
    horizon_field,
    LengthT,
    MinFields,
    PositiveLR,
    WarmupFields,
)
from lrplan.schedules.segments import Timeline, constant, custom, ramp
from lrplan.schedules.shapes import decay_fn


def _body_length(self: WarmupFields, ctx: BuildContext) -> tuple[int, int]:
    n = ctx.total_steps
    w = self.warmup_steps(ctx)
    if w >= n:
        raise spec_error(
            ("schedule", "warmup"), f"warmup ({w} steps) must be shorter than the budget ({n} steps)"
        )
    return w, n - w


class Constant(WarmupFields):
    """Constant LR after an optional warmup: ``lr = peak`` for ``s >= W``."""

    kind: Literal["constant"]
    summary: ClassVar[str] = "warmup, then a constant LR"
    formula: ClassVar[str] = "peak after the warmup"
    source: ClassVar[str] = "baseline (e.g. Hägele et al. 2024 'stable' runs)"

    def build(self, ctx: BuildContext) -> Timeline:
        w = self.warmup_length(ctx)
        if w > ctx.total_steps:
            raise spec_error(("schedule", "warmup"), f"warmup ({w} steps) is longer than the budget ({ctx.total_steps} steps)")
        tl = Timeline()
        self.add_warmup(tl, w)
        tl.add_until("stable", ctx.total_steps, constant(self.peak_lr))
        return tl


class _Decay(MinFields, HorizonFields):
    """Warmup then one decay over the rest of the budget (up to an optional ``tail`` at min_lr) with a fixed
    shape; with a ``horizon`` the decay runs to the horizon and the run stops at the budget, before it ends."""

    tail: Optional[LengthT] = Field(None, description="min_lr held for this long at the end: the decay ends where it starts")
    horizon: Optional[LengthT] = horizon_field()
    _shape: ClassVar[str] = "linear"

    def tail_steps(self, ctx: BuildContext) -> int:
        return ctx.steps(self.tail, ("schedule", "tail")) if self.tail is not None else 0

    def build(self, ctx: BuildContext) -> Timeline:
        n = ctx.total_steps
        if self.tail is not None and self.horizon is not None:
            raise spec_error(("schedule", "horizon"), "give tail (the decay ends before the run does) or horizon "
                             "(it ends after), not both")
        w = self.warmup_length(ctx)
        tail = self.tail_steps(ctx)
        h = self.horizon_steps(ctx)
        if h > n:
            if w >= h:
                raise spec_error(("schedule", "warmup"), f"warmup ({w} {ctx.unit}) must be shorter than the horizon "
                                 f"({h} {ctx.unit})")
            tl = Timeline()
            self.add_warmup(tl, w)
            tl.add_until("decay", h, ramp(decay_fn(self._shape), self.peak_lr, self.floor))
            tl.cut(n)
            return tl
        if w >= n - tail:
            if not tail:
                raise spec_error(("schedule", "warmup"), f"warmup ({w} steps) must be shorter than the budget ({n} steps)")
            raise spec_error(("schedule", "tail"), f"warmup ({w} steps) + tail ({tail} steps) leaves no decay in the "
                             f"budget ({n} steps)")
        tl = Timeline()
        self.add_warmup(tl, w)
        tl.add_until("decay", n - tail, ramp(decay_fn(self._shape), self.peak_lr, self.floor))
        tl.add("tail", tail, constant(self.floor))
        return tl


class Linear(_Decay):
    """Linear decay to ``min_lr`` (default 0, i.e. decay-to-zero): ``lr = min + (peak-min)(1-z)``."""

    kind: Literal["linear"]
    summary: ClassVar[str] = "warmup, then linear decay to min_lr (default 0: D2Z)"
    formula: ClassVar[str] = "min + (peak-min)(1-z)"
    source: ClassVar[str] = "Bergsma et al. 2025 'Straight to Zero', arXiv 2502.15938; Defazio et al. arXiv 2310.07831"


class Cosine(_Decay):
    """Cosine decay: ``lr = min + (peak-min)(1+cos(pi z))/2``."""

    kind: Literal["cosine"]
    summary: ClassVar[str] = "warmup, then cosine decay to min_lr"
    formula: ClassVar[str] = "min + (peak-min)(1+cos(pi z))/2"
    source: ClassVar[str] = "Loshchilov & Hutter, SGDR, arXiv 1608.03983"
    _shape: ClassVar[str] = "cosine"


class Polynomial(MinFields):
    """Polynomial decay: ``lr = min + (peak-min)(1-z)^power``."""

    kind: Literal["polynomial"]
    power: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(1.0, description="exponent of (1-z)")
    summary: ClassVar[str] = "warmup, then (1-z)^power decay to min_lr"
    formula: ClassVar[str] = "min + (peak-min)(1-z)^power"
    source: ClassVar[str] = "PyTorch PolynomialLR; HF get_polynomial_decay_schedule_with_warmup"

    def build(self, ctx: BuildContext) -> Timeline:
        w, d = _body_length(self, ctx)
        tl = Timeline()
        self.add_warmup(tl, w)
        tl.add("decay", d, ramp(decay_fn("poly", decay_power=self.power), self.peak_lr, self.floor))
        return tl


class InverseSqrt(MinFields):
    """Inverse square root: ``lr = max(min, peak / sqrt(1 + (s-W)/timescale))`` for ``s >= W``.

    With ``timescale = W`` (the default) this is Megatron-Core's ``max_lr * sqrt(W) / sqrt(s)``. An optional
    ``cooldown`` ends the run with a linear decay to ``min_lr`` over its last steps (Zhai et al. 2022,
    arXiv 2106.04560).
    """

    kind: Literal["inverse-sqrt"]
    timescale: Optional[LengthT] = Field(None, description="steps over which LR falls by sqrt(2); default = warmup")
    cooldown: LengthT = Field(ZERO, description="linear cooldown to min_lr at the end (0 = none)")
    summary: ClassVar[str] = "warmup, then peak/sqrt(1+(s-W)/timescale), optional linear cooldown"
    formula: ClassVar[str] = "peak/sqrt(1+(s-W)/timescale)"
    source: ClassVar[str] = "Vaswani et al. 2017; Megatron-Core inverse-square-root; Zhai et al. arXiv 2106.04560"

    def build(self, ctx: BuildContext) -> Timeline:
        import numpy as np

        w, rest = _body_length(self, ctx)
        ts = ctx.steps(self.timescale, ("schedule", "timescale")) if self.timescale is not None else w
        if ts <= 0:
            raise spec_error(("schedule", "timescale"), "inverse-sqrt needs timescale > 0 steps (or a warmup, which is the default timescale)")
        c = ctx.steps(self.cooldown, ("schedule", "cooldown"))
        if c > rest:
            raise spec_error(("schedule", "cooldown"), f"warmup ({w}) + cooldown ({c}) = {w + c} steps is longer than the budget ({ctx.total_steps} steps)")
        peak, floor = self.peak_lr, self.floor

        def body(s):
            return np.maximum(floor, peak / np.sqrt(1.0 + (s - w).astype(np.float64) / ts))

        tl = Timeline()
        self.add_warmup(tl, w)
        tl.add("decay", rest - c, lambda start, length: body)

        def cool(local, start, length):
            p = local.astype(np.float64) / length
            return floor + (body(local + start) - floor) * (1.0 - p)

        tl.add("cooldown", c, custom(cool))
        return tl


class Exponential(MinFields):
    """Exponential decay after warmup: ``lr = max(min, peak * gamma^(s-W))``; give ``gamma`` or ``half_life``."""

    kind: Literal["exponential"]
    gamma: Optional[Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]] = Field(None, description="factor per step")
    half_life: Optional[LengthT] = Field(None, description="length over which the LR halves")
    summary: ClassVar[str] = "warmup, then peak*gamma^(s-W) (or a half-life), floored at min_lr"
    formula: ClassVar[str] = "max(min, peak*gamma^(s-W))"
    source: ClassVar[str] = "PyTorch ExponentialLR; GPT-NeoX 'exponential'"

    def build(self, ctx: BuildContext) -> Timeline:
        import numpy as np

        if (self.gamma is None) == (self.half_life is None):
            raise spec_error(("schedule", "gamma"), "exponential needs exactly one of gamma (per-step factor) or half_life")
        w, rest = _body_length(self, ctx)
        if self.gamma is not None:
            log_g = math.log(self.gamma)
        else:
            hl = ctx.steps(self.half_life, ("schedule", "half_life"))  # type: ignore[arg-type]
            if hl <= 0:
                raise spec_error(("schedule", "half_life"), "half_life must be at least one step")
            log_g = math.log(0.5) / hl
        peak, floor = self.peak_lr, self.floor
        tl = Timeline()
        self.add_warmup(tl, w)
        tl.add("decay", rest, custom(lambda t, a, n: np.maximum(floor, peak * np.exp(log_g * t.astype(np.float64)))))
        return tl


class MultiStep(WarmupFields):
    """Step decay: ``lr = peak * gamma^(number of milestones <= s)`` (PyTorch ``MultiStepLR``)."""

    kind: Literal["multistep"]
    milestones: list[LengthT] = Field(description="steps (from step 0) where the LR is multiplied by gamma, e.g. ['30%','60%','90%']")
    gamma: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(0.1, description="factor at each milestone")
    summary: ClassVar[str] = "warmup, then multiply by gamma at each milestone (e.g. 30/60/90%)"
    formula: ClassVar[str] = "peak*gamma^(milestones passed)"
    source: ClassVar[str] = "PyTorch MultiStepLR; Goyal et al. 2017"

    def build(self, ctx: BuildContext) -> Timeline:
        n = ctx.total_steps
        w = self.warmup_steps(ctx)
        ms = [ctx.steps(m, ("schedule", "milestones", i)) for i, m in enumerate(self.milestones)]
        for i, m in enumerate(ms):
            if m <= w or m >= n:
                raise spec_error(("schedule", "milestones", i), f"milestone at step {m} must lie after the warmup ({w}) and before the end ({n})")
            if i and m <= ms[i - 1]:
                raise spec_error(("schedule", "milestones", i), f"milestones must increase (step {m} after {ms[i - 1]})")
        tl = Timeline()
        self.add_warmup(tl, w)
        edges = [w, *ms, n]
        for k in range(len(edges) - 1):
            tl.add("stable" if k == 0 else f"step{k}", edges[k + 1] - edges[k], constant(self.peak_lr * self.gamma**k))
        return tl


class OneCycle(Family):
    """PyTorch ``OneCycleLR`` exactly (two-phase by default, or ``three_phase``), with ``max_lr = peak_lr``.

    ``initial = peak/div_factor``, ``min = initial/final_div_factor``; phase ends at ``pct_start*N - 1`` (and
    ``2*pct_start*N - 2``) and ``N - 1``; update ``s`` uses ``step_num = s`` (Smith & Topin, arXiv 1708.07120).
    """

    kind: Literal["onecycle"]
    peak_lr: PositiveLR
    pct_start: Annotated[float, Field(gt=0, lt=1)] = 0.3
    div_factor: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 25.0
    final_div_factor: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1e4
    anneal_strategy: Literal["cos", "linear"] = "cos"
    three_phase: bool = False
    summary: ClassVar[str] = "PyTorch OneCycleLR (two- or three-phase)"

    @field_validator("div_factor", "final_div_factor")
    @classmethod
    def _at_least_one(cls, v: float, info: ValidationInfo) -> float:
        if v < 1:  # peak/div_factor above the peak: peak_lr would not be the peak
            what = ("the first LR (peak_lr / div_factor) would be above peak_lr" if info.field_name == "div_factor"
                    else "the final LR (first LR / final_div_factor) would be above the first LR")
            raise ValueError(f"below 1: {what}; OneCycle divides by it "
                             f"(PyTorch's default: {25 if info.field_name == 'div_factor' else 1e4:g})")
        return v
    formula: ClassVar[str] = "torch OneCycleLR (2/3 phases)"
    source: ClassVar[str] = "Smith & Topin, arXiv 1708.07120; torch.optim.lr_scheduler.OneCycleLR"

    def build(self, ctx: BuildContext) -> Timeline:
        import numpy as np

        n = ctx.total_steps
        init = self.peak_lr / self.div_factor
        low = init / self.final_div_factor
        if self.three_phase:
            ends = [float(self.pct_start * n) - 1, float(2 * self.pct_start * n) - 2, float(n - 1)]
            levels = [(init, self.peak_lr), (self.peak_lr, init), (init, low)]
            names = ["warmup", "decay", "anneal"]
        else:
            ends = [float(self.pct_start * n) - 1, float(n - 1)]
            levels = [(init, self.peak_lr), (self.peak_lr, low)]
            names = ["warmup", "decay"]
        cos = self.anneal_strategy == "cos"

        def phase_fn(lo_step: float, hi_step: float, a: float, b: float):
            def fn(local, start, length):
                pct = ((local + start).astype(np.float64) - lo_step) / (hi_step - lo_step)
                if cos:
                    return b + (a - b) / 2.0 * (np.cos(np.pi * pct) + 1)
                return (b - a) * pct + a

            return fn

        tl = Timeline()
        prev_end = 0.0
        for i, (end, (a, b), name) in enumerate(zip(ends, levels, names)):
            last = i == len(ends) - 1
            stop = n if last else min(n, max(tl.end, math.floor(end) + 1))
            if ends[i] == prev_end and not last:
                raise spec_error(("schedule", "pct_start"), f"pct_start={self.pct_start} leaves an empty OneCycle phase at {n} steps")
            tl.add(name, stop - tl.end, custom(phase_fn(prev_end, end, a, b)))
            prev_end = end
        return tl


class Rex(MinFields):
    """REX: ``lr = min + (peak-min) * (1-z) / ((1-beta) + beta*(1-z))``; beta=0.5 is the paper's profile
    ``(1-z)/(1-z/2)`` (Chen, Wolfe, Kyrillidis, arXiv 2107.04197)."""

    kind: Literal["rex"]
    beta: Annotated[float, Field(ge=0, le=1)] = Field(0.5, description="curvature: 0 = linear, 0.5 = paper, 0.9 = common code")
    summary: ClassVar[str] = "warmup, then the REX profile (1-z)/((1-beta)+beta(1-z))"
    formula: ClassVar[str] = "(1-z)/((1-beta)+beta(1-z))"
    source: ClassVar[str] = "Chen, Wolfe, Kyrillidis 2022, arXiv 2107.04197"

    def build(self, ctx: BuildContext) -> Timeline:
        import numpy as np

        w, d = _body_length(self, ctx)
        beta, peak, floor = self.beta, self.peak_lr, self.floor

        def fn(local, start, length):
            rem = 1.0 - local.astype(np.float64) / length
            return floor + (peak - floor) * (rem / ((1.0 - beta) + beta * rem))

        tl = Timeline()
        self.add_warmup(tl, w)
        tl.add("decay", d, custom(fn))
        return tl


class Uba(MinFields):
    """UBA (unified budget-aware): ``theta = pi z``, ``m = 2(1+cos theta) / (2 phi + (2-phi)(1+cos theta))``,
    ``lr = min + (peak-min) m``; ``phi = 2`` is exactly cosine (Tang et al., arXiv 2505.24452)."""

    kind: Literal["uba"]
    phi: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(description="shape parameter; 2 = cosine, <2 holds the LR higher longer")
    summary: ClassVar[str] = "warmup, then the UBA(phi) profile (phi=2 is cosine)"
    formula: ClassVar[str] = "UBA(phi); phi=2 is cosine"
    source: ClassVar[str] = "Tang et al. 2025 'Stepsize anything', arXiv 2505.24452 (formula via third-party code; see README)"

    def build(self, ctx: BuildContext) -> Timeline:
        import numpy as np

        w, d = _body_length(self, ctx)
        phi, peak, floor = self.phi, self.peak_lr, self.floor

        def fn(local, start, length):
            c = 1.0 + np.cos(np.pi * local.astype(np.float64) / length)
            return floor + (peak - floor) * (2.0 * c / (2.0 * phi + (2.0 - phi) * c))

        tl = Timeline()
        self.add_warmup(tl, w)
        tl.add("decay", d, custom(fn))
        return tl


class CosineRestarts(MinFields):
    """SGDR (PyTorch ``CosineAnnealingWarmRestarts``): after warmup, cycles of ``T_i = cycle * t_mult^i`` steps,
    each ``min + (peak-min)(1+cos(pi T_cur/T_i))/2``; optional linear ``rewarmup`` from min at each restart."""

    kind: Literal["cosine-restarts"]
    cycle: LengthT = Field(description="length of the first cycle (T_0)")
    t_mult: Annotated[float, Field(ge=1, allow_inf_nan=False)] = Field(1.0, description="cycle length multiplier (T_mult)")
    rewarmup: LengthT = Field(ZERO, description="linear re-warmup from min_lr at the start of each later cycle")
    summary: ClassVar[str] = "SGDR: cosine cycles of T_0 * T_mult^i steps, optional re-warmup"
    formula: ClassVar[str] = "cosine cycles of T_0*T_mult^i"
    source: ClassVar[str] = "Loshchilov & Hutter, arXiv 1608.03983; PyTorch CosineAnnealingWarmRestarts"

    def build(self, ctx: BuildContext) -> Timeline:
        w, rest = _body_length(self, ctx)
        t0 = ctx.steps(self.cycle, ("schedule", "cycle"))
        if t0 < 1:
            raise spec_error(("schedule", "cycle"), "cycle must be at least one step")
        rw = ctx.steps(self.rewarmup, ("schedule", "rewarmup"))
        tl = Timeline()
        self.add_warmup(tl, w)
        i, left = 0, rest
        while left > 0:
            ti = max(1, round(t0 * self.t_mult**i))
            if i > 10_000:
                raise spec_error(("schedule", "cycle"), f"more than 10,000 restarts in {rest} steps; use a longer cycle")
            this = min(ti, left)
            r = min(rw, ti - 1) if i > 0 else 0
            if i > 0 and r:
                tl.add("rewarmup", min(r, this), _rewarm(self.floor, self.peak_lr, r))
            body = this - min(r, this)
            tl.add("decay", body, _cos_tail(self.peak_lr, self.floor, ti - r))
            left -= this
            i += 1
        return tl


def _rewarm(a: float, b: float, length: int):
    from lrplan.schedules.shapes import warmup_fn

    f = warmup_fn("linear")

    def make(start: int, _len: int):
        import numpy as np

        return lambda s: f((s - start).astype(np.float64) / length, a, b)

    return make


def _cos_tail(peak: float, floor: float, cycle_len: int):
    """Cosine from peak to floor over ``cycle_len`` steps (the piece may be cut short by the budget)."""
    f = decay_fn("cosine")

    def make(start: int, _len: int):
        import numpy as np

        return lambda s: f((s - start).astype(np.float64) / cycle_len, peak, floor)

    return make


class CyclicCosine(MinFields):
    """Cyclic cosine: cosine cycles ending at the given points, each later cycle starting with a linear
    ``rewarmup`` from 0 (or from ``min_lr``). WSD-S paper baseline (Wen et al., arXiv 2410.05192; Levanter
    configs ``cycles``/``rewarmup``)."""

    kind: Literal["cyclic-cosine"]
    cycles: Union[Annotated[int, Field(ge=1)], list[LengthT]] = Field(description="number of equal cycles, or the cycle end points")
    rewarmup: LengthT = Field(ZERO, description="re-warmup length at the start of each later cycle")
    rewarmup_from: Literal["zero", "min"] = Field("zero", description="where a re-warmup starts")
    summary: ClassVar[str] = "cosine cycles with optional re-warmup (WSD-S paper baseline)"
    formula: ClassVar[str] = "cosine cycles with re-warmup"
    source: ClassVar[str] = "Wen et al. 2024, arXiv 2410.05192 (cyclic cosine); Levanter lr_scheduler cycles"

    def build(self, ctx: BuildContext) -> Timeline:
        n = ctx.total_steps
        w = self.warmup_steps(ctx)
        if isinstance(self.cycles, int):
            k = self.cycles
            ends = [round_div(n * (i + 1), k) for i in range(k)]
        else:
            ends = [ctx.steps(c, ("schedule", "cycles", i)) for i, c in enumerate(self.cycles)]
            if not ends:
                raise spec_error(("schedule", "cycles"), "give at least one cycle end")
            if ends[-1] != n:
                if ends[-1] > n:
                    raise spec_error(("schedule", "cycles", len(ends) - 1), f"the last cycle ends at step {ends[-1]}, after the budget ({n} steps)")
                ends.append(n)
        rw = ctx.steps(self.rewarmup, ("schedule", "rewarmup"))
        start_lr = 0.0 if self.rewarmup_from == "zero" else self.floor
        tl = Timeline()
        prev = 0
        for i, e in enumerate(ends):
            first = i == 0
            warm = w if first else rw
            if e - prev <= warm:
                where = ("schedule", "cycles") + ((i,) if not isinstance(self.cycles, int) else ())
                raise spec_error(where, f"cycle {i + 1} ({prev}..{e}) is not longer than its warmup ({warm} steps)")
            if first:
                self.add_warmup(tl, w)
            else:
                tl.add("rewarmup", rw, _rewarm(start_lr, self.peak_lr, rw) if rw else constant(self.peak_lr))
            tl.add("decay", e - prev - warm, ramp(decay_fn("cosine"), self.peak_lr, self.floor))
            prev = e
        return tl


def round_div(a: int, b: int) -> int:
    return (2 * a + b) // (2 * b)


FAMILIES = [Constant, Linear, Cosine, Polynomial, InverseSqrt, Exponential, MultiStep, OneCycle, Rex, Uba, CosineRestarts, CyclicCosine]
