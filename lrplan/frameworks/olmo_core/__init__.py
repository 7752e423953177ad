"""OLMo-core 3.0.0 (the step-unit schedulers of ``olmo_core/optim/scheduler.py``).

``simulator.py``: the schedulers re-implemented; ``export.py``: the spec as an OLMo-core scheduler config.
"""

from __future__ import annotations

from lrplan.frameworks.base import Framework

FRAMEWORK = Framework(
    name="olmo-core",
    title="OLMo-core",
    package=__name__,
    versions=("3",),
    native_kinds=frozenset({"constant", "linear", "cosine", "wsd", "inverse-sqrt"}),
    native_shapes={"linear": "linear"},  # WSD decays linearly (scheduler.py 164-235)
    aliases=("olmo",),
)
