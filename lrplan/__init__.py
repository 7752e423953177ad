"""lrplan: a learning-rate schedule planner for language-model pretraining.

The public API is small and lazy (importing ``lrplan`` imports neither numpy nor torch):

>>> import lrplan
>>> spec = lrplan.load_spec({"budget": {"steps": 10}, "schedule": {"kind": "cosine", "peak_lr": 1.0, "warmup": 2}})
>>> [round(x, 4) for x in spec.render().lr[:4].tolist()]
[0.0, 0.5, 1.0, 0.9619]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_spec", "LrplanError", "SpecError", "Spec", "Rendered", "fit", "predict", "plan", "convention", "export"]

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.errors import LrplanError, SpecError
    from lrplan.laws import fit, predict
    from lrplan.schedules.render import Rendered
    from lrplan.spec.loading import load_spec
    from lrplan.spec.models import Spec

_LAZY = {
    "load_spec": ("lrplan.spec.loading", "load_spec"),
    "Spec": ("lrplan.spec.models", "Spec"),
    "LrplanError": ("lrplan.errors", "LrplanError"),
    "SpecError": ("lrplan.errors", "SpecError"),
    "Rendered": ("lrplan.schedules.render", "Rendered"),
    "fit": ("lrplan.laws", "fit"),  # fit(curves, law="multi-power") -> FittedLaw (lrplan.laws.Curve inputs)
    "predict": ("lrplan.laws", "predict"),  # predict(fitted_law, lr, steps) -> predicted loss at steps
    "plan": ("lrplan.planning.planner", "plan"),  # plan(spec, law=None, optimize=False) -> PlanResult
    "convention": ("lrplan.frameworks.export", "convention"),  # convention(spec, "megatron") -> LR per update
    "export": ("lrplan.frameworks.export", "export"),  # export(spec, "torchtitan") -> Export (snippet, exact, ...)
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lrplan' has no attribute {name!r}")
