"""Shared spec fields, types and the build context every schedule family receives."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, field_validator
from pydantic_core.core_schema import ValidationInfo

from lrplan.errors import spec_error
from lrplan.schedules.shapes import DECAY_SHAPES, warmup_fn
from lrplan.spec.units import Length, parse_fractional_length, parse_length, round_half_up, si

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.schedules.segments import Timeline

LR = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PositiveLR = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Ratio = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
LengthT = Annotated[Length, PlainValidator(parse_length), PlainSerializer(str, return_type=str)]
# a length that may end between two updates ("3.2 steps", "97460937.4 samples"): the warmup of the families that
# support it (FRACTIONAL_WARMUP); Megatron's --lr-warmup-fraction makes such warmups
FractionalLengthT = Annotated[Length, PlainValidator(parse_fractional_length), PlainSerializer(str, return_type=str)]
DecayShapeName = Literal[tuple(DECAY_SHAPES)]  # type: ignore[valid-type]
WarmupShapeName = Literal["linear", "cosine"]

ZERO = Length(0, "steps")
FRACTIONAL_WARMUP = ("constant", "linear", "cosine", "wsd", "wsdc")  # kinds whose warmup may end between updates


class StrictModel(BaseModel):
    """Frozen, and unknown keys are errors (typos fail loudly)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


@dataclass
class BuildContext:
    """What a family needs besides its own fields: the budget on the schedule's clock, the token clock, notes.

    On the ``steps`` clock (the default) every length is in steps and ``total_steps`` is the budget in steps.
    On the ``tokens`` clock (batch-size schedules, Power) lengths and ``total_steps`` are in *tokens*; the
    spec maps each phase back to steps afterwards. Families just call :meth:`steps` and never need to know.
    """

    total_steps: int
    tokens_per_step: int | None = None
    batch_size: int | None = None
    budgets: list[int] | None = None
    base_dir: Path | None = None
    notes: list[str] = field(default_factory=list)
    unit: str = "steps"  # the clock lengths are measured on: "steps" or "tokens"
    clock: Any = None  # lrplan.spec.clock.Clock when tokens per step are known
    seq_len: int | None = None
    budget_unit: str = "steps"  # what the budget was given in (percentages of a token budget are of tokens)

    def exact(self, length: Length, path: tuple) -> int | float:
        """A length on the clock, not rounded: :meth:`steps` for a whole count, else the fraction of a clock unit
        it is (``"3.2 steps"``; ``"25.6 samples"`` of 8 per step is 3.2 steps; on the token clock
        ``"97460937.4 samples"`` of 8192 tokens is that many times 8192 tokens)."""
        if float(length.value).is_integer() or length.unit == "percent":
            return self.steps(length, path)
        x = float(length.value)
        if self.unit == "tokens":
            if length.unit == "tokens":
                return x
            if length.unit == "samples":
                if not self.seq_len:
                    raise spec_error(path, f"{length} needs budget.seq_len")
                return x * self.seq_len
            raise spec_error(path, f"{length}: on the token clock give a fractional length in samples or tokens")
        if length.unit == "steps":
            return x
        per = self.batch_size if length.unit == "samples" else self.tokens_per_step
        if not per:
            need = "budget.batch_size" if length.unit == "samples" else "budget.batch_size and budget.seq_len"
            raise spec_error(path, f"{length} needs {need}")
        return x / per

    def steps(self, length: Length, path: tuple, base: int | None = None) -> int:
        """Resolve a length to whole clock units (steps, or tokens on the token clock); percentages are of
        ``base`` (default: the budget)."""
        if not float(length.value).is_integer() and length.unit != "percent":
            raise spec_error(tuple(path), f"{length} is not a whole number of {length.unit}; only a warmup of kind "
                             f"{', '.join(FRACTIONAL_WARMUP)} may end between two updates")
        if self.unit == "tokens":
            return self._tokens(length, path, base)
        from lrplan.errors import Problem

        where = Problem(tuple(path), "").dotted()
        if length.unit == "steps":
            return int(length.value)
        if length.unit == "percent":
            b = self.total_steps if base is None else base
            exact = length.value / 100.0 * b
            n = round_half_up(exact)
            if abs(exact - n) > 1e-9:
                self.notes.append(f"{where}: {length} of {b} steps = {exact:g} steps, rounded to {n}")
            return n
        if length.unit == "tokens":
            if not self.tokens_per_step:
                raise spec_error(
                    path,
                    f"{length} needs tokens per step; add budget.batch_size and budget.seq_len (or budget.tokens_per_step)",
                )
            exact = length.value / self.tokens_per_step
            n = round_half_up(exact)
            if n * self.tokens_per_step != length.value:
                self.notes.append(
                    f"{where}: {si(length.value)} tokens = {exact:,.2f} steps, rounded to {n:,} steps "
                    f"({n * self.tokens_per_step:,} tokens)"
                )
            return n
        if length.unit == "samples":
            if not self.batch_size:
                raise spec_error(path, f"{length} needs budget.batch_size (sequences per step)")
            exact = length.value / self.batch_size
            n = round_half_up(exact)
            if n * self.batch_size != length.value:
                self.notes.append(f"{where}: {length} = {exact:.6g} steps, rounded to {n}")
            return n
        raise AssertionError(length.unit)  # pragma: no cover

    def _tokens(self, length: Length, path: tuple, base: int | None) -> int:
        if length.unit == "tokens":
            return int(length.value)
        if length.unit == "percent":
            b = self.total_steps if base is None else base
            return round_half_up(length.value / 100.0 * b)
        if length.unit == "samples":
            if not self.seq_len:
                raise spec_error(path, f"{length} needs budget.seq_len")
            return int(length.value) * self.seq_len
        # steps on the token clock: the tokens the first N steps consume
        assert self.clock is not None
        return int(self.clock.tokens_before(int(length.value)))


class Family(StrictModel):
    """Base of every schedule family. Subclasses set ``kind``, ``summary``, ``formula``, ``source`` and ``build``."""

    clock: Optional[Literal["steps", "tokens"]] = Field(
        None,
        description="what progress is measured on: steps, or tokens consumed (default: tokens under a batch-size "
        "schedule, as Megatron's sample-based scheduler does; steps otherwise)",
    )
    summary: ClassVar[str] = ""
    formula: ClassVar[str] = ""  # one line for `lrplan list` (z = decay progress 0..1, s = step, W = warmup)
    source: ClassVar[str] = ""
    default_clock: ClassVar[str | None] = None  # a family that always runs on one clock (Power: tokens)

    def total_steps(self, ctx: BuildContext) -> int:
        """Steps the run lasts (the budget, unless the family defines its own, like WSD-S)."""
        return ctx.total_steps

    def build(self, ctx: BuildContext) -> "Timeline":  # pragma: no cover - every registered family overrides it
        """The schedule's segments for this budget (each family in ``FAMILIES`` defines it)."""
        raise TypeError(f"{type(self).__name__} is a field mixin, not a schedule family: it has no build()")

    def peak(self) -> float:
        return float(getattr(self, "peak_lr", 0.0))


class WarmupFields(Family):
    """Peak LR and a warmup from ``warmup_init_lr`` (linear or cosine) over ``warmup``."""

    peak_lr: PositiveLR = Field(description="peak (maximum) learning rate")
    warmup: FractionalLengthT = Field(ZERO, description="warmup length: steps, '1B tokens', '2%' of the budget")
    warmup_shape: WarmupShapeName = Field("linear", description="warmup shape")
    warmup_init_lr: LR = Field(0.0, description="LR of the first update (warmup start)")

    @field_validator("warmup_init_lr")
    @classmethod
    def _init_below_peak(cls, v: float, info: ValidationInfo) -> float:
        peak = info.data.get("peak_lr")
        if peak is not None and v > peak:
            raise ValueError(f"warmup_init_lr ({v:g}) is above peak_lr ({peak:g})")
        return v

    def warmup_steps(self, ctx: BuildContext) -> int:
        """The warmup on the clock, in whole units: a warmup that ends between two updates (:meth:`warmup_length`)
        counts the updates it covers (rounded up)."""
        w = self.warmup_length(ctx)
        return w if isinstance(w, int) else math.ceil(w)

    def warmup_length(self, ctx: BuildContext) -> int | float:
        """The warmup on the clock: a float when it ends between two updates (``warmup: 3.2 steps``; only the
        kinds of :data:`FRACTIONAL_WARMUP`)."""
        if not float(self.warmup.value).is_integer() and self.warmup.unit != "percent":
            if getattr(self, "kind", None) not in FRACTIONAL_WARMUP:
                raise spec_error(("schedule", "warmup"), f"{self.warmup} is not a whole number of {self.warmup.unit}; "
                                 f"a warmup may end between two updates for kind {', '.join(FRACTIONAL_WARMUP)} only")
            return ctx.exact(self.warmup, ("schedule", "warmup"))
        return ctx.steps(self.warmup, ("schedule", "warmup"))

    def add_warmup(self, tl: "Timeline", steps: int | float) -> None:
        """The warmup piece, ``steps`` long on the clock (a float: it ends between two updates)."""
        from lrplan.schedules.segments import ramp

        tl.add("warmup", steps, ramp(warmup_fn(self.warmup_shape), self.warmup_init_lr, self.peak_lr))


class MinFields(WarmupFields):
    """Adds the floor: ``min_lr`` or ``min_lr_ratio`` (of peak); default 0."""

    min_lr: Optional[LR] = Field(None, description="final / floor LR (absolute)")
    min_lr_ratio: Optional[Ratio] = Field(None, description="final / floor LR as a fraction of peak_lr")

    @field_validator("min_lr")
    @classmethod
    def _min_below_peak(cls, v: float | None, info: ValidationInfo) -> float | None:
        peak = info.data.get("peak_lr")
        if v is not None and peak is not None and v > peak:
            raise ValueError(f"min_lr ({v:g}) is above peak_lr ({peak:g}); the floor must not exceed the peak")
        return v

    @field_validator("min_lr_ratio")
    @classmethod
    def _not_both(cls, v: float | None, info: ValidationInfo) -> float | None:
        if v is not None and info.data.get("min_lr") is not None:
            raise ValueError("give min_lr or min_lr_ratio, not both")
        return v

    @property
    def floor(self) -> float:
        if self.min_lr is not None:
            return self.min_lr
        if self.min_lr_ratio is not None:
            return self.min_lr_ratio * self.peak_lr
        return 0.0


class DecayShapeFields(Family):
    """A decay shape and the extra parameters some shapes read."""

    decay_shape: DecayShapeName = Field("linear", description="decay shape (see `lrplan list shapes`)")
    half_life: Optional[LengthT] = Field(None, description="half-life, for decay_shape exp-halflife")
    decay_power: Optional[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        None, description="exponent, for decay_shape poly"
    )

    def decay_fn(self, ctx: BuildContext, end_lr: float, length: int):
        from lrplan.schedules.shapes import decay_fn

        shape, _ = DECAY_SHAPES[self.decay_shape]
        if shape.needs_positive_end and end_lr <= 0:
            raise spec_error(
                ("schedule", "decay_shape"),
                f"'{self.decay_shape}' decays towards the final LR multiplicatively and needs min_lr > 0 (got {end_lr:g})",
            )
        params: dict[str, Any] = {}
        if shape.param == "half_life":
            if self.half_life is None:
                raise spec_error(("schedule", "half_life"), "decay_shape exp-halflife needs half_life (e.g. '5000 steps')")
            hl = ctx.steps(self.half_life, ("schedule", "half_life"))
            if hl <= 0:
                raise spec_error(("schedule", "half_life"), "half_life must be at least one step")
            params = {"length": length, "half_life": hl}
        elif shape.param == "decay_power":
            if self.decay_power is None:
                raise spec_error(("schedule", "decay_power"), "decay_shape poly needs decay_power (e.g. 2.0)")
            params = {"decay_power": self.decay_power}
        return decay_fn(self.decay_shape, **params)


def horizon_field() -> Any:
    """The optional ``horizon`` of the decaying families (:class:`HorizonFields`)."""
    return Field(None, description="length the decay is defined over, at least the budget: the run stops at the "
                 "budget, partway into the decay (Megatron's --lr-decay-iters above --train-iters); default = the budget")


class HorizonFields:
    """An optional ``horizon`` (a family declares ``horizon: Optional[LengthT] = horizon_field()`` where it lists
    it): the length the decay is defined over when the run stops before the decay ends (Megatron's
    ``--lr-decay-iters``/``--lr-decay-samples`` above the training length). The schedule is built over the
    horizon and the run stops at the budget, partway into its decay (or its warmup)."""

    def horizon_steps(self, ctx: BuildContext) -> int:
        """The horizon on the clock (the budget when not given); it must not be shorter than the budget."""
        n = ctx.total_steps
        horizon = getattr(self, "horizon", None)
        if horizon is None:
            return n
        h = ctx.steps(horizon, ("schedule", "horizon"))
        if h < n:
            raise spec_error(("schedule", "horizon"), f"horizon ({h:,} {ctx.unit}) is shorter than the budget "
                             f"({n:,} {ctx.unit}); a decay that ends before the run ends is a `tail`")
        if h > n:
            ctx.notes.append(f"schedule.horizon: the decay is defined over {h:,} {ctx.unit}; the run stops at "
                             f"{100.0 * n / h:.3g}% of it ({n:,} {ctx.unit})")
        return h


def fill_lengths(ctx: BuildContext, lengths: list, field: str, noun: str, allow_empty_rest: bool) -> list[int]:
    """Resolve the ``length`` of each item of ``schedule.<field>``; one item may omit it to take the rest of
    the budget. The lengths must add up to the budget."""
    n = ctx.total_steps
    vals: list[int | None] = [
        None if ln is None else ctx.steps(ln, ("schedule", field, i, "length")) for i, ln in enumerate(lengths)
    ]
    missing = [i for i, v in enumerate(vals) if v is None]
    known = sum(v for v in vals if v is not None)
    if len(missing) > 1:
        raise spec_error(("schedule", field, missing[1], "length"), f"only one {noun} may omit its length")
    if missing:
        if known > n or (known == n and not allow_empty_rest):
            raise spec_error(("schedule", field, missing[0], "length"), f"the other {noun}s already take {known} of {n} steps")
        vals[missing[0]] = n - known
    elif known != n:
        raise spec_error(("schedule", field), f"{noun} lengths add up to {known} steps but the budget is {n}; omit one length to take the rest")
    return [int(v) for v in vals]  # type: ignore[arg-type]

