"""Import HF ``TrainingArguments`` (YAML) as the lrplan spec of what the HF Trainer runs (``lrplan import hf FILE``).

Reads ``learning_rate``, ``max_steps``, ``warmup_steps`` (or ``warmup_ratio``), ``lr_scheduler_type`` and
``lr_scheduler_kwargs`` (``transformers/training_args.py``, 5.23.0); :func:`family` maps ``get_scheduler``'s schedules
(``transformers/optimization.py``) to lrplan families. :mod:`lrplan.frameworks.importing` checks the spec against
:mod:`lrplan.frameworks.hf.simulator`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Union

from lrplan.errors import LrplanError
from lrplan.frameworks.importing import Imported, argv, config_path, import_native, in_file, read_text

__all__ = ["HF_KEYS", "family", "from_cli", "import_config", "import_hf", "load_hf"]


HF_KEYS = ("learning_rate", "max_steps", "warmup_steps", "lr_scheduler_type", "lr_scheduler_kwargs")


def family(cfg: dict) -> dict | None:
    """The HF config as an lrplan family (constant, linear, cosine, polynomial, inverse-sqrt, wsd/wsdc), or None."""
    from lrplan.frameworks.hf import simulator as hf

    t = cfg.get("lr_scheduler_type", "linear")
    lr = float(cfg.get("learning_rate", 5e-5))
    N = int(cfg["max_steps"])
    W = hf.warmup_steps(cfg)
    kw = hf.scheduler_kwargs(cfg)
    base: dict[str, Any] = {"peak_lr": lr}
    if W:
        base["warmup"] = W
    if t == "constant":
        return {"kind": "constant", "peak_lr": lr}
    if t == "constant_with_warmup":
        return {"kind": "constant", **base} if W <= N else None
    if W >= N:
        return None
    if t == "linear":
        return {"kind": "linear", **base}
    if t in ("cosine", "cosine_with_min_lr"):
        if float(kw.get("num_cycles", 0.5)) != 0.5:
            return None
        if t == "cosine":
            return {"kind": "cosine", **base}
        if "min_lr" in kw:
            return {"kind": "cosine", **base, "min_lr": float(kw["min_lr"])}
        return {"kind": "cosine", **base, "min_lr_ratio": float(kw["min_lr_rate"])}
    if t == "polynomial":
        return {"kind": "polynomial", **base, "min_lr": float(kw.get("lr_end", 1e-7)), "power": float(kw.get("power", 1.0))}
    if t == "inverse_sqrt":
        ts = kw.get("timescale")
        ts = ts if ts is not None else (W or 10_000)
        return {"kind": "inverse-sqrt", **base, "timescale": int(ts)}
    if t == "cosine_warmup_with_min_lr":
        if W < 1 or float(kw.get("num_cycles", 0.5)) != 0.5:
            return None
        m = kw["min_lr"] / lr if "min_lr" in kw else kw["min_lr_rate"]
        wr = kw.get("warmup_lr_rate")
        sch: dict[str, Any] = {"kind": "wsdc", "peak_lr": lr, "decay": N - W, "decay_shape": "cosine", "tail": 1}
        if "min_lr" in kw:
            sch["min_lr"] = float(kw["min_lr"])
        else:
            sch["min_lr_ratio"] = float(m)
        if W >= 2:
            sch["warmup"] = W - 1
            sch["warmup_init_lr"] = lr * float(wr) if wr is not None else lr / W
        return sch
    if t == "warmup_stable_decay":
        D = int(kw["num_decay_steps"])
        S = kw.get("num_stable_steps")
        S = N - W - D if S is None else int(S)
        m = float(kw.get("min_lr_ratio", 0))
        wt, dt = kw.get("warmup_type", "linear"), kw.get("decay_type", "cosine")
        if wt not in ("linear", "cosine") or S < 0 or W + S + D > N or D <= 0:
            return None
        if dt == "cosine" and float(kw.get("num_cycles", 0.5)) != 0.5:
            return None
        sch = {"kind": "wsd" if W + S + D == N else "wsdc", "peak_lr": lr, "decay": D,
               "decay_shape": dt, "min_lr_ratio": m}  # hf.validate allows only WSD_TYPES, lrplan's names too
        if W:
            sch["warmup"] = W
            sch["warmup_shape"] = wt
            if m:
                sch["warmup_init_lr"] = lr * m  # HF's WSD warmup starts at min_lr_ratio, not 0
        if W + S + D < N:
            sch["tail"] = N - W - S - D
        return sch
    return None


def load_hf(source: Union[str, Path]) -> tuple[dict, list[str]]:
    """The LR-relevant ``TrainingArguments`` fields of an HF YAML file; a field of the wrong type is one line
    naming the file, the line and the field."""
    import yaml

    source = config_path(source, "hf", "YAML")
    text = read_text(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else str(source)
        what = " ".join(str(x) for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
        raise LrplanError(f"{where}: invalid YAML: {' '.join(what.split())}") from None

    def problem(path: tuple, message: str) -> LrplanError:
        where = _where(source, text, path) if path or data is not None else source
        return LrplanError(f"{where}: {'.'.join(str(p) for p in path) + ': ' if path else ''}{message}")

    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise problem((), f"expected a mapping of TrainingArguments fields (learning_rate: ..., max_steps: ...), got {got}")
    notes: list[str] = []
    cfg: dict[str, Any] = {}
    for k in HF_KEYS:
        if k in data:
            cfg[k] = data[k]
    if "warmup_ratio" in data and not cfg.get("warmup_steps"):
        r = data["warmup_ratio"]
        try:
            r = float(r) if isinstance(r, str) else r
        except ValueError:
            pass
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 <= r <= 1:
            raise problem(("warmup_ratio",), f"{data['warmup_ratio']!r:.40} is not a ratio in [0, 1] (of max_steps)")
        cfg["warmup_steps"] = float(r)
        notes.append("warmup_ratio (transformers 4.x) read as warmup_steps < 1 (a ratio of max_steps)")
    for k in ("learning_rate", "warmup_steps"):
        v = cfg.get(k)
        if isinstance(v, str):
            try:
                cfg[k] = float(v) if k == "learning_rate" or not v.strip().isdigit() else int(v)
            except ValueError:
                raise problem((k,), f"{v!r:.40} is not a number") from None
            notes.append(f"{k}: {v!r} is a string in YAML (write it with a dot, e.g. 3.0e-4); read as {cfg[k]!r}")
    if isinstance(cfg.get("lr_scheduler_kwargs"), str):
        try:
            cfg["lr_scheduler_kwargs"] = json.loads(cfg["lr_scheduler_kwargs"])
        except json.JSONDecodeError as e:
            raise problem(("lr_scheduler_kwargs",), f"not JSON: {e}") from None
    from lrplan.frameworks.hf.simulator import field_problems

    typed = field_problems(cfg)
    if typed:
        raise LrplanError("\n".join(str(problem(*t)) for t in typed))
    if "max_steps" not in cfg or cfg["max_steps"] <= 0:
        why = "an epoch-based run's length depends on the dataloader, which lrplan cannot know"
        if "max_steps" in cfg:
            raise problem(("max_steps",), f"{cfg['max_steps']} is not > 0 (HF then trains by epochs); {why}: set "
                                          "max_steps to the run's optimizer steps")
        raise LrplanError(f"{source}: set max_steps (> 0); {why}")
    if "learning_rate" not in cfg:
        notes.append("learning_rate is not set; HF's default 5e-5 is used")
        cfg["learning_rate"] = 5e-5
    skipped = sorted(set(map(str, data)) - set(HF_KEYS) - {"warmup_ratio"})
    if skipped:
        notes.append(f"ignored {len(skipped)} field{'s' if len(skipped) > 1 else ''} unrelated to the LR schedule")
    return cfg, notes


def _where(source: str, text: str, path: tuple) -> str:
    """``file:line`` of the field ``path`` in the YAML ``text`` (``file`` when the line is unknown)."""
    import yaml

    from lrplan.spec.yamlio import line_of

    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:  # pragma: no cover - the text loaded above
        node = None
    line = line_of(node, path) if node is not None else None
    return f"{source}:{line}" if line else source


def import_config(config: dict, notes: Optional[list[str]] = None, budget: Optional[dict] = None,
                  name: Optional[str] = None, seq_len: Optional[int] = None, *, label: str = "hf") -> Imported:
    """The lrplan spec of an HF config dict (``TrainingArguments`` fields, the simulator's form)."""
    from lrplan.frameworks.hf import simulator

    return import_native(label, config, simulator, family, notes, budget, name)


def import_hf(source: Union[str, Path]) -> Imported:
    """The lrplan spec of an HF ``TrainingArguments`` YAML file; what transformers would refuse names the file."""
    source = config_path(source, "hf", "YAML")
    cfg, notes = load_hf(source)
    try:
        return import_config(cfg, notes, name=f"imported from {Path(source).name}")
    except LrplanError as e:
        raise in_file(source, e) from None


def from_cli(args: list[str]) -> Imported:
    """``lrplan import hf FILE.yaml``."""
    args = argv(args, "hf")
    if len(args) != 1:
        raise LrplanError("give one hf YAML file, e.g. lrplan import hf config.yaml")
    return import_hf(args[0])
