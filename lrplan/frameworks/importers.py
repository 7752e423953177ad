"""Import a framework's LR-scheduler config as an lrplan spec that reproduces what the framework RUNS.

``import_megatron(argv)``, ``import_torchtitan(path)``, ``import_hf(path)`` (or :func:`import_config` with a
native config dict) return an :class:`Imported`: the native config, the spec (dict and YAML text), and whether
``load_spec(spec).render().lr`` equals the framework's LRs (its simulator in :mod:`lrplan.frameworks`) at rtol
1e-12. Each framework's off-by-ones are folded into the spec (TorchTitan's ``(c+1)/W`` warmup becomes a warmup of
``W-1`` steps from ``lr/W``); when no family reproduces the run, the spec is ``kind: phases`` (linear and
constant pieces, one per update where nothing else fits), always checked against the simulator.
Configs the framework itself would refuse raise :class:`lrplan.errors.LrplanError`, one line per problem.

>>> imp = import_megatron("--lr 3e-4 --min-lr 3e-5 --train-iters 1000 --global-batch-size 256 "
...                       "--lr-warmup-iters 100 --lr-decay-style cosine".split())
>>> imp.exact, imp.spec["schedule"]["kind"], imp.spec["schedule"]["warmup"]
(True, 'cosine', 100)
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from lrplan.errors import LrplanError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["Imported", "import_config", "import_hf", "import_megatron", "import_torchtitan", "parse_megatron_args", "phases_from_lr"]

IMPORTABLE = ("megatron", "torchtitan", "hf")


@dataclass
class Imported:
    framework: str
    config: dict
    spec: dict
    yaml: str
    exact: bool
    max_abs_dev: float
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------- megatron

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


def _megatron_spec(cfg: dict, seq_len: int | None = None) -> dict | None:
    """A family spec: iteration-based configs on the step clock; sample-based ones on the token clock when the
    sequence length is known (lengths in samples; Megatron's scheduler counts consumed samples, lrplan's token
    clock counts consumed tokens), else on steps when every length is whole iterations and there is no ramp-up."""
    from lrplan.frameworks import megatron

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
    from lrplan.frameworks.export import MEGATRON_WSD

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


# ------------------------------------------------------------------------------------------ torchtitan


def _torchtitan_spec(cfg: dict) -> dict | None:
    from lrplan.frameworks import torchtitan

    _, steps, lr = torchtitan._sections(cfg)
    p = torchtitan.phases(cfg)
    if torchtitan.total_steps(cfg) != steps:
        return None
    W, D = p.warmup, p.decay
    m = float(p.min_lr_factor)
    sch: dict[str, Any] = {"peak_lr": float(lr)}
    if W >= 2:
        sch["warmup"] = W - 1
        sch["warmup_init_lr"] = float(lr) / W  # update 1 runs at lr/W; the peak is reached at update W
    if D == 0:
        return {"kind": "constant", **sch}
    if not 0 <= m <= 1:
        return None
    from lrplan.frameworks.export import TT_DECAY

    shape = {v: k for k, v in TT_DECAY.items()}[p.decay_type]
    return {"kind": "wsd", **sch, "min_lr_ratio": m, "decay": D, "decay_shape": shape}


def load_torchtitan(source: Union[str, Path]) -> tuple[dict, list[str]]:
    """The LR-relevant part of a TorchTitan TOML file (``[optimizer] lr``, ``[lr_scheduler]``, ``[training] steps``)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
        import tomli as tomllib  # type: ignore[no-redef]

    text = _read(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LrplanError(f"{source}: invalid TOML: {e}") from None
    notes: list[str] = []
    cfg: dict[str, Any] = {}
    for table in ("lr_scheduler", "optimizer", "training"):
        if table in data and not isinstance(data[table], dict):
            raise LrplanError(f"{source}: {table} = {str(data[table])[:40]} must be a table ([{table}] with its keys)")
    sched = data.get("lr_scheduler") or {}
    if "lr_min" in sched:
        raise LrplanError(
            f"{source}: [lr_scheduler] lr_min is TorchTitan 0.1's field, whose formula differs ((c+1)/(W+1) warmup); "
            "lrplan imports TorchTitan >= 0.2 (min_lr_factor)"
        )
    cfg["lr_scheduler"] = dict(sched)
    opt = data.get("optimizer") or {}
    if "lr" in opt:
        if isinstance(opt["lr"], bool) or not isinstance(opt["lr"], (int, float)):
            raise LrplanError(f"{source}: [optimizer] lr = {str(opt['lr'])[:40]!r} is not a number")
        cfg["optimizer"] = {"lr": float(opt["lr"])}
    else:
        notes.append("[optimizer] lr is not set; TorchTitan's default 8e-4 is used")
    tr = data.get("training") or {}
    if "steps" in tr:
        if isinstance(tr["steps"], bool) or not (isinstance(tr["steps"], int)
                                                 or (isinstance(tr["steps"], float) and tr["steps"].is_integer())):
            raise LrplanError(f"{source}: [training] steps = {str(tr['steps'])[:40]!r} is not a whole number")
        cfg["training"] = {"steps": int(tr["steps"])}
    else:
        notes.append("[training] steps is not set; TorchTitan's default 10000 is used")
    if "warmup_steps" not in sched:
        notes.append("[lr_scheduler] warmup_steps is not set; TorchTitan's default 200 is used")
    return cfg, notes


# ------------------------------------------------------------------------------------------------- hf

HF_KEYS = ("learning_rate", "max_steps", "warmup_steps", "lr_scheduler_type", "lr_scheduler_kwargs")


def _hf_spec(cfg: dict) -> dict | None:
    from lrplan.frameworks import hf

    t = cfg.get("lr_scheduler_type", "linear")
    lr = float(cfg.get("learning_rate", 5e-5))
    N = int(cfg["max_steps"])
    W = hf.warmup_steps(cfg)
    kw = hf._kwargs(cfg)
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
    """The LR-relevant ``TrainingArguments`` fields of an HF YAML file."""
    import yaml

    text = _read(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else str(source)
        what = " ".join(str(x) for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
        raise LrplanError(f"{where}: invalid YAML: {' '.join(what.split())}") from None
    if not isinstance(data, dict):
        raise LrplanError(f"{source}: expected a mapping of TrainingArguments fields")
    notes: list[str] = []
    cfg: dict[str, Any] = {}
    for k in HF_KEYS:
        if k in data:
            cfg[k] = data[k]
    if "warmup_ratio" in data and not cfg.get("warmup_steps"):
        cfg["warmup_steps"] = float(data["warmup_ratio"])
        notes.append("warmup_ratio (transformers 4.x) read as warmup_steps < 1 (a ratio of max_steps)")
    for k in ("learning_rate", "warmup_steps"):
        v = cfg.get(k)
        if isinstance(v, str):
            try:
                cfg[k] = float(v) if k == "learning_rate" or not v.strip().isdigit() else int(v)
            except ValueError:
                raise LrplanError(f"{source}: {k} {v!r} is not a number") from None
            notes.append(f"{k}: {v!r} is a string in YAML (write it with a dot, e.g. 3.0e-4); read as {cfg[k]!r}")
    if isinstance(cfg.get("lr_scheduler_kwargs"), str):
        try:
            cfg["lr_scheduler_kwargs"] = json.loads(cfg["lr_scheduler_kwargs"])
        except json.JSONDecodeError as e:
            raise LrplanError(f"{source}: lr_scheduler_kwargs is not JSON: {e}") from None
    if "max_steps" not in cfg or not isinstance(cfg["max_steps"], int) or cfg["max_steps"] <= 0:
        raise LrplanError(
            f"{source}: set max_steps (> 0); an epoch-based run's length depends on the dataloader, which lrplan cannot know"
        )
    if "learning_rate" not in cfg:
        notes.append("learning_rate is not set; HF's default 5e-5 is used")
        cfg["learning_rate"] = 5e-5
    skipped = sorted(set(data) - set(HF_KEYS) - {"warmup_ratio"})
    if skipped:
        notes.append(f"ignored {len(skipped)} field{'s' if len(skipped) > 1 else ''} unrelated to the LR schedule")
    return cfg, notes


def _read(source: Union[str, Path]) -> str:
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as e:
        raise LrplanError(f"cannot read {source}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise LrplanError(f"{source}: not UTF-8 text (byte {e.start}); save the config as UTF-8") from None


# ------------------------------------------------------------------------------------------- generic


def phases_from_lr(lr: "np.ndarray") -> list[dict]:
    """Exact ``kind: phases`` pieces for an LR array: runs of equal values become constant phases, runs on a
    straight line become linear phases, anything else one constant phase per update."""
    import numpy as np

    n = lr.size
    out: list[dict] = []
    i = 0
    while i < n:
        a = float(lr[i])
        neq = np.flatnonzero(lr[i:] != lr[i])
        j = i + (int(neq[0]) if neq.size else n - i)
        if j - i >= 2:
            out.append({"shape": "constant", "lr": a, "length": j - i})
            i = j
            continue
        L = _linear_run(lr, i)
        if L >= 3:
            slope = (float(lr[i + L - 1]) - a) / (L - 1)
            b = a + slope * L
            out.append({"shape": "linear", "from": a, "to": max(b, 0.0), "length": L})
            i += L
            continue
        out.append({"shape": "constant", "lr": a, "length": 1})
        i += 1
    return out


def _linear_run(lr: "np.ndarray", i: int) -> int:
    """Length of the longest run from ``i`` that lrplan's linear ramp reproduces at rtol 1e-12."""
    n = lr.size
    if i + 2 >= n:
        return 0
    window = 64
    while True:
        w = min(window, n - i)
        L = _linear_run_in(lr[i : i + w])
        if L < w or w == n - i:
            return L
        window *= 8


def _linear_run_in(seg: "np.ndarray") -> int:
    import numpy as np

    n = seg.size
    a = float(seg[0])
    end = 2  # candidate last index (inclusive)
    k = np.arange(n, dtype=np.float64)
    for _ in range(6):
        L = end + 1
        slope = (float(seg[end]) - a) / (L - 1)
        if slope == 0:
            return 0
        b = a + slope * L
        if b < 0 and b < -1e-12 * abs(a):
            return 0
        b = max(b, 0.0)
        # the phase's formula: b + (1 - p) * (a - b) with p = k / L  (lrplan shapes._linear)
        pred = b + (1.0 - k / L) * (a - b)
        ok = np.abs(pred - seg) <= 1e-12 * np.abs(seg) + 1e-300
        bad = np.flatnonzero(~ok)
        new_end = (int(bad[0]) if bad.size else n) - 1
        if new_end <= end:
            return L if new_end >= end else 0
        end = new_end
    return end + 1


def import_config(
    framework: str, config: dict, notes: list[str] | None = None, budget: dict | None = None, name: str | None = None,
    seq_len: int | None = None,
) -> Imported:
    """Import a native config (the simulator's dict form) of ``megatron``, ``torchtitan`` or ``hf``."""
    import numpy as np
    import yaml

    from lrplan.frameworks import get
    from lrplan.frameworks.export import compare
    from lrplan.spec.models import load_spec

    fw = framework.lower().replace("-", "_")
    if fw not in IMPORTABLE:
        raise LrplanError(f"cannot import {framework!r}; importable: {', '.join(IMPORTABLE)}")
    mod = get(fw)
    notes = list(notes or [])
    try:
        problems = mod.validate(config)
        if problems:
            raise LrplanError(f"{framework} would refuse this config: {'; '.join(problems)}")
        if fw == "torchtitan":
            notes += [f"TorchTitan warns: {w}" for w in mod.clamp_warnings(config)]
        truth = mod.simulate(config)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError, KeyError, AttributeError) as e:
        # a value of the wrong type or range that the framework's own code would choke on
        raise LrplanError(f"{framework} would fail on this config ({type(e).__name__}: {e}); check the field types and values") from None
    neg = np.flatnonzero(truth < 0)
    if neg.size:
        k = int(neg[0])
        why = (" because training.steps > total_steps and TorchTitan does not clamp the decay progress"
               if fw == "torchtitan" else "")
        raise LrplanError(
            f"this {framework} config runs a negative LR ({truth[k]:.6g}) from update {k + 1}{why}; "
            "lrplan cannot plan negative LRs: fix the config"
        )
    if truth.size == 0:
        raise LrplanError(f"the {framework} config runs 0 updates")
    bud: dict[str, Any] = budget if budget and "tokens" in budget else {"steps": int(truth.size), **(budget or {})}
    family = _megatron_spec(config, seq_len) if fw == "megatron" else {"torchtitan": _torchtitan_spec, "hf": _hf_spec}[fw](config)
    spec: dict | None = None
    if family is not None:
        cand = {"name": name or f"imported from {framework}", "budget": bud, "schedule": family}
        try:
            got = load_spec(cand).render().lr
            if compare(got, truth)[0]:
                spec = cand
        except LrplanError:
            pass
    if spec is None:
        phases = phases_from_lr(truth)
        if "tokens" in bud:
            bud = {"steps": int(truth.size), **{k: v for k, v in bud.items() if k in ("seq_len",)}}
        spec = {"name": name or f"imported from {framework}", "budget": bud, "schedule": {"kind": "phases", "phases": phases}}
        got = load_spec(spec).render().lr
        if not compare(got, truth)[0]:  # pragma: no cover - constant phases are exact by construction
            spec["schedule"]["phases"] = [{"shape": "constant", "lr": float(v), "length": 1} for v in truth]
            got = load_spec(spec).render().lr
        notes.append(
            f"no lrplan family reproduces this {framework} run update for update; written as {len(spec['schedule']['phases'])} phases"
        )
    exact, mx, _, _ = compare(got, truth)
    header = [f"# lrplan spec of the {framework} config (reproduces the LR of every update {framework} runs"
              + (", checked)" if exact else f"; max deviation {mx:.3g})")]
    header += [f"# note: {n}" for n in notes]
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: long phase lists dump fast
    text = "\n".join(header) + "\n" + yaml.dump(spec, Dumper=dumper, sort_keys=False, default_flow_style=None, width=120)
    del np
    return Imported(framework, config, spec, text, exact, mx, notes)


def import_megatron(argv: list[str]) -> Imported:
    cfg, extra, notes = parse_megatron_args(argv)
    budget: dict[str, Any] = {}
    q = extra.get("seq_length")
    if cfg.get("train_samples") and q and cfg.get("global_batch_size"):
        # sample-based: the spec runs on the token clock (a batch ramp-up moves it off the step clock)
        from lrplan.frameworks import megatron

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
        return import_config("megatron", cfg, notes, budget, seq_len=q)
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
    return import_config("megatron", cfg, notes, budget)


def import_torchtitan(source: Union[str, Path]) -> Imported:
    cfg, notes = load_torchtitan(source)
    return import_config("torchtitan", cfg, notes, name=f"imported from {Path(source).name}")


def import_hf(source: Union[str, Path]) -> Imported:
    cfg, notes = load_hf(source)
    return import_config("hf", cfg, notes, name=f"imported from {Path(source).name}")

