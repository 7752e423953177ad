"""The token clock: tokens consumed before each step under a constant or piecewise-constant batch size.

A batch-size schedule (Megatron ``--rampup-batch-size``, ``--step-batch-size-schedule``, OLMo-core batch-size
warmup) makes steps and tokens stop being proportional. :class:`Clock` keeps runs of constant tokens-per-step
and answers both directions, vectorised: ``tokens_before(steps)`` and ``first_step_reaching(tokens)``.

Megatron's batch ramp-up arithmetic lives here too (:func:`rampup_phase`, :func:`megatron_rampup`): the batch of
each iteration from the samples consumed before it, as megatron-core 0.16.1's
``RampupBatchsizeNumMicroBatchesCalculator`` computes it (``megatron/core/num_microbatches_calculator.py``
441-507). Specs (``budget.rampup``) and the Megatron simulator (:mod:`lrplan.frameworks.megatron.simulator`,
which adds Megatron's own refusals of bad ramp-up arguments) both read it from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clock:
    """Runs of constant batch: run ``k`` starts at step ``starts[k]`` with ``before[k]`` tokens consumed and
    takes ``tps[k]`` tokens per step (``batch[k]`` sequences when the sequence length is known). The last run
    never ends."""

    starts: np.ndarray
    before: np.ndarray
    tps: np.ndarray
    seq_len: int | None = None

    @classmethod
    def constant(cls, tokens_per_step: int, seq_len: int | None = None) -> "Clock":
        return cls(np.array([0], np.int64), np.array([0], np.int64), np.array([tokens_per_step], np.int64), seq_len)

    @classmethod
    def from_batches(cls, batches: list[tuple[int, int]], seq_len: int) -> "Clock":
        """From ``(first_step, batch_in_sequences)`` runs (first run at step 0), merging equal neighbours."""
        starts, before, tps = [], [], []
        tok = 0
        prev_step, prev_tps = 0, None
        for step, batch in batches:
            if prev_tps is not None:
                tok += (step - prev_step) * prev_tps
            t = batch * seq_len
            if tps and t == tps[-1]:
                prev_step, prev_tps = step, t
                continue
            starts.append(step)
            before.append(tok)
            tps.append(t)
            prev_step, prev_tps = step, t
        return cls(np.array(starts, np.int64), np.array(before, np.int64), np.array(tps, np.int64), seq_len)

    @property
    def constant_tps(self) -> int | None:
        """Tokens per step if the batch never changes, else None."""
        return int(self.tps[0]) if self.tps.size == 1 else None

    @property
    def variable(self) -> bool:
        return self.tps.size > 1

    def _run(self, steps: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, steps, side="right") - 1

    def tokens_before(self, steps) -> np.ndarray:
        """Tokens consumed before each (0-based) step."""
        s = np.asarray(steps, dtype=np.int64)
        k = self._run(s)
        return self.before[k] + (s - self.starts[k]) * self.tps[k]

    def tokens_per_step_at(self, steps) -> np.ndarray:
        return self.tps[self._run(np.asarray(steps, dtype=np.int64))]

    def batch_at(self, steps) -> np.ndarray | None:
        """Global batch size (sequences) of each step, when the sequence length is known."""
        if not self.seq_len:
            return None
        return self.tokens_per_step_at(steps) // self.seq_len

    def first_step_reaching(self, tokens) -> np.ndarray:
        """Smallest step ``s`` with ``tokens_before(s) >= tokens``."""
        t = np.asarray(tokens, dtype=np.int64)
        k = np.searchsorted(self.before, t, side="right") - 1
        k = np.maximum(k, 0)
        over = t - self.before[k]
        n = -(-over // self.tps[k])  # ceil
        s = self.starts[k] + np.maximum(n, 0)
        return s

    def nearest_step(self, tokens: int) -> int:
        """The step boundary whose tokens-consumed is closest to ``tokens`` (ties go up)."""
        s = int(self.first_step_reaching(tokens))
        if s == 0:
            return 0
        below = int(self.tokens_before(s - 1))
        above = int(self.tokens_before(s))
        return s - 1 if tokens - below < above - tokens else s


def rampup_phase(start: int, incr: int, ramp_samples: int, gbs: int, limit: int) -> np.ndarray:
    """Batch sizes (samples) of the ramp-up iterations that start with ``consumed <= limit``
    (``limit <= ramp_samples``), under Megatron's ``--rampup-batch-size START INCR SAMPLES`` and global batch ``gbs``.

    megatron-core 0.16.1 ``num_microbatches_calculator.py`` 453-459: ``bs = gbs if consumed > ramp_samples else
    start + int(consumed / (ramp_samples / ((gbs - start) // incr))) * incr``. The batch is constant
    within one increment, so each increment is one vectorised arithmetic run (a loop over the
    ``(gbs-start)/incr`` increments, not over iterations). The arguments are assumed valid
    (:func:`lrplan.frameworks.megatron.simulator.validate` states Megatron's refusals).

    >>> rampup_phase(2, 2, 10, 6, 10).tolist()  # consumed 0 2 4 -> 2; 6 -> 4; 10 -> 6; then consumed 16 > 10
    [2, 2, 2, 4, 6]
    """
    per = ramp_samples / ((gbs - start) // incr)
    chunks: list[np.ndarray] = []
    consumed = 0
    while consumed <= limit:
        j = int(consumed / per)
        bs = start + j * incr
        # Iterations that stay in increment j: consumed + i*bs for i = 0..m-1 (verified exactly below).
        to_limit = (limit - consumed) // bs + 1
        to_next = math.ceil(((j + 1) * per - consumed) / bs) + 2  # keeps the chunk small
        m_est = int(max(1, min(to_limit, to_next)))
        c = consumed + bs * np.arange(m_est, dtype=np.int64)
        stay = ((c / per).astype(np.int64) == j) & (c <= limit)
        m = int(np.argmin(stay)) if not stay.all() else m_est
        chunks.append(np.full(m, bs, dtype=np.int64))
        consumed += m * bs
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)


def megatron_rampup(start: int, increment: int, ramp_samples: int, gbs: int) -> list[tuple[int, int]]:
    """Batch runs of Megatron's ``--rampup-batch-size START INCR SAMPLES`` (megatron-core 0.16.1
    ``RampupBatchsizeNumMicroBatchesCalculator``: ``bs = start + int(consumed / (ramp / ((gbs-start)//incr))) * incr``
    while ``consumed <= ramp``, then ``gbs``), as ``(first_step, batch)``."""
    per_iter = rampup_phase(int(start), int(increment), int(ramp_samples), int(gbs), int(ramp_samples))
    runs: list[tuple[int, int]] = []
    if per_iter.size:
        change = np.flatnonzero(np.concatenate(([True], per_iter[1:] != per_iter[:-1])))
        runs = [(int(i), int(per_iter[i])) for i in change]
    runs.append((int(per_iter.size), int(gbs)))
    return runs


def schedule_runs(points: list[tuple[str, float, int]], seq_len: int) -> list[tuple[int, int]]:
    """Batch runs for thresholds ``(unit, value, batch)`` (unit ``steps`` or ``tokens``): each batch starts at
    the first step whose tokens consumed reach the threshold (or at that step)."""
    runs: list[tuple[int, int]] = []
    step, tok = 0, 0
    for i, (unit, value, batch) in enumerate(points):
        if i == 0:
            runs.append((0, batch))
            continue
        prev_tps = runs[-1][1] * seq_len
        if unit == "steps":
            target = int(value)
        else:
            target = step + max(0, math.ceil((value - tok) / prev_tps))
        tok += (target - step) * prev_tps
        step = target
        runs.append((step, batch))
    return runs
