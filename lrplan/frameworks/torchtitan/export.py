"""TorchTitan export: the spec as ``[lr_scheduler]`` settings, checked with :mod:`lrplan.frameworks.torchtitan.simulator`.

TorchTitan's scheduler is linear warmup, stable, one decay (``torchtitan/components/optimizer/lr_scheduler.py``,
0.3.0 = b5bcd76c, ``LRSchedulersContainer.Config``: ``warmup_steps``, ``decay_ratio``, ``decay_type`` linear / sqrt /
cosine, ``min_lr_factor``). Version 0.2 reads them from TOML, 0.3 from a Python ``Trainer.Config``. WSD-S is one
launch per decay: the LR is a stateless function of the step, recomputed from each launch's config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lrplan.errors import LrplanError
from lrplan.frameworks.common import (
    TORCH_RECIPE,
    Candidate,
    Export,
    Facts,
    Native,
    header,
    near_shapes,
    py_value,
    scalar,
    start_note,
)
from lrplan.frameworks.torchtitan import TT_DECAY

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from lrplan.spec.models import Spec

RECIPE = TORCH_RECIPE + " (TorchTitan builds its own LambdaLR: wrap lrplan.torch.LRPlanScheduler in a custom lr_scheduler component)"

__all__ = ["RECIPE", "candidates", "notes", "relaunch", "restyle", "snippet", "tt_warmups", "warnings", "why"]


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


def tt_warmups(f: Facts) -> list[int]:
    """TorchTitan ``warmup_steps`` to try for the spec's warmup, the exact one first. TorchTitan's warmup factor is
    ``(c+1)/W`` (update 1 at ``lr/W``, the peak at update ``W``), which is a spec warmup of ``W-1`` steps from
    ``peak/W`` (what ``lrplan import torchtitan`` writes): a spec warmup of ``w`` steps from ``peak/(w+1)`` is
    ``warmup_steps = w+1``. Any other warmup (from 0, say) has no exact TorchTitan form: the nearest keeps its
    length, ``warmup_steps = w``."""
    w = f.W
    if w == 0:
        return [0]
    start = f.peak / (w + 1)
    if f.warmup_shape == "linear" and abs(f.init - start) <= 1e-12 * start:
        return [w + 1]
    return [w]


def candidates(f: Facts, sample_based: bool = False) -> list[Candidate]:
    """TorchTitan configs for the spec: warmup, stable and one decay (``decay_ratio``, ``decay_type``,
    ``min_lr_factor``), one launch per WSD-S decay; the nearest ones when none is exact. A decay that starts
    right after the warmup's peak step is tried first without ``decay_ratio`` (TorchTitan's default), then with it."""
    out: list[Candidate] = []
    m = f.min_ratio
    warmups = tt_warmups(f)

    def cfg(W: int, T: int, dr: float | None, dtype: str, steps: int | None = None) -> dict:
        sched: dict[str, Any] = {"warmup_steps": W}
        if dr is not None:
            sched["decay_ratio"] = dr
        sched["decay_type"] = dtype
        sched["min_lr_factor"] = m
        return {"optimizer": {"lr": f.peak}, "lr_scheduler": sched, "training": {"steps": steps or T}}

    def decays(W: int, d: int, dtype: str, label: str) -> list[Candidate]:
        tries: list[Candidate] = []
        if d == f.T - W:  # decay_ratio None decays over every step after the warmup (stable: the one extra step)
            tries.append((label, cfg(W, f.T, None, dtype)))
        tries.append((label, cfg(W, f.T, _ratio_for(d, f.T), dtype)))
        return tries

    if f.kind == "wsd-s":
        segs = []
        for ck, d in f.wsds:
            segs.append(cfg(warmups[0], ck, _ratio_for(d, ck), TT_DECAY.get(f.shape or "", "linear")))
        return [("relaunched per segment", segs)]
    if f.kind == "constant" or (f.kind in ("wsd", "wsdc") and f.D + f.tail == 0):  # no decay: warmup + constant
        return [("constant", cfg(W, f.T, 0.0, "linear")) for W in warmups]
    if f.kind in ("wsd", "wsdc"):
        shapes = near_shapes(f, TT_DECAY)
        for W in warmups:
            ds = sorted({f.D, f.D + f.tail} - {0}) if f.D + f.tail + W <= f.T else [f.D]
            for s in shapes:
                for d in ds:
                    out += decays(W, d, TT_DECAY[s], f"WSD {TT_DECAY[s]}")
        return out
    shapes = near_shapes(f, TT_DECAY)
    for W in warmups:
        for s in shapes:
            out.append((TT_DECAY[s], cfg(W, f.T, None, TT_DECAY[s])))
            if f.D and f.D < f.T - W:
                out.append((f"WSD {TT_DECAY[s]}", cfg(W, f.T, _ratio_for(f.D, f.T), TT_DECAY[s])))
        if f.kind not in ("linear", "cosine", "polynomial"):
            out.append(("constant", cfg(W, f.T, 0.0, "linear")))
    return out


def restyle(cfg: dict, spec: "Spec") -> dict:
    """``cfg`` in the spec's own terms where TorchTitan runs the same LRs: a decay the spec gives as a percentage of
    the budget (``decay: 80%``, what ``lrplan import`` writes for ``decay_ratio = 0.8``) becomes that
    ``decay_ratio``. Only a config whose phases (``Config.build``'s warmup, stable, decay) equal ``cfg``'s is
    returned, so the LR of every update is unchanged; else ``cfg`` itself."""
    from lrplan.frameworks.torchtitan import simulator

    decay = getattr(spec.schedule, "decay", None)
    if getattr(decay, "unit", None) != "percent" or getattr(spec.schedule, "kind", "") not in ("wsd", "wsdc"):
        return cfg
    ratio = float(decay.value) / 100.0
    alt = {**cfg, "lr_scheduler": {**cfg["lr_scheduler"], "decay_ratio": ratio}}
    sched = alt["lr_scheduler"]
    alt["lr_scheduler"] = {k: sched[k] for k in ("warmup_steps", "decay_ratio", "decay_type", "min_lr_factor") if k in sched}
    try:
        same = not simulator.validate(alt) and simulator.phases(alt) == simulator.phases(cfg) and not simulator.clamp_warnings(alt)
    except (TypeError, ValueError, KeyError):  # pragma: no cover - cfg was simulated already
        same = False
    return alt if same else cfg


def warnings(native: dict) -> list[str]:
    """TorchTitan's own warnings when it clamps the config (``Config.build``)."""
    from lrplan.frameworks.torchtitan import simulator

    return [f"TorchTitan will warn: {w}" for w in simulator.clamp_warnings(native)]


def why(f: Facts) -> list[str]:
    """What TorchTitan lacks for this spec (beyond the generic reasons)."""
    out = []
    if f.W:
        out.append("TorchTitan's warmup runs (c+1)/W: it starts at lr/W (never 0) and reaches the peak one update early")
    if f.tail:
        out.append("TorchTitan cannot hold min_lr for a tail (its decay progress is not clamped past total_steps)")
    return out


def notes(f: Facts, native: Native, got: "np.ndarray", want: "np.ndarray") -> list[str]:
    return start_note(f, got, want)


def relaunch(i: int, checkpoint: int, decay: int, resume_step: int) -> str:
    """The recipe line of WSD-S launch ``i`` (0-based)."""
    return (f"  launch {i + 1}: training.steps = {checkpoint}, decay_ratio so the decay is {decay} steps"
            + (f" (resume from launch {i}'s checkpoint at step {resume_step}; the LR is recomputed from the new config)" if i else ""))


def snippet(e: Export, f: Facts, spec: "Spec") -> str:
    """TorchTitan 0.2: TOML sections; 0.1: the same TOML with ``min_lr_factor`` under its 0.1 name ``lr_min`` (the
    formula is the same since e7c0cae, 2025-06-11); 0.3: the Python ``Trainer.Config`` fields. A single config is
    first written in the spec's terms (:func:`restyle`: same phases, so the same LRs), and ``e.native`` is that."""
    if isinstance(e.native, dict):
        e.native = restyle(e.native, spec)
    lines = header(e, f, spec)
    cfgs = e.native if isinstance(e.native, list) else [e.native]
    for i, cfg in enumerate(cfgs):
        if len(cfgs) > 1:
            lines.append(f"# --- launch {i + 1} of {len(cfgs)} ---")
        if e.version in ("0.2", "0.1"):
            for sec in ("optimizer", "lr_scheduler", "training"):
                lines.append(f"[{sec}]")
                for k, v in cfg[sec].items():
                    lines.append(f"{'lr_min' if e.version == '0.1' and k == 'min_lr_factor' else k} = {scalar(v)}")
                lines.append("")
        else:
            if i == 0:
                lines.append("from torchtitan.components.optimizer import LRSchedulersContainer, default_adamw")
                lines.append("from torchtitan.config import TrainingConfig")
                lines.append("")
            kw = ", ".join(f"{k}={py_value(v)}" for k, v in cfg["lr_scheduler"].items())
            lines.append(f"optimizer = default_adamw(lr={py_value(cfg['optimizer']['lr'])})")
            lines.append(f"lr_scheduler = LRSchedulersContainer.Config({kw})")
            lines.append(f"training = TrainingConfig(steps={cfg['training']['steps']})  # plus your other training fields")
            lines.append("# Trainer.Config(..., optimizer=optimizer, lr_scheduler=lr_scheduler, training=training)")
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
