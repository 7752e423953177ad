"""OLMo-core 3.0.0 step-unit schedulers (``olmo_core/optim/scheduler.py``).

Sources (ai2-olmo-core 3.0.0): ``ConstantWithWarmup`` 119-161, ``WSD`` 164-235, ``LinearWithWarmup``
354-405, ``InvSqrtWithWarmup`` 408-452, ``CosWithWarmup`` 455-506, ``_linear_warmup`` 836-841,
``_linear_decay`` 844-853, ``Scheduler.set_lr`` 52-102. Loop: ``Trainer._fit_epoch`` increments
``global_step`` before ``train_batch`` (train/trainer.py 1693) and ``TrainModule.optim_step`` calls
``set_lr`` before ``optim.step()`` (train_module/transformer/train_module.py 573-579): update ``s``
uses ``current = s`` and ``t_max = max_steps``, so the final value is used at ``s = max_steps``.

Config::

    {"scheduler": {"type": "cos_with_warmup", "warmup": 2000, "alpha_f": 0.1, ...},
     "lr": 3e-4,            # optimizer lr (becomes the param group's initial_lr)
     "max_steps": 100000}   # trainer max_duration in steps

``scheduler`` uses OLMo's own serialisation (``Config.as_dict(include_registered_name=True)``: the
registered name under ``"type"``). Note WSD's ``decay_fraction`` defaults to 0.1, so ``decay`` needs
an explicit ``"decay_fraction": None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

_WARMUP = {"warmup": None, "warmup_steps": None, "warmup_fraction": None, "warmup_min_lr": 0.0}
FIELDS: dict[str, dict[str, Any]] = {
    "constant": {},
    "constant_with_warmup": dict(_WARMUP),
    "linear_with_warmup": {"alpha_f": 0.1, "t_max": None, **_WARMUP},
    "cos_with_warmup": {**_WARMUP, "alpha_f": 0.1, "t_max": None},
    "inv_sqrt_with_warmup": {"alpha_f": 0.1, **_WARMUP},
    "wsd": {**_WARMUP, "decay": None, "decay_steps": None, "decay_fraction": 0.1, "decay_min_lr": 0.0},
}
BASE_FIELDS = ("lr_field", "initial_lr_field", "units")  # Scheduler base; only the defaults are supported
SCHEDULERS = tuple(FIELDS)

__all__ = ["FIELDS", "SCHEDULERS", "lr_at", "pieces", "resolved_fields", "run_length", "simulate", "validate"]


def resolved_fields(config: Mapping[str, Any]) -> dict[str, Any]:
    """Scheduler fields with defaults and the deprecated aliases folded in (``__post_init__``)."""
    s = dict(config["scheduler"])
    name = s.pop("type")
    f = {**FIELDS[name], **{k: v for k, v in s.items() if k not in BASE_FIELDS}}
    if "warmup" in f and f["warmup"] is None and f.get("warmup_steps") is not None:
        f["warmup"], f["warmup_steps"] = f["warmup_steps"], None
    if "decay" in f and f["decay"] is None and f.get("decay_steps") is not None:
        f["decay"], f["decay_steps"] = f["decay_steps"], None
    return f


def _warmup_len(f: Mapping[str, Any], t_max: int) -> int:
    return f["warmup"] if f["warmup"] is not None else round(t_max * f["warmup_fraction"])


def validate(config: Mapping[str, Any]) -> list[str]:
    """OLMo-core's own refusals: unknown registered name (KeyError) or field (TypeError), the
    ``OLMoConfigurationError``s of ``__post_init__``, and what ``get_lr`` would hit within the run:
    ``_linear_warmup``/``_linear_decay`` asserts (``0 <= min_lr < lr``) and WSD's division by a
    zero-length decay at ``current = t_max``."""
    sched = config.get("scheduler") or {}
    name = sched.get("type")
    if name not in FIELDS:
        return [f"{name!r} is not a registered Scheduler name; choose from {SCHEDULERS}"]
    bad = sorted(set(sched) - set(FIELDS[name]) - {"type", *BASE_FIELDS})
    if bad:
        return [f"{name}: unexpected fields {bad}"]
    if sched.get("units", "steps") != "steps":
        return [f"{name}: only units='steps' is supported"]
    out: list[str] = []
    lr, n = config.get("lr"), config.get("max_steps")
    if not isinstance(lr, (int, float)):
        out.append(f"lr must be a number, got {lr!r}")
    if not isinstance(n, int) or n <= 0:
        out.append(f"max_steps must be a positive integer, got {n!r}")
    if out or name == "constant":
        return out
    assert isinstance(lr, (int, float)) and isinstance(n, int)
    f = resolved_fields(config)
    if (f["warmup_fraction"] is None) == (f["warmup"] is None):
        out.append(f"{name}: either 'warmup_fraction' or 'warmup' must be specified")
    elif f["warmup_fraction"] is not None and not 0 <= f["warmup_fraction"] <= 1:
        out.append(f"{name}: warmup_fraction must be between 0 and 1")
    if name == "wsd":
        if (f["decay_fraction"] is None) == (f["decay"] is None):
            out.append("wsd: either 'decay_fraction' or 'decay' must be specified. Never both.")
        elif f["decay_fraction"] is not None and not 0 <= f["decay_fraction"] <= 1:
            out.append("wsd: decay_fraction must be between 0 and 1")
    if out:
        return out
    t_max = f.get("t_max") or n
    W = _warmup_len(f, t_max)
    cur_max = n  # current runs over 1..max_steps
    warm_reached = (1 <= W) if name in ("constant_with_warmup", "wsd") else (1 < W)
    if warm_reached and not 0 <= f["warmup_min_lr"] < lr:
        out.append(f"{name}: warmup_min_lr ({f['warmup_min_lr']}) must be in [0, lr={lr})")
    if name == "wsd":
        D = f["decay"] if f["decay"] is not None else round(n * f["decay_fraction"])
        # decay branch: current > W and current >= t_max - D
        if cur_max > W and cur_max >= n - D:
            if D == 0:
                out.append("wsd: the decay has 0 steps (division by zero at current = max_steps)")
            elif not 0 <= f["decay_min_lr"] < lr:
                out.append(f"wsd: decay_min_lr ({f['decay_min_lr']}) must be in [0, lr={lr})")
    return out


def simulate(config: Mapping[str, Any], n_updates: int | None = None) -> NDArray[np.float64]:
    """LR used by updates 1..n_updates (default ``max_steps``): ``get_lr(lr, current=s, max_steps)``.

    >>> cfg = {"scheduler": {"type": "cos_with_warmup", "warmup": 2, "alpha_f": 0.1},
    ...        "lr": 1.0, "max_steps": 10}
    >>> [round(float(x), 4) for x in simulate(cfg)[:4]]
    [0.5, 1.0, 0.9657, 0.8682]
    """
    problems = validate(config)
    if problems:
        raise ValueError("; ".join(problems))
    n = int(config["max_steps"]) if n_updates is None else int(n_updates)
    return lr_at(config, np.arange(n, dtype=np.int64))


def run_length(config: Mapping[str, Any]) -> int:
    """Updates the config runs: ``max_steps``."""
    return int(config["max_steps"])


def pieces(config: Mapping[str, Any], n: int) -> list[tuple[int, int, Any]]:
    """``(start, end, form)`` stretches of updates ``[0, n)`` split where ``get_lr``'s formula changes (warmup end,
    the WSD decay start, ``t_max``). No closed forms (None): OLMo-core runs are checked update by update."""
    name = config["scheduler"]["type"]
    cuts = {0, n}
    if name != "constant":
        f = resolved_fields(config)
        n_max = int(config["max_steps"])
        t_max = (f.get("t_max") or n_max) if name in ("linear_with_warmup", "cos_with_warmup") else n_max
        W = _warmup_len(f, t_max)
        cuts |= {W - 1, W, t_max - 1}  # update s runs at current = s + 1
        if name == "wsd":
            D = f["decay"] if f["decay"] is not None else round(t_max * f["decay_fraction"])
            cuts |= {t_max - D - 1}
    cut = sorted(int(x) for x in cuts if 0 <= x <= n)
    return [(a, b, None) for a, b in zip(cut, cut[1:]) if a < b]


def lr_at(config: Mapping[str, Any], steps: Any) -> NDArray[np.float64]:
    """The LR of the (0-based) updates ``steps``, any order: ``get_lr`` at ``current = s + 1`` (elementwise, so
    ``lr_at(cfg, np.arange(n))`` is :func:`simulate`). The config is assumed valid (:func:`validate`)."""
    lr = config["lr"]
    n_max = int(config["max_steps"])
    cur = np.asarray(steps, dtype=np.int64).astype(np.float64) + 1.0
    name = config["scheduler"]["type"]
    if name == "constant":
        return np.full(cur.shape, float(lr))
    f = resolved_fields(config)
    with np.errstate(divide="ignore", invalid="ignore"):
        if name in ("linear_with_warmup", "cos_with_warmup"):
            t_max = n_max if f["t_max"] is None else f["t_max"]
        else:
            t_max = n_max
        W = _warmup_len(f, t_max)
        m = f["warmup_min_lr"]
        warm = m + (lr - m) * np.minimum(cur, W) / W  # _linear_warmup, 836-841
        if name == "constant_with_warmup":  # 153-158
            return np.where(cur <= W, warm, float(lr)).astype(np.float64)
        if name == "wsd":  # 214-235
            D = f["decay"] if f["decay"] is not None else round(t_max * f["decay_fraction"])
            dm = f["decay_min_lr"]
            decay = dm + (lr - dm) * np.minimum(t_max - cur, D) / D  # _linear_decay, 844-853
            out = np.where(cur >= t_max - D, decay, float(lr))
            return np.where(cur <= W, warm, out).astype(np.float64)
        eta_min = lr * f["alpha_f"]
        if name == "inv_sqrt_with_warmup":  # 441-452
            out = eta_min + (lr - eta_min) * np.sqrt(W / cur)
        else:
            c, t = cur - W, t_max - W
            if name == "linear_with_warmup":  # 389-405
                out = lr - (lr - eta_min) * (c / t)
            else:  # cos_with_warmup, 490-506
                out = eta_min + (lr - eta_min) * (1 + np.cos(np.pi * c / t)) / 2
            out = np.where(cur >= t_max, eta_min, out)
        return np.where(cur < W, warm, out).astype(np.float64)
