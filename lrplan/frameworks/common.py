"""What the per-framework exporters and importers share: the :class:`Export` result, the spec's numbers
(:class:`Facts`, :func:`facts`), the exactness check (:func:`compare`), number formats that every config language
reads back exactly (:func:`fmt_num`, :func:`pretty`, :func:`scalar`, :func:`py_value`) and the snippet header.

Nothing here knows a particular framework: ``lrplan/frameworks/<folder>/export.py`` holds each one's configs
and text, and :mod:`lrplan.frameworks.export` drives them. No numpy at import.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Union

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from lrplan.spec.models import Spec

Native = Union[dict, list]
"""A native config (the dict shape the simulator takes), or a list of them: one launch per segment (WSD-S)."""

Candidate = tuple[str, Native]
"""``(label, native)``: one config :func:`lrplan.frameworks.export.export` tries (the label names it in reports)."""

RTOL = 1e-12
TORCH_RECIPE = (
    "to run the spec exactly, use lrplan's PyTorch scheduler: `from lrplan.torch import LRPlanScheduler; "
    "sched = LRPlanScheduler(optimizer, 'SPEC.yaml')`, stepped after every optimizer.step()"
)

__all__ = [
    "Candidate", "Export", "Facts", "Native", "RTOL", "TORCH_RECIPE", "compare", "facts", "fmt_num", "header", "near_shapes",
    "percent", "pretty", "py_value", "scalar", "short_num", "start_note",
]


@dataclass
class Export:
    """The result of :func:`lrplan.frameworks.export.export`.

    ``native``: the framework config (the same dict shapes as the simulators take), or a list of them when the
    schedule needs one relaunch per segment (WSD-S). ``snippet``: ready-to-paste text. ``exact``: every update's LR
    equals the spec's (rtol 1e-12). ``differences``: human-readable, empty when exact. ``recipe``: what to do
    instead when not exact (or how to launch the segments). ``lr``: the LR of every update the framework will run
    (computed on first access; :meth:`lr_at` and ``lrs`` evaluate any part of a run of any length lazily).
    ``annotated``: the snippet carries this report (exact / NOT EXACT, differences, warnings, notes, recipe) as
    comments (:func:`header`); False for a format without comments (DeepSpeed's JSON), whose report is only here.
    """

    framework: str
    version: str
    native: Native
    snippet: str
    exact: bool
    differences: list[str]
    max_abs_dev: float
    max_rel_dev: float
    first_diff: Optional[int]  # 0-based step of the first differing update
    recipe: Optional[str]
    lrs: Any  # the framework's LRs, evaluated on demand (lrplan.frameworks.exactness.LazyLR, or an array)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    label: str = ""
    annotated: bool = True

    @property
    def lr(self) -> "np.ndarray":
        """The LR of every update the framework runs, as one array (computed on first access; a run of more than
        ``lrplan.schedules.render.MAX_IN_MEMORY`` updates raises: stream it with :meth:`lr_at` or ``lrs.chunks()``)."""
        import numpy as np

        return self.lrs.array() if hasattr(self.lrs, "array") else np.asarray(self.lrs)

    @property
    def n_updates(self) -> int:
        return len(self.lrs)

    def lr_at(self, steps: "np.ndarray") -> "np.ndarray":
        """The LR the framework runs at the (0-based) updates ``steps``, without computing the others."""
        import numpy as np

        steps = np.asarray(steps, dtype=np.int64)
        return self.lrs.lr_at(steps) if hasattr(self.lrs, "lr_at") else np.asarray(self.lrs)[steps]


# ------------------------------------------------------------------------------------------------ helpers


def compare(got: "np.ndarray", want: "np.ndarray") -> tuple[bool, float, float, Optional[int]]:
    """``(exact, max_abs_dev, max_rel_dev, first_diff)``; exact at rtol 1e-12 (atol 1e-300). The relative
    deviation is over the updates whose spec LR is a normal float (> ~2.2e-308: relative to an LR of ~0 it is
    undefined)."""
    import numpy as np

    if got.shape != want.shape:
        raise AssertionError(f"length {got.shape} != {want.shape}")
    dev = np.abs(got - want)
    close = dev <= RTOL * np.abs(want) + 1e-300
    exact = bool(close.all())
    mx = float(dev.max()) if dev.size else 0.0
    pos = want >= np.finfo(np.float64).tiny
    with np.errstate(over="ignore"):
        mr = float((dev[pos] / want[pos]).max()) if pos.any() else 0.0
    first = None if exact else int(np.argmin(close))
    return exact, (0.0 if exact else mx), (0.0 if exact else mr), first


def fmt_num(x: float) -> str:
    """A float that YAML (PyYAML 1.1), TOML, JSON and Python all read back as the same float: ``3.0e-05``."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"cannot write {x!r}")
    r = repr(x)
    if "e" in r:
        mant, exp = r.split("e")
        if "." not in mant:
            mant += ".0"
        if exp[0] not in "+-":
            exp = "+" + exp
        return f"{mant}e{exp}"
    return r


def pretty(x: float) -> float:
    """The shortest decimal within 1e-15 (relative) of ``x``: ``0.1 * 3e-4`` is written ``3e-05``, not
    ``2.9999999999999997e-05`` (the simulators check the result, so exactness is never assumed)."""
    x = float(x)
    for k in range(1, 18):
        y = float(f"{x:.{k}g}")
        if abs(y - x) <= 1e-15 * abs(x):
            return y
    return x


def short_num(x: float) -> str:
    """Six significant digits, for messages."""
    return f"{x:.6g}"


def percent(num: float, den: float) -> Optional[str]:
    """``num / den`` as a percentage for messages (``12.500%``), or None when it is undefined: ``den`` is 0,
    subnormal (an LR of ~1e-310: the quotient overflows or means nothing) or the quotient is not finite. Messages
    never print ``inf%`` or ``nan%``.

    >>> percent(1.0, 8.0), percent(1e-3, 1e-320), percent(0.0, 0.0)
    ('12.500%', None, None)
    """
    num, den = float(num), float(den)
    if not (math.isfinite(num) and math.isfinite(den)) or abs(den) < sys.float_info.min:  # 0, or subnormal
        return None
    q = num / den
    if not math.isfinite(q):
        return None
    return f"{q:.3%}" if abs(q) < 1e4 else f"{q * 100:.3g}%"


# -------------------------------------------------------------------------------------------- spec facts


@dataclass
class Facts:
    """The numbers of a spec an exporter needs, resolved against its budget (:func:`facts`)."""

    kind: str
    T: int  # total updates
    peak: float
    floor: float
    min_ratio: float  # floor / peak (min_lr_ratio if the spec gave it, exactly)
    W: int = 0
    W_exact: float = 0  # the warmup, not rounded up: a float when it ends between two updates ("3.2 steps")
    warmup_unit: str = "steps"  # the unit the spec wrote its warmup in (steps, samples, tokens, percent)
    warmup_shape: str = "linear"
    init: float = 0.0
    shape: str | None = None  # decay shape (lrplan name)
    D: int = 0  # decay length (wsd / wsdc)
    tail: int = 0
    horizon: int = 0  # the length the decay is defined over when it is beyond the run (schedule.horizon); 0: none
    timescale: int | None = None
    cooldown: int = 0
    power: float | None = None
    batch_size: int | None = None
    seq_len: int | None = None
    wsds: list[tuple[int, int]] = field(default_factory=list)  # (checkpoint C_i, decay d_i)
    rewarmup: int = 0
    # token clock (schedule progress runs on tokens consumed: budget.rampup / batch_schedule / schedule.clock)
    unit: str = "steps"
    tok: Optional["Facts"] = None  # the same facts with every length in tokens (T = total tokens)
    rampup: Optional[tuple[int, int, int]] = None  # Megatron --rampup-batch-size START INCR SAMPLES
    variable_batch: bool = False
    step_schedule: Optional[str] = None  # Megatron-LM HEAD --step-batch-size-schedule, thresholds in samples
    consumed_samples: Optional[int] = None  # samples the run's whole steps consume (variable batch)


def facts(spec: "Spec") -> Facts:
    """The numbers an exporter needs, resolved against the budget, in steps (``.tok``: in tokens when the
    schedule runs on the token clock; the step lengths are then exact only under a constant batch that
    divides them, which the simulators check)."""
    plan = spec.schedule_plan()
    ctx = spec.context()
    unit = getattr(plan, "unit", "steps")
    if unit != "tokens":
        ctx.total_steps = plan.total_steps
        return _facts(spec, ctx, plan.total_steps)
    ctx.total_steps = spec.schedule.total_steps(ctx)
    tok = _facts(spec, ctx, ctx.total_steps)
    clock = ctx.clock
    tps = clock.constant_tps

    def to_steps(x: int) -> int:
        if tps:
            return int(round(x / tps))
        return int(clock.first_step_reaching(x))

    f = Facts(**{**tok.__dict__})
    f.T = plan.total_steps
    for k in ("W", "D", "tail", "cooldown", "rewarmup", "horizon"):
        setattr(f, k, to_steps(getattr(tok, k)))
    f.W_exact = f.W if float(tok.W_exact).is_integer() else tok.W_exact / tps if tps else f.W
    if tok.timescale:
        f.timescale = to_steps(tok.timescale)
    f.wsds = [(to_steps(c), to_steps(d)) for c, d in tok.wsds]
    f.unit, f.tok, f.variable_batch = "tokens", tok, bool(clock.variable)
    r = spec.budget.rampup
    if r is not None and spec.budget.seq_len:
        samples = int(r.over.value) // spec.budget.seq_len if r.over.unit == "tokens" else int(r.over.value)
        f.rampup = (int(r.start), int(r.increment), samples)
    if clock.variable and spec.budget.seq_len:
        f.consumed_samples = int(clock.tokens_before(plan.total_steps)) // spec.budget.seq_len
    if spec.budget.batch_schedule is not None and spec.budget.seq_len:
        q = spec.budget.seq_len
        runs = [(int(clock.tokens_before(int(st))) // q, int(tp) // q) for st, tp in zip(clock.starts, clock.tps)]
        f.step_schedule = " ".join(f"{a}:{b}" for a, b in runs)
    return f


def _facts(spec: "Spec", ctx, T: int) -> Facts:
    sch = spec.schedule
    peak = float(sch.peak())
    floor = float(getattr(sch, "floor", 0.0) or 0.0) if hasattr(sch, "floor") else 0.0
    ratio = getattr(sch, "min_lr_ratio", None)
    min_ratio = float(ratio) if ratio is not None else (floor / peak if peak else 0.0)
    peak = peak if peak > 0 else 1e-300  # (a phases spec of zeros: percentages of peak stay finite)
    f = Facts(sch.kind, T, peak, pretty(floor), pretty(min_ratio), batch_size=spec.budget.batch_size, seq_len=spec.budget.seq_len)
    if hasattr(sch, "warmup_steps") and hasattr(sch, "warmup"):
        f.W = sch.warmup_steps(ctx)
        f.W_exact = sch.warmup_length(ctx) if hasattr(sch, "warmup_length") else f.W
        f.warmup_shape = getattr(sch, "warmup_shape", "linear")
        f.warmup_unit = getattr(getattr(sch, "warmup", None), "unit", "steps") or "steps"
        f.init = pretty(float(getattr(sch, "warmup_init_lr", 0.0)))
    if getattr(sch, "horizon", None) is not None:
        h = sch.horizon_steps(ctx)
        f.horizon = h if h > T else 0
    if sch.kind in ("linear", "cosine"):
        f.shape = sch.kind
        f.tail = sch.tail_steps(ctx)
    elif sch.kind == "polynomial":
        f.shape, f.power = "poly", float(sch.power)
        if sch.power == 1.0:
            f.shape = "linear"
    elif sch.kind in ("wsd", "wsdc"):
        f.shape = sch.decay_shape
        f.D = ctx.steps(sch.decay, ("schedule", "decay"))
        f.tail = sch.tail_steps(ctx)
    elif sch.kind == "inverse-sqrt":
        f.timescale = ctx.steps(sch.timescale, ("schedule", "timescale")) if sch.timescale is not None else f.W
        f.cooldown = ctx.steps(sch.cooldown, ("schedule", "cooldown"))
    elif sch.kind == "wsd-s":
        f.shape = sch.decay_shape
        _, ds, pos = sch.layout(ctx)
        f.wsds = [(ck, d) for (_, ck, _), d in zip(pos, ds)]
        f.rewarmup = ctx.steps(sch.rewarmup, ("schedule", "rewarmup"))
    return f


# ------------------------------------------------------------------------------------ shared by exporters


def near_shapes(f: Facts, allowed: dict[str, str]) -> list[str]:
    """Decay shapes to try: the spec's own if the framework has it, else all the framework has."""
    if f.shape in allowed:
        return [f.shape]
    return list(allowed)


def start_note(f: Facts, got: "np.ndarray", want: "np.ndarray") -> list[str]:
    """The note that update 1 runs at LR 0 when the spec's warmup starts at 0 and the framework's does too."""
    if f.W and float(want[0]) == 0.0 and float(got[0]) == 0.0:
        return ["update 1 runs at LR 0 (the warmup starts at 0), as in the spec"]
    return []


def header(e: Export, f: Facts, spec: "Spec", c: str = "#") -> list[str]:
    """The comment lines a snippet starts with (comment character ``c``): exact or NOT EXACT with the
    differences, the warnings, notes and recipe."""
    name = spec.name or spec.source or "spec"
    lines = [f"{c} lrplan export of {name} ({f.kind}, {f.T:,} updates) for {e.framework} {e.version}"]
    if e.exact:
        lines.append(f"{c} exact: every update's LR equals the spec (checked with lrplan's {e.framework} simulator)")
    else:
        lines.append(f"{c} NOT EXACT: {e.framework} cannot express this schedule; this is the nearest native schedule ({e.label})")
        for d in e.differences:
            lines.append(f"{c}   {d}")
    for w in e.warnings if e.exact else e.warnings[1:]:
        lines.append(f"{c} warning: {w}")
    for n in e.notes:
        lines.append(f"{c} note: {n}")
    if e.recipe:
        for r in e.recipe.splitlines():
            lines.append(f"{c} {r}")
    return lines


def scalar(v: Any) -> str:
    """A scalar as TOML and YAML both read it back (``true``, ``3.0e-05``, ``2000``, ``"cosine"``)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return fmt_num(v)
    if isinstance(v, int):
        return str(v)
    return json.dumps(v)


def py_value(v: Any) -> str:
    """A value as Python source that reads back the same (``3.0e-05``, ``None``, ``"cosine"``)."""
    if isinstance(v, float):
        return fmt_num(v)
    if v is None or isinstance(v, (bool, int)):
        return repr(v)
    return json.dumps(v)
