"""TorchTitan's LR scheduler before "Redefine lr_scheduler behavior" (e7c0cae, #1284, committed 2025-06-11): the
formulas of the development snapshots that predate v0.1.0, re-implemented from pytorch/torchtitan at the commit that
introduced each (committer dates). v0.1.0 (f7084fc, 2025-06-17) already runs today's formula
(:mod:`lrplan.frameworks.torchtitan.simulator`), with ``min_lr_factor`` still called ``lr_min``.

===============  ==================================  ===========================================================
formula          commits                             lambda(c), c = LambdaLR.last_epoch (update s uses c = s-1)
===============  ==================================  ===========================================================
``2024``         df2dcc7 (2024-04-19) .. 0da8901^    ``[training] warmup_steps`` W; ``c < W``: ``(c+1)/(W+1)``;
                 ``torchtitan/lr_scheduling.py``,    else ``1 - (D - (D - (c - W))) / D`` with
                 then ``components/optimizer.py``    ``D = float(max(1, steps - W))``: linear to 0, no floor
``2025-03-10``   0da8901 (#938) .. 7e614f1^          ``[lr_scheduler]``; ``ws = W`` if ``decay_ratio is None``
                 ``components/optimizer.py``         else ``steps * (1 - decay_ratio)`` (a float); ``c < W``:
                                                     ``(c+1)/(W+1)``; ``c < ws``: 1; else
                                                     ``p = (c - ws) / float(max(1, steps - ws))``
``2025-03-14``   7e614f1 (#950) .. 2404197^          ``D = round(steps * decay_ratio)`` (``steps - W`` when
                 (``components/lr_scheduler.py``     None; cut to ``steps - W`` when ``W + D > steps``),
                 from 785c34c, 2025-03-18)           ``S = steps - W - D``; ``p = (c - (W+S)) / D``
``2025-03-26``   2404197 (#1010) .. e7c0cae^         as 2025-03-14 but ``p = (c + 1 - (W+S)) / (D + 1)``
===============  ==================================  ===========================================================

After the warmup and stable phases every ``[lr_scheduler]`` formula returns ``lr_min + (1 - lr_min) * g(p)``, g =
``1 - p`` (linear), ``1 - sqrt(p)`` (sqrt) or ``0.5 * (1 + cos(pi p))`` (cosine); ``lr_min`` is a factor of
``[optimizer] lr``. The LR is ``lr * lambda(c)`` (``LambdaLR``); the loop (``train.py``) calls ``optimizer.step()``
then ``scheduler.step()``, so update ``s`` runs ``lambda(s-1)`` and the scheduler evaluates ``lambda(steps)`` once
more after the last update (which is where the 2025-03-14 formula divides by ``D = 0``). Defaults: ``warmup_steps``
200, ``decay_ratio`` None, ``decay_type`` linear, ``lr_min`` 0.0, ``[training] steps`` 10000, ``[optimizer] lr`` 8e-4.

Each formula is a small object with the simulator interface :func:`lrplan.frameworks.importing.import_native`
uses (``validate``, ``simulate``) and ``family``: the lrplan spec schedule of a config (None when no family fits;
the importer then writes exact phases). Operation order follows the source, so the LRs match it to the last bit
(numpy's cos may differ from libm by an ulp).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
from numpy.typing import NDArray

__all__ = ["FORMULAS", "Formula", "decay_factor", "sections"]

DECAY_TYPES = ("linear", "sqrt", "cosine")
SCHED_DEFAULTS: dict[str, Any] = {"warmup_steps": 200, "decay_ratio": None, "decay_type": "linear", "lr_min": 0.0}
STEPS_DEFAULT = 10000
LR_DEFAULT = 8e-4


def sections(config: Mapping[str, Any], formula: str) -> tuple[dict[str, Any], int, float]:
    """``(scheduler fields with the era's defaults, training.steps, optimizer lr)``; the 2024 formula's fields are
    ``[training] warmup_steps`` only."""
    training = dict(config.get("training") or {})
    steps = training.get("steps", STEPS_DEFAULT)
    lr = (config.get("optimizer") or {}).get("lr", LR_DEFAULT)
    if formula == "2024":
        return {"warmup_steps": training.get("warmup_steps", 200)}, steps, lr
    return {**SCHED_DEFAULTS, **(config.get("lr_scheduler") or {})}, steps, lr


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _problems(config: Mapping[str, Any], formula: str) -> list[str]:
    """Field types and values the era's config code (argparse ``type=``/``choices=``, later typed dataclasses) and
    its arithmetic need, and the era's own failures."""
    out = [f"{k} must be a table of its fields, got {v!r:.40}" for k in ("lr_scheduler", "optimizer", "training")
           if (v := config.get(k)) is not None and not isinstance(v, Mapping)]
    if out:
        return out
    sched, steps, lr = sections(config, formula)
    where = "training" if formula == "2024" else "lr_scheduler"
    if not _int(sched["warmup_steps"]) or sched["warmup_steps"] < 0:
        out.append(f"{where}.warmup_steps must be a non-negative integer, got {sched['warmup_steps']!r:.40}")
    if not _int(steps) or steps <= 0:
        out.append(f"training.steps must be a positive integer, got {steps!r:.40}")
    if not _num(lr) or lr < 0:
        out.append(f"optimizer.lr must be a finite non-negative number, got {lr!r:.40}")
    if formula != "2024":
        r = sched["decay_ratio"]
        if r is not None and (not _num(r) or not 0 <= r <= 1):
            out.append(f"lr_scheduler.decay_ratio must be a number in [0, 1] or unset, got {r!r:.40}")
        if sched["decay_type"] not in DECAY_TYPES:
            out.append(f"lr_scheduler.decay_type must be one of {DECAY_TYPES} (the config's choices), got {sched['decay_type']!r:.40}")
        if not _num(sched["lr_min"]):
            out.append(f"lr_scheduler.lr_min must be a finite number, got {sched['lr_min']!r:.40}")
        unknown = sorted(set(config.get("lr_scheduler") or {}) - set(SCHED_DEFAULTS))
        if unknown:
            out.append(f"unknown lr_scheduler fields {unknown} (this TorchTitan has {sorted(SCHED_DEFAULTS)})")
    if out:
        return out
    if formula == "2025-03-14":
        _, _, D = _wsd(sched, steps)
        if D == 0:
            out.append("decay_steps is 0 (decay_ratio 0, or warmup_steps = training.steps): this TorchTitan (7e614f1 .. "
                       "2404197^, 2025-03-14 to 03-26) raises ZeroDivisionError at the scheduler step after the last "
                       "update (fixed in 2404197, #1010)")
    return out


def _wsd(sched: Mapping[str, Any], steps: int) -> tuple[int, int, int]:
    """``(warmup, stable, decay)`` of the 2025-03-14 and 2025-03-26 formulas (``build_lr_schedulers``)."""
    W = int(sched["warmup_steps"])
    r = sched["decay_ratio"]
    if r is not None:
        D = round(steps * r)  # half to even
        if W + D > steps:
            D = steps - W
    else:
        D = steps - W
    return W, steps - W - D, D


def decay_factor(kind: str, p: NDArray[np.float64]) -> NDArray[np.float64]:
    """``g(p)`` of ``decay_type`` (the same three in every era)."""
    if kind == "linear":
        return 1 - p
    if kind == "sqrt":
        return 1 - np.sqrt(p)
    return 0.5 * (1.0 + np.cos(math.pi * p))


def _lambda(config: Mapping[str, Any], formula: str, c: NDArray[np.float64]) -> NDArray[np.float64]:
    sched, steps, _ = sections(config, formula)
    W = int(sched["warmup_steps"])
    warm = (c + 1) / (W + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if formula == "2024":
            D = float(max(1, steps - W))
            normalized = D - (c - W)
            return np.where(c < W, warm, 1 - (D - normalized) / D)
        m = float(sched["lr_min"])
        if formula == "2025-03-10":
            r = sched["decay_ratio"]
            ws: float = W if r is None else steps * (1 - r)
            D = float(max(1, steps - ws))
            p = (c - ws) / D
            wsc = ws
        else:
            W, S, Di = _wsd(sched, steps)
            wsc = W + S
            p = (c - wsc) / Di if formula == "2025-03-14" else ((c + 1) - wsc) / (Di + 1)
        f = m + (1 - m) * decay_factor(sched["decay_type"], p)
        return np.where(c < W, warm, np.where(c < wsc, 1.0, f))


@dataclass(frozen=True)
class Formula:
    """One era's scheduler: ``validate`` (its refusals), ``simulate`` (LR of updates 1..steps) and ``family``."""

    name: str
    first: str  # the commit that introduced it, and its committer date
    date: str
    family: Callable[[Mapping[str, Any]], Optional[dict]]

    def validate(self, config: Mapping[str, Any]) -> list[str]:
        return _problems(config, self.name)

    def run_length(self, config: Mapping[str, Any]) -> int:
        return int(sections(config, self.name)[1])

    def lr_at(self, config: Mapping[str, Any], steps: Any) -> NDArray[np.float64]:
        lr = sections(config, self.name)[2]
        c = np.asarray(steps, dtype=np.int64).astype(np.float64)
        return (lr * _lambda(config, self.name, c)).astype(np.float64)

    def pieces(self, config: Mapping[str, Any], n: int) -> list[tuple[int, int, Any]]:
        """``(start, end, None)`` stretches of updates ``[0, n)`` split where the formula changes (warmup end, stable
        end); no closed forms: the updates are compared one by one."""
        sched, steps, _ = sections(config, self.name)
        W = int(sched["warmup_steps"])
        cuts = {0, n, W}
        if self.name == "2025-03-10":
            r = sched["decay_ratio"]
            cuts.add(math.ceil(W if r is None else steps * (1 - r)))
        elif self.name != "2024":
            W, S, _ = _wsd(sched, steps)
            cuts.add(W + S)
        cut = sorted(c for c in cuts if 0 <= c <= n)
        return [(a, b, None) for a, b in zip(cut, cut[1:]) if a < b]

    def simulate(self, config: Mapping[str, Any], n_updates: Optional[int] = None) -> NDArray[np.float64]:
        problems = self.validate(config)
        if problems:
            raise ValueError("; ".join(problems))
        n = self.run_length(config) if n_updates is None else int(n_updates)
        return self.lr_at(config, np.arange(n, dtype=np.int64))

    def warnings(self, config: Mapping[str, Any]) -> list[str]:
        """The era's ``logger.warning`` messages (decay cut to fit; 2025-03-10: stable end before the warmup end)."""
        if self.name == "2024":
            return []
        sched, steps, _ = sections(config, self.name)
        W, r = int(sched["warmup_steps"]), sched["decay_ratio"]
        if self.name == "2025-03-10":
            ws = W if r is None else steps * (1 - r)
            if ws < W:
                return [f"The warmup steps should be less than or equal to the warmup-stable steps ({ws}). "
                        f"Consider reducing either the decay ratio ({r}) or the warmup steps ({W})."]
            return []
        if r is not None and W + round(steps * r) > steps:
            return [f"Warmup ({W}) + decay ({round(steps * r)}) steps exceed total training steps ({steps}). "
                    f"Adjusting decay steps to {steps - W}."]
        return []


def _warmup(sch: dict, W: int, lr: float) -> dict:
    """The (c+1)/(W+1) warmup as an lrplan warmup: W steps from lr/(W+1) (its last step is lr W/(W+1))."""
    if W >= 1:
        sch["warmup"] = W
        sch["warmup_init_lr"] = lr / (W + 1)
    return sch


_SHAPE = {"linear": "linear", "sqrt": "1-sqrt", "cosine": "cosine"}


def _family_2024(config: Mapping[str, Any]) -> Optional[dict]:
    sched, steps, lr = sections(config, "2024")
    W = int(sched["warmup_steps"])
    if W >= steps:
        return None
    sch = _warmup({"kind": "wsd", "peak_lr": float(lr)}, W, float(lr))
    return {**sch, "min_lr_ratio": 0.0, "decay": steps - W, "decay_shape": "linear"}


def _wsd_family(lr: float, W: int, S: int, D: int, kind: str, m: float) -> Optional[dict]:
    """warmup W from lr/(W+1), S steps at the peak, then a decay whose progress is j/D for its j-th step (j from 0)."""
    if S < 0 or D < 0:
        return None
    sch = _warmup({"kind": "constant" if D == 0 else "wsd", "peak_lr": lr}, W, lr)
    if D == 0:
        return sch
    if not 0 <= m <= 1:
        return None
    return {**sch, "min_lr_ratio": m, "decay": D, "decay_shape": _SHAPE[kind]}


def _family_0310(config: Mapping[str, Any]) -> Optional[dict]:
    sched, steps, lr = sections(config, "2025-03-10")
    W, r = int(sched["warmup_steps"]), sched["decay_ratio"]
    ws = W if r is None else steps * (1 - r)
    wsr = round(ws)
    if abs(ws - wsr) > 1e-9 * max(1.0, abs(ws)) or wsr < W or wsr > steps:  # a fractional stable end: phases
        return None
    return _wsd_family(float(lr), W, wsr - W, steps - wsr, sched["decay_type"], float(sched["lr_min"]))


def _family_0314(config: Mapping[str, Any]) -> Optional[dict]:
    sched, steps, lr = sections(config, "2025-03-14")
    W, S, D = _wsd(sched, steps)
    if W >= steps:
        return None
    return _wsd_family(float(lr), W, S, D, sched["decay_type"], float(sched["lr_min"]))


def _family_0326(config: Mapping[str, Any]) -> Optional[dict]:
    """``p = (j+1)/(D+1)`` is a decay of D+1 steps that starts on the last stable step; no stable step (S = 0):
    the peak is never run, no family."""
    sched, steps, lr = sections(config, "2025-03-26")
    W, S, D = _wsd(sched, steps)
    if W >= steps:
        return None
    if D == 0:
        return _wsd_family(float(lr), W, S, 0, sched["decay_type"], float(sched["lr_min"]))
    if S < 1:
        return None
    return _wsd_family(float(lr), W, S - 1, D + 1, sched["decay_type"], float(sched["lr_min"]))


FORMULAS: dict[str, Formula] = {
    "2024": Formula("2024", "df2dcc7", "2024-04-19", _family_2024),
    "2025-03-10": Formula("2025-03-10", "0da8901", "2025-03-10", _family_0310),
    "2025-03-14": Formula("2025-03-14", "7e614f1", "2025-03-14", _family_0314),
    "2025-03-26": Formula("2025-03-26", "2404197", "2025-03-26", _family_0326),
}
"""The pre-v0.1.0 formulas by name (the committer date of the commit that introduced each)."""
