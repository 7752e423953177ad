"""Tiny fork+exec launcher: wall time and peak RSS of ONE command, measured in a small process.

    python -S -I benchmarks/_launcher.py RESULT_FILE TIMEOUT_S -- CMD [ARGS...]

Why a separate, small process: on Linux a forked child starts with its parent's page tables, and exec() folds the
pre-exec high-water mark into the child's ``ru_maxrss``.  So a command spawned straight from a large benchmark
process (or one that reads its own ``RUSAGE_SELF``) reports *at least the parent's* peak.  This launcher is a
~8 MB interpreter started without ``site``; the command is forked from it, so the most it can inherit is ~8 MB,
and ``os.wait4`` returns the rusage of that one child (not of every child the launcher ever had).

Writes ``{"wall_s", "maxrss_kib", "rc", "timed_out"}`` as JSON to RESULT_FILE.  The command gets the launcher's
environment unchanged (``-I`` only stops the *launcher* from reading PYTHON* variables).  On timeout the
command's process group is killed.  Standard library only, builtin modules only (fast start-up).
"""

import json
import os
import signal
import sys
import time


def main() -> int:
    result, timeout = sys.argv[1], float(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the command: its own process group, so a timeout can kill what it spawns too
        os.setpgid(0, 0)
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            os.write(2, f"launcher: cannot run {cmd[0]!r}: {e}\n".encode())
        os._exit(127)
    timed_out = []

    def on_alarm(signum, frame):  # noqa: ARG001
        timed_out.append(True)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    signal.setitimer(signal.ITIMER_REAL, 0)
    rc = os.waitstatus_to_exitcode(status)
    with open(result, "w") as fh:
        json.dump({"wall_s": wall, "maxrss_kib": ru.ru_maxrss, "rc": rc, "timed_out": bool(timed_out)}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
