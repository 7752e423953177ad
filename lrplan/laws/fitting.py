"""Fit a law to training logs, as ``lrplan fit`` does: read the logs (:mod:`lrplan.laws.logs`), check the fit
window, fit (:func:`lrplan.laws.driver.fit`) and build the law file (``law.yaml``) with its provenance.

Every problem is one :class:`~lrplan.errors.LrplanError` line; notes and warnings come back as plain text in
:attr:`LogFit.messages`, for the caller to show once the fit succeeded.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from lrplan.errors import LrplanError
from lrplan.laws.driver import fit
from lrplan.laws.fitted import FittedLaw
from lrplan.laws.logformats import read_any
from lrplan.laws.logs import BRANCH_AFTER_WARMUP, DEFAULT_MAX_POINTS, MIN_POINTS, continue_trunk
from lrplan.laws.registry import canonical, choices_text
from lrplan.laws.resolve import ResolvedLaw
from lrplan.laws.warmup import WARMUP_CONVENTIONS, warmup_length

LR_UNITS = "raw (absolute) learning rate; steps are global optimizer steps incl. warmup"


@dataclass
class LogFit:
    """A law fitted to logs: the law file (:attr:`text`, :attr:`record`), the law as that file reads back
    (:attr:`law`), the fitted curves' window and quality, and the notes and warnings (plain text)."""

    fitted: FittedLaw
    """As fitted (the window without the --to-step end; use :attr:`law` to predict)."""
    law: FittedLaw
    """The law as the written file reads back (what ``lrplan predict --law`` loads)."""
    record: dict[str, Any]
    """The law file's mapping."""
    text: str
    """The law file: a comment header and the YAML of :attr:`record`."""
    messages: list[tuple[str, str]] = field(default_factory=list)
    """``("note" | "warning", text)`` in order: per-curve notes, the fit window, warnings."""

    @property
    def per_curve(self) -> dict[str, list[int]]:
        """Curve name -> ``[first step, last step, points]`` of the fit window."""
        return self.record["window"].get("per_curve", {})

    def resolved(self, label: str) -> ResolvedLaw:
        """The written law as :func:`~lrplan.laws.resolve.resolve_law` would load it from ``label``."""
        return ResolvedLaw(self.law, label, self.record)


def split_runs(text: str | None) -> list[str] | None:
    """``--runs a,b`` -> ``["a", "b"]``."""
    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise LrplanError("--runs needs run names separated by commas, e.g. --runs a,b")
    return names


def fit_logs(logs: Sequence[str | Path], *, law: str = "multi-power", schedules: Sequence[str | Path] | None = None,
             step_col: str = "step", loss_col: str = "loss", lr_col: str = "lr", run_col: str = "run",
             runs: str | Sequence[str] | None = None, from_step: int | None = None, to_step: int | None = None,
             warmup: str | None = None, max_points: int = DEFAULT_MAX_POINTS, fmt: str | None = None,
             trunk: str | None = None, progress: Any = None) -> LogFit:
    """Fit ``law`` (a registered name or alias, any case) to the curves of ``logs`` (CSV; one curve per run),
    each with its LR from its ``lr_col`` or from its schedule spec (``schedules``, one per log).

    The window is ``from_step`` (default: automatic, after warmup and the early transient) to ``to_step``
    (default: the end of each log); the fit never uses warmup points and needs ``MIN_POINTS`` points per curve.
    ``runs``: the runs to use from multi-run logs (a list, or ``--runs`` text ``"a,b"``).
    ``fmt``: the log format (:data:`lrplan.laws.logformats.FORMATS`; default: detected from each log's content; a
    directory is every log in it).  A ``loss_col``/``lr_col`` other than the default also names the series (tag, key)
    of a framework log; by default its reader picks them.
    ``trunk``: the curve that logs starting well after its warmup branch off (probe runs resumed from its
    checkpoint): their LR before their first logged step is its (:func:`lrplan.laws.logs.continue_trunk`).
    ``progress``: an optional ``progress(stage, done, total)`` callback (``"curves"`` as the logs are read, then
    ``"iterations"`` as the fit runs); it does not change the result.
    """
    law_name = canonical(law.strip().lower())
    if law_name is None:
        raise LrplanError(f"--law {law!r}: unknown law; choose {choices_text()}")
    if warmup is not None and warmup not in WARMUP_CONVENTIONS:
        raise LrplanError(f"--warmup {warmup!r}: choose {choices_text(list(WARMUP_CONVENTIONS))}")
    if schedules and len(schedules) != len(logs):
        raise LrplanError(f"--schedule given {len(schedules)} time(s) for {len(logs)} log(s): give one schedule per "
                          "log, in the same order")
    if from_step is not None and to_step is not None and to_step <= from_step:
        raise LrplanError(f"--to-step {to_step} must be after --from-step {from_step}")
    run_names = split_runs(runs) if isinstance(runs, str) else None if runs is None else list(runs)
    specs: list[Any] = [None] * len(logs)
    if schedules:
        from lrplan.spec.loading import load_spec

        specs = [load_spec(s) for s in schedules]
    curves = []
    for i, (path, spec) in enumerate(zip(logs, specs)):
        if progress is not None:
            progress("curves", i, len(logs))
        curves.extend(read_any(path, fmt=fmt, step_col=step_col, loss_col=loss_col, lr_col=lr_col, run_col=run_col,
                               runs=run_names, schedule=spec, max_points=max_points,
                               require_run_col=run_col != "run", window=(from_step, to_step),
                               loss_key=None if loss_col == "loss" else loss_col,
                               lr_key=None if lr_col == "lr" else lr_col))
    seen: dict[str, int] = {}
    for c in curves:  # unique curve names (same file stem in two folders)
        k = seen.get(c.name, 0)
        seen[c.name] = k + 1
        if k:
            c.name = f"{c.name}#{k + 1}"
    if trunk is not None:
        curves = continue_trunk(curves, trunk)
    messages = [("note", f"note: {c.name}: {n}") for c in curves for n in c.notes]
    late = [] if trunk is not None else [  # logs that start well after another's warmup: branches without --trunk?
        c for c in curves if c.lr_assumed_before is not None
        and any(o is not c and c.lr_assumed_before > BRANCH_AFTER_WARMUP * warmup_length(o.lr) for o in curves)]
    messages += [("note", f"note: {c.name}: if it was resumed from another run's checkpoint (a probe), --trunk RUN "
                          f"gives it that run's LR before step {c.lr_assumed_before:,}") for c in late]
    law_curves = []
    for c in curves:
        first = max(from_step or 0, warmup_length(c.lr) + 1)  # the fit never uses warmup points
        n = int(np.sum((c.steps >= first) & (c.steps <= (to_step if to_step is not None else np.inf))))
        if n < MIN_POINTS:
            raise LrplanError(f"{c.path}: only {n} loss point(s) of {c.name} after warmup in the fit window "
                              f"{first:,}..{f'{to_step:,}' if to_step is not None else 'end'}; a fit needs at least "
                              f"{MIN_POINTS}")
        try:
            law_curves.append(c.curve(to_step))
        except ValueError as e:
            raise LrplanError(f"{c.path}: {str(e).splitlines()[0][:300]}") from None
    window: Any = "auto" if from_step is None else int(from_step)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if progress is not None:
                progress("curves", len(logs), len(logs))
            fitted = fit(law_curves, law=law_name, window=window, warmup=warmup, progress=progress)
    except ValueError as e:
        hint = next((f"; {c.name} has no LR before step {c.lr_assumed_before:,} (a warmup from 0 was assumed): if "
                     "it was resumed from another run's checkpoint, add --trunk RUN" for c in late), "")
        raise LrplanError(f"cannot fit: {str(e).splitlines()[0][:300]}{hint}") from None
    bad = [k for k, v in fitted.params.items() if not math.isfinite(v)]
    bad += [f"{c}.{k}" for c, m in fitted.metrics.items() for k, v in m.items() if not math.isfinite(v)]
    if bad:
        raise LrplanError(f"the fit did not converge to finite values ({', '.join(bad[:4])}); check the logs "
                          "(loss column, LR) or fit a narrower window with --from-step/--to-step")
    d = fitted.to_dict()
    win = d["window"]
    if to_step is not None:
        win["end"] = int(to_step)
    per = win.get("per_curve", {})
    first = min(v[0] for v in per.values()) if per else int(win.get("start", 0))
    last = max(v[1] for v in per.values()) if per else int(max(c.steps.max() for c in law_curves))
    peaks = [float(c.lr.max()) for c in law_curves]
    tps = {s.schedule_plan().tokens_per_step for s in specs if s is not None}
    from lrplan import __version__

    d["meta"].update({
        "peak_lr": max(peaks), "peak_lr_range": [min(peaks), max(peaks)],
        "fitted_step_range": [int(first), int(last)],
        "warmup_steps": sorted({int(warmup_length(c.lr)) for c in law_curves}),
        "tokens_per_step": next(iter(tps)) if len(tps) == 1 and all(s is not None for s in specs) else None,
        "fitted_curves": [c.name for c in law_curves],
        "lr_units": LR_UNITS,
        "generator": f"lrplan {__version__} fit",
    })
    d["inputs"] = [c.input_record() for c in curves]
    try:
        reloaded = FittedLaw.from_dict(d)  # what predict will load from the file
    except ValueError as e:
        raise LrplanError(f"the fit gave parameters the law cannot use ({str(e)[:200]}): the fit window may be too "
                          "short to determine them (widen --from-step/--to-step), or the loss column is not a loss in "
                          "nats/token") from None
    import yaml

    header = (f"# {law_name} law fitted by `lrplan fit` on {len(curves)} curve(s).\n"
              "# Predict with: lrplan predict SPEC.yaml --law THIS_FILE\n")
    text = header + yaml.safe_dump(d, sort_keys=False, default_flow_style=None, width=120, allow_unicode=True)
    messages.append(("note", _window_line(win, first, last)))
    from lrplan.laws.bands import undetermined_line

    line = undetermined_line(fitted.uncertainty)
    if line and not any(str(f).startswith("slow-kernel") for f in fitted.flags):  # that flag says it, and more
        messages.append(("warning", line))
    for f in fitted.flags:
        messages.append(("warning", str(f)))
        if "annealing-unidentifiable" in str(f):
            messages.append(("warning", "add a run whose LR decays (cosine, WSD, a step drop) to fit the annealing "
                                        "terms; until then predictions show no gain from annealing"))
    return LogFit(fitted, reloaded, d, text, messages)


def _window_line(win: dict[str, Any], first: int, last: int) -> str:
    """``fit window: steps 2,400..23,936 (automatic: ...); curve 2,400..23,936 (30 points), ...``."""
    if win.get("rule") == "auto":
        how = (f"automatic: after warmup and the early transient (tail RMS {win['tail_rms_log']:.2g} in log loss)"
               if "tail_rms_log" in win else f"automatic: after warmup ({win.get('note', '')})")
    elif win.get("rule") == "fixed":
        how = "--from-step"
    else:
        how = win.get("rule", "")
    per = win.get("per_curve", {})
    return (f"fit window: steps {first:,}..{last:,} ({how}); "
            + ", ".join(f"{k} {v[0]:,}..{v[1]:,} ({v[2]} points)" for k, v in per.items()))
