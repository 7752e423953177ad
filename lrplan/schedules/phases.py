"""A general schedule written as a list of phases, for what no preset covers."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Optional

from pydantic import Field

from lrplan.errors import spec_error
from lrplan.schedules.base import LR, BuildContext, DecayShapeFields, Family, LengthT, StrictModel, fill_lengths
from lrplan.schedules.segments import Timeline, constant, ramp
from lrplan.schedules.shapes import DECAY_SHAPES

PhaseShape = Literal[("constant",) + tuple(DECAY_SHAPES)]  # type: ignore[valid-type]


class Phase(StrictModel):
    """``length`` steps going ``from`` → ``to`` with ``shape`` (any decay shape; linear and cosine also rise),
    or ``shape: constant`` at ``lr``. ``from`` defaults to where the previous phase ended (0 for the first)."""

    name: Optional[str] = Field(None, description="label for the phase column (default warmup/stable/decay)")
    length: Optional[LengthT] = Field(None, description="phase length; omit on one phase to take the rest")
    shape: PhaseShape = "linear"
    lr: Optional[LR] = Field(None, description="the LR of a constant phase")
    from_: Optional[LR] = Field(None, alias="from", description="start LR (default: previous phase's end)")
    to: Optional[LR] = Field(None, description="end LR, reached at the next phase's first step")
    half_life: Optional[LengthT] = None
    decay_power: Optional[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = None


class Phases(Family):
    """Compose warmup / constant / decay segments with any shape; each runs on its own clock."""

    kind: Literal["phases"]
    phases: list[Phase] = Field(min_length=1)
    summary: ClassVar[str] = "a list of phases (length, shape, from, to): anything no preset covers"
    formula: ClassVar[str] = "your own list of phases"
    source: ClassVar[str] = "lrplan; composition as in optax join_schedules"

    def peak(self) -> float:
        vals = [v for ph in self.phases for v in (ph.lr, ph.from_, ph.to) if v is not None]
        return max(vals) if vals else 0.0

    def build(self, ctx: BuildContext) -> Timeline:
        lens = fill_lengths(ctx, [ph.length for ph in self.phases], "phases", "phase", allow_empty_rest=True)
        tl = Timeline()
        prev = 0.0
        for i, (ph, ln) in enumerate(zip(self.phases, lens)):
            path = ("schedule", "phases", i)
            if ph.shape == "constant":
                v = ph.lr if ph.lr is not None else (ph.to if ph.to is not None else (ph.from_ if ph.from_ is not None else prev))
                tl.add(ph.name or "stable", ln, constant(v))
                prev = v
                continue
            if ph.to is None:
                raise spec_error(path + ("to",), f"phase {i + 1} ({ph.shape}) needs 'to': the LR it ends at")
            a = prev if ph.from_ is None else ph.from_
            b = ph.to
            if DECAY_SHAPES[ph.shape][0].needs_positive_end and a <= 0:
                where = "" if ph.from_ is not None else (" (the previous phase ends at 0)" if i else " (a first phase starts at 0)")
                raise spec_error(path + ("from",), f"phase {i + 1} ({ph.shape}) moves multiplicatively and needs a "
                                 f"positive start LR, got {a:g}{where}; give 'from', or use shape linear or cosine")
            helper = DecayShapeFields(decay_shape=ph.shape, half_life=ph.half_life, decay_power=ph.decay_power)
            try:
                fn = helper.decay_fn(ctx, b, max(ln, 1))
            except Exception as e:  # re-point the error at this phase
                from lrplan.errors import SpecError

                if isinstance(e, SpecError):
                    raise spec_error(path + (e.problems[0].path[-1],), e.problems[0].message) from None
                raise
            default = "warmup" if b > a else ("decay" if b < a else "stable")
            tl.add(ph.name or default, ln, ramp(fn, a, b))
            prev = b
        return tl


FAMILIES = [Phases]
