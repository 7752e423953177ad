"""``--step-batch-size-schedule`` against Megatron-LM main's own calculator, executed: the vendored
``megatron/core/num_microbatches_calculator.py`` (d98e8a6; standard library only) is loaded from
``tests/data/megatron_source`` and driven the way ``megatron/training/training.py`` ``update_train_iters`` and the
training loop drive it (``update_num_microbatches(consumed)`` before each iteration). Its thresholds are TOKENS
when ``seq_length`` is given, which ``set_global_variables`` always passes (``args.seq_length``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from lrplan import load_spec
from lrplan.frameworks.export import export
from lrplan.frameworks.megatron import simulator

SRC = Path(__file__).resolve().parents[2] / "tests" / "data" / "megatron_source" / "megatron" / "core" / "num_microbatches_calculator.py"


def _calculator(schedule: str, seq_length):
    spec = importlib.util.spec_from_file_location("_mlm_nmc", SRC)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.StepBatchsizeNumMicroBatchesCalculator(micro_batch_size=1, data_parallel_size=1,
                                                      decrease_batch_size_if_needed=False, rank=1,
                                                      schedule=schedule, seq_length=seq_length)


def _megatron_batches(schedule: str, seq_length, train_samples: int) -> list[int]:
    """update_train_iters (training.py): iterate while consumed < train_samples, batch from the calculator."""
    calc = _calculator(schedule, seq_length)
    out, consumed = [], 0
    while consumed < train_samples:
        calc.update(consumed, False)
        out.append(calc.get_current_global_batch_size())
        consumed += out[-1]
    return out


CASES = [
    ("0:16 2.4K:32 4.8K:64", 8, 3000),
    ("0:16 2.4K:32 4.8K:64", None, 3000),
    ("0:384 200K:768 400K:1152", 4096, 400),  # thresholds beyond the run
    ("0:4, 100:8", 3, 500),                  # commas; 100 // 3 = 33 samples
    ("300:8 0:4", 10, 200),                  # unsorted
]


@pytest.mark.parametrize("schedule, seq, samples", CASES)
def test_batches_match_megatrons_calculator(schedule, seq, samples):
    want = _megatron_batches(schedule, seq, samples)
    cfg = {"lr": 1.0, "train_samples": samples, "step_batch_size_schedule": schedule, "seq_length": seq}
    assert simulator.validate(cfg) == []
    assert simulator.train_iters(cfg) == len(want)
    assert simulator.batch_sizes(cfg, len(want)).tolist() == want
    got = simulator.consumed_at(cfg, np.arange(len(want)))
    assert got.tolist() == np.concatenate([[0], np.cumsum(want)[:-1]]).tolist()


def test_the_issue_example_switches_after_the_token_threshold():
    """Thresholds in tokens: 2.4B tokens at seq 2048 = 1171875 samples, so the batch first changes at iteration
    1171875/16 + 1 (not at the iteration where 2.4B SAMPLES were consumed, nor at iteration 5)."""
    sched = "0:16 2.4B:320"
    want = _megatron_batches(sched, 2048, 1171875 + 3 * 320)
    cfg = {"lr": 1.0, "train_samples": 1171875 + 3 * 320, "step_batch_size_schedule": sched, "seq_length": 2048}
    starts, _, batch = simulator.batch_runs(cfg)
    assert batch.tolist() == [16, 320] and int(starts[1]) == want.index(320) == -(-1171875 // 16)


def test_export_writes_token_thresholds_that_megatron_reads_back():
    spec = load_spec({"budget": {"tokens": "20M", "seq_len": 1000, "batch_schedule": [
        {"at": 0, "batch_size": 256}, {"at": "5M tokens", "batch_size": 512}]},
        "schedule": {"kind": "cosine", "peak_lr": 3e-4, "warmup": 10}})
    e = export(spec, "megatron")
    assert e.exact
    n = e.native
    thr = int(n["step_batch_size_schedule"].split()[1].split(":")[0])  # tokens at the step where the spec switches
    assert n["seq_length"] == 1000 and thr % 1000 == 0 and 5_000_000 <= thr < 5_000_000 + 256 * 1000
    want = _megatron_batches(n["step_batch_size_schedule"], n["seq_length"], n["train_samples"])
    assert simulator.batch_sizes(n, len(want)).tolist() == want
    assert "--seq-length 1000" in e.snippet
