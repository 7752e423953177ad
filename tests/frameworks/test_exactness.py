"""``lrplan.frameworks.exactness``: the framework-vs-spec check in O(segments), and what it rests on.

* The segmented check (closed forms per piece, a rounding bound, exhaustive where the bound is too loose) gives
  the same ``exact / max_abs_dev / max_rel_dev / first_diff`` (and, when not exact, the same counts) as the
  exhaustive one on every spec x framework x candidate config the export tests use.
* The closed forms are what the code computes: each simulator's ``pieces`` on every conformance config, the spec's
  ``pieces`` on every spec of the corpus, within the stated rounding bound (a wrong form fails here).
* Perturbed configs (a one-update-off warmup or decay, a min LR changed deep in the run, one bad update inside a
  stretch without a closed form) are caught, with the true first differing update; a 1-ulp change is not a
  difference at rtol 1e-12, and is not reported as one.
* Runs of 1e9 updates export, and their convention streams, without holding the run (``Export.lr`` refuses).
"""

from __future__ import annotations

import csv
import functools
import io
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrplan import frameworks
from lrplan.cli import app
from lrplan.errors import LrplanError
from lrplan.frameworks.common import compare, facts
from lrplan.frameworks.exactness import CHUNK, EXHAUSTIVE_MAX, FrameworkRun, LazyLR, check
from lrplan.frameworks.export import export
from lrplan.frameworks.megatron import simulator as megatron
from lrplan.schedules.forms import UR, value
from lrplan.spec.loading import load_spec
from tests.frameworks.test_conformance import fixture
from tests.frameworks.test_export import MEGATRON_CASES, SPECS, spec_of

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

TOKEN_SPECS = [
    ({"tokens": "1024M", "batch_size": 64, "seq_len": 1024, "rampup": {"start": 16, "increment": 16, "over": "100k samples"}},
     {"kind": "wsd", "peak_lr": 3e-4, "warmup": "51200k tokens", "decay": "20%", "decay_shape": "1-sqrt"}),
    ({"tokens": "1024M", "batch_size": 64, "seq_len": 1024, "rampup": {"start": 8, "increment": 8, "over": "64M tokens"}},
     {"kind": "cosine", "peak_lr": 3e-4, "warmup": "10240k tokens", "min_lr": 3e-5}),
    ({"tokens": "1024M", "batch_size": 64, "seq_len": 1024},
     {"kind": "cosine", "peak_lr": 3e-4, "warmup": "51200k tokens", "min_lr_ratio": 0.1, "clock": "tokens"}),
    ({"steps": 100, "seq_len": 10, "batch_schedule": [{"at": 0, "batch_size": 4}, {"at": 30, "batch_size": 8}]},
     {"kind": "cosine", "peak_lr": 1e-3, "warmup": 10, "min_lr": 1e-5}),
    ({"steps": 500, "batch_size": 8}, {"kind": "cosine", "peak_lr": 1e-4, "warmup": "3.2 steps", "min_lr": 1e-5, "tail": 180}),
    ({"tokens": "8192000", "batch_size": 128, "seq_len": 64},
     {"kind": "linear", "peak_lr": 1e-3, "warmup": "1000.5 samples", "tail": "3072 samples", "clock": "tokens"}),
]


@functools.cache
def corpus() -> tuple:
    """Every spec the export tests use, the shipped examples and the token-clock cases."""
    specs = [spec_of(k, n, **s) for k, n, s in MEGATRON_CASES] + [spec_of(k, n, **s) for k, n, s in SPECS.values()]
    specs += [load_spec(p) for p in sorted((ROOT / "schedules").glob("*.yaml"))]
    specs += [load_spec({"budget": b, "schedule": s}) for b, s in TOKEN_SPECS]
    return tuple(specs)


def runs(fw: str):
    """``(run, plan, peak)`` for every candidate config ``fw``'s exporter offers for every corpus spec."""
    F = frameworks.get(fw)
    for s in corpus():
        f = facts(s)
        plan = s.schedule_plan()
        for sb in ([False, True] if F.samples and f.batch_size else [False]):
            try:
                cands = F.exporter.candidates(f, sb)
            except LrplanError:
                continue
            for _, native in cands:
                try:
                    run = FrameworkRun(F, native)
                except (ValueError, ZeroDivisionError, AssertionError):
                    continue
                if run.n == plan.total_steps:
                    yield run, plan, f.peak


@pytest.mark.parametrize("fw", frameworks.names())
def test_segmented_check_agrees_with_exhaustive(fw):
    pairs = certified = total = exact = 0
    for run, plan, peak in runs(fw):
        full = check(run, plan, peak)  # these runs are short: every update compared
        seg = check(run, plan, peak, exhaustive_max=0)  # the same runs through the segmented path
        assert full.method == "exhaustive" and seg.method == "segments"
        got = (seg.exact, seg.max_abs_dev, seg.max_rel_dev, seg.first_diff)
        assert got == (full.exact, full.max_abs_dev, full.max_rel_dev, full.first_diff)
        if not full.exact:
            assert seg.stats == full.stats  # the counts the report words
        pairs += 1
        exact += full.exact
        total += plan.total_steps if full.exact else 0
        certified += seg.certified
    assert pairs >= 200 and exact >= 5
    if fw in ("megatron", "torchtitan"):  # closed forms on both sides: most exact updates are bounded, not evaluated
        assert certified > 0.5 * total, (certified, total)


def _cover(pieces, n):
    assert pieces[0][0] == 0 and pieces[-1][1] == n
    assert all(a < b for a, b, _ in pieces)
    assert all(p[1] == q[0] for p, q in zip(pieces, pieces[1:]))


def _within(lr: float, f, s: int) -> bool:
    return abs(lr - value(f, s)) <= f.err + 8 * UR * float(abs(f.base) + abs(f.delta))


@pytest.mark.parametrize("fw", frameworks.FOLDERS)
def test_simulator_pieces_describe_the_code(fw):
    """``lr_at`` is ``simulate`` elementwise (any order), and on every piece with a closed form the code's LR is
    that form within its rounding bound, on every conformance config, every update."""
    mod = frameworks.simulator(fw)
    formed = 0
    for case in fixture(fw)["cases"]:
        cfg, n = case["config"], case["n_updates"]
        lr = mod.simulate(cfg, n)
        order = np.random.default_rng(0).permutation(n)
        np.testing.assert_array_equal(mod.lr_at(cfg, order), lr[order])
        assert mod.run_length(cfg) == mod.simulate(cfg).size
        pieces = mod.pieces(cfg, n)
        _cover(pieces, n)
        for a, b, f in pieces:
            if f is not None:
                formed += b - a
                bad = [s for s in range(a, b) if not _within(float(lr[s]), f, s)]
                assert not bad, (case["id"], f, bad[:3])
    if fw in ("megatron", "torchtitan"):
        assert formed > 10_000


def test_spec_pieces_describe_the_code():
    formed = 0
    for s in corpus():
        plan = s.schedule_plan()
        n = plan.total_steps
        pieces = plan.pieces()
        _cover(pieces, n)
        for a, b, f in pieces:
            if f is None:
                continue
            steps = np.unique(np.linspace(a, b - 1, min(b - a, 500)).astype(np.int64))
            lr = plan.lr_at(steps)
            bad = [int(x) for x, v in zip(steps, lr) if not _within(float(v), f, int(x))]
            assert not bad, (s.schedule.kind, f, bad[:3])
            formed += steps.size
    assert formed > 10_000


# ------------------------------------------------------------------------------------------ perturbations


def _wsd(n: int):
    return load_spec({"budget": {"steps": n, "batch_size": 4},
                      "schedule": {"kind": "wsd", "peak_lr": 3e-4, "warmup": 1000, "decay": "20%", "decay_shape": "1-sqrt",
                                   "min_lr_ratio": 0.1}})


def _truth(cfg: dict, plan) -> int | None:
    """The first differing update, found independently: every update, in chunks (the plan's own table chunks)."""
    for ch in plan.chunks(size=CHUNK):
        got = megatron.lr_at(cfg, ch.step)
        bad = ~(np.abs(got - ch.lr) <= 1e-12 * np.abs(ch.lr) + 1e-300)
        if bad.any():
            return int(ch.step[np.argmax(bad)])
    return None


def _perturbed(n: int):
    s = _wsd(n)
    e = export(s, "megatron")
    assert e.exact
    base = e.native
    yield "warmup one update longer", {**base, "lr_warmup_iters": base["lr_warmup_iters"] + 1}, False
    yield "anneal one update longer", {**base, "lr_wsd_decay_iters": base["lr_wsd_decay_iters"] + 1}, False
    yield "min LR 4e-12 higher", {**base, "min_lr": base["min_lr"] * (1 + 4e-12)}, False
    yield "min LR one ulp higher", {**base, "min_lr": math.nextafter(base["min_lr"], 1.0)}, True


def _check_perturbations(n: int, arrays: bool) -> None:
    s = _wsd(n)
    plan = s.schedule_plan()
    assert n > EXHAUSTIVE_MAX  # the segmented path
    want = s.render().lr if arrays else None
    for label, cfg, same in _perturbed(n):
        res = check(FrameworkRun(frameworks.get("megatron"), cfg), plan, 3e-4)
        truth = _truth(cfg, plan)
        assert res.exact == same == (truth is None), label
        assert res.first_diff == truth, (label, res.first_diff, truth)
        if arrays:  # the whole report against the full-array comparison
            assert (res.exact, res.max_abs_dev, res.max_rel_dev, res.first_diff) == compare(megatron.simulate(cfg), want), label
    deep = [check(FrameworkRun(frameworks.get("megatron"), c), plan, 3e-4).first_diff for _, c, _ in list(_perturbed(n))[1:3]]
    assert all(d > 0.79 * n for d in deep)  # the anneal and min-LR changes show only in the decay, deep in the run


def test_perturbations_are_caught():
    _check_perturbations(4_500_000, arrays=True)


@pytest.mark.slow
def test_perturbations_are_caught_in_a_1e8_run():
    _check_perturbations(100_000_000, arrays=False)


class _Glitch:
    """Megatron's run of ``cfg`` with update ``k`` off by 1e-9 relative, its stretch declared without a closed form
    (a piece the bound does not cover: it is compared update by update)."""

    def __init__(self, cfg: dict, k: int):
        self.base = FrameworkRun(frameworks.get("megatron"), cfg)
        self.n, self.k = self.base.n, k

    def lr_at(self, steps):
        out = self.base.lr_at(steps)
        out[np.asarray(steps) == self.k] *= 1 + 1e-9
        return out

    def lr_range(self, a, b):
        return self.lr_at(np.arange(a, b, dtype=np.int64))

    def pieces(self):
        return [(a, b, None if a <= self.k < b else f) for a, b, f in self.base.pieces()]


def test_one_bad_update_inside_a_stretch_is_caught():
    n = 6_000_000
    s = _wsd(n)
    e = export(s, "megatron")
    k = 2_345_679  # inside the stable phase, far from every boundary and not a sampled update
    res = check(_Glitch(e.native, k), s.schedule_plan(), 3e-4)
    assert not res.exact and res.first_diff == k and res.stats.bad == 1
    assert check(_Glitch(e.native, n + 1), s.schedule_plan(), 3e-4).exact  # (no glitch inside the run: exact)


# ------------------------------------------------------------------------------------------ long runs

BIG = {"budget": {"steps": 1_000_000_000, "batch_size": 1024, "seq_len": 4096},
       "schedule": {"kind": "wsd", "peak_lr": 3e-4, "warmup": 2000, "decay": "20%", "decay_shape": "1-sqrt", "min_lr_ratio": 0.1}}


def test_a_1e9_update_export_is_checked_in_segments():
    s = load_spec(BIG)
    e = export(s, "megatron")
    assert e.exact and e.n_updates == 10**9
    steps = np.array([0, 1999, 2000, 799_999_999, 800_000_000, 10**9 - 1])
    np.testing.assert_allclose(e.lr_at(steps), s.schedule_plan().lr_at(steps), rtol=1e-12, atol=0)
    with pytest.raises(LrplanError, match="too many to hold"):
        e.lr  # noqa: B018
    res = check(FrameworkRun(frameworks.get("megatron"), e.native), s.schedule_plan(), 3e-4)
    assert res.method == "segments" and res.certified > 10**9 - 10**6


def test_cli_1e9_format_and_streamed_convention(tmp_path):
    p = tmp_path / "big.yaml"
    import yaml

    p.write_text(yaml.safe_dump(BIG))
    res = runner.invoke(app, ["render", str(p), "--format", "megatron"])
    assert res.exit_code == 0, res.stderr
    assert "--train-iters 1000000000" in res.stdout and "exact" in res.stderr
    res = runner.invoke(app, ["render", str(p), "--convention", "megatron", "--every", "100000000", "-q"])
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    steps = np.array([int(r["step"]) for r in rows])
    assert steps[0] == 0 and steps[-1] == 10**9 - 1 and 500_000_000 in steps
    e = export(load_spec(p), "megatron")
    assert [float(r["lr"]) for r in rows] == e.lr_at(steps).tolist()


def test_convention_table_streams(tmp_path, monkeypatch):
    """``render --convention FW -o FILE`` never holds the run: the same table with ``LazyLR.array`` disabled."""
    p = tmp_path / "s.yaml"
    p.write_text("budget: {steps: 300000, batch_size: 8, seq_len: 1024}\n"
                 "schedule: {kind: cosine, peak_lr: 3.0e-4, warmup: 1000, min_lr_ratio: 0.1}\n")
    before = tmp_path / "a.csv"
    res = runner.invoke(app, ["render", str(p), "--convention", "torchtitan", "-o", str(before)])
    assert res.exit_code == 0, res.stderr
    e = export(load_spec(p), "torchtitan")
    rows = before.read_text().splitlines()
    assert len(rows) == 300_001 and [float(r.split(",")[2]) for r in rows[1:]] == e.lr.tolist()

    def refuse(self):
        raise AssertionError("the convention table materialised the run")

    monkeypatch.setattr(LazyLR, "array", refuse)
    after = tmp_path / "b.csv"
    res = runner.invoke(app, ["render", str(p), "--convention", "torchtitan", "-o", str(after)])
    assert res.exit_code == 0, res.stderr
    assert after.read_bytes() == before.read_bytes()
