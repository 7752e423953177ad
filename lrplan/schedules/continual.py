"""Continual pre-training: stages that each re-warm and re-decay (Ibrahim et al. 2024, arXiv 2403.08763;
Gupta et al. 2023, arXiv 2308.04014)."""

from __future__ import annotations

from typing import ClassVar, Literal, Optional, Union

from pydantic import Field

from lrplan.errors import spec_error
from lrplan.schedules.base import LR, ZERO, BuildContext, DecayShapeName, Family, LengthT, PositiveLR, StrictModel, WarmupShapeName, fill_lengths
from lrplan.schedules.segments import Timeline, constant, ramp
from lrplan.schedules.shapes import DECAY_SHAPES, decay_fn, warmup_fn


class Stage(StrictModel):
    """One stage: (re-)warm to ``peak_lr`` over ``warmup``, hold, then decay to ``min_lr`` over ``decay``
    (default: the whole rest of the stage)."""

    length: Optional[LengthT] = Field(None, description="stage length; omit on one stage to take the rest of the budget")
    peak_lr: PositiveLR
    min_lr: LR = 0.0
    warmup: LengthT = ZERO
    warmup_shape: WarmupShapeName = "linear"
    warmup_from: Union[Literal["previous", "zero"], LR] = Field("previous", description="re-warmup start: the previous stage's last LR, zero, or a value")
    decay: Optional[LengthT] = Field(None, description="decay length at the end of the stage (default: all after the warmup)")
    decay_shape: DecayShapeName = "cosine"


class Continual(Family):
    """A list of ``stages``, each a warmup → (stable) → decay cycle with its own peak and floor."""

    kind: Literal["continual"]
    stages: list[Stage] = Field(min_length=1)
    summary: ClassVar[str] = "continual pre-training: stages that re-warm and re-decay"
    formula: ClassVar[str] = "stages that re-warm, re-decay"
    source: ClassVar[str] = "Ibrahim et al. 2024, arXiv 2403.08763; Gupta et al. 2023, arXiv 2308.04014"

    def peak(self) -> float:
        return max(s.peak_lr for s in self.stages)

    def build(self, ctx: BuildContext) -> Timeline:
        import numpy as np

        lengths = fill_lengths(ctx, [st.length for st in self.stages], "stages", "stage", allow_empty_rest=False)
        tl = Timeline()
        prev_lr = 0.0
        for i, (st, ln) in enumerate(zip(self.stages, lengths)):
            path = ("schedule", "stages", i)
            w = ctx.steps(st.warmup, path + ("warmup",))
            d = ln - w if st.decay is None else ctx.steps(st.decay, path + ("decay",))
            if st.min_lr > st.peak_lr:
                raise spec_error(path + ("min_lr",), f"min_lr ({st.min_lr:g}) is above peak_lr ({st.peak_lr:g})")
            if w + d > ln or ln <= 0:
                raise spec_error(path + ("decay",), f"warmup ({w}) + decay ({d}) = {w + d} steps is longer than the stage ({ln} steps)")
            if DECAY_SHAPES[st.decay_shape][0].needs_positive_end and st.min_lr <= 0:
                raise spec_error(path + ("decay_shape",), f"'{st.decay_shape}' needs min_lr > 0")
            if DECAY_SHAPES[st.decay_shape][0].param:
                raise spec_error(path + ("decay_shape",), f"'{st.decay_shape}' takes a parameter; use a phases schedule for it")
            start = 0.0 if (i == 0 and st.warmup_from == "previous") or st.warmup_from == "zero" else (
                prev_lr if st.warmup_from == "previous" else float(st.warmup_from)
            )
            tl.add("warmup" if i == 0 else "rewarmup", w, ramp(warmup_fn(st.warmup_shape), start, st.peak_lr))
            tl.add("stable", ln - w - d, constant(st.peak_lr))
            f = decay_fn(st.decay_shape)
            tl.add("decay", d, ramp(f, st.peak_lr, st.min_lr))
            last_seg = tl.segments[-1]
            prev_lr = float(last_seg.fn(np.array([last_seg.end - 1]))[0])
        return tl


FAMILIES = [Continual]
