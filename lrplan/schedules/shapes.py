"""Decay and warmup shapes: ``value(p, a, b)`` goes from ``a`` at p=0 to ``b`` at p=1 (vectorised over ``p``).

Most decay shapes are ``b + (a - b) * g(p)`` with ``g`` falling from 1 to 0 — Megatron-Core's operation order
(``min_lr + coeff * (max_lr - min_lr)``, ``megatron/core/optimizer_param_scheduler.py::get_lr``). Formulas and
sources: Hägele et al. 2024 (arXiv 2405.18392, ``wsd_schedule``), MiniCPM (arXiv 2404.06395 §6.2), Megatron-Core,
dolomite-engine, lingua (Wen et al. 2024 inverse-proportional), Luo et al. 2025 (arXiv 2503.12811, (1-p)^1.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


@dataclass(frozen=True)
class Shape:
    name: str
    formula: str
    source: str
    needs_positive_end: bool = False
    param: str | None = None  # extra spec field this shape reads


def _interp(g: Callable[["np.ndarray"], "np.ndarray"]):
    def value(p, a, b, **_):
        return b + g(p) * (a - b)

    return value


def _np():
    import numpy as np

    return np


def _linear(p):
    return 1.0 - p


def _cosine(p):
    np = _np()
    return 0.5 * (np.cos(np.pi * p) + 1.0)


def _one_minus_sqrt(p):
    return 1.0 - _np().sqrt(p)


def _one_minus_square(p):
    return 1.0 - p * p


def _sqrt_cube(p):
    return (1.0 - p) ** 1.5


def _mirror_cosine(p):
    return 2.0 * (1.0 - p) - _cosine(p)


def _exponential_megatron(p):
    return 2.0 * _np().power(0.5, p) - 1.0


def _exp_dolomite(p):
    np = _np()
    return (np.exp(1.0 - p) - 1.0) / (math.e - 1.0)


def _poly(p, a, b, decay_power=1.0, **_):
    return b + (1.0 - p) ** decay_power * (a - b)


def _geometric(p, a, b, **_):
    return a * (b / a) ** p


def _inverse_proportional(p, a, b, **_):
    return 1.0 / ((1.0 - p) / a + p / b)


def _exp_halflife(p, a, b, length=1, half_life=1, **_):
    np = _np()
    return np.maximum(b, a * np.power(0.5, p * (length / half_life)))


DECAY_SHAPES: dict[str, tuple[Shape, Callable]] = {
    s.name: (s, fn)
    for s, fn in [
        (Shape("linear", "b + (a-b)(1-p)", "Hägele et al. 2024; Megatron; TorchTitan"), _interp(_linear)),
        (Shape("cosine", "b + (a-b)(1+cos(pi p))/2", "Loshchilov & Hutter, arXiv 1608.03983"), _interp(_cosine)),
        (Shape("1-sqrt", "b + (a-b)(1-sqrt(p))", "Hägele et al. 2024, arXiv 2405.18392"), _interp(_one_minus_sqrt)),
        (Shape("1-square", "b + (a-b)(1-p^2)", "Hägele et al. 2024 ('square')"), _interp(_one_minus_square)),
        (Shape("sqrt-cube", "b + (a-b)(1-p)^1.5", "Luo et al. 2025 WSDSC, arXiv 2503.12811"), _interp(_sqrt_cube)),
        (Shape("poly", "b + (a-b)(1-p)^decay_power", "polynomial decay (PyTorch PolynomialLR)", param="decay_power"), _poly),
        (Shape("mirror-cosine", "b + (a-b)(2(1-p) - (1+cos(pi p))/2)", "Hägele et al. 2024 ('miror_cosine')"), _interp(_mirror_cosine)),
        (Shape("exponential", "b + (a-b)(2*0.5^p - 1)", "Megatron-Core lr_wsd_decay_style=exponential"), _interp(_exponential_megatron)),
        (Shape("exp-dolomite", "b + (a-b)(e^(1-p)-1)/(e-1)", "dolomite-engine ExponentialScheduler (Power scheduler decay)"), _interp(_exp_dolomite)),
        (Shape("geometric", "a (b/a)^p", "Hägele et al. 2024 ('exp'); MPL paper WSD curves", needs_positive_end=True), _geometric),
        (Shape("inverse-proportional", "1 / ((1-p)/a + p/b)", "lingua lr_wsd (Wen et al. 2024, arXiv 2410.05192)", needs_positive_end=True), _inverse_proportional),
        (Shape("exp-halflife", "max(b, a 0.5^(x/half_life)), x = steps into the decay", "MiniCPM, arXiv 2404.06395 §6.2 (half-life reading)", param="half_life"), _exp_halflife),
    ]
}

WARMUP_SHAPES: dict[str, tuple[Shape, Callable]] = {
    "linear": (Shape("linear", "a + (b-a) p", "linear warmup"), lambda p, a, b, **_: a + (b - a) * p),
    "cosine": (
        Shape("cosine", "a + (b-a)(1-cos(pi p))/2", "cosine warmup (Hägele/Schaipp cosine runs, OneCycle)"),
        lambda p, a, b, **_: a + (b - a) * (0.5 * (1.0 - _cosine_raw(p))),
    ),
}


def _cosine_raw(p):
    return _np().cos(math.pi * p)


# shapes whose closed form lrplan.schedules.forms knows: ``b + (a - b) g(p)`` ("down") or ``a + (b - a) p`` ("up")
_FORMS = {"linear": ("linear", "down"), "cosine": ("cosine", "down"), "1-sqrt": ("1-sqrt", "down"),
          "exponential": ("exponential", "down")}


def decay_fn(name: str, **params) -> Callable[["np.ndarray", float, float], "np.ndarray"]:
    """The decay shape ``name`` as ``f(p, a, b)`` with its extra parameters bound."""
    _, fn = DECAY_SHAPES[name]
    out = lambda p, a, b: fn(p, a, b, **params)  # noqa: E731
    out.lr_form = _FORMS.get(name)  # type: ignore[attr-defined]  # (read by segments.ramp)
    return out


def warmup_fn(name: str) -> Callable[["np.ndarray", float, float], "np.ndarray"]:
    _, fn = WARMUP_SHAPES[name]
    out = lambda p, a, b: fn(p, a, b)  # noqa: E731
    out.lr_form = ("ramp", "up") if name == "linear" else None  # type: ignore[attr-defined]
    return out
