#!/usr/bin/env python3
"""Record the LRs that each training framework's OWN scheduler code produces.

Run inside a separate venv that has the frameworks installed (see ``conformance/README.md``)::

    /work/venv-conf/bin/python conformance/generate.py            # all frameworks
    /work/venv-conf/bin/python conformance/generate.py megatron hf  # a subset

For every config of a framework's matrix the real scheduler object is built on a dummy optimizer
(``torch.optim.SGD`` over one parameter) and driven in the framework's real training-loop order;
``optimizer.param_groups[0]["lr"]`` is read when the optimizer step of update s would read it.
Nothing here re-derives a formula: the only glue reproduced by hand is the part of a framework that
is not shipped in its wheel (Megatron's ``get_optimizer_param_scheduler`` and ``update_train_iters``
from ``megatron/training/training.py``, core_v0.16.1 lines 1128-1158 and 1354-1405) or that needs a
trainer object (the loop order of each framework, ``shared/notes/frameworks.md`` section 0).

Output: ``tests/data/conformance/<framework>.json``::

    {"framework": name, "versions": {pkg: version}, "generated_by": "conformance/generate.py",
     "cases": [{"id", "config", "n_updates", "lr": [lr of update 1, ..., update n]}],
     "refused": [{"id", "config", "error"}]}

``refused`` lists configs that the framework's own code rejected (exception type and message), so
the tests can check that ``lrplan.frameworks.<fw>.simulator.validate`` refuses them too.

:data:`RECORDERS` has one entry per framework of lrplan's registry (``lrplan/frameworks/__init__.py``), keyed by
its folder name, which is also the fixture's name (``tests/frameworks/test_registry.py`` checks they agree). This
script does not import lrplan: it runs in the frameworks' own venv.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.metadata as md
import importlib.util
import io
import json
import logging
import math
import os
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "tests" / "data" / "conformance"

Config = dict[str, Any]
Recorder = Callable[[Config], tuple[int, list[float]]]

LENGTHS = [1, 2, 7, 97, 500, 1000, 2000]  # odd and even run lengths (updates)
PEAKS = [3e-4, 1e-3, 6e-4, 1.0]


def _versions(*pkgs: str) -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for p in ("torch", *pkgs):
        out[p] = md.version(p)
    return out


def _dummy_optimizer(lr: float) -> torch.optim.Optimizer:
    """A one-parameter SGD optimizer: the schedulers only touch ``param_groups``."""
    p = torch.nn.Parameter(torch.zeros(1))
    p.grad = torch.zeros(1)
    return torch.optim.SGD([p], lr=lr)


def _torch_loop(opt: torch.optim.Optimizer, sched: Any, n: int) -> tuple[int, list[float]]:
    """The usual PyTorch training loop for ``n`` updates: read the LR, ``opt.step()``, ``sched.step()``."""
    out: list[float] = []
    for _ in range(n):
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    return n, out


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the frameworks' warnings/logging chatter while driving a scheduler."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prev = logging.root.manager.disable
        logging.disable(logging.CRITICAL)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        finally:
            logging.disable(prev)


# --------------------------------------------------------------------------------------------
# Megatron-Core 0.16.1
# --------------------------------------------------------------------------------------------

MEGATRON_DEFAULTS: Config = {
    # argparse dests and defaults of megatron/training/arguments.py (core_v0.16.1)
    "lr": None,
    "min_lr": 0.0,
    "lr_warmup_init": 0.0,
    "lr_warmup_iters": 0,
    "lr_warmup_samples": 0,
    "lr_warmup_fraction": None,
    "lr_decay_iters": None,
    "lr_decay_samples": None,
    "lr_decay_style": "linear",
    "lr_wsd_decay_style": "exponential",
    "lr_wsd_decay_iters": None,
    "lr_wsd_decay_samples": None,
    "train_iters": None,
    "train_samples": None,
    "global_batch_size": None,
    "rampup_batch_size": None,
}


def _megatron_calculator(a: Config) -> Any:
    """The real megatron.core.num_microbatches_calculator object (micro_batch_size=1, dp=1)."""
    from megatron.core.num_microbatches_calculator import (
        ConstantNumMicroBatchesCalculator,
        RampupBatchsizeNumMicroBatchesCalculator,
    )

    gbs = a["global_batch_size"]
    if a["rampup_batch_size"] is None:
        return ConstantNumMicroBatchesCalculator(gbs, 1, 1, False, 1)
    start, incr, samples = (int(x) for x in a["rampup_batch_size"])
    return RampupBatchsizeNumMicroBatchesCalculator(gbs, 1, 1, False, 1, start, incr, samples)


def _megatron_train_iters(a: Config, calc: Any) -> int:
    """``update_train_iters`` (training.py core_v0.16.1 1128-1158), driving the real calculator."""
    if a["train_iters"]:
        return int(a["train_iters"])
    if a["rampup_batch_size"] is None:
        return a["train_samples"] // a["global_batch_size"]
    iterations = 0
    consumed = 0
    while consumed <= int(a["rampup_batch_size"][2]) and consumed <= a["train_samples"]:
        calc.update(consumed, consistency_check=False)
        consumed += calc.get_current_global_batch_size()
        iterations += 1
    calc.update(0, consistency_check=False)
    if a["train_samples"] > consumed:
        iterations += (a["train_samples"] - consumed) // a["global_batch_size"]
    return iterations


def _megatron_check_args(a: Config) -> None:
    """The LR-related asserts of ``validate_args`` (arguments.py core_v0.16.1 755-783)."""
    if a["train_iters"]:
        assert a["train_samples"] is None, "expected iteration-based training"
        assert a["lr_decay_samples"] is None, "expected iteration-based learning rate decay"
        assert a["lr_warmup_samples"] == 0, "expected iteration-based learning rate warmup"
        assert a["rampup_batch_size"] is None, "expected no batch-size rampup for iteration-based training"
        if a["lr_warmup_fraction"] is not None:
            assert a["lr_warmup_iters"] == 0, "can only specify one of lr-warmup-fraction and lr-warmup-iters"
    if a["train_samples"]:
        assert a["train_iters"] is None, "expected sample-based training"
        assert a["lr_decay_iters"] is None, "expected sample-based learning rate decay"
        assert a["lr_warmup_iters"] == 0, "expected sample-based learnig rate warmup"
        if a["lr_warmup_fraction"] is not None:
            assert a["lr_warmup_samples"] == 0, "can only specify one of lr-warmup-fraction and lr-warmup-samples"


def _megatron_scheduler_kwargs(a: Config) -> Config:
    """``get_optimizer_param_scheduler`` (training.py core_v0.16.1 1354-1405), reproduced by hand
    because ``megatron.training`` is not part of the megatron-core wheel."""
    if a["train_iters"]:
        decay_iters = a["lr_decay_iters"] if a["lr_decay_iters"] is not None else a["train_iters"]
        lr_decay_steps = decay_iters * a["global_batch_size"]
        wd_incr_steps = a["train_iters"] * a["global_batch_size"]
        wsd_decay_steps = None
        if a["lr_wsd_decay_iters"] is not None:
            wsd_decay_steps = a["lr_wsd_decay_iters"] * a["global_batch_size"]
        if a["lr_warmup_fraction"] is not None:
            lr_warmup_steps = a["lr_warmup_fraction"] * lr_decay_steps
        else:
            lr_warmup_steps = a["lr_warmup_iters"] * a["global_batch_size"]
    elif a["train_samples"]:
        lr_decay_steps = a["lr_decay_samples"] if a["lr_decay_samples"] is not None else a["train_samples"]
        wd_incr_steps = a["train_samples"]
        wsd_decay_steps = a["lr_wsd_decay_samples"]
        if a["lr_warmup_fraction"] is not None:
            lr_warmup_steps = a["lr_warmup_fraction"] * lr_decay_steps
        else:
            lr_warmup_steps = a["lr_warmup_samples"]
    else:
        raise Exception("either train-iters or train-samples should be provided.")  # noqa: TRY002 (upstream)
    return {
        "init_lr": a["lr_warmup_init"],
        "max_lr": a["lr"],
        "min_lr": a["min_lr"],
        "lr_warmup_steps": lr_warmup_steps,
        "lr_decay_steps": lr_decay_steps,
        "lr_decay_style": a["lr_decay_style"],
        "start_wd": 0.01,  # --weight-decay default; --start/end-weight-decay default to it
        "end_wd": 0.01,
        "wd_incr_steps": wd_incr_steps,
        "wd_incr_style": "constant",
        "use_checkpoint_opt_param_scheduler": False,
        "override_opt_param_scheduler": False,
        "wsd_decay_steps": wsd_decay_steps,
        "lr_wsd_decay_style": a["lr_wsd_decay_style"],
    }


def record_megatron(cfg: Config) -> tuple[int, list[float]]:
    """Drive ``OptimizerParamScheduler`` as ``train()``/``train_step`` do (training.py core_v0.16.1
    2736 ``update_num_microbatches`` at the top of each iteration, 1729-1730 ``step(increment=
    num_microbatches*mbs*dp)`` after ``optimizer.step()``, 2869 ``consumed_train_samples +=``)."""
    from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler

    a = {**MEGATRON_DEFAULTS, **cfg}
    _megatron_check_args(a)
    kwargs = _megatron_scheduler_kwargs(a)
    calc = _megatron_calculator(a)
    n_iters = _megatron_train_iters(a, calc)
    opt = _dummy_optimizer(a["lr"])
    sched = OptimizerParamScheduler(opt, **kwargs)
    consumed = 0
    out: list[float] = []
    for _ in range(n_iters):
        calc.update(consumed, consistency_check=True)
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        increment = calc.get() * 1 * 1  # num_microbatches * micro_batch_size * data_parallel_size
        sched.step(increment=increment)
        consumed += increment
    return n_iters, out


def megatron_matrix() -> Iterator[tuple[str, Config]]:
    styles = [
        ("constant", "exponential"),
        ("linear", "exponential"),
        ("cosine", "exponential"),
        ("inverse-square-root", "exponential"),
        ("WSD", "exponential"),
        ("WSD", "linear"),
        ("WSD", "cosine"),
        ("WSD", "minus_sqrt"),
    ]
    gbss = [1, 256, 1536, 96, 7]
    i = 0
    # Iteration-based.
    for style, wsd in styles:
        for T in LENGTHS:
            for v in range(4):
                i += 1
                lr = PEAKS[(i + v) % len(PEAKS)]
                decay_kind = (i // 3 + v) % 3  # None | shorter than the run | T-1
                D = T if decay_kind == 0 or T < 3 else (int(T * 0.8) if decay_kind == 1 else T - 1)
                cfg: Config = {
                    "lr": lr,
                    "min_lr": 0.0 if (i + v) % 2 == 0 else lr * 0.1,
                    "lr_decay_style": style,
                    "lr_wsd_decay_style": wsd,
                    "train_iters": T,
                    "global_batch_size": gbss[(i + 2 * v) % len(gbss)],
                }
                if decay_kind != 0 and T >= 3:
                    cfg["lr_decay_iters"] = D
                wk = (i + v) % 6
                if wk == 5:
                    cfg["lr_warmup_fraction"] = [0.013, 0.1, 0.3][i % 3]
                else:
                    W = [0, 1, max(1, T // 20), int(D * 0.4), 2][wk]
                    if W >= D:
                        W = 0
                    cfg["lr_warmup_iters"] = W
                if v == 3 and i % 4 == 0:
                    cfg["lr_warmup_init"] = lr * 0.01
                if style == "WSD":
                    cfg["lr_wsd_decay_iters"] = [max(1, int(D * 0.2)), D, 1, D + 5, 0][(i + v) % 5]
                yield f"iter-{style}-{wsd}-T{T}-v{v}", cfg
    # Sample-based (constant batch).
    for style, wsd in styles:
        for v in range(8):
            i += 1
            gbs = [1, 32, 96, 7, 256, 3, 64, 1000][v]
            iters = LENGTHS[(i + v) % len(LENGTHS)]
            samples = iters * gbs + (gbs // 3)
            lr = PEAKS[(i + v) % len(PEAKS)]
            cfg = {
                "lr": lr,
                "min_lr": 0.0 if v % 2 == 0 else lr * 0.05,
                "lr_decay_style": style,
                "lr_wsd_decay_style": wsd,
                "train_samples": samples,
                "global_batch_size": gbs,
            }
            decay = samples
            if v % 3 == 1:
                decay = max(2, int(samples * 0.7) + 1)
                cfg["lr_decay_samples"] = decay
            if v % 4 == 3:
                cfg["lr_warmup_fraction"] = 0.05
            else:
                W = [0, 1, max(1, decay // 10)][v % 3] if decay > 1 else 0
                cfg["lr_warmup_samples"] = W if W < decay else 0
            if style == "WSD":
                cfg["lr_wsd_decay_samples"] = max(1, int(decay * [0.2, 0.5, 1.0][v % 3]))
            yield f"samples-{style}-{wsd}-v{v}", cfg
    # Sample-based with --rampup-batch-size START INCR SAMPLES.
    ramps = [
        (32, 32, 1000, 256),
        (16, 16, 5000, 512),
        (1, 1, 100, 8),
        (64, 64, 3000, 1024),
        (8, 24, 777, 200),
    ]
    for style, wsd in styles:
        for v, (start, incr, rs, gbs) in enumerate(ramps):
            i += 1
            iters_after = [50, 300, 3, 100, 900][v]
            samples = rs + iters_after * gbs + [0, 5, 17, 1, 0][v]
            lr = PEAKS[(i + v) % len(PEAKS)]
            cfg = {
                "lr": lr,
                "min_lr": 0.0 if v % 2 else lr * 0.1,
                "lr_decay_style": style,
                "lr_wsd_decay_style": wsd,
                "train_samples": samples,
                "global_batch_size": gbs,
                "rampup_batch_size": [start, incr, rs],
            }
            if v % 2 == 0:
                cfg["lr_warmup_samples"] = [rs // 2, 0, 3 * gbs][v // 2 % 3]
            else:
                cfg["lr_warmup_fraction"] = 0.02
            if v == 3:
                cfg["lr_decay_samples"] = int(samples * 0.9)
            if style == "WSD":
                cfg["lr_wsd_decay_samples"] = int(samples * 0.25)
            yield f"rampup-{style}-{wsd}-v{v}", cfg
    # The ramp-up outlasts the run (train_samples < ramp samples), as lrplan exports a short token budget.
    for style in ("cosine", "linear"):
        for samples, decay in ((2345, None), (2367, 2400)):
            cfg = {"lr": 3e-4, "min_lr": 0.0, "lr_decay_style": style, "train_samples": samples,
                   "global_batch_size": 256, "rampup_batch_size": [32, 32, 5000], "lr_warmup_samples": 200}
            if decay is not None:
                cfg["lr_decay_samples"] = decay
            yield f"rampup-outlasts-{style}-{samples}", cfg


def megatron_refusals() -> Iterator[tuple[str, Config]]:
    base = {"lr": 3e-4, "train_iters": 100, "global_batch_size": 8}
    yield "warmup-equals-decay", {**base, "lr_warmup_iters": 100}
    yield "warmup-exceeds-decay", {**base, "lr_warmup_iters": 60, "lr_decay_iters": 50}
    yield "warmup-fraction-one", {**base, "lr_warmup_fraction": 1.0}
    yield "warmup-iters-and-fraction", {**base, "lr_warmup_iters": 10, "lr_warmup_fraction": 0.1}
    yield "iters-with-decay-samples", {**base, "lr_decay_samples": 500}
    yield "iters-with-warmup-samples", {**base, "lr_warmup_samples": 50}
    yield "iters-with-rampup", {**base, "rampup_batch_size": [2, 2, 100]}
    yield "iters-and-samples", {**base, "train_samples": 800}
    yield "samples-with-decay-iters", {"lr": 3e-4, "train_samples": 800, "global_batch_size": 8, "lr_decay_iters": 50}
    yield "samples-with-warmup-iters", {"lr": 3e-4, "train_samples": 800, "global_batch_size": 8, "lr_warmup_iters": 5}
    yield (
        "samples-warmup-and-fraction",
        {"lr": 3e-4, "train_samples": 800, "global_batch_size": 8, "lr_warmup_samples": 5, "lr_warmup_fraction": 0.1},
    )
    yield "no-train-length", {"lr": 3e-4, "global_batch_size": 8}
    yield "min-lr-above-lr", {**base, "min_lr": 1e-3}
    yield "negative-min-lr", {**base, "min_lr": -1e-5}
    yield "warmup-init-above-lr", {**base, "lr_warmup_iters": 5, "lr_warmup_init": 1e-3}
    yield "wsd-without-decay-iters", {**base, "lr_decay_style": "WSD"}
    yield "unknown-style", {**base, "lr_decay_style": "polynomial"}
    yield "unknown-wsd-style", {**base, "lr_decay_style": "WSD", "lr_wsd_decay_style": "step", "lr_wsd_decay_iters": 20}
    yield "zero-decay", {**base, "lr_decay_iters": 0}
    ramp = {"lr": 3e-4, "train_samples": 5000, "lr_decay_style": "cosine"}
    yield "rampup-start-equals-gbs", {**ramp, "global_batch_size": 32, "rampup_batch_size": [32, 8, 1000]}
    yield "rampup-start-above-gbs", {**ramp, "global_batch_size": 32, "rampup_batch_size": [64, 8, 1000]}
    yield "rampup-increment-not-divisor", {**ramp, "global_batch_size": 32, "rampup_batch_size": [8, 5, 1000]}
    yield "rampup-zero-samples", {**ramp, "global_batch_size": 32, "rampup_batch_size": [8, 8, 0]}
    yield "rampup-zero-increment", {**ramp, "global_batch_size": 32, "rampup_batch_size": [8, 0, 1000]}


# --------------------------------------------------------------------------------------------
# TorchTitan 0.3.0 (single file executed with stand-ins for its imports)
# --------------------------------------------------------------------------------------------

_TITAN: types.ModuleType | None = None


def _torchtitan_module() -> types.ModuleType:
    """Execute ``torchtitan/components/optimizer/lr_scheduler.py`` from the installed wheel with
    tiny stand-ins for ``torchtitan.config.Configurable``, ``torchtitan.tools.logging.logger`` and
    ``.optimizer.OptimizersContainer`` (the package itself needs nightly torch to import)."""
    global _TITAN
    if _TITAN is not None:
        return _TITAN
    path = Path(str(md.distribution("torchtitan").locate_file("torchtitan/components/optimizer/lr_scheduler.py")))

    class Configurable:
        @dataclasses.dataclass(kw_only=True, slots=True)
        class Config:
            pass

    stand_ins = {
        "torchtitan": types.ModuleType("torchtitan"),
        "torchtitan.config": types.ModuleType("torchtitan.config"),
        "torchtitan.tools": types.ModuleType("torchtitan.tools"),
        "torchtitan.tools.logging": types.ModuleType("torchtitan.tools.logging"),
        "torchtitan.components": types.ModuleType("torchtitan.components"),
        "torchtitan.components.optimizer": types.ModuleType("torchtitan.components.optimizer"),
        "torchtitan.components.optimizer.optimizer": types.ModuleType("torchtitan.components.optimizer.optimizer"),
    }
    for name, mod in stand_ins.items():
        mod.__path__ = []  # type: ignore[attr-defined]
    stand_ins["torchtitan.config"].Configurable = Configurable  # type: ignore[attr-defined]
    stand_ins["torchtitan.tools.logging"].logger = logging.getLogger("torchtitan.standin")  # type: ignore[attr-defined]
    stand_ins["torchtitan.components.optimizer.optimizer"].OptimizersContainer = list  # type: ignore[attr-defined]
    saved = {k: sys.modules.get(k) for k in stand_ins}
    sys.modules.update(stand_ins)
    try:
        name = "torchtitan.components.optimizer.lr_scheduler"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    _TITAN = mod
    return mod


def record_torchtitan(cfg: Config) -> tuple[int, list[float]]:
    """``Trainer``: ``build(optimizers=..., training_steps=training.steps)`` (trainer.py 554-557);
    each step reads the LR, then ``optimizers.step()``, ``lr_schedulers.step()`` (trainer.py 948-949)."""
    mod = _torchtitan_module()
    conf = mod.LRSchedulersContainer.Config(**cfg["lr_scheduler"])
    steps = int(cfg["training"]["steps"])
    opt = _dummy_optimizer(cfg["optimizer"]["lr"])
    scheds = conf.build(optimizers=[opt], training_steps=steps)
    return _torch_loop(opt, scheds, steps)


def torchtitan_matrix() -> Iterator[tuple[str, Config]]:
    i = 0
    for decay_type in ["linear", "sqrt", "cosine"]:
        for T in LENGTHS:
            for v in range(10):
                i += 1
                warm = [0, 1, max(1, T // 10), int(T * 0.4), T + 3, 2, 200][(i + v) % 7]
                ratio = [None, 0.2, 0.5, 0.0, 1.0, 0.35, None, 0.125][(i + 2 * v) % 8]
                lr_s: Config = {
                    "warmup_steps": warm,
                    "decay_ratio": ratio,
                    "decay_type": decay_type,
                    "min_lr_factor": [0.0, 0.1, 0.0, 0.01][(i + v) % 4],
                }
                steps = T
                tk = (i + 3 * v) % 9
                if tk == 7 and T > 2:
                    lr_s["total_steps"] = T + T // 2  # early stop: same curve, cut short
                elif tk == 8 and T > 2:
                    lr_s["total_steps"] = max(1, T - T // 4)  # run longer than the curve
                cfg = {
                    "lr_scheduler": lr_s,
                    "training": {"steps": steps},
                    "optimizer": {"lr": [3e-4, 8e-4, 1e-3, 1.0][(i + v) % 4]},
                }
                yield f"{decay_type}-T{T}-v{v}", cfg


def torchtitan_refusals() -> Iterator[tuple[str, Config]]:
    yield (
        "unknown-decay-type",
        {
            "lr_scheduler": {"warmup_steps": 2, "decay_type": "exp"},
            "training": {"steps": 10},
            "optimizer": {"lr": 1e-3},
        },
    )
    yield (
        "run-past-zero-decay",
        {
            "lr_scheduler": {"warmup_steps": 2, "decay_ratio": 0.0, "total_steps": 5},
            "training": {"steps": 10},
            "optimizer": {"lr": 1e-3},
        },
    )
    yield (
        "run-past-total-at-full-warmup",
        {"lr_scheduler": {"warmup_steps": 8, "total_steps": 5}, "training": {"steps": 10}, "optimizer": {"lr": 1e-3}},
    )


# --------------------------------------------------------------------------------------------
# HF transformers
# --------------------------------------------------------------------------------------------


def record_hf(cfg: Config) -> tuple[int, list[float]]:
    """``TrainingArguments`` + ``Trainer.create_scheduler`` (trainer.py 1347-1376) on an optimizer
    with ``lr=learning_rate``; the loop steps the scheduler after ``optimizer.step()``
    (trainer.py 1934-1944), so update s uses ``LambdaLR.last_epoch = s-1``."""
    from transformers import TrainingArguments, get_scheduler

    args = TrainingArguments(output_dir="/tmp/lrplan-conformance-hf", report_to="none", **cfg)
    n = int(args.max_steps)
    opt = _dummy_optimizer(args.learning_rate)
    sched = get_scheduler(
        args.lr_scheduler_type,
        optimizer=opt,
        num_warmup_steps=args.get_warmup_steps(n),
        num_training_steps=n,
        scheduler_specific_kwargs=args.lr_scheduler_kwargs,  # type: ignore[arg-type]  # parsed to a dict
    )
    return _torch_loop(opt, sched, n)


def hf_matrix() -> Iterator[tuple[str, Config]]:
    types_ = [
        "linear",
        "cosine",
        "cosine_with_min_lr",
        "cosine_warmup_with_min_lr",
        "constant_with_warmup",
        "polynomial",
        "inverse_sqrt",
        "warmup_stable_decay",
        "cosine_with_restarts",
        "constant",
    ]
    i = 0
    for t in types_:
        for N in LENGTHS:
            for v in range(4 if t != "constant" else 1):
                i += 1
                lr = [3e-4, 1e-3, 5e-5, 2e-5, 1.0][(i + v) % 5]
                warm: float = [0, 1, max(1, N // 20), int(N * 0.4), 0.05, N + 2, 0.3][(i + v) % 7]
                kw: Config = {}
                k = (i + v) % 4
                if t == "cosine" and k == 1:
                    kw = {"num_cycles": 1.5}
                elif t == "cosine_with_min_lr":
                    kw = [
                        {"min_lr_rate": 0.1},
                        {"min_lr": lr * 0.05},
                        {"min_lr_rate": 0.0, "num_cycles": 0.5},
                        {"min_lr_rate": 0.3},
                    ][k]
                elif t == "cosine_warmup_with_min_lr":
                    kw = [
                        {"min_lr_rate": 0.1},
                        {"min_lr": lr * 0.05},
                        {"min_lr_rate": 0.1, "warmup_lr_rate": 0.2},
                        {"min_lr_rate": 0.0, "warmup_lr_rate": 0.0},
                    ][k]
                elif t == "polynomial":
                    kw = [{}, {"lr_end": lr * 0.01, "power": 2.0}, {"power": 0.5}, {"lr_end": lr * 0.1}][k]
                elif t == "inverse_sqrt":
                    kw = [{}, {"timescale": 50}, {}, {"timescale": 3}][k]
                elif t == "warmup_stable_decay":
                    kw = {
                        "num_decay_steps": max(1, [int(N * 0.2), N // 2, 1, N][k]),
                        "decay_type": ["cosine", "linear", "1-sqrt", "cosine"][(i + 2 * v) % 4],
                        "warmup_type": ["linear", "cosine", "1-sqrt"][(i + v) % 3],
                        "min_lr_ratio": [0.0, 0.1][(i + v) % 2],
                    }
                    if k == 3 and N > 10:
                        kw["num_stable_steps"] = N // 3
                elif t == "cosine_with_restarts":
                    kw = {"num_cycles": [1, 2, 3, 5][k]}
                cfg: Config = {
                    "lr_scheduler_type": t,
                    "learning_rate": lr,
                    "max_steps": N,
                    "warmup_steps": warm,
                    "lr_scheduler_kwargs": kw,
                }
                yield f"{t}-N{N}-v{v}", cfg


def hf_refusals() -> Iterator[tuple[str, Config]]:
    base: Config = {"learning_rate": 3e-4, "max_steps": 100, "warmup_steps": 10}
    yield (
        "polynomial-lr-end-equals-lr",
        {**base, "lr_scheduler_type": "polynomial", "lr_scheduler_kwargs": {"lr_end": 3e-4}},
    )
    yield (
        "polynomial-lr-end-above-lr",
        {**base, "lr_scheduler_type": "polynomial", "lr_scheduler_kwargs": {"lr_end": 1e-3}},
    )
    yield "cosine-min-lr-missing", {**base, "lr_scheduler_type": "cosine_with_min_lr", "lr_scheduler_kwargs": {}}
    yield (
        "cosine-min-lr-both",
        {
            **base,
            "lr_scheduler_type": "cosine_with_min_lr",
            "lr_scheduler_kwargs": {"min_lr": 1e-5, "min_lr_rate": 0.1},
        },
    )
    yield (
        "cosine-warmup-min-lr-missing",
        {**base, "lr_scheduler_type": "cosine_warmup_with_min_lr", "lr_scheduler_kwargs": {}},
    )
    yield "wsd-missing-decay", {**base, "lr_scheduler_type": "warmup_stable_decay", "lr_scheduler_kwargs": {}}
    yield (
        "wsd-unknown-decay-type",
        {
            **base,
            "lr_scheduler_type": "warmup_stable_decay",
            "lr_scheduler_kwargs": {"num_decay_steps": 10, "decay_type": "exp"},
        },
    )
    yield (
        "wsd-unknown-warmup-type",
        {
            **base,
            "lr_scheduler_type": "warmup_stable_decay",
            "lr_scheduler_kwargs": {"num_decay_steps": 10, "warmup_type": "exp"},
        },
    )
    yield "unknown-type", {**base, "lr_scheduler_type": "cosine_annealing", "lr_scheduler_kwargs": {}}
    yield (
        "linear-unexpected-kwarg",
        {**base, "lr_scheduler_type": "linear", "lr_scheduler_kwargs": {"min_lr_rate": 0.1}},
    )
    yield (
        "polynomial-warmup-equals-steps",
        {
            "learning_rate": 3e-4,
            "max_steps": 10,
            "warmup_steps": 10,
            "lr_scheduler_type": "polynomial",
            "lr_scheduler_kwargs": {},
        },
    )


# --------------------------------------------------------------------------------------------
# OLMo-core
# --------------------------------------------------------------------------------------------


def record_olmo_core(cfg: Config) -> tuple[int, list[float]]:
    """``Trainer._fit_epoch`` increments ``global_step`` before ``train_batch`` (trainer.py 1693);
    ``TrainModule.optim_step`` calls ``scheduler.set_lr(group, trainer)`` before ``optim.step()``
    (transformer/train_module.py 573-579). So update s uses ``current = s``, ``t_max = max_steps``."""
    from olmo_core.optim.scheduler import Scheduler

    fields = dict(cfg["scheduler"])
    cls = Scheduler.get_registered_class(fields.pop("type"))
    sched = cls(**fields)
    n = int(cfg["max_steps"])
    opt = _dummy_optimizer(cfg["lr"])
    trainer = types.SimpleNamespace(global_step=0, max_steps=n, global_train_tokens_seen=0, max_tokens=None)
    out: list[float] = []
    for _ in range(n):
        trainer.global_step += 1
        for group in opt.param_groups:
            sched.set_lr(group, trainer)  # type: ignore[arg-type]
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
    return n, out


def olmo_core_matrix() -> Iterator[tuple[str, Config]]:
    names = ["constant_with_warmup", "linear_with_warmup", "cos_with_warmup", "inv_sqrt_with_warmup", "wsd"]
    i = 0
    for name in names:
        for T in LENGTHS:
            for v in range(6):
                i += 1
                lr = PEAKS[(i + v) % len(PEAKS)]
                s: Config = {"type": name}
                wk = (i + v) % 6
                if wk == 5:
                    s["warmup_fraction"] = [0.1, 0.05, 0.5][i % 3]
                else:
                    s["warmup"] = [0, 1, max(1, T // 20), int(T * 0.4), 3][wk]
                if (i + 2 * v) % 3 == 1:
                    s["warmup_min_lr"] = lr * 0.01
                if name in ("linear_with_warmup", "cos_with_warmup", "inv_sqrt_with_warmup"):
                    s["alpha_f"] = [0.1, 0.0, 0.5][(i + v) % 3]
                if name in ("linear_with_warmup", "cos_with_warmup") and v == 4 and T > 2:
                    s["t_max"] = max(1, int(T * 0.8))
                if name == "wsd":
                    dk = (i + v) % 4
                    if dk == 0:
                        pass  # default decay_fraction=0.1
                    elif dk == 1:
                        s["decay_fraction"] = None
                        s["decay"] = max(1, T // 4)
                    elif dk == 2:
                        s["decay_fraction"] = 0.5
                    else:
                        s["decay_fraction"] = None
                        s["decay"] = T
                    if (i + v) % 2:
                        s["decay_min_lr"] = lr * 0.1
                    frac = s.get("decay_fraction", 0.1)
                    if "decay" not in s and round(T * frac) == 0:  # would divide by zero at t_max
                        s["decay_fraction"] = None
                        s["decay"] = 1
                yield f"{name}-T{T}-v{v}", {"scheduler": s, "lr": lr, "max_steps": T}


def olmo_core_refusals() -> Iterator[tuple[str, Config]]:
    yield "no-warmup-field", {"scheduler": {"type": "cos_with_warmup"}, "lr": 1e-3, "max_steps": 10}
    yield (
        "warmup-and-fraction",
        {"scheduler": {"type": "cos_with_warmup", "warmup": 2, "warmup_fraction": 0.1}, "lr": 1e-3, "max_steps": 10},
    )
    yield (
        "warmup-fraction-above-one",
        {"scheduler": {"type": "linear_with_warmup", "warmup_fraction": 1.5}, "lr": 1e-3, "max_steps": 10},
    )
    yield (
        "wsd-decay-and-fraction",
        {"scheduler": {"type": "wsd", "warmup": 2, "decay": 3, "decay_fraction": 0.2}, "lr": 1e-3, "max_steps": 10},
    )
    yield (
        "wsd-decay-fraction-above-one",
        {"scheduler": {"type": "wsd", "warmup": 2, "decay_fraction": 1.5}, "lr": 1e-3, "max_steps": 10},
    )
    yield (
        "wsd-zero-decay",
        {"scheduler": {"type": "wsd", "warmup": 2, "decay_fraction": None, "decay": 0}, "lr": 1e-3, "max_steps": 10},
    )
    yield "wsd-decay-rounds-to-zero", {"scheduler": {"type": "wsd", "warmup": 2}, "lr": 1e-3, "max_steps": 4}
    yield (
        "warmup-min-lr-equals-lr",
        {"scheduler": {"type": "cos_with_warmup", "warmup": 2, "warmup_min_lr": 1e-3}, "lr": 1e-3, "max_steps": 10},
    )
    yield (
        "decay-min-lr-above-lr",
        {"scheduler": {"type": "wsd", "warmup": 2, "decay_min_lr": 2e-3}, "lr": 1e-3, "max_steps": 20},
    )
    yield "unknown-scheduler", {"scheduler": {"type": "cosine", "warmup": 2}, "lr": 1e-3, "max_steps": 10}


# --------------------------------------------------------------------------------------------
# DeepSpeed
# --------------------------------------------------------------------------------------------


def record_deepspeed(cfg: Config) -> tuple[int, list[float]]:
    """``DeepSpeedEngine._scheduler_from_config`` (engine.py 1923-1936) builds
    ``lr_schedules.<type>(optimizer, **params)``; ``_take_model_step`` calls ``lr_scheduler.step()``
    after each non-overflow ``optimizer.step()`` (engine.py 3540-3545). The constructor already
    writes the LR of update 1 (``last_batch_iteration=-1``), so update s uses ``it = s-2``."""
    from deepspeed.runtime import lr_schedules

    name = cfg["scheduler"]["type"]
    assert hasattr(lr_schedules, name) or hasattr(torch.optim.lr_scheduler, name), (
        f"DeepSpeed does not recognize LR scheduler {name}"
    )  # engine.py 1929-1930
    if name not in ("WarmupLR", "WarmupDecayLR", "WarmupCosineLR"):
        raise NotImplementedError(f"{name} is not covered by lrplan's conformance matrix")
    opt = _dummy_optimizer(cfg["optimizer"]["params"]["lr"])
    sched = getattr(lr_schedules, name)(opt, **cfg["scheduler"]["params"])
    return _torch_loop(opt, sched, int(cfg["n_updates"]))


def deepspeed_matrix() -> Iterator[tuple[str, Config]]:
    i = 0
    for name in ["WarmupLR", "WarmupDecayLR", "WarmupCosineLR"]:
        for T in LENGTHS:
            for v in range(10):
                i += 1
                lr = PEAKS[(i + v) % len(PEAKS)]
                W = [1, 2, 5, max(1, T // 10), max(1, T // 2), T + 4, 1000, 3][(i + v) % 8]
                p: Config = {"warmup_num_steps": W}
                wt = (i + 2 * v) % 4
                if wt != 3:  # leave the default ('log') out in a quarter of the cases
                    p["warmup_type"] = ["linear", "log", "linear"][wt]
                if i % 23 == 0:
                    p["warmup_type"] = "exp"  # unknown: warning, falls back to log
                n = T
                if name != "WarmupLR":
                    tk = (i + v) % 5
                    p["total_num_steps"] = [T, T, max(1, T // 2), T + T // 3, max(1, T - 1)][tk]
                if name in ("WarmupLR", "WarmupDecayLR"):
                    if (i + v) % 3 == 1:
                        p["warmup_min_lr"] = lr * 0.01
                    mk = (i + v) % 3
                    if mk == 0:
                        p["warmup_max_lr"] = lr
                    elif mk == 1 and name == "WarmupDecayLR":
                        pass  # default 0.001 overrides the optimizer lr
                else:
                    if (i + v) % 3 == 1:
                        p["warmup_min_ratio"] = 0.1
                    ck = (i + v) % 4
                    if ck != 3:
                        p["cos_min_ratio"] = [0.1, 0.0, 0.01][ck]
                cfg: Config = {
                    "optimizer": {"type": "AdamW", "params": {"lr": lr}},
                    "scheduler": {"type": name, "params": p},
                    "n_updates": n,
                }
                yield f"{name}-T{T}-v{v}", cfg


def deepspeed_refusals() -> Iterator[tuple[str, Config]]:
    opt = {"type": "AdamW", "params": {"lr": 1e-3}}
    for name in ["WarmupLR", "WarmupDecayLR", "WarmupCosineLR"]:
        extra = {} if name == "WarmupLR" else {"total_num_steps": 100}
        yield (
            f"{name}-zero-warmup",
            {
                "optimizer": opt,
                "scheduler": {"type": name, "params": {"warmup_num_steps": 0, **extra}},
                "n_updates": 10,
            },
        )
        yield (
            f"{name}-float-warmup",
            {
                "optimizer": opt,
                "scheduler": {"type": name, "params": {"warmup_num_steps": 10.0, **extra}},
                "n_updates": 10,
            },
        )
    yield "unknown-type", {"optimizer": opt, "scheduler": {"type": "WarmupLinearLR", "params": {}}, "n_updates": 10}
    yield (
        "decay-missing-total",
        {"optimizer": opt, "scheduler": {"type": "WarmupDecayLR", "params": {"warmup_num_steps": 10}}, "n_updates": 10},
    )


def _full_megatron(it: Iterator[tuple[str, Config]]) -> Iterator[tuple[str, Config]]:
    """Record every LR-related Megatron arg explicitly (unset ones at their argparse default)."""
    for cid, cfg in it:
        yield cid, {**MEGATRON_DEFAULTS, **cfg}


# --------------------------------------------------------------------------------------------

RECORDERS: dict[
    str,
    tuple[
        Recorder,
        Callable[[], Iterator[tuple[str, Config]]],
        Callable[[], Iterator[tuple[str, Config]]],
        tuple[str, ...],
    ],
] = {
    "megatron": (
        record_megatron,
        lambda: _full_megatron(megatron_matrix()),
        lambda: _full_megatron(megatron_refusals()),
        ("megatron-core",),
    ),
    "torchtitan": (record_torchtitan, torchtitan_matrix, torchtitan_refusals, ("torchtitan",)),
    "hf": (record_hf, hf_matrix, hf_refusals, ("transformers", "accelerate")),
    "olmo_core": (record_olmo_core, olmo_core_matrix, olmo_core_refusals, ("ai2-olmo-core",)),
    "deepspeed": (record_deepspeed, deepspeed_matrix, deepspeed_refusals, ("deepspeed",)),
}


def _dump(doc: dict[str, Any], path: Path) -> None:
    """JSON with one case per line; floats keep full ``repr`` precision."""
    head = {k: v for k, v in doc.items() if k not in ("cases", "refused")}
    parts = [json.dumps(head, sort_keys=False)[:-1]]
    for key in ("cases", "refused"):
        rows = ",\n".join(json.dumps(c, separators=(",", ":")) for c in doc[key])
        parts.append(f', "{key}": [\n{rows}\n]')
    path.write_text("".join(parts) + "}\n")
    json.loads(path.read_text())  # round-trip check


def generate(fw: str, out_dir: Path) -> dict[str, int]:
    record, matrix, refusals, pkgs = RECORDERS[fw]
    cases: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    seen: set[str] = set()
    for cid, cfg in list(matrix()) + [(f"refuse-{c}", r) for c, r in refusals()]:
        assert cid not in seen, cid
        seen.add(cid)
        try:
            with _quiet():
                n, lrs = record(cfg)
        except Exception as e:  # noqa: BLE001 - any exception is the framework's own refusal
            refused.append({"id": cid, "config": cfg, "error": f"{type(e).__name__}: {e}"[:300]})
            continue
        assert len(lrs) == n and all(math.isfinite(x) for x in lrs), cid
        cases.append({"id": cid, "config": cfg, "n_updates": n, "lr": lrs})
    doc = {
        "framework": fw,
        "versions": _versions(*pkgs),
        "generated_by": "conformance/generate.py",
        "cases": cases,
        "refused": refused,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    _dump(doc, out_dir / f"{fw}.json")
    return {"cases": len(cases), "refused": len(refused), "updates": sum(c["n_updates"] for c in cases)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("frameworks", nargs="*", metavar="FRAMEWORK", help=f"any of {', '.join(RECORDERS)} (default: all)")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: %(default)s)")
    ns = ap.parse_args(argv)
    unknown = set(ns.frameworks) - set(RECORDERS)
    if unknown:
        ap.error(f"unknown framework(s): {sorted(unknown)}")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for fw in ns.frameworks or list(RECORDERS):
        stats = generate(fw, ns.out)
        print(f"{fw}: {stats['cases']} cases ({stats['updates']} updates), {stats['refused']} refused", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
