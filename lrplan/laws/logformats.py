"""Framework logs -> :class:`~lrplan.laws.logs.LogCurve`: Hugging Face ``trainer_state.json``, Megatron-LM stdout,
TensorBoard event files (Megatron-LM, TorchTitan, HF tags), Weights & Biases CSV exports, and directories of these.

The format is detected from the content (:func:`detect`), or forced with ``fmt``.  Each reader maps its
framework's step convention onto lrplan's: ``lr[s]`` is the LR of update ``s + 1`` (row ``s``), and a loss at
step ``s`` is the law's loss after that update (LR area ``lr[0] + ... + lr[s]``), i.e. after ``s + 1`` updates.
So a loss measured after ``n`` updates goes to step ``n - 1``, the LR of the ``m``-th update to row ``m - 1``:

===============================  ==========================================  ======================================
framework, series                logged at N means                           lrplan step
===============================  ==========================================  ======================================
HF ``eval_loss``/``eval/loss``   after N updates (global_step)               N - 1
HF ``loss``/``train/loss``       mean train loss of updates N-k+1..N          N - 2 - (k-1)//2 (window centre)
HF ``learning_rate``             LR of update N (read before sched. step)    row N - 1
Megatron stdout ``lm loss``      mean of updates N-k+1..N (log interval k)   N - 2 - (k-1)//2
Megatron ``learning rate``       LR after N scheduler steps: update N+1's    row N
Megatron validation at iter. N   after N updates                             N - 1
Megatron TB ``lm loss``          update N's loss (before its step)           N - 2
TorchTitan global_avg_loss       update N's loss (before its step)           N - 2
TorchTitan ``lr``/``lr/AdamW``   LR of update N (read before sched. step)    row N - 1
===============================  ==========================================  ======================================

A train loss of update ``N`` is measured before update ``N`` changes the weights, i.e. after ``N - 1`` updates.
Points that land before step 0 are dropped (a note says so).

numpy is imported at module level (via :mod:`lrplan.laws.logs`): import this module inside commands only;
tensorboard is imported only to read event files (``pip install 'lrplan[tensorboard]'``).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from lrplan.errors import LrplanError
from lrplan.laws.logs import (
    MAX_LOSS,
    MAX_LR,
    MAX_STEP,
    MIN_LOSS,
    LogCurve,
    _err,
    build_curve,
    read_log,
    read_text,
)

FORMATS = ("csv", "hf", "megatron", "tensorboard", "wandb")
FORMAT_HELP = "--format " + "|".join(FORMATS)
TB_EXTRA = "pip install 'lrplan[tensorboard]'"

# series names, in order of preference: (name, kind, convention)
# kind: "eval" (after N updates), "train" (per update N), "window" (mean over the logging window), "lr_next"
# (LR of update N+1), "lr_this" (LR of update N)
TAGS: dict[str, tuple[str, str]] = {
    # Hugging Face (TensorBoardCallback / WandbCallback: rewrite_logs adds train/ and eval/)
    "eval/loss": ("eval", "hf"), "train/loss": ("window", "hf"), "train/learning_rate": ("lr_this", "hf"),
    # Megatron-LM (training_log / evaluate_and_print_results)
    "lm loss validation": ("eval", "megatron"), "lm loss": ("train", "megatron"),
    "learning-rate": ("lr_next", "megatron"),
    # TorchTitan (components/metrics.py, components/optimizer/lr_scheduler.py get_metrics)
    "loss_metrics/global_avg_loss": ("train", "torchtitan"), "lr/AdamW": ("lr_this", "torchtitan"),
    "lr": ("lr_this", "torchtitan"),
}
LOSS_KINDS = ("eval", "train", "window")
FRAMEWORK = {"hf": "Hugging Face", "megatron": "Megatron-LM", "torchtitan": "TorchTitan"}


@dataclass
class Series:
    """Loss and LR points of one run on lrplan's steps (already mapped), with what they were read from."""

    run: str | None
    loss: list[tuple[int, float]]
    lr: list[tuple[int, float]]
    loss_label: str
    lr_label: str | None
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------- detection

def _is_events(raw: bytes) -> bool:
    """A TFRecord file whose first record is TensorBoard's ``file_version`` event (``brain.Event:N``)."""
    return len(raw) >= 16 and b"brain.Event:" in raw[12:80]


def sniff(raw: bytes) -> str | None:
    """The format of a file's bytes, or None."""
    if _is_events(raw):
        return "tensorboard"
    head = raw[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return "hf" if b'"log_history"' in raw else None
    text = head.decode("utf-8", "replace")
    if re.search(r"iteration\s+\d+/\s*\d+ \|", text) or "validation loss at iteration" in text:
        return "megatron"
    first = text.split("\n", 1)[0]
    if "\x00" in text or not first.strip():
        return None
    cols = [c.strip().strip('"') for c in re.split(r"[,\t;]", first)]
    if "_step" in cols or "_runtime" in cols or any(" - " in c for c in cols) and ("Step" in cols):
        return "wandb"
    if len(cols) >= 2:
        return "csv"
    return None


def _found(raw: bytes) -> str:
    """What an unrecognised file looks like, for the error line."""
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return "an empty file"
    if head.startswith(b"{"):
        try:
            keys = list(json.loads(raw.decode("utf-8-sig")))[:8]
            return "JSON with keys: " + ", ".join(map(str, keys)) + " (no 'log_history')"
        except (ValueError, UnicodeDecodeError, TypeError):
            return "text starting with '{' that is not JSON"
    if b"\x00" in head:
        return "binary data that is not a TensorBoard event file"
    return "text that is not a CSV log, a Megatron-LM log or a trainer_state.json"


# ----------------------------------------------------------------------------------------------- helpers

def _loss_ok(v: float, where: str, label: str, step: Any) -> float:
    if not math.isfinite(v):
        raise _err(where, f"{label} at step {step} is {v}: non-finite losses cannot be fitted")
    if v < MIN_LOSS or v > MAX_LOSS:
        raise _err(where, f"{label} {v:.4g} at step {step} is not a loss in nats/token")
    return v


def _lr_ok(v: float, where: str, label: str, step: Any) -> float:
    if not math.isfinite(v) or v < 0 or v > MAX_LR:
        raise _err(where, f"{label} {v:g} at step {step} is not a learning rate (must be in [0, {MAX_LR:g}])")
    return v


def _step_ok(v: Any, where: str, label: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v != int(v) or v < 0:
        raise _err(where, f"{label} {v!r} is not a step (a whole number >= 0)")
    if v > MAX_STEP:
        raise _err(where, f"{label} {v:.4g} is beyond lrplan's limit of {MAX_STEP:,} steps for logs")
    return int(v)


def map_points(kind: str, pts: Sequence[tuple[int, float]]) -> tuple[list[tuple[int, float]], int]:
    """Logged ``(N, value)`` points -> lrplan steps by the series kind; also how many fell before step 0."""
    pts = sorted(pts)
    out = []
    # the first window: the logging interval (the gap to the next point), not "since step 0" (a resumed run)
    prev = pts[0][0] - (pts[1][0] - pts[0][0]) if len(pts) > 1 else 0
    for n, v in pts:
        if kind == "eval":
            s = n - 1
        elif kind == "train":
            s = n - 2
        elif kind == "window":  # mean over updates prev+1..n: the loss at the window's centre
            k = max(n - prev, 1)
            s = n - 2 - (k - 1) // 2
        elif kind == "lr_next":
            s = n
        else:  # lr_this
            s = n - 1
        prev = n
        if s >= 0:
            out.append((s, v))
    return out, len(pts) - len(out)


def _pick(series: dict[str, list[tuple[int, float]]], loss_key: str | None, lr_key: str | None, where: str,
          what: str, kinds: dict[str, str], lr_hint: str) -> tuple[str, str | None]:
    """The loss and LR series names to use: the named ones, else validation loss when it has enough points, else
    train loss; one line naming what was found when there is none."""
    from lrplan.laws.logs import MIN_POINTS

    names = sorted(series)
    found = f"{what} with {'tags' if 'TensorBoard' in what else 'series'}: {', '.join(names)[:300] or 'none'}"
    if loss_key is not None:
        if loss_key not in series:
            raise _err(where, f"no loss series {loss_key!r} ({found}); name one with --loss-col")
        lk = loss_key
    else:
        cands = [n for n in series if kinds.get(n) in LOSS_KINDS and series[n]]
        evals = [n for n in cands if kinds[n] == "eval" and len(series[n]) >= MIN_POINTS]
        trains = [n for n in cands if kinds[n] != "eval"]
        if not cands:
            raise _err(where, f"no loss series ({found}); name it with --loss-col NAME (or {FORMAT_HELP})")
        lk = (evals or trains or cands)[0]
    if lr_key is not None:
        if lr_key not in series:
            raise _err(where, f"no LR series {lr_key!r} ({found}); name one with --lr-col or give --schedule SPEC.yaml")
        return lk, lr_key
    lrs = [n for n in series if kinds.get(n, "").startswith("lr") and series[n]]
    if not lrs:
        return lk, None
    return lk, lrs[0]


def _series_from(series: dict[str, list[tuple[int, float]]], kinds: dict[str, str], where: str, what: str,
                 run: str | None, loss_key: str | None, lr_key: str | None, need_lr: bool, fw: str = "") -> Series:
    lr_hint = "name it with --lr-col NAME or give the run's schedule with --schedule SPEC.yaml"
    lk, rk = _pick(series, loss_key, lr_key, where, what, kinds, lr_hint)
    names = ", ".join(sorted(series))[:300]
    if rk is None and need_lr:
        raise _err(where, f"no LR series ({what} with series: {names}); {lr_hint}")
    notes = []
    loss_kind = kinds.get(lk, "eval")
    loss, dropped = map_points(loss_kind, [(n, _loss_ok(v, where, lk, n)) for n, v in series[lk]])
    fw = FRAMEWORK.get(fw or (TAGS[lk][1] if lk in TAGS else ""), "")
    notes.append(f"loss from {lk!r} ({_KIND_TEXT[loss_kind]}{f', {fw} convention' if fw else ''})")
    if dropped:
        notes.append(f"{dropped} loss point(s) before lrplan's step 0 were dropped")
    lr: list[tuple[int, float]] = []
    if rk is not None:
        lr, _ = map_points(kinds.get(rk, "lr_next"), [(n, _lr_ok(v, where, rk, n)) for n, v in series[rk]])
    return Series(run, loss, lr, lk, rk, notes)


_KIND_TEXT = {"eval": "measured after N updates: step N-1", "train": "update N's loss: step N-2",
              "window": "mean over the logging window: step at its centre"}


def _curves(path: str, digest: str, stem: str, all_series: list[Series], schedule: Any, max_points: int | None,
            window: tuple[int | None, int | None]) -> list[LogCurve]:
    out = []
    multi = len(all_series) > 1
    for s in all_series:
        name = f"{stem}:{s.run}" if multi and s.run else stem
        c = build_curve(path, digest, name, s.run if multi else None, [p[0] for p in s.loss], [p[1] for p in s.loss],
                        [p[0] for p in s.lr], [p[1] for p in s.lr], s.loss_label, s.lr_label, schedule, True,
                        max_points, window, list(s.notes),
                        lr_hint="name it with --lr-col NAME or give the run's schedule with --schedule SPEC.yaml")
        out.append(c)
    return out


# ----------------------------------------------------------------------------------------------- readers

def _hf(path: str, text: str, loss_key: str | None, lr_key: str | None, need_lr: bool) -> list[Series]:
    """``trainer_state.json``: ``log_history`` entries ``{step, loss, learning_rate}`` and ``{step, eval_loss}``."""
    try:
        d = json.loads(text)
    except ValueError as e:
        raise _err(path, f"not JSON ({str(e)[:80]}); a Hugging Face trainer_state.json is JSON") from None
    hist = d.get("log_history") if isinstance(d, dict) else None
    if not isinstance(hist, list):
        keys = ", ".join(map(str, list(d)[:8])) if isinstance(d, dict) else type(d).__name__
        raise _err(path, f"JSON with keys: {keys}; no 'log_history' list: not a trainer_state.json "
                         f"(pass {FORMAT_HELP})")
    series: dict[str, list[tuple[int, float]]] = {}
    for e in hist:
        if not isinstance(e, dict) or "step" not in e:
            continue
        n = _step_ok(e["step"], path, "log_history step")
        if "train_runtime" in e:  # the end-of-training summary (train_loss is the mean of the whole run)
            continue
        for k, v in e.items():
            if k in ("step", "epoch") or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            series.setdefault(k, []).append((n, float(v)))
    kinds = {"eval_loss": "eval", "loss": "window", "learning_rate": "lr_this"}
    for k in list(series):
        if k.startswith("eval_") and k.endswith("_loss"):
            kinds.setdefault(k, "eval")
    return [_series_from(series, kinds, path, "trainer_state.json log_history", None, loss_key, lr_key, need_lr,
                         "hf")]


_MEG_ITER = re.compile(r"\biteration\s+(\d+)/\s*\d+ \|")
_MEG_FIELD = re.compile(r" ([^|:]+?): ([-+0-9.eEnaiNAIf]+) \|")
_MEG_VAL = re.compile(r"validation(\S*) loss at (?:iteration (\d+)[^|]*)\| (.*)$")
_MEG_VALUE = re.compile(r"(\S[^|]*?) value: ([-+0-9.eEnaiNAIf]+) \|")


def _megatron(path: str, text: str, loss_key: str | None, lr_key: str | None, need_lr: bool) -> list[Series]:
    """Megatron-LM's stdout: ``training_log`` lines and ``evaluate_and_print_results`` validation lines."""
    series: dict[str, list[tuple[int, float]]] = {}
    kinds: dict[str, str] = {}
    for line in text.splitlines():
        m = _MEG_ITER.search(line)
        if m and "validation" not in line[: m.start()]:
            n = int(m.group(1))
            for name, val in _MEG_FIELD.findall(line[m.end() - 2:]):
                name = name.strip()
                try:
                    v = float(val)
                except ValueError:
                    continue
                if name == "learning rate":
                    kinds[name] = "lr_next"
                elif name.endswith("loss") and name != "loss scale":
                    kinds[name] = "window"
                else:
                    continue
                series.setdefault(name, []).append((n, v))
            continue
        m = _MEG_VAL.search(line)
        if m and m.group(2) is not None:
            n = int(m.group(2))
            for name, val in _MEG_VALUE.findall(m.group(3)):
                key = f"{name.strip()} validation{m.group(1)}"
                kinds[key] = "eval"
                series.setdefault(key, []).append((n, float(val)))
    if not series:
        raise _err(path, f"no Megatron-LM 'iteration N/ M |' or 'validation loss at iteration N' lines with "
                         f"values (pass {FORMAT_HELP})")
    # the printed train loss is the mean over the log interval: the window is the gap to the previous print
    return [_series_from(series, kinds, path, "Megatron-LM log", None, loss_key, lr_key, need_lr, "megatron")]


def _csv_cells(text: str, path: str) -> tuple[list[str], list[list[str]]]:
    from lrplan.laws.logs import _rows

    header, rows = _rows(text, path)
    for line, r in rows:
        if len(r) != len(header):
            raise _err(path, f"{len(r)} fields where the header has {len(header)} (truncated or malformed row)", line)
    return header, [r for _, r in rows]


def _wandb(path: str, text: str, loss_key: str | None, lr_key: str | None, need_lr: bool) -> list[Series]:
    """A W&B CSV export: run history (``_step`` and metric columns; HF runs carry ``train/global_step``) or a
    chart export (``Step`` and ``RUN - metric`` columns, one run per prefix; ``__MIN``/``__MAX`` skipped)."""
    header, rows = _csv_cells(text, path)
    if "Step" in header and any(" - " in h for h in header) and "_step" not in header:
        by_run: dict[str, dict[str, int]] = {}
        for i, h in enumerate(header):
            if " - " in h and not h.endswith(("__MIN", "__MAX")):
                run, metric = h.rsplit(" - ", 1)
                by_run.setdefault(run, {})[metric] = i
        runs = [(run, cols, header.index("Step")) for run, cols in by_run.items()]
    else:
        cols = {h: i for i, h in enumerate(header) if not h.startswith("_")}
        step_col = "train/global_step" if "train/global_step" in header else "_step"
        runs = [(None, cols, header.index(step_col))]
    out = []
    for run, cols, i_step in runs:
        where = path + (f" (run {run})" if run else "")
        series: dict[str, list[tuple[int, float]]] = {}
        for r in rows:
            if not r[i_step].strip():
                continue
            try:
                n = _step_ok(float(r[i_step]), where, header[i_step])
            except ValueError:
                raise _err(where, f"{header[i_step]} {r[i_step][:40]!r} is not a number") from None
            for name, i in cols.items():
                c = r[i].strip()
                if not c or i == i_step:
                    continue
                try:
                    v = float(c)
                except ValueError:
                    continue  # text columns (run names, tags)
                series.setdefault(name, []).append((n, v))
        kinds = {k: TAGS[k][0] for k in series if k in TAGS}
        out.append(_series_from(series, kinds, where, "W&B export", run, loss_key, lr_key, need_lr))
    return out


def _event_files(path: str) -> list[str]:
    p = Path(path)
    if p.is_dir():
        return sorted(str(f) for f in p.iterdir() if f.is_file() and "tfevents" in f.name)
    return [path]


def _tensorboard(path: str, files: list[str], loss_key: str | None, lr_key: str | None,
                 need_lr: bool) -> list[Series]:
    """Event files of one run (one directory): scalars read with tensorboard's EventAccumulator."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import (
            EventAccumulator,
        )
    except ImportError:
        raise _err(path, f"reading TensorBoard event files needs the tensorboard package: {TB_EXTRA}") from None
    series: dict[str, dict[int, float]] = {}
    for f in files:
        try:
            acc = EventAccumulator(f, size_guidance={"scalars": 0, "tensors": 0, "histograms": 1, "images": 1,
                                                     "audio": 1, "compressedHistograms": 1})
            acc.Reload()
        except Exception as e:  # a corrupt or truncated record: tensorboard raises its own errors
            raise _err(f, f"not a readable TensorBoard event file ({type(e).__name__}: {str(e)[:100]})") from None
        tags = acc.Tags()
        for tag in tags.get("scalars", []):
            for ev in acc.Scalars(tag):
                series.setdefault(tag, {})[int(ev.step)] = float(ev.value)  # a resumed run: the later file wins
        for tag in tags.get("tensors", []):  # TF2 summaries store scalars as tensors
            try:
                import numpy as np
                from tensorboard.util import tensor_util

                for ev in acc.Tensors(tag):
                    arr = np.asarray(tensor_util.make_ndarray(ev.tensor_proto))
                    if arr.size == 1:
                        series.setdefault(tag, {})[int(ev.step)] = float(arr.reshape(-1)[0])
            except Exception:
                continue
    flat = {k: sorted(v.items()) for k, v in series.items()}
    kinds = {k: TAGS[k][0] for k in flat if k in TAGS}
    return [_series_from(flat, kinds, path, "TensorBoard events", None, loss_key, lr_key, need_lr)]


# ----------------------------------------------------------------------------------------------- entry point

def _scan_dir(root: str) -> list[tuple[str, str, list[str]]]:
    """``(label, format, files)`` for every log under ``root``: each TensorBoard run directory is one entry (all
    its event files); of HF ``checkpoint-*/trainer_state.json`` copies only the newest per output directory."""
    from lrplan.spec.files import read_bytes

    entries: list[tuple[str, str, list[str]]] = []
    hf_by_dir: dict[str, tuple[int, str]] = {}
    for d, dirs, files in os.walk(root):
        dirs.sort()
        events = sorted(f for f in files if "tfevents" in f)
        if events:
            entries.append((d, "tensorboard", [os.path.join(d, f) for f in events]))
        for f in sorted(files):
            full = os.path.join(d, f)
            if f in events or not os.path.isfile(full) or f.startswith("."):
                continue
            if f == "trainer_state.json":
                parent = os.path.dirname(d) if os.path.basename(d).startswith("checkpoint-") else d
                m = re.search(r"checkpoint-(\d+)$", d)
                rank = int(m.group(1)) if m else 1 << 62
                if parent not in hf_by_dir or rank > hf_by_dir[parent][0]:
                    hf_by_dir[parent] = (rank, full)
                continue
            if not f.lower().endswith((".csv", ".log", ".txt", ".json", ".out", ".tsv")):
                continue
            try:
                fmt = sniff(read_bytes(full, "log")[:1 << 20])
            except LrplanError:
                continue
            if fmt is not None:
                entries.append((full, fmt, [full]))
    entries += [(p, "hf", [p]) for _, p in sorted(hf_by_dir.values(), key=lambda t: t[1])]
    return sorted(entries, key=lambda e: e[0])


def read_any(path: str | Path, *, fmt: str | None = None, step_col: str = "step", loss_col: str = "loss",
             lr_col: str = "lr", run_col: str = "run", runs: Sequence[str] | None = None, schedule: Any = None,
             max_points: int | None = None, require_run_col: bool = False,
             window: tuple[int | None, int | None] = (None, None), loss_key: str | None = None,
             lr_key: str | None = None) -> list[LogCurve]:
    """Read a log (or a directory of logs) in any supported format into one :class:`LogCurve` per run/file.

    ``fmt``: one of :data:`FORMATS` (default: detected from the content).  ``step_col``/``loss_col``/``lr_col``/
    ``run_col`` are the CSV columns; ``loss_key``/``lr_key`` name the series (tag, key, column) of a framework log
    (default: the reader picks validation loss when it has enough points, else train loss, and the LR series)."""
    from lrplan.spec.files import InputError, read_bytes

    p = str(path)
    if fmt is not None and fmt not in FORMATS:
        raise LrplanError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    kw = dict(step_col=step_col, loss_col=loss_col, lr_col=lr_col, run_col=run_col, runs=runs, schedule=schedule,
              max_points=max_points, require_run_col=require_run_col, window=window, loss_key=loss_key, lr_key=lr_key)
    if p != "-" and os.path.isdir(p):
        entries = _scan_dir(p)
        if fmt is not None:
            entries = [e for e in entries if e[1] == fmt]
        if not entries:
            raise _err(p, f"it is a directory with no log lrplan can read (trainer_state.json, Megatron-LM log, "
                          f"TensorBoard events, W&B or step/loss/lr CSV){f' of --format {fmt}' if fmt else ''}")
        out: list[LogCurve] = []
        for label, f, files in entries:
            if f == "tensorboard":
                out.extend(_read_tb(label, files, **kw))
            else:
                out.extend(read_any(label, fmt=f, **kw))
        for c in out:  # name each curve by its place in the directory
            rel = os.path.relpath(c.path, p)
            if c.path != p and c.name == Path(c.path).stem:
                c.name = rel if rel != "." else Path(p).name
        return out
    try:
        raw = read_bytes(path, "log")
    except InputError as e:
        raise _err(p, str(e).split(": ", 1)[1].replace("cannot read log: ", "cannot read the log: ")) from None
    found = fmt or sniff(raw)
    if found is None and not raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        found = "csv"  # text of no known format: the CSV reader says what is wrong with it (columns, bytes)
    if found is None:
        raise _err(p, f"not a log format lrplan knows: {_found(raw)}; pass {FORMAT_HELP} "
                      "(csv needs step, loss and lr columns)")
    if found == "csv":
        return read_log(path, step_col=step_col, loss_col=loss_col, lr_col=lr_col, run_col=run_col, runs=runs,
                        schedule=schedule, max_points=max_points, require_run_col=require_run_col, window=window)
    if found == "tensorboard":
        if not _is_events(raw):
            raise _err(p, f"not a TensorBoard event file: {_found(raw)}")
        return _read_tb(p, [p], **kw)
    text, digest = read_text(path, "log")
    reader = {"hf": _hf, "megatron": _megatron, "wandb": _wandb}[found]
    series = reader(p, text, loss_key, lr_key, schedule is None)
    return _curves(p, digest, Path(p).stem, series, schedule, max_points, window)


def _read_tb(label: str, files: list[str], *, schedule: Any, max_points: int | None,
             window: tuple[int | None, int | None], loss_key: str | None, lr_key: str | None,
             **_: Any) -> list[LogCurve]:
    import hashlib

    from lrplan.spec.files import InputError, read_bytes

    h = hashlib.sha256()
    for f in files:
        try:
            raw = read_bytes(f, "log")  # limits, devices, FIFOs: before tensorboard opens the file
        except InputError as e:
            raise _err(f, str(e).split(": ", 1)[1]) from None
        h.update(raw)
    series = _tensorboard(label, files, loss_key, lr_key, schedule is None)
    stem = Path(label).name if os.path.isdir(label) else Path(label).parent.name or Path(label).stem
    return _curves(label, h.hexdigest(), stem, series, schedule, max_points, window)
