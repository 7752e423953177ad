"""Bad input to framework export and import: one clear line (what, where, how to fix), exit status 2, no traceback,
no half-written or clobbered file; the Python API raises only :class:`lrplan.LrplanError` subclasses.

* DeepSpeed's snippet is JSON that ``json.load`` reads, exact or not (the report goes to stderr);
* junk through every public framework function (``export``, ``convention``, each importer, ``import_config``);
* messages name the file, line and field (``--sample-based``, HF YAML of the wrong types, TorchTitan fields),
  the Megatron argument at fault (``--train-iters -5``), and never print ``inf%`` / ``nan%``;
* framework configs are read with limits (``/dev/zero``, a FIFO, a directory, a huge file), and ``-o`` never
  replaces the file a command reads;
* user-facing text cites the WSD-S paper, not a file outside the repository.
"""

from __future__ import annotations

import ast
import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import lrplan
from lrplan import frameworks
from lrplan.cli import app
from lrplan.errors import LrplanError, SpecError
from lrplan.frameworks.export import export
from lrplan.spec.loading import load_spec

ROOT = Path(__file__).resolve().parents[2]
SCHEDULES = ROOT / "schedules"
runner = CliRunner()
FRAMEWORKS = frameworks.names()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def one_error(res, *parts: str) -> str:
    """The run failed with exit 2 and exactly one ``error:`` line (no traceback) containing every part."""
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr and "Error:" not in lines[0].replace("error: ", "", 1), lines[0]
    for p in parts:
        assert p in lines[0], (p, lines[0])
    return lines[0]


# ------------------------------------------------------------------------------------ 1. DeepSpeed JSON

DS_SPECS = ["wsd.yaml", "cosine.yaml", "constant.yaml", "wsd-s.yaml", "linear-d2z.yaml", "inverse-sqrt.yaml",
            "polynomial.yaml", "onecycle.yaml", "phases.yaml"]


@pytest.mark.parametrize("name", DS_SPECS)
def test_deepspeed_snippet_is_json(name, tmp_path):
    spec = SCHEDULES / name
    e = export(load_spec(spec), "deepspeed")
    want = {"optimizer": e.native["optimizer"], "scheduler": e.native["scheduler"]}
    for quiet in ([], ["-q"]):
        res = run("render", spec, "--format", "deepspeed", *quiet)
        assert res.exit_code == 0, res.stderr
        assert json.loads(res.stdout) == want
        if not e.exact:  # the mismatch is said on stderr, -q or not
            assert "warning: deepspeed cannot run this" in res.stderr and "max deviation" in res.stderr
        else:
            assert ("exact" in res.stderr) == (not quiet)
        out = tmp_path / f"ds{len(quiet)}.json"
        res = run("render", spec, "--format", "deepspeed", *quiet, "-o", out)
        assert res.exit_code == 0 and res.stdout == ""
        with open(out) as fh:
            assert json.load(fh) == want
    assert not e.annotated and "//" not in e.snippet


def test_deepspeed_not_exact_report_is_complete_on_stderr():
    res = run("render", SCHEDULES / "wsd.yaml", "--format", "deepspeed")
    err = res.stderr
    assert "why: DeepSpeed has no wsd schedule" in err and "recipe: " in err and "LRPlanScheduler" in err
    json.loads(res.stdout)


# ---------------------------------------------------------------------------- 3. junk through the API


@pytest.fixture(scope="module")
def junk(tmp_path_factory) -> list:
    d = tmp_path_factory.mktemp("junk")
    (d / "adir").mkdir()
    return [None, 0, -1, 1.5, float("nan"), True, [], {}, (), b"x", "", " ", str(d / "missing.yaml"), str(d / "adir"),
            d / "adir", "/dev/zero", ["--lr"], [None], [1, 2], {"a": 1}, {"lr_scheduler": None}, object()]


SPEC = {"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": 1e-3, "warmup": 10}}


def _public_calls() -> dict:
    from lrplan.frameworks.hf import importer as hf
    from lrplan.frameworks.megatron import importer as megatron
    from lrplan.frameworks.torchtitan import importer as torchtitan

    calls = {
        "lrplan.export(spec, J)": lambda j: lrplan.export(SPEC, j),
        "lrplan.export(J, 'megatron')": lambda j: lrplan.export(j, "megatron"),
        "lrplan.export(spec, 'torchtitan', J)": lambda j: lrplan.export(SPEC, "torchtitan", j),
        "lrplan.export(spec, 'megatron', sample_based=J)": lambda j: lrplan.export(SPEC, "megatron", sample_based=j),
        "lrplan.convention(spec, J)": lambda j: lrplan.convention(SPEC, j),
        "lrplan.convention(J, 'hf')": lambda j: lrplan.convention(j, "hf"),
        "frameworks.get(J)": frameworks.get,
        "frameworks.resolve(J)": frameworks.resolve,
        "frameworks.resolve('hf', J)": lambda j: frameworks.resolve("hf", j),
        "frameworks.import_config(J, {})": lambda j: frameworks.import_config(j, {}),
        "import_megatron(J)": megatron.import_megatron,
        "parse_megatron_args(J)": megatron.parse_megatron_args,
        "import_torchtitan(J)": torchtitan.import_torchtitan,
        "load_torchtitan(J)": torchtitan.load_torchtitan,
        "import_hf(J)": hf.import_hf,
        "load_hf(J)": hf.load_hf,
    }
    for fw in frameworks.importable():
        imp = frameworks.get(fw).importer
        calls[f"import_config({fw!r}, J)"] = lambda j, fw=fw: frameworks.import_config(fw, j)
        calls[f"{fw} importer.import_config(J)"] = imp.import_config
        calls[f"{fw} importer.from_cli(J)"] = imp.from_cli
        calls[f"{fw} importer.from_cli([J])"] = lambda j, imp=imp: imp.from_cli([j])
        calls[f"import_config({fw!r}, {{}}, budget=J)"] = lambda j, fw=fw: frameworks.import_config(fw, {}, budget=j)
    return calls


@pytest.mark.parametrize("call", list(_public_calls()))
def test_junk_raises_only_lrplan_errors(call, junk):
    fn = _public_calls()[call]
    for j in junk:
        try:
            fn(j)
        except LrplanError as e:
            msg = str(e)
            assert msg.strip() and "Traceback" not in msg, (call, j)
            assert not re.search(r"\b(TypeError|AttributeError|KeyError|IndexError)\b", msg), (call, j, msg)
        except Exception as e:  # noqa: BLE001 - what the test is for
            pytest.fail(f"{call} with {j!r}: {type(e).__name__}: {e}")


@pytest.mark.parametrize("call,msg", [
    (lambda: lrplan.convention(SPEC, None), "a framework is named by a string, not None"),
    (lambda: lrplan.export(SPEC, None), "known: megatron, torchtitan, hf, olmo-core, deepspeed"),
    (lambda: lrplan.export(None, "hf"), "the spec must be a Spec, a path, a YAML string or a dict, not None"),
    (lambda: frameworks.get("megatron").importer.from_cli(None), "Megatron's arguments are a list of strings"),
    (lambda: __import__("lrplan.frameworks.megatron.importer", fromlist=["x"]).import_megatron("--lr 3e-4"), "shlex.split"),
    (lambda: __import__("lrplan.frameworks.torchtitan.importer", fromlist=["x"]).import_torchtitan({"a": 1}),
     "import_config('torchtitan', config)"),
    (lambda: __import__("lrplan.frameworks.hf.importer", fromlist=["x"]).import_hf(3), "takes the path of a hf YAML file"),
    (lambda: frameworks.import_config("hf", None), "the hf config must be a dict"),
])
def test_junk_messages_say_what_is_expected(call, msg):
    with pytest.raises(LrplanError, match=re.escape(msg)):
        call()


# ------------------------------------------------------------------------------------------ 4. messages


def test_sample_based_without_batch_size_names_the_file_and_line(tmp_path):
    spec = tmp_path / "nobatch.yaml"
    spec.write_text("name: x\nbudget:\n  steps: 100\nschedule: {kind: cosine, peak_lr: 1.0e-3, warmup: 10}\n")
    line = one_error(run("render", spec, "--format", "megatron", "--sample-based"), f"{spec}:2: budget:", "batch_size")
    assert "--sample-based" in line
    with pytest.raises(SpecError, match=re.escape(f"{spec}:2: budget: --sample-based needs budget.batch_size")):
        export(load_spec(spec), "megatron", sample_based=True)


HF_BAD = [
    ("learning_rate: [1, 2]\nmax_steps: 100\n", ":1: learning_rate: [1, 2] is not a finite number"),
    ("learning_rate: 1.0e-3\nmax_steps: abc\n", ":2: max_steps: 'abc' is not an integer"),
    ("- 1\n- 2\n", ":1: expected a mapping of TrainingArguments fields"),
    ("learning_rate: 1.0e-3\nmax_steps: 100\nwarmup_steps: [3]\n", ":3: warmup_steps: [3] is not a number"),
    ("learning_rate: 1.0e-3\nmax_steps: 100\nlr_scheduler_type: [3]\n", ":3: lr_scheduler_type: [3] is not a scheduler name"),
    ("learning_rate: 1.0e-3\nmax_steps: 100\nlr_scheduler_kwargs: [3]\n", ":3: lr_scheduler_kwargs: [3] is not a mapping"),
    ("learning_rate: 1.0e-3\nmax_steps: 100\nwarmup_ratio: abc\n", ":3: warmup_ratio: 'abc' is not a ratio"),
    ("learning_rate: 1.0e-3\nmax_steps: 100\nlr_scheduler_type: cosine_with_min_lr\nlr_scheduler_kwargs:\n  min_lr: x\n",
     ":5: lr_scheduler_kwargs.min_lr: 'x' is not a finite number"),
    ("learning_rate: .nan\nmax_steps: 100\n", ":1: learning_rate: nan is not a finite number"),
    ("learning_rate: 1.0e-3\nmax_steps: -1\n", ":2: max_steps: -1 is not > 0"),
    ("learning_rate: 1.0e-3\nmax_steps: 100\nlr_scheduler_type: nope\n", "'nope' is not a valid SchedulerType"),
]


@pytest.mark.parametrize("text,msg", HF_BAD)
def test_hf_yaml_of_the_wrong_types_is_one_line_naming_file_and_field(tmp_path, text, msg):
    cfg = tmp_path / "args.yaml"
    cfg.write_text(text)
    line = one_error(run("import", "hf", cfg), f"error: {cfg}", msg)
    assert not re.search(r"\b(TypeError|ValueError|AttributeError)\b", line)


@pytest.mark.parametrize("toml,msg", [
    ('[lr_scheduler]\nwarmup_steps = "x"\n[training]\nsteps = 100\n', "lr_scheduler.warmup_steps must be a non-negative integer"),
    ("[lr_scheduler]\ndecay_type = \"step\"\n[training]\nsteps = 100\n", "Unknown lr_decay_type: 'step'"),
    ("[optimizer]\nlr = inf\n[training]\nsteps = 100\n", "optimizer.lr must be a finite non-negative number"),
    ("[training]\nsteps = -5\n", "training.steps must be a positive integer, got -5"),
])
def test_torchtitan_refusals_name_the_file_and_field(tmp_path, toml, msg):
    cfg = tmp_path / "tt.toml"
    cfg.write_text(toml)
    res = run("import", "torchtitan", cfg)
    assert res.exit_code == 2 and "Traceback" not in res.stderr
    assert all(ln.startswith(f"error: {cfg}: ") for ln in res.stderr.strip().splitlines()), res.stderr
    assert msg in res.stderr


@pytest.mark.parametrize("args,msg", [
    (["--train-iters", "-5", "--lr", "3e-4", "--global-batch-size", "512"], "--train-iters -5 must be positive"),
    (["--train-iters", "-5", "--lr", "3e-4"], "--train-iters -5 must be positive"),
    (["--train-samples", "-100", "--lr", "3e-4", "--global-batch-size", "4"], "--train-samples -100 must be positive"),
    (["--train-iters", "100", "--lr", "3e-4", "--lr-decay-iters", "0"], "--lr-decay-iters 0 must be positive"),
    (["--train-iters", "100", "--lr", "3e-4", "--lr-decay-iters", "-4"], "--lr-decay-iters -4 must be positive"),
])
def test_megatron_names_the_argument_not_derived_samples(args, msg):
    line = one_error(run("import", "megatron", "--", *args), msg)
    assert "samples" not in line.split(msg)[0]  # not "-2560 samples": the argument as the user wrote it
    assert "-2560" not in line


def test_megatron_iteration_based_refusals_speak_in_iterations():
    line = one_error(run("import", "megatron", "--", "--train-iters", "100", "--lr", "3e-4", "--global-batch-size", "8",
                         "--lr-warmup-iters", "150"), "150 iterations", "100 iterations")
    assert "1200" not in line and "800" not in line  # not the samples Megatron's scheduler counts internally
    one_error(run("import", "megatron", "--", "--train-samples", "1000", "--lr", "3e-4", "--global-batch-size", "4",
                  "--seq-length", "-5"), "--seq-length -5 must be positive")
    one_error(run("import", "megatron", "--", "--train-iters", "100", "--lr", "3e-4", "--lr-warmup-fraction", "nan"),
              "--lr-warmup-fraction nan is not a finite number")


def test_hf_kwargs_none_where_transformers_computes_with_them():
    with pytest.raises(LrplanError, match=r"lr_scheduler_kwargs.num_cycles: None is not a finite number"):
        frameworks.import_config("hf", {"learning_rate": 1e-3, "max_steps": 50, "lr_scheduler_type": "cosine",
                                        "lr_scheduler_kwargs": {"num_cycles": None}})
    imp = frameworks.import_config("hf", {"learning_rate": 1e-3, "max_steps": 50, "warmup_steps": 5,
                                          "lr_scheduler_type": "inverse_sqrt", "lr_scheduler_kwargs": {"timescale": None}})
    assert imp.exact  # None is inverse_sqrt's own default timescale


def test_megatron_config_dict_of_the_wrong_types_names_the_argument():
    with pytest.raises(LrplanError, match=r"--lr must be a number, got 'x'"):
        frameworks.import_config("megatron", {"lr": "x", "train_iters": 10, "global_batch_size": 1})
    with pytest.raises(LrplanError, match=r"--train-iters must be an integer, got '10'"):
        frameworks.import_config("megatron", {"lr": 1e-3, "train_iters": "10", "global_batch_size": 1})


TINY = [
    # a constant piece at the smallest subnormal after a normal one
    "budget: {steps: 100}\nschedule:\n  kind: phases\n  phases:\n  - {shape: constant, lr: 1.0e-3, length: 50}\n"
    "  - {shape: constant, lr: 5.0e-324, length: 50}\n",
    # infinite: constant_lr subnormal
    "budget: {steps: 1000}\nschedule: {kind: infinite, peak_lr: 3.0e-4, warmup: 10, cooldown: 200, constant_lr: 1.0e-320, "
    "anneal: 50, min_lr: 0, anneal_shape: linear}\n",
    # a constant schedule at a subnormal peak
    "budget: {steps: 100}\nschedule: {kind: constant, peak_lr: 1.0e-320, warmup: 10}\n",
    "budget: {steps: 100}\nschedule: {kind: wsd, peak_lr: 1.0e-3, warmup: 10, decay: 30, min_lr: 1.0e-320}\n",
]
NONFINITE = re.compile(r"\binf\b|\bnan\b|inf%|nan%", re.IGNORECASE)


@pytest.mark.parametrize("i", range(len(TINY)))
@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_subnormal_lrs_never_print_inf_or_nan(tmp_path, fw, i):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY[i])
    res = subprocess.run([sys.executable, "-m", "lrplan", "render", str(spec), "--format", fw],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    text = res.stderr + res.stdout
    assert not NONFINITE.search(text.replace("kind: infinite", "")), text
    assert "RuntimeWarning" not in res.stderr
    e = export(load_spec(spec), fw)
    assert not any(NONFINITE.search(d) for d in e.differences + e.warnings), e.differences
    if not e.exact and i in (0, 1):  # the spec's LR is ~0 where the framework differs
        assert "undefined" in e.differences[-1]


def test_percent_is_never_inf():
    from lrplan.frameworks.common import percent

    assert percent(1, 8) == "12.500%" and percent(199, 1) == "19900.000%"
    assert percent(1e-3, 5e-324) is None and percent(1.0, 0.0) is None and percent(float("nan"), 1.0) is None
    assert percent(1e10, 1.0) == "1e+12%"


# ------------------------------------------------------------------------------------- 5. input files


def _limit_memory():  # the old reader slurped /dev/zero: never take the machine down with it
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def cli(*args: str, timeout: float = 60):
    """``lrplan ARGS`` in a subprocess (a FIFO or /dev/zero could hang or exhaust a reader without limits)."""
    return subprocess.run([sys.executable, "-m", "lrplan", *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, preexec_fn=_limit_memory, stdin=subprocess.DEVNULL)


@pytest.fixture
def fifo(tmp_path):
    p = tmp_path / "pipe.toml"
    os.mkfifo(p)
    return p


@pytest.mark.parametrize("fw", ["torchtitan", "hf"])
@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "directory", "huge"])
def test_config_files_are_read_with_limits(tmp_path, fw, kind, request):
    if kind == "/dev/zero":
        path, want = Path("/dev/zero"), "it is a device, not a file"
    elif kind == "fifo":
        path, want = request.getfixturevalue("fifo"), "it is a FIFO, not a file"
    elif kind == "directory":
        path, want = tmp_path, "it is a directory"
    else:
        path = tmp_path / "huge.yaml"
        with open(path, "wb") as fh:
            fh.truncate(17 * 1024 * 1024)  # sparse: 17 MiB of nothing, over the 16 MiB a config may be
        want = "larger than the 16 MiB lrplan reads"
    res = cli("import", fw, path)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(f"error: {path}: ") and want in lines[0], res.stderr
    assert "config" in lines[0] and res.stdout == ""


def test_api_config_readers_refuse_devices(tmp_path):
    from lrplan.frameworks.hf.importer import import_hf
    from lrplan.frameworks.torchtitan.importer import import_torchtitan
    from lrplan.spec.files import InputError

    for fn in (import_hf, import_torchtitan):
        with pytest.raises(InputError, match="it is a device"):
            fn("/dev/zero")
        with pytest.raises(InputError, match="it is a directory"):
            fn(tmp_path)


CONFIGS = {
    "torchtitan": ("tt.toml", "[optimizer]\nlr = 3e-4\n[lr_scheduler]\nwarmup_steps = 10\ndecay_ratio = 0.2\n"
                              "[training]\nsteps = 100\n"),
    "hf": ("args.yaml", "learning_rate: 3.0e-4\nmax_steps: 100\nwarmup_steps: 10\nlr_scheduler_type: cosine\n"),
}


@pytest.mark.parametrize("fw", list(CONFIGS))
def test_import_refuses_to_overwrite_its_config(tmp_path, fw):
    name, text = CONFIGS[fw]
    cfg = tmp_path / name
    cfg.write_text(text)
    for out in (cfg, tmp_path / "." / name):  # any spelling of the same file
        one_error(run("import", fw, cfg, "-o", out), f"-o {out} is the input", "write to another file")
        assert cfg.read_text() == text
    os.link(cfg, tmp_path / "hard")  # a hard link is the same file too
    one_error(run("import", fw, cfg, "-o", tmp_path / "hard"), "is the input")
    assert cfg.read_text() == text
    res = run("import", fw, cfg, "-o", tmp_path / "spec.yaml")  # another file: written
    assert res.exit_code == 0 and load_spec(tmp_path / "spec.yaml").render().lr.size == 100


def test_import_megatron_writes_its_output(tmp_path):
    out = tmp_path / "m.yaml"
    res = run("import", "megatron", "-o", out, "--", "--lr", "3e-4", "--train-iters", "100", "--lr-decay-style", "cosine")
    assert res.exit_code == 0, res.stderr
    assert load_spec(out).schedule.kind == "cosine"


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_render_refuses_to_overwrite_its_spec(tmp_path, fw):
    spec = tmp_path / "s.yaml"
    text = (SCHEDULES / "cosine.yaml").read_text()
    spec.write_text(text)
    one_error(run("render", spec, "--format", fw, "-o", spec), f"-o {spec} is the input")
    assert spec.read_text() == text
    one_error(run("render", spec, "--convention", fw, "--format", "csv", "-o", spec), "is the input")
    assert spec.read_text() == text
    res = run("render", spec, "--format", fw, "-q", "-o", tmp_path / "out.txt")
    assert res.exit_code == 0 and (tmp_path / "out.txt").read_text() == export(load_spec(spec), fw).snippet


# ---------------------------------------------------------------------------------------- 6. citations


def _strings(path: Path):
    """The string constants of a module that are not docstrings: what users can see."""
    tree = ast.parse(path.read_text())
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docs.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.value


def test_user_facing_text_cites_no_file_outside_the_repo():
    files = [*sorted((ROOT / "lrplan" / "frameworks").rglob("*.py")), ROOT / "lrplan" / "cli" / "frameworks.py"]
    for f in files:
        for s in _strings(f):
            assert not re.search(r"\w+\.md\b", s), (f, s)


@pytest.mark.parametrize("fw", ["megatron", "torchtitan"])  # the frameworks that relaunch WSD-S per decay
def test_wsd_s_recipe_cites_the_paper(fw):
    e = export(load_spec(SCHEDULES / "wsd-s.yaml"), fw)
    assert "Wen et al. 2024, arXiv 2410.05192" in e.recipe and "schedules.md" not in e.recipe + e.snippet
