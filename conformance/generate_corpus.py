#!/usr/bin/env python3
"""Record what TorchTitan and the HF Trainer really do with the real configs of ``tests/data/real_configs/`` (issue 18).

TorchTitan: its scheduler changed formula and config format several times (2024 to 2026), so every config is run with
the scheduler code of the commit it comes from (its ``# source: REPO@COMMIT:PATH`` header), read from a git clone of
pytorch/torchtitan: the LR scheduler file of that commit (``torchtitan/lr_scheduling.py``,
``torchtitan/components/optimizer.py``, ``torchtitan/components/lr_scheduler.py`` or
``torchtitan/components/optimizer/lr_scheduler.py``) is executed with stand-ins for its ``torchtitan`` imports, its
scheduler built on a one-parameter SGD optimizer and stepped in TorchTitan's loop order (read the LR,
``optimizer.step()``, ``scheduler.step()``). The config is what that commit's config code reads: the TOML's values over
the defaults declared in that commit's ``config_manager.py`` / ``config/job_config.py`` (argparse ``default=`` or
dataclass field defaults, read with ``ast``); a Python config registry (``config_registry.py``) is executed with
recording stand-ins for everything it imports except the scheduler's own ``LRSchedulersContainer.Config``. A matrix of
synthetic configs runs on the scheduler of each era's first commit as well (``eras``), so each formula of
:mod:`lrplan.frameworks.torchtitan.legacy` is checked beyond the corpus.

HF: for every HF corpus recipe and a few dataset sizes and world sizes, the ``max_steps`` the real
``transformers.Trainer.set_initial_training_values`` computes from ``num_train_epochs``, with the train dataloader as
``accelerate.data_loader.prepare_data_loader`` shards it for process 0 of ``world_size``.

Run in a venv with torch, transformers and accelerate (the project's dev venv has them)::

    python conformance/generate_corpus.py --torchtitan-git /path/to/torchtitan/.git

Writes ``tests/data/conformance/corpus/torchtitan.json`` and ``tests/data/conformance/corpus/hf.json``
(``tests/frameworks/test_corpus_torchtitan_hf.py`` reads them; lrplan is not imported for them).

Megatron (``generate_corpus.py megatron``, needs megatron-core 0.16.1 and lrplan): every Megatron corpus entry lrplan
imports, with the config dict lrplan parses from its argv, stepped through megatron-core's real
``OptimizerParamScheduler`` over the whole run; writes ``tests/data/conformance/corpus/megatron.json``
(``tests/frameworks/test_megatron_corpus_fixtures.py``; see :func:`megatron`).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import importlib.metadata as md
import io
import json
import logging
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "real_configs"
OUT = REPO / "tests" / "data" / "conformance" / "corpus"

SCHEDULER_FILES = ("torchtitan/components/optimizer/lr_scheduler.py", "torchtitan/components/lr_scheduler.py",
                   "torchtitan/components/optimizer.py", "torchtitan/lr_scheduling.py")
CONFIG_FILES = ("torchtitan/config/job_config.py", "torchtitan/config_manager.py")
# the first commit of each scheduler formula (lrplan.frameworks.torchtitan.legacy), and two releases
ERA_COMMITS = {"2024": "df2dcc746a1af002cafebeed77f3de32024477a6", "2025-03-10": "0da8901b1918fc21b5d43bbc693a120fc4281378",
               "2025-03-14": "7e614f136f1174c889d53e7cc0cfc6ea6690d556", "2025-03-26": "2404197326669db64bc80f515d7bc9f69863f466",
               "0.1": "f7084fc78567f865d0c411f2c7b9bbbef6b155ac", "0.2": "29624e37fa6dd319fd671b009338651b5c665da2"}


def git_show(gitdir: str, commit: str, path: str) -> str | None:
    r = subprocess.run(["git", "--git-dir", gitdir, "show", f"{commit}:{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def header(path: Path) -> tuple[str, str]:
    line = path.read_text().splitlines()[0]
    assert line.startswith("# source: "), path
    rest = line[len("# source: "):]
    repo_commit, _, src = rest.partition(":")
    return repo_commit.partition("@")[2], src


# ----------------------------------------------------------------------------------------- TorchTitan: the code


class _Stub(types.ModuleType):
    """A stand-in module: any attribute is a fresh class (annotations, base classes, unused helpers)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        cls = type(name, (), {})
        setattr(self, name, cls)
        return cls


class _Configurable:
    @dataclasses.dataclass(kw_only=True, slots=True)
    class Config:
        pass


@contextlib.contextmanager
def _stand_ins(names: list[str]):
    mods = {}
    for n in names:
        parts = n.split(".")
        for i in range(1, len(parts) + 1):
            key = ".".join(parts[:i])
            mods.setdefault(key, _Stub(key))
            mods[key].__path__ = []  # type: ignore[attr-defined]
    for m in mods.values():
        m.Configurable = _Configurable  # type: ignore[attr-defined]
        m.logger = logging.getLogger("torchtitan.standin")  # type: ignore[attr-defined]
    saved = {k: sys.modules.get(k) for k in mods}
    sys.modules.update(mods)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def scheduler_module(gitdir: str, commit: str) -> tuple[types.ModuleType, str]:
    """The LR scheduler file of ``commit``, executed with stand-ins for its torchtitan imports."""
    for path in SCHEDULER_FILES:
        text = git_show(gitdir, commit, path)
        if text is None:
            continue
        tree = ast.parse(text)
        if path.endswith("optimizer.py"):  # 2025-03: the scheduler shares the file with the optimizers; keep its part
            keep = {"LRSchedulersContainer", "build_lr_schedulers"}
            tree.body = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                         or getattr(n, "name", None) in keep]
        ext = []
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom) and (n.level or (n.module or "").startswith("torchtitan")):
                ext.append("torchtitan.components.optimizer" if n.level else n.module)
                if n.level:
                    n.module, n.level = "torchtitan.components.optimizer." + (n.module or ""), 0
                    n.module = n.module.rstrip(".")
        ext += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("torchtitan")]
        mod = types.ModuleType(f"titan_scheduler_{commit[:7]}")
        sys.modules[mod.__name__] = mod  # dataclasses look their module up
        with _stand_ins(sorted(set(ext))):
            exec(compile(ast.fix_missing_locations(tree), f"{commit[:7]}:{path}", "exec"), mod.__dict__)
        return mod, path
    raise FileNotFoundError(f"no LR scheduler file at {commit}")


def config_defaults(gitdir: str, commit: str) -> dict[str, dict[str, Any]]:
    """``{section: {field: default}}`` of lr_scheduler / training / optimizer as ``commit``'s config code declares them."""
    out: dict[str, dict[str, Any]] = {"lr_scheduler": {}, "training": {}, "optimizer": {}}
    classes = {"LRScheduler": "lr_scheduler", "Training": "training", "Optimizer": "optimizer"}
    for path in CONFIG_FILES:
        text = git_show(gitdir, commit, path)
        if text is None:
            continue
        tree = ast.parse(text)
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "add_argument" and n.args:
                flag = n.args[0]
                if isinstance(flag, ast.Constant) and isinstance(flag.value, str) and flag.value.startswith("--"):
                    sec, _, key = flag.value[2:].partition(".")
                    if sec in out:
                        kw = {k.arg: k.value for k in n.keywords}
                        out[sec][key] = ast.literal_eval(kw["default"]) if "default" in kw else None
            if isinstance(n, ast.ClassDef) and n.name in classes:
                for st in n.body:
                    if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name) and st.value is not None:
                        try:
                            out[classes[n.name]][st.target.id] = ast.literal_eval(st.value)
                        except ValueError:
                            pass
        if any(out.values()):
            return out
    raise FileNotFoundError(f"no config code at {commit}")


def _loop(opt: torch.optim.Optimizer, sched: Any, n: int) -> list[float]:
    lrs = []
    for _ in range(n):
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    return lrs


def _opt(lr: float) -> torch.optim.Optimizer:
    p = torch.nn.Parameter(torch.zeros(1))
    p.grad = torch.zeros(1)
    return torch.optim.SGD([p], lr=lr)


def run_titan(mod: types.ModuleType, sections: dict[str, dict[str, Any]]) -> list[float]:
    """LRs of updates 1..steps with the scheduler of ``mod`` and the config ``sections`` (every field given)."""
    ns = {k: types.SimpleNamespace(**v) for k, v in sections.items()}
    job = types.SimpleNamespace(**ns)
    steps = int(sections["training"]["steps"])
    opt = _opt(sections["optimizer"]["lr"])
    if hasattr(mod, "get_lr_scheduler"):  # 2024
        return _loop(opt, mod.get_lr_scheduler(opt, job), steps)
    if hasattr(mod, "build_lr_schedulers"):
        import inspect

        params = list(inspect.signature(mod.build_lr_schedulers).parameters)
        if params[1] == "job_config":
            scheds = mod.build_lr_schedulers([opt], job)
        else:  # 0.2.x: (optimizers, lr_scheduler_config, training_steps)
            scheds = mod.build_lr_schedulers([opt], ns["lr_scheduler"], steps)
        return _loop(opt, scheds, steps)
    conf = mod.LRSchedulersContainer.Config(**sections["lr_scheduler"])
    return _loop(opt, conf.build(optimizers=[opt], training_steps=steps), steps)


# ----------------------------------------------------------------------------------------- TorchTitan: the configs


def toml_sections(text: str) -> dict[str, dict[str, Any]]:
    import tomllib

    data = tomllib.loads(text)
    return {k: dict(v) for k, v in data.items() if isinstance(v, dict)}


def with_defaults(given: dict[str, dict[str, Any]], defaults: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The config code's merge: the file's values over the defaults (unknown keys are kept; the scheduler never
    reads them)."""
    return {sec: {**defaults.get(sec, {}), **(given.get(sec) or {})} for sec in ("lr_scheduler", "training", "optimizer")}


class _Rec:
    """A recording stand-in: calling it, or any attribute of it, records the keyword arguments."""

    def __init__(self, name: str, kwargs: dict | None = None):
        self._name, self._kw = name, kwargs or {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._kw:
            return self._kw[name]
        return _Rec(f"{self._name}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> "_Rec":
        return _Rec(self._name, kwargs)

    def __getitem__(self, key: Any) -> "_Rec":
        return _Rec(f"{self._name}[{key!r}]")


def registry_configs(gitdir: str, commit: str, text: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Execute a trimmed ``config_registry.py`` with recording stand-ins; ``{function: sections}``, with the real
    ``LRSchedulersContainer.Config`` defaults and the ``TrainingConfig`` / optimizer defaults of ``commit``."""
    tree = ast.parse(text)
    ns: dict[str, Any] = {}
    for n in tree.body:
        if isinstance(n, ast.ImportFrom):
            for a in n.names:
                ns[a.asname or a.name] = _Rec(a.asname or a.name)
    funcs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    exec(compile(ast.fix_missing_locations(ast.Module(body=body, type_ignores=[])), "registry", "exec"), ns)
    mod, _ = scheduler_module(gitdir, commit)
    cfg_text = git_show(gitdir, commit, "torchtitan/config/configs.py") or ""
    steps_default = 10000
    for n in ast.walk(ast.parse(cfg_text)):
        if isinstance(n, ast.ClassDef) and n.name == "TrainingConfig":
            for st in n.body:
                if isinstance(st, ast.AnnAssign) and getattr(st.target, "id", "") == "steps":
                    steps_default = ast.literal_eval(st.value)
    out = {}
    for f in funcs:
        rec = ns[f]()
        kw = rec._kw
        sched = kw.get("lr_scheduler")
        sched_kw = dict(sched._kw) if isinstance(sched, _Rec) else {}
        full = dataclasses.asdict(mod.LRSchedulersContainer.Config(**sched_kw))
        opt = kw.get("optimizer")
        okw = opt._kw if isinstance(opt, _Rec) else {}
        if "lr" in okw:
            lr = okw["lr"]
        elif "param_groups" in okw:
            lr = okw["param_groups"][0]._kw["optimizer_kwargs"]["lr"]
        else:
            lr = 8e-4  # default_adamw(lr: float = 8e-4) / OptimizersContainer.Config.lr
        tr = kw.get("training")
        steps = tr._kw.get("steps", steps_default) if isinstance(tr, _Rec) else steps_default
        out[f] = {"lr_scheduler": full, "training": {"steps": steps}, "optimizer": {"lr": lr}}
    return out


def era_matrix() -> list[tuple[str, dict[str, dict[str, Any]], float]]:
    """Synthetic configs: odd and even lengths, warmups from 0 to past the run, every decay_type, with and without
    decay_ratio (0 and 1 included), floors 0 / 0.1 / 0.01, LRs 3e-4 / 8e-4 / 1.0."""
    out = []
    i = 0
    for T in (1, 2, 7, 10, 97, 200):
        for v in range(9):
            i += 1
            W = [0, 1, 2, max(1, T // 5), T - 1, T, T + 3, 5, 200][(i + v) % 9]
            r = [None, 0.8, 0.2, 0.0, 1.0, 0.35, None, 0.5, 0.125, 0.3][(i + 2 * v) % 10]
            kind = ["linear", "sqrt", "cosine"][(i + v) % 3]
            m = [0.0, 0.1, 0.0, 0.01][(i + v) % 4]
            lr = [3e-4, 8e-4, 1.0][(i + v) % 3]
            sched = {"warmup_steps": max(W, 0), "decay_type": kind}
            if r is not None:
                sched["decay_ratio"] = r
            out.append((f"T{T}-v{v}", {"lr_scheduler": sched, "training": {"steps": T}, "optimizer": {"lr": lr}}, m))
    return out


def torchtitan(gitdir: str) -> dict[str, Any]:
    logging.getLogger("torchtitan.standin").setLevel(logging.ERROR)
    cases, refused = [], []
    for path in sorted((CORPUS / "torchtitan").iterdir()):
        commit, _ = header(path)
        mod, sched_path = scheduler_module(gitdir, commit)
        text = path.read_text()
        if path.suffix == ".py":
            configs = registry_configs(gitdir, commit, text)
        else:
            defaults = config_defaults(gitdir, commit)
            configs = {"": with_defaults(toml_sections(text), defaults)}
        for fn, sections in configs.items():
            case_id = path.stem + (f"--config={fn}" if fn else "")
            try:
                lrs = run_titan(mod, sections)
            except Exception as e:  # noqa: BLE001 - recorded
                refused.append({"id": case_id, "commit": commit, "error": f"{type(e).__name__}: {e}"})
                continue
            cases.append({"id": case_id, "file": f"torchtitan/{path.name}", "config": fn or None, "commit": commit,
                          "scheduler_file": sched_path, "sections": sections, "n_updates": len(lrs), "lr": lrs})
    eras = []
    for era, commit in ERA_COMMITS.items():
        mod, sched_path = scheduler_module(gitdir, commit)
        defaults = config_defaults(gitdir, commit)
        floor = "min_lr_factor" if "min_lr_factor" in defaults["lr_scheduler"] else "lr_min"
        for cid, given, m in era_matrix():
            if era == "2024":  # [training] warmup_steps, no [lr_scheduler]
                given = {"training": {**given["training"], "warmup_steps": given["lr_scheduler"]["warmup_steps"]},
                         "optimizer": given["optimizer"]}
            else:
                given["lr_scheduler"][floor] = m
            sections = with_defaults(given, defaults)
            try:
                lrs = run_titan(mod, sections)
            except Exception as e:  # noqa: BLE001 - the era's own failure, recorded
                eras.append({"era": era, "commit": commit, "id": cid, "given": given, "error": f"{type(e).__name__}: {e}"})
                continue
            eras.append({"era": era, "commit": commit, "id": cid, "given": given, "n_updates": len(lrs), "lr": lrs})
    return {"framework": "torchtitan", "generated_by": "conformance/generate_corpus.py",
            "versions": {"torch": md.version("torch"), "python": sys.version.split()[0]},
            "cases": cases, "refused": refused, "eras": eras}


# ----------------------------------------------------------------------------------------- HF


HF_ROWS = (1, 999, 1000, 1001, 12345, 207865)
HF_WORLD = (1, 3, 8)


def hf() -> dict[str, Any]:
    import yaml
    from accelerate.data_loader import prepare_data_loader
    from torch.utils.data import DataLoader, RandomSampler
    from transformers import Trainer, TrainingArguments

    logging.getLogger("transformers").setLevel(logging.ERROR)
    model = torch.nn.Linear(1, 1)
    keys = ("per_device_train_batch_size", "gradient_accumulation_steps", "num_train_epochs", "max_steps", "dataloader_drop_last")
    cases = []
    inputs = []
    for path in sorted((CORPUS / "hf").iterdir()):
        data = yaml.safe_load(path.read_text())
        given = {k: data[k] for k in keys if k in data}
        for k in ("num_train_epochs",):
            if isinstance(given.get(k), str):
                given[k] = float(given[k])
        inputs.append((f"hf/{path.name}", given))
    for i, (b, ga, ep, drop) in enumerate([(3, 4, 2.5, True), (3, 4, 2.5, False), (7, 3, 0.3, True), (16, 5, 1, True)]):
        inputs.append((f"synthetic-{i}", {"per_device_train_batch_size": b, "gradient_accumulation_steps": ga,
                                          "num_train_epochs": ep, "dataloader_drop_last": drop, "max_steps": -1}))
    refused = []
    for file, given in inputs:
        for rows in HF_ROWS:
            for world in HF_WORLD:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    args = TrainingArguments(output_dir="/tmp/lrplan-corpus-hf", report_to=[], use_cpu=True, **given)
                    trainer = Trainer(model=model, args=args)
                    ds = list(range(rows))
                    dl = DataLoader(ds, batch_size=args.per_device_train_batch_size, sampler=RandomSampler(ds),
                                    drop_last=args.dataloader_drop_last)
                    dl = prepare_data_loader(dl, device=torch.device("cpu"), num_processes=world, process_index=0,
                                             put_on_device=False)
                    try:
                        out = trainer.set_initial_training_values(args, dl)
                    except ValueError as e:  # an empty dataloader in an epoch-based run
                        refused.append({"file": file, "given": given, "dataset_rows": rows, "world_size": world,
                                        "error": f"ValueError: {e}"})
                        continue
                max_steps = out[-1] if isinstance(out, tuple) else out
                cases.append({"file": file, "given": given, "dataset_rows": rows, "world_size": world,
                              "len_dataloader": len(dl), "max_steps": int(max_steps)})
    return {"framework": "hf", "generated_by": "conformance/generate_corpus.py",
            "function": "transformers.Trainer.set_initial_training_values",
            "versions": {"transformers": md.version("transformers"), "accelerate": md.version("accelerate"),
                         "torch": md.version("torch"), "python": sys.version.split()[0]},
            "cases": cases, "refused": refused}

# ----------------------------------------------------------------------------------------- Megatron


MEGATRON_EDGE = 64  # every update of the first and last MEGATRON_EDGE
MEGATRON_GRID = 4096  # plus this many evenly spaced updates
MEGATRON_AROUND = 2  # and +-this around every phase boundary of lrplan's imported spec
MEGATRON_MAX_UPDATES = 20_000_000  # longer runs are listed in not_recorded (none of the corpus is)


def _megatron_run(cfg: dict[str, Any]) -> tuple[int, Any]:
    """The LR of every update, ``conformance/generate.record_megatron``'s loop (the real ``OptimizerParamScheduler``
    and ``num_microbatches_calculator``, Megatron-LM's training-loop order) minus ``optimizer.step()``: SGD on the dummy
    parameter neither reads nor writes ``param_groups[0]["lr"]`` and costs 60x the rest, which makes a 15M-update run
    take ~10 s instead of ~11 min. Index ``k`` is update ``k + 1``."""
    from array import array

    import generate as g  # conformance/generate.py
    from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler

    a = {**g.MEGATRON_DEFAULTS, **cfg}
    g._megatron_check_args(a)
    kwargs = g._megatron_scheduler_kwargs(a)
    calc = g._megatron_calculator(a)
    n_iters = g._megatron_train_iters(a, calc)
    if n_iters > MEGATRON_MAX_UPDATES:
        raise OverflowError(f"{n_iters} updates, more than the {MEGATRON_MAX_UPDATES} this recorder steps")
    opt = g._dummy_optimizer(a["lr"])
    sched = OptimizerParamScheduler(opt, **kwargs)
    group = opt.param_groups[0]
    out = array("d")
    consumed = 0
    for _ in range(n_iters):
        calc.update(consumed, consistency_check=True)
        out.append(float(group["lr"]))
        increment = calc.get() * 1 * 1  # num_microbatches * micro_batch_size * data_parallel_size
        sched.step(increment=increment)
        consumed += increment
    return n_iters, out


def _megatron_steps(n: int, bounds: list[int]) -> list[int]:
    """The recorded updates (0-based: step k is update k + 1): the first and last MEGATRON_EDGE, +-MEGATRON_AROUND
    around every phase boundary, MEGATRON_GRID evenly spaced (``round(i * (n - 1) / (GRID - 1))``, exact integers)."""
    s = set(range(min(n, MEGATRON_EDGE))) | set(range(max(0, n - MEGATRON_EDGE), n))
    for b in bounds:
        s |= {k for k in range(b - MEGATRON_AROUND, b + MEGATRON_AROUND + 1) if 0 <= k < n}
    if n > 1:
        s |= {(2 * i * (n - 1) + MEGATRON_GRID - 1) // (2 * (MEGATRON_GRID - 1)) for i in range(MEGATRON_GRID)}
    return sorted(s)


def megatron() -> dict[str, Any]:
    """Every Megatron corpus entry lrplan imports, stepped through megatron-core's real scheduler over the whole run;
    LRs kept at :func:`_megatron_steps`. Unlike the other parts this one imports lrplan (the config dict it parses
    from the argv, the phase boundaries of its spec) and ``tests/frameworks/test_megatron_corpus.py`` (the argv)."""
    import time

    sys.path[:0] = [str(REPO / "conformance"), str(REPO)]
    import generate as g

    from lrplan import load_spec
    from lrplan.errors import LrplanError
    from lrplan.frameworks.megatron.importer import import_megatron
    from tests.frameworks.test_megatron_corpus import ENTRIES, corpus_argv

    known = set(g.MEGATRON_DEFAULTS) | {"seq_length"}  # seq_length: tokens per sample, not a scheduler input
    cases, not_recorded = [], []
    for e in ENTRIES:
        try:
            imp = import_megatron(corpus_argv(CORPUS / e["file"]))
        except LrplanError as err:
            not_recorded.append({"id": e["id"], "file": e["file"], "reason": f"lrplan refuses it: {err}"})
            continue
        cfg = dict(imp.config)
        extra = sorted(set(cfg) - known)
        if extra:
            why = ("megatron-core 0.16.1 has no --step-batch-size-schedule (Megatron-LM main only; 0.16.1 has only "
                   "--rampup-batch-size)") if extra == ["step_batch_size_schedule"] else \
                f"not a megatron-core 0.16.1 scheduler input: {', '.join(extra)}"
            not_recorded.append({"id": e["id"], "file": e["file"], "config": cfg, "reason": why})
            continue
        plan = load_spec(imp.yaml).schedule_plan()
        bounds = sorted({b for ph in plan.phases for b in (ph.start, ph.end)})
        t0 = time.perf_counter()
        try:
            with g._quiet():
                n, lrs = _megatron_run(cfg)
        except Exception as err:  # noqa: BLE001 - recorded
            not_recorded.append({"id": e["id"], "file": e["file"], "config": cfg, "reason": f"{type(err).__name__}: {err}"})
            continue
        print(f"  megatron {e['id']}: {n} updates, {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        steps = _megatron_steps(n, bounds)
        cases.append({"id": e["id"], "file": e["file"], "config": cfg, "n_updates": n, "phase_bounds": bounds,
                      "lr_min": min(lrs), "lr_max": max(lrs), "steps": steps, "lr": [lrs[k] for k in steps]})
    return {"framework": "megatron", "generated_by": "conformance/generate_corpus.py",
            "scheduler": "megatron.core.optimizer_param_scheduler.OptimizerParamScheduler",
            "steps": "0-based: step k is update k + 1 (generate.record_megatron's lr[k])",
            "versions": {"megatron-core": md.version("megatron-core"), "torch": md.version("torch"),
                         "python": sys.version.split()[0]},
            "cases": cases, "not_recorded": not_recorded}


def dump(doc: dict[str, Any], path: Path) -> None:
    """JSON with one record per line (as ``conformance/generate.py`` writes); floats keep full ``repr`` precision."""
    lists = [k for k, v in doc.items() if isinstance(v, list)]
    head = {k: v for k, v in doc.items() if k not in lists}
    parts = [json.dumps(head)[:-1]]
    for key in lists:
        rows = ",\n".join(json.dumps(c, separators=(",", ":")) for c in doc[key])
        parts.append(f', "{key}": [\n{rows}\n]')
    path.write_text("".join(parts) + "}\n")
    json.loads(path.read_text())  # round-trip check


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", nargs="*", help="torchtitan, hf and/or megatron (default: all three)")
    ap.add_argument("--torchtitan-git", default="/work/.mirror/pytorch+torchtitan/repo",
                    help="a git directory of pytorch/torchtitan with the corpus commits")
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    bad = set(a.what) - {"torchtitan", "hf", "megatron"}
    if bad:
        ap.error(f"unknown: {', '.join(sorted(bad))} (choose torchtitan, hf, megatron)")
    for what in a.what or ["torchtitan", "hf", "megatron"]:
        doc = torchtitan(a.torchtitan_git) if what == "torchtitan" else hf() if what == "hf" else megatron()
        dump(doc, out / f"{what}.json")
        n = len(doc["cases"]) + len(doc.get("eras", []))
        print(f"{what}: {n} records -> {out / (what + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
