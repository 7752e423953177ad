"""DeepSpeed 0.19.8 ``WarmupLR``, ``WarmupDecayLR`` and ``WarmupCosineLR``.

Sources: ``deepspeed/runtime/lr_schedules.py`` (0.19.8) ``WarmupLR`` 703-788, ``WarmupDecayLR``
791-839, ``WarmupCosineLR`` 842-953 (with the ``min(1.0, ...)`` clamp of #8142);
``deepspeed/runtime/engine.py`` 1923-1936 (``_scheduler_from_config``: ``<type>(optimizer, **params)``)
and 3540-3545 (``lr_scheduler.step()`` after every non-overflow ``optimizer.step()``).

Convention: the constructor (``last_batch_iteration = -1``) already writes the LR of update 1
(``warmup_min_lr``, or 0.0 for WarmupCosineLR); update ``s >= 2`` uses ``last_batch_iteration = s-2``.

Config (ds_config sections, plus the run length)::

    {"optimizer": {"type": "AdamW", "params": {"lr": 3e-4}},
     "scheduler": {"type": "WarmupDecayLR", "params": {"total_num_steps": 10000, ...}},
     "n_updates": 10000}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

PARAMS: dict[str, dict[str, Any]] = {
    "WarmupLR": {"warmup_min_lr": 0.0, "warmup_max_lr": None, "warmup_num_steps": 1000, "warmup_type": "log"},
    "WarmupDecayLR": {
        "total_num_steps": None,  # required
        "warmup_min_lr": 0.0,
        "warmup_max_lr": 0.001,  # this default overrides the optimizer lr
        "warmup_num_steps": 1000,
        "warmup_type": "log",
    },
    "WarmupCosineLR": {
        "total_num_steps": None,  # required
        "warmup_min_ratio": 0.0,
        "warmup_num_steps": 1000,
        "cos_min_ratio": 0.0001,
        "warmup_type": "log",
    },
}
SCHEDULERS = tuple(PARAMS)
OTHER_DEEPSPEED = ("OneCycle", "LRRangeTest")  # deepspeed schedulers lrplan does not simulate

__all__ = ["PARAMS", "SCHEDULERS", "lr_at", "pieces", "run_length", "simulate", "validate"]


def _parts(config: Mapping[str, Any]) -> tuple[str, dict[str, Any], Any]:
    sched = config.get("scheduler") or {}
    name = str(sched.get("type"))
    params = {**PARAMS.get(name, {}), **(sched.get("params") or {})}
    lr = ((config.get("optimizer") or {}).get("params") or {}).get("lr")
    return name, params, lr


def validate(config: Mapping[str, Any]) -> list[str]:
    """DeepSpeed's own refusals: an unknown scheduler type (engine assert), unexpected or missing
    constructor params (TypeError), ``warmup_num_steps`` not a positive int (ValueError)."""
    name, params, lr = _parts(config)
    if name not in PARAMS:
        if name in OTHER_DEEPSPEED:
            return [f"scheduler {name!r} is not supported by lrplan; use one of {SCHEDULERS}"]
        return [f"DeepSpeed does not recognize LR scheduler {name!r}; lrplan supports {SCHEDULERS}"]
    out = []
    extra = sorted(set((config.get("scheduler") or {}).get("params") or {}) - set(PARAMS[name]))
    if extra:
        out.append(f"{name}: unexpected params {extra}")
    if "total_num_steps" in params and params["total_num_steps"] is None:
        out.append(f"{name}: params need total_num_steps")
    w = params["warmup_num_steps"]
    if isinstance(w, bool) or not isinstance(w, int) or w <= 0:
        out.append(f"warmup_num_steps must be a positive integer, got {w!r}")
    needs_lr = name == "WarmupCosineLR" or params["warmup_max_lr"] is None
    if needs_lr and not isinstance(lr, (int, float)):
        out.append(f"{name}: optimizer.params.lr must be set")
    n = config.get("n_updates")
    if not isinstance(n, int) or n < 0:
        out.append(f"n_updates must be a non-negative integer, got {n!r}")
    return out


def _warmup_gamma(it: NDArray[np.float64], W: int, warmup_type: str) -> NDArray[np.float64]:
    """``_get_gamma`` / ``get_lr_ratio`` warmup part; an unknown type falls back to 'log'."""
    if warmup_type == "linear":
        return it / W
    return (1.0 / math.log(W)) * np.log(it + 1)


def simulate(config: Mapping[str, Any], n_updates: int | None = None) -> NDArray[np.float64]:
    """LR used by updates 1..n_updates (default ``config["n_updates"]``).

    >>> cfg = {"optimizer": {"params": {"lr": 1.0}}, "n_updates": 10, "scheduler": {
    ...     "type": "WarmupCosineLR", "params": {"total_num_steps": 10, "warmup_num_steps": 2,
    ...     "cos_min_ratio": 0.1, "warmup_type": "linear"}}}
    >>> [round(float(x), 4) for x in simulate(cfg)[:4]]
    [0.0, 0.0, 0.5, 0.9657]
    """
    problems = validate(config)
    if problems:
        raise ValueError("; ".join(problems))
    n = int(config["n_updates"]) if n_updates is None else int(n_updates)
    return lr_at(config, np.arange(n, dtype=np.int64))


def run_length(config: Mapping[str, Any]) -> int:
    """Updates the run has: ``n_updates``."""
    return int(config["n_updates"])


def pieces(config: Mapping[str, Any], n: int) -> list[tuple[int, int, Any]]:
    """``(start, end, form)`` stretches of updates ``[0, n)`` split where the formula changes (update 1, the
    warmup end, ``total_num_steps``). No closed forms (None): DeepSpeed runs are checked update by update."""
    name, p, _ = _parts(config)
    W = max(2, p["warmup_num_steps"])
    cuts = {0, 1, n, W + 1}  # update s (0-based) runs at last_batch_iteration s - 1
    if "total_num_steps" in p and p["total_num_steps"] is not None:
        cuts |= {int(p["total_num_steps"]) + 1}
    cut = sorted(int(x) for x in cuts if 0 <= x <= n)
    return [(a, b, None) for a, b in zip(cut, cut[1:]) if a < b]


def lr_at(config: Mapping[str, Any], steps: Any) -> NDArray[np.float64]:
    """The LR of the (0-based) updates ``steps``, any order (elementwise, so ``lr_at(cfg, np.arange(n))`` is
    :func:`simulate`). The config is assumed valid (:func:`validate`)."""
    name, p, lr = _parts(config)
    steps = np.asarray(steps, dtype=np.int64)
    W = max(2, p["warmup_num_steps"])
    wt = p["warmup_type"] if p["warmup_type"] in ("log", "linear") else "log"
    it = steps.astype(np.float64) - 1.0  # update s uses last_batch_iteration = s-2
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = _warmup_gamma(it, W, wt)
        if name == "WarmupCosineLR":  # get_lr_ratio
            wmr, cmr = p["warmup_min_ratio"], p["cos_min_ratio"]
            warm = wmr + gamma * (1.0 - wmr)
            real_total = max(1, p["total_num_steps"] - W)
            progress = np.minimum(1.0, (it - W + 1) / real_total)
            ratio = (1 + np.cos(math.pi * progress)) / 2
            ratio = np.maximum(0.0, cmr + (1.0 - cmr) * ratio)
            ratio = np.where(it < W, warm, ratio)
            out = lr * ratio
            first = 0.0
        else:
            max_lr = lr if p["warmup_max_lr"] is None else p["warmup_max_lr"]  # None: optimizer lr
            min_lr = p["warmup_min_lr"]
            delta = max_lr - min_lr
            if name == "WarmupDecayLR":
                T = p["total_num_steps"]
                after = np.maximum(0.0, (T - it) / float(max(1.0, T - W)))
            else:
                after = np.ones_like(it)
            gamma = np.where(it < W, gamma, after)
            out = min_lr + (delta * gamma)
            first = min_lr
    out = np.array(out, dtype=np.float64)
    out[steps == 0] = first  # set by the constructor (last_batch_iteration == -1)
    return out
