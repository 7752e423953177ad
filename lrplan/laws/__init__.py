"""Loss-curve laws across LR schedules: fit an annealing law to observed curves, predict unseen schedules.

Laws (:data:`LAWS`, the registry in :mod:`lrplan.laws.registry`): ``"multi-power"`` (alias ``mpl``; Luo et al.
2025, arXiv 2503.12811, module ``multipower``) and ``"momentum"`` (alias ``mtl``; Tissue et al. 2024, arXiv
2408.11029, module ``momentum``).

Layout: ``registry`` (the laws) -> ``base`` (what a law module provides) -> ``multipower``, ``momentum`` (one
law each: formula, predictor, fit adapter) -> ``fitted`` (:class:`Curve`, :class:`FittedLaw`) -> ``driver``
(:func:`fit`, generic) over ``window``, ``objective`` and ``optimise``.  ``resolve`` loads a law for prediction
and checks its range; ``fitting`` (logs -> law.yaml) and ``predicting`` (specs -> predicted losses) are what
``lrplan fit`` and ``lrplan predict`` call.

Adding a loss law: write one module ``lrplan/laws/<law>.py`` with the formula (its docstring: the formula and
its source), a predictor, a fit adapter (a :class:`~lrplan.laws.base.FitModel` subclass: parameter names, log
coordinates, bounds, the per-curve data, value and Jacobian, and the start grid) and
``LAW = LawSpec(name, params, defaults, domains, default_warmup, predict, loss_bound, fit_model)``; then add one
line to ``LAWS`` in :mod:`lrplan.laws.registry`: ``"<law>": Entry("lrplan.laws.<law>", aliases=(...),
summary="...")``.  Fitting (:func:`fit`), law files (:class:`FittedLaw`), the loss floor, ``lrplan fit --law``,
``lrplan predict`` and ``lrplan plan`` then know it; ``tests/laws/test_registry.py`` fits a toy law that way.

Importing this package is light (no numpy): the names below load on first use.

>>> import numpy as np
>>> from lrplan.laws import MPLParams, predict_mpl
>>> lr = np.full(1000, 3e-4)
>>> bool(predict_mpl(MPLParams(3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6), lr, np.array([999]))[0] > 3.0)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lrplan.laws.registry import LAWS, Entry, get_law, law_names

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.laws.builtin import builtin_laws, load_law
    from lrplan.laws.driver import fit
    from lrplan.laws.fitted import Curve, FittedLaw, predict
    from lrplan.laws.metrics import curve_metrics, mean_metrics
    from lrplan.laws.momentum import MTLParams
    from lrplan.laws.momentum import predict as predict_mtl
    from lrplan.laws.multipower import MPLParams, predict_with_bound
    from lrplan.laws.multipower import predict as predict_mpl
    from lrplan.laws.warmup import WARMUP_CONVENTIONS, warmup_length

_LAZY = {  # name -> (module, attribute); no module of this package imports the package itself
    "fit": ("lrplan.laws.driver", "fit"),
    "Curve": ("lrplan.laws.fitted", "Curve"),
    "FittedLaw": ("lrplan.laws.fitted", "FittedLaw"),
    "predict": ("lrplan.laws.fitted", "predict"),
    "MPLParams": ("lrplan.laws.multipower", "MPLParams"),
    "predict_mpl": ("lrplan.laws.multipower", "predict"),
    "predict_with_bound": ("lrplan.laws.multipower", "predict_with_bound"),
    "MTLParams": ("lrplan.laws.momentum", "MTLParams"),
    "predict_mtl": ("lrplan.laws.momentum", "predict"),
    "curve_metrics": ("lrplan.laws.metrics", "curve_metrics"),
    "mean_metrics": ("lrplan.laws.metrics", "mean_metrics"),
    "builtin_laws": ("lrplan.laws.builtin", "builtin_laws"),
    "load_law": ("lrplan.laws.builtin", "load_law"),
    "WARMUP_CONVENTIONS": ("lrplan.laws.warmup", "WARMUP_CONVENTIONS"),
    "warmup_length": ("lrplan.laws.warmup", "warmup_length"),
}

__all__ = ["LAWS", "Entry", "get_law", "law_names", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lrplan.laws' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
