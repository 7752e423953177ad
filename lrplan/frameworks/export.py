"""Export an lrplan spec to a training framework's native LR-scheduler config, and say how exactly it matches.

``export(spec, framework)`` asks the framework's exporter (``lrplan/frameworks/<folder>/export.py``) for candidate
configs, runs each through that framework's simulator (what the framework really runs) and keeps the one closest
to ``spec.render().lr``: the exact one when the framework can express the schedule, otherwise the nearest native
schedule, reported with ``exact=False``, the differences and the maximum deviation (never a silent mismatch).
``convention(spec, framework)`` is the per-update LR array that config runs.

Framework names: :func:`lrplan.frameworks.names`; what each runs natively: its
:class:`lrplan.frameworks.base.Framework` entry (``native_kinds``, ``native_shapes``). WSD-S (Wen et al. 2024,
arXiv 2410.05192) exports as one launch per decay where the framework has WSD.

Bad input (an unknown framework or version, a value of the wrong type, a spec that does not load) raises
:class:`lrplan.errors.LrplanError` only.

>>> from lrplan.spec.loading import load_spec
>>> s = load_spec({"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": 1e-3, "warmup": 10}})
>>> e = export(s, "megatron")
>>> e.exact, e.native["lr_decay_style"], e.native["lr_warmup_iters"]
(True, 'cosine', 10)
>>> export(s, "torchtitan").exact  # TorchTitan's warmup starts at lr/W, not 0
False
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lrplan.errors import LrplanError, SpecError
from lrplan.frameworks import Framework, get, names, resolve
from lrplan.frameworks.common import RTOL, Export, Facts, Native, compare, facts, fmt_num, percent, pretty, short_num

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    import numpy as np

    from lrplan.spec.models import Spec

__all__ = ["Export", "Facts", "compare", "convention", "describe", "export", "facts", "fmt_num", "pretty", "resolve",
           "simulate", "why"]


def simulate(framework: str, native: Native, n_updates: int | None = None) -> "np.ndarray":
    """The LRs ``native`` runs in ``framework`` (a list of configs = one relaunch per segment, stitched)."""
    import numpy as np

    fw = get(framework)
    if isinstance(native, list):
        parts = []
        start = 0
        for cfg in native:
            lr = fw.run(cfg)
            end = lr.size
            parts.append(lr[start:end])
            start = end
        out = np.concatenate(parts) if parts else np.zeros(0)
        return out if n_updates is None else out[:n_updates]
    return fw.run(native, n_updates)


def export(spec: "Spec | str | Path | dict", framework: str, version: str | None = None,
           sample_based: bool = False) -> Export:
    """Export ``spec`` (a :class:`Spec`, or what :func:`lrplan.load_spec` takes) to ``framework`` (a name of
    :func:`lrplan.frameworks.names`: ``megatron``, ``torchtitan``, ``hf``, ``olmo-core``, ``deepspeed``).

    ``version`` picks the snippet form (TorchTitan ``0.2`` TOML or ``0.3`` Python; default the newest).
    ``sample_based`` (Megatron only) writes ``--train-samples`` etc. instead of iterations.
    """
    from pathlib import Path

    from lrplan.spec.loading import load_spec
    from lrplan.spec.models import Spec

    if not isinstance(spec, (Spec, str, Path, dict)):
        from lrplan.frameworks.importing import what

        raise LrplanError(f"the spec must be a Spec, a path, a YAML string or a dict, not {what(spec)}")
    name, ver = resolve(framework, version)
    fw = get(name)
    if isinstance(sample_based, (str, bytes)) or sample_based not in (True, False):
        raise LrplanError(f"sample_based must be True or False, not {sample_based!r:.40}")
    if sample_based and not fw.samples:
        raise LrplanError(f"--sample-based applies to --format {' or '.join(n for n in names() if get(n).samples)} only")
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    f = facts(spec)
    want = spec.render().lr
    exporter = fw.exporter
    try:
        cands = exporter.candidates(f, sample_based)
    except SpecError as err:  # a field the framework needs (Megatron --sample-based: budget.batch_size): file:line
        raise spec.locate(err) from None
    if not cands:  # pragma: no cover - every exporter returns something
        raise LrplanError(f"{name} cannot express a {f.kind} schedule")
    best = None
    misses: list[str] = []  # why each candidate was unusable, for the error when none is
    for label, native in cands:
        try:
            got = simulate(name, native)
        except (ValueError, ZeroDivisionError, AssertionError) as err:
            misses.append(f"{label}: {str(err).splitlines()[0][:120] if str(err) else type(err).__name__}")
            continue
        if got.shape != want.shape:
            misses.append(f"the nearest {label} config runs {got.size:,} updates where the spec has {want.size:,}")
            continue
        ex, mx, mr, first = compare(got, want)
        key = (not ex, mx, mr)
        if best is None or key < best[0]:
            best = (key, label, native, got, ex, mx, mr, first)
        if ex:
            break
    if best is None:
        why_not = f": {misses[0]}" if misses else " (no valid native config)"
        raise LrplanError(f"{name} cannot express this {f.kind} schedule{why_not}; run it exactly with lrplan's PyTorch "
                          "scheduler (lrplan.torch.LRPlanScheduler)")
    _, label, native, got, ex, mx, mr, first = best
    diffs = [] if ex else why(fw, f) + describe(got, want, f)
    warnings: list[str] = []
    notes: list[str] = []
    recipe = None
    if not ex:
        of_peak = percent(mx, f.peak)
        warnings.append(
            f"{name} cannot run this {f.kind} schedule exactly; nearest native schedule: {label}, "
            f"max deviation {short_num(mx)}{f' ({of_peak} of peak)' if of_peak else ''} from update "
            f"{first + 1 if first is not None else '?'}"
        )
        recipe = exporter.RECIPE
    if isinstance(native, list):
        recipe = _recipe_segments(fw, native, f) + ("\n" + recipe if recipe else "")
    for cfg in native if isinstance(native, list) else [native]:
        warnings += fw.export_warnings(cfg)
    notes += exporter.notes(f, native, got, want)
    e = Export(name, ver, native, "", ex, diffs, mx, mr, first, recipe, got, warnings, notes, label,
               annotated=getattr(exporter, "ANNOTATED", True))
    e.snippet = exporter.snippet(e, f, spec)
    return e


def convention(spec: "Spec | str | Path | dict", framework: str, version: str | None = None,
               sample_based: bool = False) -> "np.ndarray":
    """The LR each update runs in ``framework`` with the config :func:`export` emits (its simulator applied to it)."""
    return export(spec, framework, version, sample_based).lr


def why(fw: Framework, f: Facts) -> list[str]:
    """The reasons ``fw`` cannot run the spec exactly (what it lacks), for the differences list: the generic ones
    from its :class:`lrplan.frameworks.base.Framework` facts, and its exporter's own (``why``)."""
    out = []
    name = fw.title
    if f.kind not in fw.native_kinds:
        out.append(f"{name} has no {f.kind} schedule")
    elif f.kind in ("wsd", "wsdc", "wsd-s") and f.shape not in fw.native_shapes:
        out.append(f"{name} has no {f.shape} decay" + (f" (it has: {', '.join(fw.native_shapes)})" if fw.native_shapes else ""))
    if f.variable_batch and not fw.samples:
        out.append(f"the spec runs on the token clock under a changing batch size; {name} schedules on steps")
    if f.W and f.warmup_shape != "linear" and f.kind not in fw.shaped_warmup:
        out.append(f"{name}'s warmup is linear (the spec's is {f.warmup_shape})")
    out += fw.exporter.why(f)
    if f.kind == "wsd-s" and f.rewarmup:
        out.append("a relaunch jumps straight back to the peak (no re-warmup)")
    if fw.samples and f.tok is not None and f.seq_len:
        t, q = f.tok, f.seq_len
        lengths = [("budget", t.T), ("warmup", t.W), ("decay", t.D), ("tail", t.tail)]
        lengths += [(f"checkpoint {i + 1}", c) for i, (c, _) in enumerate(t.wsds)]
        odd = [f"{k} {v:,} tokens = {v / q:,.10g} samples" for k, v in lengths if v % q]
        if odd:
            out.append(f"{name} counts whole samples of {q} tokens; on the spec's token clock " + ", ".join(odd[:3])
                       + f" (lengths in steps or % become these token counts; give lengths and budgets in tokens "
                       f"that are multiples of {q} to export exactly)")
    return [f"why: {r}" for r in out]


def describe(got: "np.ndarray", want: "np.ndarray", f: Facts) -> list[str]:
    """Where the framework's run differs from the spec, in words."""
    import numpy as np

    out: list[str] = []
    tol = RTOL * np.abs(want) + 1e-300
    close = np.abs(got - want) <= tol
    if not close[0]:
        out.append(f"update 1 runs at LR {short_num(got[0])} (spec: {short_num(want[0])})")
    pk = f.peak * (1 - 1e-12)
    gp, wp = got >= pk, want >= pk
    if gp.any() and wp.any():
        g0, w0 = int(np.argmax(gp)), int(np.argmax(wp))
        if g0 != w0:
            out.append(f"the peak is first used at update {g0 + 1} (spec: update {w0 + 1})")
        extra = int(gp.sum()) - int(wp.sum())
        if extra > 0:
            out.append(f"peak held {extra} extra step{'s' if extra > 1 else ''}")
        elif extra < 0:
            out.append(f"peak held {-extra} step{'s' if extra < -1 else ''} less")
    elif wp.any():
        out.append("the peak LR is never used")
    if not close[-1]:
        out.append(f"the last update runs at LR {short_num(got[-1])} (spec: {short_num(want[-1])})")
        fl = f.floor
        if f.kind not in ("constant",) and abs(got[-1] - fl) <= RTOL * max(fl, 1e-300) and abs(want[-1] - fl) > RTOL * max(fl, 1e-300):
            out.append("min_lr is reached at the last update (the spec never runs at it)")
    bad = ~close
    n = int(bad.sum())
    k = int(np.argmax(np.abs(got - want)))
    dev = float(abs(got[k] - want[k]))
    tiny = np.finfo(np.float64).tiny  # the smallest normal float: relative to an LR below it is undefined
    pos = want >= tiny
    with np.errstate(over="ignore"):
        rel = float((np.abs(got - want)[pos] / want[pos]).max()) if pos.any() else 0.0
    zeros = int(((want == 0) & bad).sum())
    near0 = int(((want > 0) & (want < tiny) & bad).sum())  # subnormal spec LRs (~1e-310) that differ
    of_peak = percent(dev, f.peak)
    rel_text = percent(rel, 1.0) if pos.any() else None
    line = (f"{n:,} of {want.size:,} updates differ, the first at update {int(np.argmax(bad)) + 1}; max abs deviation "
            f"{short_num(dev)}{f' ({of_peak} of peak)' if of_peak else ''} at update {k + 1}; ")
    if rel_text is None:
        line += "the relative deviation is undefined (the spec's LR is 0 or ~0, below 2.2e-308)"
    else:
        line += f"max rel deviation {rel_text}"
        if zeros or near0:
            line += " where the spec's LR is > 0" if not near0 else " where the spec's LR is not ~0"
        aside = []
        if zeros:
            aside.append(f"{zeros} update{'s' if zeros > 1 else ''} run at LR > 0 where the spec has 0")
        if near0:
            aside.append(f"{near0} differing update{'s' if near0 > 1 else ''} where the spec's LR is ~0, below 2.2e-308: "
                         "the relative deviation is undefined there")
        if aside:
            line += f" ({'; '.join(aside)})"
    out.append(line)
    return out


def _recipe_segments(fw: Framework, segs: list, f: Facts) -> str:
    """How to launch a per-segment export: one line per launch (the exporter's ``relaunch``), then the rule."""
    relaunch = fw.exporter.relaunch  # type: ignore[attr-defined]  # (an optional hook; see base.Exporter)
    lines = [f"WSD-S needs one launch per decay ({len(segs)} launches); launch i trains to checkpoint C_i and decays over its last d_i steps:"]
    prev = 0
    for i, (ck, d) in enumerate(f.wsds):
        lines.append(relaunch(i, ck, d, prev))
        prev = ck
    lines.append("  launch i+1 resumes from launch i's final (decayed) checkpoint at step C_i; the LR jumps straight back to "
                 "peak (WSD-S with rewarmup 0, Wen et al. 2024, arXiv 2410.05192); launch i's final checkpoint is the model for budget i")
    return "\n".join(lines)
