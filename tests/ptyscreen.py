"""What a person sees: run ``lrplan ARGS`` on a real pseudo-terminal and read the screen (shared by the
terminal tests under tests/cli and tests/frameworks)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def screen(args: list[str], cols: int = 80, rows: int = 24, timeout: float = 60) -> list[str]:
    """Run ``lrplan ARGS`` on a pty of ``cols`` x ``rows``; the lines it printed, colours stripped."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen([sys.executable, "-m", "lrplan", *args], stdin=slave, stdout=slave, stderr=slave,
                            cwd=ROOT, env=env, close_fds=True)
    os.close(slave)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                break
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # the child closed the pty
                break
            if not data:
                break
            out += data
    finally:
        os.close(master)
        proc.wait(timeout=timeout)
    assert proc.returncode == 0, out.decode(errors="replace")
    text = ANSI.sub("", out.decode(errors="replace")).replace("\r\n", "\n").replace("\r", "")
    return text.splitlines()
