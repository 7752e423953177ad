"""Loss-curve laws across LR schedules: fit an annealing law to observed curves, predict unseen schedules.

Laws (``LAWS`` registry): ``"multi-power"`` (Luo et al. 2025, arXiv 2503.12811, module ``multipower``) and
``"momentum"`` (Tissue et al. 2024, arXiv 2408.11029, module ``momentum``).  numpy only at import time; scipy is
imported lazily by the fitting code.

>>> import numpy as np
>>> from lrplan.laws import MPLParams, predict_mpl
>>> lr = np.full(1000, 3e-4)
>>> bool(predict_mpl(MPLParams(3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6), lr, np.array([999]))[0] > 3.0)
True
"""

from __future__ import annotations

from lrplan.laws.builtin import builtin_laws, load_law
from lrplan.laws.fit import Curve, FittedLaw, fit, predict
from lrplan.laws.metrics import curve_metrics, mean_metrics
from lrplan.laws.momentum import MTLParams
from lrplan.laws.momentum import predict as predict_mtl
from lrplan.laws.multipower import MPLParams, predict_with_bound
from lrplan.laws.multipower import predict as predict_mpl
from lrplan.laws.warmup import WARMUP_CONVENTIONS, warmup_length

LAWS: dict[str, str] = {"multi-power": "lrplan.laws.multipower", "momentum": "lrplan.laws.momentum"}
"""Registered laws: name -> module (each module has a params dataclass, ``predict`` and ``PARAM_NAMES``)."""

__all__ = ["LAWS", "Curve", "FittedLaw", "fit", "predict", "MPLParams", "MTLParams", "predict_mpl", "predict_mtl",
           "predict_with_bound", "curve_metrics", "mean_metrics", "builtin_laws", "load_law", "WARMUP_CONVENTIONS",
           "warmup_length"]
