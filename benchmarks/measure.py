"""How the benchmarks measure: one command in a fresh process, its wall time and ITS OWN peak RSS.

Peak RSS (``ru_maxrss``) is read in a small process that forked the command, never in the command itself nor in
the (large) benchmark process: on Linux a child forked from a big process, or one that execs from it, starts its
high-water mark at the parent's RSS (fork copies the page tables; exec folds the old mm's peak into
``ru_maxrss``).  The old ``bench_render.py`` read ``RUSAGE_SELF`` inside a ``python -c`` child and so could never
report less than ~196 MB.  Two methods, both small forkers:

* ``time``: GNU ``/usr/bin/time -f %M -o FILE CMD`` (used when it exists and passes :func:`gnu_time_ok`);
* ``launcher``: ``benchmarks/_launcher.py`` run as ``python -S -I`` (fork + exec + ``os.wait4``).

:func:`sanity` proves the method on this machine: with the benchmark process holding 1 GiB, ``python -c pass``
must report ~10 MiB and a child that allocates 500 MiB ~510 MiB (``tests/test_benchmarks.py`` runs the same
check, so the memory measure can fail).  Wall time is taken by the benchmark process around the run (GNU time)
or by the launcher between fork and reap.  Commands get ``os.environ`` unchanged: no thread pinning is added.

Units: MiB (2**20 bytes; ``ru_maxrss`` is in KiB), seconds.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "_launcher.py"
GNU_TIME = "/usr/bin/time"
PIN_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
THREAD_VARS = ("LRPLAN_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


@dataclass
class Run:
    """One run of one command."""

    wall: float
    rss_mib: float | None
    rc: int
    timed_out: bool = False
    stdout: str = ""
    stderr_tail: str = ""


def pinned_env(threads: int = 1) -> dict[str, str]:
    """This environment with OMP/OpenBLAS/MKL threads set to ``threads`` where the user has not set them."""
    env = dict(os.environ)
    for k in PIN_VARS:
        env.setdefault(k, str(threads))
    return env


def gnu_time_ok() -> bool:
    """``/usr/bin/time`` exists and is GNU time (``-f %M -o FILE`` works and prints a number)."""
    if not os.access(GNU_TIME, os.X_OK):
        return False
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "t"
        try:
            subprocess.run([GNU_TIME, "-f", "%M", "-o", str(out), "true"], check=True, timeout=10,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return out.read_text().strip().splitlines()[-1].isdigit()
        except (OSError, subprocess.SubprocessError, IndexError):
            return False


def default_method() -> str:
    return "time" if gnu_time_ok() else "launcher"


def run(cmd: list[str], *, method: str, timeout: float = 600.0, capture: bool = False,
        cwd: str | Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` once in a fresh process; wall time and its own peak RSS.

    ``env``: the environment (default: this process's, unchanged).  ``capture``: keep stdout (the peers print a
    JSON line); otherwise stdout goes to /dev/null.
    """
    with tempfile.TemporaryDirectory(prefix="lrplan-bench-") as d:
        res, out_path, err_path = Path(d) / "res", Path(d) / "out", Path(d) / "err"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            sink = out if capture else subprocess.DEVNULL
            if method == "time":
                full = [GNU_TIME, "-f", "%M", "-o", str(res), *cmd]
                t0 = time.perf_counter()
                p = subprocess.Popen(full, stdout=sink, stderr=err, cwd=cwd, env=env, start_new_session=True)
                timed_out = False
                try:
                    p.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
                wall = time.perf_counter() - t0
                rc = p.returncode
                rss = None
                if not timed_out:
                    lines = res.read_text().strip().splitlines() if res.exists() else []
                    # GNU time prints "Command exited with non-zero status N" before the numbers
                    nums = [ln for ln in lines if ln.strip().isdigit()]
                    rss = int(nums[-1]) / 1024 if nums else None
            elif method == "launcher":
                full = [sys.executable, "-S", "-I", str(LAUNCHER), str(res), str(timeout), "--", *cmd]
                p = subprocess.run(full, stdout=sink, stderr=err, cwd=cwd, env=env)
                r = json.loads(res.read_text())
                wall, rc, timed_out = r["wall_s"], r["rc"], r["timed_out"]
                rss = None if timed_out else r["maxrss_kib"] / 1024
            else:
                raise ValueError(f"unknown RSS method {method!r}")
        tail = err_path.read_text(errors="replace")[-2000:]
        return Run(wall, rss, rc, timed_out, out_path.read_text(errors="replace") if capture else "", tail)


def last_json(text: str) -> dict:
    """The last line of ``text`` that parses as a JSON object (how the peer scripts report)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return {}


# ------------------------------------------------------------------------------------------------ sanity check
ALLOC_CODE = "b = b'\\x01' * ({mib} << 20)"  # bytes of 0x01: every page written, so resident


def sanity(method: str, *, parent_mib: int = 1024, child_mib: int = 500) -> list[dict]:
    """Prove the RSS method: the benchmark process holds ``parent_mib``; the children must not see it.

    Returns rows ``{label, mib, lo, hi, ok}``: ``python -c pass`` in [3, 40] MiB, a child allocating
    ``child_mib`` in [child_mib - 10, child_mib + 60] MiB, and, for contrast, what the old method (the child's
    own ``RUSAGE_SELF``, spawned from this process) reports for ``pass`` (informational, ``ok`` None).
    """
    ballast = b"\x01" * (parent_mib << 20)  # noqa: F841 - held while the children run
    py = sys.executable
    rows = []
    r = run([py, "-c", "pass"], method=method, timeout=60)
    rows.append({"label": "python -c pass", "mib": r.rss_mib, "lo": 3.0, "hi": 40.0})
    r = run([py, "-c", ALLOC_CODE.format(mib=child_mib)], method=method, timeout=60)
    rows.append({"label": f"python allocating {child_mib} MiB", "mib": r.rss_mib, "lo": child_mib - 10.0,
                 "hi": child_mib + 60.0})
    for row in rows:
        row["ok"] = row["mib"] is not None and row["lo"] <= row["mib"] <= row["hi"]
    old = subprocess.run([py, "-c", "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                         capture_output=True, text=True, check=True)
    rows.append({"label": "old method: child's own RUSAGE_SELF, python -c pass", "mib": int(old.stdout) / 1024,
                 "lo": None, "hi": None, "ok": None})
    del ballast
    return rows


# ------------------------------------------------------------------------------------------ growth exponents
def exponent(sizes: list[float], costs: list[float]) -> float | None:
    """Least-squares slope of log(cost) against log(size) (None with fewer than 2 usable points)."""
    pts = [(math.log(s), math.log(c)) for s, c in zip(sizes, costs) if s > 0 and c is not None and c > 0]
    if len(pts) < 2:
        return None
    mx = statistics.fmean(p[0] for p in pts)
    my = statistics.fmean(p[1] for p in pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else None


# ---------------------------------------------------------------------------------------------- the machine
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_kib(key: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def mem_available_mib() -> float:
    kib = _mem_kib("MemAvailable")
    return kib / 1024 if kib else 4096.0


def _fs_of(path: Path) -> str:
    best, fstype = "", "?"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            dev, mnt, typ = line.split()[:3]
            if str(path).startswith(mnt) and len(mnt) > len(best):
                best, fstype = mnt, f"{typ} ({dev} on {mnt})"
    except OSError:
        pass
    return fstype


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def code_state(root: Path) -> str:
    """The lrplan checkout measured: commit, and how many files under lrplan/ differ from it (read-only git)."""
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "lrplan"], capture_output=True,
                               text=True, timeout=10).stdout.strip().splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not sha:
        return "unknown (not a git checkout)"
    return f"commit {sha}" + (f" + {len(dirty)} changed files under lrplan/" if dirty else "")


def compile_bytecode() -> str:
    """Write the installed lrplan's ``.pyc`` files, as ``pip install`` of a wheel does (pip's ``--compile``, its
    default). An editable install leaves them to the first run, and where ``PYTHONDONTWRITEBYTECODE`` is set (this
    machine sets it) no run ever writes them: every start then recompiles lrplan's modules, ~0.2 s that no
    installed user pays. Returns a line for the report."""
    code = ("import compileall, os, lrplan; d = os.path.dirname(lrplan.__file__); "
            "print(d, compileall.compile_dir(d, quiet=1))")
    exe = shutil.which("lrplan")
    python = sys.executable
    if exe:  # the console script's interpreter: the environment being measured
        with open(exe, "rb") as fh:
            first = fh.readline().decode(errors="replace").strip()
        if first.startswith("#!") and Path(first[2:].split()[0]).exists():
            python = first[2:].split()[0]
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=300)
    where, _, ok = r.stdout.strip().rpartition(" ")
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE")
    return (f"bytecode: compiled {where or 'lrplan'} first ({'ok' if ok == 'True' else 'FAILED: ' + r.stderr[-200:]}), "
            f"as a wheel install does; PYTHONDONTWRITEBYTECODE={flag or 'unset'}")


def machine_info(workdir: Path) -> dict:
    """CPU, cores, memory, load, OS, Python and package versions, the thread variables the user has set."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    pkgs = {p: _version(p) for p in ("lrplan", "numpy", "scipy", "torch", "megatron-core", "transformers", "pyarrow",
                                     "plotext")}
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "mem_total_gib": round((_mem_kib("MemTotal") or 0) / 2**20, 1),
        "loadavg": tuple(round(x, 2) for x in os.getloadavg()),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": {k: v for k, v in pkgs.items() if v},
        "lrplan_script": shutil.which("lrplan"),
        "thread_env": {k: os.environ[k] for k in THREAD_VARS if k in os.environ},
        "workdir_fs": _fs_of(workdir),
        "code": code_state(HERE.parent),
    }
