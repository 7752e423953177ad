"""DeepSpeed 0.19.8 (``WarmupLR``, ``WarmupDecayLR``, ``WarmupCosineLR``).

``simulator.py``: the schedulers re-implemented (``deepspeed/runtime/lr_schedules.py``); ``export.py``: the spec as
a ds_config ``"scheduler"`` section.
"""

from __future__ import annotations

from lrplan.frameworks.base import Framework

FRAMEWORK = Framework(
    name="deepspeed",
    title="DeepSpeed",
    package=__name__,
    versions=("0.19",),
    native_kinds=frozenset({"constant", "linear", "cosine"}),
    native_shapes={},  # no WSD
)
