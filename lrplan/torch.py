"""A PyTorch LR scheduler that follows an lrplan spec exactly: ``lrplan.torch.LRPlanScheduler``.

PyTorch is an optional extra (``pip install lrplan[torch]``); ``import lrplan`` never imports it. Usage, the standard
PyTorch loop (construct before training, ``scheduler.step()`` after every ``optimizer.step()``)::

    from lrplan.torch import LRPlanScheduler

    opt = torch.optim.AdamW(model.parameters())            # its lr= is overwritten by the spec
    sched = LRPlanScheduler(opt, "wsd.yaml")                 # path, YAML string, dict or lrplan.Spec
    for batch in data:                                       # update s (1-based) runs with spec lr[s-1]
        loss(model, batch).backward()
        opt.step(); opt.zero_grad(); sched.step()

The LR of update ``s`` is exactly ``spec.render().lr[s - 1]`` (times the group's scale): the same float, not an
approximation. Values are computed a window of steps at a time, so each step costs O(1) for any budget length.
"""

from __future__ import annotations

import hashlib
import math
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional, Union

try:
    import torch  # the real PyTorch: absolute import, not this module
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler
except ImportError as _e:  # pragma: no cover - exercised in a subprocess without torch
    raise ImportError(
        "lrplan.torch needs PyTorch (torch>=2.1), which is an optional extra: pip install lrplan[torch]"
    ) from _e

import numpy as np

from lrplan.errors import LrplanError
from lrplan.spec.loading import load_spec
from lrplan.spec.models import Spec

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.schedules.render import SchedulePlan

__all__ = ["LRPlanScheduler", "ScheduleEndError", "ScheduleMismatchError", "spec_fingerprint"]

AfterEnd = Literal["error", "hold"]
SpecLike = Union[Spec, dict, str, Path]

WINDOW = 4096  # steps rendered at a time (32 KiB of LRs)
_STATE_FORMAT = 1
_GUARD_ATTR = "_lrplan_end_guard"


class ScheduleEndError(LrplanError, RuntimeError):
    """The run tried to go past the last update of the spec's budget (``after_end="error"``)."""


class ScheduleMismatchError(LrplanError, ValueError):
    """``load_state_dict`` was given a checkpoint written for a different spec (or different scales)."""


def spec_fingerprint(spec: SpecLike) -> str:
    """A short hash of what determines the LRs of a spec: its ``version``, ``budget`` and ``schedule`` (JSON dump),
    the resolved number of steps, and the LR (to 10 significant digits) at every phase boundary and 65 evenly
    spaced steps — so a changed external input (e.g. a ``refined`` family's CSV) is noticed too. ``name`` and
    ``model`` do not count: they never change an LR."""
    spec = _as_spec(spec)
    plan = spec.schedule_plan()
    n = plan.total_steps
    probe = np.unique(np.concatenate([plan.boundary_steps(), np.linspace(0, n - 1, 65).round().astype(np.int64)]))
    h = hashlib.sha256()
    h.update(spec.model_dump_json(include={"version", "budget", "schedule"}).encode())
    h.update(f"|{n}|".encode())
    h.update(",".join(f"{int(s)}:{float(v):.10g}" for s, v in zip(probe, plan.lr_at(probe))).encode())
    return h.hexdigest()[:16]


def _as_spec(spec: SpecLike) -> Spec:
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, (dict, str, Path)):
        return load_spec(spec)
    raise TypeError(f"spec must be an lrplan.Spec, a path, a YAML string or a dict (got {type(spec).__name__})")


def _check_scale(x: Any, where: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a number (got {x!r})") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{where} must be finite and >= 0 (got {x!r})")
    return v


class LRPlanScheduler(LRScheduler):
    """Set every param group's LR from an lrplan spec at every step.

    Args:
        optimizer: any ``torch.optim.Optimizer``. The ``lr`` it was built with is ignored: the spec decides.
        spec: an :class:`lrplan.Spec`, or what :func:`lrplan.load_spec` takes (a YAML path, a YAML string, a dict).
        scales: per-group LR multipliers. ``None``: 1 for every group. A sequence: one number per param group,
            e.g. ``[1.0, 1 / m_width]`` for muP's hidden matrices. A string: the name of a param-group key, e.g.
            ``"lr_scale"`` — each group's ``group.get("lr_scale", 1.0)`` is read at every step, so groups added
            later are handled too. Group ``i`` gets ``spec LR * scale_i``.
        after_end: what happens after the last update of the budget. ``"error"`` (default): the optimizer step
            of update ``N+1`` (and a ``scheduler.step()`` beyond position ``N``) raises :class:`ScheduleEndError`.
            ``"hold"``: keep the last LR for ever.

    Step convention: after construction the groups hold the LR of update 1 (``lr[0]``); after ``k`` calls of
    ``step()`` they hold ``lr[k]``, the LR of update ``k+1``. ``last_epoch`` is the number of updates done.

    Checkpoints: ``state_dict()`` stores the position and a fingerprint of the spec (not the spec itself). To
    resume, build the optimizer and a new scheduler with the *same* spec (and scales), then load both state
    dicts in either order; the run continues exactly. A checkpoint written for a different spec is refused
    with :class:`ScheduleMismatchError`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        spec: SpecLike,
        *,
        scales: Optional[Union[Sequence[float], str]] = None,
        after_end: AfterEnd = "error",
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not a torch.optim.Optimizer")
        if after_end not in ("error", "hold"):
            raise ValueError(f"after_end must be 'error' or 'hold' (got {after_end!r})")
        self.spec: Spec = _as_spec(spec)
        self.plan: SchedulePlan = self.spec.schedule_plan()
        self.total_steps: int = int(self.plan.total_steps)
        self.after_end: AfterEnd = after_end
        self.fingerprint: str = spec_fingerprint(self.spec)
        self._scale_key: Optional[str] = None
        self._fixed_scales: Optional[list[float]] = None
        if isinstance(scales, str):
            self._scale_key = scales
        elif scales is not None:
            fixed = [_check_scale(x, f"scales[{i}]") for i, x in enumerate(scales)]
            if len(fixed) != len(optimizer.param_groups):
                raise ValueError(f"scales has {len(fixed)} entries but the optimizer has {len(optimizer.param_groups)} param groups")
            self._fixed_scales = fixed
        self._w0 = -1
        self._window = np.empty(0)
        self._n_groups = len(optimizer.param_groups)
        self.optimizer = optimizer  # before the first group_scales() call
        self.group_scales()  # validate now, not at the first step
        super().__init__(optimizer)
        self._install_guard()

    # -- the schedule ----------------------------------------------------------------------------------------
    def base_lr(self, update_index: int) -> float:
        """The spec's LR for 0-based update ``update_index`` (``lr[update_index]``), before scaling."""
        i = int(update_index)
        if not 0 <= i < self.total_steps:
            raise IndexError(f"update index {i} is outside the schedule [0, {self.total_steps})")
        if not self._w0 <= i < self._w0 + self._window.size:
            w0 = i - i % WINDOW
            chunk = next(self.plan.chunks(w0, min(w0 + WINDOW, self.total_steps), WINDOW))
            self._w0, self._window = w0, chunk.lr
        return float(self._window[i - self._w0])

    def group_scales(self) -> list[float]:
        """The current LR multiplier of every param group."""
        groups = self.optimizer.param_groups
        if self._scale_key is not None:
            key = self._scale_key
            return [_check_scale(g.get(key, 1.0), f"param_groups[{i}][{key!r}]") for i, g in enumerate(groups)]
        if self._fixed_scales is None:
            return [1.0] * len(groups)
        if len(self._fixed_scales) != len(groups):
            raise ValueError(
                f"the optimizer now has {len(groups)} param groups but scales has {len(self._fixed_scales)}; "
                "pass scales as a param-group key (e.g. scales='lr_scale') to support added groups"
            )
        return list(self._fixed_scales)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """LRs for the update about to run (position ``last_epoch``). Use :meth:`get_last_lr` to read them."""
        pos = self.last_epoch
        if pos > self.total_steps and self.after_end == "error":
            self.last_epoch -= 1  # leave the scheduler where it was
            self._step_count -= 1
            raise ScheduleEndError(
                f"scheduler.step() was called {pos} times, past the end of the schedule (the spec's budget is "
                f"{self.total_steps} updates, one step() each). Stop after {self.total_steps} updates, or build the "
                "LRPlanScheduler with after_end='hold' to keep the last LR"
            )
        base = self.base_lr(min(max(pos, 0), self.total_steps - 1))
        scales = self.group_scales()
        self._n_groups = len(scales)
        return [base * s for s in scales]

    @property
    def finished(self) -> bool:
        """True once all ``total_steps`` updates of the budget have been stepped."""
        return self.last_epoch >= self.total_steps

    # -- before every optimizer step: groups added since the last step(), and refusing to run past the end ----
    def _install_guard(self) -> None:
        old = getattr(self.optimizer, _GUARD_ATTR, None)
        if old is not None:  # a newer scheduler on this optimizer replaces the older one's guard
            old.remove()
            setattr(self.optimizer, _GUARD_ATTR, None)
        ref = weakref.ref(self)

        def guard(opt: Optimizer, args: Any, kwargs: Any) -> None:
            sched = ref()
            if sched is None:
                return
            if len(opt.param_groups) > sched._n_groups and sched.last_epoch >= 0 and sched._drives_groups():
                sched._set_new_groups()  # a group added after the last step() runs this update at its own LR too
            if sched.after_end == "error" and sched.last_epoch >= sched.total_steps:
                raise ScheduleEndError(
                    f"optimizer.step() would run update {sched.last_epoch + 1}, past the end of the schedule "
                    f"(the spec's budget is {sched.total_steps} updates). Stop the loop after {sched.total_steps} "
                    "updates, or build the LRPlanScheduler with after_end='hold' to keep the last LR"
                )

        setattr(self.optimizer, _GUARD_ATTR, self.optimizer.register_step_pre_hook(guard))

    def _drives_groups(self) -> bool:
        """The existing groups still hold the LRs this scheduler set last (not another scheduler's, e.g. after a
        SequentialLR milestone or inside a ChainedScheduler)."""
        old = self.optimizer.param_groups[: self._n_groups]
        return len(self._last_lr) == len(old) and all(
            float(g["lr"]) == float(lr) for g, lr in zip(old, self._last_lr))

    def _set_new_groups(self) -> None:
        """Give param groups added since the last ``step()`` the LR of the update about to run (their scale
        times the spec's LR); the existing groups are left alone. A fixed ``scales`` list that no longer
        matches raises its ValueError here."""
        if self.last_epoch > self.total_steps and self.after_end == "error":
            return  # past the end: the guard raises next
        n_old = self._n_groups
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups[n_old:], lrs[n_old:]):
            group.setdefault("initial_lr", lr)
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(lr)
            else:
                group["lr"] = lr
        self._last_lr = list(self._last_lr[:n_old]) + [
            g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"] for g in self.optimizer.param_groups[n_old:]]

    # -- checkpoints ---------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Position and spec fingerprint (plain Python values, safe for ``torch.load(weights_only=True)``).

        The spec itself is not stored: re-pass the same spec when you resume."""
        return {
            "lrplan_state_format": _STATE_FORMAT,
            "last_epoch": int(self.last_epoch),
            "_step_count": int(self._step_count),
            "_last_lr": list(self._last_lr),
            "spec_fingerprint": self.fingerprint,
            "total_steps": self.total_steps,
            "scales": self._scale_key if self._scale_key is not None else self._fixed_scales,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the position from :meth:`state_dict` and set the groups' LRs for it (so the order of loading
        the optimizer and the scheduler does not matter). Refuses a checkpoint of a different spec or scales."""
        if not isinstance(state_dict, dict) or "spec_fingerprint" not in state_dict or "last_epoch" not in state_dict:
            raise ScheduleMismatchError("this is not an LRPlanScheduler state dict (no spec_fingerprint/last_epoch)")
        try:
            self._load_checked(state_dict)
        except ScheduleMismatchError:
            raise
        except (TypeError, ValueError, OverflowError) as e:  # a corrupted checkpoint: say so, not a raw TypeError
            raise ScheduleMismatchError(f"the scheduler state is corrupted ({type(e).__name__}: {str(e)[:200]}); "
                                        "resume from an intact checkpoint") from None

    def _load_checked(self, state_dict: dict[str, Any]) -> None:
        theirs = state_dict["spec_fingerprint"]
        if theirs != self.fingerprint:
            raise ScheduleMismatchError(
                f"the checkpoint was written by an LRPlanScheduler for a different spec (fingerprint {theirs}, "
                f"{state_dict.get('total_steps')} steps) than this one ({self.fingerprint}, {self.total_steps} steps); "
                "resume with the spec the run was started with"
            )
        mine = self._scale_key if self._scale_key is not None else self._fixed_scales
        if state_dict.get("scales") != mine:
            raise ScheduleMismatchError(
                f"the checkpoint was written with scales={state_dict.get('scales')!r} but this scheduler has scales={mine!r}"
            )
        pos = int(state_dict["last_epoch"])
        if pos < -1 or (pos > self.total_steps and self.after_end == "error"):
            raise ScheduleMismatchError(f"the checkpoint's position ({pos}) is outside this schedule (0..{self.total_steps})")
        self.last_epoch = pos
        self._step_count = int(state_dict.get("_step_count", pos + 1))
        if pos == -1:  # not started (e.g. inside SequentialLR before its milestone): the groups are not ours yet
            self._last_lr = list(state_dict.get("_last_lr", self._last_lr))
            return
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            if isinstance(group["lr"], torch.Tensor):  # a tensor LR (capturable/compiled optimizers): fill in place
                group["lr"].fill_(lr)
            else:
                group["lr"] = lr
        self._last_lr = [g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"] for g in self.optimizer.param_groups]
