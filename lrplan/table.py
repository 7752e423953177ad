"""Per-step tables (CSV / JSON) written in vectorised chunks, and atomic output files."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator, Literal

import numpy as np

from lrplan.errors import LrplanError
from lrplan.numfmt import float_matrix, int_matrix, join_rows, text_matrix
from lrplan.render import SchedulePlan

TableFormat = Literal["csv", "json"]


def _lr_matrix(lr: np.ndarray) -> np.ndarray:
    """Format LRs, formatting each run of equal values once (stable phases cost nothing)."""
    n = lr.size
    if n == 0:
        return np.zeros((0, 1), dtype=np.uint8)
    starts = np.flatnonzero(np.concatenate(([True], lr[1:] != lr[:-1])))
    if starts.size * 2 > n:
        return float_matrix(lr)
    reps = np.diff(np.append(starts, n))
    return np.repeat(float_matrix(lr[starts]), reps, axis=0)


def kept_steps(plan: SchedulePlan, pos: int, end: int, every: int) -> np.ndarray:
    """Rows kept by ``--every N`` in ``[pos, end)``: multiples of N, the first and last step of every phase
    (so the last step of the run too)."""
    first = -(-pos // every) * every
    grid = np.arange(first, end, every, dtype=np.int64)
    edges = np.array([s.start for s in plan.segments] + [s.end - 1 for s in plan.segments], dtype=np.int64)
    edges = edges[(edges >= pos) & (edges < end)]
    return np.union1d(grid, edges)


def _rows(plan: SchedulePlan, pos: int, end: int, every: int | None):
    """The chunk's rows; with thinning only the kept steps are evaluated (a 1e9-step run with --every 1000
    costs what a 1e6-step run does)."""
    if not every or every <= 1:
        yield from plan.chunks(start=pos, stop=end, size=end - pos)
        return
    from lrplan.render import Chunk

    steps = kept_steps(plan, pos, end, every)
    if steps.size == 0:
        return
    phase = (np.searchsorted(plan._starts, steps, side="right") - 1).astype(np.int32)
    yield Chunk(steps, plan.tokens_at(steps), plan.lr_at(steps), phase)


def _format_chunk(plan: SchedulePlan, fmt: TableFormat, every: int | None, pos: int, end: int, first: bool) -> bytes:
    """One chunk of rows ``[pos, end)`` as bytes (no header)."""
    labels = [s.phase.encode() for s in plan.segments]
    out = []
    for ch in _rows(plan, pos, end, every):
        steps, tokens, lr, phase = ch.step, ch.tokens, ch.lr, ch.phase
        if steps.size == 0:
            continue
        sm, lm, pm = int_matrix(steps), _lr_matrix(lr), text_matrix(phase, labels)
        tm = int_matrix(tokens) if tokens is not None else None
        bm = int_matrix(plan.batch_at(steps)) if plan.variable_batch else None
        if fmt == "csv":
            parts = [sm, b","] + ([tm] if tm is not None else []) + [b",", lm, b",", pm]
            parts += [b",", bm, b"\n"] if bm is not None else [b"\n"]
        else:
            sep = np.full((steps.size, 2), (ord(","), ord("\n")), dtype=np.uint8)
            if first:
                sep[0] = 0
            tok = [tm] if tm is not None else [b"null"]
            parts = [sep, b'{"step":', sm, b',"tokens":', *tok, b',"lr":', lm, b',"phase":"', pm, b'"']
            parts += [b',"batch_size":', bm, b"}"] if bm is not None else [b"}"]
        out.append(join_rows(parts))
    return b"".join(out)


_WORKER_PLAN: SchedulePlan | None = None  # set in the parent before forking; the workers inherit it


def _worker(args: tuple) -> bytes:
    assert _WORKER_PLAN is not None
    return _format_chunk(_WORKER_PLAN, *args)


PARALLEL_ROWS = 2_000_000  # below this, one process is faster than starting workers


def table_chunks(plan: SchedulePlan, fmt: TableFormat = "csv", every: int | None = None, chunk: int = 1 << 16,
                 workers: int | None = None) -> Iterator[bytes]:
    """Yield the table as byte chunks: columns ``step,tokens,lr,phase`` (+ ``batch_size`` under a batch-size
    schedule; tokens empty / null when unknown). Long tables are formatted by two forked workers (in order, so
    the bytes are identical to a single-process run)."""
    batch = plan.variable_batch
    if fmt == "csv":
        yield b"step,tokens,lr,phase,batch_size\n" if batch else b"step,tokens,lr,phase\n"
    else:
        yield b"[\n"
    n = plan.total_steps
    span = chunk * max(1, every or 1)  # each chunk covers about `chunk` output rows
    bounds = [(p, min(n, p + span)) for p in range(0, n, span)]
    rows = n // max(1, every or 1)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if rows >= PARALLEL_ROWS else 1
    pool = None
    if workers > 1:
        import multiprocessing as mp

        if "fork" in mp.get_all_start_methods():
            global _WORKER_PLAN
            _WORKER_PLAN = plan
            pool = mp.get_context("fork").Pool(workers)
    # JSON: the first row has no leading comma; it is step 0, which every thinning keeps, in chunk 0
    args = [(fmt, every, a, b, i == 0) for i, (a, b) in enumerate(bounds)]
    try:
        it = pool.imap(_worker, args, chunksize=4) if pool is not None else (_format_chunk(plan, *a) for a in args)
        for data in it:
            if data:
                yield data
    finally:
        if pool is not None:
            pool.terminate()
            _WORKER_PLAN = None
    if fmt == "json":
        yield b"\n]\n"


@contextlib.contextmanager
def atomic_output(path: str | None) -> Iterator[BinaryIO]:
    """Open ``path`` for binary writing so that a failure never leaves a half-written file: write a temporary
    file beside it and rename it into place on success. ``None`` or ``-`` is stdout; device files such as
    ``/dev/null`` are written directly."""
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    p = Path(path)
    try:
        st = p.stat()
        special = not stat.S_ISREG(st.st_mode)
    except FileNotFoundError:
        special = False
    except OSError as e:
        raise LrplanError(f"cannot write {path}: {e.strerror}") from None
    if special:
        try:
            with open(p, "wb") as fh:
                yield fh
        except OSError as e:
            raise LrplanError(f"cannot write {path}: {e.strerror}") from None
        return
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise LrplanError(f"cannot write {path}: directory {parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=parent)
    except OSError as e:
        raise LrplanError(f"cannot write {path}: {e.strerror}") from None
    ok = False
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, p)
        ok = True
    except OSError as e:
        raise LrplanError(f"cannot write {path}: {e.strerror}") from None
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def estimate_bytes(plan: SchedulePlan, every: int | None) -> int:
    """Rough size of the CSV table, to warn before writing something absurd."""
    rows = plan.total_steps // max(1, every or 1) + 2 * len(plan.segments)
    last_tokens = plan.tokens_at(np.array([plan.total_steps]))
    digits = len(str(plan.total_steps)) + (len(str(int(last_tokens[0]))) if last_tokens is not None else 0)
    return rows * (digits + 30)
