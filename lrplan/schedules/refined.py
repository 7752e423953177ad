"""A schedule refined from a gradient-norm log (Defazio, Cutkosky, Mehta, Mishchenko 2023, arXiv 2310.07831)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field

from lrplan.errors import spec_error
from lrplan.schedules.base import BuildContext, Family, PositiveLR
from lrplan.schedules.segments import Timeline, custom

GRID = 10_000  # the paper's visual.py resamples the norm sequence to 10k points


def refine(norms, tau: float, power: int):
    """Refined schedule of the paper: median-smooth ``G`` (window ``2*(int(tau*n)//2)+1``, reflect-padded on the
    right), weights ``w = G^-power`` (1 for Adam/l1 norms, 2 for SGD/l2), ``eta_t = w_t * sum_{p>t} w_p``,
    normalised to max 1 (``facebookresearch/adaptive_scheduling`` ``find_schedule.py``)."""
    import numpy as np

    g = np.asarray(norms, dtype=np.float64)
    n = g.size
    width = 2 * (int(tau * n) // 2) + 1
    pad = 2 * width
    padded = np.pad(g, (0, pad), mode="reflect") if pad < n else np.pad(g, (0, pad), mode="edge")
    half = width // 2
    ext = np.pad(padded, (half, half), mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(ext, width)
    smooth = np.median(win, axis=1)[:n]
    with np.errstate(all="ignore"):
        eta = _eta(smooth, power)
        if not np.all(np.isfinite(eta)):  # norms so large (or small) that G^-power under/overflows: the result
            eta = _eta(smooth / smooth.max(), power)  # is scale-free, so refine the norms relative to their max
    if not np.all(np.isfinite(eta)):
        raise ValueError("the gradient norms span too wide a range to refine in double precision")
    return eta


def _eta(smooth, power: int):
    import numpy as np

    w = smooth ** (-float(power))
    tail = np.concatenate([np.cumsum(w[::-1])[::-1][1:], [0.0]])
    eta = w * tail / w.sum()
    return eta / eta.max()


class Refined(Family):
    """LR from a previous run's gradient norms: resampled to 10k points, refined as in the paper, scaled to
    ``peak_lr`` and interpolated to every step. ``grad_norms`` is a CSV file (relative to the spec) or a list."""

    kind: Literal["refined"]
    peak_lr: PositiveLR
    grad_norms: Union[str, list[Annotated[float, Field(gt=0, allow_inf_nan=False)]]] = Field(
        description="CSV file with a grad_norm column (path relative to the spec), or the values inline"
    )
    column: str = Field("grad_norm", description="CSV column holding the norms")
    norm: Literal["l1", "l2"] = Field("l1", description="l1 norms of Adam-type runs (w = G^-1) or l2 of SGD (w = G^-2)")
    smoothing: Annotated[float, Field(ge=0, le=1)] = Field(0.1, description="median-filter width as a fraction (tau)")
    summary: ClassVar[str] = "refined from a gradient-norm log (warmup and anneal emerge)"
    formula: ClassVar[str] = "from a gradient-norm log"
    source: ClassVar[str] = "Defazio et al. 2023, arXiv 2310.07831 (adaptive_scheduling)"

    def load_norms(self, ctx: BuildContext):
        import csv

        import numpy as np

        if not isinstance(self.grad_norms, str):
            vals = np.asarray(self.grad_norms, dtype=np.float64)
        else:
            path = Path(self.grad_norms)
            if not path.is_absolute() and ctx.base_dir is not None:
                path = ctx.base_dir / path
            from lrplan.spec.files import InputError, read_bytes

            try:
                rows = list(csv.DictReader(read_bytes(path, "gradient-norm log").decode("utf-8").splitlines()))
            except InputError as e:
                raise spec_error(("schedule", "grad_norms"), str(e)) from None
            except UnicodeDecodeError as e:
                raise spec_error(("schedule", "grad_norms"), f"{path}: not UTF-8 text (byte {e.start})") from None
            except csv.Error as e:
                raise spec_error(("schedule", "grad_norms"), f"{path}: not a CSV file ({e})") from None
            if not rows or self.column not in rows[0]:
                raise spec_error(("schedule", "column"), f"{path} has no column {self.column!r}")
            try:
                vals = np.array([float(r[self.column]) for r in rows])
            except ValueError as e:
                raise spec_error(("schedule", "grad_norms"), f"{path}: {e}") from None
        if vals.size < 2:
            raise spec_error(("schedule", "grad_norms"), "need at least 2 gradient norms")
        if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
            raise spec_error(("schedule", "grad_norms"), "gradient norms must be finite and positive")
        return vals

    def build(self, ctx: BuildContext) -> Timeline:
        import numpy as np

        g = self.load_norms(ctx)
        grid = np.linspace(0.0, 1.0, GRID)
        g10k = np.interp(grid, np.linspace(0.0, 1.0, g.size), g)
        eta = refine(g10k, self.smoothing, 1 if self.norm == "l1" else 2) * self.peak_lr
        n = ctx.total_steps

        def fn(local, start, length):
            x = local.astype(np.float64) / max(n - 1, 1)
            return np.interp(x, grid, eta)

        tl = Timeline()
        tl.add("refined", n, custom(fn))
        return tl


FAMILIES = [Refined]
