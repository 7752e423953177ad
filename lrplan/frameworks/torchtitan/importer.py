"""Import a TorchTitan config as the lrplan spec of what TorchTitan runs (``lrplan import torchtitan FILE``).

Three inputs: a TOML file (TorchTitan <= 0.2.2), a Python config registry (``config_registry.py``, TorchTitan's
config system from 9810191, 2026-02-23: read with ``ast``, never run: :mod:`lrplan.frameworks.torchtitan.pyconfig`;
``--config NAME`` picks the function as TorchTitan's ``--config`` does) and the JSON config dump TorchTitan writes
(``debug.print_config``: "Running with configs: {...}", or ``debug.save_config_file``).

**Which TorchTitan.** The config format changed several times, and the scheduler's formula with it; the same TOML
runs different LRs on different checkouts. :data:`ERAS` lists them (pytorch/torchtitan, committer dates):

* ``2024`` (df2dcc7 .. 0da8901^): ``[training] warmup_steps``, ``(c+1)/(W+1)`` warmup, linear decay to 0;
* ``2025-03-10``, ``2025-03-14``, ``2025-03-26`` (0da8901, 7e614f1, 2404197): ``[lr_scheduler]`` with ``lr_min``,
  three variants of the ``(c+1)/(W+1)`` formula (:mod:`lrplan.frameworks.torchtitan.legacy`);
* ``0.1`` (e7c0cae, 2025-06-11, "Redefine lr_scheduler behavior", #1284; v0.1.0 = f7084fc): today's formula
  (:mod:`lrplan.frameworks.torchtitan.simulator`), the floor factor still named ``lr_min``;
* ``0.2`` (881f0ca, 2025-07-30): ``lr_min`` renamed ``min_lr_factor``; from eadca48 (2025-08-28) unknown TOML fields
  are errors; ``total_steps`` from 40b54e4 (2026-02-06);
* ``0.3`` (9810191, 2026-02-23): Python registries, TOML removed.

The fields a file uses date it (:func:`window`: ``[training] warmup_steps`` before 2025-03-10, ``lr_min`` before
2025-07-30, ``min_lr_factor`` after, ``[training] batch_size`` before 2025-06-05, ``[experimental]``
parallel degrees before 2025-03-18, ...). When every TorchTitan of that window runs the config alike, it imports
so; when they differ, the newest release of the window is read (an ``lr_min`` file, read as 0.1.0, says that older
checkouts differ), or, when the window has no release, the import is refused with one line asking for
``--framework-version`` (``0.1``, ``0.2``, ``0.3``, or the date of the TorchTitan checkout, ``YYYY-MM-DD``). Fields a
TorchTitan does not have are ignored by the ones before 0.2 (and said so in a note), refused from 0.2 on (eadca48,
2025-08-28, made unknown TOML fields errors; lrplan treats all of 0.2 so).

:func:`family` folds today's ``(c+1)/W`` warmup and "virtual last step" into a ``wsd`` spec (a warmup of ``W-1``
steps from ``lr/W``) and writes ``decay_ratio`` as a percentage of the budget; the older formulas have their own
(:mod:`lrplan.frameworks.torchtitan.legacy`). :mod:`lrplan.frameworks.importing` checks the spec against the
formula of the TorchTitan it was read as, update by update.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from lrplan.errors import LrplanError
from lrplan.frameworks.importing import Imported, argv, config_path, import_native, in_file, read_text
from lrplan.frameworks.torchtitan import TT_DECAY

__all__ = ["ERAS", "Era", "Source", "family", "from_cli", "import_config", "import_torchtitan", "load_torchtitan",
           "lr_min_trap", "read_source", "window"]


@dataclass(frozen=True)
class Era:
    """A stretch of TorchTitan's history with one config format and scheduler formula: from ``start`` (the committer
    date of ``commit``) to the next era's start."""

    name: str
    start: str  # YYYY-MM-DD ("" = the beginning)
    commit: str
    formula: str  # a key of lrplan.frameworks.torchtitan.legacy.FORMULAS, or "current"
    floor_field: Optional[str]  # the name of the floor factor (None: no floor)
    release: Optional[str] = None  # the release(s) of the era
    strict: bool = False  # unknown fields are errors (0.2 on: eadca48, 2025-08-28)


ERAS: tuple[Era, ...] = (
    Era("2024", "", "df2dcc7", "2024", None),
    Era("2025-03-10", "2025-03-10", "0da8901", "2025-03-10", "lr_min"),
    Era("2025-03-14", "2025-03-14", "7e614f1", "2025-03-14", "lr_min"),
    Era("2025-03-26", "2025-03-26", "2404197", "2025-03-26", "lr_min"),
    Era("0.1", "2025-06-11", "e7c0cae", "current", "lr_min", "0.1.0"),
    Era("0.2", "2025-07-30", "881f0ca", "current", "min_lr_factor", "0.2.x", strict=True),
    Era("0.3", "2026-02-23", "9810191", "current", "min_lr_factor", "0.3.0", strict=True),
)
"""TorchTitan's config formats and scheduler formulas, oldest first."""

_END = "9999-12-31"
_TOML_END = "2026-02-23"  # TOML configs removed (9810191)

# field -> (first date it exists, first date it no longer exists, how messages name it): committer dates of
# pytorch/torchtitan; the commits are in the module docstring
_SCHEDULE_SIGNS = {
    "training.warmup_steps": ("", "2025-03-10", "[training] warmup_steps"),  # moved to [lr_scheduler]: 0da8901
    "lr_scheduler": ("2025-03-10", _END, "[lr_scheduler]"),  # 0da8901
    "lr_scheduler.lr_min": ("", "2025-07-30", "lr_min"),  # renamed min_lr_factor: 881f0ca
    "lr_scheduler.min_lr_factor": ("2025-07-30", _END, "min_lr_factor"),
    "lr_scheduler.total_steps": ("2026-02-06", _END, "total_steps"),  # 40b54e4
}
_OTHER_SIGNS = {
    "training.batch_size": ("", "2025-06-05", "[training] batch_size"),  # local_batch_size from 8570415
    "training.local_batch_size": ("2025-06-05", _END, "[training] local_batch_size"),
    "experimental.pipeline_parallel_degree": ("", "2025-03-18", "[experimental] parallel degrees"),  # [parallelism]: 785c34c
    "experimental.context_parallel_degree": ("", "2025-03-18", "[experimental] parallel degrees"),
    "parallelism": ("2025-03-18", _END, "[parallelism]"),
}


@dataclass
class Source:
    """A TorchTitan config as read from its file: the sections that shape the schedule, how it was written
    (``toml``, ``python``, ``json``) and where each field is (``file:line`` for messages)."""

    path: str
    kind: str
    data: dict[str, Any]  # lr_scheduler / optimizer / training / experimental / parallelism, as written
    notes: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    config_name: Optional[str] = None  # the registry function (Python)

    def where(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line else self.path

    def has(self, key: str) -> bool:
        sec, _, k = key.partition(".")
        d = self.data.get(sec)
        return isinstance(d, dict) and (not k or k in d)


def family(cfg: dict) -> dict | None:
    """The TorchTitan config (>= e7c0cae: 0.1, 0.2, 0.3) as an lrplan ``wsd`` / ``constant`` schedule: update 1 runs
    at ``lr/W`` and the peak comes at update ``W`` (``(c+1)/W``), so the spec warms up over ``W-1`` steps from
    ``lr/W``. A ``decay_ratio`` is written as that percentage of the budget (``decay: 80%``: it follows the run's
    length as TorchTitan's does) when lrplan's rounding of it gives TorchTitan's decay steps; else in steps."""
    from lrplan.frameworks.torchtitan import simulator as torchtitan
    from lrplan.spec.units import round_half_up

    sched, steps, lr = torchtitan.sections(cfg)
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
    decay: Any = D
    r = sched.get("decay_ratio")
    if r is not None and 0 < r <= 1:
        pct = float(f"{r * 100:.12g}")
        if round_half_up(pct / 100.0 * steps) == D:
            decay = f"{pct:g}%" if f"{pct:g}" == f"{pct:.12g}" else f"{pct:.12g}%"
    return {"kind": "wsd", **sch, "min_lr_ratio": m, "decay": decay, "decay_shape": shape}


# ------------------------------------------------------------------------------------------------- reading


def _line_of(text: str, section: str, key: str) -> Optional[int]:
    """The line of ``key = ...`` in ``[section]`` of a TOML text (None when not found)."""
    cur = None
    for i, raw in enumerate(text.splitlines(), 1):
        ln = raw.strip()
        m = re.match(r"^\[\s*([A-Za-z0-9_.\-]+)\s*\]", ln)
        if m:
            cur = m.group(1)
            if not key and cur == section:
                return i
            continue
        if cur == section and key and re.match(rf"^{re.escape(key)}\s*=", ln):
            return i
    return None


def _read_toml(source: str, text: str) -> Source:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
        import tomli as tomllib  # type: ignore[no-redef]

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        where = f"{source}:{m.group(1)}" if m else source
        raise LrplanError(f"{where}: invalid TOML: {e}; lrplan reads TorchTitan TOML files, Python config registries "
                          "(config_registry.py) and JSON config dumps") from None
    src = Source(source, "toml", {})
    for table in ("lr_scheduler", "optimizer", "training", "experimental", "parallelism"):
        if table in data:
            if not isinstance(data[table], dict):
                raise LrplanError(f"{source}: {table} = {str(data[table])[:40]} must be a table ([{table}] with its keys)")
            src.data[table] = dict(data[table])
            line = _line_of(text, table, "")
            if line:
                src.lines[table] = line
            for k in data[table]:
                line = _line_of(text, table, k)
                if line:
                    src.lines[f"{table}.{k}"] = line
    return src


def _read_json(source: str, text: str) -> Source:
    """A JSON config dump: the whole file, or the object after "Running with configs:" in a TorchTitan log."""
    at = text.find("Running with configs:")
    start = text.find("{", at if at >= 0 else 0)
    try:
        data, _ = json.JSONDecoder().raw_decode(text[start:]) if start >= 0 else (None, 0)
    except json.JSONDecodeError as e:
        line = text[: start + e.pos].count("\n") + 1
        raise LrplanError(f"{source}:{line}: invalid JSON config dump: {e.msg}") from None
    if not isinstance(data, dict):
        raise LrplanError(f"{source}: not a TorchTitan config dump (a JSON object with lr_scheduler, optimizer, training)")
    src = Source(source, "json", {})
    for table in ("lr_scheduler", "optimizer", "training", "experimental", "parallelism"):
        v = data.get(table)
        if v is None:
            continue
        if not isinstance(v, dict):
            raise LrplanError(f"{source}: {table}: {str(v)[:40]} must be an object of its fields")
        src.data[table] = dict(v)
    opt = src.data.get("optimizer")
    if opt is not None and "lr" not in opt and isinstance(opt.get("param_groups"), list):  # TorchTitan 0.3: param groups
        groups = [g for g in opt["param_groups"] if isinstance(g, dict)]
        lrs = [(g.get("optimizer_kwargs") or {}).get("lr") for g in groups]
        if not groups or lrs[0] is None:
            raise LrplanError(f"{source}: optimizer.param_groups[0].optimizer_kwargs has no lr")
        src.data["optimizer"] = {"lr": lrs[0]}
        if len(set(map(repr, lrs))) > 1:
            src.notes.append(f"optimizer has {len(lrs)} param groups with LRs {', '.join(map(str, lrs))}: the spec is the "
                             "first group's; the others run the same schedule scaled to their LR")
    else:
        src.data["optimizer"] = {"lr": opt["lr"]} if opt and "lr" in opt else {}
    sched = src.data.get("lr_scheduler")
    if sched is not None:  # a dump lists every field; the ones at their default are written as the default
        for k in ("total_steps", "decay_ratio"):
            if k in sched and sched[k] is None:
                del sched[k]
    return src


def _read_python(source: str, text: str, name: Optional[str]) -> Source:
    from lrplan.frameworks.torchtitan import pyconfig

    cfg = pyconfig.read(text, source, name)
    src = Source(source, "python", {}, list(cfg.notes), dict(cfg.lines), cfg.name)
    for sec in ("lr_scheduler", "optimizer", "training"):
        if sec in cfg.set_sections or cfg.sections[sec]:
            src.data[sec] = dict(cfg.sections[sec])
    if "optimizer" not in src.data:
        src.notes.append(f"{cfg.name}() sets no optimizer: lr 8e-4 (OptimizersContainer.Config's default before param "
                         "groups) is assumed")
    return src


def read_source(source: Union[str, Path], config: Optional[str] = None) -> Source:
    """Read a TorchTitan config file: ``.py`` (or Python text) as a config registry, ``.json`` (or text that is a
    JSON object / a log with "Running with configs:") as a config dump, anything else as TOML."""
    source = config_path(source, "torchtitan", "TOML")
    text = read_text(source)
    suffix = Path(source).suffix.lower()
    head = text.lstrip()[:1]
    if suffix == ".py" or (suffix not in (".toml", ".json") and re.search(r"^\s*def \w+\(", text, re.M)):
        return _read_python(source, text, config)
    if config is not None:
        raise LrplanError(f"{source}: --config picks a function of a Python config registry (config_registry.py); "
                          "a TOML file or config dump is one config")
    if suffix == ".json" or head == "{" or "Running with configs:" in text:
        return _read_json(source, text)
    return _read_toml(source, text)


# ------------------------------------------------------------------------------------------------- eras


def window(src: Source) -> tuple[str, str, list[str]]:
    """``(first, end, why)``: the dates (``end`` exclusive) of the TorchTitan checkouts the file's fields belong
    to, and the fields that say so. Schedule fields decide; the others narrow the window when they agree with them."""
    lo, hi = "", _END
    if src.kind in ("toml",):
        hi = _TOML_END
    why: list[str] = []
    if src.kind == "python":
        lo = ERAS[-1].start
        why.append("a Python config registry")
    signs = dict(_SCHEDULE_SIGNS)
    if src.has("lr_scheduler"):
        signs.pop("training.warmup_steps")  # a stale [training] warmup_steps next to [lr_scheduler]: not a date
    for key, (a, b, what) in signs.items():
        if src.has(key):
            lo, hi = max(lo, a), min(hi, b)
            why.append(what)
    if lo >= hi:
        raise LrplanError(f"{src.path}: no TorchTitan has all of {', '.join(why)}; fix the file"
                          + ("" if src.kind == "python" else " (or give the TorchTitan it runs on with --framework-version "
                             "V|YYYY-MM-DD)"))
    for key, (a, b, what) in _OTHER_SIGNS.items():
        if src.has(key) and max(lo, a) < min(hi, b):
            if (max(lo, a), min(hi, b)) != (lo, hi):
                lo, hi = max(lo, a), min(hi, b)
                if what not in why:
                    why.append(what)
    return lo, hi, why


def _eras_in(lo: str, hi: str) -> list[Era]:
    out = []
    for i, era in enumerate(ERAS):
        end = ERAS[i + 1].start if i + 1 < len(ERAS) else _END
        if era.start < hi and lo < end:
            out.append(era)
    return out


def era_of(version: str) -> Era:
    """The era of ``--framework-version``: a release (``0.1``, ``v0.2.2``, ``0.3``) or a checkout date (``YYYY-MM-DD``;
    a date that is a boundary is read as a checkout made after that day's commit)."""
    v = str(version).strip().lower().lstrip("v")
    if re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", v):
        d = v if len(v) == 10 else v + "-31"
        return [e for e in ERAS if e.start <= d][-1]
    for era in ERAS:
        if era.release and (v == era.name or v.startswith(era.name + ".")):
            return era
    if v.startswith("0.0"):
        raise LrplanError(f"TorchTitan {version} names the development snapshots of 2024 to 2025-06, whose scheduler formula "
                          "changed 4 times; give the date of the checkout instead (--framework-version YYYY-MM-DD)")
    raise LrplanError(f"unknown TorchTitan version {version!r}; give 0.1, 0.2, 0.3 or the date of the TorchTitan checkout "
                      "(YYYY-MM-DD: before 2025-06-11 the scheduler formula was different)")


def _span(era: Era) -> str:
    """How messages name an era: ``TorchTitan 0.1.0``, ``TorchTitan of 2025-03-14 to 2025-03-26 (7e614f1)``."""
    i = ERAS.index(era)
    end = ERAS[i + 1].start if i + 1 < len(ERAS) else ""
    if era.release:
        return f"TorchTitan {era.release}"
    if not era.start:
        return f"TorchTitan before 0da8901 ({end})"
    return f"TorchTitan of {era.start} to {end} ({era.commit})"


def _native(src: Source, era: Era) -> tuple[dict, list[str]]:
    """The config as ``era``'s TorchTitan reads it (its simulator's dict form), and what it ignores."""
    notes: list[str] = []
    opt = src.data.get("optimizer") or {}
    tr = src.data.get("training") or {}
    sched_in = dict(src.data.get("lr_scheduler") or {})
    cfg: dict[str, Any] = {}
    if "lr" in opt:
        cfg["optimizer"] = {"lr": opt["lr"]}
    training: dict[str, Any] = {}
    if "steps" in tr:
        training["steps"] = tr["steps"]
    if era.formula == "2024":
        if "warmup_steps" in tr:
            training["warmup_steps"] = tr["warmup_steps"]
        if sched_in:
            notes.append(f"{src.where('lr_scheduler')}: [lr_scheduler] is not read by {_span(era)} (its warmup_steps is "
                         "[training] warmup_steps); ignored")
        if training:
            cfg["training"] = training
        return cfg, notes
    if "warmup_steps" in tr and src.kind != "python":
        notes.append(f"{src.where('training.warmup_steps')}: [training] warmup_steps = {tr['warmup_steps']!r} is not read by "
                     "TorchTitan since 0da8901 (2025-03-10; from 2025-08-28 it refuses it): the warmup is [lr_scheduler] "
                     f"warmup_steps ({sched_in.get('warmup_steps', 200)!r}{'' if 'warmup_steps' in sched_in else ', the default'})")
    if training:
        cfg["training"] = training
    floor_in = era.floor_field
    sched: dict[str, Any] = {}
    known = {"warmup_steps", "decay_ratio", "decay_type"} | ({floor_in} if floor_in else set())
    if era.formula == "current" and era.floor_field == "min_lr_factor":
        known.add("total_steps")
    for k, v in sched_in.items():
        if k in known:
            sched["min_lr_factor" if k == "lr_min" and era.formula == "current" else k] = v
        elif era.strict:
            hint = ""
            if k == "lr_min":
                hint = (" (it was renamed min_lr_factor in 881f0ca, 2025-07-30): rename it"
                        + (", or import with --framework-version 0.1" if src.kind != "python" else ""))
            elif k == "min_lr_factor":
                hint = " (it is lr_min before 881f0ca, 2025-07-30)"
            raise LrplanError(f"{src.where('lr_scheduler.' + k)}: {_span(era)} refuses [lr_scheduler] {k}{hint or ' (not a field)'}")
        else:
            what = {"min_lr_factor": "lr_min in this TorchTitan", "lr_min": "min_lr_factor from 881f0ca (2025-07-30)",
                    "total_steps": "a field from 40b54e4, 2026-02-06"}.get(k, "not a field")
            notes.append(f"{src.where('lr_scheduler.' + k)}: [lr_scheduler] {k} is not read by {_span(era)} ({what}); "
                         "ignored, as that TorchTitan does")
    if sched or "lr_scheduler" in src.data:
        cfg["lr_scheduler"] = sched
    return cfg, notes


def _formula(era: Era) -> Any:
    from lrplan.frameworks.torchtitan import legacy, simulator

    return simulator if era.formula == "current" else legacy.FORMULAS[era.formula]


def _runs(cfg: dict, era: Era) -> Any:
    """What ``era``'s TorchTitan does with ``cfg``: its refusal (a string), or the config and its formula."""
    sim = _formula(era)
    try:
        problems = sim.validate(cfg)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError, KeyError, AttributeError) as e:
        return f"{type(e).__name__}: {e}"
    return "; ".join(problems) if problems else (sim, cfg)


COMPARE_MAX = 20_000_000  # longer runs under two formulas are taken to differ (not compared update by update)


def _same(a: Any, b: Any) -> bool:
    """Both refuse, or both run the same LR at every update (rtol 1e-12), compared in chunks."""
    import numpy as np

    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str)
    (sa, ca), (sb, cb) = a, b
    if sa is sb and ca == cb:
        return True
    n = sa.run_length(ca)
    if n != sb.run_length(cb) or n > COMPARE_MAX:
        return False
    for lo in range(0, n, 1 << 20):
        steps = np.arange(lo, min(n, lo + (1 << 20)), dtype=np.int64)
        if not np.allclose(sa.lr_at(ca, steps), sb.lr_at(cb, steps), rtol=1e-12, atol=0.0):
            return False
    return True


def resolve_era(src: Source, version: Optional[str] = None) -> tuple[Era, dict, list[str]]:
    """The TorchTitan ``src`` is read as (``version``, else the one its fields date it to), its native config and the
    notes that say so."""
    lo, hi, why = window(src)
    if version is not None:
        era = era_of(version)
        if src.kind == "python" and era.name != "0.3":
            raise LrplanError(f"{src.path}: a Python config registry is TorchTitan 0.3 (9810191, 2026-02-23 on), not {version}")
        cfg, notes = _native(src, era)
        return era, cfg, [f"read as {_span(era)} (--framework-version {version})"] + notes
    eras = _eras_in(lo, hi)
    runs = []
    for era in eras:
        try:
            cfg, notes = _native(src, era)
        except LrplanError as e:
            runs.append((era, None, [], str(e)))
            continue
        runs.append((era, cfg, notes, _runs(cfg, era)))
    ok = [r for r in runs if r[1] is not None]
    dated = bool(why) and (lo, hi) != ("2025-03-10", _TOML_END)
    if not ok:
        raise LrplanError(runs[-1][3])
    fields = f"its fields ({', '.join(why)}) date it to {_dates(lo, hi)}"
    last = ok[-1][3]
    if len(ok) == len(runs) and all(_same(r[3], last) for r in ok):
        era, cfg, notes, _ = ok[-1]
        commits = sorted({r[0].commit for r in ok})
        if dated and not era.release:
            if len(commits) > 1:
                head = (f"read as TorchTitan of {_dates(lo, hi)}: its fields ({', '.join(why)}) date it so, and the "
                        f"schedulers of that time ({', '.join(commits)}) run it alike")
            else:
                head = f"read as {_span(era)}: its fields ({', '.join(why)}) date it so"
            notes = [f"{head}; {FORMULA_NOTES[era.formula]}"] + notes
        return era, cfg, notes
    releases = [r for r in ok if r[0].release and (src.kind != "toml" or r[0].start < _TOML_END)]
    if releases:
        era, cfg, notes, _ = releases[-1]
        if era.floor_field == "lr_min":
            notes = [f"read as {_span(era)} (lr_min: before 881f0ca, 2025-07-30); a checkout from before e7c0cae "
                     "(2025-06-11) runs another formula: for one, add --framework-version YYYY-MM-DD (its date)"] + notes
        return era, cfg, notes
    spans = "; ".join(_span(r[0]) for r in runs)
    raise LrplanError(f"{src.path}: {fields}, when TorchTitan's scheduler formula changed ({spans}) and runs this config "
                      "differently; give the date of your TorchTitan checkout: --framework-version YYYY-MM-DD")


FORMULA_NOTES = {
    "2024": "warmup (c+1)/(W+1) over [training] warmup_steps, then linear to 0 over the other steps",
    "2025-03-10": "warmup (c+1)/(W+1), the decay from steps * (1 - decay_ratio)",
    "2025-03-14": "warmup (c+1)/(W+1), the decay over round(steps * decay_ratio) steps",
    "2025-03-26": "warmup (c+1)/(W+1), decay progress (c+1-W-S)/(D+1)",
}


def _dates(lo: str, hi: str) -> str:
    """The dates ``[lo, hi)`` in words (``2025-03-10 to 2025-03-17``)."""
    import datetime as dt

    last = (dt.date.fromisoformat(hi) - dt.timedelta(days=1)).isoformat() if hi < _END else ""
    if not lo:
        return f"before {hi}"
    if not last:
        return f"{lo} or later"
    return f"{lo} to {last}"


def _a_day_in(era: Era) -> str:
    """A date inside ``era``: its start (the day before the next era's for the first)."""
    import datetime as dt

    i = ERAS.index(era)
    if era.start:
        return era.start
    nxt = dt.date.fromisoformat(ERAS[i + 1].start) - dt.timedelta(days=1)
    return nxt.isoformat()


# ------------------------------------------------------------------------------------------------- notes


def lr_min_trap(src: Source) -> list[str]:
    """The ``lr_min`` trap: TorchTitan's ``lr_min`` (before 2025-07-30) is a FACTOR of ``[optimizer] lr`` despite its
    name. Rule: warn when ``0 < lr_min <= lr`` -- a factor no larger than the LR itself puts the floor at
    ``lr * lr_min <= lr**2``, far below anything a floor is for, while as an LR it would be an ordinary floor
    (``lr_min / lr`` of the peak). Factors people mean (0.1, 0.01) are larger than any real LR."""
    sched = src.data.get("lr_scheduler") or {}
    m = sched.get("lr_min")
    lr = (src.data.get("optimizer") or {}).get("lr", 8e-4)
    if isinstance(m, bool) or not isinstance(m, (int, float)) or isinstance(lr, bool) or not isinstance(lr, (int, float)):
        return []
    if not (0 < m <= lr):
        return []
    from lrplan.frameworks.common import pretty

    return [f"{src.where('lr_scheduler.lr_min')}: lr_min = {m:g} is a factor of lr in TorchTitan, not an LR: the floor it "
            f"sets is lr * lr_min = {lr * m:.3g}. If you meant a floor LR of {m:g} ({pretty(m / lr):g} of lr {lr:g}), write "
            f"lr_min = {pretty(m / lr):g} (min_lr_factor from 0.2)"]


def _budget(src: Source) -> dict:
    """Sequence length and global batch (sequences per optimizer step) when the config gives them."""
    tr = src.data.get("training") or {}
    out: dict[str, Any] = {}

    def pos_int(k: str) -> Optional[int]:
        v = tr.get(k)
        return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None

    seq = pos_int("max_context_length") or pos_int("seq_len")
    if seq:
        out["seq_len"] = seq
    gbs = pos_int("global_batch_size")
    tok = pos_int("num_tokens_per_train_step")
    if gbs:
        out["batch_size"] = gbs
    elif tok and seq and tok % seq == 0:
        out["batch_size"] = tok // seq
    return out


def _warn(config: dict) -> list[str]:
    from lrplan.frameworks.torchtitan import simulator

    return [f"TorchTitan warns: {w}" for w in simulator.clamp_warnings(config)]


def import_config(config: dict, notes: Optional[list[str]] = None, budget: Optional[dict] = None,
                  name: Optional[str] = None, seq_len: Optional[int] = None, *, label: str = "torchtitan") -> Imported:
    """The lrplan spec of a TorchTitan config dict (the simulator's form: TorchTitan >= e7c0cae, 0.1 to 0.3)."""
    from lrplan.frameworks.torchtitan import simulator

    return import_native(label, config, simulator, family, notes, budget, name, warn=_warn,
                         negative_hint=" because training.steps > total_steps and TorchTitan does not clamp the decay progress")


def _defaults(src: Source, era: Era) -> list[str]:
    notes = []
    tr, sched = src.data.get("training") or {}, src.data.get("lr_scheduler") or {}
    where = {"toml": "[{}] {}", "json": "{}.{}", "python": f"{src.config_name}() sets no {{}}.{{}};"}[src.kind]
    if "lr" not in (src.data.get("optimizer") or {}) and src.kind != "python":
        notes.append(f"{where.format('optimizer', 'lr')} is not set; TorchTitan's default 8e-4 is used")
    if "steps" not in tr:
        notes.append(f"{where.format('training', 'steps')} {'' if src.kind == 'python' else 'is not set; '}TorchTitan's default 10000 is used")
    if era.formula == "2024":
        if "warmup_steps" not in tr:
            notes.append(f"{where.format('training', 'warmup_steps')} is not set; TorchTitan's default 200 is used")
    elif "warmup_steps" not in sched:
        notes.append(f"{where.format('lr_scheduler', 'warmup_steps')} {'' if src.kind == 'python' else 'is not set; '}"
                     "TorchTitan's default 200 is used")
    return notes


def load_torchtitan(source: Union[str, Path], *, config: Optional[str] = None,
                    version: Optional[str] = None) -> tuple[dict, list[str]]:
    """The LR-relevant part of a TorchTitan config file as the TorchTitan it is read as (:func:`resolve_era`) reads
    it, and the notes of the reading."""
    src = read_source(source, config)
    era, cfg, notes = resolve_era(src, version)
    return cfg, src.notes + notes + _defaults(src, era)


def import_torchtitan(source: Union[str, Path], *, config: Optional[str] = None,
                      version: Optional[str] = None) -> Imported:
    """The lrplan spec of a TorchTitan TOML file, Python config registry (``config``: the function, as
    TorchTitan's ``--config``) or JSON config dump, read as the TorchTitan ``version`` (``0.1``/``0.2``/``0.3`` or a
    checkout date ``YYYY-MM-DD``; default: the one its fields date it to); what that TorchTitan would refuse
    names the file."""
    from lrplan.frameworks.torchtitan import legacy

    source = config_path(source, "torchtitan", "TOML")
    if config is not None and not isinstance(config, str):
        raise LrplanError(f"config names a registry function (a string), not {config!r:.40}")
    if version is not None and not isinstance(version, str):
        raise LrplanError(f"version is a string such as '0.2' or '2025-05-01', not {version!r:.40}")
    src = read_source(source, config)
    era, cfg, notes = resolve_era(src, version)
    notes = src.notes + notes + _defaults(src, era)
    budget = _budget(src)
    label = Path(source).name + (f" --config {src.config_name}" if src.config_name else "")
    name = f"imported from {label}"
    try:
        if era.formula == "current":
            from lrplan.frameworks.torchtitan import simulator

            return import_native("torchtitan", cfg, simulator, family, notes, budget or None, name, warn=_warn,
                                 warnings=lr_min_trap(src), negative_hint=" because training.steps > total_steps and "
                                 "TorchTitan does not clamp the decay progress")
        formula = legacy.FORMULAS[era.formula]
        return import_native("torchtitan", cfg, formula, formula.family, notes, budget or None, name,
                             warn=lambda c: [f"TorchTitan warns: {w}" for w in _safe_warnings(formula, c)],
                             warnings=lr_min_trap(src))
    except LrplanError as e:
        raise in_file(source, e) from None


def _safe_warnings(formula: Any, cfg: dict) -> list[str]:
    try:
        return list(formula.warnings(cfg)) if not formula.validate(cfg) else []
    except (TypeError, ValueError, KeyError):  # pragma: no cover - validate checked the types
        return []


def from_cli(args: list[str], *, config: Optional[str] = None, framework_version: Optional[str] = None) -> Imported:
    """``lrplan import torchtitan FILE [--config NAME] [--framework-version V|YYYY-MM-DD]``."""
    args = argv(args, "torchtitan")
    if len(args) != 1:
        raise LrplanError("give one torchtitan config file (TOML, config_registry.py or a JSON config dump), "
                          "e.g. lrplan import torchtitan config.toml")
    return import_torchtitan(args[0], config=config, version=framework_version)
