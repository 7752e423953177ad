"""Reading an input file with limits: a regular file (or ``-`` for standard input), at most a given size.

Every reader of user files (specs, gradient-norm logs, loss logs, law files, framework configs) goes through
:func:`read_bytes`, so ``/dev/zero``, a FIFO with no writer or a 40 GB file is one clear error, not a hang or an
exhausted machine.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from lrplan.errors import LrplanError

MiB = 1024 * 1024
LIMITS = {  # the largest file of each kind lrplan reads
    "spec": 16 * MiB,
    "law": 16 * MiB,
    "config": 16 * MiB,
    "gradient-norm log": 512 * MiB,
    "log": 2048 * MiB,
    "LR table": 2048 * MiB,
}


_STDIN: bytes | None = None


class InputError(LrplanError):
    """An input file that cannot be read: missing, not a regular file, or too large."""


def read_bytes(path: str | Path, what: str, limit: int | None = None) -> bytes:
    """The bytes of ``path`` (``-``: standard input), at most ``limit`` (default ``LIMITS[what]``).

    Refuses what is not a regular file (a directory, a FIFO, ``/dev/zero``) before reading a byte, and a file
    larger than the limit before reading it all; both as :class:`InputError` naming the file and the fix."""
    most = limit if limit is not None else LIMITS.get(what, 16 * MiB)
    name = str(path)
    if name == "-":
        global _STDIN
        if _STDIN is None:  # standard input can be read once: a second reader (format detection, then the
            _STDIN = sys.stdin.buffer.read(most + 1)  # parser) gets the same bytes
        data = _STDIN
        if len(data) > most:
            raise InputError(f"<stdin>: the {what} is larger than {_size(most)}; lrplan reads {what}s up to that size")
        return data
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except IsADirectoryError:
        raise InputError(f"{name}: cannot read {what}: it is a directory") from None
    except OSError as e:
        raise InputError(f"{name}: cannot read {what}: {e.strerror or e}") from None
    except ValueError:  # a NUL byte in the name
        raise InputError(f"{name!r}: cannot read {what}: the file name contains a NUL byte") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{name}: cannot read {what}: it is a directory")
        if not stat.S_ISREG(st.st_mode):
            kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file"
            raise InputError(f"{name}: cannot read {what}: it is {kind}, not a file; give a file (or - for standard input)")
        if st.st_size > most:
            raise InputError(f"{name}: the {what} is {_size(st.st_size)}, larger than the {_size(most)} lrplan reads")
        chunks = []
        left = most + 1
        while left > 0:
            b = os.read(fd, min(left, 1 << 20))
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        data = b"".join(chunks)
        if len(data) > most:  # grew while being read
            raise InputError(f"{name}: the {what} is larger than the {_size(most)} lrplan reads")
        return data
    finally:
        os.close(fd)


def _size(n: int) -> str:
    for unit, k in (("GiB", 1024**3), ("MiB", MiB), ("KiB", 1024)):
        if n >= k:
            return f"{n / k:.3g} {unit}"
    return f"{n} bytes"
