"""DeepSpeed export: the spec as ds_config ``"scheduler"`` JSON, checked with :mod:`lrplan.frameworks.deepspeed.simulator`.

The schedulers are DeepSpeed 0.19.8's ``WarmupLR``, ``WarmupDecayLR`` and ``WarmupCosineLR``
(``deepspeed/runtime/lr_schedules.py`` 703-953), built from the config's ``"scheduler"`` section
(``engine.py`` 1923-1936, ``_scheduler_from_config``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lrplan.frameworks.common import TORCH_RECIPE, Candidate, Export, Facts, Native, pretty, start_note

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from lrplan.spec.models import Spec

RECIPE = TORCH_RECIPE + "; pass it to deepspeed.initialize(lr_scheduler=sched) and drop the \"scheduler\" section"

ANNOTATED = False
"""The snippet is plain JSON (``json.load`` and DeepSpeed read it as it is): JSON has no comments, so the report
(exact / NOT EXACT, the differences, notes, recipe) is not in it; ``lrplan render`` prints it on stderr."""

__all__ = ["ANNOTATED", "RECIPE", "candidates", "notes", "snippet", "why"]


def candidates(f: Facts, sample_based: bool = False) -> list[Candidate]:
    """DeepSpeed ``"scheduler"`` sections for the spec (WarmupLR, WarmupDecayLR, WarmupCosineLR), with warmups one
    step either side to line DeepSpeed's ``last_batch_iteration = s-2`` up with the spec; the nearest one wins."""
    out: list[Candidate] = []

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


def why(f: Facts) -> list[str]:
    """What DeepSpeed lacks for this spec (beyond the generic reasons)."""
    return ["DeepSpeed runs update 1 at the LR set at construction and update s at last_batch_iteration s-2, "
            "with at least 2 warmup steps"]


def notes(f: Facts, native: Native, got: "np.ndarray", want: "np.ndarray") -> list[str]:
    return start_note(f, got, want)


def snippet(e: Export, f: Facts, spec: "Spec") -> str:
    """The ds_config ``"optimizer"`` and ``"scheduler"`` sections as JSON, exact or not (valid JSON either way:
    the report goes to stderr, see :data:`ANNOTATED`)."""
    cfg = e.native
    assert isinstance(cfg, dict)
    doc = {"optimizer": cfg["optimizer"], "scheduler": cfg["scheduler"]}
    return json.dumps(doc, indent=2) + "\n"
