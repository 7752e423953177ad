"""TorchTitan 0.3.0 (``LRSchedulersContainer``: linear warmup, stable, one decay).

``simulator.py``: the scheduler re-implemented (``torchtitan/components/optimizer/lr_scheduler.py``);
``export.py``: the spec as TorchTitan 0.2 TOML or 0.3 Python config; ``importer.py``: a TorchTitan TOML file as an
lrplan spec.
"""

from __future__ import annotations

from lrplan.frameworks.base import Framework, PlanExport

# lrplan decay_shape -> lr_scheduler.decay_type (lr_scheduler.py 130-184)
TT_DECAY = {"linear": "linear", "1-sqrt": "sqrt", "cosine": "cosine"}

FRAMEWORK = Framework(
    name="torchtitan",
    title="TorchTitan",
    package=__name__,
    versions=("0.3", "0.2"),
    native_kinds=frozenset({"constant", "linear", "cosine", "wsd", "wsd-s"}),
    native_shapes=TT_DECAY,
    import_args="FILE.toml",
    plan_export=PlanExport(ext={"0.3": "py", "0.2": "toml"}),
)
