"""TorchTitan 0.3.0 (``LRSchedulersContainer``: linear warmup, stable, one decay).

``simulator.py``: the scheduler re-implemented (``torchtitan/components/optimizer/lr_scheduler.py``; the same
formula since e7c0cae, 2025-06-11, so also v0.1.0 and 0.2.x); ``legacy.py``: the formulas of the snapshots before
it (2024 to 2025-06-11); ``export.py``: the spec as TorchTitan 0.2 TOML, 0.1 TOML (``lr_min``) or 0.3 Python
config; ``importer.py``: a TorchTitan TOML file, Python config registry (``config_registry.py``, read with
``ast``) or JSON config dump as an lrplan spec; ``pyconfig.py``: the ``ast`` reader.
"""

from __future__ import annotations

from lrplan.frameworks.base import Framework, PlanExport

# lrplan decay_shape -> lr_scheduler.decay_type (lr_scheduler.py 130-184)
TT_DECAY = {"linear": "linear", "1-sqrt": "sqrt", "cosine": "cosine"}

FRAMEWORK = Framework(
    name="torchtitan",
    title="TorchTitan",
    package=__name__,
    versions=("0.3", "0.2", "0.1"),
    native_kinds=frozenset({"constant", "linear", "cosine", "wsd", "wsd-s"}),
    native_shapes=TT_DECAY,
    import_args="FILE.toml|FILE.py|FILE.json",
    plan_export=PlanExport(ext={"0.3": "py", "0.2": "toml", "0.1": "toml"}),
)
