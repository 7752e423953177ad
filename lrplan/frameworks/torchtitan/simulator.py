"""TorchTitan 0.3.0 ``LRSchedulersContainer`` (linear warmup, stable, decay; "virtual last step").

Source: ``torchtitan/components/optimizer/lr_scheduler.py`` (PyPI 0.3.0 = HEAD b5bcd76c) lines
90-128 (``Config.build``: clamping, ``round`` half-to-even, ``stable_steps = total+1-warmup-decay``),
130-184 (``linear_warmup_stable_decay``); torch ``LambdaLR``: ``lr = base_lr * lambda(last_epoch)``.
Loop: ``trainer.py`` 1031-1032 / 948-949: each step reads the LR, then ``optimizers.step()`` and
``lr_schedulers.step()``, so update ``s`` uses ``lambda(s-1)``; after the last update the scheduler
evaluates ``lambda(training.steps)`` once more.

Config (TOML sections / ``Trainer.Config`` fields)::

    {"lr_scheduler": {"warmup_steps": 200, "total_steps": None, "decay_ratio": None,
                      "decay_type": "linear", "min_lr_factor": 0.0},
     "training": {"steps": 10000}, "optimizer": {"lr": 8e-4}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

LR_SCHEDULER_DEFAULTS: dict[str, Any] = {
    "warmup_steps": 200,
    "total_steps": None,
    "decay_ratio": None,
    "decay_type": "linear",
    "min_lr_factor": 0.0,
}
TRAINING_STEPS_DEFAULT = 10000
LR_DEFAULT = 8e-4
DECAY_TYPES = ("linear", "sqrt", "cosine")

__all__ = ["DECAY_TYPES", "Phases", "clamp_warnings", "lr_at", "phases", "pieces", "run_length", "sections", "simulate",
           "total_steps", "validate"]


@dataclass(frozen=True)
class Phases:
    """Values bound into ``linear_warmup_stable_decay`` by ``Config.build`` (lines 100-128)."""

    warmup: int
    stable: int
    decay: int
    decay_type: str
    min_lr_factor: float


def sections(config: Mapping[str, Any]) -> tuple[dict[str, Any], int, float]:
    """``(lr_scheduler fields with TorchTitan's defaults, training.steps, optimizer lr)``."""
    sched = {**LR_SCHEDULER_DEFAULTS, **(config.get("lr_scheduler") or {})}
    steps = int((config.get("training") or {}).get("steps", TRAINING_STEPS_DEFAULT))
    lr = (config.get("optimizer") or {}).get("lr", LR_DEFAULT)
    return sched, steps, lr


def total_steps(config: Mapping[str, Any]) -> int:
    """The scheduler's length: ``lr_scheduler.total_steps`` if set, else ``training.steps``."""
    sched, steps, _ = sections(config)
    return sched["total_steps"] if sched["total_steps"] is not None else steps


def _clamped(config: Mapping[str, Any]) -> tuple[int, int, int, list[str]]:
    """``(total, warmup, decay, warnings)`` as ``Config.build`` (lr_scheduler.py 100-128) clamps them; the
    warnings are its ``logger.warning`` messages (TorchTitan only warns)."""
    sched, _, _ = sections(config)
    total = total_steps(config)
    out = []
    warmup = int(sched["warmup_steps"])
    if warmup > total:
        out.append(f"Warmup steps ({warmup}) exceed total steps ({total}). Adjusting warmup steps to {total}.")
        warmup = total
    if sched["decay_ratio"] is None:
        return total, warmup, total - warmup, out
    decay = round(total * sched["decay_ratio"])  # half-to-even
    if warmup + decay > total:
        out.append(
            f"Warmup ({warmup}) + decay ({decay}) steps exceed total steps ({total}). "
            f"Adjusting decay steps to {total - warmup}."
        )
        decay = total - warmup
    return total, warmup, decay, out


def phases(config: Mapping[str, Any]) -> Phases:
    """``Config.build`` (lr_scheduler.py 100-128), clamps included."""
    sched, _, _ = sections(config)
    total, warmup, decay, _ = _clamped(config)
    stable = total + 1 - warmup - decay  # "virtual last step"
    return Phases(warmup, stable, decay, sched["decay_type"], sched["min_lr_factor"])


def clamp_warnings(config: Mapping[str, Any]) -> list[str]:
    """The ``logger.warning`` messages ``Config.build`` would print (warmup/decay clamping)."""
    return _clamped(config)[3]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _type_problems(config: Mapping[str, Any], sched: Mapping[str, Any], steps: Any) -> list[str]:
    """Field types TorchTitan's config dataclasses (and its arithmetic) require."""
    import math

    out = []
    if not _is_int(sched.get("warmup_steps")) or sched["warmup_steps"] < 0:
        out.append(f"lr_scheduler.warmup_steps must be a non-negative integer, got {sched.get('warmup_steps')!r}")
    total = sched.get("total_steps")
    if total is not None and (not _is_int(total) or total <= 0):
        out.append(f"lr_scheduler.total_steps must be a positive integer, got {total!r}")
    ratio = sched.get("decay_ratio")
    if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not math.isfinite(ratio) or not 0 <= ratio <= 1):
        out.append(f"lr_scheduler.decay_ratio must be a number in [0, 1], got {ratio!r}")
    mf = sched.get("min_lr_factor")
    if isinstance(mf, bool) or not isinstance(mf, (int, float)) or not math.isfinite(mf):
        out.append(f"lr_scheduler.min_lr_factor must be a finite number, got {mf!r}")
    if not _is_int(steps) or steps <= 0:
        out.append(f"training.steps must be a positive integer, got {steps!r}")
    lr = (config.get("optimizer") or {}).get("lr", 8e-4)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr < 0:
        out.append(f"optimizer.lr must be a finite non-negative number, got {lr!r}")
    return out


def validate(config: Mapping[str, Any]) -> list[str]:
    """TorchTitan's own refusals: an unknown ``decay_type`` (ValueError, line 180; the Config's
    ``Literal``), and reaching the decay branch with ``decay_steps == 0`` (AssertionError, 168-170),
    which happens when ``training.steps`` runs past ``total_steps`` with no decay phase. Sections and fields of
    the wrong type come first (``training.steps = "x"``), each named."""
    out = [f"{k} must be a table of its fields, got {v!r:.40}" for k in ("lr_scheduler", "optimizer", "training")
           if (v := config.get(k)) is not None and not isinstance(v, Mapping)]
    if out:
        return out
    raw = (config.get("training") or {}).get("steps", TRAINING_STEPS_DEFAULT)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        return [f"training.steps must be a positive integer, got {raw!r:.40}"]
    sched, steps, _ = sections(config)
    unknown = set(config.get("lr_scheduler") or {}) - set(LR_SCHEDULER_DEFAULTS)
    if unknown:
        out.append(f"unknown lr_scheduler fields {sorted(unknown)}")
    if sched["decay_type"] not in DECAY_TYPES:
        out.append(f"Unknown lr_decay_type: {sched['decay_type']!r}; choose from {DECAY_TYPES}")
    out += _type_problems(config, sched, steps)
    if out:
        return out
    p = phases(config)
    # the scheduler evaluates lambda(c) for c = 0 .. steps (one extra step after the last update)
    if p.decay == 0 and steps >= p.warmup + p.stable:
        out.append(
            f"training.steps ({steps}) runs into the decay phase, which has 0 steps "
            "(decay_steps must not be zero to reach this branch)"
        )
    return out


def simulate(config: Mapping[str, Any], n_updates: int | None = None) -> NDArray[np.float64]:
    """LR used by updates 1..n_updates (default ``training.steps``): ``lr * lambda(s-1)``.

    >>> cfg = {"lr_scheduler": {"warmup_steps": 2, "decay_type": "cosine", "min_lr_factor": 0.1},
    ...        "training": {"steps": 10}, "optimizer": {"lr": 1.0}}
    >>> [round(float(x), 4) for x in simulate(cfg)[:4]]
    [0.5, 1.0, 1.0, 0.9657]
    """
    problems = validate(config)
    if problems:
        raise ValueError("; ".join(problems))
    _, steps, _ = sections(config)
    n = steps if n_updates is None else int(n_updates)
    return lr_at(config, np.arange(n, dtype=np.int64))


def run_length(config: Mapping[str, Any]) -> int:
    """Updates the config runs: ``training.steps``."""
    return sections(config)[1]


def lr_at(config: Mapping[str, Any], steps: Any) -> NDArray[np.float64]:
    """The LR of the (0-based) updates ``steps``, any order: ``lr * lambda(s)`` (elementwise, so
    ``lr_at(cfg, np.arange(n))`` is :func:`simulate`). The config is assumed valid (:func:`validate`)."""
    _, _, lr = sections(config)
    p = phases(config)
    c = np.asarray(steps, dtype=np.int64).astype(np.float64)
    ws = p.warmup + p.stable
    with np.errstate(divide="ignore", invalid="ignore"):
        warm = (c + 1) / p.warmup if p.warmup else np.zeros_like(c)  # 158-162
        progress = ((c + 1) - ws) / p.decay if p.decay else np.zeros_like(c)  # 167-171
        if p.decay_type == "linear":
            f = 1 - progress
        elif p.decay_type == "sqrt":
            f = 1 - np.sqrt(progress)
        else:
            f = 0.5 * (1.0 + np.cos(math.pi * progress))
        f = p.min_lr_factor + (1 - p.min_lr_factor) * f  # 181-183
    lam = np.where(c < p.warmup, warm, np.where(c < ws, 1.0, f))
    return (lr * lam).astype(np.float64)


def pieces(config: Mapping[str, Any], n: int) -> list[tuple[int, int, Any]]:
    """``(start, end, form)`` stretches of updates ``[0, n)`` with one closed form each
    (:class:`lrplan.schedules.forms.StepForm`): warmup ``lr (s+1)/W``, stable ``lr``, decay
    ``lr (m + (1-m) g(progress))``, and past the decay (``training.steps > total_steps``) no form."""
    from fractions import Fraction

    from lrplan.schedules.forms import Form, to_steps

    _, _, lr = sections(config)
    p = phases(config)
    lr = float(lr)
    ws = p.warmup + p.stable
    end = ws + p.decay - 1  # progress reaches 1 at c = end
    cut = sorted({0, n} | {x for x in (p.warmup, ws, end + 1) if 0 < x < n})
    m = float(p.min_lr_factor)
    g = {"linear": "linear", "sqrt": "1-sqrt", "cosine": "cosine"}[p.decay_type]
    out: list[tuple[int, int, Any]] = []
    for a, b in zip(cut, cut[1:]):
        if a < p.warmup:
            f: Any = Form("ramp", 0.0, lr, -1, float(p.warmup))  # lr * ((c + 1) / W)
        elif a < ws:
            f = Form("const", float(lr * 1.0))
        elif a <= end and p.decay:
            F = Fraction
            f = Form(g, F(lr) * F(m), F(lr) * F(1 - m), ws - 1, float(p.decay), ops=1)  # lr * (m + (1 - m) g)
        else:
            f = None
        out.append((a, b, to_steps(f, 0, 1, a, b) if f is not None else None))
    return out
