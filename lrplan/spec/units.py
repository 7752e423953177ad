"""Counts with SI suffixes (``100B``, ``4M``) and lengths (``2000``, ``"2k steps"``, ``"1B tokens"``, ``"10%"``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
UNITS = {
    "step": "steps", "steps": "steps", "iter": "steps", "iters": "steps", "it": "steps", "iterations": "steps",
    "token": "tokens", "tokens": "tokens", "tok": "tokens",
    "sample": "samples", "samples": "samples", "seq": "samples", "seqs": "samples", "sequences": "samples",
}
_COUNT = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?)\s*([kmbgt]?)\s*$", re.IGNORECASE)
_LENGTH = re.compile(
    r"^\s*([0-9][0-9_]*(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?)\s*([kmbgt]?)\s*([a-z]*)\s*$", re.IGNORECASE
)
_PERCENT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*%\s*$", re.IGNORECASE)

Unit = Literal["steps", "tokens", "samples", "percent"]


def _whole(x: float, text: object) -> int:
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{text!r} is not a non-negative count")
    if abs(x - round(x)) > 1e-9 * max(1.0, abs(x)):
        raise ValueError(f"{text!r} is not a whole number")
    return int(round(x))


def parse_count(value: object) -> int:
    """Parse a whole count: ``4096``, ``"4M"`` (4,000,000), ``"1.5B"``, ``"100_000"``.

    >>> parse_count("100B"), parse_count("4M"), parse_count(2048)
    (100000000000, 4000000, 2048)
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a count like 4096 or '4M', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"expected a non-negative count, got {value}")
        return value
    if isinstance(value, float):
        return _whole(value, value)
    if isinstance(value, str):
        m = _COUNT.match(value)
        if m:
            num, suf = m.groups()
            base = float(num.replace("_", "")) if any(c in num for c in ".eE") else int(num.replace("_", ""))
            mult = SUFFIX[suf.lower()]
            if isinstance(base, int):
                return base * mult
            return _whole(base * mult, value)
    raise ValueError(f"expected a count like 4096, '4M' or '100B' (suffixes K M B T), got {value!r}")


@dataclass(frozen=True)
class Length:
    """A duration in the schedule: ``value`` in ``unit`` (steps, tokens, samples, or percent of a base)."""

    value: float
    unit: Unit

    def __str__(self) -> str:
        v = int(self.value) if float(self.value).is_integer() else self.value
        return f"{v}%" if self.unit == "percent" else f"{v} {self.unit}"


def parse_length(value: object) -> Length:
    """Parse a length: an int is steps; strings may name a unit; ``"10%"`` is a fraction of the budget.

    >>> parse_length(2000), parse_length("2k steps"), parse_length("1B tokens"), parse_length("2.5%")
    (Length(value=2000, unit='steps'), Length(value=2000, unit='steps'), Length(value=1000000000, unit='tokens'), Length(value=2.5, unit='percent'))
    """
    if isinstance(value, Length):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a length (steps, '1B tokens' or '10%'), got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a length cannot be negative (got {value})")
        return Length(value, "steps")
    if isinstance(value, float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"a length must be a finite, non-negative number (got {value})")
        if not value.is_integer():
            hint = f"; for a fraction of the budget write '{value * 100:g}%'" if value < 1 else ""
            raise ValueError(f"a bare number is a step count and must be whole (got {value}){hint}")
        return Length(int(value), "steps")
    if isinstance(value, str):
        m = _PERCENT.match(value)
        if m:
            pct = float(m.group(1))
            if not 0 <= pct <= 100:
                raise ValueError(f"a percentage must be within 0% and 100% (got {value!r})")
            return Length(pct, "percent")
        m = _LENGTH.match(value)
        if m:
            num, suf, unit = m.groups()
            if suf and unit and unit.lower() not in UNITS and (suf + unit).lower() in UNITS:
                suf, unit = "", suf + unit  # '512 tokens': the t belongs to the unit, not the tera suffix
            unit_l = unit.lower()
            if unit_l and unit_l not in UNITS:
                raise ValueError(f"unknown unit {unit!r} in {value!r}; use steps, tokens or samples")
            count = parse_count(num + suf)
            return Length(count, UNITS[unit_l] if unit_l else "steps")  # type: ignore[arg-type]
    raise ValueError(
        f"expected a length such as 2000, '2k steps', '1B tokens', '500K samples' or '10%', got {value!r}"
    )


def parse_fractional_length(value: object) -> Length:
    """A length that may end between two updates (a warmup of ``"3.2 steps"`` or ``"97460937.4 samples"``, as
    Megatron's ``--lr-warmup-fraction`` makes it): what :func:`parse_length` reads, and also a fractional count
    written with its unit (a bare fractional number stays an error: ``0.05`` usually means a ratio).

    >>> parse_fractional_length("3.2 steps"), parse_fractional_length("25.6 samples"), parse_fractional_length(100)
    (Length(value=3.2, unit='steps'), Length(value=25.6, unit='samples'), Length(value=100, unit='steps'))
    """
    if isinstance(value, str):
        m = _LENGTH.match(value)
        if m and m.group(3) and not _PERCENT.match(value):
            num, suf, unit = m.groups()
            if suf and unit.lower() not in UNITS and (suf + unit).lower() in UNITS:
                suf, unit = "", suf + unit
            if unit.lower() in UNITS and any(c in num for c in ".eE"):
                x = float(num.replace("_", "")) * SUFFIX[suf.lower()]
                if math.isfinite(x) and x >= 0 and not x.is_integer():
                    return Length(x, UNITS[unit.lower()])  # type: ignore[arg-type]
    return parse_length(value)


def round_half_up(x: float) -> int:
    """Round to the nearest whole number, ties away from zero (not Python's banker's rounding)."""
    return int(math.floor(x + 0.5))


def si(n: float) -> str:
    """Human-readable count: 4194304 -> '4.19M', 100e9 -> '100B'."""
    for div, suf in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suf}"
    return f"{n:g}"
