"""Import Megatron-LM arguments as the lrplan spec of what Megatron runs (``lrplan import megatron -- ARGS``).

The arguments are parsed as Megatron-LM's argparse reads them (``megatron/training/arguments.py``, core_v0.16.1);
:func:`family` maps ``get_lr`` (``megatron/core/optimizer_param_scheduler.py`` 215-279) to an lrplan family,
iteration-based on the step clock, sample-based on the token clock. :mod:`lrplan.frameworks.importing` checks
the spec against :mod:`lrplan.frameworks.megatron.simulator`.

>>> imp = import_megatron("--lr 3e-4 --min-lr 3e-5 --train-iters 1000 --global-batch-size 256 "
...                       "--lr-warmup-iters 100 --lr-decay-style cosine".split())
>>> imp.exact, imp.spec["schedule"]["kind"], imp.spec["schedule"]["warmup"]
(True, 'cosine', 100)
"""

from __future__ import annotations

import difflib
from typing import Any, Optional

from lrplan.errors import LrplanError
from lrplan.frameworks.importing import Imported, argv as _argv, import_native, what
from lrplan.frameworks.megatron import MEGATRON_WSD

__all__ = ["family", "from_cli", "import_config", "import_megatron", "parse_megatron_args"]


MEGATRON_TYPES: dict[str, Any] = {
    "lr": float, "min_lr": float, "lr_warmup_init": float, "lr_warmup_fraction": float,
    "lr_warmup_iters": int, "lr_warmup_samples": int, "lr_decay_iters": int, "lr_decay_samples": int,
    "lr_wsd_decay_iters": int, "lr_wsd_decay_samples": int, "train_iters": int, "train_samples": int,
    "global_batch_size": int, "lr_decay_style": str, "lr_wsd_decay_style": str, "rampup_batch_size": (int, 3),
}
MEGATRON_EXTRA = {"seq_length": int, "micro_batch_size": int}  # read for the budget, not the schedule
MEGATRON_FLAGS_IGNORED = {"override_opt_param_scheduler", "use_checkpoint_opt_param_scheduler"}  # store_true
LR_PREFIXES = ("lr", "min_lr", "warmup", "train_", "rampup", "decoupled", "step_batch", "start_weight", "end_weight", "weight_decay_incr")


def parse_megatron_args(argv: list[str]) -> tuple[dict, dict, list[str]]:
    """Parse Megatron-LM arguments the way its argparse does (``--flag value`` or ``--flag=value``, the last
    occurrence wins). Returns ``(config, extra, notes)``: the LR-schedule arguments (simulator dict), budget
    facts (``seq_length``...), and notes. Unknown LR-looking flags and bad values raise LrplanError."""
    argv = _argv(argv, "Megatron")
    cfg: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    notes: list[str] = []
    problems: list[str] = []
    ignored: list[str] = []
    seen: set[str] = set()
    known = list(MEGATRON_TYPES) + list(MEGATRON_EXTRA) + list(MEGATRON_FLAGS_IGNORED)
    i = 0
    args = [a for a in argv if a not in ("\\", "")]
    while i < len(args):
        tok = args[i]
        i += 1
        if not tok.startswith("--"):
            problems.append(f"unexpected argument {tok!r} (expected --flag value)")
            continue
        name, eq, inline = tok[2:].partition("=")
        dest = name.replace("-", "_")
        if dest in MEGATRON_FLAGS_IGNORED:
            notes.append(f"--{name} only matters when resuming from a checkpoint; ignored")
            continue
        typ = MEGATRON_TYPES.get(dest) or MEGATRON_EXTRA.get(dest)
        nvals = 3 if isinstance(typ, tuple) else 1
        if eq:
            vals = [inline]
        else:
            vals = []
            while i < len(args) and len(vals) < nvals and not (args[i].startswith("--") and not _is_number(args[i])):
                vals.append(args[i])
                i += 1
        if typ is None:
            if dest == "warmup":
                problems.append("--warmup was removed from Megatron-LM; use --lr-warmup-iters or --lr-warmup-fraction")
            elif dest.startswith(LR_PREFIXES):
                close = difflib.get_close_matches(dest, known, n=1)
                hint = f"; did you mean --{close[0].replace('_', '-')}?" if close else ""
                problems.append(f"unknown Megatron argument --{name}{hint}")
            else:
                ignored.append("--" + name)
            continue
        if len(vals) != nvals:
            problems.append(f"--{name} expects {nvals} value{'s' if nvals > 1 else ''}")
            continue
        if dest in seen:
            notes.append(f"--{name} is given more than once; Megatron uses the last")
        seen.add(dest)
        try:
            if isinstance(typ, tuple):
                val: Any = [int(v) for v in vals]
            else:
                val = typ(vals[0])
        except ValueError:
            problems.append(f"--{name}: invalid {getattr(typ, '__name__', 'int')} value {vals[0]!r}")
            continue
        (cfg if dest in MEGATRON_TYPES else extra)[dest] = val
    if problems:
        raise LrplanError("\n".join(problems))
    if ignored:
        shown = " ".join(ignored[:6]) + (" ..." if len(ignored) > 6 else "")
        notes.append(f"ignored {len(ignored)} argument{'s' if len(ignored) > 1 else ''} unrelated to the LR schedule: {shown}")
    return cfg, extra, notes


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def family(cfg: dict, seq_len: int | None = None) -> dict | None:
    """A family spec: iteration-based configs on the step clock; sample-based ones on the token clock when the
    sequence length is known (lengths in samples; Megatron's scheduler counts consumed samples, lrplan's token
    clock counts consumed tokens), else on steps when every length is whole iterations and there is no ramp-up."""
    from lrplan.frameworks.megatron import simulator as megatron

    a = {**megatron.DEFAULTS, **cfg}
    gbs = int(a["global_batch_size"])
    st = megatron.scheduler_steps(cfg)
    samples = bool(a["train_samples"]) and bool(seq_len)
    if samples:
        div, T = 1, megatron.samples_run(cfg)  # = --train-samples unless a ramp-up outlasts it
    else:
        if a["rampup_batch_size"] is not None or (a["train_samples"] and a["train_samples"] % gbs):
            return None
        div, T = gbs, megatron.train_iters(cfg)
    Wf, Dd = st.warmup / div, st.decay / div
    if Wf != int(Wf) or Dd != int(Dd):
        return None
    W, D = int(Wf), int(Dd)
    wsd = None
    if st.wsd_decay is not None:
        if st.wsd_decay % div:
            return None
        wsd = st.wsd_decay // div
    sch = _megatron_family(st, W, D, T, wsd)
    if sch is None or not samples:
        return sch
    for k in ("warmup", "decay", "tail", "timescale"):
        if isinstance(sch.get(k), int) and sch[k]:
            sch[k] = f"{sch[k]} samples"
    sch["clock"] = "tokens"
    return sch


def _megatron_family(st, W: int, D: int, T: int, wsd: int | None) -> dict | None:
    """``get_lr`` as an lrplan family, every length in one unit (iterations, or samples)."""
    sch: dict[str, Any] = {"peak_lr": st.max_lr}
    if W:
        sch["warmup"] = W
        if st.init_lr:
            sch["warmup_init_lr"] = st.init_lr
    style = st.style
    if style == "constant":
        if W > T:
            return None
        return {"kind": "constant", **sch}
    sch["min_lr"] = st.min_lr
    if style == "inverse-square-root":
        if D < T - 1:
            return None
        if W == 0:
            return {"kind": "inverse-sqrt", "peak_lr": st.max_lr, "min_lr": st.min_lr, "warmup": 1, "warmup_init_lr": st.max_lr, "timescale": 1}
        return {"kind": "inverse-sqrt", **sch}
    if D > T or W >= T:
        return None
    shapes = {v: k for k, v in MEGATRON_WSD.items()}  # Megatron's --lr-wsd-decay-style -> lrplan decay_shape
    if style in ("linear", "cosine"):
        if D == T:
            return {"kind": style, **sch}
        return {"kind": "wsdc", **sch, "decay": D - W, "decay_shape": style, "tail": T - D}
    assert wsd is not None
    if wsd == 0:  # no anneal window: peak through iteration D, min_lr after it
        if D >= T - 1:
            return {"kind": "constant", **{k: v for k, v in sch.items() if k != "min_lr"}}
        return {"kind": "wsdc", **sch, "decay": 0, "tail": T - D - 1}
    if wsd > D - W or wsd < 0:
        return None
    if D == T:
        return {"kind": "wsd", **sch, "decay": wsd, "decay_shape": shapes[st.wsd_style]}
    return {"kind": "wsdc", **sch, "decay": wsd, "decay_shape": shapes[st.wsd_style], "tail": T - D}


def import_config(config: dict, notes: Optional[list[str]] = None, budget: Optional[dict] = None,
                  name: Optional[str] = None, seq_len: Optional[int] = None, *, label: str = "megatron") -> Imported:
    """The lrplan spec of a Megatron config dict (argparse ``dest`` names, the simulator's form)."""
    from lrplan.frameworks.megatron import simulator

    if seq_len is not None and (not isinstance(seq_len, int) or isinstance(seq_len, bool) or seq_len <= 0):
        raise LrplanError(f"seq_len must be a positive integer (tokens per sample), not {what(seq_len)}")
    return import_native(label, config, simulator, lambda c: family(c, seq_len), notes, budget, name)


def import_megatron(argv: list[str]) -> Imported:
    """The lrplan spec of a Megatron command line (its LR-schedule and budget arguments: a list of strings)."""
    cfg, extra, notes = parse_megatron_args(argv)
    for k in ("seq_length", "micro_batch_size"):
        if extra.get(k) is not None and extra[k] <= 0:
            raise LrplanError(f"--{k.replace('_', '-')} {extra[k]} must be positive")
    budget: dict[str, Any] = {}
    q = extra.get("seq_length")
    if cfg.get("train_samples") and q and cfg.get("global_batch_size"):
        # sample-based: the spec runs on the token clock (a batch ramp-up moves it off the step clock)
        from lrplan.frameworks.megatron import simulator as megatron

        budget = {"tokens": int(cfg["train_samples"]) * q, "batch_size": cfg["global_batch_size"], "seq_len": q}
        r = cfg.get("rampup_batch_size")
        if r is not None:
            budget["rampup"] = {"start": r[0], "increment": r[1], "over": f"{r[2]} samples"}
            run = None if megatron.validate(cfg) else megatron.samples_run(cfg)
            if run is not None and run > int(cfg["train_samples"]):
                budget["tokens"] = run * q
                notes.append(f"the ramp-up outlasts --train-samples {cfg['train_samples']}: Megatron's last iteration "
                             f"starts below it and runs past it, so the budget is the {budget['tokens'] // q} samples "
                             "its iterations consume")
        return import_config(cfg, notes, budget, seq_len=q)
    if cfg.get("global_batch_size"):
        budget["batch_size"] = cfg["global_batch_size"]
        if extra.get("seq_length"):
            budget["seq_len"] = extra["seq_length"]
    elif "global_batch_size" not in cfg:
        if cfg.get("train_iters") and not cfg.get("rampup_batch_size"):
            cfg["global_batch_size"] = 1
            notes.append("--global-batch-size is not given; the LR curve over iterations does not depend on it")
    if cfg.get("rampup_batch_size") is not None:
        budget.pop("batch_size", None)
        budget.pop("seq_len", None)
        notes.append("batch-size ramp-up: the budget counts iterations; tokens per step vary during the ramp-up")
    return import_config(cfg, notes, budget)


def from_cli(args: list[str]) -> Imported:
    """``lrplan import megatron -- ARGS``."""
    args = _argv(args, "Megatron")
    if not args:
        raise LrplanError("give Megatron's arguments after --, e.g. lrplan import megatron -- --lr 3e-4 --train-iters 1000 ...")
    return import_megatron(args)
