"""Fuzzed specs (issue 8): every bad input gives one clear `error:` line per problem and exit 2, never a
traceback, never a partial output file, never NaN in an output."""

import random
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lrplan.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "schedules").glob("*.yaml"))
COUNTER = {"bad": 0}


def _run(tmp_path: Path, text: str | bytes, cmd: str = "render") -> None:
    spec = tmp_path / "spec.yaml"
    out = tmp_path / "out.csv"
    if out.exists():
        out.unlink()
    spec.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    if cmd == "render":
        import lrplan

        try:
            if lrplan.load_spec(spec).schedule_plan().total_steps > 2_000_000:
                cmd = "check"  # valid but long: validating is the point here, not writing gigabytes
        except lrplan.LrplanError:
            pass
    args = [cmd, str(spec)] + (["-o", str(out), "-q", "--every", "997"] if cmd == "render" else [])
    res = runner.invoke(app, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    if res.exit_code == 0:
        if cmd == "render":
            body = out.read_text()
            assert "nan" not in body.lower() and "inf" not in body.lower()
        return
    COUNTER["bad"] += 1
    assert res.exit_code == 2, (res.exit_code, res.stderr, text)
    lines = res.stderr.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), res.stderr
    assert all(len(line) < 2000 for line in lines)
    assert not out.exists(), "a failed render left an output file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


JUNK = [None, -1, 0, 1e309, "nan", ".inf", "-5%", "110%", "abc", [], {}, [1, 2], True, "1B bananas", 1.5, "3e-4", "-3e-4",
        "10 samples", "0 tokens", 10**20, "1e400"]


def _mutations(data, rng: random.Random, n: int):
    """Replace / delete / add one field anywhere in the spec."""
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                paths.append(path + (k,))
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                paths.append(path + (i,))
                walk(v, path + (i,))

    walk(data, ())
    for _ in range(n):
        d = yaml.safe_load(yaml.safe_dump(data))
        path = rng.choice(paths)
        parent = d
        for seg in path[:-1]:
            parent = parent[seg]
        op = rng.random()
        if op < 0.6:
            parent[path[-1]] = rng.choice(JUNK)
        elif op < 0.8 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(["warmpu", "decay_shap", "kind", "peak", "min_lr", "tokens", "extra"])] = rng.choice(JUNK)
        yield d


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_mutated_examples(example, tmp_path):
    data = yaml.safe_load(example.read_text())
    rng = random.Random(example.name)
    for d in _mutations(data, rng, 20):
        _run(tmp_path, yaml.safe_dump(d))


@pytest.mark.parametrize("example", EXAMPLES[:8], ids=lambda p: p.name)
def test_text_level_mutations(example, tmp_path):
    text = example.read_text()
    rng = random.Random(1 + len(text))
    lines = text.splitlines()
    for _ in range(12):
        ls = list(lines)
        i = rng.randrange(len(ls))
        op = rng.random()
        if op < 0.3:
            del ls[i]
        elif op < 0.5:
            ls[i] = ls[i][: rng.randrange(len(ls[i]) + 1)]
        elif op < 0.7:
            ls.insert(i, ls[i])  # duplicate key / entry
        elif op < 0.85:
            ls[i] = "  " + ls[i] + " :: ["
        else:
            ls[i] = ls[i].replace(":", "", 1)
        _run(tmp_path, "\n".join(ls) + "\n")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_random_bytes(tmp_path, blob):
    _run(tmp_path, blob, cmd="check")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["budget", "schedule", "kind", "steps", "peak_lr", "warmup", "decay", "tokens", "budgets", "phases", "stages"]), c, max_size=4),
                    max_leaves=12))
def test_random_structures(tmp_path, data):
    _run(tmp_path, yaml.safe_dump(data, allow_unicode=True))


def test_counted_enough_bad_inputs():
    # runs last in this module (pytest keeps file order): the fuzzing above produced >= 500 rejected inputs
    assert COUNTER["bad"] >= 500, COUNTER
