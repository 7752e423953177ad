"""OLMo-core export: the spec as an ``olmo_core.optim`` scheduler config, checked with
:mod:`lrplan.frameworks.olmo_core.simulator`.

The schedulers are ai2-olmo-core 3.0.0's (``olmo_core/optim/scheduler.py``: ``ConstantWithWarmup`` 119-161, ``WSD``
164-235, ``LinearWithWarmup`` 354-405, ``InvSqrtWithWarmup`` 408-452, ``CosWithWarmup`` 455-506); the text builds
one and ``Duration.steps`` for the trainer's ``max_duration``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lrplan.frameworks.common import TORCH_RECIPE, Candidate, Export, Facts, Native, header, py_value, start_note

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from lrplan.spec.models import Spec

RECIPE = TORCH_RECIPE

__all__ = ["OLMO_CLASSES", "RECIPE", "candidates", "notes", "snippet", "why"]


def candidates(f: Facts, sample_based: bool = False) -> list[Candidate]:
    """OLMo-core scheduler configs for the spec (constant, constant_with_warmup, wsd, linear_with_warmup,
    cos_with_warmup, inv_sqrt_with_warmup), each with warmup and decay lengths shifted by one where that lines
    OLMo's ``current = s`` up with the spec; the nearest ones when none is exact."""
    out: list[Candidate] = []

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


def why(f: Facts) -> list[str]:
    """What OLMo-core lacks for this spec (beyond the generic reasons)."""
    if f.W or f.kind in ("wsd", "wsdc"):
        return ["OLMo-core evaluates update s at current = s, one step ahead of the spec (and Megatron/HF)"]
    return []


def notes(f: Facts, native: Native, got: "np.ndarray", want: "np.ndarray") -> list[str]:
    return start_note(f, got, want)


OLMO_CLASSES = {
    "constant": "ConstantScheduler",
    "constant_with_warmup": "ConstantWithWarmup",
    "linear_with_warmup": "LinearWithWarmup",
    "cos_with_warmup": "CosWithWarmup",
    "inv_sqrt_with_warmup": "InvSqrtWithWarmup",
    "wsd": "WSD",
}


def snippet(e: Export, f: Facts, spec: "Spec") -> str:
    """Python: the scheduler config, the optimizer lr and the run length."""
    cfg = e.native
    assert isinstance(cfg, dict)
    sched = dict(cfg["scheduler"])
    cls = OLMO_CLASSES[sched.pop("type")]
    lines = header(e, f, spec)
    lines.append(f"from olmo_core.optim import AdamWConfig, {cls}")
    lines.append("from olmo_core.train import Duration")
    lines.append("")
    kw = ", ".join(f"{k}={py_value(v)}" for k, v in sched.items())
    lines.append(f"scheduler = {cls}({kw})")
    lines.append(f"optim = AdamWConfig(lr={py_value(cfg['lr'])})  # plus your other optimizer fields")
    lines.append(f"max_duration = Duration.steps({cfg['max_steps']})")
    lines.append("# TransformerTrainModuleConfig(..., optim=optim, scheduler=scheduler); TrainerConfig(..., max_duration=max_duration)")
    return "\n".join(lines) + "\n"
