"""Infinite schedules (Ibrahim et al. 2024, arXiv 2403.08763; Singh et al. 2025, arXiv 2503.02844): warmup,
cooldown to a constant, constant for as long as needed, then an anneal to ``min_lr``."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from lrplan.errors import spec_error
from lrplan.schedules.base import LR, ZERO, BuildContext, DecayShapeName, LengthT, MinFields
from lrplan.schedules.segments import Timeline, constant, custom, ramp
from lrplan.schedules.shapes import DECAY_SHAPES, decay_fn


class Infinite(MinFields):
    """``warmup`` → ``cooldown`` from peak to ``constant_lr`` (cosine: ``c + (peak-c)(1+cos(pi x))/2``;
    inverse-sqrt: ``peak + (c-peak) g(x)/g(1)``, ``g(x) = 1/sqrt(1+timescale x) - 1``) → constant at
    ``constant_lr`` (the rest of the budget) → ``anneal`` to ``min_lr`` (default geometric, the paper's
    exponential ``c (min/c)^(m/N_ann)``). Reference: GPT-NeoX ``infinite_lr`` branch (Gupta)."""

    kind: Literal["infinite"]
    cooldown: LengthT = Field(description="length of the cooldown from peak_lr to constant_lr")
    cooldown_shape: Literal["cosine", "inverse-sqrt"] = "cosine"
    timescale: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(1.0, description="inverse-sqrt cooldown timescale")
    constant_lr: LR = Field(description="the constant LR held between cooldown and anneal")
    anneal: LengthT = Field(ZERO, description="length of the final anneal to min_lr (0 = none)")
    anneal_shape: DecayShapeName = Field("geometric", description="anneal shape (geometric = exponential)")
    summary: ClassVar[str] = "warmup, cooldown to a constant, constant, anneal (continual pretraining)"
    formula: ClassVar[str] = "cooldown, constant, anneal"
    source: ClassVar[str] = "Ibrahim et al. 2024, arXiv 2403.08763; Singh et al. 2025, arXiv 2503.02844"

    def build(self, ctx: BuildContext) -> Timeline:
        import numpy as np

        n = ctx.total_steps
        w = self.warmup_steps(ctx)
        c = ctx.steps(self.cooldown, ("schedule", "cooldown"))
        a = ctx.steps(self.anneal, ("schedule", "anneal"))
        if w + c + a > n:
            raise spec_error(("schedule", "anneal"), f"warmup ({w}) + cooldown ({c}) + anneal ({a}) = {w + c + a} steps is longer than the budget ({n} steps)")
        const, peak, floor = self.constant_lr, self.peak_lr, self.floor
        if const > peak:
            raise spec_error(("schedule", "constant_lr"), f"constant_lr ({const:g}) is above peak_lr ({peak:g})")
        if floor > const:
            raise spec_error(("schedule", "min_lr"), f"min_lr ({floor:g}) is above constant_lr ({const:g})")
        tl = Timeline()
        self.add_warmup(tl, w)
        if self.cooldown_shape == "cosine":
            tl.add("cooldown", c, ramp(decay_fn("cosine"), peak, const))
        else:
            ts = self.timescale
            g1 = 1.0 / math.sqrt(1.0 + ts) - 1.0

            def inv(local, start, length):
                x = local.astype(np.float64) / length
                return peak + (const - peak) / g1 * (1.0 / np.sqrt(1.0 + ts * x) - 1.0)

            tl.add("cooldown", c, custom(inv))
        tl.add("constant", n - w - c - a, constant(const))
        if a:
            shape = DECAY_SHAPES[self.anneal_shape][0]
            if shape.param:
                raise spec_error(("schedule", "anneal_shape"), f"anneal_shape {self.anneal_shape} takes a parameter; use a phases schedule for it")
            if shape.needs_positive_end and floor <= 0:
                raise spec_error(("schedule", "anneal_shape"), f"anneal_shape {self.anneal_shape} needs min_lr > 0")
            tl.add("anneal", a, ramp(decay_fn(self.anneal_shape), const, floor))
        return tl


FAMILIES = [Infinite]
