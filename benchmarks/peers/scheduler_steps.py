"""Peers of lrplan's framework exports: the frameworks' OWN schedulers stepped once per update, every LR kept.

    python benchmarks/peers/scheduler_steps.py megatron N
    python benchmarks/peers/scheduler_steps.py hf N

The benchmark's WSD run (N updates, linear warmup 2000 from 0, 1-sqrt decay over the last 10% to 0.1 x peak) on a
one-parameter SGD optimizer:

* megatron: ``megatron.core.optimizer_param_scheduler.OptimizerParamScheduler`` (``pip install megatron-core``;
  measured with 0.16.1), lr_decay_style WSD, lr_wsd_decay_style minus_sqrt, one iteration = one step of
  ``increment=1`` (global batch 1: the LR over iterations does not depend on it), as Megatron-LM's
  ``train_step`` drives it;
* hf: ``transformers.get_scheduler("warmup_stable_decay", ...)`` (a ``LambdaLR``; ``pip install transformers``;
  measured with 5.23.0), decay_type 1-sqrt, min_lr_ratio 0.1, ``scheduler.step()`` after each update.

The LR each update uses is read from ``optimizer.param_groups[0]["lr"]`` into an ``array('d')``.  Reports the
stepping time (``work_s``; the import of torch and the framework is ``import_s``, not part of it).
"""

import sys
import time
import warnings
from array import array

from _common import FLOOR, PEAK, WARMUP, decay_steps, report


def main() -> None:
    fw, n = sys.argv[1], int(sys.argv[2])
    warnings.filterwarnings("ignore")
    t_imp = time.perf_counter()
    import torch

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=PEAK)
    if fw == "megatron":
        import importlib.metadata as md

        from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler
        version = md.version("megatron-core")
        sched = OptimizerParamScheduler(
            opt, init_lr=0.0, max_lr=PEAK, min_lr=FLOOR, lr_warmup_steps=WARMUP, lr_decay_steps=n,
            lr_decay_style="WSD", start_wd=0.01, end_wd=0.01, wd_incr_steps=n, wd_incr_style="constant",
            wsd_decay_steps=decay_steps(n), lr_wsd_decay_style="minus_sqrt")

        def step() -> None:
            sched.step(increment=1)
    elif fw == "hf":
        import transformers
        from transformers import get_scheduler

        version = transformers.__version__
        sched = get_scheduler("warmup_stable_decay", optimizer=opt, num_warmup_steps=WARMUP, num_training_steps=n,
                              scheduler_specific_kwargs={"num_decay_steps": decay_steps(n), "decay_type": "1-sqrt",
                                                         "min_lr_ratio": FLOOR / PEAK})
        opt.step()  # the loop order of a trainer (and no "scheduler before optimizer" warning)
        step = sched.step
    else:
        raise SystemExit(f"unknown framework {fw!r}")
    t0 = time.perf_counter()
    g = opt.param_groups[0]
    out = array("d")
    for _ in range(n):
        out.append(g["lr"])
        step()
    work = time.perf_counter() - t0
    report(work_s=work, import_s=t0 - t_imp, rows=n, version=version, lr_first=out[0], lr_last=out[-1],
           lr_at_warmup_end=out[min(WARMUP, n - 1)])


if __name__ == "__main__":
    main()
