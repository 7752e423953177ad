"""The fault-injection suite (issue 20): generated bad and edge-case inputs through every command.

Each case is a command line over files it writes (a spec of any family, YAML junk, a log, a law file, a
framework config, a plan, an output target). For every case:

* the exit code is 0 or 2 (1 would be an internal bug), and nothing prints a traceback;
* a refusal is ``error:`` lines only, each naming the input file (spec errors ``file[:line]: field: ...``);
* a failed command leaves no output file and no temporary file, and no input is changed;
* a table that was written has no NaN, inf or negative LR;
* a rerun of the same case gives byte-identical stdout and output files (every 5th case);
* a sample of cases runs in a separate process under a 2 GiB address-space limit (memory).

``python -m pytest tests/fuzz`` runs a fixed set of 520 cases (the same on every run); ``--fuzz-all`` runs
3,120. ``--fuzz-seed N`` draws another set.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lrplan.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "schedules").glob("*.yaml"))
LOGS = {ROOT / "tests" / "data" / "logs" / "mpl25m_runs.csv": ["--run-col", "run"],  # log -> the flags it needs
        ROOT / "tests" / "data" / "logs" / "cosine_sparse_lr.csv": ["--loss-col", "val_loss"]}
runner = CliRunner()

JUNK = [None, -1, 0, 1e309, -1e-3, "nan", ".inf", "-5%", "110%", "abc", [], {}, [1, 2], True, "1B bananas", 1.5,
        "3e-4", "-3e-4", "10 samples", "0 tokens", 10**20, "1e400", "100B", "5", 1e-320, "\x00", "é" * 50,
        "x" * 5000, [None], {"a": 1}, 2**63, -(2**63), "0x10", "1_000", "2k steps", "1T tokens"]
YAML_JUNK = ["", "---", "{", "[1, 2]", "a: [", "budget: !!python/object:os.system x", "\t- x", ": :", "*x",
             "a: &x [*x]", "budget: {steps: 10}\nbudget: {steps: 20}", "\x00\x01", "\ufeffbudget: 3",
             "budget:\n  steps: 1e3\nschedule:\n  kind: cosine\n  peak_lr: '1e-3'\n"]
CATEGORIES = ["spec", "spec", "spec", "spec", "yaml", "plan", "log", "law", "import-megatron", "import-file", "output",
              "predict", "plot"]


def pytest_generate_tests(metafunc):  # pragma: no cover - pytest hook, run by pytest itself
    if "case" in metafunc.fixturenames:
        n = 3120 if metafunc.config.getoption("--fuzz-all") else 520
        seed = metafunc.config.getoption("--fuzz-seed")
        metafunc.parametrize("case", [(seed, i) for i in range(n)], ids=lambda c: f"{c[0]}-{c[1]}")


# ---------------------------------------------------------------------------------------------- generators


def _mutate(data, rng: random.Random, n: int = 2):
    """Replace, delete or add one field anywhere in a parsed spec (``n`` times)."""
    for _ in range(n):
        paths: list[tuple] = []

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
        if not paths:
            return data
        path = rng.choice(paths)
        parent = data
        for seg in path[:-1]:
            parent = parent[seg]
        op = rng.randrange(4)
        if op == 0:
            parent[path[-1]] = rng.choice(JUNK)
        elif op == 1 and isinstance(parent, dict):
            del parent[path[-1]]
        elif op == 2 and isinstance(parent, dict):
            parent[rng.choice(["warmpu", "lr", "warmup_steps", "decay_ratio", "tokens", "steps", "budgets", "kind",
                               "peak_lr", "min_lr", "decay", "rewarmup", "x"])] = rng.choice(JUNK)
        else:
            v = parent[path[-1]]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                parent[path[-1]] = rng.choice([v * 10 ** rng.randint(-12, 12), -v, v + 1, 0])
    return data


def _spec_text(rng: random.Random) -> str:
    data = yaml.safe_load(rng.choice(EXAMPLES).read_text())
    if rng.random() < 0.9:
        data = _mutate(data, rng, rng.randint(1, 3))
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if rng.random() < 0.1:  # bytes-level damage
        b = bytearray(text.encode())
        for _ in range(rng.randint(1, 4)):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
        return b.decode("utf-8", "replace")
    return text


def _log_bytes(rng: random.Random, src: Path) -> bytes:
    lines = src.read_text().splitlines()[:400]
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        op = rng.choice([0, 0, 0, 1, 1, 2, 3, 4, 5])
        r = rng.randrange(1, len(lines)) if len(lines) > 1 else 0  # data rows; the header only by op 3
        if op == 0:
            cells = lines[r].split(",")
            cells[rng.randrange(len(cells))] = rng.choice(["", "nan", "inf", "-1", "1e-320", "abc", "1e308", "0"])
            lines[r] = ",".join(cells)
        elif op == 1:
            del lines[r]
        elif op == 2 and r:
            lines.insert(r, lines[r - 1])
        elif op == 3:
            lines[0] = lines[0].replace(rng.choice(lines[0].split(",")), rng.choice(["Step", "los", "x", ""]))
        elif op == 4:
            lines = lines[: rng.randint(0, len(lines))]
        else:
            lines[r] = lines[r][: rng.randrange(len(lines[r]) + 1)]
    return ("\n".join(lines) + "\n").encode()


def _law_text(rng: random.Random, tmp: Path) -> str:
    from lrplan.laws.builtin import BUILTIN_DIR

    data = yaml.safe_load((BUILTIN_DIR / "mpl-25m.yaml").read_text())
    data = _mutate(data, rng, rng.randint(1, 3))
    return yaml.safe_dump(data, sort_keys=False)


MEGATRON = ["--lr", "3e-4", "--min-lr", "3e-5", "--train-iters", "2000", "--global-batch-size", "64",
            "--lr-warmup-iters", "100", "--lr-decay-style", "cosine", "--seq-length", "1024"]


def _megatron_args(rng: random.Random) -> list[str]:
    a = list(MEGATRON)
    for _ in range(rng.randint(1, 3)):
        if not a:
            break
        i = rng.randrange(len(a))
        op = rng.randrange(4)
        if op == 0:
            a[i] = rng.choice(["-5", "0", "1e400", "nan", "abc", "", "--lr", "linear", "wsd", "3", "10000000"])
        elif op == 1:
            del a[i]
        elif op == 2:
            a[i:i] = rng.choice([["--lr-decay-iters", "500"], ["--lr-wsd-decay-iters", "100"],
                                 ["--rampup-batch-size", "16", "16", "1000"], ["--decoupled-lr", "1e-4"],
                                 ["--train-samples", "100000"], ["--unknown-flag"], ["--lr-decay-style", "WSD"]])
        else:
            a = a[: rng.randrange(len(a) + 1)]
    return a


def _config_file(rng: random.Random, tmp: Path) -> tuple[str, Path]:
    fw, src = rng.choice([("torchtitan", ROOT / "schedules" / "data" / "torchtitan.toml"),
                          ("hf", ROOT / "schedules" / "data" / "hf_training_args.yaml")])
    lines = src.read_text().splitlines()
    for _ in range(rng.randint(1, 3)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        op = rng.randrange(3)
        if op == 0 and "=" in lines[i]:
            lines[i] = lines[i].split("=")[0] + "= " + rng.choice(['"x"', "-1", "0", "1e400", "[1, 2]", "true", "nan"])
        elif op == 0 and ":" in lines[i]:
            lines[i] = lines[i].split(":")[0] + ": " + rng.choice(["x", "-1", "0", "1e400", "[1, 2]", "true", ".nan"])
        elif op == 1:
            del lines[i]
        else:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    path = tmp / ("config.toml" if fw == "torchtitan" else "config.yaml")
    path.write_text("\n".join(lines) + "\n")
    return fw, path


def make_case(seed: int, i: int, tmp: Path) -> tuple[str, list[str], list[Path], Path | None]:
    """(category, argv, inputs, output target) for case ``i`` of ``seed``; files written under ``tmp``."""
    rng = random.Random(f"{seed}-{i}")
    cat = CATEGORIES[i % len(CATEGORIES)]
    spec = tmp / "spec.yaml"
    out = tmp / "out.csv"
    if cat in ("spec", "plan", "predict", "plot", "output"):
        spec.write_text(_spec_text(rng), encoding="utf-8")
    if cat == "spec":
        cmd = rng.choice([["render", str(spec), "-o", str(out), "-q", "--every", "997"], ["check", str(spec)],
                          ["render", str(spec), "--format", rng.choice(["megatron", "torchtitan", "hf", "olmo-core",
                                                                        "deepspeed"]), "-o", str(out), "-q"]])
        return cat, cmd, [spec], out
    if cat == "yaml":
        spec.write_bytes((rng.choice(YAML_JUNK) + ("\nschedule: {kind: cosine, peak_lr: 1.0e-3}" if rng.random() < 0.5
                                                   else "")).encode("utf-8", "surrogatepass"))
        return cat, [rng.choice(["render", "check"]), str(spec)], [spec], None
    if cat == "plan":
        ex = rng.choice([ROOT / "schedules" / "wsd-s.yaml", ROOT / "schedules" / "plan-wsd.yaml"])
        data = _mutate(yaml.safe_load(ex.read_text()), rng, rng.randint(0, 2))
        spec.write_text(yaml.safe_dump(data, sort_keys=False))
        fmt = rng.choice(["table", "json", "csv"])
        return cat, ["plan", str(spec), "--no-law", "-f", fmt, "-o", str(out)], [spec], out
    if cat == "log":
        src = rng.choice(sorted(LOGS))
        log = tmp / "log.csv"
        log.write_bytes(_log_bytes(rng, src))
        law = tmp / "law.yaml"
        return cat, ["fit", str(log), *LOGS[src], "-o", str(law), "-q"], [log], law
    if cat == "law":
        law = tmp / "law.yaml"
        law.write_text(_law_text(rng, tmp))
        pred = tmp / "pred.csv"
        return cat, ["predict", str(ROOT / "schedules" / "wsd.yaml"), "--law", str(law), "--steps", "1000,20000",
                     "-o", str(pred)], [law], pred
    if cat == "import-megatron":
        return cat, ["import", "megatron", "-o", str(out), "--", *_megatron_args(rng)], [], out
    if cat == "import-file":
        fw, cfg = _config_file(rng, tmp)
        return cat, ["import", fw, str(cfg), "-o", str(out)], [cfg], out
    if cat == "output":
        target = rng.choice([str(out), str(tmp / "missing" / "x.csv"), str(tmp), "", "/dev/full", str(spec),
                             str(tmp / "."), "-"])
        return cat, ["render", str(spec), "-q", "--every", "997", "-o", target], [spec], (out if target == str(out) else None)
    if cat == "predict":
        pred = tmp / "pred.csv"
        return cat, ["predict", str(spec), "--law", "builtin:mpl-25m", "--steps", "100,1000", "-o", str(pred)], [spec], pred
    return cat, ["plot", str(spec), "-W", "80", "-H", "20", "--no-color"], [spec], None


# ---------------------------------------------------------------------------------------------- checks


def _digest(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _check_table(out: Path) -> None:
    text = out.read_text()
    if text.lstrip().startswith("["):
        rows = json.loads(text)
        lrs = [r["lr"] for r in rows]
    elif text.startswith("step,"):
        header = text.split("\n", 1)[0].split(",")
        if "lr" not in header:
            return
        k = header.index("lr")
        lrs = [float(ln.split(",")[k]) for ln in text.splitlines()[1:] if ln]
    else:
        return
    assert all(math.isfinite(v) and v >= 0 for v in lrs), "a NaN, inf or negative LR in a written table"


def run_case(case: tuple[int, int], tmp: Path) -> tuple[int, str, dict[str, str]]:
    seed, i = case
    cat, argv, inputs, out = make_case(seed, i, tmp)
    before = _digest(inputs)
    res = runner.invoke(app, argv)
    err, std = res.stderr, res.stdout
    assert res.exception is None or isinstance(res.exception, SystemExit), f"{cat} {argv}: {res.exception!r}"
    assert "Traceback" not in err + std, f"{cat} {argv}\n{err}"
    assert res.exit_code in (0, 2), f"{cat} {argv}: exit {res.exit_code}\n{err}"
    assert _digest(inputs) == before, f"{cat} {argv}: an input changed"
    leftovers = [p.name for p in tmp.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    assert not leftovers, f"{cat} {argv}: temporary files left: {leftovers}"
    if res.exit_code == 2:
        lines = err.strip().splitlines()
        assert lines, f"{cat} {argv}: exit 2 with nothing on stderr"
        errors = [ln for ln in lines if ln.startswith("error: ")]
        assert errors and all(ln.startswith(("error: ", "warning: ", "note: ")) or not ln.strip() for ln in lines), err
        assert all(len(ln) < 2000 for ln in lines), "an error line over 2,000 characters"
        if cat in ("spec", "yaml", "plan") and argv[0] != "import":
            spec = next(a for a in argv if a.endswith("spec.yaml"))
            assert any(ln.startswith(f"error: {spec}") for ln in errors) or "-o" in err or "--format" in err, \
                f"{cat} {argv}: the error does not name the file\n{err}"
        if out is not None:
            assert not out.exists() or str(out) in before, f"{cat} {argv}: a failed command left {out.name}"
    elif out is not None and out.exists() and out.suffix == ".csv":
        _check_table(out)
    outputs = _digest([p for p in tmp.iterdir() if p.is_file() and p.name not in {x.name for x in inputs}])
    return res.exit_code, std, outputs


def test_fuzz_case(case, tmp_path):
    code, std, outputs = run_case(case, tmp_path)
    if case[1] % 5 == 0:  # determinism: the same case again, from scratch in the same place, gives the same bytes
        import shutil

        for p in tmp_path.iterdir():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        assert run_case(case, tmp_path) == (code, std, outputs)


@pytest.mark.parametrize("i", range(0, 520, 20))
def test_fuzz_case_under_a_memory_limit(i, tmp_path, request):
    """A sample of cases in a fresh process limited to 2 GiB of address space: none may need more."""
    seed = request.config.getoption("--fuzz-seed")
    cat, argv, _, _ = make_case(seed, i, tmp_path)
    if argv[0] in ("fit",):  # scipy's thread pools reserve address space; fits are covered by the in-process run
        pytest.skip("fit under RLIMIT_AS")

    def limit():  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    r = subprocess.run([sys.executable, "-m", "lrplan", *argv], capture_output=True, text=True, timeout=120,
                       preexec_fn=limit, cwd=tmp_path)
    assert r.returncode in (0, 2), f"{cat} {argv}: exit {r.returncode}\n{r.stderr[-2000:]}"
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr, r.stderr[-2000:]
