"""Issue 18, TorchTitan and HF: the real configs of ``tests/data/real_configs/`` against what the frameworks really do.

Ground truth: ``tests/data/conformance/corpus/{torchtitan,hf}.json``, written by ``conformance/generate_corpus.py``:
every TorchTitan config run with the scheduler code of the commit it comes from (2024 to 2026-08; plus a matrix of
synthetic configs on the first commit of each scheduler formula), and the ``max_steps`` the real
``transformers.Trainer`` derives for the epoch-based HF recipes. For each config:

* the import renders exactly what the framework runs, at every update;
* the export of the imported spec gives a config the framework runs identically, with the source's values and
  style (``decay_ratio`` or none, ``lr_min`` for 0.1, Python for 0.3) -- or, for the two pre-v0.1.0 files, says it is
  not exact because no TorchTitan >= 0.1 config reproduces them (checked by search);
* bad input is one line naming the file (and line or field) with what to do, exit 2.
"""

from __future__ import annotations

import ast
import functools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import tomllib
from typer.testing import CliRunner

from lrplan.cli import app
from lrplan.errors import LrplanError
from lrplan.frameworks.export import export
from lrplan.frameworks.hf import simulator as hf_sim
from lrplan.frameworks.hf.importer import EPOCH_DEFAULTS, epoch_max_steps, import_hf
from lrplan.frameworks.torchtitan import legacy
from lrplan.frameworks.torchtitan import simulator as tt_sim
from lrplan.frameworks.torchtitan.importer import import_torchtitan, lr_min_trap, read_source
from lrplan.spec.loading import load_spec

DATA = Path(__file__).resolve().parent.parent / "data"
CORPUS = DATA / "real_configs"
runner = CliRunner()


@functools.cache
def record(fw: str) -> dict:
    return json.loads((DATA / "conformance" / "corpus" / f"{fw}.json").read_text())


def close(got, want) -> bool:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-12, atol=0.0))


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_error(res, *parts: str) -> str:
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    for p in parts:
        assert p in lines[0], (p, lines[0])
    return lines[0]


TT_CASES = [pytest.param(c, id=c["id"]) for c in record("torchtitan")["cases"]]
OLD_FORMULA = {"tt_2024_04_llama3_8b", "tt_2025_03_llama3_debug_model"}  # before e7c0cae (2025-06-11)


# ------------------------------------------------------------------------------- TorchTitan: the formulas


def test_the_record_covers_the_corpus():
    files = {p.name for p in (CORPUS / "torchtitan").iterdir()}
    recorded = {c["file"].split("/")[1] for c in record("torchtitan")["cases"]}
    assert recorded == files and len(files) == 17
    assert not record("torchtitan")["refused"]
    # each config ran with its own commit's scheduler code
    assert {c["scheduler_file"] for c in record("torchtitan")["cases"]} == {
        "torchtitan/lr_scheduling.py", "torchtitan/components/optimizer.py", "torchtitan/components/lr_scheduler.py",
        "torchtitan/components/optimizer/lr_scheduler.py"}


def _era_sim(era: str, given: dict):
    if era in ("0.1", "0.2"):
        cfg = json.loads(json.dumps(given))
        if "lr_min" in cfg.get("lr_scheduler", {}):
            cfg["lr_scheduler"]["min_lr_factor"] = cfg["lr_scheduler"].pop("lr_min")
        return tt_sim, cfg
    return legacy.FORMULAS[era], given


def test_every_formula_matches_the_scheduler_code_of_its_era():
    """The synthetic matrix on 0da8901, 7e614f1, 2404197, df2dcc7 and two releases: lrplan's formula of each era gives
    the LR of every update, and refuses exactly the configs that crash that TorchTitan (7e614f1's ZeroDivisionError
    when the decay has 0 steps)."""
    eras = record("torchtitan")["eras"]
    assert {e["era"] for e in eras} == {"2024", "2025-03-10", "2025-03-14", "2025-03-26", "0.1", "0.2"}
    bit = n = 0
    for e in eras:
        sim, cfg = _era_sim(e["era"], e["given"])
        problems = sim.validate(cfg)
        if "error" in e:
            assert problems, (e["era"], e["id"], e["error"])
            continue
        assert not problems, (e["era"], e["id"], problems)
        got = sim.simulate(cfg)
        assert close(got, e["lr"]), (e["era"], e["id"])
        n += 1
        bit += bool(np.array_equal(got, np.asarray(e["lr"])))
    assert sum("error" in e for e in eras) == 16 and all(e["era"] == "2025-03-14" for e in eras if "error" in e)
    assert bit / n >= 0.9, (bit, n)


def test_the_formulas_really_differ():
    """The era matters: the corpus's 2025-03 debug config under each formula."""
    cfg = {"lr_scheduler": {"warmup_steps": 2, "decay_ratio": 0.8, "decay_type": "linear", "lr_min": 0.0},
           "training": {"steps": 10}, "optimizer": {"lr": 1.0}}
    runs = {k: f.simulate(cfg) for k, f in legacy.FORMULAS.items() if k != "2024"}
    new = dict(cfg, lr_scheduler={**cfg["lr_scheduler"], "min_lr_factor": 0.0})
    del new["lr_scheduler"]["lr_min"]
    runs["0.1"] = tt_sim.simulate(new)
    assert runs["2025-03-10"][:3].tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert close(runs["2025-03-10"], runs["2025-03-14"])  # the same run here (the float stable end 1.9999999999999996)
    assert not close(runs["2025-03-14"], runs["2025-03-26"]) and not close(runs["2025-03-26"], runs["0.1"])
    assert runs["0.1"][:3].tolist() == [0.5, 1.0, 1.0]  # e7c0cae: (c+1)/W and the extra stable step


# ------------------------------------------------------------------------------- TorchTitan: import


def _import(c):
    return import_torchtitan(CORPUS / c["file"], config=c["config"])


@pytest.mark.parametrize("c", TT_CASES)
def test_import_runs_what_the_scheduler_of_its_commit_runs(c):
    imp = _import(c)
    assert imp.exact
    assert close(load_spec(imp.spec).render().lr, c["lr"])
    if c["id"] not in OLD_FORMULA:
        assert imp.spec["schedule"]["kind"] in ("wsd", "constant")  # a family, not per-update phases


def test_the_2024_file_reads_its_training_warmup(tmp_path):
    """[training] warmup_steps (2024) is the warmup: never ignored, never replaced by the default."""
    src = (CORPUS / "torchtitan" / "tt_2024_04_llama3_8b.toml").read_text()
    imp = import_torchtitan(CORPUS / "torchtitan" / "tt_2024_04_llama3_8b.toml")
    assert imp.spec["schedule"]["warmup"] == 200 and imp.spec["schedule"]["warmup_init_lr"] == pytest.approx(3e-4 / 201)
    assert not any("warmup_steps is not set" in n for n in imp.notes)
    assert any("before 0da8901 (2025-03-10)" in n and "(c+1)/(W+1)" in n for n in imp.notes)
    p = tmp_path / "t.toml"
    p.write_text(src.replace("warmup_steps = 200", "warmup_steps = 50"))
    imp = import_torchtitan(p)
    cfg = {"training": {"steps": 1000, "warmup_steps": 50}, "optimizer": {"lr": 3e-4}}
    assert imp.spec["schedule"]["warmup"] == 50
    assert close(load_spec(imp.spec).render().lr, legacy.FORMULAS["2024"].simulate(cfg))


def test_a_stale_training_warmup_next_to_lr_scheduler_is_named(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text("[lr_scheduler]\nwarmup_steps = 10\nmin_lr_factor = 0.1\n[training]\nwarmup_steps = 50\nsteps = 100\n")
    imp = import_torchtitan(p)
    assert imp.spec["schedule"]["warmup"] == 9  # [lr_scheduler] warmup_steps 10: (c+1)/10
    assert any(f"{p}:5: [training] warmup_steps = 50 is not read" in n for n in imp.notes)


def test_the_2025_03_file_is_read_with_the_formula_of_its_time():
    f = CORPUS / "torchtitan" / "tt_2025_03_llama3_debug_model.toml"
    (c,) = [c for c in record("torchtitan")["cases"] if c["id"] == "tt_2025_03_llama3_debug_model"]
    imp = import_torchtitan(f)
    assert any("2025-03-10 to 2025-03-17" in n and "0da8901, 7e614f1" in n for n in imp.notes)
    exact = import_torchtitan(f, version="2025-03-10")  # 0da8901 itself, the file's commit
    assert close(load_spec(exact.spec).render().lr, c["lr"])
    later = import_torchtitan(f, version="2025-04-01")  # 2404197's formula: another run
    assert not close(load_spec(later.spec).render().lr, c["lr"])
    now = import_torchtitan(f, version="0.1")
    assert load_spec(now.spec).render().lr[0] == pytest.approx(4e-4)  # lr/W with today's formula


def test_v010_lr_min_files_import_with_v010_semantics():
    for name in ("tt_v010_llama3_debug_model", "tt_v010_llama4_17bx16e", "tt_v010_deepseek_v2",
                 "tt_2025_07_deepseek_v3_671b", "tt_2025_07_deepseek_v3_16b"):
        imp = import_torchtitan(CORPUS / "torchtitan" / f"{name}.toml")
        assert "min_lr_factor" in imp.config["lr_scheduler"] and "lr_min" not in imp.config["lr_scheduler"]
        assert any("read as TorchTitan 0.1.0" in n for n in imp.notes), imp.notes


def test_the_lr_min_trap_is_a_warning():
    """Rule: warn when 0 < lr_min <= lr (a factor no larger than the LR itself)."""
    for name in ("tt_2025_07_deepseek_v3_671b", "tt_2025_07_deepseek_v3_16b"):
        f = CORPUS / "torchtitan" / f"{name}.toml"
        imp = import_torchtitan(f)
        (w,) = imp.warnings
        assert f"{f}:22: lr_min = 2.2e-05 is a factor of lr" in w and "4.84e-09" in w and "lr_min = 0.1" in w
        assert "# warning: " in imp.yaml
        res = run("import", "torchtitan", f)
        assert res.exit_code == 0 and "warning: " + w in res.stderr
    for name in ("tt_v010_llama4_17bx16e", "tt_v010_deepseek_v2", "tt_v010_llama3_debug_model"):
        assert not import_torchtitan(CORPUS / "torchtitan" / f"{name}.toml").warnings

    def trap(lr_min, lr):
        from lrplan.frameworks.torchtitan.importer import Source

        return lr_min_trap(Source("x.toml", "toml", {"lr_scheduler": {"lr_min": lr_min}, "optimizer": {"lr": lr}}))

    assert trap(3e-4, 3e-4) and trap(1e-5, 3e-4) and not trap(3.1e-4, 3e-4) and not trap(0.0, 3e-4) and not trap(0.01, 3e-4)


def test_a_file_its_fields_cannot_date_to_one_formula_is_refused(tmp_path):
    """[training] batch_size and [parallelism]: 2025-03-18 to 06-04, when the formula changed on 03-26."""
    p = tmp_path / "t.toml"
    p.write_text("[lr_scheduler]\nwarmup_steps = 2\ndecay_ratio = 0.8\nlr_min = 0.0\n[training]\nbatch_size = 8\nsteps = 10\n"
                 "[parallelism]\ntensor_parallel_degree = 1\n")
    one_error(run("import", "torchtitan", p), f"error: {p}: ", "2025-03-18 to 2025-06-04", "--framework-version YYYY-MM-DD")
    res = run("import", "torchtitan", p, "--framework-version", "2025-05-01")
    assert res.exit_code == 0 and "read as TorchTitan of 2025-03-26 to 2025-06-11 (2404197)" in res.stderr


@pytest.mark.parametrize("text,version,parts", [
    ("[lr_scheduler]\nlr_min = 0.1\n[training]\nsteps = 10\n", "0.2", [":2: TorchTitan 0.2.x refuses [lr_scheduler] lr_min", "rename it"]),
    ("[lr_scheduler]\nlr_min = 0.1\nmin_lr_factor = 0.1\n", None, ["no TorchTitan has all of", "lr_min, min_lr_factor"]),
    ("[training]\nsteps = 10\n", "0.0.2", ["give the date of the checkout"]),
    ("[training]\nsteps = 10\n", "banana", ["unknown TorchTitan version 'banana'"]),
    ("[training]\nsteps = 10\n[lr_scheduler]\nwarmup_steps = 10\ndecay_ratio = 0.0\nlr_min = 0.0\n", "2025-03-20",
     ["decay_steps is 0", "ZeroDivisionError at the scheduler step after the last update"]),
    ("[training\nsteps = 10\n", None, [":1: invalid TOML", "Python config registries"]),
])
def test_torchtitan_bad_input_is_one_line(tmp_path, text, version, parts):
    p = tmp_path / "t.toml"
    p.write_text(text)
    args = ["import", "torchtitan", p] + (["--framework-version", version] if version else [])
    one_error(run(*args), *parts)


def test_a_python_registry_is_read_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    p = tmp_path / "config_registry.py"
    p.write_text(f"""import os
os.system("touch {marker}")
from torchtitan.components.optimizer import default_adamw, LRSchedulersContainer
from torchtitan.config import TrainingConfig
from torchtitan.trainer import Trainer
STEPS = 2 * 500
def base() -> Trainer.Config:
    open("{marker}", "w")
    return Trainer.Config(optimizer=default_adamw(lr=3e-4),
                          lr_scheduler=LRSchedulersContainer.Config(warmup_steps=100, decay_type="cosine", min_lr_factor=0.1),
                          training=TrainingConfig(steps=STEPS, local_batch_size=4, seq_len=4096, global_batch_size=64))
def shorter() -> Trainer.Config:
    config = base()
    config.training.steps = 400
    config.lr_scheduler.decay_ratio = 0.5
    return config
""")
    imp = import_torchtitan(p, config="shorter")
    assert not marker.exists()
    assert imp.config == {"optimizer": {"lr": 3e-4}, "training": {"steps": 400},
                          "lr_scheduler": {"warmup_steps": 100, "decay_type": "cosine", "min_lr_factor": 0.1, "decay_ratio": 0.5}}
    assert imp.spec["budget"] == {"steps": 400, "seq_len": 4096, "batch_size": 64}
    assert close(load_spec(imp.spec).render().lr, tt_sim.simulate(imp.config))
    one_error(run("import", "torchtitan", p), f"{p}: 2 configs (base, shorter); pick one with --config NAME")
    one_error(run("import", "torchtitan", p, "--config", "nope"), "no config 'nope'; the file has base, shorter")
    p.write_text(p.read_text().replace("config.training.steps = 400", "config.training.steps = int('400')"))
    one_error(run("import", "torchtitan", p, "--config", "shorter"), f"{p}:14: training.steps:", "write the value")
    p.write_text("def f(:\n")
    one_error(run("import", "torchtitan", p), f"{p}:1: not valid Python")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["tt_py_2026_02_llama3", "tt_py_2026_08_llama3", "tt_py_2026_02_deepseek_v3",
                                  "tt_py_2026_08_deepseek_v3"])
def test_the_corpus_registries_list_their_configs(name):
    f = CORPUS / "torchtitan" / f"{name}.py"
    names = [c["config"] for c in record("torchtitan")["cases"] if c["file"].endswith(f.name)]
    one_error(run("import", "torchtitan", f), f"{len(names)} configs ({', '.join(names)}); pick one with --config NAME")
    src = read_source(f, names[-1])
    assert src.kind == "python" and src.config_name == names[-1]


def test_a_json_config_dump_imports(tmp_path):
    dump = {"job": {"dump_folder": "./outputs"},
            "optimizer": {"param_groups": [{"pattern": ".*", "optimizer_name": "AdamW",
                                            "optimizer_kwargs": {"lr": 2.2e-4, "eps": 1e-8}}]},
            "lr_scheduler": {"warmup_steps": 2000, "total_steps": None, "decay_ratio": 0.8, "decay_type": "cosine",
                             "min_lr_factor": 0.1},
            "training": {"steps": 10000, "max_context_length": 4096, "num_tokens_per_train_step": -1}}
    p = tmp_path / "train.log"
    p.write_text("[rank0]: starting\n[rank0]: Running with configs: " + json.dumps(dump, indent=2) + "\n[rank0]: step 1\n")
    imp = import_torchtitan(p)
    (c,) = [c for c in record("torchtitan")["cases"] if c["id"] == "tt_v022_deepseek_v3_671b"]
    assert close(load_spec(imp.spec).render().lr, c["lr"])
    assert imp.spec["budget"] == {"steps": 10000, "seq_len": 4096}


# ------------------------------------------------------------------------------- TorchTitan: round trip


def _version(c) -> str:
    if c["file"].endswith(".py"):
        return "0.3"
    return "0.1" if "lr_min" in c["sections"]["lr_scheduler"] else "0.2"


def _snippet_config(snippet: str, version: str) -> dict:
    """The config TorchTitan reads from the snippet (TOML, or the Python calls)."""
    if version in ("0.1", "0.2"):
        cfg = tomllib.loads(snippet)
        if version == "0.1":
            assert "min_lr_factor" not in cfg["lr_scheduler"]
            cfg["lr_scheduler"]["min_lr_factor"] = cfg["lr_scheduler"].pop("lr_min")
        return cfg
    calls = {}
    for node in ast.walk(ast.parse(snippet)):
        if isinstance(node, ast.Call):
            fn = node.func
            calls[fn.attr if isinstance(fn, ast.Attribute) else fn.id] = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    return {"optimizer": calls["default_adamw"], "lr_scheduler": calls["Config"], "training": calls["TrainingConfig"]}


def _source_values(c) -> dict:
    """What the source file wrote (unset fields absent)."""
    f = CORPUS / c["file"]
    src = read_source(f, c["config"])
    return {k: dict(v) for k, v in src.data.items()}


@pytest.mark.parametrize("c", [p for p in TT_CASES if p.values[0]["id"] not in OLD_FORMULA])
def test_round_trip_gives_back_the_source_config(c):
    ver = _version(c)
    e = export(_import(c).spec, "torchtitan", ver)
    assert e.exact, e.differences
    cfg = _snippet_config(e.snippet, ver)
    assert cfg == e.native
    assert close(tt_sim.simulate(cfg), c["lr"])  # TorchTitan runs the snippet as it ran the source, update for update
    given = _source_values(c)
    sched, want = cfg["lr_scheduler"], given.get("lr_scheduler", {})
    floor = "lr_min" if ver == "0.1" else "min_lr_factor"
    assert sched["warmup_steps"] == want.get("warmup_steps", 200)
    assert sched["decay_type"] == want.get("decay_type", "linear")
    assert sched["min_lr_factor"] == want.get(floor, 0.0)
    assert cfg["training"]["steps"] == given["training"]["steps"]
    assert cfg["optimizer"]["lr"] == given["optimizer"]["lr"]
    if c["id"] == "tt_v010_deepseek_v2":  # decay_ratio 0.8 of 200 with warmup 100: TorchTitan cuts it to 100 (and warns)
        assert "decay_ratio" not in sched and not e.warnings
    else:
        assert sched.get("decay_ratio") == want.get("decay_ratio")  # written, or left out, as the source did
    assert not e.warnings


def test_round_trip_on_the_cli(tmp_path):
    f = CORPUS / "torchtitan" / "tt_v010_llama3_8b.toml"
    spec = tmp_path / "s.yaml"
    assert run("import", "torchtitan", f, "-o", spec).exit_code == 0
    res = run("render", spec, "--format", "torchtitan", "--framework-version", "0.1")
    assert res.exit_code == 0 and "exact: every update's LR equals the spec" in res.stdout
    cfg = tomllib.loads(res.stdout)
    assert cfg["lr_scheduler"] == {"warmup_steps": 200, "decay_type": "linear", "lr_min": 0.0}  # 199 before issue 18


@pytest.mark.parametrize("c", [p for p in TT_CASES if p.values[0]["id"] in OLD_FORMULA])
def test_a_pre_v010_run_has_no_exact_torchtitan_010_config(c):
    """The export says NOT EXACT, and rightly: no TorchTitan >= 0.1 config runs these LRs (searched around the
    natural candidates: warmup W-1..W+2, decay D-2..D+2 steps by decay_ratio, total_steps T..T+2)."""
    imp = _import(c)
    e = export(imp.spec, "torchtitan", "0.2")
    assert not e.exact and e.warnings and e.warnings[0].startswith("torchtitan cannot run this wsd schedule exactly")
    want = np.asarray(c["lr"])
    T = c["n_updates"]
    sched = c["sections"].get("lr_scheduler") or {}
    W = sched.get("warmup_steps", c["sections"]["training"].get("warmup_steps", 200))
    D = T - W if not sched.get("decay_ratio") else round(T * sched["decay_ratio"])
    for w in range(max(0, W - 1), W + 3):
        for d in range(max(0, D - 2), D + 3):
            for total in (None, T + 1, T + 2):
                tot = total or T
                cfg = {"optimizer": {"lr": c["sections"]["optimizer"]["lr"]}, "training": {"steps": T},
                       "lr_scheduler": {"warmup_steps": w, "decay_ratio": d / tot, "decay_type": "linear",
                                        "min_lr_factor": 0.0, **({"total_steps": total} if total else {})}}
                if not tt_sim.validate(cfg):
                    assert not close(tt_sim.simulate(cfg), want), cfg


# ------------------------------------------------------------------------------- HF


HF_RECORD = record("hf")


def test_hf_max_steps_is_what_the_trainer_computes():
    assert HF_RECORD["function"] == "transformers.Trainer.set_initial_training_values"
    n = 0
    for c in HF_RECORD["cases"]:
        g = {**EPOCH_DEFAULTS, **c["given"]}
        if g.get("max_steps", -1) > 0:
            assert c["max_steps"] == g["max_steps"]
            continue
        got, how = epoch_max_steps(g["num_train_epochs"], g["per_device_train_batch_size"], g["gradient_accumulation_steps"],
                                   g["dataloader_drop_last"], dataset_rows=c["dataset_rows"], world_size=c["world_size"])
        assert got == c["max_steps"], c
        assert f"= {c['len_dataloader']:,};" in how  # the dataloader length accelerate gives process 0
        n += 1
    assert n > 250
    for c in HF_RECORD["refused"]:  # drop_last with fewer rows than one global batch: an empty dataloader
        g = {**EPOCH_DEFAULTS, **c["given"]}
        with pytest.raises(LrplanError, match="the dataloader is empty"):
            epoch_max_steps(g["num_train_epochs"], g["per_device_train_batch_size"], g["gradient_accumulation_steps"],
                            g["dataloader_drop_last"], dataset_rows=c["dataset_rows"], world_size=c["world_size"])


EPOCH_FILES = sorted(p.name for p in (CORPUS / "hf").iterdir() if p.name != "trl_dpo_full_training.yaml")


@pytest.mark.parametrize("name", EPOCH_FILES)
def test_hf_epoch_recipes(name):
    f = CORPUS / "hf" / name
    one_error(run("import", "hf", f), f"error: {f}", "--dataset-rows N --world-size K", "--steps-per-epoch S")
    for c in [c for c in HF_RECORD["cases"] if c["file"] == f"hf/{name}"]:
        imp = import_hf(f, dataset_rows=c["dataset_rows"], world_size=c["world_size"])
        assert imp.exact and imp.config["max_steps"] == c["max_steps"] == imp.spec["budget"]["steps"]
        assert close(load_spec(imp.spec).render().lr, hf_sim.simulate(imp.config))
    big = [c for c in HF_RECORD["cases"] if c["file"] == f"hf/{name}" and c["dataset_rows"] == 207865 and c["world_size"] == 8][0]
    res = run("import", "hf", f, "--dataset-rows", 207865, "--world-size", 8)
    assert res.exit_code == 0 and f"steps: {big['max_steps']}" in res.stdout
    assert "note: max_steps = ceil(num_train_epochs" in res.stderr and f"= {big['max_steps']:,}, as Trainer computes it" in res.stderr
    import yaml

    per_epoch = 1000
    imp = import_hf(f, steps_per_epoch=per_epoch)
    epochs = float(yaml.safe_load(f.read_text()).get("num_train_epochs", 3.0))  # TrainingArguments' default: 3
    assert imp.config["max_steps"] == math.ceil(epochs * per_epoch)
    e = export(imp.spec, "hf")  # and back: HF runs the exported config as it runs the recipe
    assert e.exact and close(hf_sim.simulate(e.native), hf_sim.simulate(imp.config))


def test_hf_max_steps_wins_over_epochs():
    f = CORPUS / "hf" / "trl_dpo_full_training.yaml"
    imp = import_hf(f, dataset_rows=1000, world_size=8)
    assert imp.config["max_steps"] == 1000 and any("Trainer ignores num_train_epochs" in n for n in imp.notes)


def test_hf_before_4_52_floors_the_updates_per_epoch():
    assert epoch_max_steps(1, 2, 4, dataset_rows=10, world_size=1)[0] == 2  # ceil(5 / 4)
    assert epoch_max_steps(1, 2, 4, dataset_rows=10, world_size=1, transformers="4.51.3")[0] == 1  # 5 // 4
    assert epoch_max_steps(1, 2, 8, dataset_rows=10, world_size=1, transformers="4.46")[0] == 1  # max(5 // 8, 1)


@pytest.mark.parametrize("args,parts", [
    (["--dataset-rows", "1000"], ["--world-size is missing"]),
    (["--world-size", "8"], ["--dataset-rows is missing"]),
    (["--dataset-rows", "1000", "--world-size", "0"], ["--world-size takes a positive whole number"]),
    (["--steps-per-epoch", "10", "--dataset-rows", "5", "--world-size", "1"], ["not both"]),
    (["--dataset-rows", "3", "--world-size", "1", "--framework-version", "five"], ["a transformers version such as"]),
    (["--config", "x"], ["--config applies to lrplan import torchtitan, not hf"]),
])
def test_hf_bad_options_are_one_line(args, parts):
    one_error(run("import", "hf", CORPUS / "hf" / "ah_zephyr_7b_beta_dpo_full.yaml", *args), *parts)


def test_hf_bad_epoch_fields_name_file_and_line(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("learning_rate: 1.0e-5\nnum_train_epochs: three\nper_device_train_batch_size: 4\n")
    one_error(run("import", "hf", p, "--dataset-rows", 100, "--world-size", 2), f"{p}:2: num_train_epochs: 'three' is not a number")
    p.write_text("learning_rate: 1.0e-5\ndataloader_drop_last: true\nper_device_train_batch_size: 4\n")
    one_error(run("import", "hf", p, "--dataset-rows", 7, "--world-size", 2), "the dataloader is empty")


def test_torchtitan_takes_no_hf_options():
    one_error(run("import", "torchtitan", CORPUS / "torchtitan" / "tt_v020_llama3_debug_model.toml", "--dataset-rows", 5),
              "--dataset-rows applies to lrplan import hf, not torchtitan")


def test_hf_against_the_installed_trainer():
    """Live, when transformers and accelerate are installed: a few more shapes than the record."""
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    import contextlib
    import io

    import torch
    from accelerate.data_loader import prepare_data_loader
    from torch.utils.data import DataLoader
    from transformers import Trainer, TrainingArguments

    model = torch.nn.Linear(1, 1)
    for rows, b, ga, ep, world, drop in [(101, 3, 5, 1.5, 2, False), (4097, 8, 3, 2, 4, True), (50, 64, 1, 1, 1, False)]:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            args = TrainingArguments(output_dir=str(Path("/tmp") / "lrplan-hf-live"), report_to=[], use_cpu=True,
                                     per_device_train_batch_size=b, gradient_accumulation_steps=ga, num_train_epochs=ep,
                                     dataloader_drop_last=drop)
            dl = prepare_data_loader(DataLoader(list(range(rows)), batch_size=b, drop_last=drop), device=torch.device("cpu"),
                                     num_processes=world, process_index=0, put_on_device=False)
            want = Trainer(model=model, args=args).set_initial_training_values(args, dl)[-1]
        assert epoch_max_steps(ep, b, ga, drop, dataset_rows=rows, world_size=world)[0] == want


def test_readme_names_the_new_import_options():
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text[text.index("* `lrplan import megatron -- ARGS`"):text.index("* Batch-size schedules")]
    for opt in ("--dataset-rows", "--world-size", "--steps-per-epoch", "--config", "--framework-version", "lr_min"):
        assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", section), opt
