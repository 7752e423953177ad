"""HF transformers export: the spec as ``TrainingArguments`` fields, checked with :mod:`lrplan.frameworks.hf.simulator`.

``lr_scheduler_type`` and ``lr_scheduler_kwargs`` pick one of ``transformers/optimization.py``'s schedules
(``get_scheduler``, 5.23.0 lines 960-1054); ``warmup_steps`` and ``max_steps`` set the lengths
(``Trainer.create_scheduler``, ``trainer.py`` 1347-1376). The text is YAML for ``HfArgumentParser.parse_yaml_file``
(TRL, ...) plus the same as command-line flags.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lrplan.frameworks.common import (
    TORCH_RECIPE,
    Candidate,
    Export,
    Facts,
    Native,
    fmt_num,
    header,
    near_shapes,
    scalar,
    start_note,
)
from lrplan.frameworks.hf import HF_WSD

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from lrplan.spec.models import Spec

RECIPE = TORCH_RECIPE + "; with the HF Trainer pass it as `Trainer(..., optimizers=(optimizer, sched))`"

__all__ = ["RECIPE", "candidates", "hf_cli", "notes", "snippet", "why"]


def candidates(f: Facts, sample_based: bool = False) -> list[Candidate]:
    """HF ``TrainingArguments`` for the spec: the matching ``lr_scheduler_type`` (constant, linear, polynomial,
    cosine, cosine_with_min_lr, inverse_sqrt, warmup_stable_decay with its kwargs); the nearest ones when none
    is exact."""
    out: list[Candidate] = []

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
    wsd_shapes = near_shapes(f, HF_WSD)
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


def why(f: Facts) -> list[str]:
    """What HF lacks for this spec (beyond the generic reasons)."""
    out = []
    if f.kind in ("wsd", "wsdc") and f.W and f.init != f.floor:
        out.append("HF's warmup_stable_decay warms up from min_lr_ratio*lr, not from warmup_init_lr")
    return out


def notes(f: Facts, native: Native, got: "np.ndarray", want: "np.ndarray") -> list[str]:
    return start_note(f, got, want)


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


def snippet(e: Export, f: Facts, spec: "Spec") -> str:
    """``TrainingArguments`` fields as YAML, and the same on the command line."""
    cfg = e.native
    assert isinstance(cfg, dict)
    lines = header(e, f, spec)
    lines.append(f"# TrainingArguments (transformers {e.version}.x) as YAML (HfArgumentParser.parse_yaml_file, TRL, ...):")
    for k, v in cfg.items():
        if isinstance(v, dict):
            lines.append(f"{k}:")
            for kk, vv in v.items():
                lines.append(f"  {kk}: {scalar(vv)}")
        else:
            lines.append(f"{k}: {scalar(v)}")
    lines.append("# the same on the command line:")
    lines.append("# " + hf_cli(cfg))
    return "\n".join(lines) + "\n"
