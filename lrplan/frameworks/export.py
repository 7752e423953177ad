"""Export an lrplan spec to a training framework's native LR-scheduler config, and say how exactly it matches.

``export(spec, framework)`` asks the framework's exporter (``lrplan/frameworks/<folder>/export.py``) for candidate
configs, compares what each runs in that framework's simulator (what the framework really runs) with the spec at
every update (:func:`lrplan.frameworks.exactness.check`: update by update up to a few million updates, per piece
with a rounding bound beyond, in flat memory either way) and keeps the first exact one when the framework can
express the schedule, otherwise the nearest native schedule, reported with ``exact=False``, the differences and the
maximum deviation (never a silent mismatch). Nothing holds the whole run: ``Export.lr_at`` evaluates any updates,
``Export.lr`` all of them on first access (runs of up to ``MAX_IN_MEMORY`` updates).
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

    from lrplan.frameworks.exactness import Stats
    from lrplan.spec.models import Spec

__all__ = ["Export", "Facts", "compare", "convention", "describe", "describe_stats", "export", "facts", "fmt_num",
           "pretty", "resolve", "simulate", "why"]


def simulate(framework: str, native: Native, n_updates: int | None = None) -> "np.ndarray":
    """The LRs ``native`` runs in ``framework`` (a list of configs = one relaunch per segment, stitched), as one
    array (:class:`lrplan.frameworks.exactness.FrameworkRun` evaluates them lazily)."""
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
    from lrplan.frameworks.exactness import FrameworkRun, LazyLR, check

    plan = spec.schedule_plan()
    n = plan.total_steps
    want = LazyLR(n, plan.lr_at, plan.lr_range, "the spec's LRs")
    exporter = fw.exporter
    try:
        cands = exporter.candidates(f, sample_based)
        if f.horizon and not fw.horizon:  # and its nearest configs when a horizon it has no option for is not exact
            cands = cands + exporter.candidates(within_run(f), sample_based)
    except SpecError as err:  # a field the framework needs (Megatron --sample-based: budget.batch_size): file:line
        raise spec.locate(err) from None
    if not cands:  # pragma: no cover - every exporter returns something
        raise LrplanError(f"{name} cannot express a {f.kind} schedule")
    best = None
    misses: list[str] = []  # why each candidate was unusable, for the error when none is
    inexact = []  # (label, native, run) of the candidates that run but not exactly, in order

    def failed(label: str, err: Exception) -> None:
        misses.append(f"{label}: {str(err).splitlines()[0][:120] if str(err) else type(err).__name__}")

    for label, native in cands:  # the first exact candidate wins; only when none is are the others measured
        try:
            run = FrameworkRun(fw, native)
        except (ValueError, ZeroDivisionError, AssertionError) as err:
            failed(label, err)
            continue
        if run.n != n:
            misses.append(f"the nearest {label} config runs {run.n:,} updates where the spec has {n:,}")
            continue
        try:
            res = check(run, plan, f.peak, full=False)
        except (ValueError, ZeroDivisionError, AssertionError) as err:
            failed(label, err)
            continue
        if res.exact:
            best = ((False, 0.0, 0.0), label, native, run, True, 0.0, 0.0, None, None)
            break
        inexact.append((label, native, run))
    for label, native, run in inexact if best is None else []:  # the nearest: every update of each, compared
        res = check(run, plan, f.peak)
        key = (not res.exact, res.max_abs_dev, res.max_rel_dev)
        if best is None or key < best[0]:
            best = (key, label, native, run, res.exact, res.max_abs_dev, res.max_rel_dev, res.first_diff, res.stats)
    if best is None:
        why_not = f": {misses[0]}" if misses else " (no valid native config)"
        raise LrplanError(f"{name} cannot express this {f.kind} schedule{why_not}; run it exactly with lrplan's PyTorch "
                          "scheduler (lrplan.torch.LRPlanScheduler)")
    _, label, native, run, ex, mx, mr, first, stats = best
    got = LazyLR(n, run.lr_at, run.lr_range, f"the LRs {name} runs")
    diffs = [] if ex else why(fw, f) + describe_stats(stats, f)
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


def within_run(f: Facts) -> Facts:
    """``f`` for a framework whose decay always ends with the run (no ``schedule.horizon``): the warmup, decay and
    tail clipped to the run, so that its nearest native configs are valid ones (the comparison with the spec then
    reports the difference). ``f`` itself when the spec has no horizon."""
    if not f.horizon:
        return f
    from dataclasses import replace

    def clip(g: Facts) -> Facts:
        if not g.horizon:
            return g
        W = min(g.W, g.T - 1)
        D = max(0, min(g.D, g.T - W))
        return replace(g, horizon=0, W=W, W_exact=min(g.W_exact, W) if g.W_exact > W else g.W_exact, D=D,
                       tail=max(0, min(g.tail, g.T - W - D)))

    return replace(clip(f), tok=clip(f.tok) if f.tok is not None else None)


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
    if f.horizon and not fw.horizon:
        out.append(f"{name} decays over the run's length; it has no decay defined over a horizon beyond the run "
                   f"(the spec's is {f.horizon:,} steps; the run stops after {f.T:,})")
    if f.W and f.warmup_shape != "linear" and f.kind not in fw.shaped_warmup:
        out.append(f"{name}'s warmup is linear (the spec's is {f.warmup_shape})")
    out += fw.exporter.why(f)
    if f.kind == "wsd-s" and f.rewarmup:
        out.append("a relaunch jumps straight back to the peak (no re-warmup)")
    if fw.samples and f.tok is not None and f.seq_len:
        t, q = f.tok, f.seq_len
        lengths = [("budget", t.T), ("warmup", t.W), ("decay", t.D), ("tail", t.tail), ("horizon", t.horizon)]
        lengths += [(f"checkpoint {i + 1}", c) for i, (c, _) in enumerate(t.wsds)]
        odd = [f"{k} {v:,} tokens = {v / q:,.10g} samples" for k, v in lengths if v % q]
        if odd:
            out.append(f"{name} counts whole samples of {q} tokens; on the spec's token clock " + ", ".join(odd[:3])
                       + f" (lengths in steps or % become these token counts; give lengths and budgets in tokens "
                       f"that are multiples of {q} to export exactly)")
    return [f"why: {r}" for r in out]


def describe(got: "np.ndarray", want: "np.ndarray", f: Facts) -> list[str]:
    """Where the framework's run differs from the spec, in words (:func:`describe_stats` of the two arrays)."""
    from lrplan.frameworks.exactness import Stats

    return describe_stats(Stats.of(got, want, f.peak), f)


def describe_stats(st: "Stats", f: Facts) -> list[str]:
    """Where the framework's run differs from the spec, in words, from the counts of a full comparison
    (:class:`lrplan.frameworks.exactness.Stats`, accumulated chunk by chunk: any run length, flat memory)."""
    out: list[str] = []
    if not st.close_first:
        out.append(f"update 1 runs at LR {short_num(st.got_first)} (spec: {short_num(st.want_first)})")
    if st.g_peak and st.w_peak:
        g0, w0 = st.g_peak_first, st.w_peak_first
        assert g0 is not None and w0 is not None
        if g0 != w0:
            out.append(f"the peak is first used at update {g0 + 1} (spec: update {w0 + 1})")
        extra = st.g_peak - st.w_peak
        if extra > 0:
            out.append(f"peak held {extra} extra step{'s' if extra > 1 else ''}")
        elif extra < 0:
            out.append(f"peak held {-extra} step{'s' if extra < -1 else ''} less")
    elif st.w_peak:
        out.append("the peak LR is never used")
    if not st.close_last:
        out.append(f"the last update runs at LR {short_num(st.got_last)} (spec: {short_num(st.want_last)})")
        fl = f.floor
        if f.kind not in ("constant",) and abs(st.got_last - fl) <= RTOL * max(fl, 1e-300) and abs(st.want_last - fl) > RTOL * max(fl, 1e-300):
            out.append("min_lr is reached at the last update (the spec never runs at it)")
    n = st.bad
    k = st.argmax_dev
    dev = st.max_dev
    rel = st.max_rel if st.any_pos else 0.0
    zeros = st.zeros
    near0 = st.near0  # subnormal spec LRs (~1e-310) that differ
    of_peak = percent(dev, f.peak)
    rel_text = percent(rel, 1.0) if st.any_pos else None
    first = st.first_bad if st.first_bad is not None else 0
    line = (f"{n:,} of {st.n:,} updates differ, the first at update {first + 1}; max abs deviation "
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
