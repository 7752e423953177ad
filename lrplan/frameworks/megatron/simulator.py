"""Megatron-Core 0.16.1 ``OptimizerParamScheduler`` driven by Megatron-LM's training loop.

Sources (tag ``core_v0.16.1``):

* ``megatron/core/optimizer_param_scheduler.py`` 215-279 (``get_lr``), 281-294 (``step``),
  144-161 (constructor asserts), 178 (``self.step(0)``: the LR of update 1 is set at construction).
* ``megatron/training/training.py`` 1354-1405 (``get_optimizer_param_scheduler``: CLI args ->
  constructor, everything in *samples*), 1128-1158 (``update_train_iters``), 1729-1730 (the scheduler
  steps by the current global batch after ``optimizer.step()``).
* ``megatron/training/arguments.py`` 755-783 (iteration/sample exclusivity asserts).
* ``megatron/core/num_microbatches_calculator.py`` 360-507 (``RampupBatchsizeNumMicroBatchesCalculator``;
  its asserts are :func:`validate`'s, its batch arithmetic is :func:`lrplan.spec.clock.rampup_phase`, shared
  with the token clock of specs with ``budget.rampup``).

Convention: update ``k`` (1-based) uses ``get_lr`` at ``num_steps`` = samples consumed before it,
``(k-1)*gbs`` for a constant batch, ``sum(bs[:k-1])`` under a batch-size ramp-up.

The config is a dict of Megatron's argparse ``dest`` names (``lr``, ``min_lr``, ``lr_warmup_init``,
``lr_warmup_iters``, ``lr_warmup_samples``, ``lr_warmup_fraction``, ``lr_decay_iters``,
``lr_decay_samples``, ``lr_decay_style``, ``lr_wsd_decay_style``, ``lr_wsd_decay_iters``,
``lr_wsd_decay_samples``, ``train_iters``, ``train_samples``, ``global_batch_size``,
``rampup_batch_size``); missing keys take Megatron's defaults (:data:`DEFAULTS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lrplan.spec.clock import megatron_rampup, rampup_phase

DEFAULTS: dict[str, Any] = {
    "lr": None,
    "min_lr": 0.0,
    "lr_warmup_init": 0.0,
    "lr_warmup_iters": 0,
    "lr_warmup_samples": 0,
    "lr_warmup_fraction": None,
    "lr_decay_iters": None,
    "lr_decay_samples": None,
    "lr_decay_style": "linear",
    "lr_wsd_decay_style": "exponential",
    "lr_wsd_decay_iters": None,
    "lr_wsd_decay_samples": None,
    "train_iters": None,
    "train_samples": None,
    "global_batch_size": None,
    "rampup_batch_size": None,
    "step_batch_size_schedule": None,  # Megatron-LM main only (not in megatron-core 0.16.1): "THR:BS THR:BS"
    "seq_length": None,  # Megatron's args.seq_length: with it, the step schedule's thresholds are TOKENS
}
DECAY_STYLES = ("constant", "linear", "cosine", "inverse-square-root", "WSD")
WSD_DECAY_STYLES = ("exponential", "linear", "cosine", "minus_sqrt")

__all__ = [
    "DECAY_STYLES",
    "DEFAULTS",
    "WSD_DECAY_STYLES",
    "SchedulerSteps",
    "batch_runs",
    "batch_sizes",
    "consumed_at",
    "lr_at",
    "parse_step_schedule",
    "pieces",
    "run_length",
    "rampup_batch_sizes",
    "samples_run",
    "scheduler_steps",
    "step_schedule_batch_sizes",
    "simulate",
    "train_iters",
    "validate",
]


@dataclass(frozen=True)
class SchedulerSteps:
    """The ``OptimizerParamScheduler`` constructor values, in samples (training.py 1354-1405)."""

    init_lr: float
    max_lr: float
    min_lr: float
    warmup: float  # int, or float with --lr-warmup-fraction
    decay: int
    wsd_decay: int | None
    style: str
    wsd_style: str


def _args(config: Mapping[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **config}


def _rampup_problems(a: Mapping[str, Any]) -> list[str]:
    """Asserts of ``RampupBatchsizeNumMicroBatchesCalculator.__init__`` (calculator 398-436)."""
    r = a["rampup_batch_size"]
    if r is None:
        return []
    if len(r) != 3:
        return ["--rampup-batch-size expects START INCR SAMPLES"]
    start, incr, samples = (int(x) for x in r)
    gbs = a["global_batch_size"]
    out = []
    if start <= 0:
        out.append(f"--rampup-batch-size: start batch size should be positive, got {start}")
    if incr <= 0:
        out.append(f"--rampup-batch-size: batch size increment should be positive, got {incr}")
    if samples <= 0:  # 0 samples: rampup_samples_per_increment = 0.0, then 0/0.0 in update(0)
        out.append(f"--rampup-batch-size: ramp-up samples should be positive, got {samples}")
    if gbs is not None and start > 0 and incr > 0:
        if gbs <= start:  # gbs == start: num_increments = 0 -> ZeroDivisionError
            out.append(f"--rampup-batch-size: global batch size {gbs} must exceed the start batch size {start}")
        elif (gbs - start) % incr:
            out.append(
                f"--rampup-batch-size: global batch size interval ({gbs - start}) is not divisible by "
                f"the increment ({incr})"
            )
    return out


_INTS = ("lr_warmup_iters", "lr_warmup_samples", "lr_decay_iters", "lr_decay_samples", "lr_wsd_decay_iters",
         "lr_wsd_decay_samples", "train_iters", "train_samples", "global_batch_size")
_FLOATS = ("lr", "min_lr", "lr_warmup_init", "lr_warmup_fraction")
_STRS = ("lr_decay_style", "lr_wsd_decay_style", "step_batch_size_schedule")
_INTS = _INTS + ("seq_length",)


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _type_problems(config: Mapping[str, Any]) -> list[str]:
    """The argparse types (``type=int`` / ``float`` / ``str``, ``nargs=3``) of the arguments ``config`` sets."""
    out = []
    for k, v in config.items():
        if v is None:  # argparse's default
            continue
        is_int = isinstance(v, int) and not isinstance(v, bool)
        if k in _INTS and not is_int:
            out.append(f"{_flag(k)} must be an integer, got {v!r:.40}")
        elif k in _FLOATS and (isinstance(v, bool) or not isinstance(v, (int, float))):
            out.append(f"{_flag(k)} must be a number, got {v!r:.40}")
        elif k in _STRS and not isinstance(v, str):
            out.append(f"{_flag(k)} must be a string, got {v!r:.40}")
        elif k == "rampup_batch_size" and (
            not isinstance(v, (list, tuple)) or len(v) != 3 or not all(isinstance(x, int) and not isinstance(x, bool) for x in v)
        ):
            out.append(f"--rampup-batch-size expects three integers START INCR SAMPLES, got {v!r:.40}")
    return out


def _decay_source(a: Mapping[str, Any]) -> str:
    """The argument that sets the LR decay length (``--lr-decay-iters 0``, or ``--train-iters -5`` by default)."""
    if a["train_iters"]:
        k = "lr_decay_iters" if a["lr_decay_iters"] is not None else "train_iters"
    else:
        k = "lr_decay_samples" if a["lr_decay_samples"] is not None else "train_samples"
    return f"{_flag(k)} {a[k]}"


def validate(config: Mapping[str, Any]) -> list[str]:
    """Megatron's own refusals of ``config``: argparse/``validate_args`` asserts, the
    ``OptimizerParamScheduler`` and ramp-up calculator asserts, and unknown styles."""
    out = [f"unknown Megatron argument {k!r}" for k in config if k not in DEFAULTS]
    out += _type_problems({k: v for k, v in config.items() if k in DEFAULTS})
    if out:
        return out
    a = _args(config)
    for k, unit in (("train_iters", "iterations"), ("train_samples", "samples")):
        if a[k] is not None and a[k] < 0:  # (0 is "not given", as Megatron's `if args.train_iters:` reads it)
            out.append(f"{_flag(k)} {a[k]} must be positive (the run's length in {unit})")
    if out:
        return out
    if a["lr"] is None:
        out.append("--lr is required")
    gbs = a["global_batch_size"]
    sched = a["step_batch_size_schedule"]
    if a["seq_length"] is not None and a["seq_length"] <= 0:
        out.append(f"--seq-length must be positive, got {a['seq_length']!r}")
        return out
    if sched is not None:
        try:
            parse_step_schedule(sched, a["seq_length"])
        except ValueError as e:
            out.append(f"--step-batch-size-schedule: {e}")
        if gbs is not None:  # arguments.py validate_args (main)
            out.append("Megatron refuses --step-batch-size-schedule together with --global-batch-size; drop one")
        if a["rampup_batch_size"] is not None:
            out.append("--step-batch-size-schedule cannot be combined with --rampup-batch-size")
        if not a["train_samples"]:  # with --train-iters the decay is lr_decay_iters x (micro-batch x DP size)
            out.append("--step-batch-size-schedule with --train-iters: Megatron counts the LR decay in iterations x "
                       "micro-batch x data-parallel size, which the arguments do not fix; use --train-samples")
    elif gbs is None or int(gbs) <= 0:
        out.append(f"--global-batch-size must be a positive integer, got {gbs!r}")
    # arguments.py 755-783
    if a["train_iters"]:
        if a["train_samples"] is not None:
            out.append("--train-iters and --train-samples are exclusive (expected iteration-based training)")
        if a["lr_decay_samples"] is not None:
            out.append("--lr-decay-samples cannot be used with --train-iters (expected iteration-based decay)")
        if a["lr_warmup_samples"] != 0:
            out.append("--lr-warmup-samples cannot be used with --train-iters (expected iteration-based warmup)")
        if a["rampup_batch_size"] is not None:
            out.append("--rampup-batch-size needs sample-based training (--train-samples), not --train-iters")
        if a["lr_warmup_fraction"] is not None and a["lr_warmup_iters"] != 0:
            out.append("can only specify one of --lr-warmup-fraction and --lr-warmup-iters")
    elif a["train_samples"]:
        if a["lr_decay_iters"] is not None:
            out.append("--lr-decay-iters cannot be used with --train-samples (expected sample-based decay)")
        if a["lr_warmup_iters"] != 0:
            out.append("--lr-warmup-iters cannot be used with --train-samples (expected sample-based warmup)")
        if a["lr_warmup_fraction"] is not None and a["lr_warmup_samples"] != 0:
            out.append("can only specify one of --lr-warmup-fraction and --lr-warmup-samples")
    else:
        out.append("either --train-iters or --train-samples should be provided")
    if a["lr_decay_style"] not in DECAY_STYLES:
        out.append(f"--lr-decay-style {a['lr_decay_style']!r} is not supported; choose from {DECAY_STYLES}")
    if a["lr_decay_style"] == "WSD" and a["lr_wsd_decay_style"] not in WSD_DECAY_STYLES:
        out.append(f"--lr-wsd-decay-style {a['lr_wsd_decay_style']!r} is not supported; choose from {WSD_DECAY_STYLES}")
    out += _rampup_problems(a)
    if out:
        return out
    bad = [f"--{k.replace('_', '-')} {a[k]} is not a finite number" for k in ("lr", "min_lr", "lr_warmup_init", "lr_warmup_fraction")
           if isinstance(a.get(k), float) and not math.isfinite(a[k])]
    if bad:
        return bad
    # optimizer_param_scheduler.py 144-161
    s = scheduler_steps(config)
    if not s.min_lr >= 0.0:
        out.append(f"--min-lr must be >= 0, got {s.min_lr}")
    if not s.max_lr >= s.min_lr:
        out.append(f"--lr ({s.max_lr}) must be >= --min-lr ({s.min_lr})")
    if not s.init_lr <= s.max_lr:
        out.append(f"--lr-warmup-init ({s.init_lr}) must be <= --lr ({s.max_lr})")
    if not s.decay > 0:
        out.append(f"{_decay_source(a)} must be positive (the LR decay length; Megatron asserts lr_decay_steps > 0)")
    elif not s.warmup < s.decay:
        if a["train_iters"]:  # iteration-based: say it in iterations, as the arguments are
            gbs = int(a["global_batch_size"] or 1)
            w, d, unit = s.warmup / gbs, s.decay // gbs, "iterations"
        else:
            w, d, unit = s.warmup, s.decay, "samples"
        w = int(w) if float(w).is_integer() else w
        out.append(f"the warmup (--lr-warmup-iters/-samples/-fraction: {w} {unit}) must be shorter than the "
                   f"LR decay (--lr-decay-iters/-samples, default the whole run: {d} {unit})")
    if s.style == "WSD" and s.wsd_decay is None:
        out.append("--lr-decay-style WSD requires --lr-wsd-decay-iters (or --lr-wsd-decay-samples)")
    return out


def _check(config: Mapping[str, Any]) -> None:
    problems = validate(config)
    if problems:
        raise ValueError("; ".join(problems))


def _parse_numeric_value(value_str: str) -> int:
    """``StepBatchsizeNumMicroBatchesCalculator._parse_numeric_value`` (Megatron-LM main,
    ``megatron/core/num_microbatches_calculator.py``): a suffix K M B T, then ``int(float(x) * multiplier)``."""
    value_str = value_str.strip().upper()
    multiplier = 1
    if value_str.endswith("T"):
        multiplier, value_str = 1_000_000_000_000, value_str[:-1]
    elif value_str.endswith("B"):
        multiplier, value_str = 1_000_000_000, value_str[:-1]
    elif value_str.endswith("M"):
        multiplier, value_str = 1_000_000, value_str[:-1]
    elif value_str.endswith("K"):
        multiplier, value_str = 1_000, value_str[:-1]
    return int(float(value_str) * multiplier)


def parse_step_schedule(text: str, seq_length: int | None = None) -> list[tuple[int, int]]:
    """``--step-batch-size-schedule`` as ``[(threshold in samples, batch), ...]``, as Megatron-LM main reads it:
    ``StepBatchsizeNumMicroBatchesCalculator._parse_schedule`` and ``_validate_schedule``
    (``megatron/core/num_microbatches_calculator.py`` at d98e8a6). Entries are split on spaces and commas; with
    ``seq_length`` (Megatron's ``args.seq_length``, which ``validate_args`` always sets, so always in a training
    run) a threshold is in TOKENS and becomes ``threshold // seq_length`` samples; then sorted; the first must be
    0, the rest strictly increasing, every batch positive (else ValueError, as Megatron asserts).

    >>> parse_step_schedule("0:16 2.4B:320", seq_length=2048)
    [(0, 16), (1171875, 320)]
    """
    out = []
    for entry in str(text).strip().replace(",", " ").split():
        if ":" not in entry:
            raise ValueError(f'invalid schedule entry "{entry}"; expected THRESHOLD:BATCH_SIZE')
        thr_s, bs_s = entry.split(":", 1)
        try:
            thr, bs = _parse_numeric_value(thr_s), _parse_numeric_value(bs_s)
        except (ValueError, OverflowError):
            raise ValueError(f"cannot read {entry!r}") from None
        if seq_length is not None:
            thr = thr // seq_length
        out.append((thr, bs))
    out.sort(key=lambda x: x[0])
    if not out:
        raise ValueError("schedule must have at least one entry")
    if out[0][0] != 0:
        raise ValueError(f"first schedule entry must have threshold 0, got {out[0][0]}")
    for a, b in zip(out, out[1:]):
        if not b[0] > a[0]:
            raise ValueError(f"schedule thresholds must be strictly increasing, got {a[0]} before {b[0]}"
                             + (" (samples, after // --seq-length)" if seq_length else ""))
    for _, b in out:
        if not b > 0:
            raise ValueError(f"batch size must be positive, got {b}")
    return out


def step_schedule_batch_sizes(text: str, n_iters: int, seq_length: int | None = None) -> NDArray[np.int64]:
    """Batch of iterations 1..n under ``--step-batch-size-schedule`` (Megatron-LM main's
    ``StepBatchsizeNumMicroBatchesCalculator._get_batch_size_for_samples``: an iteration runs at the batch of the
    last threshold its consumed samples have reached; thresholds in tokens with ``seq_length``). Checked against
    that calculator's own code (tests/frameworks/test_megatron_step_schedule.py)."""
    pts = parse_step_schedule(text, seq_length)
    out = np.empty(n_iters, dtype=np.int64)
    i, consumed = 0, 0
    for j, (_, b) in enumerate(pts):
        if i >= n_iters:
            break
        if j + 1 < len(pts):
            k = max(0, -(-(pts[j + 1][0] - consumed) // b))
        else:
            k = n_iters - i
        k = min(k, n_iters - i)
        out[i : i + k] = b
        i += k
        consumed += k * b
    return out


def scheduler_steps(config: Mapping[str, Any]) -> SchedulerSteps:
    """``get_optimizer_param_scheduler`` (training.py 1354-1405): CLI args -> constructor values."""
    a = _args(config)
    gbs = int(a["global_batch_size"] or 0)
    if a["train_iters"]:
        decay_iters = a["lr_decay_iters"] if a["lr_decay_iters"] is not None else a["train_iters"]
        decay = decay_iters * gbs
        wsd = a["lr_wsd_decay_iters"] * gbs if a["lr_wsd_decay_iters"] is not None else None
        warmup = a["lr_warmup_fraction"] * decay if a["lr_warmup_fraction"] is not None else a["lr_warmup_iters"] * gbs
    else:
        decay = a["lr_decay_samples"] if a["lr_decay_samples"] is not None else a["train_samples"]
        wsd = a["lr_wsd_decay_samples"]
        warmup = a["lr_warmup_fraction"] * decay if a["lr_warmup_fraction"] is not None else a["lr_warmup_samples"]
    return SchedulerSteps(
        init_lr=a["lr_warmup_init"],
        max_lr=float(a["lr"]),  # the constructor casts max_lr only (line 145)
        min_lr=a["min_lr"],
        warmup=warmup,
        decay=decay,
        wsd_decay=wsd,
        style=a["lr_decay_style"],
        wsd_style=a["lr_wsd_decay_style"],
    )


def rampup_batch_sizes(start: int, incr: int, ramp_samples: int, gbs: int, n_iters: int) -> NDArray[np.int64]:
    """Global batch size of iterations 1..n_iters under ``--rampup-batch-size START INCR SAMPLES``.

    megatron-core 0.16.1 ``RampupBatchsizeNumMicroBatchesCalculator.update`` (calculator 441-507),
    called with the samples consumed so far at the top of every iteration (training.py 2736).
    Assumes ``micro_batch_size * data_parallel_size`` divides every batch (else Megatron asserts).
    """
    problems = _rampup_problems({"rampup_batch_size": [start, incr, ramp_samples], "global_batch_size": gbs})
    if problems:
        raise ValueError("; ".join(problems))
    ramp = rampup_phase(int(start), int(incr), int(ramp_samples), int(gbs), int(ramp_samples))[:n_iters]
    return np.concatenate([ramp, np.full(max(0, n_iters - len(ramp)), int(gbs), dtype=np.int64)])


def train_iters(config: Mapping[str, Any]) -> int:
    """Number of iterations Megatron runs: ``--train-iters``, or ``update_train_iters``
    (training.py 1128-1158) in sample mode (with ramp-up: iterations until ``train_samples``)."""
    a = _args(config)
    if a["train_iters"]:
        return int(a["train_iters"])
    return _sample_run(a)[0]


def _sample_run(a: Mapping[str, Any]) -> tuple[int, int]:
    """``(iterations, samples consumed)`` of a sample-based run, in O(#batch changes), not per iteration."""
    if a["step_batch_size_schedule"] is not None:  # main's update_train_iters: iterate until consumed >= samples
        samples, pts = int(a["train_samples"]), parse_step_schedule(a["step_batch_size_schedule"], a["seq_length"])
        n, consumed = 0, 0
        for j, (_, b) in enumerate(pts):
            end = pts[j + 1][0] if j + 1 < len(pts) else samples
            end = min(end, samples)
            if consumed < end:
                k = -(-(end - consumed) // b)
                n += k
                consumed += k * b
        return n, consumed
    gbs, samples = int(a["global_batch_size"]), int(a["train_samples"])
    if a["rampup_batch_size"] is None:
        return samples // gbs, samples // gbs * gbs
    start, incr, ramp = (int(x) for x in a["rampup_batch_size"])
    phase = rampup_phase(start, incr, ramp, gbs, min(ramp, samples))
    consumed = int(phase.sum())
    extra = (samples - consumed) // gbs if samples > consumed else 0
    return len(phase) + extra, consumed + extra * gbs


def samples_run(config: Mapping[str, Any]) -> int:
    """Samples a sample-based run consumes: ``--train-samples``, or more when a batch-size ramp-up outlasts it
    (Megatron then starts iterations while at most ``--train-samples`` were consumed, so the last one runs past
    it) or a step schedule's last batch crosses it."""
    a = _args(config)
    return max(int(a["train_samples"]), _sample_run(a)[1])


def _pow_half(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``math.pow(0.5, x)`` elementwise. numpy's float64 ``power`` may use a SIMD kernel a few ulp
    off libm; going through long double matches libm's result far more often."""
    return np.power(np.longdouble(0.5), x.astype(np.longdouble)).astype(np.float64)


def _get_lr(n: NDArray[np.float64], s: SchedulerSteps) -> NDArray[np.float64]:
    """``OptimizerParamScheduler.get_lr`` (optimizer_param_scheduler.py 215-279) at ``num_steps = n``,
    vectorised with the same floating-point operation order."""
    max_lr, min_lr, W, D = s.max_lr, s.min_lr, s.warmup, s.decay
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if s.style == "constant":
            lr = np.full_like(n, max_lr)
        elif s.style == "inverse-square-root":  # 241-245
            lr = max_lr * max(W, 1) ** 0.5 / np.power(np.maximum(n, 1.0), 0.5)
            lr = np.where(lr > min_lr, lr, min_lr)
        else:
            ratio = (n - W) / float(D - W)  # 247-249
            delta_lr = max_lr - min_lr
            if s.style == "linear":
                coeff = 1.0 - ratio
            elif s.style == "cosine":
                coeff = 0.5 * (np.cos(math.pi * ratio) + 1.0)
            else:  # WSD, 259-273
                assert s.wsd_decay is not None
                start = D - s.wsd_decay
                x = (n - start) / float(s.wsd_decay)
                if s.wsd_style == "linear":
                    g = 1.0 - x
                elif s.wsd_style == "cosine":
                    g = 0.5 * (np.cos(math.pi * x) + 1.0)
                elif s.wsd_style == "exponential":
                    g = (2.0 * _pow_half(x)) - 1.0
                else:  # minus_sqrt
                    g = 1.0 - np.sqrt(x)
                coeff = np.where(n <= start, 1.0, g)
            lr = min_lr + coeff * delta_lr  # 279
        if s.style != "constant":
            lr = np.where(n > D, float(min_lr), lr)  # 237-238
        if W > 0:  # 227-230
            lr = np.where(n <= W, s.init_lr + ((max_lr - s.init_lr) * n / float(W)), lr)
    return lr.astype(np.float64)


def batch_sizes(config: Mapping[str, Any], n: int) -> NDArray[np.int64]:
    """Global batch size (samples) of iterations 1..n: constant ``global_batch_size``, or the
    ``rampup_batch_size`` ramp (:func:`rampup_batch_sizes`), or ``step_batch_size_schedule``."""
    a = _args(config)
    if a["rampup_batch_size"] is not None:
        start, incr, ramp = (int(x) for x in a["rampup_batch_size"])
        return rampup_batch_sizes(start, incr, ramp, int(a["global_batch_size"]), n)
    if a["step_batch_size_schedule"] is not None:
        return step_schedule_batch_sizes(a["step_batch_size_schedule"], n, a["seq_length"])
    return np.full(n, int(a["global_batch_size"]), dtype=np.int64)


def batch_runs(config: Mapping[str, Any]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """``(starts, before, batch)``: run ``k`` of constant global batch starts at iteration ``starts[k]`` (0-based)
    with ``before[k]`` samples consumed and takes ``batch[k]`` samples per iteration; the last run never ends. The
    batches of :func:`batch_sizes` in O(batch changes), not per iteration."""
    a = _args(config)
    runs: list[tuple[int, int]]
    if a["rampup_batch_size"] is not None:
        start, incr, ramp = (int(x) for x in a["rampup_batch_size"])
        gbs = int(a["global_batch_size"])
        problems = _rampup_problems({"rampup_batch_size": [start, incr, ramp], "global_batch_size": gbs})
        if problems:
            raise ValueError("; ".join(problems))
        runs = megatron_rampup(start, incr, ramp, gbs)
    elif a["step_batch_size_schedule"] is not None:  # step_schedule_batch_sizes, one run per threshold
        pts = parse_step_schedule(a["step_batch_size_schedule"], a["seq_length"])
        runs, i, consumed = [], 0, 0
        for j, (_, b) in enumerate(pts):
            runs.append((i, b))
            if j + 1 < len(pts):
                k = max(0, -(-(pts[j + 1][0] - consumed) // b))
                i += k
                consumed += k * b
    else:
        runs = [(0, int(a["global_batch_size"]))]
    keep = [r for r, nxt in zip(runs, runs[1:] + [(None, None)]) if nxt[0] is None or nxt[0] > r[0]]  # empty runs
    starts = np.array([r[0] for r in keep], dtype=np.int64)
    batch = np.array([r[1] for r in keep], dtype=np.int64)
    before = np.concatenate([[0], np.cumsum(np.diff(starts) * batch[:-1])]).astype(np.int64)
    return starts, before, batch


def consumed_at(config: Mapping[str, Any], steps: ArrayLike) -> NDArray[np.int64]:
    """Samples consumed before each (0-based) update ``steps``: ``num_steps`` of its ``get_lr``."""
    starts, before, batch = batch_runs(config)
    s = np.asarray(steps, dtype=np.int64)
    if starts.size == 1:  # a constant batch
        return s * batch[0]
    k = np.searchsorted(starts, s, side="right") - 1
    return before[k] + (s - starts[k]) * batch[k]


def run_length(config: Mapping[str, Any]) -> int:
    """Updates the config runs (:func:`train_iters`)."""
    return train_iters(config)


def lr_at(config: Mapping[str, Any], steps: ArrayLike) -> NDArray[np.float64]:
    """The LR of the (0-based) updates ``steps``, any order: ``get_lr`` at the samples consumed before each
    (:func:`consumed_at`); elementwise, so ``lr_at(cfg, np.arange(n))`` is :func:`simulate`. The config is
    assumed valid (:func:`validate`)."""
    return _get_lr(consumed_at(config, steps).astype(np.float64), scheduler_steps(config))


def pieces(config: Mapping[str, Any], n: int) -> list[tuple[int, int, Any]]:
    """``(start, end, form)`` stretches covering updates ``[0, n)`` on each of which ``get_lr`` is one closed form
    (:class:`lrplan.schedules.forms.StepForm`; None for inverse-square-root, which it does not cover): split where
    ``num_steps`` crosses the warmup (``n <= W``), the WSD anneal start (``n <= D - wsd``) and the decay end
    (``n > D``), and where the batch changes. O(batch changes)."""
    from fractions import Fraction

    from lrplan.schedules.forms import Form, to_steps

    s = scheduler_steps(config)
    starts, before, batch = batch_runs(config)
    W, D = s.warmup, s.decay
    wsd_start = D - s.wsd_decay if s.style == "WSD" and s.wsd_decay is not None else None
    thresholds = [t for t in (W if W > 0 else None, D if s.style != "constant" else None, wsd_start) if t is not None]
    max_lr, min_lr, init = float(s.max_lr), float(s.min_lr), float(s.init_lr)
    delta = max_lr - min_lr
    n_max = int(consumed_at(config, [max(n - 1, 0)])[0])
    exact = float(W).is_integer() and n_max < 2**53

    def form(num: int) -> Any:  # the closed form get_lr takes at num_steps = num (215-279)
        if W > 0 and num <= W:
            return Form("ramp", init, max_lr - init, 0, float(W))
        if s.style == "constant":
            return Form("const", max_lr)
        if num > D:
            return Form("const", min_lr)
        if s.style in ("linear", "cosine"):
            return Form(s.style, min_lr, delta, W, float(D - W), exact_sub=exact)
        if s.style == "WSD":
            assert wsd_start is not None and s.wsd_decay is not None
            if num <= wsd_start:
                return Form("const", float(np.float64(min_lr) + 1.0 * np.float64(delta)))  # min_lr + 1.0 * delta
            g = {"linear": "linear", "cosine": "cosine", "exponential": "exponential", "minus_sqrt": "1-sqrt"}[s.wsd_style]
            return Form(g, min_lr, delta, wsd_start, float(s.wsd_decay))
        return None  # inverse-square-root

    out: list[tuple[int, int, Any]] = []
    for k in range(starts.size):
        a, b = int(starts[k]), (int(starts[k + 1]) if k + 1 < starts.size else n)
        a, b = max(a, 0), min(b, n)
        if a >= b:
            continue
        c0, bs = int(before[k]) - int(batch[k]) * int(starts[k]), int(batch[k])  # num_steps = c0 + bs * s
        cuts = {a, b}
        if s.style == "inverse-square-root":
            cuts.add(min(max(a, 1), b))  # max(num_steps, 1)
        for t in thresholds:  # the first update with num_steps > t
            first = math.floor((Fraction(t) - c0) / bs) + 1
            if a < first < b:
                cuts.add(first)
        cut = sorted(cuts)
        for p, q in zip(cut, cut[1:]):
            f = form(c0 + bs * p)
            out.append((p, q, to_steps(f, c0, bs, p, q) if f is not None else None))
    return out


def simulate(
    config: Mapping[str, Any],
    n_updates: int | None = None,
    global_batch_sizes: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """LR used by updates 1..n_updates (default: the run length, :func:`train_iters`).

    ``global_batch_sizes`` (per iteration, samples) overrides the batch schedule; by default it is
    ``global_batch_size`` every iteration, or :func:`rampup_batch_sizes` with ``rampup_batch_size``.
    Update ``k`` uses ``num_steps = sum(batch[:k-1])``.

    >>> cfg = {"lr": 1.0, "min_lr": 0.1, "train_iters": 10, "global_batch_size": 4,
    ...        "lr_warmup_iters": 2, "lr_decay_style": "cosine"}
    >>> [round(float(x), 4) for x in simulate(cfg)[:4]]
    [0.0, 0.5, 1.0, 0.9657]
    """
    _check(config)
    n = train_iters(config) if n_updates is None else int(n_updates)
    if global_batch_sizes is None:
        return lr_at(config, np.arange(n, dtype=np.int64))
    bs = np.asarray(global_batch_sizes, dtype=np.int64)
    if bs.shape != (n,):
        raise ValueError(f"global_batch_sizes must have shape ({n},), got {bs.shape}")
    consumed = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(bs)[:-1]])[:n]
    return _get_lr(consumed.astype(np.float64), scheduler_steps(config))
