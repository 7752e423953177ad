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
from typing import Any

from lrplan.errors import LrplanError
from lrplan.frameworks.importing import Imported, import_native, what
from lrplan.frameworks.importing import argv as _argv
from lrplan.frameworks.megatron import MEGATRON_WSD

__all__ = ["family", "from_cli", "import_config", "import_megatron", "parse_megatron_args"]


MEGATRON_TYPES: dict[str, Any] = {
    "lr": float, "min_lr": float, "lr_warmup_init": float, "lr_warmup_fraction": float,
    "lr_warmup_iters": int, "lr_warmup_samples": int, "lr_decay_iters": int, "lr_decay_samples": int,
    "lr_wsd_decay_iters": int, "lr_wsd_decay_samples": int, "train_iters": int, "train_samples": int,
    "global_batch_size": int, "lr_decay_style": str, "lr_wsd_decay_style": str, "rampup_batch_size": (int, 3),
    "step_batch_size_schedule": str,
}
# read for the budget, the second param group and the step schedule's unit, not the main schedule
MEGATRON_EXTRA = {"seq_length": int, "decoder_seq_length": int, "encoder_seq_length": int, "micro_batch_size": int,
                  "decoupled_lr": float, "decoupled_min_lr": float}
MEGATRON_FLAGS_IGNORED = {"override_opt_param_scheduler", "use_checkpoint_opt_param_scheduler"}  # store_true
LR_PREFIXES = ("lr", "min_lr", "warmup", "train_", "rampup", "decoupled", "step_batch", "start_weight", "end_weight", "weight_decay_incr")
LRPLAN_OPTIONS = ("-o", "--output")  # lrplan import's own options, which Megatron does not have


def megatron_flags() -> dict[str, dict]:
    """Megatron-LM's flags with their arity: ``flags.json``, written by ``conformance/megatron_flags.py`` from
    Megatron-LM's own parser (``add_megatron_arguments``, arguments.py plus the config dataclasses that
    ``ArgumentGroupFactory`` turns into flags), at the commit it records."""
    global _FLAGS
    if _FLAGS is None:
        import json
        from pathlib import Path

        _FLAGS = json.loads((Path(__file__).parent / "flags.json").read_text())["flags"]
    return _FLAGS


_FLAGS: dict | None = None


def _looks_like_option(tok: str) -> bool:
    """argparse's test: a word starting with ``-`` is an option unless it is a negative number."""
    return tok.startswith("-") and len(tok) > 1 and not _is_number(tok)


def parse_megatron_args(argv: list[str]) -> tuple[dict, dict, list[str]]:
    """Parse Megatron-LM arguments the way its argparse does: every flag of Megatron-LM (:func:`megatron_flags`)
    takes its true number of values (``--spec MODULE FUNC``, ``--data-path W1 P1 W2 P2``, store_true flags none),
    ``--flag=value`` works, the last occurrence wins. Returns ``(config, extra, notes)``: the LR-schedule
    arguments (simulator dict), budget facts (``seq_length``...), and notes. A flag Megatron-LM does not have is
    skipped with the words after it (a removed flag, or one a training script adds through
    ``extra_args_provider``), and said in a note; unknown LR-looking flags and bad values raise LrplanError."""
    argv = _argv(argv, "Megatron")
    table = megatron_flags()
    cfg: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    notes: list[str] = []
    problems: list[str] = []
    ignored: list[str] = []
    unknown: list[str] = []
    seen: set[str] = set()
    known = list(MEGATRON_TYPES) + list(MEGATRON_EXTRA) + list(MEGATRON_FLAGS_IGNORED)
    i = 0
    args = [a for a in argv if a not in ("\\", "")]
    for tok in args:
        if tok in LRPLAN_OPTIONS:
            raise LrplanError(f"{tok} after -- is passed to Megatron, which has no {tok}; put lrplan's {tok} FILE before --")
    while i < len(args):
        tok = args[i]
        i += 1
        if not _looks_like_option(tok):
            problems.append(f"unexpected argument {tok!r} (expected --flag value)")
            continue
        opt, eq, inline = tok.partition("=")
        name = opt.lstrip("-")
        entry = table.get(opt)
        dest = entry["dest"] if entry else name.replace("-", "_")
        if entry is None:
            if dest == "warmup":
                problems.append("--warmup was removed from Megatron-LM; use --lr-warmup-iters or --lr-warmup-fraction")
            elif dest.startswith(LR_PREFIXES):
                close = difflib.get_close_matches(dest, known, n=1)
                hint = f"; did you mean --{close[0].replace('_', '-')}?" if close else ""
                problems.append(f"unknown Megatron argument --{name}{hint}")
            while not eq and i < len(args) and not _looks_like_option(args[i]):
                i += 1
            unknown.append(opt)
            continue
        nargs = entry["nargs"]
        if eq:
            if nargs == 0:
                problems.append(f"{opt} takes no value (got {opt}={inline})")
                continue
            vals = [inline]
        else:
            vals = []
            limit = {1: 1, "?": 1, "*": None, "+": None}.get(nargs, nargs)
            while i < len(args) and (limit is None or len(vals) < limit) and not _looks_like_option(args[i]):
                vals.append(args[i])
                i += 1
            want = {1: "one value", "+": "at least one value"}.get(nargs, f"{nargs} values")
            if (nargs in (1, "+") and not vals) or (isinstance(nargs, int) and nargs > 1 and len(vals) != nargs):
                problems.append(f"{opt} expects {want}")
                continue
        if dest == "warmup":  # still parsed by Megatron-LM ("Old lr warmup argument, do not use"), never read
            problems.append("--warmup is Megatron-LM's old warmup flag, which it no longer reads; use --lr-warmup-iters or --lr-warmup-fraction")
            continue
        if dest in MEGATRON_FLAGS_IGNORED:
            notes.append(f"{opt} only matters when resuming from a checkpoint; ignored")
            continue
        typ = MEGATRON_TYPES.get(dest) or MEGATRON_EXTRA.get(dest)
        if typ is None:
            ignored.append(opt)
            continue
        if dest in seen:
            notes.append(f"{opt} is given more than once; Megatron uses the last")
        seen.add(dest)
        try:
            if isinstance(typ, tuple):
                val: Any = [int(v) for v in vals]
            else:
                val = typ(vals[0])
        except ValueError:
            problems.append(f"{opt}: invalid {getattr(typ, '__name__', 'int')} value {' '.join(vals)!r}")
            continue
        (cfg if dest in MEGATRON_TYPES else extra)[dest] = val
    if problems:
        raise LrplanError("\n".join(problems))
    if ignored:
        shown = " ".join(ignored[:6]) + (" ..." if len(ignored) > 6 else "")
        notes.append(f"ignored {len(ignored)} argument{'s' if len(ignored) > 1 else ''} unrelated to the LR schedule: {shown}")
    if unknown:
        notes.append(f"skipped {len(unknown)} argument{'s' if len(unknown) > 1 else ''} Megatron-LM does not define "
                     f"(removed, or added by the training script): {' '.join(unknown[:6])}{' ...' if len(unknown) > 6 else ''}")
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
    gbs = int(a["global_batch_size"] or 0)  # (None under --step-batch-size-schedule: sample-based only)
    st = megatron.scheduler_steps(cfg)
    samples = bool(a["train_samples"]) and bool(seq_len)
    if samples:
        div, T = 1, megatron.samples_run(cfg)  # = --train-samples unless a ramp-up outlasts it
    else:
        if not gbs or a["rampup_batch_size"] is not None or (a["train_samples"] and a["train_samples"] % gbs):
            return None
        div, T = gbs, megatron.train_iters(cfg)
    Wf, Dd = st.warmup / div, st.decay / div
    if Dd != int(Dd):
        return None
    # a warmup that ends between two updates (--lr-warmup-fraction) stays fractional: the spec's warmup is
    # "3.2 steps" (or samples), and the decay starts there, as get_lr's does
    W: int | float = int(Wf) if float(Wf).is_integer() else float(Wf)
    D = int(Dd)
    wsd = None
    if st.wsd_decay is not None:
        if st.wsd_decay % div:
            return None
        wsd = st.wsd_decay // div
    sch = _megatron_family(st, W, D, T, wsd)
    if sch is None or not samples:
        if sch is not None and a["lr_warmup_fraction"] is not None and isinstance(sch.get("warmup"), int):
            sch["warmup"] = _percent_of(sch["warmup"], T) or sch["warmup"]  # the user's style: a fraction
        return _fractional(sch) if sch is not None else None
    for k in ("warmup", "decay", "tail", "timescale", "horizon"):
        if isinstance(sch.get(k), int) and sch[k]:
            sch[k] = f"{sch[k]} samples"
        elif isinstance(sch.get(k), float):
            sch[k] = f"{sch[k]!r} samples"
    sch["clock"] = "tokens"
    return sch


def _percent_of(w: int, T: int) -> str | None:
    """``w`` steps as the shortest percentage of the ``T``-step budget that lrplan resolves to exactly ``w``
    (``9900`` of ``1000000`` -> ``"0.99%"``), so an export writes ``--lr-warmup-fraction`` again; None if none."""
    from lrplan.spec.units import round_half_up

    for digits in range(1, 16):
        p = float(f"{100.0 * w / T:.{digits}g}")
        exact = p / 100.0 * T
        if 0 < p <= 100 and round_half_up(exact) == w and abs(exact - w) <= 1e-9:
            return f"{p!r}%"
    return None


def _fractional(sch: dict) -> dict:
    """A fractional warmup on the step clock, written with its unit (``3.2 steps``: a bare 3.2 is refused)."""
    if isinstance(sch.get("warmup"), float):
        sch["warmup"] = f"{sch['warmup']!r} steps"
    return sch


def _megatron_family(st, W: float, D: int, T: int, wsd: int | None) -> dict | None:
    """``get_lr`` as an lrplan family, every length in one unit (iterations, or samples); ``W`` is a float when
    the warmup ends between two updates (then the decay of ``linear``/``cosine`` ends at ``D`` through ``tail``)."""
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
        if D < T - 1 or isinstance(W, float):
            return None
        if W == 0:
            return {"kind": "inverse-sqrt", "peak_lr": st.max_lr, "min_lr": st.min_lr, "warmup": 1, "warmup_init_lr": st.max_lr, "timescale": 1}
        return {"kind": "inverse-sqrt", **sch}
    shapes = {v: k for k, v in MEGATRON_WSD.items()}  # Megatron's --lr-wsd-decay-style -> lrplan decay_shape
    if D > T:  # the run stops inside its warmup or decay: the decay is defined over a horizon beyond the run
        if W >= D:
            return None
        if style in ("linear", "cosine"):
            return {"kind": style, **sch, "horizon": D}
        assert wsd is not None
        if wsd <= 0 or wsd > D - W:
            return None
        return {"kind": "wsd", **sch, "decay": wsd, "decay_shape": shapes[st.wsd_style], "horizon": D}
    if W >= T:
        return None
    if style in ("linear", "cosine"):
        if D == T:
            return {"kind": style, **sch}
        # the decay from W to D, then min_lr: the user's family with a tail (not a WSDC without a stable phase)
        return {"kind": style, **sch, "tail": T - D}
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


def import_config(config: dict, notes: list[str] | None = None, budget: dict | None = None,
                  name: str | None = None, seq_len: int | None = None, *, label: str = "megatron") -> Imported:
    """The lrplan spec of a Megatron config dict (argparse ``dest`` names, the simulator's form)."""
    from lrplan.frameworks.megatron import simulator

    if seq_len is not None and (not isinstance(seq_len, int) or isinstance(seq_len, bool) or seq_len <= 0):
        raise LrplanError(f"seq_len must be a positive integer (tokens per sample), not {what(seq_len)}")
    return import_native(label, config, simulator, lambda c: family(c, seq_len), notes, budget, name)


def _seq_len(extra: dict, notes: list[str]) -> int | None:
    """Tokens per sample of the language model: ``--decoder-seq-length`` when a multimodal config also sets
    ``--seq-length`` (that one is the image encoder's), ``--encoder-seq-length`` for T5 (which Megatron's
    ``validate_args`` copies to ``args.seq_length``), else ``--seq-length``."""
    q, dec, enc = extra.get("seq_length"), extra.get("decoder_seq_length"), extra.get("encoder_seq_length")
    if q is not None and dec is not None:
        notes.append(f"tokens per sample: --decoder-seq-length {dec} (the language model's; --seq-length {q} is the "
                     "vision encoder's)")
        return dec
    if q is None and enc is not None:
        notes.append(f"tokens per sample: --encoder-seq-length {enc} (T5; the decoder's {dec} tokens are not counted)"
                     if dec is not None else f"tokens per sample: --encoder-seq-length {enc}")
        return enc
    return q


def _megatron_seq_length(extra: dict) -> int | None:
    """Megatron's ``args.seq_length`` after ``validate_args`` (``--seq-length``, else ``--encoder-seq-length``):
    the divisor of ``--step-batch-size-schedule`` thresholds (tokens -> samples)."""
    q = extra.get("seq_length")
    return q if q is not None else extra.get("encoder_seq_length")


def _decay_warning(cfg: dict) -> str | None:
    """"decay ends at N; the last M updates run at min_lr" when --lr-decay-iters/-samples is below the run."""
    from lrplan.frameworks.megatron import simulator as megatron

    if megatron.validate(cfg):
        return None
    st = megatron.scheduler_steps(cfg)
    if st.style == "constant":
        return None
    T = megatron.train_iters(cfg)
    n_hi = int(megatron.consumed_at(cfg, [T - 1])[0])
    if n_hi < st.decay:
        return None
    # from the first update whose num_steps reaches the decay length on, get_lr gives min_lr
    import numpy as np

    lo, hi = 0, T - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if int(megatron.consumed_at(cfg, np.array([mid]))[0]) >= st.decay:
            hi = mid
        else:
            lo = mid + 1
    M = T - lo
    flag = "--lr-decay-iters" if cfg.get("train_iters") else "--lr-decay-samples"
    where = (f"iteration {cfg.get('lr_decay_iters')}" if cfg.get("train_iters")
             else f"{st.decay} samples (update {lo})")
    return (f"{flag} is below the run's length: decay ends at {where}; the last {M} of {T} updates run at "
            f"min_lr {st.min_lr:g}")


def _second_group(cfg: dict, extra: dict, budget: dict, q: int | None, notes: list[str]) -> None:
    """``--decoupled-lr`` (and ``--decoupled-min-lr``): the embedding and output layer are a second param group
    with the same warmup and decay to other peak/min LRs (megatron/core/optimizer/__init__.py: a ParamGroupOverride
    ``{"max_lr": decoupled_lr, "min_lr": decoupled_min_lr}``; ``get_lr`` reads the group's max_lr/min_lr). lrplan's
    spec has one schedule, so that group's is given as a note, checked like the main one."""
    lr = extra.get("decoupled_lr")
    if lr is None:
        return
    dcfg = {**cfg, "lr": lr}
    if extra.get("decoupled_min_lr") is not None:
        dcfg["min_lr"] = extra["decoupled_min_lr"]
    try:
        imp = import_config(dcfg, [], dict(budget), seq_len=q)
    except LrplanError as e:
        notes.append(f"--decoupled-lr {lr:g}: the embedding/output param group would be refused by Megatron: {e}")
        return
    sch = imp.spec["schedule"]
    shown = ", ".join(f"{k}: {v}" for k, v in sch.items() if k != "kind")
    notes.append(f"--decoupled-lr: a second param group (embedding and output layer) runs kind: {sch['kind']} "
                 f"{{{shown}}}{'' if imp.exact else ' (as phases)'}; the spec above is the main group's")


def import_megatron(argv: list[str]) -> Imported:
    """The lrplan spec of a Megatron command line (its LR-schedule and budget arguments: a list of strings)."""
    cfg, extra, notes = parse_megatron_args(argv)
    for k in ("seq_length", "decoder_seq_length", "encoder_seq_length", "micro_batch_size"):
        if extra.get(k) is not None and extra[k] <= 0:
            raise LrplanError(f"--{k.replace('_', '-')} {extra[k]} must be positive")
    from lrplan.frameworks.megatron import simulator as megatron

    budget: dict[str, Any] = {}
    q = _seq_len(extra, notes)
    warnings: list[str] = []
    if cfg.get("step_batch_size_schedule") is not None:
        if cfg.get("global_batch_size") is not None:
            raise LrplanError("Megatron refuses --step-batch-size-schedule together with --global-batch-size "
                              "(arguments.py validate_args); drop --global-batch-size")
        cfg["seq_length"] = _megatron_seq_length(extra)
        problems = megatron.validate(cfg)
        if problems:
            raise LrplanError("\n".join(problems))
        if not q:
            raise LrplanError("--step-batch-size-schedule needs --seq-length (tokens per sample) to import")
        pts = megatron.parse_step_schedule(cfg["step_batch_size_schedule"], cfg["seq_length"])
        run = megatron.samples_run(cfg)
        unit = f"tokens (// --seq-length {cfg['seq_length']} = samples)" if cfg["seq_length"] else "samples"
        notes.append(f"--step-batch-size-schedule thresholds are in {unit}, as Megatron-LM main reads them")
        inside = [(t, b) for t, b in pts if t < run]
        budget = {"tokens": run * q, "seq_len": q,
                  "batch_schedule": [{"at": 0 if not t else f"{t} samples", "batch_size": b} for t, b in inside]}
        if len(inside) < len(pts):
            notes.append(f"--step-batch-size-schedule: {len(pts) - len(inside)} threshold(s) lie past the run's "
                         f"{run} samples and never apply")
        if run > int(cfg["train_samples"]):
            notes.append(f"the last iteration runs past --train-samples {cfg['train_samples']}: the budget is the "
                         f"{run} samples Megatron's iterations consume")
        w = _decay_warning(cfg)
        warnings += [w] if w else []
        _second_group(cfg, extra, budget, q, notes)
        return _finish(import_config(cfg, notes, budget, seq_len=q), warnings)
    w = _decay_warning({**cfg, "global_batch_size": cfg.get("global_batch_size") or 1})
    warnings += [w] if w else []
    if cfg.get("train_samples") and q and cfg.get("global_batch_size"):
        # sample-based: the spec runs on the token clock (a batch ramp-up moves it off the step clock)
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
        _second_group(cfg, extra, budget, q, notes)
        return _finish(import_config(cfg, notes, budget, seq_len=q), warnings)
    if cfg.get("global_batch_size"):
        budget["batch_size"] = cfg["global_batch_size"]
        if q:
            budget["seq_len"] = q
    elif "global_batch_size" not in cfg:
        if cfg.get("train_iters") and not cfg.get("rampup_batch_size"):
            cfg["global_batch_size"] = 1
            notes.append("--global-batch-size is not given; the LR curve over iterations does not depend on it")
    if cfg.get("rampup_batch_size") is not None:
        budget.pop("batch_size", None)
        budget.pop("seq_len", None)
        notes.append("batch-size ramp-up: the budget counts iterations; tokens per step vary during the ramp-up")
    _second_group(cfg, extra, budget, None, notes)
    return _finish(import_config(cfg, notes, budget), warnings)


MAX_PHASES = 5000  # a kind: phases spec beyond this is not a usable spec (and beyond lrplan's YAML node limit)


def _finish(imp: Imported, warnings: list[str]) -> Imported:
    phases = imp.spec["schedule"].get("phases") if imp.spec["schedule"].get("kind") == "phases" else None
    if phases is not None and len(phases) > MAX_PHASES:
        from lrplan.frameworks.megatron import simulator as megatron

        st, T = megatron.scheduler_steps(imp.config), megatron.train_iters(imp.config)
        end = int(megatron.consumed_at(imp.config, [T - 1])[0])
        inside = (f" (the run stops inside its {st.style} decay: decay length {st.decay} samples, the last update "
                  f"at {end})" if end < st.decay else "")
        raise LrplanError(f"cannot import as a spec: no lrplan family reproduces it{inside}, and the exact "
                          f"per-update spec would need {len(phases)} phases")
    imp.warnings = list(imp.warnings) + [w for w in warnings if w not in imp.warnings]
    return imp


def from_cli(args: list[str]) -> Imported:
    """``lrplan import megatron -- ARGS``."""
    args = _argv(args, "Megatron")
    if not args:
        raise LrplanError("give Megatron's arguments after --, e.g. lrplan import megatron -- --lr 3e-4 --train-iters 1000 ...")
    return import_megatron(args)
