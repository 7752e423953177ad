"""Closed forms of schedule pieces, for checking two implementations against each other per piece, not per step.

A :class:`Form` says, in exact arithmetic, what a piece of a schedule computes: ``base + delta * g(u)`` with
``u = (x - x0) / L``, where ``x`` is the piece's clock (the step, the tokens or samples consumed before it) and
``g`` one of :data:`SHAPES`. Both the spec's segments (:mod:`lrplan.schedules.segments` attaches the form of a
``constant`` or ``ramp`` piece to its function as ``lr_form``) and the framework simulators
(``lrplan/frameworks/<fw>/simulator.py`` ``pieces``) describe their pieces this way.

:func:`to_steps` maps a form onto update indices ``s`` (on a stretch where the clock is affine in ``s``, ``x =
alpha + beta * s``), with exact rational parameters and a bound on the floating-point rounding of the code that
evaluates it (:func:`rounding_bound`). :func:`agreement_bound` then bounds ``|F(s) - G(s)|`` over a stretch of
updates for two such forms: rounding of each side plus the (exactly computed) difference of their parameters.
:mod:`lrplan.frameworks.exactness` uses that bound to certify a whole stretch at rtol 1e-12 without evaluating it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Union

Num = Union[int, float, Fraction]

SHAPES = {
    # g(u) on u in [0, 1]: (Lipschitz constant of g, bound on the error of evaluating g at a float u, in units of
    # the unit roundoff 2**-53). Every g here is monotone on [0, 1].
    "const": (0.0, 0.0),  # value = base
    "ramp": (1.0, 2.0),  # g = u (a linear warmup a + (b - a) u)
    "linear": (1.0, 2.0),  # g = 1 - u
    "cosine": (math.pi / 2, 16.0),  # g = (1 + cos(pi u)) / 2: pi*u (1), cos (<= 4 ulp), + 1, * 0.5
    "1-sqrt": (None, 4.0),  # g = 1 - sqrt(u): not Lipschitz at 0, see rounding_bound
    "exponential": (2 * math.log(2.0), 16.0),  # g = 2 * 0.5**u - 1 (Megatron's WSD "exponential")
}
AFFINE = ("const", "ramp", "linear")
UR = 2.0**-53  # unit roundoff of float64
SAFETY = 4.0  # the rounding bounds below are first-order; every one is multiplied by this
EXACT_INT = 2**53  # integers below this are exact in float64


@dataclass(frozen=True)
class Form:
    """``base + delta * g((x - x0) / L)`` on the piece's clock ``x``, with the floats the code uses (``delta`` is
    the float the code computes once, e.g. ``max_lr - min_lr``). ``exact_sub``: the code computes ``x - x0``
    without rounding (integers, in int64 or below 2**53 in float64), so ``u`` carries one rounding only; otherwise
    ``x`` and ``x - x0`` may each round. ``ops``: further roundings after ``base + delta * g`` (e.g. a final
    ``lr * lambda``), each at most one unit roundoff of the value."""

    g: str
    base: Num
    delta: Num = 0.0
    x0: Num = 0
    L: Num = 1
    exact_sub: bool = True
    ops: int = 0


@dataclass(frozen=True)
class StepForm:
    """A :class:`Form` on update indices: ``base + delta * g((s - s0) / Ls)`` for the updates ``s`` of one stretch,
    parameters as exact rationals, and ``err``: a bound on ``|computed - exact|`` over that stretch."""

    g: str
    base: Fraction
    delta: Fraction
    s0: Fraction
    Ls: Fraction
    err: float


def to_steps(form: Form, alpha: Num, beta: Num, sa: int, sb: int) -> Optional[StepForm]:
    """``form`` on the updates ``[sa, sb)`` where its clock is ``x = alpha + beta * s``; None when no rounding
    bound can be given (a shape or a clock the analysis does not cover)."""
    if form.g not in SHAPES:
        return None
    F = Fraction
    base, delta = F(form.base), F(form.delta)
    if form.g == "const":
        return StepForm("const", base, F(0), F(0), F(1), 0.0)
    al, be = F(alpha), F(beta)
    if be <= 0 or F(form.L) == 0:
        return None
    s0 = (F(form.x0) - al) / be
    Ls = F(form.L) / be
    xa, xb = al + be * sa, al + be * (sb - 1)
    err = rounding_bound(form, float(xa), float(xb))
    if err is None:
        return None
    return StepForm(form.g, base, delta, s0, Ls, err)


def rounding_bound(form: Form, xa: float, xb: float) -> Optional[float]:
    """A bound on ``|computed - exact|`` of ``form`` for clock values in ``[xa, xb]`` (first-order rounding
    analysis of ``base + delta * g(fl((x - x0) / L))``, times :data:`SAFETY`); None when there is none."""
    Lg, eg = SHAPES[form.g]
    x0, L = float(form.x0), float(form.L)
    ua, ub = (xa - x0) / L, (xb - x0) / L
    umax = max(abs(ua), abs(ub))
    if form.g not in AFFINE and (min(ua, ub) < -1e-9 or umax > 1 + 1e-9):
        return None  # outside the shape's [0, 1]: not a piece of this form
    base, delta = abs(float(form.base)), abs(float(form.delta))
    exact = form.exact_sub and float(form.x0).is_integer() and max(abs(xa), abs(xb), abs(x0)) < EXACT_INT
    if exact:
        du = 2 * UR * umax  # the division (and a conversion of L): relative
    else:
        du = 2 * UR * (max(abs(xa), abs(xb)) / abs(L) + abs(x0) / abs(L) + umax)  # conversion, subtraction, division
    if form.g == "1-sqrt":
        if not exact:
            return None  # sqrt amplifies an absolute error in u near 0 (sqrt(du)): no useful bound
        dg = 2 * UR + eg * UR  # sqrt(u (1 + 2 ur)) = sqrt(u) (1 + ur): at most 2 ur absolute for u <= 1
    else:
        dg = Lg * du + eg * UR
    value = base + delta
    err = delta * dg + 2 * UR * (base + 2 * delta) + form.ops * 2 * UR * value
    return SAFETY * err


def _affine(f: StepForm) -> tuple[Fraction, Fraction]:
    """``c0 + c1 * s`` of an affine form."""
    if f.g == "const":
        return f.base, Fraction(0)
    c1 = f.delta / f.Ls
    if f.g == "ramp":  # base + delta (s - s0) / Ls
        return f.base - c1 * f.s0, c1
    return f.base + f.delta + c1 * f.s0, -c1  # linear: base + delta (1 - (s - s0) / Ls)


def agreement_bound(a: StepForm, b: StepForm, sa: int, sb: int) -> Optional[float]:
    """A bound on ``|A(s) - B(s)|`` (as computed by each side) for every update ``s`` in ``[sa, sb)``, or None
    when the two forms are not comparable (different shapes, or the same curved shape at different positions)."""
    if a.g in AFFINE and b.g in AFFINE:  # two affine functions differ most at an end of the stretch
        (p0, p1), (q0, q1) = _affine(a), _affine(b)
        d0, d1 = p0 - q0, p1 - q1
        param = max(abs(d0 + d1 * sa), abs(d0 + d1 * (sb - 1)))
    elif a.g == b.g and a.s0 == b.s0 and a.Ls == b.Ls:  # base + delta g: |d base| + |d delta| (g in [0, 1])
        param = abs(a.base - b.base) + abs(a.delta - b.delta)
    else:
        return None
    return float(param) * (1 + 1e-15) + a.err + b.err


def value(f: StepForm, s: int) -> float:
    """``f`` at update ``s``, from its exact parameters (``u`` rounded once, ``g`` in ``math``): a reference to
    test the code that a form describes against (it differs from the exact value by a few units in the last
    place of ``|base| + |delta|``)."""
    if f.g == "const":
        return float(f.base)
    u = float((Fraction(s) - f.s0) / f.Ls)
    g = {"ramp": lambda: u, "linear": lambda: 1.0 - u, "cosine": lambda: 0.5 * (1.0 + math.cos(math.pi * u)),
         "1-sqrt": lambda: 1.0 - math.sqrt(u), "exponential": lambda: 2.0 * 0.5**u - 1.0}[f.g]()
    return float(f.base + f.delta * Fraction(g))
