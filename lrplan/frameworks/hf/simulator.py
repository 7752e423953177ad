"""HF transformers 5.23.0 ``get_scheduler`` as built by ``Trainer.create_scheduler``.

Sources: ``transformers/optimization.py`` (5.23.0) lines 74-98 (constant_with_warmup), 101-131
(linear), 177-218 (cosine_with_restarts), 221-285 (polynomial), 288-323 (inverse_sqrt), 326-386
(cosine_with_min_lr; this second ``_get_cosine_schedule_with_warmup_lr_lambda`` also serves
``cosine``), 389-467 (cosine_warmup_with_min_lr), 470-578 (warmup_stable_decay), 960-1054
(``get_scheduler``); ``trainer.py`` 1347-1376 (``create_scheduler``), ``training_args.py`` 2154-2161
(``get_warmup_steps``). torch ``LambdaLR``: ``lr = base_lr * lambda(last_epoch)``.

Convention: the Trainer steps the scheduler after ``optimizer.step()``, so update ``s`` uses
``lambda(s-1)``; the scheduler is also stepped once after the last update, which evaluates
``lambda(max_steps)``.

The config holds ``TrainingArguments`` fields: ``lr_scheduler_type`` (default ``"linear"``),
``learning_rate`` (default 5e-5), ``max_steps`` (required, > 0), ``warmup_steps`` (int, or a float
in [0, 1) = ratio of ``max_steps``) and ``lr_scheduler_kwargs`` (dict).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

# scheduler-specific kwargs each type accepts through lr_scheduler_kwargs (optimization.py signatures;
# None = get_scheduler drops the kwargs, 1014-1031)
KWARGS: dict[str, frozenset[str] | None] = {
    "linear": frozenset(),
    "cosine": frozenset({"num_cycles"}),
    "cosine_with_restarts": frozenset({"num_cycles"}),
    "polynomial": frozenset({"lr_end", "power"}),
    "constant": None,
    "constant_with_warmup": None,
    "inverse_sqrt": frozenset({"timescale"}),
    "cosine_with_min_lr": frozenset({"num_cycles", "min_lr", "min_lr_rate"}),
    "cosine_warmup_with_min_lr": frozenset({"num_cycles", "min_lr", "min_lr_rate", "warmup_lr_rate"}),
    "warmup_stable_decay": frozenset(
        {"num_decay_steps", "num_stable_steps", "warmup_type", "decay_type", "min_lr_ratio", "num_cycles"}
    ),
}
SCHEDULER_TYPES = tuple(KWARGS)
NOT_PLANNABLE = ("reduce_lr_on_plateau", "greedy")  # metric-driven
WSD_TYPES = ("linear", "cosine", "1-sqrt")

# lr_scheduler_kwargs that the schedule functions compute with: numbers (timescale and num_stable_steps may be None,
# their defaults in optimization.py)
NUMBER_KWARGS = ("num_cycles", "min_lr", "min_lr_rate", "warmup_lr_rate", "lr_end", "power", "timescale",
                 "num_decay_steps", "num_stable_steps", "min_lr_ratio")

__all__ = ["KWARGS", "NUMBER_KWARGS", "SCHEDULER_TYPES", "field_problems", "lr_at", "lr_lambda", "pieces", "run_length",
           "scheduler_kwargs", "simulate", "validate", "warmup_steps"]


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def field_problems(config: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """``(field path, message)`` for each field whose type transformers' arithmetic cannot use (a list for
    ``learning_rate``, a string for ``max_steps``, ...): what ``validate`` reports first, and what ``lrplan import
    hf`` reports with the file and line."""
    out: list[tuple[tuple[str, ...], str]] = []
    lr = config.get("learning_rate", 5e-5)
    if not _number(lr):
        out.append((("learning_rate",), f"{lr!r:.40} is not a finite number; give the peak LR, e.g. 3.0e-4"))
    elif lr < 0:
        out.append((("learning_rate",), f"{lr!r} is negative; give the peak LR (>= 0)"))
    n = config.get("max_steps")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool)):
        out.append((("max_steps",), f"{n!r:.40} is not an integer; give the run's optimizer steps as an integer (> 0)"))
    w = config.get("warmup_steps", 0)
    if not _number(w):
        out.append((("warmup_steps",), f"{w!r:.40} is not a number; give the warmup steps (or a ratio of max_steps below 1)"))
    t = config.get("lr_scheduler_type", "linear")
    if not isinstance(t, str):
        out.append((("lr_scheduler_type",), f"{t!r:.40} is not a scheduler name; choose from {', '.join(SCHEDULER_TYPES)}"))
    kw = config.get("lr_scheduler_kwargs")
    if isinstance(kw, str):
        try:
            kw = json.loads(kw)
        except json.JSONDecodeError as e:
            return [*out, (("lr_scheduler_kwargs",), f"not JSON ({e}); give a mapping, e.g. {{\"min_lr_rate\": 0.1}}")]
    if kw is not None and not isinstance(kw, Mapping):
        out.append((("lr_scheduler_kwargs",), f"{kw!r:.40} is not a mapping of the scheduler's keyword arguments, "
                                              "e.g. {min_lr_rate: 0.1}"))
    elif kw:
        for k, v in kw.items():
            if not isinstance(k, str):
                out.append((("lr_scheduler_kwargs",), f"the key {k!r:.40} is not an argument name"))
            elif k in NUMBER_KWARGS and not (v is None and k in ("timescale", "num_stable_steps")) and not _number(v):
                out.append((("lr_scheduler_kwargs", k), f"{v!r:.40} is not a finite number"))
            elif k in ("warmup_type", "decay_type") and not isinstance(v, str):
                out.append((("lr_scheduler_kwargs", k), f"{v!r:.40} is not a string; expected one of {WSD_TYPES}"))
    return out


def scheduler_kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
    """``lr_scheduler_kwargs`` as a dict (a JSON string too, as ``TrainingArguments`` reads it)."""
    kw = config.get("lr_scheduler_kwargs") or {}
    if isinstance(kw, str):  # TrainingArguments json.loads a string that starts with "{"
        kw = json.loads(kw)
    return dict(kw)


def warmup_steps(config: Mapping[str, Any]) -> int:
    """``TrainingArguments.get_warmup_steps(max_steps)`` (training_args.py 2154-2161):
    ``int(w)`` if ``w >= 1`` else ``ceil(max_steps * w)``."""
    w = config.get("warmup_steps", 0)
    n = int(config["max_steps"])
    return int(w) if w >= 1 else math.ceil(n * w)


def validate(config: Mapping[str, Any]) -> list[str]:
    """transformers' own refusals: unknown ``lr_scheduler_type``, kwargs the schedule function
    does not take (TypeError), the ValueErrors of ``optimization.py``, and the ZeroDivisionError of
    ``polynomial`` when ``warmup == max_steps``. ``max_steps`` must be set (> 0) to plan. Fields of the
    wrong type (:func:`field_problems`) come first, each named."""
    typed = field_problems(config)
    if typed:
        return [f"{'.'.join(path)}: {msg}" for path, msg in typed]
    out: list[str] = []
    t = config.get("lr_scheduler_type", "linear")
    lr = config.get("learning_rate", 5e-5)
    n = config.get("max_steps")
    if t in NOT_PLANNABLE:
        return [f"lr_scheduler_type {t!r} is metric-driven and cannot be planned"]
    if t not in KWARGS:
        return [f"{t!r} is not a valid SchedulerType; choose from {SCHEDULER_TYPES}"]
    if not isinstance(n, int) or n <= 0:
        out.append(f"max_steps must be a positive integer, got {n!r}")
    w = config.get("warmup_steps", 0)
    if w < 0:
        out.append(f"warmup_steps must be >= 0, got {w}")
    kw = scheduler_kwargs(config)
    allowed = KWARGS[t]
    if allowed is not None:
        extra = sorted(set(kw) - allowed)
        if extra:
            out.append(f"{t}: unexpected lr_scheduler_kwargs {extra}; accepted: {sorted(allowed)}")
    if out:
        return out
    W = warmup_steps(config)
    if t == "polynomial":
        lr_end = kw.get("lr_end", 1e-7)
        if not lr > lr_end:
            out.append(f"polynomial: lr_end ({lr_end}) must be smaller than initial lr ({lr})")
        if W == n:  # lambda(max_steps) divides by num_training_steps - num_warmup_steps = 0
            out.append(f"polynomial: warmup_steps ({W}) must differ from max_steps ({n}) (division by zero)")
    if t in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):
        if "min_lr" in kw and "min_lr_rate" in kw:
            out.append(f"{t}: only one of min_lr or min_lr_rate should be set")
        elif "min_lr" not in kw and "min_lr_rate" not in kw:
            out.append(f"{t}: one of min_lr or min_lr_rate should be set through lr_scheduler_kwargs")
    if t == "warmup_stable_decay":
        if "num_decay_steps" not in kw:
            out.append("warmup_stable_decay: lr_scheduler_kwargs needs num_decay_steps")
        for key in ("warmup_type", "decay_type"):
            v = kw.get(key, "linear" if key == "warmup_type" else "cosine")
            if v not in WSD_TYPES:
                out.append(f"warmup_stable_decay: unknown {key} {v!r}; expected one of {WSD_TYPES}")
    return out


def _warmup(c: NDArray[np.float64], W: int) -> NDArray[np.float64]:
    return c / float(max(1, W))


def lr_lambda(config: Mapping[str, Any], c: NDArray[np.float64]) -> NDArray[np.float64]:
    """The ``LambdaLR`` multiplier at ``last_epoch = c`` (float array of integers), vectorised
    with the operation order of ``optimization.py``."""
    t = config.get("lr_scheduler_type", "linear")
    lr_init = config.get("learning_rate", 5e-5)  # optimizer.defaults["lr"]
    N = int(config["max_steps"])
    W = warmup_steps(config)
    kw = scheduler_kwargs(config)
    warm = c < W
    with np.errstate(divide="ignore", invalid="ignore"):
        if t == "constant":  # 35-36
            return np.ones_like(c)
        if t == "constant_with_warmup":  # 74-77
            return np.where(warm, c / float(max(1.0, W)), 1.0)
        if t == "linear":  # 101-104
            f = np.maximum(0.0, (N - c) / float(max(1, N - W)))
        elif t in ("cosine", "cosine_with_min_lr"):  # 326-334
            if t == "cosine_with_min_lr":
                m = kw["min_lr"] / lr_init if "min_lr" in kw else kw["min_lr_rate"]
            else:
                m = 0.0
            nc = float(kw.get("num_cycles", 0.5))
            progress = (c - W) / float(max(1, N - W))
            factor = 0.5 * (1.0 + np.cos(math.pi * nc * 2.0 * progress))
            factor = factor * (1 - m) + m
            f = np.where(factor > 0, factor, 0.0)
        elif t == "cosine_with_restarts":  # 177-185
            nc = float(kw.get("num_cycles", 1))
            progress = (c - W) / float(max(1, N - W))
            f = np.maximum(0.0, 0.5 * (1.0 + np.cos(math.pi * np.mod(nc * progress, 1.0))))
            f = np.where(progress >= 1.0, 0.0, f)
        elif t == "polynomial":  # 221-239
            lr_end, power = kw.get("lr_end", 1e-7), kw.get("power", 1.0)
            lr_range = lr_init - lr_end
            pct_remaining = 1 - (c - W) / float(N - W) if N != W else np.zeros_like(c)
            decay = lr_range * np.power(pct_remaining, power) + lr_end
            f = np.where(c > N, lr_end / lr_init, decay / lr_init)
        elif t == "inverse_sqrt":  # 288-293, 319-320
            timescale = kw.get("timescale")
            if timescale is None:
                timescale = W or 10_000
            shift = timescale - W
            f = 1.0 / np.sqrt((c + shift) / timescale)
        elif t == "cosine_warmup_with_min_lr":  # 389-411: its own off-by-one
            m = kw["min_lr"] / lr_init if "min_lr" in kw else kw["min_lr_rate"]
            wr = kw.get("warmup_lr_rate")
            Wf, Nf = float(W), float(N)
            if wr is None:
                warm_f = (c + 1.0) / max(1.0, Wf)
            else:
                wr = float(wr)
                warm_f = wr + (1.0 - wr) * c / max(1, Wf - 1)
            progress = (c - Wf + 1.0) / max(1.0, Nf - Wf)
            factor = 0.5 * (1.0 + np.cos(math.pi * kw.get("num_cycles", 0.5) * 2.0 * progress))
            factor = factor * (1 - m) + m
            return np.where(warm, warm_f, np.where(factor > 0, factor, 0.0))
        elif t == "warmup_stable_decay":  # 470-505, 565-566
            return _wsd_lambda(kw, c, W, N)
        else:
            raise ValueError(f"unknown lr_scheduler_type {t!r}")
    return np.where(warm, _warmup(c, W), f)


def _wsd_lambda(kw: Mapping[str, Any], c: NDArray[np.float64], W: int, N: int) -> NDArray[np.float64]:
    """``_get_wsd_scheduler_lambda`` (optimization.py 470-505)."""
    D = kw["num_decay_steps"]
    S = kw.get("num_stable_steps")
    if S is None:
        S = N - W - D
    m = kw.get("min_lr_ratio", 0)
    nc = float(kw.get("num_cycles", 0.5))
    wt, dt = kw.get("warmup_type", "linear"), kw.get("decay_type", "cosine")
    p = c / float(max(1, W))
    if wt == "linear":
        wf = p
    elif wt == "cosine":
        wf = 0.5 * (1.0 - np.cos(math.pi * p))
    else:  # 1-sqrt
        wf = 1.0 - np.sqrt(1.0 - p)
    wf = wf * (1.0 - m) + m
    q = (c - W - S) / float(max(1, D))
    if dt == "linear":
        df = 1.0 - q
    elif dt == "cosine":
        df = 0.5 * (1.0 + np.cos(math.pi * nc * 2.0 * q))
    else:  # 1-sqrt
        df = 1.0 - np.sqrt(q)
    df = df * (1.0 - m) + m
    out = np.where(c < W + S + D, np.maximum(0.0, df), float(m))
    out = np.where(c < W + S, 1.0, out)
    return np.where(c < W, np.maximum(0.0, wf), out)


def simulate(config: Mapping[str, Any], n_updates: int | None = None) -> NDArray[np.float64]:
    """LR used by updates 1..n_updates (default ``max_steps``): ``learning_rate * lambda(s-1)``.

    >>> cfg = {"lr_scheduler_type": "cosine_with_min_lr", "learning_rate": 1.0, "max_steps": 10,
    ...        "warmup_steps": 2, "lr_scheduler_kwargs": {"min_lr_rate": 0.1}}
    >>> [round(float(x), 4) for x in simulate(cfg)[:4]]
    [0.0, 0.5, 1.0, 0.9657]
    """
    problems = validate(config)
    if problems:
        raise ValueError("; ".join(problems))
    n = int(config["max_steps"]) if n_updates is None else int(n_updates)
    return lr_at(config, np.arange(n, dtype=np.int64))


def run_length(config: Mapping[str, Any]) -> int:
    """Updates the config runs: ``max_steps``."""
    return int(config["max_steps"])


def lr_at(config: Mapping[str, Any], steps: Any) -> NDArray[np.float64]:
    """The LR of the (0-based) updates ``steps``, any order: ``learning_rate * lambda(s)`` (elementwise, so
    ``lr_at(cfg, np.arange(n))`` is :func:`simulate`). The config is assumed valid (:func:`validate`)."""
    c = np.asarray(steps, dtype=np.int64).astype(np.float64)
    base_lr = config.get("learning_rate", 5e-5)
    return (base_lr * lr_lambda(config, c)).astype(np.float64)


def pieces(config: Mapping[str, Any], n: int) -> list[tuple[int, int, Any]]:
    """``(start, end, form)`` stretches of updates ``[0, n)`` split where ``lambda``'s formula changes (warmup end,
    ``max_steps``, the WSD phases, the restarts of ``cosine_with_restarts``). No closed forms (None): HF runs are
    checked update by update (:mod:`lrplan.frameworks.exactness`)."""
    t = config.get("lr_scheduler_type", "linear")
    N = int(config["max_steps"])
    W = warmup_steps(config)
    kw = scheduler_kwargs(config)
    cuts = {0, n, W, N, N + 1}
    if t == "warmup_stable_decay":
        D = int(kw["num_decay_steps"])
        S = kw.get("num_stable_steps")
        S = N - W - D if S is None else int(S)
        cuts |= {W + S, W + S + D}
    elif t == "cosine_with_restarts" and N > W:
        nc = float(kw.get("num_cycles", 1))
        if 0 < nc <= 1000:
            cuts |= {W + math.ceil(k * (N - W) / nc) for k in range(1, int(nc) + 1)}
    elif t == "cosine_warmup_with_min_lr":
        cuts |= {W - 1}
    cut = sorted(x for x in cuts if 0 <= x <= n)
    return [(a, b, None) for a, b in zip(cut, cut[1:]) if a < b]
