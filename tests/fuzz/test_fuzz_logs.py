"""Fuzzed training logs, LR tables and law files (issue 5): every bad input gives exactly one `error:` line on
stderr and exit 2 -- or a success whose output is finite -- never a traceback, never a partial output file."""

from __future__ import annotations

import math
import os
import random
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from lrplan.cli import app  # noqa: E402

runner = CliRunner()
COUNT = {"log": 0, "lr": 0, "law": 0, "bad": 0}
SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)

# a tiny log: the LR decays over the last rows (annealing identifiable) so a success is a real 7-parameter fit
BASE_LOG = ("step,lr,loss,run\n0,0,10.5,a\n100,3e-4,4.10,a\n200,3e-4,3.90,a\n300,3e-4,3.80,a\n400,3e-4,3.72,a\n"
            "500,2e-4,3.62,a\n600,1e-4,3.52,a\n700,1e-5,3.46,a\n")
BASE_LR = "step,lr\n0,0\n100,3e-4\n500,3e-4\n1000,3e-5\n"
BASE_LAW = {"law": "multi-power", "warmup": "area",
            "params": {"L0": 3.0, "A": 2.0, "alpha": 0.5, "B": 40.0, "C": 2.0, "beta": 1.0, "gamma": 0.0,
                       "rho": 0.7, "kappa": 0.7},
            "window": {"rule": "auto", "start": 2160}, "metrics": {"a": {"r2": 0.99, "mae": 0.01}}, "flags": [],
            "meta": {"peak_lr": 3e-4, "fitted_step_range": [2160, 23936], "tokens_per_step": 524288}}
SPEC = "budget: {steps: 3000}\nschedule: {kind: wsd, peak_lr: 3.0e-4, warmup: 200, decay: 20%, min_lr: 3.0e-5}\n"

CELLS = ["", " ", "nan", "NaN", "inf", "-inf", "1e309", "-1", "0", "1e300", "1e-320", "abc", "3.5", "0x10", "1_000",
         "\u221e", '"4.0"', "1e12", "-0", "2.5e2", "+7", "  8  ", "None", "null", "true", "1,5", "\x00", "\ufeff1"]


def _mutate(text: str, rng: random.Random) -> bytes:
    """One to three random structural or cell mutations of a CSV text (as bytes)."""
    lines = text.splitlines()
    data = text.encode()
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(16)
        if len(lines) < 2 and op in (1, 2, 3, 4, 5, 6, 7, 8):
            op = 12  # no data rows left: truncate instead
        if op == 0:  # rename / drop a header column
            cols = lines[0].split(",")
            i = rng.randrange(len(cols))
            if rng.random() < 0.5:
                cols[i] = rng.choice(["Step", "LOSS", "val", "", "lr ", "x"])
                lines[0] = ",".join(cols)
            else:
                lines = [",".join(c for j, c in enumerate(ln.split(",")) if j != i) for ln in lines]
        elif op in (1, 2, 3):  # junk in a cell
            r = rng.randrange(1, len(lines))
            cells = lines[r].split(",")
            cells[rng.randrange(len(cells))] = rng.choice(CELLS)
            lines[r] = ",".join(cells)
        elif op == 4:  # shuffle rows
            body = lines[1:]
            rng.shuffle(body)
            lines = lines[:1] + body
        elif op == 5:  # duplicate rows
            lines += rng.sample(lines[1:], k=min(len(lines) - 1, rng.randint(1, 3)))
        elif op == 6:  # delete rows
            for _ in range(rng.randint(1, 5)):
                if len(lines) > 1:
                    del lines[rng.randrange(1, len(lines))]
        elif op == 7:  # extra or missing field
            r = rng.randrange(1, len(lines))
            lines[r] = lines[r] + ",9" if rng.random() < 0.5 else lines[r].rsplit(",", 1)[0]
        elif op == 8:  # huge values
            r = rng.randrange(1, len(lines))
            cells = lines[r].split(",")
            cells[rng.randrange(len(cells))] = rng.choice(["1e308", "9" * 40, "1e50", "123456789012"])
            lines[r] = ",".join(cells)
        elif op == 9:  # another delimiter
            lines = [ln.replace(",", rng.choice([";", "\t", " ", "|"])) for ln in lines]
        elif op == 10:  # header gone
            lines = lines[1:]
        elif op == 11:  # CRLF, BOM, blank lines: all fine
            lines = ["\ufeff" + lines[0]] + [ln + "\r" for ln in lines[1:]] + ["", "  "]
        text = "\n".join(lines) + "\n"
        data = text.encode("utf-8", "surrogatepass")
        if op == 12:  # truncated file
            data = data[: rng.randrange(len(data) + 1)]
        elif op == 13:  # non-UTF-8 / control bytes somewhere
            i = rng.randrange(len(data) + 1)
            data = data[:i] + rng.choice([b"\xff", b"\xc3(", b"\x00", b"\x80\x81", b"\x1b[31m"]) + data[i:]
        elif op == 14:  # random bytes appended or overwritten
            i = rng.randrange(len(data) + 1)
            data = data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 20))) + data[i:]
        elif op == 15:  # quotes
            data = data.replace(b",", b',"', 1)
        try:
            text = data.decode("utf-8")
            lines = text.splitlines() or [""]
        except UnicodeDecodeError:
            return data
    return data


def _check(tmp: Path, args: list[str], out: Path, kind: str, inputs: list[str]) -> None:
    res = runner.invoke(app, args, env={"COLUMNS": "120"})
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    assert "nan" not in res.stdout.lower().replace("nano", "")
    COUNT[kind] += 1
    if res.exit_code == 0:
        if kind == "log":
            d = yaml.safe_load(out.read_text())
            nums = list(d["params"].values()) + [v for m in d["metrics"].values() for v in m.values()]
            assert all(math.isfinite(v) for v in nums), d
        else:
            a = np.genfromtxt(out, delimiter=",", names=True)
            assert a.size and np.all(np.isfinite(a["loss"])) and np.all(np.isfinite(a["lr"]))
        out.unlink()
        return
    COUNT["bad"] += 1
    assert res.exit_code == 2, (res.exit_code, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert len(lines[0]) < 600
    assert not out.exists(), "a failure left an output file"
    assert sorted(p.name for p in tmp.iterdir()) == sorted(inputs), "a failure left a temporary file"


def _fit(tmp: Path, data: bytes) -> None:
    log = tmp / "log.csv"
    log.write_bytes(data)
    out = tmp / "law.yaml"
    _check(tmp, ["fit", str(log), "-o", str(out), "-q", "--max-points", "8"], out, "log", ["log.csv"])


def _lr_table(tmp: Path, data: bytes) -> None:
    (tmp / "lr.csv").write_bytes(data)
    out = tmp / "pred.csv"
    _check(tmp, ["predict", "--lr-csv", str(tmp / "lr.csv"), "--law", "builtin:mpl-25m", "-o", str(out), "--every",
                 "100"], out, "lr", ["lr.csv"])


def _law(tmp: Path, data: bytes) -> None:
    (tmp / "law.yaml").write_bytes(data)
    (tmp / "spec.yaml").write_text(SPEC)
    out = tmp / "pred.csv"
    _check(tmp, ["predict", str(tmp / "spec.yaml"), "--law", str(tmp / "law.yaml"), "-o", str(out), "--every", "500"],
           out, "law", ["law.yaml", "spec.yaml"])


@settings(max_examples=70, **SETTINGS)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_logs(tmp_path_factory, seed):
    _fit(tmp_path_factory.mktemp("log"), _mutate(BASE_LOG, random.Random(seed)))


@settings(max_examples=40, **SETTINGS)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_lr_tables(tmp_path_factory, seed):
    _lr_table(tmp_path_factory.mktemp("lr"), _mutate(BASE_LR, random.Random(seed)))


@settings(max_examples=15, **SETTINGS)
@given(data=st.binary(max_size=300))
def test_random_bytes_as_log_and_lr_table(tmp_path_factory, data):
    _fit(tmp_path_factory.mktemp("rb"), data)
    _lr_table(tmp_path_factory.mktemp("rb"), data)


JUNK = [None, -1, 0, 1e308, -1e308, float("nan"), float("inf"), "nan", ".inf", "abc", [], {}, [1, 2], True, 1e-320,
        "3e-4", 10**400, {"a": 1}, "multi-power", 2.5]


def _law_mutation(rng: random.Random) -> bytes:
    d = yaml.safe_load(yaml.safe_dump(BASE_LAW))
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        if op == 0:  # a parameter becomes junk or disappears
            params = d.get("params")
            if isinstance(params, dict) and params:
                k = rng.choice(list(params))
                if rng.random() < 0.3:
                    d["params"].pop(k, None)
                else:
                    d["params"][k] = rng.choice(JUNK)
        elif op == 1:  # a top-level key becomes junk or disappears
            k = rng.choice(list(BASE_LAW))
            if rng.random() < 0.3:
                d.pop(k, None)
            else:
                d[k] = rng.choice(JUNK)
        elif op == 2:
            d["law"] = rng.choice(["momentum", "mtl", "mpl", "chinchilla", "", "MULTI-POWER"])
        elif op == 3:
            d["warmup"] = rng.choice(["area", "peak", "ramp", "none", 3])
        elif op == 4:  # extreme but finite parameters
            k = rng.choice(["L0", "A", "alpha", "B", "C", "beta", "gamma", "rho", "kappa"])
            if isinstance(d.get("params"), dict):
                d["params"][k] = rng.choice([1e300, -1e300, 1e-300, -5.0, 50.0, 0.0, 1e6])
        elif op == 5:
            d["meta"] = rng.choice([{"peak_lr": "x"}, {"fitted_step_range": [1]}, {"tokens_per_step": -1}, None, []])
        elif op == 6:
            d["extra"] = rng.choice(JUNK)
    try:
        text = yaml.safe_dump(d, allow_unicode=True)
    except (yaml.YAMLError, OverflowError, ValueError):
        text = "law: [\n"
    data = text.encode()
    r = rng.random()
    if r < 0.15:
        data = data[: rng.randrange(len(data) + 1)]
    elif r < 0.25:
        i = rng.randrange(len(data) + 1)
        data = data[:i] + rng.choice([b"\xff", b"\x00", b"\x1b", b"[", b"{", b": :", b"\t"]) + data[i:]
    return data


@settings(max_examples=60, **SETTINGS)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_law_files(tmp_path_factory, seed):
    _law(tmp_path_factory.mktemp("law"), _law_mutation(random.Random(seed)))


@settings(max_examples=10, **SETTINGS)
@given(data=st.binary(max_size=300))
def test_random_bytes_as_law(tmp_path_factory, data):
    _law(tmp_path_factory.mktemp("rbl"), data)


def test_enough_bad_inputs_were_tried():
    """Runs last in this module: at least 150 generated inputs failed cleanly (the rest succeeded, finite)."""
    total = COUNT["log"] + COUNT["lr"] + COUNT["law"]
    if total < 200:  # run alone (-k): nothing to count
        return
    assert COUNT["bad"] >= 150, COUNT


def test_huge_log_with_a_bad_row_fails_clearly(tmp_path):
    from typer.testing import CliRunner

    from lrplan.cli import app

    n = 400_000
    path = tmp_path / "huge.csv"
    with open(path, "w") as fh:
        fh.write("step,lr,loss\n")
        fh.writelines(f"{s},0.0003,{3.0 + 1.0 / (1 + s / 1000):.6f}\n" for s in range(1, n))
        fh.write(f"{n},0.0003,nan\n")
    res = CliRunner().invoke(app, ["fit", str(path), "-o", str(tmp_path / "law.yaml")])
    assert res.exit_code == 2 and f"huge.csv:{n + 1}: loss is nan" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "law.yaml").exists()
