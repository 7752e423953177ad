"""Fuzzed framework configs for `lrplan import` (issue 8): a clear one-line error and exit 2, or a spec that
loads; never a traceback."""

import json
import random
from pathlib import Path

from typer.testing import CliRunner

import lrplan
from lrplan.cli import app
from lrplan.frameworks.megatron.export import megatron_args

runner = CliRunner()
FIX = Path(__file__).resolve().parents[1] / "data" / "conformance"
JUNK = ["-1", "0", "nan", "inf", "abc", "1e400", "3e-4", "", "1.5", "--lr", "WSD", "cosine", "99999999999999999999"]
COUNT = {"bad": 0}


def _check(res):
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.stderr
    if res.exit_code == 0:
        lrplan.load_spec(res.stdout)  # what import prints is a valid spec
        return
    COUNT["bad"] += 1
    assert res.exit_code == 2, (res.exit_code, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: ") and len(lines) <= 3, res.stderr


def _megatron_argv(cfg):
    out = []
    for line in megatron_args(cfg):
        out += line.replace('"', "").split()
    return out


def test_mutated_megatron_args():
    cases = json.loads((FIX / "megatron.json").read_text())["cases"]
    rng = random.Random(0)
    for case in rng.sample(cases, 40):
        argv = _megatron_argv(case["config"])
        for _ in range(3):
            a = list(argv)
            op = rng.random()
            i = rng.randrange(len(a))
            if op < 0.4:
                a[i] = rng.choice(JUNK)
            elif op < 0.6:
                del a[i]
            elif op < 0.8:
                a += [rng.choice(["--lr-warmup-fraction", "--lr-decay-samples", "--train-samples", "--bogus-flag", "--lr-wsd-decay-style"]), rng.choice(JUNK)]
            else:
                a.insert(i, a[i])
            _check(runner.invoke(app, ["import", "megatron", "--", *a]))


def _toml(d, prefix=""):
    lines = []
    for sec, body in d.items():
        if isinstance(body, dict):
            lines.append(f"[{sec}]")
            for k, v in body.items():
                lines.append(f"{k} = {json.dumps(v) if not isinstance(v, bool) else str(v).lower()}")
    return "\n".join(lines) + "\n"


def test_mutated_torchtitan_and_hf_files(tmp_path):
    rng = random.Random(1)
    tt = json.loads((FIX / "torchtitan.json").read_text())["cases"]
    hf = json.loads((FIX / "hf.json").read_text())["cases"]
    for fw, cases, ext in (("torchtitan", tt, "toml"), ("hf", hf, "yaml")):
        for case in rng.sample(cases, 30):
            cfg = json.loads(json.dumps(case["config"]))
            if fw == "torchtitan":
                text = _toml({k: v for k, v in cfg.items() if isinstance(v, dict)})
            else:
                import yaml

                text = yaml.safe_dump(cfg)
            lines = text.splitlines()
            for _ in range(3):
                ls = list(lines)
                i = rng.randrange(len(ls))
                op = rng.random()
                if op < 0.35 and "=" in ls[i] or ":" in ls[i] and op < 0.35:
                    sep = "=" if fw == "torchtitan" else ":"
                    key = ls[i].split(sep)[0]
                    ls[i] = f"{key}{sep} {rng.choice(JUNK) or 'x'}"
                elif op < 0.6:
                    del ls[i]
                elif op < 0.8:
                    ls.insert(i, ls[i])
                else:
                    ls[i] = ls[i][: rng.randrange(len(ls[i]) + 1)]
                f = tmp_path / f"c.{ext}"
                f.write_text("\n".join(ls) + "\n")
                _check(runner.invoke(app, ["import", fw, str(f)]))
    f = tmp_path / "bin.toml"
    f.write_bytes(b"\xff\xfe\x00garbage")
    _check(runner.invoke(app, ["import", "torchtitan", str(f)]))
    _check(runner.invoke(app, ["import", "hf", str(tmp_path / "missing.yaml")]))
    _check(runner.invoke(app, ["import", "nope", str(f)]))


def test_enough_bad_configs():
    assert COUNT["bad"] >= 100, COUNT
