"""HF transformers 5.23.0 (``get_scheduler`` as ``Trainer.create_scheduler`` builds it).

``simulator.py``: the schedules re-implemented (``transformers/optimization.py``); ``export.py``: the spec as
``TrainingArguments`` fields; ``importer.py``: a ``TrainingArguments`` YAML file as an lrplan spec.
"""

from __future__ import annotations

from lrplan.frameworks.base import Framework, PlanExport

# lrplan decay_shape -> warmup_stable_decay's decay_type (optimization.py 470-578)
HF_WSD = {"linear": "linear", "cosine": "cosine", "1-sqrt": "1-sqrt"}

FRAMEWORK = Framework(
    name="hf",
    title="HF",
    package=__name__,
    versions=("5", "4"),
    native_kinds=frozenset({"constant", "linear", "cosine", "polynomial", "wsd", "wsdc", "inverse-sqrt"}),
    native_shapes=HF_WSD,
    shaped_warmup=frozenset({"wsd", "wsdc"}),  # warmup_stable_decay's warmup_type: linear or cosine
    import_args="FILE.yaml",
    plan_export=PlanExport(ext={"5": "yaml", "4": "yaml"}),
)
