"""The spec's pydantic models: ``budget`` (units, batch-size schedules, multi-budget lists), ``model``, and
:class:`Spec`, which builds the resolved schedule (:meth:`Spec.schedule_plan`) and derives new specs
(:meth:`Spec.derive`), and validation with readable problems (:func:`validate_spec`, :func:`from_data`).
Loading from a file or YAML text is :mod:`lrplan.spec.loading`."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

from pydantic import Field, PlainValidator, PrivateAttr, SerializeAsAny, ValidationError, ValidationInfo, field_validator, model_validator

from lrplan.errors import LrplanError, Problem, SpecError, spec_error, unknown_kind
from lrplan.schedules import FAMILIES, BuildContext, Family
from lrplan.schedules.base import LengthT, StrictModel
from lrplan.spec.units import parse_count, round_half_up, si
from lrplan.spec.yamlio import located

if TYPE_CHECKING:  # pragma: no cover

    from lrplan.schedules.render import Rendered, SchedulePlan

MAX_STEPS = 10**12  # a trillion optimizer updates: far beyond any run, small enough for int64 token counts
MAX_TOKENS = 10**18
PositiveCount = Annotated[int, PlainValidator(lambda v: _positive(parse_count(v)))]
BatchCount = Annotated[int, PlainValidator(lambda v: _positive(parse_count(v), 10**9))]


def _positive(n: int, most: int = 10**18) -> int:
    if n <= 0:
        raise ValueError(f"must be positive (got {n})")
    if n > most:
        raise ValueError(f"{n:.3g} is beyond lrplan's limit of {most:.0e}")
    return n


class Rampup(StrictModel):
    """Megatron's ``--rampup-batch-size START INCR SAMPLES``: the batch grows from ``start`` by ``increment``
    over the first ``over`` samples (or tokens) to ``budget.batch_size``."""

    start: BatchCount = Field(description="first global batch size (sequences)")
    increment: BatchCount = Field(description="batch-size increment (sequences)")
    over: LengthT = Field(description="samples (or tokens) over which the batch ramps up, e.g. '10B tokens' or '2M samples'")


class BatchPoint(StrictModel):
    """From ``at`` on (a length: tokens, samples or steps), the global batch is ``batch_size`` sequences."""

    at: LengthT
    batch_size: BatchCount

    def tokens(self, seq_len: int | None, clock: Any) -> int:
        """Where this change happens, in tokens (a threshold in steps is read on ``clock``)."""
        if self.at.unit == "steps":
            return int(clock.tokens_before(int(self.at.value)))
        return int(self.at.value * (seq_len if self.at.unit == "samples" else 1))


class Budget(StrictModel):
    """How long the run is (``tokens`` or ``steps``, or several ``budgets``) and how many tokens a step takes."""

    tokens: Optional[PositiveCount] = Field(None, description="training tokens, e.g. 100B")
    steps: Optional[PositiveCount] = Field(None, description="optimizer steps, e.g. 50000")
    budgets: Optional[list[LengthT]] = Field(None, description="several budgets (WSD/WSD-S plans): '52B tokens' or steps (a bare 52B is steps)")
    batch_size: Optional[BatchCount] = Field(None, description="global batch size in sequences per optimizer step")
    seq_len: Optional[BatchCount] = Field(None, description="sequence length in tokens")
    tokens_per_step: Optional[PositiveCount] = Field(None, description="tokens per optimizer step (instead of batch_size x seq_len)")
    rampup: Optional[Rampup] = Field(None, description="Megatron-style batch-size ramp-up to batch_size")
    batch_schedule: Optional[list[BatchPoint]] = Field(None, description="batch size from thresholds: [{at: 0, batch_size: 768}, {at: 250B tokens, batch_size: 1536}]")

    @field_validator("tokens", "steps", mode="before")
    @classmethod
    def _one_budget(cls, v: Any, info: ValidationInfo) -> Any:
        if isinstance(v, (list, tuple)):
            example = "[52B tokens, 105B tokens]" if info.field_name == "tokens" else "[12500, 25000]"
            raise ValueError(f"one {info.field_name} count, not a list; several budgets go in budget.budgets: {example}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Budget":
        given = [k for k in ("tokens", "steps", "budgets") if getattr(self, k) is not None]
        if len(given) != 1:
            msg = "give exactly one of tokens, steps or budgets" + (f" (got {', '.join(given)})" if given else "")
            raise ValueError(msg)
        if self.rampup is not None and self.batch_schedule is not None:
            raise ValueError("give rampup or batch_schedule, not both")
        if (self.rampup is not None or self.batch_schedule is not None) and not self.seq_len:
            raise ValueError("a batch-size schedule needs seq_len (batch sizes are in sequences)")
        if self.rampup is not None and self.batch_size is None:
            raise ValueError("rampup ramps up to batch_size: give batch_size (the final global batch)")
        if self.batch_schedule is not None and self.batch_size is not None:
            raise ValueError("with batch_schedule the batch sizes come from the schedule: drop batch_size")
        if self.tokens_per_step is not None and self.batch_size and self.seq_len:
            if self.tokens_per_step != self.batch_size * self.seq_len:
                raise ValueError(
                    f"tokens_per_step ({self.tokens_per_step}) != batch_size x seq_len ({self.batch_size * self.seq_len}); give one or make them agree"
                )
        return self

    @property
    def step_tokens(self) -> int | None:
        """Tokens per step when the batch is constant."""
        if self.rampup is not None or self.batch_schedule is not None:
            return None
        if self.tokens_per_step is not None:
            return self.tokens_per_step
        if self.batch_size is not None and self.seq_len is not None:
            return self.batch_size * self.seq_len
        return None

    @property
    def has_batch_schedule(self) -> bool:
        return self.rampup is not None or self.batch_schedule is not None

    def make_clock(self):
        """The token clock (None when tokens per step are unknown)."""
        from lrplan.spec.clock import Clock, megatron_rampup, schedule_runs

        if self.rampup is not None:
            r = self.rampup
            assert self.batch_size is not None and self.seq_len is not None
            path = ("budget", "rampup")
            if r.start >= self.batch_size:
                raise spec_error(path + ("start",), f"rampup.start ({r.start}) must be below batch_size ({self.batch_size})")
            if (self.batch_size - r.start) % r.increment:
                raise spec_error(
                    path + ("increment",),
                    f"the increment {r.increment} does not divide the ramp {r.start} -> {self.batch_size} "
                    f"({self.batch_size - r.start} sequences); Megatron requires it",
                )
            if r.over.unit == "tokens":
                samples = int(r.over.value) // self.seq_len  # Megatron counts the ramp in whole samples
            elif r.over.unit == "samples":
                samples = int(r.over.value)
            else:
                raise spec_error(path + ("over",), f"rampup.over is measured in samples or tokens, not {r.over.unit}")
            if samples <= 0:
                raise spec_error(path + ("over",), "the ramp-up must last at least one sample")
            return Clock.from_batches(megatron_rampup(r.start, r.increment, samples, self.batch_size), self.seq_len)
        if self.batch_schedule is not None:
            assert self.seq_len is not None
            points = []
            prev = None
            for i, bp in enumerate(self.batch_schedule):
                path = ("budget", "batch_schedule", i, "at")
                if bp.at.unit == "percent":
                    raise spec_error(path, "give a threshold in tokens, samples or steps, not a percentage")
                unit = "steps" if bp.at.unit == "steps" else "tokens"
                value = bp.at.value * (self.seq_len if bp.at.unit == "samples" else 1)
                if i == 0 and value != 0:
                    raise spec_error(path, "the first batch_schedule entry must be at 0 (the batch the run starts with)")
                if prev is not None:
                    if prev[1] == 0 and i == 1:
                        prev = (unit, 0)  # 'at: 0' fits any unit
                    if unit != prev[0]:
                        raise spec_error(path, "use one unit for all thresholds (tokens/samples, or steps)")
                    if value <= prev[1]:
                        raise spec_error(path, f"thresholds must increase ({bp.at} after {self.batch_schedule[i - 1].at}); a batch schedule cannot go backwards")
                points.append((unit, value, bp.batch_size))
                prev = (unit, value)
            return Clock.from_batches(schedule_runs(points, self.seq_len), self.seq_len)
        tps = self.step_tokens
        return Clock.constant(tps, self.seq_len) if tps else None


class Model(StrictModel):
    """Optional model facts for cost estimates (``lrplan plan``)."""

    params: Optional[PositiveCount] = Field(None, description="parameter count N for 6*N*D FLOPs, e.g. 1.2B")
    tokens_per_second: Optional[PositiveCount] = Field(None, description="training throughput of the whole job, tokens/s")
    gpus: Optional[PositiveCount] = Field(None, description="GPUs the job runs on (for GPU-hours)")


# The schedule is validated by its own family's model (chosen by `kind`), so only that family's schema is ever
# built: a discriminated union over every family would build ~20 schemas on each start-up.
ScheduleSpec = SerializeAsAny[Family]


class Replace(dict):
    """For :meth:`Spec.derive`: this mapping replaces the section instead of being merged into it."""


class Spec(StrictModel):
    """A whole spec file: ``budget``, ``schedule`` and optional ``name``, ``model``, ``version``."""

    version: int = Field(1, description="spec format version (1)")
    name: Optional[str] = None
    budget: Budget
    schedule: ScheduleSpec  # type: ignore[valid-type]
    model: Optional[Model] = None

    _source: Optional[str] = PrivateAttr(None)
    _base_dir: Optional[Path] = PrivateAttr(None)
    _plan: Any = PrivateAttr(None)
    _node: Any = PrivateAttr(None)  # the YAML node tree, for the line of an error found after loading

    def __getstate__(self) -> dict[Any, Any]:
        """Pickle without the cached plan (it holds closures); it is rebuilt on first use."""
        state = super().__getstate__()
        private = dict(state.get("__pydantic_private__") or {})
        private["_plan"] = None
        return {**state, "__pydantic_private__": private}

    def model_copy(self, *, update: Any = None, deep: bool = False) -> "Spec":
        """A copy whose plan is rebuilt from its own fields (a cached plan would describe the original)."""
        copy = super().model_copy(update=update, deep=deep)
        copy._plan = None
        return copy

    def locate(self, err: "SpecError") -> "SpecError":
        """``err`` (raised by a later check, e.g. ``lrplan plan``'s) naming this spec's file and line."""
        return err if err.source is not None or self._source is None else located(err, self._source, self._node)

    @field_validator("version")
    @classmethod
    def _v1(cls, v: int) -> int:
        if v != 1:
            raise ValueError(f"unknown spec version {v}; this lrplan reads version 1")
        return v

    # -- derived -------------------------------------------------------------------------------------------
    def clock_unit(self) -> str:
        """The clock this schedule's progress runs on: ``schedule.clock`` if set, else ``tokens`` under a
        batch-size schedule (as Megatron's sample-based scheduler) and ``steps`` otherwise."""
        chosen = getattr(self.schedule, "clock", None)
        if chosen:
            return chosen
        return "tokens" if self.budget.has_batch_schedule else "steps"

    def context(self) -> BuildContext:
        """The build context: budget on the schedule's clock, tokens per step, budgets (rounding noted)."""
        b = self.budget
        clock = b.make_clock()
        unit = self.clock_unit()
        if unit == "tokens" and clock is None:
            raise spec_error(("schedule", "clock"), "the tokens clock needs tokens per step: add budget.batch_size and budget.seq_len")
        tps = b.step_tokens
        ctx = BuildContext(
            total_steps=0, tokens_per_step=tps, batch_size=b.batch_size, base_dir=self._base_dir,
            unit=unit, clock=clock, seq_len=b.seq_len,
        )
        if b.steps is not None:
            ctx.total_steps = b.steps if unit == "steps" else int(clock.tokens_before(b.steps))
        elif b.tokens is not None:
            ctx.budget_unit = "tokens"
            if clock is None:
                raise spec_error(("budget", "tokens"), "a token budget needs tokens per step: add batch_size and seq_len (or tokens_per_step)")
            if unit == "tokens":
                ctx.total_steps = b.tokens
            elif tps is None:  # batch ramp-up or schedule on the steps clock: the steps that reach the budget
                ctx.total_steps = int(clock.first_step_reaching(b.tokens))
            else:
                exact = b.tokens / tps
                ctx.total_steps = round_half_up(exact)
                if ctx.total_steps * tps != b.tokens:
                    ctx.notes.append(
                        f"budget.tokens: {si(b.tokens)} tokens = {exact:,.2f} steps of {tps:,} tokens, rounded to "
                        f"{ctx.total_steps} steps ({ctx.total_steps * tps:,} tokens)"
                    )
                if ctx.total_steps <= 0:
                    raise spec_error(("budget", "tokens"), f"{b.tokens} tokens is less than one step of {tps} tokens")
        else:
            assert b.budgets is not None
            if not b.budgets:
                raise spec_error(("budget", "budgets"), "no budgets: list at least one, e.g. budgets: [52B tokens, 105B tokens]")
            steps = []
            for i, length in enumerate(b.budgets):
                if length.unit == "percent":
                    raise spec_error(("budget", "budgets", i), "a budget cannot be a percentage; give tokens (52B tokens) or steps")
                if length.unit == "tokens":
                    ctx.budget_unit = "tokens"
                steps.append(ctx.steps(length, ("budget", "budgets", i)))
            for i, s in enumerate(steps):
                if s <= 0:
                    raise spec_error(("budget", "budgets", i), "a budget must be at least one step")
                if i and s <= steps[i - 1]:
                    raise spec_error(("budget", "budgets", i), f"budgets must strictly increase ({b.budgets[i]} after {b.budgets[i - 1]})")
            ctx.budgets = steps
            ctx.total_steps = steps[-1]
        steps_total = ctx.total_steps if unit == "steps" else int(clock.first_step_reaching(ctx.total_steps))
        where = ("budget", "steps" if b.steps is not None else "tokens" if b.tokens is not None else "budgets")
        if steps_total > MAX_STEPS:
            raise spec_error(where, f"{steps_total:.3g} steps is beyond lrplan's limit of {MAX_STEPS:.0e} steps; check the budget and tokens per step")
        if clock is not None and unit == "steps" and steps_total * int(clock.tps.max()) > MAX_TOKENS:
            bare = b.steps is not None or any(getattr(x, "unit", "") == "steps" for x in b.budgets or [])
            raise spec_error(where, f"the budget is beyond lrplan's limit of {MAX_TOKENS:.0e} tokens"
                             + ("; it is given in steps (a bare 100B counts steps): for tokens write '100B tokens'"
                                if bare else ""))
        if b.batch_schedule is not None and clock is not None:
            horizon = ctx.total_steps if unit == "tokens" else int(clock.tokens_before(ctx.total_steps))
            for i, bp in enumerate(b.batch_schedule):
                if i and bp.tokens(b.seq_len, clock) >= horizon:
                    raise spec_error(("budget", "batch_schedule", i, "at"), f"threshold {bp.at} is at or past the end of the budget")
        return ctx

    def schedule_plan(self) -> "SchedulePlan":
        """Build (once) and return the resolved schedule: segments, total steps, notes."""
        if self._plan is None:
            from lrplan.schedules.render import SchedulePlan

            ctx = self.context()
            total = self.schedule.total_steps(ctx)
            ctx.total_steps = total
            try:
                timeline = self.schedule.build(ctx)
            except ValueError as e:  # a helper refused a length
                raise spec_error(("schedule",), str(e)) from None
            if timeline.end != total:  # pragma: no cover - a family bug, not user input
                raise AssertionError(f"{self.schedule.kind} built {timeline.end} units, expected {total}")
            segments = timeline.segments
            steps = total
            if ctx.unit == "tokens":
                segments, steps = _tokens_to_steps(segments, total, ctx.clock)
            notes = list(dict.fromkeys(ctx.notes))  # lengths resolved twice (layout + build) note once
            plan = SchedulePlan(segments, steps, ctx.clock, notes, self, unit=ctx.unit, budgets=ctx.budgets)
            try:
                plan.probe()
            except LrplanError as e:  # a field error, so it names the spec's file and line
                raise spec_error(("schedule",), str(e)) from None
            self._plan = plan
        return self._plan

    def with_schedule(self, schedule: Any) -> "Spec":
        """A copy with another (already validated) schedule; its plan is built afresh."""
        out = self.model_copy(update={"schedule": schedule})
        out._plan = None
        return out

    def derive(self, **changes: Any) -> "Spec":
        """A new spec: this one as written, with ``changes``, validated like any loaded spec (errors name this
        spec's file). Each keyword is a top-level section (``budget``, ``schedule``, ``model``, ``name``): a
        mapping is merged into the section (a key set to ``None`` is removed), :class:`Replace` or any other
        value replaces it; a section set to ``None`` is removed.

        >>> from lrplan.spec.loading import load_spec
        >>> s = load_spec({"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": 1.0, "warmup": 10}})
        >>> s.derive(budget={"steps": 200}, schedule={"kind": "wsd", "decay": "20%"}).schedule_plan().total_steps
        200
        """
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for key, change in changes.items():
            if key not in type(self).model_fields:
                raise TypeError(f"derive(): {key!r} is not a spec section ({', '.join(type(self).model_fields)})")
            if isinstance(change, Replace):
                data[key] = dict(change)
            elif isinstance(change, dict) and isinstance(data.get(key), dict):
                merged = dict(data[key])
                for k, v in change.items():
                    if v is None:
                        merged.pop(k, None)
                    else:
                        merged[k] = v
                data[key] = merged
            elif change is None:
                data.pop(key, None)
            else:
                data[key] = change
        # a SpecError here names no file: the caller's ``spec.locate(err)`` adds it
        return from_data(data, source=self._source, base_dir=self._base_dir)

    def render(self) -> "Rendered":
        """Per-update LRs for the whole run (``.step``, ``.tokens``, ``.lr`` numpy arrays; ``.phases``)."""
        return self.schedule_plan().render()

    @property
    def source(self) -> str | None:
        return self._source


def _tokens_to_steps(segments: list, total_tokens: int, clock) -> tuple[list, int]:
    """Map segments laid out in tokens to steps: a step belongs to the phase its tokens-consumed falls in, and
    its LR is the phase's function of tokens consumed (Megatron's sample-based scheduler does the same)."""
    from lrplan.schedules.segments import Segment

    n_steps = int(clock.first_step_reaching(total_tokens + 1)) - 1  # the steps that fit (Megatron floors too)
    out = []
    for seg in segments:
        a = int(clock.first_step_reaching(seg.start))
        b = min(n_steps, int(clock.first_step_reaching(seg.end)))
        if b <= a:
            continue
        fn = seg.fn
        on_steps = (lambda f: lambda s: f(clock.tokens_before(s)))(fn)
        on_steps.lr_form = getattr(fn, "lr_form", None)  # a closed form on the token clock (lrplan.schedules.forms)
        out.append(Segment(seg.phase, a, b, on_steps))
    return out, n_steps


# ---------------------------------------------------------------------------------------------- validation

_STEPS = "budget: {steps: N} (or tokens: 100B)"
FRAMEWORK_KEYS: dict[str, tuple[str, str]] = {
    # keys people bring from Megatron-LM, TorchTitan and HF Transformers -> (whose name, how lrplan writes it)
    "lr": ("Megatron/TorchTitan's", "schedule.peak_lr: 3.0e-4"),
    "max_lr": ("PyTorch OneCycleLR's", "schedule.peak_lr: 3.0e-4"),
    "learning_rate": ("HF's", "schedule.peak_lr: 3.0e-4"),
    "base_lr": ("a common", "schedule.peak_lr: 3.0e-4"),
    "warmup_steps": ("TorchTitan/HF's", "schedule.warmup: 2000 (steps; or '1B tokens', '2%')"),
    "lr_warmup_iters": ("Megatron's", "schedule.warmup: 2000 (steps)"),
    "lr_warmup_samples": ("Megatron's", "schedule.warmup: '512K samples'"),
    "lr_warmup_fraction": ("Megatron's", "schedule.warmup: '1%' (of the budget)"),
    "warmup_ratio": ("HF's", "schedule.warmup: '5%' (of the budget)"),
    "warmup_iters": ("a common", "schedule.warmup: 2000 (steps)"),
    "decay_ratio": ("TorchTitan's", "schedule.decay: '20%' (of the budget; kind: wsd)"),
    "decay_steps": ("a common", "schedule.decay: 2000 (steps; kind: wsd)"),
    "lr_decay_iters": ("Megatron's", "the decay length: for cosine it ends at the budget; for a shorter decay use kind: wsd with decay: N"),
    "lr_wsd_decay_iters": ("Megatron's", "schedule.decay: N (kind: wsd)"),
    "lr_decay_style": ("Megatron's", "schedule.kind: cosine (or linear, wsd, inverse-sqrt, constant)"),
    "lr_wsd_decay_style": ("Megatron's", "schedule.decay_shape: linear (or cosine, 1-sqrt, exponential)"),
    "decay_type": ("TorchTitan's", "schedule.decay_shape: linear (sqrt is 1-sqrt)"),
    "lr_scheduler_type": ("HF's", "schedule.kind: cosine (or linear, constant, wsd, inverse-sqrt, polynomial)"),
    "lr_min": ("TorchTitan's", "schedule.min_lr_ratio: 0.1 (TorchTitan's lr_min is a fraction of lr), or min_lr: 3.0e-5"),
    "min_lr_rate": ("HF's", "schedule.min_lr_ratio: 0.1"),
    "final_lr": ("a common", "schedule.min_lr: 3.0e-5"),
    "train_iters": ("Megatron's", _STEPS),
    "train_samples": ("Megatron's", "budget: {steps: N} or {tokens: N} with batch_size and seq_len"),
    "max_steps": ("HF's", _STEPS),
    "total_steps": ("a common", _STEPS),
    "train_steps": ("a common", _STEPS),
    "global_batch_size": ("Megatron's", "budget.batch_size: 1024 (sequences per optimizer step)"),
    "seq_length": ("Megatron's", "budget.seq_len: 4096"),
    "seq_len": ("TorchTitan's", "budget.seq_len: 4096 (in budget:, not in schedule:)"),
    "rampup_batch_size": ("Megatron's", "budget.rampup: {start: 32, increment: 32, samples: 1M}"),
    "lr_decay_samples": ("Megatron's", "the decay length: for cosine it ends at the budget; for a shorter decay use kind: wsd with decay: '10M samples'"),
    "num_decay_steps": ("HF's WSD", "schedule.decay: 2000 (steps; kind: wsd)"),
    "num_stable_steps": ("HF's WSD", "the stable phase: kind: wsd fills the run between warmup and decay"),
    "warmup_stable_steps": ("a common", "schedule.warmup (the warmup) and schedule.decay (kind: wsd); the stable phase fills the rest"),
    "cooldown_steps": ("a common", "schedule.decay: 2000 (steps; kind: wsd)"),
    "warmup_tokens": ("a common", "schedule.warmup: '1B tokens'"),
    "lr_end": ("HF's polynomial", "schedule.min_lr: 1.0e-7"),
    "micro_batch_size": ("Megatron's", "nothing: lrplan needs the global batch only, budget.batch_size (sequences per optimizer step)"),
}




def _clean_loc(loc: tuple, data: Any) -> tuple:
    """Drop pydantic's internal segments (union tags, function names) so the path matches the YAML."""
    out: list[Any] = []
    cur = data
    for seg in loc:
        if isinstance(cur, dict) and isinstance(seg, str) and seg in cur:
            out.append(seg)
            cur = cur[seg]
        elif isinstance(cur, list) and isinstance(seg, int) and seg < len(cur):
            out.append(seg)
            cur = cur[seg]
        elif isinstance(seg, str) and (seg in FAMILIES or seg.startswith(("function-", "list[", "union[", "int", "str", "float", "literal"))):
            continue
        elif isinstance(cur, dict) and isinstance(seg, str):
            out.append(seg)  # a missing or unknown key: keep its name
            cur = None
        else:
            continue
    return tuple(out)


def _value_at(data: Any, loc: tuple) -> Any:
    cur = data
    for seg in loc:
        try:
            cur = cur[seg]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


_BRANCH_TYPE_ERRORS = {"string_type", "list_type", "float_type", "int_type", "float_parsing", "dict_type"}


def _problems(err: ValidationError, data: Any, prefix: tuple = (), full: Any = None) -> list[Problem]:
    """Readable problems from a pydantic error; ``prefix`` is where ``data`` sits in the whole spec ``full``."""
    probs: list[Problem] = []
    seen: set[tuple] = set()
    kinds: list[str] = []
    data_for_names = full if full is not None else data
    for e in err.errors(include_url=False):
        loc = prefix + _clean_loc(tuple(e["loc"]), data)
        msg = str(e["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        kind = e["type"]
        if kind == "extra_forbidden":
            known = _known_fields(loc[:-1], data_for_names)
            foreign = FRAMEWORK_KEYS.get(str(loc[-1]))
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            if foreign is not None:
                msg = f"unknown field {loc[-1]!r} ({foreign[0]} name); in lrplan write {foreign[1]}"
            else:
                msg = f"unknown field {loc[-1]!r}" + (f"; did you mean {close[0]!r}?" if close else "") + (
                    f" (known: {', '.join(known)})" if known and not close else ""
                )
        elif kind == "missing":
            msg = f"missing required field {loc[-1]!r}"
        elif kind in ("literal_error", "enum"):
            got = e.get("input")
            exp = e.get("ctx", {}).get("expected", "")
            choices = [c.strip().strip("'") for c in exp.replace(" or ", ", ").split(",") if c.strip()]
            close = difflib.get_close_matches(str(got), choices, n=1)
            msg = f"{got!r} is not one of: {', '.join(choices)}" + (f"; did you mean {close[0]!r}?" if close else "")
        elif "input" in e and "got" not in msg and kind not in ("model_type", "dict_type") and not isinstance(e["input"], (dict, list)):
            msg = f"{msg} (got {e['input']!r})"
        key = (loc, msg)
        if key in seen:
            continue
        seen.add(key)
        probs.append(Problem(loc, msg))
        kinds.append(kind)
    # a union field (a file name or a list of values): when the value is of one branch's type, the other
    # branch's bare type error ("Input should be a valid string") only misleads; keep the deeper problems
    deeper = [q.path for q in probs]
    return [q for q, k in zip(probs, kinds)
            if not (k in _BRANCH_TYPE_ERRORS and any(len(d) > len(q.path) and d[: len(q.path)] == q.path for d in deeper))]


def _known_fields(loc: tuple, data: Any) -> list[str]:
    if loc == ():
        return list(Spec.model_fields)
    if loc == ("budget",):
        return list(Budget.model_fields)
    if loc == ("model",):
        return list(Model.model_fields)
    if loc and loc[0] == "schedule":
        kind = _value_at(data, ("schedule", "kind"))
        cls = FAMILIES.get(kind) if isinstance(kind, str) else None
        if cls is not None and len(loc) == 1:
            return [f for f in cls.model_fields if f != "kind"]
    return []


def validate_spec(data: dict) -> Spec:
    """Validate a spec mapping: the schedule with its family's model, the rest with :class:`Spec`; all
    problems of both are reported together."""
    problems: list[Problem] = []
    sched_data = data.get("schedule")
    schedule: Any = None
    if isinstance(sched_data, dict):
        cls = FAMILIES[sched_data["kind"]]
        try:
            schedule = cls.model_validate(sched_data)
        except ValidationError as e:
            problems += _problems(e, sched_data, prefix=("schedule",), full=data)
    placeholder = schedule if schedule is not None else FAMILIES["constant"](kind="constant", peak_lr=1.0)
    rest = dict(data)
    if isinstance(sched_data, dict) or "schedule" not in data:
        rest["schedule"] = placeholder if "schedule" in data else rest.get("schedule")
    try:
        spec = Spec.model_validate(rest)
    except ValidationError as e:
        problems = _problems(e, rest) + problems
        spec = None
    if problems:
        raise SpecError(problems)
    assert spec is not None
    return spec


def _precheck(data: Any) -> None:
    if not isinstance(data, dict):
        raise spec_error((), f"a spec is a mapping with budget: and schedule: (got {type(data).__name__})")
    sched = data.get("schedule")
    if isinstance(sched, dict):
        kind = sched.get("kind")
        if kind is None:
            raise spec_error(("schedule",), f"missing 'kind'; choose from: {', '.join(FAMILIES)}")
        if not isinstance(kind, str) or kind not in FAMILIES:
            raise spec_error(("schedule", "kind"), unknown_kind(kind, list(FAMILIES)))


def from_data(data: Any, *, source: str | None = None, base_dir: Path | None = None, node: Any = None) -> Spec:
    """A validated spec from a parsed mapping, its lengths resolved (so every error surfaces now); errors are
    not yet located in a file (:func:`lrplan.spec.loading.load_spec` does that)."""
    _precheck(data)
    spec = validate_spec(data)
    spec._source = source
    spec._base_dir = base_dir
    spec._node = node
    spec.schedule_plan()
    return spec
