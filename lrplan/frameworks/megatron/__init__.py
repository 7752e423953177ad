"""Megatron-LM (megatron-core 0.16.1 ``OptimizerParamScheduler`` in Megatron-LM's training loop).

``simulator.py``: the scheduler re-implemented (``megatron/core/optimizer_param_scheduler.py``); ``export.py``:
the spec as Megatron arguments; ``importer.py``: Megatron arguments as an lrplan spec.
"""

from __future__ import annotations

from lrplan.frameworks.base import Framework, PlanExport

# lrplan decay_shape -> --lr-wsd-decay-style (optimizer_param_scheduler.py 259-273)
MEGATRON_WSD = {"exponential": "exponential", "linear": "linear", "cosine": "cosine", "1-sqrt": "minus_sqrt"}

FRAMEWORK = Framework(
    name="megatron",
    title="Megatron",
    package=__name__,
    versions=("0.16",),
    native_kinds=frozenset({"constant", "linear", "cosine", "wsd", "wsdc", "wsd-s", "inverse-sqrt"}),
    native_shapes=MEGATRON_WSD,
    samples=True,
    horizon=True,  # --lr-decay-iters / --lr-decay-samples above the run's length
    import_args="its arguments (after --)",
    plan_export=PlanExport(ext={"0.16": "args"}, resume_flag="--override-opt-param-scheduler"),
)
