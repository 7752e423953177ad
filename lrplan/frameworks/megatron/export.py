"""Megatron-LM export: the spec as Megatron arguments, checked with :mod:`lrplan.frameworks.megatron.simulator`.

The arguments are Megatron-LM's (``megatron/training/arguments.py``, core_v0.16.1): ``--lr``, ``--min-lr``,
``--lr-decay-style`` (constant, linear, cosine, inverse-square-root, WSD with ``--lr-wsd-decay-style``), the
warmup and decay lengths in iterations or, sample-based, in samples (``get_optimizer_param_scheduler``,
``megatron/training/training.py`` 1354-1405). A spec on the token clock becomes a sample-based config; a batch
ramp-up becomes ``--rampup-batch-size``, a ``budget.batch_schedule`` Megatron-LM HEAD's
``--step-batch-size-schedule`` (after core 0.16.1). WSD-S is one launch per decay, each resumed with
``--override-opt-param-scheduler`` (``optimizer_param_scheduler.py`` ``load_state_dict``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from lrplan.errors import spec_error
from lrplan.frameworks.common import (
    TORCH_RECIPE,
    Candidate,
    Export,
    Facts,
    Native,
    fmt_num,
    header,
    short_num,
    start_note,
)
from lrplan.frameworks.megatron import MEGATRON_WSD

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from lrplan.spec.models import Spec

RECIPE = ("Megatron has no option for this; " + TORCH_RECIPE.replace("use lrplan's", "replace Megatron's OptimizerParamScheduler by lrplan's")
          + " (a code change), or accept the nearest native schedule above")

__all__ = ["MEGATRON_FLAGS", "RECIPE", "candidates", "megatron_args", "notes", "prepare", "relaunch", "run", "snippet", "why"]


# ------------------------------------------------------------------------------------------ candidates


def _in_samples(t: Facts, to_samples: Callable[[int], int]) -> Facts:
    """A copy of the token-clock facts ``t`` with every length in samples and one sample per "iteration"
    (the caller renames iterations to samples and sets the real batch)."""
    sf = Facts(**{**t.__dict__})
    sf.T, sf.W, sf.D, sf.tail = to_samples(t.T), to_samples(t.W), to_samples(t.D), to_samples(t.tail)
    sf.horizon = to_samples(t.horizon)
    sf.W_exact = sf.W if float(t.W_exact).is_integer() or not t.seq_len else t.W_exact / t.seq_len
    sf.wsds = [(to_samples(c), to_samples(d)) for c, d in t.wsds]
    if sf.timescale:
        sf.timescale = to_samples(t.timescale)
    sf.batch_size = 1
    return sf


def _end_at_last_update(c: dict, f: Facts) -> None:
    """While ramping up, Megatron starts another iteration whenever at most ``--train-samples`` were consumed
    (``update_train_iters``, training.py, core_v0.15-0.16), so a ramp-up that outlasts the run runs one update past
    the spec's last whole step. Then ``--train-samples`` = the samples the spec's updates consume, minus one (the
    last update starts below it, the next would not), with the decay length kept (``--lr-decay-samples``, which
    defaults to ``--train-samples``). The simulator checks the result like every other config."""
    from lrplan.frameworks.megatron import simulator

    if f.consumed_samples is None or simulator.train_iters(c) == f.T:
        return
    if c.get("lr_decay_samples") is None:
        c["lr_decay_samples"] = c["train_samples"]
    c["train_samples"] = f.consumed_samples - 1


def candidates(f: Facts, sample_based: bool) -> list[Candidate]:
    """Megatron configs for the spec: its own style (``--lr-decay-style``, ``WSD`` with ``--lr-wsd-decay-style``),
    one launch per WSD-S decay, iteration-based, or sample-based when the spec runs on the token clock (then
    ``--rampup-batch-size`` or Megatron-LM HEAD's ``--step-batch-size-schedule`` carry the batch schedule) or
    ``sample_based``; the nearest native styles when none is exact."""
    if f.tok is not None and f.seq_len:  # progress on tokens consumed = Megatron's sample-based scheduler
        t = f.tok
        q = f.seq_len
        if f.batch_size or not f.variable_batch:  # lengths in whole samples (exact when seq_len divides them)
            sf = _in_samples(t, lambda x: int(round(x / q)))
            out = []
            for lab, n in candidates(sf, True):
                for c in n if isinstance(n, list) else [n]:
                    c["global_batch_size"] = f.batch_size or (f.T and sf.T // f.T) or 1
                    if f.rampup:
                        c["rampup_batch_size"] = list(f.rampup)
                        if not isinstance(n, list):  # one launch for the whole run (not WSD-S's segments)
                            _end_at_last_update(c, f)
                out.append((lab + " (sample-based: the spec runs on tokens)", n))
            return out
        if f.step_schedule:  # budget.batch_schedule: Megatron-LM HEAD's --step-batch-size-schedule
            sf = _in_samples(t, lambda x: x // q)
            out = []
            for lab, n in candidates(sf, True):
                for c in n if isinstance(n, list) else [n]:
                    c.pop("global_batch_size", None)
                    # Megatron-LM main reads the thresholds as TOKENS (``StepBatchsizeNumMicroBatchesCalculator.
                    # _parse_schedule``: ``threshold // seq_length``, with ``args.seq_length`` always set by
                    # validate_args): samples x seq_len, with --seq-length written next to them
                    c["step_batch_size_schedule"] = _in_tokens(f.step_schedule, q)
                    c["seq_length"] = q
                    if c.get("lr_decay_samples") is None:
                        c["lr_decay_samples"] = c["train_samples"]
                    c["train_samples"] = f.consumed_samples
                out.append((lab + " (sample-based with Megatron-LM HEAD's --step-batch-size-schedule)", n))
            return out
    base: dict[str, Any] = {"train_iters": f.T, "lr": f.peak, "min_lr": f.floor}
    if f.batch_size:
        base["global_batch_size"] = f.batch_size
    if f.init:
        base["lr_warmup_init"] = f.init
    W = f.W
    end = f.horizon or f.T  # where the decay is defined to end (schedule.horizon: beyond the run)
    out: list[Candidate] = []

    def cfg(**kw):
        c = {**base, "lr_warmup_iters": W, **kw}
        c.setdefault("lr_decay_iters", f.horizon or f.T)  # a horizon beyond the run: the decay Megatron cuts off
        # a warmup that ends between two updates, or one the spec writes as a percentage: --lr-warmup-fraction
        if W and (not float(f.W_exact).is_integer() or f.warmup_unit == "percent"):
            x = _fraction_for(float(f.W_exact) * (f.batch_size or 1), c["lr_decay_iters"] * (f.batch_size or 1))
            if f.warmup_unit == "percent":  # the short fraction the user wrote (the simulator checks rtol 1e-12)
                from lrplan.frameworks.common import pretty

                y = pretty(float(f.W_exact) / c["lr_decay_iters"])
                if abs(y * c["lr_decay_iters"] - float(f.W_exact)) <= 1e-9 * max(1.0, float(f.W_exact)):
                    x = y
            if x is not None:
                del c["lr_warmup_iters"]
                c["lr_warmup_fraction"] = x
        return c

    if f.kind == "wsd-s":
        segs = []
        for ck, d in f.wsds:
            segs.append({**base, "train_iters": ck, "lr_warmup_iters": W, "lr_decay_style": "WSD",
                         "lr_wsd_decay_style": MEGATRON_WSD.get(f.shape or "", "linear"),
                         "lr_decay_iters": ck, "lr_wsd_decay_iters": d})
        out.append(("WSD relaunched per segment", segs))
    elif f.kind == "constant":
        if W < f.T:
            out.append(("constant", cfg(lr_decay_style="constant")))
        else:  # Megatron needs warmup < decay length
            out.append(("constant", cfg(lr_decay_style="constant", lr_decay_iters=W + 1)))
    elif f.kind == "inverse-sqrt":
        out.append(("inverse-square-root", cfg(lr_decay_style="inverse-square-root")))
    elif f.kind in ("wsd", "wsdc") and f.shape in MEGATRON_WSD:
        dec = end - f.tail
        out.append(("WSD", cfg(lr_decay_style="WSD", lr_wsd_decay_style=MEGATRON_WSD[f.shape], lr_decay_iters=dec, lr_wsd_decay_iters=f.D)))
    elif f.shape in ("linear", "cosine"):
        out.append((f.shape, cfg(lr_decay_style=f.shape, **({"lr_decay_iters": f.T - f.tail} if f.tail else {}))))
    else:  # nearest native
        dec = end - f.tail
        for st in ("linear", "cosine"):
            out.append((st, cfg(lr_decay_style=st, lr_decay_iters=dec if f.kind in ("wsd", "wsdc") and f.D == end - f.W - f.tail else end)))
        D = f.D or (f.T - W)
        for _shape, name in MEGATRON_WSD.items():
            if W < dec:
                out.append((f"WSD {name}", cfg(lr_decay_style="WSD", lr_wsd_decay_style=name, lr_decay_iters=dec, lr_wsd_decay_iters=max(1, min(D, dec)))))
        out.append(("constant", cfg(lr_decay_style="constant")))
    if sample_based:
        if not f.batch_size:
            raise spec_error(("budget",), "--sample-based needs budget.batch_size (sequences per step): add "
                             "`batch_size: N` under budget, or drop --sample-based")
        out = [(lab, _to_samples(n, f.batch_size)) for lab, n in out]
    return out


def _in_tokens(samples_schedule: str, q: int) -> str:
    """``"0:256 5000000:512"`` (thresholds in samples) as Megatron-LM main's ``--step-batch-size-schedule``
    (thresholds in tokens: ``samples * seq_len``, which ``// seq_length`` maps back exactly)."""
    out = []
    for item in samples_schedule.split():
        a, b = item.split(":")
        out.append(f"{int(a) * q}:{b}")
    return " ".join(out)


def _fraction_for(warmup: float, decay: int) -> Optional[float]:
    """A ``--lr-warmup-fraction`` whose warmup Megatron computes as exactly ``warmup`` (``fraction * decay``,
    training.py 1354-1405), or None."""
    import math

    x = warmup / decay
    for _ in range(8):
        for y in (x, math.nextafter(x, 0.0), math.nextafter(x, 1.0)):
            if y * decay == warmup:
                from lrplan.frameworks.common import pretty

                p = pretty(y)
                return p if p * decay == warmup else y
        x = math.nextafter(x, 1.0 if x * decay < warmup else 0.0)
    return None


def _to_samples(native: Native, gbs: int) -> Native:
    if isinstance(native, list):
        return [_to_samples(n, gbs) for n in native]  # type: ignore[misc]
    c = dict(native)
    c["train_samples"] = c.pop("train_iters") * gbs
    if "lr_warmup_fraction" in c:
        pass  # a fraction of the decay, in samples as in iterations
    elif "lr_warmup_iters" in c:
        c["lr_warmup_samples"] = c.pop("lr_warmup_iters") * gbs
    if "lr_decay_iters" in c:
        c["lr_decay_samples"] = c.pop("lr_decay_iters") * gbs
    if "lr_wsd_decay_iters" in c:
        c["lr_wsd_decay_samples"] = c.pop("lr_wsd_decay_iters") * gbs
    return c


def prepare(native: dict) -> dict:
    """The simulator config of ``native``: an iteration-based config without ``--global-batch-size`` gets 1 (the
    curve over iterations does not depend on it)."""
    if native.get("global_batch_size") is None and native.get("step_batch_size_schedule") is None:
        return {**native, "global_batch_size": 1}
    return native


def run(native: dict, n_updates: Optional[int] = None) -> "np.ndarray":
    """The LRs ``native`` runs (:func:`prepare`)."""
    from lrplan.frameworks.megatron import simulator

    return simulator.simulate(prepare(native), n_updates)


# ------------------------------------------------------------------------------------------ reports


def why(f: Facts) -> list[str]:
    """What Megatron lacks for this spec (beyond the generic reasons)."""
    out = []
    if f.kind == "inverse-sqrt" and (f.cooldown or f.timescale != f.W or not f.W):
        out.append("Megatron's inverse-square-root uses timescale = warmup (> 0) and has no cooldown")
    return out


def notes(f: Facts, native: Native, got: "np.ndarray", want: "np.ndarray") -> list[str]:
    out = []
    if not isinstance(native, list) and native.get("lr_decay_style") in ("linear", "cosine", "WSD"):
        if f.tail == 0 and not f.horizon and f.floor != float(want[-1]):
            T = f.T
            if "train_iters" in native:
                flag = f"--lr-decay-iters {T - 1}"
            else:  # the samples consumed before the last update
                from lrplan.frameworks.megatron import simulator

                flag = f"--lr-decay-samples {int(simulator.consumed_at(prepare(native), [T - 1])[0])}"
            out.append(
                f"Megatron (like the spec) never runs at min_lr within the {T} updates: the last update is at "
                f"{short_num(float(got[-1]))}; to end exactly at min_lr use {flag} (and spec a 1-step tail)"
            )
    out += start_note(f, got, want)
    if f.kind in ("wsd", "wsdc", "wsd-s") and f.shape == "1-sqrt":
        out.append("--lr-wsd-decay-style minus_sqrt needs Megatron-LM from 2025-04-29 on (commit f55397dc50)")
    return out


def relaunch(i: int, checkpoint: int, decay: int, resume_step: int) -> str:
    """The recipe line of WSD-S launch ``i`` (0-based)."""
    return (f"  launch {i + 1}: --train-iters {checkpoint} --lr-decay-iters {checkpoint} --lr-wsd-decay-iters {decay}"
            + (f" (resume from launch {i}'s checkpoint at iteration {resume_step} with --override-opt-param-scheduler)" if i else ""))


# ----------------------------------------------------------------------------------------------- snippet


MEGATRON_FLAGS = [
    "train_iters", "train_samples", "global_batch_size", "lr", "min_lr", "lr_decay_style", "lr_wsd_decay_style",
    "lr_warmup_iters", "lr_warmup_samples", "lr_warmup_fraction", "lr_warmup_init", "lr_decay_iters", "lr_decay_samples",
    "lr_wsd_decay_iters", "lr_wsd_decay_samples", "rampup_batch_size", "step_batch_size_schedule", "seq_length",
]


def megatron_args(cfg: dict) -> list[str]:
    """``--flag value`` pairs for a Megatron config dict (in a stable order)."""
    out = []
    for k in MEGATRON_FLAGS:
        if k not in cfg or cfg[k] is None:
            continue
        v = cfg[k]
        flag = "--" + k.replace("_", "-")
        if isinstance(v, (list, tuple)):
            out.append(f"{flag} " + " ".join(str(int(x)) for x in v))
        elif isinstance(v, float):
            out.append(f"{flag} {fmt_num(v)}")
        elif isinstance(v, str) and " " in v:
            out.append(f'{flag} "{v}"')
        else:
            out.append(f"{flag} {v}")
    return out


def snippet(e: Export, f: Facts, spec: "Spec") -> str:
    """Megatron-LM command-line arguments, one launch after another for WSD-S."""
    lines = header(e, f, spec)
    cfgs = e.native if isinstance(e.native, list) else [e.native]
    for i, cfg in enumerate(cfgs):
        if len(cfgs) > 1:
            lines.append(f"# launch {i + 1} of {len(cfgs)}" + (" (add --load <checkpoint of launch %d> --override-opt-param-scheduler)" % i if i else ""))
        if "step_batch_size_schedule" in cfg:
            lines.append("# needs Megatron-LM with --step-batch-size-schedule (after megatron-core 0.16.1, which has only "
                         "--rampup-batch-size); thresholds in tokens, as Megatron-LM main reads them with --seq-length "
                         "(StepBatchsizeNumMicroBatchesCalculator)")
        elif "global_batch_size" not in cfg:
            lines.append("# add your --global-batch-size (the LR curve over iterations does not depend on it)")
        args = megatron_args(cfg)
        if i:
            args.append("--override-opt-param-scheduler")
        lines.append(" \\\n".join(args))
    return "\n".join(lines) + "\n"
