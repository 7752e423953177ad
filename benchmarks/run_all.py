"""Every performance target of lrplan in one command, each paired with its peer in the same run.

    python benchmarks/run_all.py                    # the full table (~20 min on a 2-core machine)
    python benchmarks/run_all.py --quick            # smoke run: small sizes, one repeat (< 1 min)
    python benchmarks/run_all.py --update-readme    # ... and write the table into README.md's performance section
    python benchmarks/run_all.py --only render,fit  # some costs (keys: startup render megatron import predict
                                                    #   plot plan optimize fit)

What is measured: the installed ``lrplan`` console script (``shutil.which("lrplan")``), each run a fresh process
with the caller's environment as it is (no thread variables added: lrplan pins its own BLAS threads, see
``lrplan --threads``), wall time and the peak RSS of that process alone (``benchmarks/measure.py``: GNU
``/usr/bin/time -f %M`` or a small fork+exec launcher; a sanity check with the benchmark process holding 1 GiB
runs first and is printed).  Medians of repeats (3; start-up 7; a run over 20 s once).

Each cost runs at 3-5 sizes; its growth exponent k is the least-squares slope of log(cost) over log(size), where
cost is the wall time minus the same command's start-up floor (the command on a tiny input) for lrplan, and the
peer's own timed work (``work_s``, without its imports) for the peers.  "flat" = the largest size adds < 0.05 s.
A size whose projected time (by k) exceeds the run timeout, or projected peak RSS exceeds the memory limit
(half the available memory, at most 8 GiB; ``--mem-limit``), is skipped and the target size is extrapolated from the largest measured one (marked "≈ ..., extrapolated").

Peers (``benchmarks/peers/``, fresh processes too; a missing package skips its row with the pip command) run with
one OpenMP/OpenBLAS/MKL thread (where the caller has not set those variables), as lrplan runs by default; with
their libraries' default of one thread per core, torch and OpenBLAS spin on a busy machine (the official MPL
fit took 232 s instead of 24 s here at load 4); ``--peer-threads default`` measures them that way:

* render CSV: ``pyarrow.csv.CSVWriter`` streaming the same rows (``pip install pyarrow``); ``dd`` copying lrplan's
  output file (the same bytes, page cache to file) as the I/O floor;
* render --format megatron / import megatron: Megatron-Core's ``OptimizerParamScheduler`` and HF's
  ``get_scheduler("warmup_stable_decay")`` (``LambdaLR``) stepped once per update (``pip install
  megatron-core==0.16.1 transformers==5.23.0``, torch CPU), extrapolated to 1B updates by their exponent;
* predict -o: ``lrplan render`` of the same spec (same number of rows) from the render rows;
* plot --loss: plotext (lrplan's plotting library) given every point;
* plan / plan --optimize: ``peers/mpl_reference.py plan``, the law's naive exact sum for each budget's WSD and
  cosine runs (numpy), its WSD losses compared with lrplan's;
* fit: ``peers/mpl_reference.py fit`` (scipy L-BFGS-B with finite-difference gradients on the same law, data,
  window and objective; its objective at lrplan's parameters is printed as the check) and the official
  multi-power-law code (github.com/thu-yao-01-luo/MultiPowerLaw, its own fitting on its own 25M curves thinned
  the same way; cloned into ~/.cache/lrplan-bench at run time, or ``--mpl-repo DIR``; needs torch, matplotlib,
  tqdm).  ``pip install 'lrplan[bench]'`` installs every peer's package.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / "peers"
sys.path.insert(0, str(HERE))

import measure  # noqa: E402

MPL_URL = "https://github.com/thu-yao-01-luo/MultiPowerLaw"
TOUR_LOG = ROOT / "tests/data/logs/mpl25m_runs.csv"
MPL25 = ROOT / "tests/data/curves/multipowerlaw/loss_curve_repo/csv_25"
TOUR_RUNS = (("constant", "constant_24000"), ("cosine", "cosine_24000"), ("wsdcon", "wsdcon_9"))
BUILTIN_LAW = ROOT / "lrplan/laws/builtin/mpl-400m.yaml"
KEYS = ("startup", "snippets", "render", "megatron", "import", "predict", "plot", "plan", "optimize", "fit")
SNIPPETS = [("wsd.yaml", "megatron"), ("cosine.yaml", "torchtitan"), ("wsd.yaml", "hf"), ("wsd-s.yaml", "megatron"),
            ("power.yaml", "deepspeed"), ("cosine.yaml", "olmo-core")]


# ----------------------------------------------------------------------------------------------- formatting
def fsize(n: float) -> str:
    for div, suf in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= div and n % (div / 10) == 0:
            v = n / div
            return f"{v:g}{suf}"
    return f"{int(n):,}"


def fsec(t: float | None) -> str:
    if t is None:
        return "?"
    if t < 1:
        return f"{t:.3f} s"
    if t < 10:
        return f"{t:.2f} s"
    if t < 100:
        return f"{t:.1f} s"
    return f"{t:,.0f} s"


def fmib(m: float | None) -> str:
    return "?" if m is None else f"{m:,.0f} MiB"


# --------------------------------------------------------------------------------------------- result types
@dataclass
class Point:
    size: float | None
    wall: float | None
    rss: float | None
    reps: int
    work: float | None = None  # the peer's own timed work (no imports)
    extra: dict = field(default_factory=dict)
    label: str = ""  # instead of a size


@dataclass
class Series:
    tool: str
    unit: str = ""
    points: list[Point] = field(default_factory=list)
    floor: float | None = None  # the same command on a tiny input (lrplan rows)
    skipped: str = ""
    note: str = ""
    uses_work: bool = False

    def cost(self, p: Point) -> float | None:
        if self.uses_work:
            return p.work
        if p.wall is None:
            return None
        return p.wall - (self.floor or 0.0)

    def k(self) -> tuple[float | None, int, bool]:
        """(exponent, sizes used, flat)."""
        pts = [p for p in self.points if p.size and self.cost(p) is not None]
        if not pts:
            return None, 0, False
        top = max(pts, key=lambda p: p.size)
        if not self.uses_work and self.floor is not None and self.cost(top) < 0.05:
            return None, len(pts), True
        # lrplan rows: sizes that add at least 0.05 s over the floor (below that, noise decides the slope)
        use = [p for p in pts if self.cost(p) > (0.0 if self.uses_work else 0.05)]
        if len(use) < 2:
            return None, len(use), False
        return measure.exponent([p.size for p in use], [self.cost(p) for p in use]), len(use), False

    def at(self, size: float) -> tuple[float | None, float | None, bool]:
        """(seconds, MiB, extrapolated) at ``size``: measured, or from the largest measured size by k."""
        for p in self.points:
            if p.size == size:
                return (p.work if self.uses_work else p.wall), p.rss, False
        pts = [p for p in self.points if p.size and self.cost(p) is not None]
        if not pts:
            return None, None, True
        top = max(pts, key=lambda p: p.size)
        k, _, flat = self.k()
        if flat:
            k = 0.0
        if k is None:
            k = 1.0
        c = self.cost(top) * (size / top.size) ** k
        t = c if self.uses_work else c + (self.floor or 0.0)
        return t, None, True

    def cell(self) -> str:
        parts = []
        for p in self.points:
            lab = f"{fsize(p.size)}: " if p.size else (f"{p.label}: " if p.label else "")
            if self.uses_work:
                s = f"{lab}{fsec(p.work)} work ({fsec(p.wall)} process, {fmib(p.rss)})"
            else:
                s = f"{lab}{fsec(p.wall)}, {fmib(p.rss)}"
            if p.reps > 1:
                s += f" [n={p.reps}]"
            parts.append(s)
        if self.skipped:
            parts.append(self.skipped)
        return "; ".join(parts) if parts else "-"

    def kcell(self) -> str:
        k, n, flat = self.k()
        if flat:
            return "flat"
        if k is None:
            return "n/a"
        return f"{k:.2f} ({n} sizes)"


@dataclass
class Cost:
    key: str
    title: str
    target: str
    series: list[Series] = field(default_factory=list)
    verdict: str = ""
    notes: list[str] = field(default_factory=list)


# -------------------------------------------------------------------------------------------------- running
class Bench:
    def __init__(self, a: argparse.Namespace, work: Path) -> None:
        self.a = a
        self.quick = a.quick
        self.work = work
        self.method = a.rss
        self.timeout = a.timeout
        self.mem_limit = a.mem_limit or min(measure.mem_available_mib() * 0.5, 8192.0)
        self.lrplan = shutil.which("lrplan")
        # peers: one BLAS/OpenMP thread, as lrplan pins itself (unless the caller set them, or --peer-threads default)
        self.peer_env = None if a.peer_threads == "default" else measure.pinned_env(1)
        self.py = sys.executable

    def log(self, msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    def once(self, cmd: list[str], capture: bool = False, peer: bool = False) -> measure.Run:
        env = self.peer_env if peer else None  # lrplan: the caller's environment, untouched
        return measure.run(cmd, method=self.method, timeout=self.timeout, capture=capture, cwd=ROOT, env=env)

    def point(self, cmd: list[str], size: float | None, *, reps: int | None = None, capture: bool = False,
              peer: bool = False, before=None) -> tuple[Point | None, str]:
        """Median of repeats; (None, why) when the command fails or times out."""
        reps = reps or (1 if self.quick else 3)
        runs = []
        for i in range(reps):
            if before:
                before()
            r = self.once(cmd, capture=capture or peer, peer=peer)
            if r.timed_out:
                return None, f"{fsize(size) if size else ''} timed out after {fsec(self.timeout)}"
            if r.rc != 0:
                last = (r.stderr_tail.strip().splitlines() or ["?"])[-1]
                return None, f"{fsize(size) if size else ''} failed (exit {r.rc}: {last[:160]})"
            runs.append(r)
            if r.wall > 20:
                break
        p = Point(size, statistics.median(r.wall for r in runs),
                  statistics.median(r.rss_mib for r in runs) if all(r.rss_mib is not None for r in runs) else None,
                  len(runs))
        if peer:
            reps_json = [measure.last_json(r.stdout) for r in runs]
            works = [j.get("work_s") for j in reps_json if j.get("work_s") is not None]
            p.work = statistics.median(works) if works else None
            p.extra = reps_json[-1]
        elif capture:
            p.extra = {"stdout": runs[-1].stdout}
        return p, ""

    def ladder(self, s: Series, sizes: list[float], make_cmd, *, capture: bool = False, peer: bool = False,
               reps: int | None = None, before=None) -> Series:
        for size in sizes:
            why = self.project(s, size)
            if why:
                s.skipped = why
                self.log(f"   {s.tool} {fsize(size)}: {why}")
                break
            cmd = make_cmd(size)
            if cmd is None:
                continue
            t0 = time.perf_counter()
            p, err = self.point(cmd, size, capture=capture, peer=peer, reps=reps,
                                before=(lambda size=size: before(size)) if before else None)
            if p is None:
                s.skipped = err
                self.log(f"   {s.tool} {fsize(size)}: {err}")
                break
            s.points.append(p)
            self.log(f"   {s.tool} {fsize(size)}: {fsec(p.wall)} {fmib(p.rss)}"
                     + (f" work {fsec(p.work)}" if peer else "") + f"  ({time.perf_counter() - t0:.0f} s)")
        return s

    def project(self, s: Series, size: float) -> str:
        """Why ``size`` would be too slow / too big, projected from the sizes measured so far ('' if fine)."""
        pts = [p for p in s.points if p.size and p.wall]
        if not pts:
            return ""
        top = max(pts, key=lambda p: p.size)
        r = size / top.size
        k, _, flat = s.k()
        k = 0.0 if flat else max(1.0 if k is None else k, 0.0)
        c = max(s.cost(top) or 0.0, 0.0)
        t = (top.wall - c) + c * r**k  # the fixed part (start-up, imports) does not grow
        km = measure.exponent([p.size for p in pts], [p.rss for p in pts if p.rss]) \
            if len(pts) >= 2 and all(p.rss for p in pts) else 1.0
        m = (top.rss or 0.0) * r ** max(km or 0.0, 0.0)
        if t > 0.8 * self.timeout:
            return f"{fsize(size)} skipped (projected {fsec(t)} > the {fsec(self.timeout)} run timeout)"
        if m > self.mem_limit:
            return f"{fsize(size)} skipped (projected peak {fmib(m)} > the {fmib(self.mem_limit)} memory limit)"
        return ""

    def floor(self, cmd: list[str]) -> float | None:
        p, err = self.point(cmd, None, reps=1 if self.quick else 5)
        if p is None:
            self.log(f"   floor {' '.join(cmd[1:3])}: {err}")
        return p.wall if p else None

    # --------------------------------------------------------------------------------------- input files
    def wsd_spec(self, steps: float) -> Path:
        p = self.work / f"wsd-{int(steps)}.yaml"
        if not p.exists():
            p.write_text(f"name: wsd-{int(steps)}\nbudget:\n  steps: {int(steps)}\n  tokens_per_step: 4M\nschedule:\n"
                         "  kind: wsd\n  peak_lr: 3.0e-4\n  min_lr: 3.0e-5\n  warmup: 2000\n  decay: 10%\n"
                         "  decay_shape: 1-sqrt\n")
        return p

    def plan_spec(self, n: float, kind: str = "wsd") -> Path:
        p = self.work / f"plan-{kind}-{int(n)}.yaml"
        b = budgets(int(n))
        p.write_text(f"name: plan-{int(n)}\nbudget:\n  budgets: [{', '.join(map(str, b))}]\n  tokens_per_step: 4M\n"
                     f"schedule:\n  kind: {kind}\n  peak_lr: 3.0e-4\n  min_lr: 3.0e-5\n  warmup: 2000\n  decay: 10%\n"
                     "  decay_shape: 1-sqrt\n")
        return p


BUDGET_RANGE = [50_000, 500_000]  # steps; --quick: 20k..100k


def budgets(n: int) -> list[int]:
    """n budgets evenly spaced over BUDGET_RANGE (a fixed range: the work per budget does not grow with n)."""
    lo, hi = BUDGET_RANGE
    if n == 1:  # the mean budget is the same for every n
        return [(lo + hi) // 2]
    return [int(round(lo + i * (hi - lo) / (n - 1))) for i in range(n)]


def verdict(s: Series, size: float, t_max: float | None = None, m_max: float | None = None,
            ratio: float | None = None, r_max: float | None = None) -> str:
    """'met' / 'NOT met' with the numbers at ``size``; 'not measured' when that size was not run."""
    t, m, ex = s.at(size)
    label = f"{fsize(size)}" if size >= 1000 else f"{size:g}"
    if t is None:
        return f"{label}: not measured"
    nums = f"{fsec(t)}" + (f", {fmib(m)}" if m is not None else "") + (f", {ratio:.1f}x render" if ratio else "")
    if ex:
        return f"{label}: not measured (≈ {nums} extrapolated)"
    ok = (t_max is None or t < t_max) and (m_max is None or (m is not None and m < m_max)) \
        and (r_max is None or (ratio is not None and ratio <= r_max))
    return f"{label}: {'met' if ok else 'NOT met'} ({nums})"


def have(pkg: str) -> bool:
    return measure._version(pkg) is not None


# --------------------------------------------------------------------------------------------------- costs
def c_startup(b: Bench) -> Cost:
    c = Cost("startup", "start-up", "`lrplan --help` < 0.25 s")
    reps = 3 if b.quick else 7
    for tool, cmd in (("lrplan --help", [b.lrplan, "--help"]), ("lrplan list", [b.lrplan, "list"]),
                      ("peer: python -c pass", [b.py, "-c", "pass"]),
                      ("peer: python -c 'import numpy'", [b.py, "-c", "import numpy"])):
        s = Series(tool)
        p, err = b.point(cmd, None, reps=reps)
        if p:
            s.points.append(p)
        s.skipped = err
        c.series.append(s)
        b.log(f"   {tool}: {fsec(p.wall) if p else err}")
    t = c.series[0].points[0].wall if c.series[0].points else None
    c.verdict = ("met" if t is not None and t < 0.25 else "NOT met") + f" ({fsec(t)})"
    return c


def c_snippets(b: Bench) -> Cost:
    c = Cost("snippets", "`render schedules/SPEC --format FW` (framework snippet, end to end)", "< 0.3 s for any spec")
    s = Series("lrplan")
    for spec, fw in SNIPPETS[:2] if b.quick else SNIPPETS:
        p, err = b.point([b.lrplan, "render", str(ROOT / "schedules" / spec), "--format", fw], None,
                         reps=1 if b.quick else 5)
        if p is None:
            s.skipped = f"{spec} {fw}: {err}"
            break
        p.label = f"{spec.removesuffix('.yaml')} {fw}"
        s.points.append(p)
        b.log(f"   {p.label}: {fsec(p.wall)} {fmib(p.rss)}")
    c.series.append(s)
    worst = max((p.wall for p in s.points), default=None)
    c.verdict = ("met" if worst is not None and worst < 0.3 else "NOT met") + f" (slowest {fsec(worst)})"
    c.notes.append("start-up floors in the start-up rows: `lrplan --help`, `python -c 'import numpy'`")
    return c


def c_render(b: Bench) -> Cost:
    c = Cost("render", "render CSV, WSD (`render SPEC -q -o FILE`: step,tokens,lr,phase)",
             "10M < 3 s (README); peak RSS flat in N")
    sizes = [1e5, 1e6] if b.quick else [1e6, 3e6, 1e7, 3e7, 1e8]
    out = lambda n: b.work / f"render-{int(n)}.csv"  # noqa: E731
    lr = Series("lrplan", "rows", floor=b.floor([b.lrplan, "render", str(b.wsd_spec(10_000)), "-q", "-o",
                                                 str(b.work / "floor.csv")]))
    b.ladder(lr, sizes, lambda n: [b.lrplan, "render", str(b.wsd_spec(n)), "-q", "-o", str(out(n))])
    for p in lr.points:
        p.extra["bytes"] = out(p.size).stat().st_size if out(p.size).exists() else None
    c.series.append(lr)
    pa = Series("pyarrow.csv.CSVWriter (same rows)", uses_work=True)
    if have("pyarrow"):
        b.ladder(pa, [p.size for p in lr.points] or sizes,
                 lambda n: [b.py, str(PEERS / "pyarrow_csv.py"), str(int(n)), str(b.work / "pyarrow.csv")], peer=True)
    else:
        pa.skipped = "pyarrow not installed (pip install pyarrow)"
    c.series.append(pa)
    dd = Series("dd bs=4M of lrplan's file (I/O floor)")
    if shutil.which("dd"):
        b.ladder(dd, [p.size for p in lr.points],
                 lambda n: ["dd", f"if={out(n)}", f"of={b.work / 'dd.out'}", "bs=4M", "status=none"],
                 before=lambda n: (b.work / "dd.out").unlink(missing_ok=True))
    else:
        dd.skipped = "dd not found"
    c.series.append(dd)
    for p in lr.points:
        out(p.size).unlink(missing_ok=True)
    (b.work / "dd.out").unlink(missing_ok=True)
    (b.work / "pyarrow.csv").unlink(missing_ok=True)
    if lr.points:
        top = lr.points[-1]
        pap = next((p for p in pa.points if p.size == top.size), None)
        c.notes.append(f"bytes at {fsize(top.size)}: lrplan {top.extra.get('bytes') or 0:,}"
                       + (f", pyarrow {pap.extra.get('bytes') or 0:,}" if pap else ""))
        rss = [p.rss for p in lr.points if p.rss]
        c.verdict = (verdict(lr, 1e7, 3.0) + f"; 100M: {'not measured' if lr.at(1e8)[2] else fsec(lr.at(1e8)[0])}"
                     + (f"; peak RSS {fmib(min(rss))}..{fmib(max(rss))} over {fsize(lr.points[0].size)}.."
                        f"{fsize(top.size)}" if rss else ""))
    return c


def megatron_peers(b: Bench) -> tuple[Series, Series]:
    sizes = [1e4] if b.quick else [1e5, 1e6, 1e7]
    out = []
    for fw, pkg, label in (("megatron", "megatron-core", "Megatron-Core OptimizerParamScheduler.step()"),
                           ("hf", "transformers", "HF get_scheduler('warmup_stable_decay') LambdaLR.step()")):
        s = Series(label, uses_work=True)
        if have(pkg) and have("torch"):
            b.ladder(s, sizes, lambda n, fw=fw: [b.py, str(PEERS / "scheduler_steps.py"), fw, str(int(n))],
                     peer=True, reps=1)
            if s.points:
                s.note = f"{pkg} {s.points[-1].extra.get('version')}"
        else:
            s.skipped = f"{pkg} or torch not installed (pip install {pkg})"
        out.append(s)
    return out[0], out[1]


def extrap_note(s: Series, size: float) -> str:
    t, _, ex = s.at(size)
    if t is None:
        return ""
    return f"{s.tool.split(' ')[0]} at {fsize(size)}: {'≈ ' if ex else ''}{fsec(t)}{' (extrapolated)' if ex else ''}"


def c_megatron(b: Bench, peers: tuple[Series, Series]) -> Cost:
    c = Cost("megatron", "`render SPEC --format megatron` (WSD, checked by lrplan's Megatron simulator)",
             "1B steps < 2 s, < 200 MiB")
    sizes = [1e5, 1e6] if b.quick else [1e6, 1e7, 1e8, 1e9]
    s = Series("lrplan", "steps", floor=b.floor([b.lrplan, "render", str(b.wsd_spec(10_000)), "--format", "megatron"]))
    b.ladder(s, sizes, lambda n: [b.lrplan, "render", str(b.wsd_spec(n)), "--format", "megatron"])
    c.series += [s, *peers]
    c.verdict = verdict(s, 1e9, 2.0, 200.0)
    c.notes += [n for n in (extrap_note(p, 1e9) for p in peers) if n]
    return c


def c_import(b: Bench, peers: tuple[Series, Series]) -> Cost:
    c = Cost("import", "`import megatron -- ARGS` (WSD minus_sqrt, --train-iters N)",
             "(no number given; flat in N expected)")
    sizes = [1e5, 1e6] if b.quick else [1e6, 1e7, 1e8, 1e9]

    def cmd(n: float) -> list[str]:
        n = int(n)
        return [b.lrplan, "import", "megatron", "--", "--lr", "3e-4", "--min-lr", "3e-5", "--train-iters", str(n),
                "--global-batch-size", "1024", "--lr-warmup-iters", "2000", "--lr-decay-style", "WSD",
                "--lr-wsd-decay-style", "minus_sqrt", "--lr-wsd-decay-iters", str(n // 10)]
    s = Series("lrplan", "train-iters", floor=b.floor(cmd(10_000)))
    b.ladder(s, sizes, cmd)
    c.series.append(s)
    c.notes += [n + " (same scheduler stepped, rows above)" for n in (extrap_note(p, 1e9) for p in peers[:1]) if n]
    c.verdict = verdict(s, 1e9)
    return c


def c_predict(b: Bench, render: Series | None) -> Cost:
    c = Cost("predict", "`predict SPEC -o FILE` (every step, WSD, built-in law)",
             "1e7 and 1e8: < 300 MiB, within 3x of render of the same rows")
    sizes = [1e5, 1e6] if b.quick else [1e6, 1e7, 1e8]
    out = b.work / "pred.csv"
    s = Series("lrplan", "steps", floor=b.floor([b.lrplan, "predict", str(b.wsd_spec(10_000)), "-o", str(out)]))
    b.ladder(s, sizes, lambda n: [b.lrplan, "predict", str(b.wsd_spec(n)), "-o", str(out)])
    out.unlink(missing_ok=True)
    c.series.append(s)
    if render is not None:
        r = Series("peer: lrplan render of the same spec (render rows)", points=list(render.points),
                   floor=render.floor, skipped=render.skipped)
        c.series.append(r)
    verdicts = []
    for n in (1e7, 1e8):
        t = s.at(n)[0]
        tr = render.at(n)[0] if render is not None else None
        verdicts.append(verdict(s, n, None, 300.0, (t / tr) if (t and tr) else None, 3.0))
    c.verdict = "; ".join(verdicts)
    return c


def c_plot(b: Bench) -> Cost:
    c = Cost("plot", "`plot SPEC --loss -W 100 -H 30 --no-color` (WSD, built-in law)", "1e8 steps < 2 s")
    sizes = [1e5, 1e6] if b.quick else [1e6, 1e7, 1e8]
    base = ["--loss", "-W", "100", "-H", "30", "--no-color"]
    s = Series("lrplan", "steps", floor=b.floor([b.lrplan, "plot", str(b.wsd_spec(10_000)), *base]))
    b.ladder(s, sizes, lambda n: [b.lrplan, "plot", str(b.wsd_spec(n)), *base])
    c.series.append(s)
    lr_only = ["-W", "100", "-H", "30", "--no-color"]
    s2 = Series("lrplan, LR only (no --loss; README: 1M < 0.5 s)", "steps",
                floor=b.floor([b.lrplan, "plot", str(b.wsd_spec(10_000)), *lr_only]))
    b.ladder(s2, sizes, lambda n: [b.lrplan, "plot", str(b.wsd_spec(n)), *lr_only])
    c.series.append(s2)
    pe = Series("peer: plotext given every point (LR + a loss-like series)", uses_work=True)
    b.ladder(pe, [1e4, 3e4] if b.quick else [1e4, 1e5, 1e6],
             lambda n: [b.py, str(PEERS / "plotext_points.py"), str(int(n)), "100", "30"], peer=True, reps=1)
    c.series.append(pe)
    c.verdict = verdict(s, 1e8, 2.0)
    c.notes += [n for n in (extrap_note(pe, 1e8),) if n]
    return c


def _plan_check(b: Bench, lr: Series, ref: Series, key: str) -> str:
    """Max |lrplan - reference| of the WSD (or optimised) final losses at the largest common size."""
    common = [(p, q) for p in lr.points for q in ref.points if p.size == q.size]
    if not common:
        return ""
    p, q = common[-1]
    try:
        d = json.loads(p.extra.get("stdout", ""))
    except json.JSONDecodeError:
        return ""
    if key == "wsd":
        mine = [cp["predicted_loss"].get("WSD") for cp in d.get("checkpoints", [])]
        theirs = q.extra.get("loss_wsd", [])
    else:
        mine = [o["predicted_loss"] for o in d.get("optimized", [])]
        theirs = [o[0] for o in q.extra.get("optimized", [])]
    pairs = [(x, y) for x, y in zip(mine, theirs) if x is not None and y is not None]
    if not pairs:
        return ""
    return (f"check at {fsize(p.size)} budgets: max abs(lrplan - reference) of the {'WSD' if key == 'wsd' else 'optimised'}"
            f" final losses = {max(abs(x - y) for x, y in pairs):.1e} over {len(pairs)} budgets")


def c_plan(b: Bench) -> Cost:
    c = Cost("plan", "`plan SPEC --law builtin:mpl-400m -f json` (WSD, N budgets of "
             f"{fsize(BUDGET_RANGE[0])}..{fsize(BUDGET_RANGE[1])} steps)",
             "1000 budgets < 10 s")
    sizes = [3, 10] if b.quick else [10, 100, 1000]
    s = Series("lrplan", "budgets", floor=b.floor([b.lrplan, "plan", str(b.plan_spec(1)), "--law", "builtin:mpl-400m",
                                                   "-f", "json"]))
    b.ladder(s, sizes, lambda n: [b.lrplan, "plan", str(b.plan_spec(n)), "--law", "builtin:mpl-400m", "-f", "json"],
             capture=True)
    ref = Series("peer: naive exact sum, WSD + cosine final loss per budget (numpy)", uses_work=True)
    b.ladder(ref, sizes, lambda n: [b.py, str(PEERS / "mpl_reference.py"), "plan", str(BUILTIN_LAW),
                                    ",".join(map(str, budgets(int(n))))], peer=True, reps=1)
    c.series += [s, ref]
    c.notes.append(_plan_check(b, s, ref, "wsd"))
    c.verdict = verdict(s, 1000, 10.0).replace("1k:", "1000 budgets:")
    return c


def c_optimize(b: Bench) -> Cost:
    c = Cost("optimize", "`plan SPEC --optimize --law builtin:mpl-400m -f json` (N budgets of "
             f"{fsize(BUDGET_RANGE[0])}..{fsize(BUDGET_RANGE[1])} steps)",
             "growth exponent ~1 in the number of budgets")
    sizes = [1, 3] if b.quick else [3, 10, 30, 100]
    for kind in ("wsd", "wsd-s"):
        s = Series(f"lrplan ({kind})", "budgets", floor=b.floor([b.lrplan, "plan", str(b.plan_spec(1, kind)),
                                                                 "--optimize", "--law", "builtin:mpl-400m", "-f", "json"]))
        b.ladder(s, sizes if kind == "wsd" else sizes[:3], lambda n, kind=kind: [
            b.lrplan, "plan", str(b.plan_spec(n, kind)), "--optimize", "--law", "builtin:mpl-400m", "-f", "json"],
            capture=True)
        c.series.append(s)
    ref = Series("peer: naive exact sum over the same 8x5 grid per budget, WSD (numpy)", uses_work=True)
    b.ladder(ref, sizes, lambda n: [b.py, str(PEERS / "mpl_reference.py"), "plan", str(BUILTIN_LAW),
                                    ",".join(map(str, budgets(int(n)))), "--optimize"], peer=True, reps=1)
    c.series.append(ref)
    c.notes.append(_plan_check(b, c.series[0], ref, "opt"))
    ks = [(s.tool, s.k()[0]) for s in c.series[:2]]
    c.verdict = "; ".join(f"{t}: k = {k:.2f}" if k is not None else f"{t}: k n/a" for t, k in ks)
    return c


def thinned_log(b: Bench, thin: int) -> Path:
    """The tour's three curves (csv_25 of the MPL repo) at every ``thin``-th row plus the last (3 = the tour file)."""
    p = b.work / f"mpl25m-thin{thin}.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["run", "step", "lr", "loss"])
        for run, name in TOUR_RUNS:
            rows = list(csv.DictReader(open(MPL25 / f"{name}.csv")))
            idx = sorted(set(range(0, len(rows), thin)) | {len(rows) - 1})
            for i in idx:
                w.writerow([run, rows[i]["step"], rows[i]["lr"], rows[i]["loss"]])
    if thin == 3 and p.read_text() == TOUR_LOG.read_text():
        return TOUR_LOG
    return p


def mpl_repo(b: Bench) -> tuple[Path | None, str]:
    if b.a.mpl_repo:
        p = Path(b.a.mpl_repo)
        return (p, "") if (p / "src" / "fitting.py").exists() else (None, f"--mpl-repo {p}: no src/fitting.py")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lrplan-bench" / "MultiPowerLaw"
    if (cache / "src" / "fitting.py").exists():
        return cache, ""
    if not shutil.which("git"):
        return None, "git not found to clone " + MPL_URL
    cache.parent.mkdir(parents=True, exist_ok=True)
    b.log(f"   cloning {MPL_URL} into {cache} ...")
    try:
        subprocess.run(["git", "clone", "--depth", "1", "-q", MPL_URL, str(cache)], check=True, timeout=60,
                       env={**os.environ, "GIT_TERMINAL_PROMPT": "0"}, capture_output=True)
        sha = subprocess.run(["git", "-C", str(cache), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
        (cache / "COMMIT").write_text(sha)
        return cache, ""
    except (subprocess.SubprocessError, OSError) as e:
        shutil.rmtree(cache, ignore_errors=True)
        return None, f"could not clone {MPL_URL} ({type(e).__name__}); pass --mpl-repo DIR"


def c_fit(b: Bench) -> Cost:
    c = Cost("fit", "`fit LOG --run-col run -o law.yaml -q`: the README tour's 3 curves (MPL 25M) at 4 thinnings",
             "the tour's fit < 2 s (README), as installed")
    thins = [6, 3] if b.quick else [6, 3, 2, 1]
    logs = {t: thinned_log(b, t) for t in thins}
    points = {t: sum(1 for _ in open(logs[t])) - 1 for t in thins}
    law = lambda t: b.work / f"law-thin{t}.yaml"  # noqa: E731
    by_pts = {points[t]: t for t in thins}
    # floor: the CLI's start-up (a fit on fewer points is no floor: 5 points per curve take longer than 50)
    s = Series("lrplan", "points in the log", floor=b.floor([b.lrplan, "--help"]))
    b.ladder(s, sorted(points.values()), lambda n: [b.lrplan, "fit", str(logs[by_pts[n]]), "--run-col", "run", "-q",
                                                    "-o", str(law(by_pts[n]))])
    c.series.append(s)
    tour_pts = points[3]
    # the numerical-gradient reference: 1 start at every size; 8 starts (lrplan's count) at the tour's size
    ref = Series("peer: scipy L-BFGS-B + finite differences, same law/data/window, 1 start", uses_work=True)
    extra = ["--maxiter", "3"] if b.quick else []
    if b.quick:
        ref.tool += " (--quick: 3 iterations)"
    b.ladder(ref, [n for n in sorted(points.values()) if law(by_pts[n]).exists()][:1 if b.quick else None],
             lambda n: [b.py, str(PEERS / "mpl_reference.py"), "fit", str(logs[by_pts[n]]), str(law(by_pts[n])),
                        "--starts", "1", *extra], peer=True, reps=1)
    c.series.append(ref)
    if not b.quick and law(3).exists():
        ref8 = Series("peer: the same reference, lrplan's 8 starts (tour size)", uses_work=True)
        b.ladder(ref8, [tour_pts], lambda n: [b.py, str(PEERS / "mpl_reference.py"), "fit", str(TOUR_LOG),
                                              str(law(3)), "--starts", "8", "--max-seconds",
                                              str(0.6 * b.timeout)], peer=True, reps=1)
        c.series.append(ref8)
    per_eval = []
    for r in c.series[1:]:
        for p in r.points:
            e = p.extra
            if "objective" not in e:
                continue
            nfev = sum(x["nfev"] for x in e["results"])
            done = f"{e['starts_done']} of {e['starts_planned']} starts"
            if not e.get("complete"):
                done += (f" before the deadline; all {e['starts_planned']}: ≈ "
                         f"{fsec(p.work * e['starts_planned'] / e['starts_done'])} (extrapolated)")
            c.notes.append(f"reference, {done}, at {p.size:g} points: objective {e['objective']:.4f} "
                           f"(lrplan {e['lrplan_objective']:.4f}; the reference's objective at lrplan's parameters "
                           f"{e['objective_at_lrplan_params']:.6f}, the faithfulness check), {nfev} objective "
                           f"evaluations, {sum(x['seconds'] for x in e['results']) / nfev * 1e3:.0f} ms each")
            if r is ref:
                per_eval.append((p.size, sum(x["seconds"] for x in e["results"]) / nfev))
    if len(per_eval) >= 2:
        k = measure.exponent([x for x, _ in per_eval], [y for _, y in per_eval])
        c.notes.append(f"reference: growth exponent of one objective evaluation (the naive sum) over "
                       f"{len(per_eval)} sizes: k = {k:.2f}")
    off = Series("peer: official MultiPowerLaw code (init grid + AdamW), its 25M curves thinned alike",
                 uses_work=True)
    if b.quick:
        off.skipped = "skipped in --quick"
    else:
        repo, why = mpl_repo(b)
        if repo is None:
            off.skipped = why
        elif not (have("torch") and have("matplotlib") and have("tqdm")):
            off.skipped = "needs torch, matplotlib, tqdm (pip install torch matplotlib tqdm)"
        else:
            off_pts = {}
            for t in thins:
                off_pts[points[t]] = t
            b.ladder(off, sorted(off_pts), lambda n: [b.py, str(PEERS / "mpl_official.py"), str(repo),
                                                      str(off_pts[n])], peer=True, reps=1)
            if off.points:
                off.note = f"commit {str(off.points[-1].extra.get('commit'))[:7]}"
            for p in off.points:
                e = p.extra
                c.notes.append(f"official code at {p.size:g} points ({e.get('points')} fitted): init grid "
                               f"{fsec(e.get('init_s'))} + AdamW {fsec(e.get('adam_s'))}; its Huber objective in "
                               f"lrplan's units {e.get('objective_lrplan_units', 0):.4f} (published law, every point: "
                               "not lrplan's objective)")
    c.series.append(off)
    t = next((p.wall for p in s.points if p.size == tour_pts), None)
    c.verdict = (("met" if t is not None and t < 2 else "NOT met") + f" (the tour's {tour_pts}-point log: {fsec(t)}"
                 + (f"; reference 1 start: {fsec(ref.at(tour_pts)[0])}" if ref.at(tour_pts)[0] and not ref.at(tour_pts)[2]
                    else "") + ")")
    return c


# ------------------------------------------------------------------------------------------------ reporting
def print_cost(c: Cost) -> None:
    print(f"\n== {c.title}\n   target: {c.target}   -> {c.verdict}")
    for s in c.series:
        print(f"   {s.tool:<62} k={s.kcell():<14} {s.cell()}" + (f"  [{s.note}]" if s.note else "")
              + (f"  (floor {fsec(s.floor)})" if s.floor is not None else ""))
    for n in c.notes:
        if n:
            print(f"   - {n}")
    sys.stdout.flush()


def markdown(costs: list[Cost], info: dict, sanity: list[dict], cmd: str, method: str) -> str:
    pk = info["packages"]
    lines = [
        f"Measured {info['date']} with `{cmd}` on {info['cpu']}, {info['cores']} cores "
        f"({info['cores_usable']} usable), {info['mem_total_gib']} GiB RAM, {info['os']}, load average "
        f"{' / '.join(map(str, info['loadavg']))} at the start and {' / '.join(map(str, info.get('loadavg_end', ())))} at "
        f"the end; Python {info['python']}, " + ", ".join(f"{k} {v}" for k, v in pk.items()) + "; "
        f"thread variables set: {', '.join(f'{k}={v}' for k, v in info['thread_env'].items()) or 'none'}; "
        f"files written to {info['workdir_fs']}; lrplan at {info.get('code', '?')}; {info.get('bytecode', '')}.",
        "",
        f"Peak RSS: {'GNU `/usr/bin/time -f %M`' if method == 'time' else 'fork+exec launcher (`os.wait4`)'} around "
        "each command, a fresh process, the caller's environment. Sanity check in the same run, with the benchmark "
        "process holding 1 GiB: " + "; ".join(
            f"{r['label']}: {fmib(r['mib'])}" + ("" if r["ok"] is None else (" (ok)" if r["ok"] else " (**FAILED**)"))
            for r in sanity) + ".",
        "",
        f"Peers ran with {'their libraries’ default threads' if info.get('peer_threads') == 'default' else 'one OpenMP/OpenBLAS/MKL thread (lrplan’s default)'}. "
        "Time = median wall time of the whole process [n = repeats]; peer work = the peer's own timed loop without "
        "its imports. k = growth exponent: slope of log(cost) over log(size), cost = time minus the command's "
        "start-up floor (lrplan) or the peer's work. ≈ = extrapolated by k from the largest measured size.",
        "",
        "| cost | tool, same run | size: time, peak RSS | k | target: verdict |",
        "|---|---|---|---|---|",
    ]
    def row(*cells: str) -> str:
        return "| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |"

    for c in costs:
        for i, s in enumerate(c.series):
            first = i == 0
            tool = s.tool + (f" ({s.note})" if s.note else "")
            if s.floor is not None:
                tool += f"; floor {fsec(s.floor)}"
            lines.append(row(c.title if first else "", tool, s.cell(), s.kcell(),
                             (c.target + ": **" + c.verdict + "**") if first else ""))
        for n in c.notes:
            if n:
                lines.append(row("", f"↳ {n}", "", "", ""))
    return "\n".join(lines) + "\n"


def update_readme(md: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if begin not in text or end not in text:
        raise SystemExit(f"README.md has no {begin} ... {end} block to replace")
    pre, rest = text.split(begin, 1)
    _, post = rest.split(end, 1)
    readme.write_text(pre + begin + "\n" + md + end + post)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat (smoke run, < 1 min)")
    ap.add_argument("--only", default="", help="comma-separated cost keys: " + " ".join(KEYS))
    ap.add_argument("--rss", choices=("time", "launcher"), default=None,
                    help="peak-RSS method (default: GNU /usr/bin/time if it works, else the launcher)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per run (default 300, quick 30)")
    ap.add_argument("--mem-limit", type=float, default=None,
                    help="MiB: skip a size whose projected peak RSS exceeds it (default: half the available "
                         "memory, at most 8 GiB)")
    ap.add_argument("--peer-threads", choices=("1", "default"), default="1",
                    help="peers' OMP/OpenBLAS/MKL threads: 1 (default: what lrplan uses unless --threads) or their "
                         "libraries' default (one per core; on a busy machine torch and OpenBLAS then spin)")
    ap.add_argument("--mpl-repo", default=os.environ.get("LRPLAN_BENCH_MPL_REPO"),
                    help="checkout of the official MultiPowerLaw repo (default: clone into ~/.cache/lrplan-bench)")
    ap.add_argument("--workdir", default=None, help="where the big files go (default: the system temp dir)")
    ap.add_argument("--markdown", default=None, help="also write the README table to this file")
    ap.add_argument("--json", default=None, help="also write every measurement to this file")
    ap.add_argument("--update-readme", action="store_true", help="replace README.md's bench:begin/end block")
    a = ap.parse_args()
    a.rss = a.rss or measure.default_method()
    a.timeout = a.timeout or (30.0 if a.quick else 300.0)
    if a.quick:
        BUDGET_RANGE[:] = [20_000, 100_000]
    keys = [k for k in a.only.split(",") if k] or list(KEYS)
    bad = set(keys) - set(KEYS)
    if bad:
        raise SystemExit(f"unknown cost key(s) {sorted(bad)}; choose from {KEYS}")
    if "predict" in keys and "render" not in keys:  # predict's target is a ratio to render of the same rows
        keys.append("render")
    keys = sorted(dict.fromkeys(keys), key=KEYS.index)  # render runs before predict, whatever --only's order
    if not shutil.which("lrplan"):
        raise SystemExit("no `lrplan` on PATH: install it (pip install -e .) and activate its environment")
    shown, argv = [], iter(sys.argv[1:])
    for x in argv:  # the command as the table's reader would rerun it (no output paths)
        opt = x.split("=", 1)[0]
        if opt in ("--json", "--markdown", "--workdir", "--mpl-repo"):
            if "=" not in x:
                next(argv, None)
            if opt == "--mpl-repo":
                shown.append("--mpl-repo DIR")
        elif x != "--update-readme":
            shown.append(x)
    cmdline = " ".join(["python benchmarks/run_all.py", *shown])
    t_start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="lrplan-bench-", dir=a.workdir))
    try:
        info = measure.machine_info(work)
        info["peer_threads"] = a.peer_threads
        print(f"lrplan benchmarks, {info['date']}: {info['cpu']}, {info['cores']} cores, {info['mem_total_gib']} GiB, "
              f"load {info['loadavg']}, Python {info['python']}, {info['packages']}")
        print(f"lrplan = {info['lrplan_script']}; thread variables in the environment: {info['thread_env'] or 'none'}; "
              f"work dir {work} ({info['workdir_fs']})")
        info["bytecode"] = measure.compile_bytecode()
        print(info["bytecode"])
        san = measure.sanity(a.rss)
        print(f"peak-RSS method: {a.rss}; sanity (benchmark process holding 1 GiB): "
              + "; ".join(f"{r['label']} = {fmib(r['mib'])}" + ("" if r["ok"] is None else (" ok" if r["ok"] else " FAILED"))
                          for r in san))
        if not all(r["ok"] for r in san if r["ok"] is not None):
            print("!! the RSS method failed its sanity check: the peak-RSS numbers below are not trustworthy")
        b = Bench(a, work)
        costs: list[Cost] = []
        render_series = None
        peers = None
        for key in keys:
            b.log(f"-- {key}")
            t0 = time.perf_counter()
            if key == "startup":
                c = c_startup(b)
            elif key == "snippets":
                c = c_snippets(b)
            elif key == "render":
                c = c_render(b)
                render_series = c.series[0]
            elif key in ("megatron", "import"):
                if peers is None:
                    peers = megatron_peers(b)
                c = c_megatron(b, peers) if key == "megatron" else c_import(b, peers)
            elif key == "predict":
                c = c_predict(b, render_series)
            elif key == "plot":
                c = c_plot(b)
            elif key == "plan":
                c = c_plan(b)
            elif key == "optimize":
                c = c_optimize(b)
            else:
                c = c_fit(b)
            b.log(f"   ({time.perf_counter() - t0:.0f} s)")
            costs.append(c)
            print_cost(c)
        info["loadavg_end"] = tuple(round(x, 2) for x in os.getloadavg())
        info["total_s"] = round(time.perf_counter() - t_start)
        md = markdown(costs, info, san, cmdline, a.rss)
        print("\n---- README table (markdown) ----\n" + md)
        print(f"total {info['total_s']} s")
        if a.markdown:
            Path(a.markdown).write_text(md)
        if a.json:
            def clean(c: Cost) -> dict:
                d = asdict(c)
                for s in d["series"]:
                    for p in s["points"]:
                        p["extra"].pop("stdout", None)
                return d
            Path(a.json).write_text(json.dumps({"machine": info, "sanity": san, "rss_method": a.rss,
                                                "costs": [clean(c) for c in costs]}, indent=1))
        if a.update_readme:
            update_readme(md)
            print("README.md updated")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
