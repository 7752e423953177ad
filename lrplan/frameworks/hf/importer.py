"""Import HF ``TrainingArguments`` (YAML) as the lrplan spec of what the HF Trainer runs (``lrplan import hf FILE``).

Reads ``learning_rate``, ``max_steps``, ``warmup_steps`` (or ``warmup_ratio``), ``lr_scheduler_type`` and
``lr_scheduler_kwargs`` (``transformers/training_args.py``, 5.23.0); :func:`family` maps ``get_scheduler``'s schedules
(``transformers/optimization.py``) to lrplan families. :mod:`lrplan.frameworks.importing` checks the spec against
:mod:`lrplan.frameworks.hf.simulator`.

An epoch-based recipe (``num_train_epochs``, no ``max_steps``: alignment-handbook, TRL) has no length of its own:
the Trainer derives it from the dataloader. Given the dataset's size and the world size (``--dataset-rows N
--world-size K``), or the updates per epoch (``--steps-per-epoch S``), :func:`epoch_max_steps` computes ``max_steps``
as the Trainer does.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Optional, Union

from lrplan.errors import LrplanError
from lrplan.frameworks.importing import Imported, argv, config_path, import_native, in_file, read_text

__all__ = ["HF_KEYS", "epoch_max_steps", "family", "from_cli", "import_config", "import_hf", "load_hf"]


HF_KEYS = ("learning_rate", "max_steps", "warmup_steps", "lr_scheduler_type", "lr_scheduler_kwargs")
EPOCH_KEYS = ("num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps", "dataloader_drop_last")
EPOCH_DEFAULTS = {"num_train_epochs": 3.0, "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1,
                  "dataloader_drop_last": False}  # TrainingArguments' defaults (training_args.py, 5.23.0)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def epoch_max_steps(epochs: float, per_device: int, grad_accum: int, drop_last: bool = False, *,
                    dataset_rows: Optional[int] = None, world_size: Optional[int] = None,
                    steps_per_epoch: Optional[int] = None, transformers: str = "5") -> tuple[int, str]:
    """``(max_steps, how)``: the optimizer updates of an epoch-based HF run, as ``Trainer`` computes them.

    ``transformers/trainer.py`` ``Trainer.set_initial_training_values`` (5.23.0 lines 2487-2555; the same in 4.52.0
    to 5.x)::

        num_update_steps_per_epoch = max(len_dataloader // args.gradient_accumulation_steps
                                         + int(len_dataloader % args.gradient_accumulation_steps > 0), 1)
        max_steps = math.ceil(args.num_train_epochs * num_update_steps_per_epoch)   # epoch-based: max_steps < 0

    (transformers <= 4.51: ``max(len_dataloader // gradient_accumulation_steps, 1)``, the floor.) ``len_dataloader``
    is the train dataloader's length on one process after ``accelerate.prepare``: torch's ``BatchSampler`` gives
    ``ceil(rows / per_device)`` batches (``floor`` with ``dataloader_drop_last``), and accelerate's
    ``BatchSamplerShard.__len__`` (``accelerate/data_loader.py``; ``even_batches`` by default) splits them over the
    ``world_size`` processes: ``ceil(batches / world_size)`` (``floor`` with ``drop_last``). So
    ``len_dataloader = ceil(rows / (per_device * world_size))``, or the floor with ``dataloader_drop_last``.
    ``steps_per_epoch`` gives ``num_update_steps_per_epoch`` directly.

    >>> epoch_max_steps(3, 8, 2, dataset_rows=207865, world_size=8)[0]  # ceil(3 * ceil(ceil(207865 / 64) / 2))
    4872
    """
    if steps_per_epoch is not None:
        per_epoch = steps_per_epoch
        how = f"{steps_per_epoch:,} updates per epoch (--steps-per-epoch)"
    else:
        assert dataset_rows is not None and world_size is not None
        batch = per_device * world_size
        n = dataset_rows // batch if drop_last else _ceil_div(dataset_rows, batch)
        if n == 0:
            raise LrplanError(f"{dataset_rows:,} rows make no batch of {per_device} x {world_size} processes with "
                              "dataloader_drop_last: the dataloader is empty and Trainer refuses an epoch-based run")
        major_minor = tuple(int(x) for x in re.findall(r"\d+", transformers)[:2]) + (99,)
        floor = major_minor[:2] < (4, 52)
        per_epoch = max(n // grad_accum if floor else _ceil_div(n, grad_accum), 1)
        how = (f"len(dataloader) = {'floor' if drop_last else 'ceil'}({dataset_rows:,} rows / ({per_device} per device x "
               f"{world_size} processes)) = {n:,}; {'floor' if floor else 'ceil'}({n:,} / gradient_accumulation_steps "
               f"{grad_accum}) = {per_epoch:,} updates per epoch"
               + (" (transformers < 4.52)" if floor else ""))
    max_steps = math.ceil(epochs * per_epoch)
    return max_steps, f"max_steps = ceil(num_train_epochs {epochs:g} x {per_epoch:,}) = {max_steps:,}, as Trainer computes it: {how}"


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


def load_hf(source: Union[str, Path], *, dataset_rows: Optional[int] = None, world_size: Optional[int] = None,
            steps_per_epoch: Optional[int] = None, version: Optional[str] = None) -> tuple[dict, list[str]]:
    """The LR-relevant ``TrainingArguments`` fields of an HF YAML file; a field of the wrong type is one line
    naming the file, the line and the field. An epoch-based file (no ``max_steps`` > 0) gets its ``max_steps`` from
    ``dataset_rows`` and ``world_size`` (or ``steps_per_epoch``) as ``Trainer`` computes it (:func:`epoch_max_steps`;
    ``version``: the transformers version, default 5)."""
    _check_epoch_options(dataset_rows, world_size, steps_per_epoch, version)
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
    epoch_opts = dataset_rows is not None or steps_per_epoch is not None
    if "max_steps" not in cfg or cfg["max_steps"] <= 0:
        if epoch_opts:
            ep = _epoch_fields(data, problem)
            cfg["max_steps"], how = epoch_max_steps(
                ep["num_train_epochs"], ep["per_device_train_batch_size"], ep["gradient_accumulation_steps"],
                ep["dataloader_drop_last"], dataset_rows=dataset_rows, world_size=world_size,
                steps_per_epoch=steps_per_epoch, transformers=version or "5")
            if cfg["max_steps"] <= 0:
                raise problem(("num_train_epochs",), f"{ep['num_train_epochs']!r} epochs make {cfg['max_steps']} updates; "
                                                     "give a positive num_train_epochs")
            unset = [k for k in EPOCH_KEYS if k not in data and k != "dataloader_drop_last"]
            notes.append(how + (f" (TrainingArguments defaults: {', '.join(f'{k} {EPOCH_DEFAULTS[k]!r}' for k in unset)})" if unset else ""))
            if dataset_rows is not None:
                notes.append("--dataset-rows is the length of the train dataset the Trainer gets (after the recipe's "
                             "splits, filtering and packing), --world-size its data-parallel processes")
        else:
            why = ("an epoch-based run's length depends on the dataloader: give --dataset-rows N --world-size K (or "
                   "--steps-per-epoch S) to compute max_steps as Trainer does, or set max_steps")
            if "max_steps" in cfg:
                raise problem(("max_steps",), f"{cfg['max_steps']} is not > 0 (HF then trains by num_train_epochs); {why}")
            raise LrplanError(f"{source}: no max_steps (HF then trains by num_train_epochs); {why}")
    elif epoch_opts:
        notes.append(f"max_steps = {cfg['max_steps']} is set, so Trainer ignores num_train_epochs: "
                     f"{'--dataset-rows/--world-size' if dataset_rows is not None else '--steps-per-epoch'} not used")
    if "learning_rate" not in cfg:
        notes.append("learning_rate is not set; HF's default 5e-5 is used")
        cfg["learning_rate"] = 5e-5
    skipped = sorted(set(map(str, data)) - set(HF_KEYS) - {"warmup_ratio"} - (set(EPOCH_KEYS) if epoch_opts else set()))
    if skipped:
        notes.append(f"ignored {len(skipped)} field{'s' if len(skipped) > 1 else ''} unrelated to the LR schedule")
    return cfg, notes


def _check_epoch_options(rows: Any, world: Any, per_epoch: Any, version: Any) -> None:
    """``--dataset-rows N --world-size K`` together, or ``--steps-per-epoch S`` alone; positive whole numbers."""
    for flag, v in (("--dataset-rows", rows), ("--world-size", world), ("--steps-per-epoch", per_epoch)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v <= 0):
            raise LrplanError(f"{flag} takes a positive whole number, not {v!r:.40}")
    if per_epoch is not None and (rows is not None or world is not None):
        raise LrplanError("give --steps-per-epoch S, or --dataset-rows N --world-size K, not both")
    if (rows is None) != (world is None):
        raise LrplanError(f"--{'world-size' if world is None else 'dataset-rows'} is missing: the Trainer's dataloader "
                          "length needs both --dataset-rows N and --world-size K (the data-parallel processes)")
    if version is not None and (not isinstance(version, str) or not re.fullmatch(r"v?\d+(\.\d+)*", version.strip())):
        raise LrplanError(f"--framework-version for hf is a transformers version such as 4.57 or 5.23.0, not {version!r:.40}")


def _epoch_fields(data: dict, problem: Any) -> dict:
    """``num_train_epochs``, ``per_device_train_batch_size``, ``gradient_accumulation_steps``,
    ``dataloader_drop_last`` of the file, with TrainingArguments' defaults; a wrong type is one line."""
    out = dict(EPOCH_DEFAULTS)
    for k in EPOCH_KEYS:
        if k not in data:
            continue
        v = data[k]
        if isinstance(v, str):  # HfArgumentParser converts CLI-style strings by the field's type
            try:
                v = {"num_train_epochs": float}.get(k, int)(v) if k != "dataloader_drop_last" else \
                    {"true": True, "false": False}[v.strip().lower()]
            except (ValueError, KeyError):
                raise problem((k,), f"{v!r:.40} is not {'a number' if k == 'num_train_epochs' else 'true/false' if k == 'dataloader_drop_last' else 'a whole number'}") from None
        if k == "dataloader_drop_last":
            if not isinstance(v, bool):
                raise problem((k,), f"{v!r:.40} is not true/false")
        elif k == "num_train_epochs":
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise problem((k,), f"{v!r:.40} is not a positive number of epochs")
        elif isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise problem((k,), f"{v!r:.40} is not a positive whole number")
        out[k] = v
    if isinstance(data.get("accelerator_config"), dict) and data["accelerator_config"].get("split_batches"):
        raise problem(("accelerator_config", "split_batches"), "split_batches changes the dataloader's length; lrplan "
                                                               "computes it for accelerate's default (false): set max_steps")
    return out


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


def import_hf(source: Union[str, Path], *, dataset_rows: Optional[int] = None, world_size: Optional[int] = None,
              steps_per_epoch: Optional[int] = None, version: Optional[str] = None) -> Imported:
    """The lrplan spec of an HF ``TrainingArguments`` YAML file; what transformers would refuse names the file. An
    epoch-based file needs ``dataset_rows`` and ``world_size``, or ``steps_per_epoch`` (:func:`load_hf`)."""
    source = config_path(source, "hf", "YAML")
    cfg, notes = load_hf(source, dataset_rows=dataset_rows, world_size=world_size, steps_per_epoch=steps_per_epoch,
                         version=version)
    try:
        return import_config(cfg, notes, name=f"imported from {Path(source).name}")
    except LrplanError as e:
        raise in_file(source, e) from None


def from_cli(args: list[str], *, dataset_rows: Optional[int] = None, world_size: Optional[int] = None,
             steps_per_epoch: Optional[int] = None, framework_version: Optional[str] = None) -> Imported:
    """``lrplan import hf FILE.yaml [--dataset-rows N --world-size K | --steps-per-epoch S] [--framework-version V]``."""
    args = argv(args, "hf")
    if len(args) != 1:
        raise LrplanError("give one hf YAML file, e.g. lrplan import hf config.yaml")
    return import_hf(args[0], dataset_rows=dataset_rows, world_size=world_size, steps_per_epoch=steps_per_epoch,
                     version=framework_version)
