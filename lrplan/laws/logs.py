"""Training logs (CSV) -> loss curves with a per-step LR, for ``lrplan fit`` and ``lrplan predict --lr-csv``.

A log is a CSV file with a header row: a step column and a loss column (default names ``step`` and ``loss``),
optionally an ``lr`` column and a ``run`` column (several runs in one file).  Rules (every problem is one
:class:`~lrplan.errors.LrplanError` line naming the file, never a traceback):

* the file must be UTF-8 text (a BOM is fine), non-empty, with a header and at least one data row; comma
  separated (tab or semicolon when the header has no comma); every row has as many fields as the header;
* an empty cell means "not logged at this step" (wandb/tensorboard exports leave gaps); any other cell of a used
  column must be a number: ``nan``/``inf``, negative steps, non-integer steps and non-positive losses are errors;
* rows out of step order are sorted, and the losses (and LRs) of duplicate steps are averaged (a note says so);
* the per-step LR comes from the ``lr`` column -- logged every step or every N steps: linearly interpolated onto
  every step from 0; before the first logged step, a linear warmup from 0 is assumed (a note says so) -- or from
  a schedule spec (``--schedule``), whose render gives the LR of every step (``lr[s]`` = LR of update ``s + 1``);
* a curve needs at least ``MIN_POINTS`` usable loss points (after the LR is known and non-zero).

Long per-step curves are thinned to ``max_points`` points per curve by taking the median loss (and median step)
of equal-width step bins: robust to loss spikes and noise, and keeps fits fast (a note says so).

numpy is imported at module level: import this module inside commands only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from lrplan.errors import LrplanError
from lrplan.laws.warmup import warmup_length

MIN_POINTS = 5
MAX_STEP = 20_000_000  # a per-step LR array of this length is 160 MB: far beyond any log we expect to fit
MAX_LOSS = 1e4  # nats per token; larger values are almost certainly perplexities or a wrong column
MIN_LOSS = 1e-12  # nats per token; smaller is no language-model loss (an underflow, a wrong column)
MAX_LR = 1e3
DEFAULT_MAX_POINTS = 500
BRANCH_AFTER_WARMUP = 2
"""A log whose first LR comes after this many times a run's warmup may be a branch of it
(:func:`continue_trunk`); one that starts earlier is a run logged from its first log interval, its warmup
assumed."""
ASSUMED_WARMUP_NOTE = "no LR before step "
"""How the note on an assumed warmup begins (:func:`build_curve`; a branch drops it, :func:`continue_trunk`)."""


@dataclass
class LogCurve:
    """One curve read from a log: losses at ``steps`` and the per-step ``lr`` (index = step, from 0)."""

    name: str
    path: str
    sha256: str
    steps: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    lr_source: str
    run: str | None = None
    notes: list[str] = field(default_factory=list)
    lr_assumed_before: int | None = None  # first logged LR step when a warmup from 0 was assumed before it
    branch_of: tuple[str, int] | None = None  # (trunk curve, branch step): LR before the step is the trunk's

    def curve(self, to_step: int | None = None):
        """The :class:`lrplan.laws.Curve` (optionally cut at ``to_step``)."""
        from lrplan.laws.fitted import Curve

        steps, loss = self.steps, self.loss
        if to_step is not None:
            keep = steps <= to_step
            steps, loss = steps[keep], loss[keep]
        return Curve(self.name, steps, loss, self.lr[: int(steps.max()) + 1] if steps.size else self.lr)

    def input_record(self) -> dict[str, Any]:
        """What ``law.yaml`` records about this input."""
        d: dict[str, Any] = {"file": self.path, "sha256": self.sha256, "curve": self.name, "lr_source": self.lr_source,
                             "points": int(self.steps.size), "steps": [int(self.steps[0]), int(self.steps[-1])],
                             "peak_lr": float(self.lr.max())}
        if self.run is not None:
            d["run"] = self.run
        if self.lr_assumed_before is not None:
            d["lr_assumed_linear_warmup_before"] = int(self.lr_assumed_before)
        if self.branch_of is not None:
            d["branch_of"] = {"curve": self.branch_of[0], "from_step": int(self.branch_of[1])}
        if self.notes:
            d["notes"] = list(self.notes)
        return d


def _err(path: str, msg: str, line: int | None = None) -> LrplanError:
    return LrplanError(f"{path}{f':{line}' if line is not None else ''}: {msg}")


def read_text(path: str | Path, what: str = "log") -> tuple[str, str]:
    """``(text, sha256)`` of a UTF-8 file; one-line errors for unreadable, empty or non-UTF-8 files."""
    from lrplan.spec.files import InputError, read_bytes

    p = str(path)
    try:
        raw = read_bytes(path, what)
    except InputError as e:  # not a regular file, too large, unreadable: one line naming the file
        raise _err(p, str(e).split(": ", 1)[1].replace(f"cannot read {what}: ", f"cannot read the {what}: ")) from None
    csv_like = what in ("log", "LR table")
    if not raw.strip():
        raise _err(p, f"empty file: a {what} needs a header row and data rows" if csv_like
                   else f"empty file: not a {what} file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _err(p, f"not UTF-8 text (byte {e.start}); "
                   + (f"export the {what} as UTF-8 CSV" if csv_like else f"save the {what} file as UTF-8")) from None
    if "\x00" in text:
        raise _err(p, f"contains NUL bytes: not a text {what}")
    return text, hashlib.sha256(raw).hexdigest()


def _rows(text: str, path: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and data rows (with 1-based line numbers); blank lines are skipped."""
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delim = "," if "," in first else "\t" if "\t" in first else ";" if ";" in first else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
        rows = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    except csv.Error as e:
        raise _err(path, f"not a readable CSV file ({e})") from None
    if not rows:
        raise _err(path, "empty file: a log needs a header row and data rows")
    header = [h.strip() for h in rows[0][1]]
    if len(rows) == 1:
        raise _err(path, f"only a header row ({', '.join(header)[:200]}): no data rows")
    return header, rows[1:]


def _column(header: list[str], name: str) -> int | None:
    if name in header:
        return header.index(name)
    low = [h.lower() for h in header]
    return low.index(name.lower()) if name.lower() in low else None


def _num(cell: str, path: str, line: int, col: str) -> float | None:
    s = cell.strip()
    if not s:
        return None
    try:
        if "_" in s or not s.isascii():  # float() would accept 1_000 and non-ASCII digits
            raise ValueError(s)
        v = float(s)
    except ValueError:
        raise _err(path, f"{col} {s[:40]!r} is not a number", line) from None
    if not math.isfinite(v):
        raise _err(path, f"{col} is {s[:20]}; remove the row (non-finite values cannot be fitted)", line)
    return v


def _step(cell: str, path: str, line: int, col: str) -> int | None:
    v = _num(cell, path, line, col)
    if v is None:
        return None
    if v != int(v):
        raise _err(path, f"{col} {cell.strip()[:40]!r} is not a whole number", line)
    if v < 0:
        raise _err(path, f"{col} {int(v)} is negative", line)
    if v > MAX_STEP:
        raise _err(path, f"{col} {v:.4g} is beyond lrplan's limit of {MAX_STEP:,} steps for logs", line)
    return int(v)


def _dedupe(steps: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Sort by step and average duplicate steps: (steps, values, n_duplicates, was_unsorted)."""
    unsorted = bool(np.any(np.diff(steps) < 0))
    u, inv, counts = np.unique(steps, return_inverse=True, return_counts=True)
    out = np.bincount(inv, weights=vals, minlength=u.size) / counts
    return u, out, int(steps.size - u.size), unsorted


def lr_from_points(steps: np.ndarray, lr: np.ndarray, length: int) -> tuple[np.ndarray, int | None, bool]:
    """Per-step LR of length ``length`` from logged ``(steps, lr)`` points (sorted, unique): linear interpolation,
    a linear warmup from 0 before the first point when it is after step 0, held after the last point.
    Returns ``(lr, first_step_if_warmup_assumed, held_after_last)``."""
    s = np.arange(length, dtype=float)
    out = np.interp(s, steps.astype(float), lr)
    assumed = None
    s0 = int(steps[0])
    if s0 > 0:
        n = min(s0, length)
        out[:n] = lr[0] * s[:n] / s0
        assumed = s0
    return out, assumed, bool(length - 1 > int(steps[-1]))


def read_log(path: str | Path, *, step_col: str = "step", loss_col: str = "loss", lr_col: str = "lr",
             run_col: str = "run", runs: Sequence[str] | None = None, schedule: Any = None,
             need_loss: bool = True, max_points: int | None = DEFAULT_MAX_POINTS, require_run_col: bool = False,
             window: tuple[int | None, int | None] = (None, None)) -> list[LogCurve]:
    """Read one CSV log into one :class:`LogCurve` per run (see the module docstring for the rules).

    ``schedule``: a loaded :class:`lrplan.spec.models.Spec` (or a path) whose per-step LR replaces the ``lr`` column.
    ``need_loss=False`` reads a plain LR table (``step,lr``) -- the curve's ``loss`` is then empty.
    ``require_run_col``: the user named the run column, so it must exist.  ``window`` ``(first, last)`` step:
    loss points outside it are dropped before thinning (so a narrow window keeps its resolution).
    """
    p = str(path)
    text, digest = read_text(path, what="log" if need_loss else "LR table")
    header, rows = _rows(text, p)
    cols = ", ".join(header)[:200]
    i_step = _column(header, step_col)
    if i_step is None:
        raise _err(p, f"no {step_col!r} column (columns: {cols}); name it with --step-col")
    i_loss = _column(header, loss_col) if need_loss else None
    if need_loss and i_loss is None:
        raise _err(p, f"no {loss_col!r} column (columns: {cols}); name it with --loss-col")
    i_lr = _column(header, lr_col)
    if not need_loss and i_lr is None:
        raise _err(p, f"no {lr_col!r} column (columns: {cols}); an LR table needs columns step,lr")
    if schedule is None and i_lr is None:
        raise _err(p, f"no way to know the LR: no {lr_col!r} column (columns: {cols}); name it with --lr-col "
                      "or give the run's schedule with --schedule SPEC.yaml")
    i_run = _column(header, run_col)
    if runs and i_run is None:
        raise _err(p, f"--runs needs a {run_col!r} column (columns: {cols}); name it with --run-col")
    if require_run_col and i_run is None:
        raise _err(p, f"--run-col {run_col!r}: no such column (columns: {cols})")
    n_fields = len(header)
    for line, r in rows:
        if len(r) != n_fields:
            raise _err(p, f"{len(r)} fields where the header has {n_fields} (truncated or malformed row)", line)
    if i_run is not None and not runs and not require_run_col and not any(r[i_run].strip() for _, r in rows):
        i_run = None  # an empty run column (a one-run export): not a multi-run file
    groups: dict[str | None, list[tuple[int, list[str]]]] = {}
    for line, r in rows:
        key = r[i_run].strip() if i_run is not None else None
        if key == "":
            raise _err(p, f"empty {run_col!r} cell: every row of a multi-run file needs its run name", line)
        groups.setdefault(key, []).append((line, r))
    if runs:
        missing = [r for r in runs if r not in groups]
        if missing:
            have = ", ".join(str(k) for k in groups)[:200]
            raise _err(p, f"no run {missing[0]!r} in the {run_col!r} column (runs: {have})")
        keys: list[str | None] = list(runs)
    else:
        keys = list(groups)
    stem = Path(p).stem
    multi = len(keys) > 1 or bool(runs)
    out = []
    for key in keys:
        name = f"{stem}:{key}" if multi and key is not None else stem
        out.append(_one_curve(p, digest, name, key, groups[key], i_step, i_loss, i_lr, header, schedule,
                              need_loss, max_points, window))
    return out


def _one_curve(p: str, digest: str, name: str, run: str | None, rows: list[tuple[int, list[str]]], i_step: int,
               i_loss: int | None, i_lr: int | None, header: list[str], schedule: Any, need_loss: bool,
               max_points: int | None, window: tuple[int | None, int | None] = (None, None)) -> LogCurve:
    where = f"{p}" + (f" (run {run})" if run is not None else "")
    notes: list[str] = []
    ls, lv, rs, rv = [], [], [], []
    for line, r in rows:
        st = _step(r[i_step], p, line, header[i_step])
        if st is None:
            continue
        if i_loss is not None:
            v = _num(r[i_loss], p, line, header[i_loss])
            if v is not None:
                if v <= 0:
                    raise _err(p, f"{header[i_loss]} {v:g} is not positive (a loss in nats is > 0)", line)
                if v < MIN_LOSS:
                    raise _err(p, f"{header[i_loss]} {v:g} is too small for a loss in nats (below {MIN_LOSS:g}: an "
                               "underflow or a wrong column?); fix or remove the row", line)
                if v > MAX_LOSS:
                    raise _err(p, f"{header[i_loss]} {v:.4g} is implausibly large for a loss in nats (a perplexity?)",
                               line)
                ls.append(st)
                lv.append(v)
        if i_lr is not None and schedule is None:
            v = _num(r[i_lr], p, line, header[i_lr])
            if v is not None:
                if v < 0 or v > MAX_LR:
                    raise _err(p, f"{header[i_lr]} {v:g} is not a learning rate (must be in [0, {MAX_LR:g}])", line)
                rs.append(st)
                rv.append(v)
    return build_curve(p, digest, name, run, ls, lv, rs, rv, header[i_loss] if i_loss is not None else None,
                       header[i_lr] if i_lr is not None else None, schedule, need_loss, max_points, window, notes)


def build_curve(p: str, digest: str, name: str, run: str | None, ls: Sequence[int], lv: Sequence[float],
                rs: Sequence[int], rv: Sequence[float], loss_label: str | None, lr_label: str | None, schedule: Any,
                need_loss: bool, max_points: int | None, window: tuple[int | None, int | None] = (None, None),
                notes: list[str] | None = None, lr_hint: str = "give the schedule with --schedule SPEC.yaml"
                ) -> LogCurve:
    """A :class:`LogCurve` from checked loss points ``(ls, lv)`` and LR points ``(rs, rv)`` on lrplan's steps
    (any order, duplicates averaged): the per-step LR, the warmup/zero-LR rules, the window and the thinning.
    ``loss_label``/``lr_label`` name the series in messages (``lr_label=None``: no LR series)."""
    where = f"{p}" + (f" (run {run})" if run is not None else "")
    notes = [] if notes is None else notes
    if need_loss:
        if not ls:
            raise _err(where, f"no loss values in column {loss_label!r}")
        steps, loss, dup, unsorted = _dedupe(np.array(ls, dtype=np.int64), np.array(lv, dtype=float))
        if unsorted:
            notes.append("rows were not in step order: sorted by step")
        if dup:
            notes.append(f"{dup} duplicate step(s): their losses were averaged")
    else:
        steps, loss = np.array(sorted(set(rs)), dtype=np.int64), np.empty(0)
    # --- the per-step LR
    assumed = None
    if schedule is not None:
        lr = _schedule_lr(schedule)
        src = f"schedule:{getattr(schedule, 'source', None) or schedule}"
        if lr_label is not None:
            notes.append(f"the {lr_label!r} column is ignored: the LR comes from the schedule")
        if need_loss:
            past = steps >= lr.size
            if past.any():
                over = steps[past]
                if over.min() > lr.size or over.size > 1:
                    raise _err(where, f"the log reaches step {int(steps.max()):,} but the schedule has only "
                                      f"{lr.size:,} steps (0..{lr.size - 1:,}); is it the run's schedule?")
                notes.append(f"the row at step {lr.size:,} (after the schedule's last update) was dropped")
                steps, loss = steps[~past], loss[~past]
    else:
        if not rv:
            raise _err(where, f"no way to know the LR: column {lr_label!r} has no values; {lr_hint}")
        lr_name = str(lr_label)
        _refuse_runs_merged(where, lr_name, np.array(rs, dtype=np.int64), np.array(rv, dtype=float))
        rsteps, rvals, rdup, _ = _dedupe(np.array(rs, dtype=np.int64), np.array(rv, dtype=float))
        if rdup and not need_loss:
            notes.append(f"{rdup} duplicate step(s): their LRs were averaged")
        length = int(max(steps.max() if steps.size else 0, rsteps.max())) + 1
        lr, assumed, held = lr_from_points(rsteps, rvals, length)
        src = "column:" + lr_name
        if rsteps.size < int(rsteps[-1] - rsteps[0]) + 1:
            notes.append(f"LR logged at {rsteps.size:,} of the {int(rsteps[-1] - rsteps[0]) + 1:,} steps "
                         f"{int(rsteps[0]):,}..{int(rsteps[-1]):,}: linearly interpolated between them")
        if assumed is not None:
            notes.append(f"{ASSUMED_WARMUP_NOTE}{assumed:,}: assumed a linear warmup from 0 to {rvals[0]:.4g}")
        if held:
            notes.append(f"no LR after step {int(rsteps[-1]):,}: held at {rvals[-1]:.4g}")
    if not np.any(lr > 0):
        raise _err(where, "the LR is 0 at every step: nothing to fit or predict")
    if need_loss:
        area = np.cumsum(lr)
        zero = area[steps] <= 0
        if zero.any():
            notes.append(f"{int(zero.sum())} loss point(s) before the first non-zero LR were dropped")
            steps, loss = steps[~zero], loss[~zero]
        if steps.size < MIN_POINTS:
            raise _err(where, f"only {steps.size} usable loss point(s); a fit needs at least {MIN_POINTS}")
        lo, hi = window
        if lo is not None or hi is not None:  # only the window is fitted: thin inside it
            keep = (steps >= (lo or 0)) & (steps <= (hi if hi is not None else steps.max()))
            steps, loss = steps[keep], loss[keep]
        if max_points and steps.size > max_points:
            n0 = steps.size
            steps, loss = thin(steps, loss, max_points)
            notes.append(f"{n0:,} loss points thinned to {steps.size:,} (median of equal step bins)")
    return LogCurve(name, p, digest, steps, loss, lr, src, run, notes, assumed)


def continue_trunk(curves: Sequence[LogCurve], trunk: str) -> list[LogCurve]:
    """``curves`` with every log that starts well after the trunk's warmup (:data:`BRANCH_AFTER_WARMUP`) read as
    a branch of the curve named ``trunk``: a probe run resumed from the trunk's checkpoint logs only from its
    branch point, so its LR before its first logged LR step is the trunk's, not the linear warmup from 0 a log
    would otherwise be given. Its loss points stay its own (the trunk's are the trunk curve's). A log whose first
    LR comes earlier (a run logged from iteration 100, say) is a run of its own and stays as it is. ``trunk`` names
    a curve (``file:run``), a run, or a file stem; it must be one of ``curves``, its LR reaching each branch."""
    matches = [c for c in curves if trunk in (c.name, c.run, Path(c.path).stem)]
    names = ", ".join(c.name for c in curves)[:200]
    if not matches:
        raise LrplanError(f"--trunk {trunk!r}: no such curve among the logs' curves ({names}); name one of them, "
                          "and give the trunk's log as a LOG too")
    if len(matches) > 1:
        which = ", ".join(c.name for c in matches)[:200]
        raise LrplanError(f"--trunk {trunk!r} names {len(matches)} curves ({which}); give the full curve name "
                          "(file:run)")
    t = matches[0]
    after = BRANCH_AFTER_WARMUP * max(t.lr_assumed_before or 0, warmup_length(t.lr))  # branches start well after it
    out, spliced = [], 0
    for c in curves:
        b0 = c.lr_assumed_before
        if c is t or b0 is None or b0 <= after:
            out.append(c)
            continue
        if t.lr.size < b0:
            raise LrplanError(f"--trunk {trunk!r}: {c.name} starts at step {b0:,} but {t.name}'s LR ends at step "
                              f"{t.lr.size - 1:,}; the trunk's log must reach the branch point (log its LR up to "
                              "there)")
        lr = np.concatenate([t.lr[:b0], c.lr[b0:]])
        notes = [n for n in c.notes if not n.startswith(ASSUMED_WARMUP_NOTE)]
        notes.append(f"a branch of {t.name} at step {b0:,}: its LR before that step is {t.name}'s")
        out.append(LogCurve(c.name, c.path, c.sha256, c.steps, c.loss, lr, f"{t.name}[:{b0}]+{c.lr_source}", c.run,
                            notes, None, (t.name, b0)))
        spliced += 1
    if not spliced:
        raise LrplanError(f"--trunk {trunk!r}: no other log starts after step {after:,} ({BRANCH_AFTER_WARMUP}x "
                          f"{t.name}'s warmup), so none is a branch of it (curves: {names}); a probe's log starts at "
                          "its branch point")
    return out


def _refuse_runs_merged(where: str, col: str, steps: np.ndarray, lr: np.ndarray) -> None:
    """The same step logged with different LRs: several runs in one file without a run column (averaging them
    would fit a schedule no run had)."""
    if steps.size < 2:
        return
    o = np.argsort(steps, kind="stable")
    st, v = steps[o], lr[o]
    same = st[1:] == st[:-1]
    diff = same & ~np.isclose(v[1:], v[:-1], rtol=1e-4, atol=0.0)  # float32 or %.6g copies of one LR are the same
    if diff.any():
        k = int(np.argmax(diff))
        raise _err(where, f"step {int(st[k]):,} is logged with different {col} values ({v[k]:.10g} and "
                          f"{v[k + 1]:.10g}): "
                          "several runs in one file? name the run column with --run-col (and pick runs with --runs)")


def _schedule_lr(schedule: Any) -> np.ndarray:
    from lrplan.spec.loading import load_spec
    from lrplan.spec.models import Spec

    spec = schedule if isinstance(schedule, Spec) else load_spec(schedule)
    return spec.render().lr


def thin(steps: np.ndarray, loss: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n`` points: the median step and median loss of ``n`` equal-width step bins (empty bins skipped)."""
    edges = np.linspace(steps[0], steps[-1] + 1, n + 1)
    b = np.clip(np.searchsorted(edges, steps, side="right") - 1, 0, n - 1)
    st, lo = [], []
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    ends = np.r_[starts[1:], b.size]
    for a, e in zip(starts, ends):
        st.append(int(np.median(steps[a:e])))
        lo.append(float(np.median(loss[a:e])))
    s, v, _, _ = _dedupe(np.array(st, dtype=np.int64), np.array(lo))
    return s, v


def read_lr_table(path: str | Path, *, step_col: str = "step", lr_col: str = "lr") -> LogCurve:
    """A plain LR table (``step,lr``; sparse rows are interpolated) as a :class:`LogCurve` without losses."""
    curves = read_log(path, step_col=step_col, lr_col=lr_col, run_col="run", need_loss=False, max_points=None)
    if len(curves) > 1:
        names = ", ".join(str(c.run) for c in curves)[:120]
        raise _err(str(path), f"{len(curves)} runs in its 'run' column ({names}): "
                              "an LR table is one schedule; give each run its own file")
    return curves[0]
