"""``lrplan import``: a framework config becomes a spec that renders exactly what the framework RUNS.

The ground truth is the conformance fixtures (``tests/data/conformance/<fw>.json``: LRs recorded from each
framework's own scheduler): for every importable fixture config, ``load_spec(imported).render().lr`` equals the
recorded LRs at rtol 1e-12. Also: refusals (the framework's own), file import, the CLI (``render --format``,
``--convention``, ``import``) and export -> import round trips.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrplan.cli import app
from lrplan.errors import LrplanError
from lrplan.frameworks import import_config
from lrplan.frameworks.export import export
from lrplan.frameworks.hf.importer import import_hf
from lrplan.frameworks.importing import phases_from_lr
from lrplan.frameworks.megatron import simulator as megatron
from lrplan.frameworks.megatron.importer import import_megatron, parse_megatron_args
from lrplan.frameworks.torchtitan.importer import import_torchtitan
from lrplan.spec.loading import load_spec

DATA = Path(__file__).resolve().parent.parent / "data" / "conformance"
runner = CliRunner()


@functools.cache
def fixture(fw: str) -> dict:
    return json.loads((DATA / f"{fw}.json").read_text())


def _cases(fw):
    return [pytest.param(fw, c, id=f"{fw}:{c['id']}") for c in fixture(fw)["cases"]]


def assert_close(got, want):
    assert got.shape == want.shape
    bad = np.flatnonzero(~np.isclose(got, want, rtol=1e-12, atol=0.0))
    assert bad.size == 0, f"{bad.size} updates differ; first at update {bad[0] + 1}: {got[bad[0]]!r} vs {want[bad[0]]!r}"


@functools.cache
def _imported(fw: str, case_id: str):
    (case,) = [c for c in fixture(fw)["cases"] if c["id"] == case_id]
    return import_config(fw, case["config"])


def _negative(c) -> bool:
    return bool((np.asarray(c["lr"], dtype=float) < 0).any())


@pytest.mark.parametrize("fw,case", _cases("megatron") + _cases("torchtitan") + _cases("hf"))
def test_import_reproduces_fixture(fw, case):
    want = np.asarray(case["lr"], dtype=np.float64)
    if _negative(case):  # TorchTitan past total_steps: its decay runs below 0
        with pytest.raises(LrplanError, match="negative LR"):
            import_config(fw, case["config"])
        return
    imp = _imported(fw, case["id"])
    assert imp.exact
    assert_close(load_spec(imp.spec).render().lr, want)
    if imp.spec["schedule"]["kind"] != "phases" or want.size <= 100:  # (PyYAML reads long phase lists slowly)
        assert_close(load_spec(imp.yaml).render().lr, want)  # the printed YAML, too


# How many fixture configs each framework imports as a named family (the rest: kind phases, still exact).
def _family_counts():
    out = {}
    for fw in ("megatron", "torchtitan", "hf"):
        fam = ph = neg = 0
        for c in fixture(fw)["cases"]:
            if _negative(c):
                neg += 1
                continue
            kind = _imported(fw, c["id"]).spec["schedule"]["kind"]
            fam += kind != "phases"
            ph += kind == "phases"
        out[fw] = (fam, ph, neg)
    return out


def test_family_coverage():
    counts = _family_counts()
    assert counts["torchtitan"][2] == 6  # negative-LR configs, refused
    assert counts["torchtitan"][0] >= 170
    assert counts["megatron"][0] >= 130
    assert counts["hf"][0] >= 150


@pytest.mark.parametrize("case", fixture("megatron")["cases"], ids=lambda c: c["id"])
def test_megatron_iteration_family(case):
    """Iteration-based configs with whole warmups, a decay window inside the run and no anneal window
    starting inside the warmup import as a named family."""
    cfg = case["config"]
    if not cfg.get("train_iters"):
        pytest.skip("sample-based")
    st = megatron.scheduler_steps(cfg)
    gbs = cfg["global_batch_size"]
    W, D, T = st.warmup / gbs, st.decay / gbs, cfg["train_iters"]
    wsd = (st.wsd_decay or 0) / gbs
    clean = W == int(W) and D <= T and W < T and (st.style != "WSD" or wsd <= D - W)
    if st.style == "inverse-square-root":
        clean = clean and D >= T - 1 and T > 1
    if not clean:
        pytest.skip("not expressible as a family (exact as phases)")
    assert _imported("megatron", case["id"]).spec["schedule"]["kind"] != "phases"


def test_phases_from_lr_is_exact():
    lr = np.concatenate([np.linspace(0, 1, 10, endpoint=False), np.ones(5), 0.5 * (1 + np.cos(np.linspace(0, 3, 7))), [0.2] * 3])
    ph = phases_from_lr(lr)
    assert ph[0]["shape"] == "linear" and ph[0]["length"] == 11  # 0, .1, ..., .9 and the first 1.0
    s = load_spec({"budget": {"steps": lr.size}, "schedule": {"kind": "phases", "phases": ph}})
    assert_close(s.render().lr, lr)


# ------------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "args,msg",
    [
        ("--lr 3e-4 --train-iters 100 --lr-warmup-iters 10 --lr-warmup-fraction 0.1", "one of --lr-warmup-fraction and --lr-warmup-iters"),
        ("--lr 3e-4 --train-iters 100 --lr-decay-samples 1000", "--lr-decay-samples cannot be used with --train-iters"),
        ("--lr 3e-4 --train-iters 100 --lr-warmpu-iters 10", "did you mean --lr-warmup-iters"),
        ("--lr 3e-4 --train-iters 100 --warmup 10", "--warmup is Megatron-LM.s old warmup flag"),
        ("--lr 3e-4 --train-iters 100 --lr-decay-style square", "--lr-decay-style 'square' is not supported"),
        ("--lr 3e-4 --train-iters 100 --lr-decay-style WSD", "requires --lr-wsd-decay-iters"),
        ("--lr 3e-4", "either --train-iters or --train-samples"),
        ("--lr x --train-iters 10", "invalid float value 'x'"),
        ("--lr 3e-4 --train-iters 100 --lr-warmup-iters 100", "warmup"),
    ],
)
def test_megatron_refusals(args, msg):
    with pytest.raises(LrplanError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        import_megatron(args.split())


def test_megatron_parse_forms():
    cfg, extra, notes = parse_megatron_args(["--lr=3e-4", "--train-iters", "10", "--rampup-batch-size", "4", "4", "100",
                                             "--seq-length", "2048", "--num-layers", "2", "--lr", "1e-3"])
    assert cfg == {"lr": 1e-3, "train_iters": 10, "rampup_batch_size": [4, 4, 100]}
    assert extra == {"seq_length": 2048}
    assert any("more than once" in n for n in notes) and any("--num-layers" in n for n in notes)


def test_megatron_budget_from_batch_and_seq():
    imp = import_megatron("--lr 3e-4 --min-lr 3e-5 --train-iters 1000 --global-batch-size 256 --seq-length 4096 "
                          "--lr-warmup-iters 100 --lr-decay-style WSD --lr-wsd-decay-style minus_sqrt --lr-wsd-decay-iters 200".split())
    assert imp.spec["budget"] == {"steps": 1000, "batch_size": 256, "seq_len": 4096}
    assert imp.spec["schedule"] == {"kind": "wsd", "peak_lr": 3e-4, "warmup": 100, "min_lr": 3e-5, "decay": 200, "decay_shape": "1-sqrt"}


def test_torchtitan_file(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text('[optimizer]\nname = "AdamW"\nlr = 8e-4\n\n[lr_scheduler]\nwarmup_steps = 2\ndecay_ratio = 0.8\n'
                 'decay_type = "linear"\nmin_lr_factor = 0.0\n\n[training]\nlocal_batch_size = 8\nsteps = 10\n')
    imp = import_torchtitan(p)
    from lrplan.frameworks.torchtitan import simulator as torchtitan

    assert_close(load_spec(imp.spec).render().lr, torchtitan.simulate(imp.config))
    sch = imp.spec["schedule"]
    assert sch["kind"] == "wsd" and sch["warmup"] == 1 and sch["warmup_init_lr"] == 4e-4 and sch["decay"] == "80%"  # decay_ratio 0.8
    p.write_text("[lr_scheduler]\nwarmup_steps = 2\nlr_min = 0.1\n")  # TorchTitan 0.1.0: lr_min is min_lr_factor's old name
    imp = import_torchtitan(p)
    assert imp.config["lr_scheduler"]["min_lr_factor"] == 0.1 and imp.spec["schedule"]["min_lr_ratio"] == 0.1
    p.write_text("[lr_scheduler]\nwarmup_steps = 2\ndecay_type = 'exp'\n[training]\nsteps = 10\n")
    with pytest.raises(LrplanError, match="Unknown lr_decay_type"):
        import_torchtitan(p)


def test_hf_file(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text("learning_rate: 3e-4\nmax_steps: 1000\nwarmup_steps: 0.05\nlr_scheduler_type: warmup_stable_decay\n"
                 "lr_scheduler_kwargs: '{\"num_decay_steps\": 200, \"decay_type\": \"1-sqrt\", \"min_lr_ratio\": 0.1}'\n"
                 "per_device_train_batch_size: 8\n")
    imp = import_hf(p)
    assert any("string in YAML" in n for n in imp.notes)
    sch = imp.spec["schedule"]
    assert sch["kind"] == "wsd" and sch["warmup"] == 50 and sch["warmup_init_lr"] == pytest.approx(3e-5)
    from lrplan.frameworks.hf import simulator as hf

    assert_close(load_spec(imp.spec).render().lr, hf.simulate(imp.config))
    p.write_text("learning_rate: 3.0e-4\nnum_train_epochs: 3\n")
    with pytest.raises(LrplanError, match="max_steps"):
        import_hf(p)
    p.write_text("learning_rate: 3.0e-4\nmax_steps: 10\nlr_scheduler_type: reduce_lr_on_plateau\n")
    with pytest.raises(LrplanError, match="metric-driven"):
        import_hf(p)


# ------------------------------------------------------------------------------------ export -> import


@pytest.mark.parametrize(
    "sched",
    [
        {"kind": "cosine", "peak_lr": 3e-4, "warmup": 100, "min_lr_ratio": 0.1},
        {"kind": "wsd", "peak_lr": 3e-4, "warmup": 10, "decay": 200, "decay_shape": "exponential"},
        {"kind": "wsdc", "peak_lr": 3e-4, "warmup": 10, "decay": 200, "tail": 50, "decay_shape": "cosine", "min_lr": 1e-5},
        {"kind": "inverse-sqrt", "peak_lr": 3e-4, "warmup": 40},
        {"kind": "constant", "peak_lr": 3e-4, "warmup": 7},
    ],
)
def test_export_then_import_megatron(sched):
    from tests.frameworks.test_export import parse_megatron

    s = load_spec({"budget": {"steps": 1001, "batch_size": 16}, "schedule": sched})
    e = export(s, "megatron")
    (cfg,) = parse_megatron(e.snippet)
    args = [x for k, v in cfg.items() for x in ("--" + k.replace("_", "-"), str(v))]
    imp = import_megatron(args)
    assert imp.spec["schedule"]["kind"] == sched["kind"]
    assert_close(load_spec(imp.spec).render().lr, s.render().lr)


def test_export_then_import_torchtitan_and_hf(tmp_path):
    s = load_spec({"budget": {"steps": 1000}, "schedule": {"kind": "wsd", "peak_lr": 3e-4, "decay": 200, "decay_shape": "1-sqrt", "min_lr_ratio": 0.1}})
    e = export(s, "torchtitan", "0.2")
    p = tmp_path / "t.toml"
    p.write_text(e.snippet)
    assert_close(load_spec(import_torchtitan(p).spec).render().lr, s.render().lr)
    e = export(s, "hf")
    p = tmp_path / "h.yaml"
    p.write_text(e.snippet)
    assert_close(load_spec(import_hf(p).spec).render().lr, e.lr)


# -------------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def spec_file(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: demo\nbudget: {steps: 1000, batch_size: 8, seq_len: 1024}\n"
                 "schedule: {kind: wsd, peak_lr: 3.0e-4, warmup: 100, decay: 20%, decay_shape: 1-sqrt, min_lr_ratio: 0.1}\n")
    return p


def test_cli_render_format_megatron(spec_file, tmp_path):
    res = runner.invoke(app, ["render", str(spec_file), "--format", "megatron"])
    assert res.exit_code == 0, res.stderr
    assert "--lr-decay-style WSD" in res.stdout and "--lr-wsd-decay-style minus_sqrt" in res.stdout
    assert "exact" in res.stderr
    out = tmp_path / "m.sh"
    res = runner.invoke(app, ["render", str(spec_file), "--format", "megatron", "--sample-based", "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "--train-samples 8000" in out.read_text() and res.stdout == ""


@pytest.mark.parametrize("fw", ["torchtitan", "hf", "olmo-core", "deepspeed"])
def test_cli_render_format_others(spec_file, fw):
    res = runner.invoke(app, ["render", str(spec_file), "--format", fw])
    assert res.exit_code == 0, res.stderr
    e = export(load_spec(spec_file), fw)
    assert res.stdout == e.snippet
    if not e.exact:
        assert "warning:" in res.stderr and "max deviation" in res.stderr


def test_cli_render_torchtitan_toml(spec_file):
    res = runner.invoke(app, ["render", str(spec_file), "--format", "torchtitan", "--framework-version", "0.2"])
    assert res.exit_code == 0
    assert "[lr_scheduler]" in res.stdout


def test_cli_convention(spec_file):
    res = runner.invoke(app, ["render", str(spec_file), "--convention", "torchtitan"])
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == 1000 and list(rows[0]) == ["step", "tokens", "lr", "phase"]
    e = export(load_spec(spec_file), "torchtitan")
    assert [float(r["lr"]) for r in rows] == e.lr.tolist()
    assert float(rows[0]["lr"]) == pytest.approx(3e-6) and rows[0]["phase"] == "warmup"
    assert "update 1 runs at LR 3e-06 (spec: 0)" in res.stderr and "peak held 1 extra step" in res.stderr
    thinned = runner.invoke(app, ["render", str(spec_file), "--convention", "torchtitan", "--every", "100", "-q"])
    kept = list(csv.DictReader(io.StringIO(thinned.stdout)))
    assert len(kept) < len(rows) and kept == [rows[int(r["step"])] for r in kept]  # the framework's LRs, thinned
    res = runner.invoke(app, ["render", str(spec_file), "--convention", "megatron", "--format", "json", "--every", "100", "-q"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data[0]["lr"] == 0.0 and res.stderr == ""


@pytest.mark.parametrize(
    "args,msg",
    [
        (["--convention", "jax"], "unknown framework 'jax'; known: megatron, torchtitan, hf, olmo-core, deepspeed"),
        (["--format", "hf", "--framework-version", "9"], "unknown hf version '9'; known: 5, 4 (default 5)"),
        (["--format", "megatron", "--convention", "hf"], "--convention writes a per-step table: use it with --format csv or json, not megatron"),
    ],
)
def test_cli_render_errors(spec_file, args, msg):
    res = runner.invoke(app, ["render", str(spec_file), *args])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [f"error: {msg}"]


def test_cli_render_format_unknown(spec_file):
    res = runner.invoke(app, ["render", str(spec_file), "--format", "jax"])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == ["error: unknown format 'jax'; known: csv, json, megatron, torchtitan, hf, olmo-core, deepspeed"]


def test_cli_import_megatron(tmp_path):
    res = runner.invoke(app, ["import", "megatron", "--", "--lr", "3e-4", "--train-iters", "100", "--lr-warmup-iters", "10",
                              "--lr-decay-style", "cosine", "--global-batch-size", "4"])
    assert res.exit_code == 0, res.stderr
    s = load_spec(res.stdout)
    assert s.schedule.kind == "cosine"
    cfg = {"lr": 3e-4, "train_iters": 100, "lr_warmup_iters": 10, "lr_decay_style": "cosine", "global_batch_size": 4}
    assert_close(s.render().lr, megatron.simulate(cfg))
    out = tmp_path / "m.yaml"
    res = runner.invoke(app, ["import", "megatron", "--lr", "3e-4", "--train-iters", "100", "-o", str(out)])  # no "--" also works
    assert res.exit_code == 0, res.stderr
    assert load_spec(out).schedule.kind == "linear"


def test_cli_import_files(tmp_path):
    t = tmp_path / "t.toml"
    t.write_text("[optimizer]\nlr = 3e-4\n[lr_scheduler]\nwarmup_steps = 10\ndecay_type = 'cosine'\n[training]\nsteps = 100\n")
    res = runner.invoke(app, ["import", "torchtitan", str(t)])
    assert res.exit_code == 0, res.stderr
    assert load_spec(res.stdout).schedule.kind == "wsd"
    h = tmp_path / "h.yaml"
    h.write_text("learning_rate: 3.0e-4\nmax_steps: 100\nwarmup_steps: 10\nlr_scheduler_type: cosine\n")
    res = runner.invoke(app, ["import", "hf", str(h)])
    assert res.exit_code == 0, res.stderr
    assert load_spec(res.stdout).schedule.kind == "cosine"


@pytest.mark.parametrize(
    "args,msg",
    [
        (["import", "megatron", "--", "--lr", "3e-4", "--train-iters", "100", "--lr-warmup-iters", "10", "--lr-warmup-fraction", "0.1"],
         "error: megatron would refuse this config: can only specify one of --lr-warmup-fraction and --lr-warmup-iters"),
        (["import", "megatron", "--", "--lr", "3e-4", "--train-iters", "100", "--lr-decay-samples", "5"],
         "error: megatron would refuse this config: --lr-decay-samples cannot be used with --train-iters (expected iteration-based decay)"),
        (["import", "jax", "x"], "error: unknown framework 'jax' for import; known: megatron, torchtitan, hf"),
        (["import", "hf"], "error: give one hf YAML file, e.g. lrplan import hf config.yaml"),
        (["import", "hf", "/nonexistent.yaml"], "error: /nonexistent.yaml: cannot read config: No such file or directory"),
    ],
)
def test_cli_import_errors(args, msg):
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [msg]


def _argv(cfg: dict) -> list[str]:
    out = []
    for k, v in cfg.items():
        if v is None:
            continue
        out.append("--" + k.replace("_", "-"))
        out += [str(x) for x in v] if isinstance(v, list) else [str(v)]
    return out


SAMPLE_CASES = [c for c in fixture("megatron")["cases"] if c["config"].get("train_samples")]


@pytest.mark.parametrize("case", SAMPLE_CASES, ids=lambda c: c["id"])
def test_megatron_sample_based_imports_on_the_token_clock(case):
    """With --seq-length, a sample-based config (ramp-up included) becomes a token-clock spec."""
    imp = import_megatron(_argv(case["config"]) + ["--seq-length", "8"])
    assert_close(load_spec(imp.spec).render().lr, np.asarray(case["lr"], dtype=np.float64))


def test_megatron_sample_based_family_coverage():
    fam = sum(import_megatron(_argv(c["config"]) + ["--seq-length", "8"]).spec["schedule"]["kind"] != "phases" for c in SAMPLE_CASES)
    assert len(SAMPLE_CASES) == 108 and fam >= 64  # 66 measured; the rest (fractional warmups...) are exact phases
