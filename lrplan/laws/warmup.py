"""Warmup conventions shared by the annealing laws.

Both laws need two views of the per-step LR array ``lr`` (``lr[s]`` = LR used by update ``s + 1``):

* the *area* LR, whose prefix sum is the "forward area" S1 (``S1(s) = sum(area_lr[0..s])``), and
* the *drop* LR, whose decreases ``drop_lr[k-1] - drop_lr[k]`` are the annealing events.

The published papers disagree on warmup (see ``shared/notes/losslaws.md`` §4.2); we support all three:

``"area"``  (MPL paper, arXiv 2503.12811 Eq. 1): S1 uses the real warmup LRs (S1 + S_W); the warmup ramp is
            not an annealing event (drop LR is held at the post-warmup LR during the ramp).  **Default**: it gives
            the best held-out accuracy on the MPL protocol (see ``tests/laws/test_accuracy.py``).
``"ramp"``  (MPL official code): real LRs everywhere, so the warmup *increase* enters LD with a negative
            sign (about +B*eta_max, absorbed by L0).
``"peak"``  (Tissue et al., arXiv 2408.11029 Sec 3.4): warmup steps count as eta_max in S1 and contribute
            nothing to S2.

The warmup is the initial strictly increasing run of ``lr``: ``W = warmup_length(lr)`` is the first index with
``lr[W + 1] <= lr[W]``; steps ``0..W-1`` are the ramp and ``lr[W]`` is the peak.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

WarmupConvention = Literal["area", "ramp", "peak"]
WARMUP_CONVENTIONS: tuple[str, ...] = ("area", "ramp", "peak")


def warmup_length(lr: np.ndarray) -> int:
    """Length W of the initial strictly increasing LR ramp (0 when the schedule starts at its peak)."""
    lr = np.asarray(lr, dtype=float)
    if lr.size < 2:
        return 0
    not_up = np.flatnonzero(np.diff(lr) <= 0.0)
    return int(not_up[0]) if not_up.size else int(lr.size - 1)


def lr_through(lr: np.ndarray, last_step: int) -> np.ndarray:
    """``lr`` up to ``last_step`` -- but never cut inside the warmup ramp: the warmup conventions need the ramp's
    end, and a prediction at a step inside it must not depend on which later steps were asked for."""
    lr = np.asarray(lr, dtype=float)
    cut = int(last_step) + 1
    if cut < lr.size and warmup_length(lr[: cut + 1]) >= cut:  # still ramping at the cut: find the ramp's end
        cut = max(cut, warmup_length(lr) + 2)
    return lr[: min(cut, lr.size)]


def split_lr(lr: np.ndarray, convention: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(area_lr, drop_lr)`` for a warmup convention (see module docstring)."""
    if convention not in WARMUP_CONVENTIONS:
        raise ValueError(f"unknown warmup convention {convention!r}; choose from {WARMUP_CONVENTIONS}")
    lr = np.asarray(lr, dtype=float)
    if lr.ndim != 1 or lr.size == 0:
        raise ValueError(f"lr must be a non-empty 1-D array, got shape {lr.shape}")
    if not np.all(np.isfinite(lr)) or np.any(lr < 0):
        raise ValueError("lr must be finite and non-negative")
    if convention == "ramp":
        return lr, lr
    w = warmup_length(lr)
    held = lr.copy()
    held[:w] = lr[w]
    if convention == "area":
        return lr, held
    return held, held


def law_lr(lr: np.ndarray, convention: str, rho: float = 1.0, kappa: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``split_lr`` followed by the MPL power transforms ``area -> area**rho``, ``drop -> drop**kappa``.

    ``rho = kappa = 1`` is the published law.  ``rho < 1`` lets low-LR steps advance the "forward area" more
    than in proportion to their LR; ``kappa < 1`` makes the annealing amplitude concave in the LR
    (see :mod:`lrplan.laws.multipower`).
    """
    area, drop = split_lr(lr, convention)
    if rho != 1.0:
        area = area**rho
    if kappa != 1.0:
        drop = drop**kappa
    return area, drop
