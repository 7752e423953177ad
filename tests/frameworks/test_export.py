"""``lrplan.frameworks.export``: framework snippets from a spec, exact or honestly approximate.

* Megatron exports of every Megatron-native family (cosine / linear / constant / WSD with every native shape /
  WSDC / inverse-sqrt; warmup 0, 1, long; min 0 and > 0; odd lengths) run the spec exactly:
  ``megatron.simulate(native)`` equals ``spec.render().lr`` at rtol 1e-12 at every update.
* Every other export is either exact or reports ``exact=False`` with the deviation it really has.
* Every snippet parses back (argparse, tomllib, ast, yaml, json) to the native config.
"""

from __future__ import annotations

import argparse
import ast
import json
import shlex
import time
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

import numpy as np
import pytest
import yaml

from lrplan.errors import LrplanError
from lrplan.frameworks import NAMES as FRAMEWORKS
from lrplan.frameworks.export import compare, export, simulate
from lrplan.frameworks.megatron import simulator as megatron
from lrplan.spec.loading import load_spec

RTOL = 1e-12


def spec_of(kind: str, steps: int, batch_size: int | None = 8, **sched) -> "object":
    budget: dict = {"steps": steps}
    if batch_size:
        budget["batch_size"] = batch_size
    return load_spec({"budget": budget, "schedule": {"kind": kind, "peak_lr": 3e-4, **sched}})


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    bad = np.flatnonzero(~np.isclose(got, want, rtol=RTOL, atol=0.0))
    assert bad.size == 0, f"{bad.size} updates differ; first at update {bad[0] + 1}: {got[bad[0]]!r} vs {want[bad[0]]!r}"


# ------------------------------------------------------------------------------------------ megatron matrix

LENGTHS = (7, 97, 1001)
WARMUPS = (0, 1, "long")
MINS = ({}, {"min_lr": 3e-5}, {"min_lr_ratio": 0.1})


def _w(w, n):
    return n // 3 if w == "long" else w


def megatron_matrix():
    for n in LENGTHS:
        for w in WARMUPS:
            W = _w(w, n)
            for mins in MINS:
                yield "constant", n, {"warmup": W, **({"warmup_init_lr": 1e-5} if W > 1 else {})}
                for kind in ("cosine", "linear"):
                    yield kind, n, {"warmup": W, **mins}
                for shape in ("exponential", "linear", "cosine", "1-sqrt"):
                    D = max(1, (n - W) // 4)
                    yield "wsd", n, {"warmup": W, "decay": D, "decay_shape": shape, **mins}
                    if n - W - D > 2:
                        yield "wsdc", n, {"warmup": W, "decay": D, "decay_shape": shape, "tail": 2, **mins}
                if W >= 1 and "min_lr_ratio" not in mins:
                    yield "inverse-sqrt", n, {"warmup": W, **mins}


MEGATRON_CASES = list(megatron_matrix())


@pytest.mark.parametrize("sample_based", [False, True], ids=["iters", "samples"])
@pytest.mark.parametrize("kind,n,sched", MEGATRON_CASES, ids=[f"{k}-{n}-{i}" for i, (k, n, _) in enumerate(MEGATRON_CASES)])
def test_megatron_export_is_exact(kind, n, sched, sample_based):
    s = spec_of(kind, n, **sched)
    e = export(s, "megatron", sample_based=sample_based)
    want = s.render().lr
    assert_close(megatron.simulate(e.native), want)
    assert e.exact and e.differences == [] and e.max_abs_dev == 0.0
    assert ("train_samples" in e.native) == sample_based
    assert "NOT EXACT" not in e.snippet
    assert parse_megatron(e.snippet) == [e.native]


def test_megatron_matrix_is_broad():
    kinds = {k for k, _, _ in MEGATRON_CASES}
    assert kinds == {"constant", "cosine", "linear", "wsd", "wsdc", "inverse-sqrt"}
    assert len(MEGATRON_CASES) > 150


def test_megatron_wsds_is_exact_per_segment_relaunch():
    s = load_spec({"budget": {"budgets": [400, 800, 1600], "batch_size": 4},
                   "schedule": {"kind": "wsd-s", "peak_lr": 1e-3, "warmup": 20, "decay_shape": "1-sqrt", "min_lr": 1e-5}})
    e = export(s, "megatron")
    assert isinstance(e.native, list) and len(e.native) == 3
    assert e.exact
    assert_close(simulate("megatron", e.native), s.render().lr)
    assert [c["lr_decay_iters"] for c in e.native] == [c["train_iters"] for c in e.native]
    assert "--override-opt-param-scheduler" in e.snippet and e.recipe and "launch 3" in e.recipe
    assert parse_megatron(e.snippet) == [{**c, **({"override_opt_param_scheduler": True} if i else {})} for i, c in enumerate(e.native)]


def test_megatron_cosine_warmup_is_not_exact():
    s = spec_of("cosine", 200, warmup=20, warmup_shape="cosine")
    e = export(s, "megatron")
    assert not e.exact and e.max_abs_dev > 0
    assert "NOT EXACT" in e.snippet and e.recipe and "LRPlanScheduler" in e.recipe


def test_megatron_without_batch_size_says_so():
    s = spec_of("cosine", 100, batch_size=None, warmup=10)
    e = export(s, "megatron")
    assert e.exact and "global_batch_size" not in e.native
    assert "--global-batch-size" in e.snippet  # the comment asking for it
    with pytest.raises(LrplanError, match="batch_size"):
        export(s, "megatron", sample_based=True)


# --------------------------------------------------------------------------------- every framework, honestly

SPECS = {
    "cosine-w0": ("cosine", 97, {"min_lr_ratio": 0.1}),
    "cosine-w10": ("cosine", 500, {"warmup": 10}),
    "linear-d2z": ("linear", 333, {"warmup": 33}),
    "linear-min": ("linear", 101, {"warmup": 1, "min_lr": 3e-5}),
    "constant-w0": ("constant", 50, {}),
    "constant-w5": ("constant", 50, {"warmup": 5}),
    "wsd-1sqrt": ("wsd", 1000, {"warmup": 50, "decay": "20%", "decay_shape": "1-sqrt", "min_lr_ratio": 0.1}),
    "wsd-cos-w0": ("wsd", 999, {"decay": 100, "decay_shape": "cosine"}),
    "wsd-exp": ("wsd", 400, {"warmup": 40, "decay": 80, "decay_shape": "exponential", "min_lr": 3e-5}),
    "wsdc": ("wsdc", 700, {"warmup": 70, "decay": 100, "tail": 30, "decay_shape": "linear"}),
    "isqrt": ("inverse-sqrt", 300, {"warmup": 30}),
    "poly": ("polynomial", 200, {"warmup": 20, "power": 2.0, "min_lr": 1e-5}),
    "rex": ("rex", 300, {"warmup": 30}),
    "uba": ("uba", 300, {"warmup": 30, "phi": 1.5}),
    "cos-warm-cos": ("cosine", 300, {"warmup": 30, "warmup_shape": "cosine"}),
    "onecycle": ("onecycle", 300, {}),
}


@pytest.mark.parametrize("fw", FRAMEWORKS)
@pytest.mark.parametrize("name", list(SPECS))
def test_export_exact_or_reports_true_deviation(fw, name):
    kind, n, sched = SPECS[name]
    s = spec_of(kind, n, **sched)
    want = s.render().lr
    e = export(s, fw)
    got = simulate(fw, e.native)
    np.testing.assert_array_equal(got, e.lr)  # convention() is the simulator applied to the native config
    dev = np.abs(got - want)
    if e.exact:
        assert_close(got, want)
        assert e.max_abs_dev == 0.0 and not e.differences and "NOT EXACT" not in e.snippet
    else:
        assert e.max_abs_dev == float(dev.max()) > 0
        assert e.first_diff == int(np.argmax(~np.isclose(got, want, rtol=RTOL, atol=0)))
        assert e.differences and e.recipe
        assert ("NOT EXACT" in e.snippet) == e.annotated  # DeepSpeed's JSON has no comments: its report is stderr's
        assert e.warnings and "max deviation" in e.warnings[0]
    check_roundtrip(fw, e)


EXPECTED_EXACT = {
    # family -> frameworks that run it exactly (the rest: exact=False with the deviation)
    "cosine-w0": {"megatron", "torchtitan", "hf", "olmo-core"},
    "cosine-w10": {"megatron", "hf"},
    "linear-d2z": {"megatron", "hf"},
    "linear-min": {"megatron", "hf"},
    "constant-w0": {"megatron", "torchtitan", "hf", "olmo-core", "deepspeed"},
    "constant-w5": {"megatron", "hf"},
    "wsd-1sqrt": {"megatron"},
    "wsd-cos-w0": {"megatron", "torchtitan", "hf"},
    "wsd-exp": {"megatron"},
    "wsdc": {"megatron", "hf"},
    "isqrt": {"megatron", "hf"},
    "poly": {"hf"},
    "rex": set(),
    "uba": set(),
    "cos-warm-cos": {"hf"},
    "onecycle": set(),
}


def test_exactness_matrix():
    got = {}
    for name, (kind, n, sched) in SPECS.items():
        s = spec_of(kind, n, **sched)
        got[name] = {fw for fw in FRAMEWORKS if export(s, fw).exact}
    assert got == EXPECTED_EXACT


def test_torchtitan_warmup_differences_are_named():
    s = spec_of("cosine", 500, warmup=10, min_lr_ratio=0.1)
    e = export(s, "torchtitan")
    assert not e.exact
    text = "\n".join(e.differences)
    assert "update 1 runs at LR 3e-05 (spec: 0)" in text
    assert "peak held 1 extra step" in text
    assert e.max_abs_dev == pytest.approx(3e-4 / 10, rel=1e-12)  # lr/W at every warmup update


def test_torchtitan_wsds_relaunch():
    s = load_spec({"budget": {"budgets": [400, 800]}, "schedule": {"kind": "wsd-s", "peak_lr": 1e-3, "decay_shape": "cosine"}})
    e = export(s, "torchtitan")
    assert isinstance(e.native, list) and len(e.native) == 2
    assert e.exact  # no warmup: TorchTitan's warmup quirk does not apply
    assert_close(simulate("torchtitan", e.native), s.render().lr)


# ------------------------------------------------------------------------------------------- round trips


def parse_megatron(snippet: str) -> list[dict]:
    """argparse over the snippet's command lines (comments dropped), one config per launch."""
    p = argparse.ArgumentParser()
    ints = ["train_iters", "train_samples", "global_batch_size", "lr_warmup_iters", "lr_warmup_samples",
            "lr_decay_iters", "lr_decay_samples", "lr_wsd_decay_iters", "lr_wsd_decay_samples"]
    for k in ints:
        p.add_argument("--" + k.replace("_", "-"), type=int)
    for k in ("lr", "min_lr", "lr_warmup_init", "lr_warmup_fraction"):
        p.add_argument("--" + k.replace("_", "-"), type=float)
    p.add_argument("--lr-decay-style", choices=megatron.DECAY_STYLES)
    p.add_argument("--lr-wsd-decay-style", choices=megatron.WSD_DECAY_STYLES)
    p.add_argument("--rampup-batch-size", type=int, nargs=3)
    p.add_argument("--override-opt-param-scheduler", action="store_true", default=None)
    out, cur = [], []
    for line in snippet.splitlines():
        if line.startswith("#"):
            if cur:
                out.append(cur)
                cur = []
            continue
        cur.append(line)
    if cur:
        out.append(cur)
    cfgs = []
    for block in out:
        ns = p.parse_args(shlex.split("\n".join(block).replace("\\\n", " ")))
        cfgs.append({k: v for k, v in vars(ns).items() if v is not None})
    return cfgs


def _calls(tree: ast.AST) -> dict[str, dict]:
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            out[name] = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
    return out


def check_roundtrip(fw: str, e) -> None:
    natives = e.native if isinstance(e.native, list) else [e.native]
    if fw == "megatron":
        parsed = parse_megatron(e.snippet)
        assert [{k: v for k, v in c.items() if k != "override_opt_param_scheduler"} for c in parsed] == natives
    elif fw == "torchtitan" and e.version == "0.2":
        assert len(natives) == 1
        assert tomllib.loads(e.snippet) == natives[0]
    elif fw == "torchtitan":
        assert len(natives) == 1
        calls = _calls(ast.parse(e.snippet))
        cfg = natives[0]
        assert calls["Config"] == cfg["lr_scheduler"]
        assert calls["default_adamw"] == cfg["optimizer"]
        assert calls["TrainingConfig"] == cfg["training"]
    elif fw == "hf":
        cfg = natives[0]
        assert yaml.safe_load(e.snippet) == cfg
        cli = [ln for ln in e.snippet.splitlines() if ln.startswith("# --learning_rate")][0][2:]
        toks = shlex.split(cli)
        parsed = dict(zip(toks[::2], toks[1::2]))
        assert float(parsed["--learning_rate"]) == cfg["learning_rate"]
        assert int(parsed["--max_steps"]) == cfg["max_steps"] and int(parsed["--warmup_steps"]) == cfg["warmup_steps"]
        assert parsed["--lr_scheduler_type"] == cfg["lr_scheduler_type"]
        assert json.loads(parsed.get("--lr_scheduler_kwargs", "{}")) == cfg.get("lr_scheduler_kwargs", {})
    elif fw == "olmo-core":
        from lrplan.frameworks.olmo_core.export import OLMO_CLASSES

        cfg = natives[0]
        calls = _calls(ast.parse(e.snippet))
        cls = OLMO_CLASSES[cfg["scheduler"]["type"]]
        assert {"type": cfg["scheduler"]["type"], **calls[cls]} == cfg["scheduler"]
        assert calls["AdamWConfig"] == {"lr": cfg["lr"]}
        steps = [n for n in ast.walk(ast.parse(e.snippet)) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "steps"]
        assert ast.literal_eval(steps[0].args[0]) == cfg["max_steps"]
    elif fw == "deepspeed":
        cfg = natives[0]
        assert json.loads(e.snippet) == {"optimizer": cfg["optimizer"], "scheduler": cfg["scheduler"]}  # exact or not
        assert not e.annotated  # the report is on stderr (lrplan render) and in the Export, never in the JSON


def test_torchtitan_versions_roundtrip():
    s = spec_of("wsd", 1000, warmup=0, decay=200, decay_shape="1-sqrt", min_lr_ratio=0.1)
    for v in ("0.2", "0.2.2", "0.3", None):
        e = export(s, "torchtitan", version=v)
        assert e.exact
        check_roundtrip("torchtitan", e)
    assert "[lr_scheduler]" in export(s, "torchtitan", "0.2").snippet
    assert "LRSchedulersContainer.Config(" in export(s, "torchtitan").snippet


def test_yaml_numbers_are_numbers():
    s = spec_of("cosine", 100, warmup=10, min_lr=3e-5)
    snip = export(s, "hf").snippet
    assert "3e-" not in snip.replace("3.0e-", "")  # never 3e-5 unquoted (PyYAML reads it as a string)
    data = yaml.safe_load(snip)
    assert isinstance(data["learning_rate"], float)


# ------------------------------------------------------------------------------------------------ errors


def test_unknown_framework_and_version():
    s = spec_of("cosine", 100)
    with pytest.raises(LrplanError, match="known: megatron, torchtitan, hf, olmo-core, deepspeed"):
        export(s, "jax")
    with pytest.raises(LrplanError, match=r"known: 0\.3, 0\.2, 0\.1"):
        export(s, "torchtitan", version="0.0.2")  # before e7c0cae (2025-06-11) TorchTitan ran another formula
    with pytest.raises(LrplanError, match="megatron only"):
        export(s, "hf", sample_based=True)


def test_compare():
    a = np.array([1.0, 2.0, 0.0])
    assert compare(a, a) == (True, 0.0, 0.0, None)
    ex, mx, mr, first = compare(np.array([1.0, 2.5, 0.0]), a)
    assert (ex, mx, mr, first) == (False, 0.5, 0.25, 1)


def test_export_is_fast():
    s = spec_of("wsd", 200_000, warmup=2000, decay="20%", decay_shape="1-sqrt", min_lr_ratio=0.1)
    for fw in FRAMEWORKS:
        export(s, fw)  # warm imports
    t = time.perf_counter()
    export(load_spec({"budget": {"steps": 200_000}, "schedule": {"kind": "wsd", "peak_lr": 3e-4, "warmup": 2000}}), "megatron")
    assert time.perf_counter() - t < 0.3


# ------------------------------------------------------------------------------------------ token clock


@pytest.mark.parametrize(
    "budget,sched",
    [
        ({"tokens": "1024M", "batch_size": 64, "seq_len": 1024, "rampup": {"start": 16, "increment": 16, "over": "100k samples"}},
         {"kind": "wsd", "peak_lr": 3e-4, "warmup": "51200k tokens", "decay": "20%", "decay_shape": "1-sqrt"}),
        ({"tokens": "1024M", "batch_size": 64, "seq_len": 1024, "rampup": {"start": 8, "increment": 8, "over": "64M tokens"}},
         {"kind": "cosine", "peak_lr": 3e-4, "warmup": "10240k tokens", "min_lr": 3e-5}),
        ({"tokens": "1024M", "batch_size": 64, "seq_len": 1024},
         {"kind": "cosine", "peak_lr": 3e-4, "warmup": "51200k tokens", "min_lr_ratio": 0.1, "clock": "tokens"}),
    ],
)
def test_token_clock_exports_sample_based_megatron(budget, sched):
    """A schedule on the token clock (batch ramp-up) is Megatron's sample-based scheduler, exactly."""
    s = load_spec({"budget": budget, "schedule": sched})
    e = export(s, "megatron")
    assert e.exact, e.differences
    assert "train_samples" in e.native and e.native["global_batch_size"] == 64
    assert ("rampup_batch_size" in e.native) == ("rampup" in budget)
    assert_close(megatron.simulate(e.native), s.render().lr)
    assert parse_megatron(e.snippet) == [e.native]
    for fw in FRAMEWORKS[1:]:  # the others run on steps: honest about it
        o = export(s, fw)
        assert not (o.exact and budget.get("rampup"))  # a ramp-up moves the token clock off the step clock
        if not o.exact:
            assert o.max_abs_dev == float(np.abs(o.lr - s.render().lr).max())


@pytest.mark.parametrize("budget", [
    {"steps": 100, "batch_size": 8},
    {"steps": 100, "seq_len": 10, "batch_schedule": [{"at": 0, "batch_size": 4}, {"at": 30, "batch_size": 8}]},
    {"tokens": "20480", "batch_size": 16, "seq_len": 10, "rampup": {"start": 4, "increment": 4, "over": "400 samples"}},
])
def test_megatron_min_lr_note_gives_a_flag_that_ends_at_min_lr(budget):
    """The suggested --lr-decay-iters or --lr-decay-samples really makes Megatron's last update run at min_lr."""
    spec = load_spec({"budget": budget, "schedule": {"kind": "cosine", "peak_lr": 1e-3, "warmup": 10, "min_lr": 1e-5}})
    e = export(spec, "megatron")
    note = next(n for n in e.notes if "never runs at min_lr" in n)
    flag, value = note.split(" use --")[1].split(" (")[0].split()
    native = {**e.native, flag.replace("-", "_"): int(value)}
    assert megatron.simulate(native)[-1] == pytest.approx(1e-5, rel=1e-12)
    assert megatron.simulate(native)[-2] > 1e-5
