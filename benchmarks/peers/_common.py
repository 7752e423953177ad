"""Shared by the peer scripts: the benchmark's WSD schedule computed with plain numpy, and the JSON report line.

The peers never import lrplan: they are what you would write without it.
"""

from __future__ import annotations

import json
import sys

import numpy as np

PEAK, FLOOR, WARMUP, DECAY_FRAC, TOKENS_PER_STEP = 3.0e-4, 3.0e-5, 2000, 0.10, 4_000_000


def decay_steps(n: int, frac: float = DECAY_FRAC) -> int:
    return int(np.floor(n * frac + 0.5))


def shape(p: np.ndarray, name: str) -> np.ndarray:
    """Fraction of (peak - floor) left at decay progress p (lrplan's decay shapes, by their formulas)."""
    if name == "linear":
        return 1.0 - p
    if name == "cosine":
        return 0.5 * (1.0 + np.cos(np.pi * p))
    if name == "1-sqrt":
        return 1.0 - np.sqrt(p)
    if name == "1-square":
        return 1.0 - p * p
    if name == "sqrt-cube":
        return (1.0 - p) ** 1.5
    raise ValueError(name)


def wsd_lr(start: int, stop: int, n: int, *, peak: float = PEAK, floor: float = FLOOR, warmup: int = WARMUP,
           decay: int | None = None, decay_shape: str = "1-sqrt") -> np.ndarray:
    """LR of updates start..stop-1 of an n-update WSD run: linear warmup from 0, stable, decay over the last
    ``decay`` updates (progress (s - d0)/decay, so the last update is at (D-1)/D)."""
    d = decay_steps(n) if decay is None else decay
    s = np.arange(start, stop, dtype=np.float64)
    d0 = n - d
    lr = np.full(s.size, peak)
    w = s < warmup
    lr[w] = peak * s[w] / warmup
    dec = s >= d0
    lr[dec] = floor + (peak - floor) * shape((s[dec] - d0) / d, decay_shape)
    return lr


def cosine_lr(n: int, *, peak: float = PEAK, floor: float = FLOOR, warmup: int = WARMUP) -> np.ndarray:
    s = np.arange(n, dtype=np.float64)
    lr = floor + (peak - floor) * 0.5 * (1.0 + np.cos(np.pi * (s - warmup) / (n - warmup)))
    lr[:warmup] = peak * s[:warmup] / warmup
    return lr


def phase_codes(start: int, stop: int, n: int, warmup: int = WARMUP) -> np.ndarray:
    s = np.arange(start, stop)
    return np.where(s < warmup, 0, np.where(s >= n - decay_steps(n), 2, 1)).astype(np.int8)


def report(**kw: object) -> None:
    """The one JSON line the harness reads (last line of stdout)."""
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()
