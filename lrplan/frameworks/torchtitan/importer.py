"""Import a TorchTitan TOML config as the lrplan spec of what TorchTitan runs (``lrplan import torchtitan FILE``).

Reads ``[optimizer] lr``, ``[lr_scheduler]`` and ``[training] steps`` (TorchTitan >= 0.2, whose
``linear_warmup_stable_decay`` is ``torchtitan/components/optimizer/lr_scheduler.py`` 130-184); :func:`family`
folds TorchTitan's ``(c+1)/W`` warmup and "virtual last step" into a ``wsd`` spec. :mod:`lrplan.frameworks.importing`
checks it against :mod:`lrplan.frameworks.torchtitan.simulator`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from lrplan.errors import LrplanError
from lrplan.frameworks.importing import Imported, argv, config_path, import_native, in_file, read_text
from lrplan.frameworks.torchtitan import TT_DECAY

__all__ = ["family", "from_cli", "import_config", "import_torchtitan", "load_torchtitan"]


def family(cfg: dict) -> dict | None:
    """The TorchTitan config as an lrplan ``wsd`` / ``constant`` schedule: update 1 runs at ``lr/W`` and the
    peak comes at update ``W`` (``(c+1)/W``), so the spec warms up over ``W-1`` steps from ``lr/W``."""
    from lrplan.frameworks.torchtitan import simulator as torchtitan

    _, steps, lr = torchtitan.sections(cfg)
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
    shape = {v: k for k, v in TT_DECAY.items()}[p.decay_type]
    return {"kind": "wsd", **sch, "min_lr_ratio": m, "decay": D, "decay_shape": shape}


def load_torchtitan(source: Union[str, Path]) -> tuple[dict, list[str]]:
    """The LR-relevant part of a TorchTitan TOML file (``[optimizer] lr``, ``[lr_scheduler]``, ``[training] steps``)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
        import tomli as tomllib  # type: ignore[no-redef]

    source = config_path(source, "torchtitan", "TOML")
    text = read_text(source)
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


def _warn(config: dict) -> list[str]:
    from lrplan.frameworks.torchtitan import simulator

    return [f"TorchTitan warns: {w}" for w in simulator.clamp_warnings(config)]


def import_config(config: dict, notes: Optional[list[str]] = None, budget: Optional[dict] = None,
                  name: Optional[str] = None, seq_len: Optional[int] = None, *, label: str = "torchtitan") -> Imported:
    """The lrplan spec of a TorchTitan config dict (the simulator's form)."""
    from lrplan.frameworks.torchtitan import simulator

    return import_native(label, config, simulator, family, notes, budget, name, warn=_warn,
                         negative_hint=" because training.steps > total_steps and TorchTitan does not clamp the decay progress")


def import_torchtitan(source: Union[str, Path]) -> Imported:
    """The lrplan spec of a TorchTitan TOML file; what TorchTitan would refuse names the file."""
    source = config_path(source, "torchtitan", "TOML")
    cfg, notes = load_torchtitan(source)
    try:
        return import_config(cfg, notes, name=f"imported from {Path(source).name}")
    except LrplanError as e:
        raise in_file(source, e) from None


def from_cli(args: list[str]) -> Imported:
    """``lrplan import torchtitan FILE.toml``."""
    args = argv(args, "torchtitan")
    if len(args) != 1:
        raise LrplanError("give one torchtitan TOML file, e.g. lrplan import torchtitan config.toml")
    return import_torchtitan(args[0])
