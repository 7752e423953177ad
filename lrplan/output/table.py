"""Per-step tables (CSV / JSON) written in vectorised chunks, and atomic output files."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Literal

import numpy as np

from lrplan.errors import LrplanError
from lrplan.output.numfmt import float_matrix, int_matrix, join_rows, text_matrix
from lrplan.schedules.render import SchedulePlan

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
    from lrplan.schedules.render import Chunk

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




def _header(plan: SchedulePlan, fmt: TableFormat) -> bytes:
    if fmt == "csv":
        return b"step,tokens,lr,phase,batch_size\n" if plan.variable_batch else b"step,tokens,lr,phase\n"
    return b"[\n"


def _bounds(plan: SchedulePlan, every: int | None, chunk: int) -> list[tuple[int, int]]:
    n = plan.total_steps
    span = chunk * max(1, every or 1)  # each chunk covers about `chunk` output rows
    return [(p, min(n, p + span)) for p in range(0, n, span)]


def table_chunks(plan: SchedulePlan, fmt: TableFormat = "csv", every: int | None = None, chunk: int = 1 << 16,
                 progress: "Callable[[str, int, int | None], None] | None" = None) -> Iterator[bytes]:
    """Yield the table as byte chunks: columns ``step,tokens,lr,phase`` (+ ``batch_size`` under a batch-size
    schedule; tokens empty / null when unknown). Memory stays flat: one chunk at a time. ``progress`` is called
    as ``progress("steps", done, total)`` after each chunk."""
    yield _header(plan, fmt)
    # JSON: the first row has no leading comma; it is step 0, which every thinning keeps, in chunk 0
    total = plan.total_steps
    for i, (a, b) in enumerate(_bounds(plan, every, chunk)):
        data = _format_chunk(plan, fmt, every, a, b, i == 0)
        if data:
            yield data
        if progress is not None:
            progress("steps", b, total)
    if fmt == "json":
        yield b"\n]\n"


def write_table(plan: SchedulePlan, fh: BinaryIO, fmt: TableFormat = "csv", every: int | None = None,
                chunk: int = 1 << 16, progress: "Callable[[str, int, int | None], None] | None" = None) -> None:
    """Write the table to ``fh`` in blocks of ``chunk`` rows, from one process.

    (Until 2026-12 a long table going to a file was formatted by two forked workers. Measured side by side on
    the 2-core machine, 10M cosine rows: one process 2.85 s wall, two workers 3.57 s wall / 2.85 s CPU when the
    other core was busy, timed around ``write_table(..., workers=1|2)`` before the workers were removed; the
    workers also outlived a SIGTERM to the parent.)"""
    for data in table_chunks(plan, fmt, every, chunk, progress):
        fh.write(data)


def _runs_matrix(x: np.ndarray, fmt) -> np.ndarray:
    """``fmt(x)``, formatting each run of equal values once (a stable phase costs nothing)."""
    n = x.size
    if n == 0:
        return fmt(x)
    starts = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1])))
    if starts.size * 2 > n:
        return fmt(x)
    return np.repeat(fmt(x[starts]), np.diff(np.append(starts, n)), axis=0)


def curve_rows(steps: np.ndarray, lr: np.ndarray, loss: np.ndarray, prefix: bytes = b"",
               lo: np.ndarray | None = None, hi: np.ndarray | None = None) -> bytes:
    """Rows ``[prefix]step,lr,loss[,loss_lo,loss_hi]`` of a predicted loss curve, byte for byte what
    ``f"{prefix}{s},{lr:.9g},{loss:.6f}"`` (then ``f",{lo:.6f},{hi:.6f}"`` when the band ``lo``, ``hi`` is given)
    and a newline give row by row (``lrplan predict -o``), formatted as whole columns
    (:mod:`lrplan.output.fixedfmt`)."""
    from lrplan.output.fixedfmt import f6_matrix, g9_matrix

    steps = np.asarray(steps, dtype=np.int64)
    if steps.size == 0:
        return b""
    band = lo is not None and hi is not None
    if b"\0" in prefix:  # a NUL would be taken for padding: format row by row
        cols = [steps.tolist(), np.asarray(lr).tolist(), np.asarray(loss).tolist()]
        if band:
            cols += [np.asarray(lo).tolist(), np.asarray(hi).tolist()]
        return "".join(f"{prefix.decode()}{r[0]},{r[1]:.9g},{r[2]:.6f}"
                       + ("".join(f",{v:.6f}" for v in r[3:])) + "\n" for r in zip(*cols)).encode()
    parts: list = [prefix] if prefix else []
    parts += [int_matrix(steps), b",", _runs_matrix(np.asarray(lr, dtype=np.float64), g9_matrix), b",",
              f6_matrix(np.asarray(loss, dtype=np.float64))]
    if band:
        parts += [b",", f6_matrix(np.asarray(lo, dtype=np.float64)), b",", f6_matrix(np.asarray(hi, dtype=np.float64))]
    parts.append(b"\n")
    return join_rows(parts)


@contextlib.contextmanager
def atomic_output(path: str | None, inputs: "tuple[str | Path | None, ...] | list" = ()) -> Iterator[BinaryIO]:
    """Open ``path`` for binary writing so that a failure never leaves a half-written file: write a temporary
    file beside it and rename it into place on success. ``None`` or ``-`` is stdout; device files such as
    ``/dev/null`` are written directly. ``path`` naming one of ``inputs`` (the same file, by device and inode,
    whatever the spelling) is refused: the command would replace what it reads."""
    check_output(path, inputs)
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
            os.fchmod(fh.fileno(), _final_mode(p))  # mkstemp makes 0600: the mode a plain open() would give
            yield fh
        os.replace(tmp, p)
        ok = True
    except OSError as e:
        raise LrplanError(f"cannot write {path}: {e.strerror}") from None
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def check_output(path: str | None, inputs: "tuple[str | Path | None, ...] | list" = ()) -> None:
    """Refuse, before any work, an output that cannot be meant or cannot be written: an empty name, one of the
    command's own input files, a directory, or a file whose directory is missing or not writable (the output is
    written to a temporary file there and renamed into place)."""
    if path is None or path == "-":
        return
    if not str(path).strip():
        raise LrplanError("-o needs a file name (got an empty one); give a path, or - for stdout")
    try:
        out = os.stat(path)
    except FileNotFoundError:
        _check_parent(path)
        return  # does not exist yet: it cannot be an input
    except OSError as e:
        raise LrplanError(f"cannot write {path}: {e.strerror}") from None
    if stat.S_ISDIR(out.st_mode):
        raise LrplanError(f"cannot write {path}: it is a directory; give a file name inside it")
    if not stat.S_ISREG(out.st_mode):
        if not os.access(path, os.W_OK):
            raise LrplanError(f"cannot write {path}: permission denied")
        return
    _check_parent(path)
    for inp in inputs:
        if inp is None or str(inp) == "-":
            continue
        try:
            src = os.stat(inp)
        except OSError:
            continue
        if (src.st_dev, src.st_ino) == (out.st_dev, out.st_ino):
            raise LrplanError(f"-o {path} is the input {inp}: writing it would replace what lrplan reads; "
                              "write to another file")


def check_output_dir(path: str | None, inputs: "tuple[str | Path | None, ...] | list" = ()) -> None:
    """:func:`check_output` for an output directory (``plan --export -o DIR``): refused before any work if it
    is empty, an existing file, or cannot be created or written (its nearest existing ancestor is checked)."""
    if path is None:
        return
    if not str(path).strip() or str(path) == "-":
        raise LrplanError("-o needs a directory name for the configs (got "
                          f"{'an empty one' if not str(path).strip() else '-'}); give a path")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise LrplanError(f"cannot export to {path}: it exists and is not a directory")
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise LrplanError(f"cannot create {path}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise LrplanError(f"cannot {'write into' if probe == p else 'create'} {path}: directory {probe} is not "
                          "writable")
    import tempfile

    try:  # os.access says yes to root everywhere (/proc, read-only mounts): try it, leaving nothing behind
        os.rmdir(tempfile.mkdtemp(prefix=".lrplan-check-", dir=probe))
    except OSError as e:
        raise LrplanError(f"cannot {'write into' if probe == p else 'create'} {path}: {e.strerror or e}") from None


def _check_parent(path: str | Path) -> None:
    parent = Path(path).parent if str(Path(path).parent) else Path(".")
    if not parent.is_dir():
        raise LrplanError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise LrplanError(f"cannot write {path}: directory {parent} is not writable")


def _final_mode(p: Path) -> int:
    """An existing file keeps its mode; a new one gets 0666 minus the umask."""
    try:
        return stat.S_IMODE(p.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def estimate_bytes(plan: SchedulePlan, every: int | None) -> int:
    """Rough size of the CSV table, to warn before writing something absurd."""
    rows = plan.total_steps // max(1, every or 1) + 2 * len(plan.segments)
    last_tokens = plan.tokens_at(np.array([plan.total_steps]))
    digits = len(str(plan.total_steps)) + (len(str(int(last_tokens[0]))) if last_tokens is not None else 0)
    return rows * (digits + 30)


WARN_BYTES = 2 * 1024**3  # warn before writing a table larger than this
LIMIT_BYTES = 1024**4  # refuse (exit 2) a table larger than this, unless it goes to /dev/null


def check_table_size(plan: SchedulePlan, every: int | None, output: str | None) -> str | None:
    """Refuse a table over :data:`LIMIT_BYTES` (unless it goes to ``/dev/null``); a warning over
    :data:`WARN_BYTES`, for the caller to show; ``None`` otherwise."""
    if output == os.devnull:
        return None
    size = estimate_bytes(plan, every)
    if size > LIMIT_BYTES:
        raise LrplanError(
            f"the table would be about {size / 1024**4:.1f} TiB ({plan.total_steps:,} steps); thin it with --every N "
            f"(e.g. --every {max(2, plan.total_steps // 1_000_000)})"
        )
    if size > WARN_BYTES:
        return f"the table will be about {size / 1024**3:.1f} GiB; --every N thins it"
    return None


def preview_lines(plan: SchedulePlan, fmt: TableFormat = "csv", every: int | None = None, rows: int = 40) -> list[str]:
    """The terminal preview of ``plan``'s table in ``fmt``: every ``every``-th row (default: about 8 rows per
    run plus the phase edges), at most ``rows`` lines, then a line saying how many more there are. Only the
    rows shown are formatted."""
    step = every or max(1, plan.total_steps // 8)
    lines: list[str] = []
    for chunk in table_chunks(plan, fmt, step, chunk=max(rows, 64)):
        lines.extend(chunk.decode().splitlines())
        if every and len(lines) > rows:  # thinned by the user: possibly millions of rows; stop formatting
            break
    if len(lines) <= rows:
        return lines
    if not every:  # the default preview is small: all of it was formatted, the count is exact
        return lines[:rows] + [f"... ({len(lines) - rows} more preview rows)"]
    total = plan.total_steps // step + 2 * len(plan.segments) + (3 if fmt == "json" else 1)  # rows, edges, header
    return lines[:rows] + [f"... (about {max(1, total - rows):,} more rows)"]
