"""The Power scheduler (Shen et al. 2024, IBM, arXiv 2408.13359): a token-based LR ``min(eta_max, beta a n^b)``."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Optional

from pydantic import Field

from lrplan.errors import spec_error
from lrplan.schedules.base import BuildContext, DecayShapeFields, DecayShapeName, LengthT, MinFields, PositiveLR
from lrplan.schedules.segments import Timeline, custom, ramp
from lrplan.schedules.wsd import TEN_PERCENT


class Power(MinFields, DecayShapeFields):
    """Power scheduler, Eq. 7-8: with ``n`` the tokens already trained and ``beta`` the batch size in sequences,
    ``eta(n) = min(peak_lr, beta * a * n^b)``; warmup ``(n / N_w) * eta(N_w)``; stable ``eta(n)``; the last
    ``decay`` steps go from ``eta(N - N_dec)`` to ``min_lr`` (paper: exponentially to 0, here ``exp-dolomite``
    as in the authors' dolomite-engine). Paper values: ``a = 4``, ``b = -0.51``, ``peak_lr = 0.02``."""

    kind: Literal["power"]
    peak_lr: PositiveLR = Field(0.02, description="eta_max, the cap of the power law")
    a: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(4.0, description="coefficient a (paper: 4)")
    b: Annotated[float, Field(lt=0, allow_inf_nan=False)] = Field(-0.51, description="exponent b (paper: -0.51)")
    batch_factor: Optional[Annotated[int, Field(gt=0)]] = Field(None, description="beta, sequences per batch (default budget.batch_size)")
    decay: LengthT = Field(TEN_PERCENT, description="final decay length (paper: 100B of 1T tokens)")
    decay_shape: DecayShapeName = Field("exp-dolomite", description="final decay shape (paper: exponential to 0)")
    summary: ClassVar[str] = "token-based min(eta_max, beta*a*n^b), exponential decay at the end"
    formula: ClassVar[str] = "min(peak, beta*a*n^b); decay"
    source: ClassVar[str] = "Shen et al. 2024 (Power scheduler), arXiv 2408.13359; dolomite-engine PowerScheduler"

    def build(self, ctx: BuildContext) -> Timeline:
        import numpy as np

        if ctx.clock is None:
            raise spec_error(("budget",), "the power scheduler counts tokens: add budget.batch_size and budget.seq_len (or tokens_per_step)")
        beta = self.batch_factor or ctx.batch_size
        if not beta:
            raise spec_error(("schedule", "batch_factor"), "the power scheduler needs the batch size in sequences: set schedule.batch_factor or budget.batch_size")
        n_total = ctx.total_steps
        w = self.warmup_steps(ctx)
        d = ctx.steps(self.decay, ("schedule", "decay"))
        if w + d > n_total:
            raise spec_error(("schedule", "decay"), f"warmup ({w} steps) + decay ({d} steps) = {w + d} steps is longer than the budget ({n_total} steps)")
        # n = tokens already trained: the clock itself on the token clock, steps x tokens/step otherwise
        tps = 1 if ctx.unit == "tokens" else ctx.tokens_per_step
        cap, coef, b = self.peak_lr, beta * self.a, self.b

        def eta(tokens):
            t = np.asarray(tokens, dtype=np.float64)
            with np.errstate(divide="ignore"):
                val = coef * np.power(np.where(t > 0, t, 1.0), b)
            return np.where(t > 0, np.minimum(cap, val), cap)

        eta_w = float(eta(w * tps))
        eta_d = float(eta((n_total - d) * tps))
        if self.floor > eta_d:
            raise spec_error(("schedule", "min_lr"), f"min_lr ({self.floor:g}) is above the power LR where the decay starts ({eta_d:.4g})")
        tl = Timeline()
        tl.add("warmup", w, custom(lambda t, s0, n: (t.astype(np.float64) * tps) / (w * tps) * eta_w))
        tl.add("stable", n_total - w - d, custom(lambda t, s0, n: eta((t + s0) * tps)))
        tl.add("decay", d, ramp(self.decay_fn(ctx, self.floor, d), eta_d, self.floor))
        return tl


FAMILIES = [Power]
