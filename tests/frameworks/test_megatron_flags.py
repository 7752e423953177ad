"""lrplan's table of Megatron-LM flags (``lrplan/frameworks/megatron/flags.json``) against Megatron-LM's source.

The table is written by ``conformance/megatron_flags.py``, which runs Megatron-LM's own ``add_megatron_arguments``
from a checkout. Here it is checked against the vendored ``arguments.py`` and ``training_config.py`` (d98e8a6,
``tests/data/megatron_source/``) by reading their syntax tree: every literal ``add_argument`` flag with its arity,
and every ``TrainingConfig``/``SchedulerConfig`` field (the dataclasses ``ArgumentGroupFactory`` turns into the
schedule flags). With ``MEGATRON_LM_SRC`` (a checkout) the generator is re-run and must reproduce the file.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "tests" / "data" / "megatron_source" / "megatron" / "training"
TABLE = json.loads((ROOT / "lrplan" / "frameworks" / "megatron" / "flags.json").read_text())
FLAGS = TABLE["flags"]


def _literal_flags() -> list[tuple[str, object, bool]]:
    """(flag, nargs, zero-arity action) of every ``add_argument`` call in arguments.py with literal flags."""
    out = []
    tree = ast.parse((SRC / "arguments.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            kw = {k.arg: k.value for k in node.keywords}
            action = kw.get("action")
            zero = (isinstance(action, ast.Constant) and action.value in ("store_true", "store_false", "store_const", "count")
                    or isinstance(action, ast.Attribute) and action.attr == "BooleanOptionalAction")
            nargs = kw["nargs"].value if isinstance(kw.get("nargs"), ast.Constant) else (None if "nargs" not in kw else "?expr")
            for n in names:
                if n.startswith("-"):
                    out.append((n, nargs, zero))
    return out


def test_the_table_records_its_source():
    assert TABLE["source"]["commit"] == "d98e8a64ddf34856e74b24714e3bedb2f5a39553"
    assert (ROOT / "tests" / "data" / "megatron_source" / "LICENSE").is_file()
    assert len(FLAGS) > 800


def test_every_literal_flag_of_arguments_py_with_its_arity():
    lits = _literal_flags()
    assert len(lits) > 350
    missing = [n for n, _, _ in lits if n not in FLAGS]
    # added only when NVIDIA's optional "kitchen" package is installed (_add_kitchen_quantization_arguments);
    # lrplan skips them as unknown flags with their one value
    assert missing == ["--kitchen-config-file", "--kitchen-recipe-number"]
    for n, nargs, zero in lits:
        if n in missing:
            continue
        got = FLAGS[n]["nargs"]
        if zero:
            assert got == 0, n
        elif nargs is None:
            assert got == 1, n
        elif nargs != "?expr":
            assert got == nargs, n


def _fields(cls_name: str) -> list[tuple[str, str, dict]]:
    tree = ast.parse((SRC / "config" / "training_config.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name)
    out = []
    for st in cls.body:
        if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
            meta: dict = {}
            if isinstance(st.value, ast.Call):
                kws = {k.arg: k.value for k in st.value.keywords}
                if isinstance(kws.get("init"), ast.Constant) and kws["init"].value is False:
                    continue  # init=False: computed, not a flag
                if "metadata" in kws:
                    meta = ast.literal_eval(kws["metadata"]).get("argparse_meta", {})
            out.append((st.target.id, ast.unparse(st.annotation), meta))
    return out


@pytest.mark.parametrize("cls", ["TrainingConfig", "SchedulerConfig"])
def test_the_schedule_dataclass_flags(cls):
    excluded = {"no_weight_decay_cond_type"}  # arguments.py _add_learning_rate_args: exclude=[...]
    seen = 0
    for name, ann, meta in _fields(cls):
        if name in excluded:
            continue
        names = meta.get("arg_names") or ["--" + name.replace("_", "-")]
        if ann == "bool":
            continue  # store_true / --no-* store_false: named by ArgumentGroupFactory's rules
        for flag in names:
            assert flag in FLAGS, (cls, name, flag)
            want = meta.get("nargs", "+" if ann.startswith("list") else 1)
            assert FLAGS[flag]["nargs"] == want, (flag, FLAGS[flag])
            seen += 1
    assert seen > 10


def test_the_flags_lrplan_reads_are_in_the_table():
    for flag in ("--lr", "--min-lr", "--train-iters", "--train-samples", "--global-batch-size", "--lr-warmup-fraction",
                 "--lr-warmup-iters", "--lr-warmup-samples", "--lr-decay-iters", "--lr-decay-samples", "--lr-decay-style",
                 "--lr-wsd-decay-style", "--lr-wsd-decay-iters", "--lr-wsd-decay-samples", "--rampup-batch-size",
                 "--step-batch-size-schedule", "--decoupled-lr", "--decoupled-min-lr", "--seq-length",
                 "--decoder-seq-length", "--encoder-seq-length", "--override-opt_param-scheduler"):
        assert flag in FLAGS, flag
    assert FLAGS["--spec"]["nargs"] == "*" and FLAGS["--data-path"]["nargs"] == "*"
    assert FLAGS["--rampup-batch-size"]["nargs"] == 3 and FLAGS["--bf16"]["nargs"] == 0


@pytest.mark.skipif(not os.environ.get("MEGATRON_LM_SRC"), reason="set MEGATRON_LM_SRC to a Megatron-LM checkout at d98e8a6")
def test_the_generator_reproduces_the_table(tmp_path):
    out = tmp_path / "flags.json"
    subprocess.run([sys.executable, str(ROOT / "conformance" / "megatron_flags.py"), os.environ["MEGATRON_LM_SRC"],
                    TABLE["source"]["commit"], "--out", str(out)], check=True, capture_output=True)
    assert json.loads(out.read_text()) == TABLE
