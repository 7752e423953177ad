"""Export an lrplan spec to a training framework's native LR-scheduler config, and say how exactly it matches.

``export(spec, framework)`` picks the framework config whose LRs (as the framework really runs them, computed by
the simulators in :mod:`lrplan.frameworks`) are closest to ``spec.render().lr``: the exact one when the framework
can express the schedule, otherwise the nearest native schedule, reported with ``exact=False``, the differences
and the maximum deviation (never a silent mismatch). ``convention(spec, framework)`` is the per-update LR array
that config runs.

Framework names: ``megatron``, ``torchtitan``, ``hf``, ``olmo-core``, ``deepspeed``
(``shared/notes/frameworks.md``; support matrix in ``schedules.md`` §12).

>>> from lrplan.spec.models import load_spec
>>> s = load_spec({"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": 1e-3, "warmup": 10}})
>>> e = export(s, "megatron")
>>> e.exact, e.native["lr_decay_style"], e.native["lr_warmup_iters"]
(True, 'cosine', 10)
>>> export(s, "torchtitan").exact  # TorchTitan's warmup starts at lr/W, not 0
False
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from lrplan.errors import LrplanError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from pathlib import Path

    from lrplan.spec.models import Spec

FRAMEWORKS: tuple[str, ...] = ("megatron", "torchtitan", "hf", "olmo-core", "deepspeed")
# first = default (newest)
VERSIONS: dict[str, tuple[str, ...]] = {
    "megatron": ("0.16",),
    "torchtitan": ("0.3", "0.2"),
    "hf": ("5", "4"),
    "olmo-core": ("3",),
    "deepspeed": ("0.19",),
}
MODULES = {"megatron": "megatron", "torchtitan": "torchtitan", "hf": "hf", "olmo-core": "olmo_core", "deepspeed": "deepspeed"}
RTOL = 1e-12
TORCH_RECIPE = (
    "to run the spec exactly, use lrplan's PyTorch scheduler: `from lrplan.torch import LRPlanScheduler; "
    "sched = LRPlanScheduler(optimizer, 'SPEC.yaml')`, stepped after every optimizer.step()"
)

Native = Union[dict, list]

__all__ = ["Export", "FRAMEWORKS", "VERSIONS", "convention", "export", "resolve", "simulate", "compare"]


@dataclass
class Export:
    """The result of :func:`export`.

    ``native``: the framework config (the same dict shapes as the simulators take), or a list of them when the
    schedule needs one relaunch per segment (WSD-S). ``snippet``: ready-to-paste text. ``exact``: every update's LR
    equals the spec's (rtol 1e-12). ``differences``: human-readable, empty when exact. ``recipe``: what to do
    instead when not exact (or how to launch the segments). ``lr``: the LR of every update the framework will run.
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
    lr: "np.ndarray"
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    label: str = ""


# ------------------------------------------------------------------------------------------------ helpers


def resolve(framework: str, version: str | None = None) -> tuple[str, str]:
    """Normalise a framework name and version; unknown ones raise one line listing the known ones."""
    fw = framework.strip().lower().replace("_", "-")
    if fw == "olmo":
        fw = "olmo-core"
    if fw not in VERSIONS:
        raise LrplanError(f"unknown framework {framework!r}; known: {', '.join(FRAMEWORKS)}")
    known = VERSIONS[fw]
    if version is None:
        return fw, known[0]
    v = version.strip().lstrip("v")
    for k in known:
        if v == k or v.startswith(k + "."):
            return fw, k
    raise LrplanError(f"unknown {fw} version {version!r}; known: {', '.join(known)} (default {known[0]})")


def _module(fw: str):
    import importlib

    return importlib.import_module(f"lrplan.frameworks.{MODULES[fw]}")


def simulate(framework: str, native: Native, n_updates: int | None = None) -> "np.ndarray":
    """The LRs ``native`` runs in ``framework`` (a list of configs = one relaunch per segment, stitched)."""
    import numpy as np

    fw, _ = resolve(framework)
    mod = _module(fw)
    if isinstance(native, list):
        parts = []
        start = 0
        for cfg in native:
            lr = _sim_one(fw, mod, cfg)
            end = lr.size
            parts.append(lr[start:end])
            start = end
        out = np.concatenate(parts) if parts else np.zeros(0)
        return out if n_updates is None else out[:n_updates]
    return _sim_one(fw, mod, native, n_updates)


def _sim_one(fw: str, mod, cfg: dict, n: int | None = None):
    if fw == "megatron" and cfg.get("global_batch_size") is None and cfg.get("step_batch_size_schedule") is None:
        cfg = {**cfg, "global_batch_size": 1}  # iteration-based: the curve over iterations does not depend on it
    return mod.simulate(cfg, n)


def compare(got: "np.ndarray", want: "np.ndarray") -> tuple[bool, float, float, Optional[int]]:
    """``(exact, max_abs_dev, max_rel_dev, first_diff)``; exact at rtol 1e-12 (atol 1e-300)."""
    import numpy as np

    if got.shape != want.shape:
        raise AssertionError(f"length {got.shape} != {want.shape}")
    dev = np.abs(got - want)
    close = dev <= RTOL * np.abs(want) + 1e-300
    exact = bool(close.all())
    mx = float(dev.max()) if dev.size else 0.0
    pos = want > 0
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


def _g(x: float) -> str:
    return f"{x:.6g}"


# -------------------------------------------------------------------------------------------- spec facts


@dataclass
class Facts:
    kind: str
    T: int  # total updates
    peak: float
    floor: float
    min_ratio: float  # floor / peak (min_lr_ratio if the spec gave it, exactly)
    W: int = 0
    warmup_shape: str = "linear"
    init: float = 0.0
    shape: str | None = None  # decay shape (lrplan name)
    D: int = 0  # decay length (wsd / wsdc)
    tail: int = 0
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
    for k in ("W", "D", "tail", "cooldown", "rewarmup"):
        setattr(f, k, to_steps(getattr(tok, k)))
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
        f.warmup_shape = getattr(sch, "warmup_shape", "linear")
        f.init = pretty(float(getattr(sch, "warmup_init_lr", 0.0)))
    if sch.kind in ("linear", "cosine"):
        f.shape = sch.kind
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


# ------------------------------------------------------------------------------------------ candidates
# Each builder returns [(label, native)]; export() simulates all and keeps the exact one or the nearest.

MEGATRON_WSD = {"exponential": "exponential", "linear": "linear", "cosine": "cosine", "1-sqrt": "minus_sqrt"}
TT_DECAY = {"linear": "linear", "1-sqrt": "sqrt", "cosine": "cosine"}
HF_WSD = {"linear": "linear", "cosine": "cosine", "1-sqrt": "1-sqrt"}


def _near_shapes(f: Facts, allowed: dict[str, str]) -> list[str]:
    """Decay shapes to try: the spec's own if the framework has it, else all the framework has."""
    if f.shape in allowed:
        return [f.shape]
    return list(allowed)


def _in_samples(t: Facts, to_samples: Callable[[int], int]) -> Facts:
    """A copy of the token-clock facts ``t`` with every length in samples and one sample per "iteration"
    (the caller renames iterations to samples and sets the real batch)."""
    sf = Facts(**{**t.__dict__})
    sf.T, sf.W, sf.D, sf.tail = to_samples(t.T), to_samples(t.W), to_samples(t.D), to_samples(t.tail)
    sf.wsds = [(to_samples(c), to_samples(d)) for c, d in t.wsds]
    if sf.timescale:
        sf.timescale = to_samples(t.timescale)
    sf.batch_size = 1
    return sf


def _end_at_last_update(c: dict, f: Facts) -> None:
    """While ramping up, Megatron starts another iteration whenever at most ``--train-samples`` were consumed
    (``update_train_iters``, training.py, core_v0.15-0.16), so a ramp-up that outlasts the run runs one update past
    the spec's last whole step. Then ``--train-samples`` = the samples the spec's updates consume, minus one (the
    last update starts below it, the next would not), with the decay length kept (``--lr-decay-samples``, which
    defaults to ``--train-samples``). The simulator checks the result like every other config."""
    if f.consumed_samples is None or _module("megatron").train_iters(c) == f.T:
        return
    if c.get("lr_decay_samples") is None:
        c["lr_decay_samples"] = c["train_samples"]
    c["train_samples"] = f.consumed_samples - 1


def _megatron(f: Facts, sample_based: bool) -> list[tuple[str, Native]]:
    if f.tok is not None and f.seq_len:  # progress on tokens consumed = Megatron's sample-based scheduler
        t = f.tok
        q = f.seq_len
        if f.batch_size or not f.variable_batch:  # lengths in whole samples (exact when seq_len divides them)
            sf = _in_samples(t, lambda x: int(round(x / q)))
            out = []
            for lab, n in _megatron(sf, True):
                for c in n if isinstance(n, list) else [n]:
                    c["global_batch_size"] = f.batch_size or (f.T and sf.T // f.T) or 1
                    if f.rampup:
                        c["rampup_batch_size"] = list(f.rampup)
                        if not isinstance(n, list):  # one launch for the whole run (not WSD-S's segments)
                            _end_at_last_update(c, f)
                out.append((lab + " (sample-based: the spec runs on tokens)", n))
            return out
        if f.step_schedule:  # budget.batch_schedule: Megatron-LM HEAD's --step-batch-size-schedule
            sf = _in_samples(t, lambda x: x // q)
            out = []
            for lab, n in _megatron(sf, True):
                for c in n if isinstance(n, list) else [n]:
                    c.pop("global_batch_size", None)
                    c["step_batch_size_schedule"] = f.step_schedule
                    if c.get("lr_decay_samples") is None:
                        c["lr_decay_samples"] = c["train_samples"]
                    c["train_samples"] = f.consumed_samples
                out.append((lab + " (sample-based with Megatron-LM HEAD's --step-batch-size-schedule)", n))
            return out
    base: dict[str, Any] = {"train_iters": f.T, "lr": f.peak, "min_lr": f.floor}
    if f.batch_size:
        base["global_batch_size"] = f.batch_size
    if f.init:
        base["lr_warmup_init"] = f.init
    W = f.W
    out: list[tuple[str, Native]] = []

    def cfg(**kw):
        c = {**base, "lr_warmup_iters": W, **kw}
        c.setdefault("lr_decay_iters", f.T)
        return c

    if f.kind == "wsd-s":
        segs = []
        for ck, d in f.wsds:
            segs.append({**base, "train_iters": ck, "lr_warmup_iters": W, "lr_decay_style": "WSD",
                         "lr_wsd_decay_style": MEGATRON_WSD.get(f.shape or "", "linear"),
                         "lr_decay_iters": ck, "lr_wsd_decay_iters": d})
        out.append(("WSD relaunched per segment", segs))
    elif f.kind == "constant":
        if W < f.T:
            out.append(("constant", cfg(lr_decay_style="constant")))
        else:  # Megatron needs warmup < decay length
            out.append(("constant", cfg(lr_decay_style="constant", lr_decay_iters=W + 1)))
    elif f.kind == "inverse-sqrt":
        out.append(("inverse-square-root", cfg(lr_decay_style="inverse-square-root")))
    elif f.kind in ("wsd", "wsdc") and f.shape in MEGATRON_WSD:
        dec = f.T - f.tail
        out.append(("WSD", cfg(lr_decay_style="WSD", lr_wsd_decay_style=MEGATRON_WSD[f.shape], lr_decay_iters=dec, lr_wsd_decay_iters=f.D)))
    elif f.shape in ("linear", "cosine"):
        out.append((f.shape, cfg(lr_decay_style=f.shape)))
    else:  # nearest native
        dec = f.T - f.tail
        for st in ("linear", "cosine"):
            out.append((st, cfg(lr_decay_style=st, lr_decay_iters=dec if f.kind in ("wsd", "wsdc") and f.D == f.T - f.W - f.tail else f.T)))
        D = f.D or (f.T - W)
        for _shape, name in MEGATRON_WSD.items():
            if W < dec:
                out.append((f"WSD {name}", cfg(lr_decay_style="WSD", lr_wsd_decay_style=name, lr_decay_iters=dec, lr_wsd_decay_iters=max(1, min(D, dec)))))
        out.append(("constant", cfg(lr_decay_style="constant")))
    if sample_based:
        if not f.batch_size:
            raise LrplanError("--sample-based needs budget.batch_size (sequences per step) in the spec")
        out = [(lab, _to_samples(n, f.batch_size)) for lab, n in out]
    return out


def _to_samples(native: Native, gbs: int) -> Native:
    if isinstance(native, list):
        return [_to_samples(n, gbs) for n in native]  # type: ignore[misc]
    c = dict(native)
    c["train_samples"] = c.pop("train_iters") * gbs
    if "lr_warmup_iters" in c:
        c["lr_warmup_samples"] = c.pop("lr_warmup_iters") * gbs
    if "lr_decay_iters" in c:
        c["lr_decay_samples"] = c.pop("lr_decay_iters") * gbs
    if "lr_wsd_decay_iters" in c:
        c["lr_wsd_decay_samples"] = c.pop("lr_wsd_decay_iters") * gbs
    return c


def _ratio_for(D: int, T: int) -> float:
    """A short decay_ratio r with TorchTitan's ``round(T * r) == D`` (Python round: half to even)."""
    for k in range(1, 18):
        r = round(D / T, k)
        if round(T * r) == D:
            return r
    r = D / T
    if round(T * r) != D:  # pragma: no cover - float corner
        raise LrplanError(f"cannot write a TorchTitan decay_ratio that gives {D} decay steps of {T}")
    return r


def _torchtitan(f: Facts) -> list[tuple[str, Native]]:
    out: list[tuple[str, Native]] = []
    m = f.min_ratio

    def cfg(W: int, T: int, dr: float | None, dtype: str, steps: int | None = None) -> dict:
        sched: dict[str, Any] = {"warmup_steps": W}
        if dr is not None:
            sched["decay_ratio"] = dr
        sched["decay_type"] = dtype
        sched["min_lr_factor"] = m
        return {"optimizer": {"lr": f.peak}, "lr_scheduler": sched, "training": {"steps": steps or T}}

    if f.kind == "wsd-s":
        segs = []
        for ck, d in f.wsds:
            segs.append(cfg(f.W, ck, _ratio_for(d, ck), TT_DECAY.get(f.shape or "", "linear")))
        return [("relaunched per segment", segs)]
    if f.kind == "constant" or (f.kind in ("wsd", "wsdc") and f.D + f.tail == 0):  # no decay: warmup + constant
        return [("constant", cfg(f.W, f.T, 0.0, "linear"))]
    if f.kind in ("wsd", "wsdc"):
        shapes = _near_shapes(f, TT_DECAY)
        ds = sorted({f.D, f.D + f.tail} - {0}) if f.D + f.tail + f.W <= f.T else [f.D]
        return [(f"WSD {TT_DECAY[s]}", cfg(f.W, f.T, _ratio_for(d, f.T), TT_DECAY[s])) for s in shapes for d in ds]
    shapes = _near_shapes(f, TT_DECAY)
    for s in shapes:
        out.append((TT_DECAY[s], cfg(f.W, f.T, None, TT_DECAY[s])))
        if f.D and f.D < f.T - f.W:
            out.append((f"WSD {TT_DECAY[s]}", cfg(f.W, f.T, _ratio_for(f.D, f.T), TT_DECAY[s])))
    if f.kind not in ("linear", "cosine", "polynomial"):
        out.append(("constant", cfg(f.W, f.T, 0.0, "linear")))
    return out


def _hf(f: Facts) -> list[tuple[str, Native]]:
    out: list[tuple[str, Native]] = []

    def cfg(t: str, W: int, **kw) -> dict:
        c: dict[str, Any] = {"learning_rate": f.peak, "max_steps": f.T, "warmup_steps": W, "lr_scheduler_type": t}
        if kw:
            c["lr_scheduler_kwargs"] = kw
        return c

    W, m = f.W, f.min_ratio
    wt = f.warmup_shape
    flat = f.kind in ("linear", "cosine", "polynomial") and f.floor >= f.peak  # a "decay" to the peak: constant
    if f.kind == "constant" or flat:
        out.append(("constant", cfg("constant", 0) if W == 0 else cfg("constant_with_warmup", W)))
    if f.kind == "linear" and f.floor == 0:
        out.append(("linear", cfg("linear", W)))
    if f.kind in ("linear", "polynomial") and f.floor > 0 or f.kind == "polynomial":
        out.append(("polynomial", cfg("polynomial", W, lr_end=f.floor, power=f.power or 1.0)))
    if f.kind == "cosine":
        out.append(("cosine", cfg("cosine", W) if f.floor == 0 else cfg("cosine_with_min_lr", W, min_lr_rate=m)))
    if f.kind == "inverse-sqrt" and f.floor == 0 and f.cooldown == 0 and f.timescale:
        out.append(("inverse_sqrt", cfg("inverse_sqrt", W, timescale=f.timescale)))
    # warmup_stable_decay: warmup from min_lr_ratio (linear or cosine), decay linear/cosine/1-sqrt, optional tail
    wsd_shapes = _near_shapes(f, HF_WSD)
    if f.kind in ("wsd", "wsdc", "linear", "cosine") or not out:
        D = f.D if f.kind in ("wsd", "wsdc") else f.T - W
        S = f.T - W - D - f.tail
        for s in wsd_shapes:
            kw: dict[str, Any] = {"num_decay_steps": D, "warmup_type": wt if wt in HF_WSD else "linear", "decay_type": HF_WSD[s], "min_lr_ratio": m}
            if f.tail:
                kw["num_stable_steps"] = S
            out.append((f"warmup_stable_decay {s}", cfg("warmup_stable_decay", W, **kw)))
    if not out or f.kind not in ("constant", "linear", "cosine", "polynomial", "wsd", "wsdc", "inverse-sqrt"):
        out.append(("linear", cfg("linear", W)))
        out.append(("cosine", cfg("cosine_with_min_lr", W, min_lr_rate=m) if m else cfg("cosine", W)))
        out.append(("constant_with_warmup", cfg("constant_with_warmup", W)))
    return out


def _olmo(f: Facts) -> list[tuple[str, Native]]:
    out: list[tuple[str, Native]] = []

    def cfg(sched: dict) -> dict:
        return {"scheduler": sched, "lr": f.peak, "max_steps": f.T}

    W, af = f.W, f.min_ratio
    warm = [W + 1, W] if W else [1]
    if f.kind == "constant" and W == 0:
        out.append(("constant", cfg({"type": "constant"})))
    elif f.kind == "constant":
        for w in (W, W + 1):
            out.append(("constant_with_warmup", cfg({"type": "constant_with_warmup", "warmup": w, "warmup_min_lr": f.init})))
    if f.kind in ("wsd", "wsdc") or f.shape not in ("linear", "cosine"):
        D = f.D if f.kind in ("wsd", "wsdc") else f.T - W
        for w in ([W, W + 1] if W else [0]):
            for d in (D, D + 1):
                if w + d <= f.T:
                    out.append(("wsd", cfg({"type": "wsd", "warmup": w, "decay": d, "decay_fraction": None, "warmup_min_lr": f.init, "decay_min_lr": f.floor})))
    names = {"linear": "linear_with_warmup", "cosine": "cos_with_warmup"}
    for s in ([f.shape] if f.shape in names else list(names)):
        for w in warm:  # update s runs at current = s: t_max = T+1 and warmup W+1 line the decay up with the spec's
            out.append((names[s], cfg({"type": names[s], "warmup": w, "alpha_f": af, "t_max": f.T + 1, "warmup_min_lr": f.init})))
    if f.kind == "inverse-sqrt":
        for w in warm:
            out.append(("inv_sqrt_with_warmup", cfg({"type": "inv_sqrt_with_warmup", "warmup": w, "alpha_f": af, "warmup_min_lr": f.init})))
    return out


def _deepspeed(f: Facts) -> list[tuple[str, Native]]:
    out: list[tuple[str, Native]] = []

    def cfg(t: str, **params) -> dict:
        return {"optimizer": {"type": "AdamW", "params": {"lr": f.peak}}, "scheduler": {"type": t, "params": params}, "n_updates": f.T}

    W = f.W
    ws = sorted({max(1, w) for w in (W - 1, W, W + 1)})
    if f.kind == "constant":
        if W == 0:
            out.append(("WarmupLR", cfg("WarmupLR", warmup_min_lr=f.peak, warmup_max_lr=f.peak, warmup_num_steps=1, warmup_type="linear")))
        for w in ws:
            out.append(("WarmupLR", cfg("WarmupLR", warmup_min_lr=f.init, warmup_max_lr=f.peak, warmup_num_steps=w, warmup_type="linear")))
        return out
    # update s runs at last_batch_iteration s-2: total_num_steps T-1 lines WarmupDecayLR's decay up with the
    # spec's; WarmupCosineLR's progress (it-W'+1)/(T-W') already does with T
    if f.shape != "cosine":
        for w in ws:
            out.append(("WarmupDecayLR", cfg("WarmupDecayLR", total_num_steps=f.T - 1, warmup_min_lr=f.floor, warmup_max_lr=f.peak, warmup_num_steps=w, warmup_type="linear")))
    if f.shape != "linear" or f.floor > 0:
        for w in ws:
            out.append(("WarmupCosineLR", cfg("WarmupCosineLR", total_num_steps=f.T, warmup_min_ratio=pretty(f.init / f.peak), warmup_num_steps=w, cos_min_ratio=f.min_ratio, warmup_type="linear")))
    return out


BUILDERS: dict[str, Callable[..., list[tuple[str, Native]]]] = {
    "megatron": _megatron,
    "torchtitan": lambda f, sb: _torchtitan(f),
    "hf": lambda f, sb: _hf(f),
    "olmo-core": lambda f, sb: _olmo(f),
    "deepspeed": lambda f, sb: _deepspeed(f),
}


# ---------------------------------------------------------------------------------------------- export


def export(spec: "Spec | str | Path | dict", framework: str, version: str | None = None,
           sample_based: bool = False) -> Export:
    """Export ``spec`` (a :class:`Spec`, or what :func:`lrplan.load_spec` takes) to ``framework`` (``megatron``,
    ``torchtitan``, ``hf``, ``olmo-core``, ``deepspeed``).

    ``version`` picks the snippet form (TorchTitan ``0.2`` TOML or ``0.3`` Python; default the newest).
    ``sample_based`` (Megatron only) writes ``--train-samples`` etc. instead of iterations.
    """
    fw, ver = resolve(framework, version)
    if sample_based and fw != "megatron":
        raise LrplanError("--sample-based applies to --format megatron only")
    from lrplan.spec.models import Spec, load_spec

    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    f = facts(spec)
    want = spec.render().lr
    cands = BUILDERS[fw](f, sample_based)
    if not cands:  # pragma: no cover - every builder returns something
        raise LrplanError(f"{fw} cannot express a {f.kind} schedule")
    best = None
    misses: list[str] = []  # why each candidate was unusable, for the error when none is
    for label, native in cands:
        try:
            got = simulate(fw, native)
        except (ValueError, ZeroDivisionError, AssertionError) as err:
            misses.append(f"{label}: {str(err).splitlines()[0][:120] if str(err) else type(err).__name__}")
            continue
        if got.shape != want.shape:
            misses.append(f"the nearest {label} config runs {got.size:,} updates where the spec has {want.size:,}")
            continue
        ex, mx, mr, first = compare(got, want)
        key = (not ex, mx, mr)
        if best is None or key < best[0]:
            best = (key, label, native, got, ex, mx, mr, first)
        if ex:
            break
    if best is None:
        why_not = f": {misses[0]}" if misses else " (no valid native config)"
        raise LrplanError(f"{fw} cannot express this {f.kind} schedule{why_not}; run it exactly with lrplan's PyTorch "
                          "scheduler (lrplan.torch.LRPlanScheduler)")
    _, label, native, got, ex, mx, mr, first = best
    diffs = [] if ex else why(fw, f) + describe(got, want, f)
    warnings: list[str] = []
    notes: list[str] = []
    recipe = None
    if not ex:
        warnings.append(
            f"{fw} cannot run this {f.kind} schedule exactly; nearest native schedule: {label}, "
            f"max deviation {_g(mx)} ({mx / f.peak:.3%} of peak) from update {first + 1 if first is not None else '?'}"
        )
        recipe = _recipe_inexact(fw, f)
    if isinstance(native, list):
        recipe = _recipe_segments(fw, native, f) + ("\n" + recipe if recipe else "")
    if fw == "torchtitan":
        mod = _module(fw)
        for cfg in native if isinstance(native, list) else [native]:
            warnings += [f"TorchTitan will warn: {w}" for w in mod.clamp_warnings(cfg)]
    notes += _notes(fw, f, native, got, want)
    e = Export(fw, ver, native, "", ex, diffs, mx, mr, first, recipe, got, warnings, notes, label)
    e.snippet = SNIPPETS[fw](e, f, spec)
    return e


def convention(spec: "Spec | str | Path | dict", framework: str, version: str | None = None,
               sample_based: bool = False) -> "np.ndarray":
    """The LR each update runs in ``framework`` with the config :func:`export` emits (its simulator applied to it)."""
    return export(spec, framework, version, sample_based).lr


NATIVE = {
    "megatron": {"constant", "linear", "cosine", "wsd", "wsdc", "wsd-s", "inverse-sqrt"},
    "torchtitan": {"constant", "linear", "cosine", "wsd", "wsd-s"},
    "hf": {"constant", "linear", "cosine", "polynomial", "wsd", "wsdc", "inverse-sqrt"},
    "olmo-core": {"constant", "linear", "cosine", "wsd", "inverse-sqrt"},
    "deepspeed": {"constant", "linear", "cosine"},
}
SHAPES = {"megatron": MEGATRON_WSD, "torchtitan": TT_DECAY, "hf": HF_WSD, "olmo-core": {"linear": "linear"}, "deepspeed": {}}


def why(fw: str, f: Facts) -> list[str]:
    """The reasons ``fw`` cannot run the spec exactly (what it lacks), for the differences list."""
    out = []
    name = {"megatron": "Megatron", "torchtitan": "TorchTitan", "hf": "HF", "olmo-core": "OLMo-core", "deepspeed": "DeepSpeed"}[fw]
    if f.kind not in NATIVE[fw]:
        out.append(f"{name} has no {f.kind} schedule")
    elif f.kind in ("wsd", "wsdc", "wsd-s") and f.shape not in SHAPES[fw]:
        out.append(f"{name} has no {f.shape} decay" + (f" (it has: {', '.join(SHAPES[fw])})" if SHAPES[fw] else ""))
    if f.variable_batch and fw != "megatron":
        out.append(f"the spec runs on the token clock under a changing batch size; {name} schedules on steps")
    if f.W and f.warmup_shape != "linear" and not (fw == "hf" and f.kind in ("wsd", "wsdc")):
        out.append(f"{name}'s warmup is linear (the spec's is {f.warmup_shape})")
    if fw == "torchtitan":
        if f.W:
            out.append("TorchTitan's warmup runs (c+1)/W: it starts at lr/W (never 0) and reaches the peak one update early")
        if f.tail:
            out.append("TorchTitan cannot hold min_lr for a tail (its decay progress is not clamped past total_steps)")
    if fw == "olmo-core" and (f.W or f.kind in ("wsd", "wsdc")):
        out.append("OLMo-core evaluates update s at current = s, one step ahead of the spec (and Megatron/HF)")
    if fw == "deepspeed":
        out.append("DeepSpeed runs update 1 at the LR set at construction and update s at last_batch_iteration s-2, "
                   "with at least 2 warmup steps")
    if fw == "hf" and f.kind in ("wsd", "wsdc") and f.W and f.init != f.floor:
        out.append("HF's warmup_stable_decay warms up from min_lr_ratio*lr, not from warmup_init_lr")
    if fw == "megatron" and f.kind == "inverse-sqrt" and (f.cooldown or f.timescale != f.W or not f.W):
        out.append("Megatron's inverse-square-root uses timescale = warmup (> 0) and has no cooldown")
    if f.kind == "wsd-s" and f.rewarmup:
        out.append("a relaunch jumps straight back to the peak (no re-warmup)")
    if fw == "megatron" and f.tok is not None and f.seq_len:
        t, q = f.tok, f.seq_len
        lengths = [("budget", t.T), ("warmup", t.W), ("decay", t.D), ("tail", t.tail)]
        lengths += [(f"checkpoint {i + 1}", c) for i, (c, _) in enumerate(t.wsds)]
        odd = [f"{k} {v:,} tokens = {v / q:,.10g} samples" for k, v in lengths if v % q]
        if odd:
            out.append(f"Megatron counts whole samples of {q} tokens; on the spec's token clock " + ", ".join(odd[:3])
                       + f" (lengths in steps or % become these token counts; give lengths and budgets in tokens "
                       f"that are multiples of {q} to export exactly)")
    return [f"why: {r}" for r in out]


def describe(got: "np.ndarray", want: "np.ndarray", f: Facts) -> list[str]:
    """Where the framework's run differs from the spec, in words."""
    import numpy as np

    out: list[str] = []
    tol = RTOL * np.abs(want) + 1e-300
    close = np.abs(got - want) <= tol
    if not close[0]:
        out.append(f"update 1 runs at LR {_g(got[0])} (spec: {_g(want[0])})")
    pk = f.peak * (1 - 1e-12)
    gp, wp = got >= pk, want >= pk
    if gp.any() and wp.any():
        g0, w0 = int(np.argmax(gp)), int(np.argmax(wp))
        if g0 != w0:
            out.append(f"the peak is first used at update {g0 + 1} (spec: update {w0 + 1})")
        extra = int(gp.sum()) - int(wp.sum())
        if extra > 0:
            out.append(f"peak held {extra} extra step{'s' if extra > 1 else ''}")
        elif extra < 0:
            out.append(f"peak held {-extra} step{'s' if extra < -1 else ''} less")
    elif wp.any():
        out.append("the peak LR is never used")
    if not close[-1]:
        out.append(f"the last update runs at LR {_g(got[-1])} (spec: {_g(want[-1])})")
        fl = f.floor
        if f.kind not in ("constant",) and abs(got[-1] - fl) <= RTOL * max(fl, 1e-300) and abs(want[-1] - fl) > RTOL * max(fl, 1e-300):
            out.append("min_lr is reached at the last update (the spec never runs at it)")
    bad = ~close
    n = int(bad.sum())
    k = int(np.argmax(np.abs(got - want)))
    dev = float(abs(got[k] - want[k]))
    pos = want > 0
    rel = float((np.abs(got - want)[pos] / want[pos]).max()) if pos.any() else 0.0
    zeros = int(((want == 0) & bad).sum())
    out.append(
        f"{n:,} of {want.size:,} updates differ, the first at update {int(np.argmax(bad)) + 1}; max abs deviation "
        f"{_g(dev)} ({dev / f.peak:.3%} of peak) at update {k + 1}; max rel deviation {rel:.3%}"
        + (f" where the spec's LR is > 0 ({zeros} update{'s' if zeros > 1 else ''} run at LR > 0 where the spec has 0)" if zeros else "")
    )
    return out


def _recipe_inexact(fw: str, f: Facts) -> str:
    if fw == "megatron":
        return ("Megatron has no option for this; " + TORCH_RECIPE.replace("use lrplan's", "replace Megatron's OptimizerParamScheduler by lrplan's")
                + " (a code change), or accept the nearest native schedule above")
    if fw == "hf":
        return TORCH_RECIPE + "; with the HF Trainer pass it as `Trainer(..., optimizers=(optimizer, sched))`"
    if fw == "torchtitan":
        return TORCH_RECIPE + " (TorchTitan builds its own LambdaLR: wrap lrplan.torch.LRPlanScheduler in a custom lr_scheduler component)"
    if fw == "deepspeed":
        return TORCH_RECIPE + "; pass it to deepspeed.initialize(lr_scheduler=sched) and drop the \"scheduler\" section"
    return TORCH_RECIPE


def _recipe_segments(fw: str, segs: list, f: Facts) -> str:
    lines = [f"WSD-S needs one launch per decay ({len(segs)} launches); launch i trains to checkpoint C_i and decays over its last d_i steps:"]
    prev = 0
    for i, (ck, d) in enumerate(f.wsds):
        if fw == "megatron":
            lines.append(
                f"  launch {i + 1}: --train-iters {ck} --lr-decay-iters {ck} --lr-wsd-decay-iters {d}"
                + (f" (resume from launch {i}'s checkpoint at iteration {prev} with --override-opt-param-scheduler)" if i else "")
            )
        else:
            lines.append(
                f"  launch {i + 1}: training.steps = {ck}, decay_ratio so the decay is {d} steps"
                + (f" (resume from launch {i}'s checkpoint at step {prev}; the LR is recomputed from the new config)" if i else "")
            )
        prev = ck
    lines.append("  launch i+1 resumes from launch i's final (decayed) checkpoint at step C_i; the LR jumps straight back to "
                 "peak (WSD-S with rewarmup 0, schedules.md §12); launch i's final checkpoint is the model for budget i")
    return "\n".join(lines)


def _notes(fw: str, f: Facts, native: Native, got, want) -> list[str]:
    out = []
    if fw == "megatron" and not isinstance(native, list) and native.get("lr_decay_style") in ("linear", "cosine", "WSD"):
        if f.tail == 0 and f.floor != float(want[-1]):
            T = f.T
            if "train_iters" in native:
                flag = f"--lr-decay-iters {T - 1}"
            else:  # the samples consumed before the last update
                from lrplan.frameworks import megatron

                bs = megatron.batch_sizes({**native, "global_batch_size": native.get("global_batch_size") or 1}, T)
                flag = f"--lr-decay-samples {int(bs[:-1].sum())}"
            out.append(
                f"Megatron (like the spec) never runs at min_lr within the {T} updates: the last update is at "
                f"{_g(float(got[-1]))}; to end exactly at min_lr use {flag} (and spec a 1-step tail)"
            )
    if f.W and float(want[0]) == 0.0 and float(got[0]) == 0.0:
        out.append("update 1 runs at LR 0 (the warmup starts at 0), as in the spec")
    if fw == "megatron" and f.kind in ("wsd", "wsdc", "wsd-s") and f.shape == "1-sqrt":
        out.append("--lr-wsd-decay-style minus_sqrt needs Megatron-LM from 2025-04-29 on (commit f55397dc50)")
    return out


# ----------------------------------------------------------------------------------------------- snippets


def _header(e: Export, f: Facts, spec: "Spec", c: str = "#") -> list[str]:
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


MEGATRON_FLAGS = [
    "train_iters", "train_samples", "global_batch_size", "lr", "min_lr", "lr_decay_style", "lr_wsd_decay_style",
    "lr_warmup_iters", "lr_warmup_samples", "lr_warmup_fraction", "lr_warmup_init", "lr_decay_iters", "lr_decay_samples",
    "lr_wsd_decay_iters", "lr_wsd_decay_samples", "rampup_batch_size", "step_batch_size_schedule",
]


def megatron_args(cfg: dict) -> list[str]:
    """``--flag value`` pairs for a Megatron config dict (in a stable order)."""
    out = []
    for k in MEGATRON_FLAGS:
        if k not in cfg or cfg[k] is None:
            continue
        v = cfg[k]
        flag = "--" + k.replace("_", "-")
        if isinstance(v, (list, tuple)):
            out.append(f"{flag} " + " ".join(str(int(x)) for x in v))
        elif isinstance(v, float):
            out.append(f"{flag} {fmt_num(v)}")
        elif isinstance(v, str) and " " in v:
            out.append(f'{flag} "{v}"')
        else:
            out.append(f"{flag} {v}")
    return out


def _snip_megatron(e: Export, f: Facts, spec: "Spec") -> str:
    lines = _header(e, f, spec)
    cfgs = e.native if isinstance(e.native, list) else [e.native]
    for i, cfg in enumerate(cfgs):
        if len(cfgs) > 1:
            lines.append(f"# launch {i + 1} of {len(cfgs)}" + (" (add --load <checkpoint of launch %d> --override-opt-param-scheduler)" % i if i else ""))
        if "step_batch_size_schedule" in cfg:
            lines.append("# needs Megatron-LM with --step-batch-size-schedule (after megatron-core 0.16.1, which has only "
                         "--rampup-batch-size); thresholds in samples; checked with lrplan's reading of that scheduler")
        elif "global_batch_size" not in cfg:
            lines.append("# add your --global-batch-size (the LR curve over iterations does not depend on it)")
        args = megatron_args(cfg)
        if i:
            args.append("--override-opt-param-scheduler")
        lines.append(" \\\n".join(args))
    return "\n".join(lines) + "\n"


def _scalar(v: Any) -> str:
    """A scalar as TOML and YAML both read it back (``true``, ``3.0e-05``, ``2000``, ``"cosine"``)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return fmt_num(v)
    if isinstance(v, int):
        return str(v)
    return json.dumps(v)


def _py_value(v: Any) -> str:
    if isinstance(v, float):
        return fmt_num(v)
    if v is None or isinstance(v, (bool, int)):
        return repr(v)
    return json.dumps(v)


def _snip_torchtitan(e: Export, f: Facts, spec: "Spec") -> str:
    lines = _header(e, f, spec)
    cfgs = e.native if isinstance(e.native, list) else [e.native]
    for i, cfg in enumerate(cfgs):
        if len(cfgs) > 1:
            lines.append(f"# --- launch {i + 1} of {len(cfgs)} ---")
        if e.version == "0.2":
            for sec in ("optimizer", "lr_scheduler", "training"):
                lines.append(f"[{sec}]")
                for k, v in cfg[sec].items():
                    lines.append(f"{k} = {_scalar(v)}")
                lines.append("")
        else:
            if i == 0:
                lines.append("from torchtitan.components.optimizer import LRSchedulersContainer, default_adamw")
                lines.append("from torchtitan.config import TrainingConfig")
                lines.append("")
            kw = ", ".join(f"{k}={_py_value(v)}" for k, v in cfg["lr_scheduler"].items())
            lines.append(f"optimizer = default_adamw(lr={_py_value(cfg['optimizer']['lr'])})")
            lines.append(f"lr_scheduler = LRSchedulersContainer.Config({kw})")
            lines.append(f"training = TrainingConfig(steps={cfg['training']['steps']})  # plus your other training fields")
            lines.append("# Trainer.Config(..., optimizer=optimizer, lr_scheduler=lr_scheduler, training=training)")
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def hf_cli(cfg: dict) -> str:
    """The ``TrainingArguments`` command-line form of an HF config."""
    import shlex

    parts = []
    for k in ("learning_rate", "max_steps", "warmup_steps", "lr_scheduler_type"):
        if k in cfg:
            v = cfg[k]
            parts.append(f"--{k} {fmt_num(v) if isinstance(v, float) else v}")
    if cfg.get("lr_scheduler_kwargs"):
        parts.append("--lr_scheduler_kwargs " + shlex.quote(json.dumps(cfg["lr_scheduler_kwargs"], separators=(", ", ": "))))
    return " ".join(parts)


def _snip_hf(e: Export, f: Facts, spec: "Spec") -> str:
    cfg = e.native
    assert isinstance(cfg, dict)
    lines = _header(e, f, spec)
    lines.append(f"# TrainingArguments (transformers {e.version}.x) as YAML (HfArgumentParser.parse_yaml_file, TRL, ...):")
    for k, v in cfg.items():
        if isinstance(v, dict):
            lines.append(f"{k}:")
            for kk, vv in v.items():
                lines.append(f"  {kk}: {_scalar(vv)}")
        else:
            lines.append(f"{k}: {_scalar(v)}")
    lines.append("# the same on the command line:")
    lines.append("# " + hf_cli(cfg))
    return "\n".join(lines) + "\n"


OLMO_CLASSES = {
    "constant": "ConstantScheduler",
    "constant_with_warmup": "ConstantWithWarmup",
    "linear_with_warmup": "LinearWithWarmup",
    "cos_with_warmup": "CosWithWarmup",
    "inv_sqrt_with_warmup": "InvSqrtWithWarmup",
    "wsd": "WSD",
}


def _snip_olmo(e: Export, f: Facts, spec: "Spec") -> str:
    cfg = e.native
    assert isinstance(cfg, dict)
    sched = dict(cfg["scheduler"])
    cls = OLMO_CLASSES[sched.pop("type")]
    lines = _header(e, f, spec)
    lines.append(f"from olmo_core.optim import AdamWConfig, {cls}")
    lines.append("from olmo_core.train import Duration")
    lines.append("")
    kw = ", ".join(f"{k}={_py_value(v)}" for k, v in sched.items())
    lines.append(f"scheduler = {cls}({kw})")
    lines.append(f"optim = AdamWConfig(lr={_py_value(cfg['lr'])})  # plus your other optimizer fields")
    lines.append(f"max_duration = Duration.steps({cfg['max_steps']})")
    lines.append("# TransformerTrainModuleConfig(..., optim=optim, scheduler=scheduler); TrainerConfig(..., max_duration=max_duration)")
    return "\n".join(lines) + "\n"


def _snip_deepspeed(e: Export, f: Facts, spec: "Spec") -> str:
    cfg = e.native
    assert isinstance(cfg, dict)
    doc = {"optimizer": cfg["optimizer"], "scheduler": cfg["scheduler"]}
    body = json.dumps(doc, indent=2) + "\n"
    if e.exact:
        return body  # JSON has no comments; the summary goes to stderr
    # not exact: a // header (delete it before use) so the mismatch cannot go unnoticed
    head = _header(e, f, spec, "//")
    head.append("// delete these // lines before use (JSON has no comments)")
    return "\n".join(head) + "\n" + body


SNIPPETS: dict[str, Callable[[Export, Facts, "Spec"], str]] = {
    "megatron": _snip_megatron,
    "torchtitan": _snip_torchtitan,
    "hf": _snip_hf,
    "olmo-core": _snip_olmo,
    "deepspeed": _snip_deepspeed,
}
