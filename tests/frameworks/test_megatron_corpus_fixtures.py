"""The Megatron entries of the real-config corpus against megatron-core's REAL scheduler.

``tests/data/conformance/corpus/megatron.json`` (``conformance/generate_corpus.py megatron``) holds, for every entry
lrplan imports, the LR that megatron-core 0.16.1's ``OptimizerParamScheduler`` gives the updates of the whole run
(stepped over all of them in Megatron-LM's training-loop order, ``conformance/generate.record_megatron``), kept at the
first and last 64 updates, +-2 around every phase boundary and 4096 evenly spaced updates. ``steps`` are 0-based:
step k is update k + 1, which is lrplan's step k (``SchedulePlan.lr_at``). Only the JSON is read here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lrplan import load_spec
from lrplan.frameworks.megatron.importer import import_megatron
from tests.frameworks.test_megatron_corpus import DATA, ENTRIES, corpus_argv

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "conformance" / "corpus" / "megatron.json"
DOC = json.loads(FIXTURE.read_text())
CASES = DOC["cases"]

# entries without a real-scheduler record, and why (a regression that stops recording one fails)
NOT_RECORDED = {
    "mlm_gpt3_175b_distributed": "lrplan refuses it: Megatron refuses --step-batch-size-schedule together with --global-batch-size",
    "mlm_ft_gpt3_15b_8t_release": "megatron-core 0.16.1 has no --step-batch-size-schedule",
    "mlm_ft_gpt3_15b_8t_release_sm": "megatron-core 0.16.1 has no --step-batch-size-schedule",
}


def test_fixture_header():
    assert DOC["framework"] == "megatron"
    assert DOC["versions"]["megatron-core"] == "0.16.1"
    assert DOC["scheduler"] == "megatron.core.optimizer_param_scheduler.OptimizerParamScheduler"


def test_every_entry_is_recorded_or_listed():
    recorded = {c["id"] for c in CASES}
    skipped = {c["id"]: c["reason"] for c in DOC["not_recorded"]}
    assert set(skipped) == set(NOT_RECORDED)
    for eid, words in NOT_RECORDED.items():
        assert words in skipped[eid], eid
    assert not recorded & set(skipped)
    assert recorded | set(skipped) == {e["id"] for e in ENTRIES}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_lrplan_matches_the_real_scheduler(case):
    entry = next(e for e in ENTRIES if e["id"] == case["id"])
    imp = import_megatron(corpus_argv(DATA / entry["file"]))
    assert imp.config == case["config"]  # the dict the recorder stepped
    plan = load_spec(imp.yaml).schedule_plan()
    n = case["n_updates"]
    assert plan.total_steps == n
    steps = np.asarray(case["steps"], dtype=np.int64)
    # the recorded set: first/last 64, every phase boundary +-2, 4096 evenly spaced
    assert steps[0] == 0 and steps[-1] == n - 1 and np.all(np.diff(steps) > 0)
    assert set(range(min(n, 64))) | set(range(max(0, n - 64), n)) <= set(steps.tolist())
    bounds = sorted({b for ph in plan.phases for b in (ph.start, ph.end)})
    assert bounds == case["phase_bounds"]
    assert {k for b in bounds for k in range(b - 2, b + 3) if 0 <= k < n} <= set(steps.tolist())
    assert len(steps) >= min(n, 4096)
    want = np.asarray(case["lr"], dtype=np.float64)
    got = np.asarray(plan.lr_at(steps), dtype=np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    # the real scheduler's min and max over the whole run are lrplan's (every update rendered, in blocks)
    lo, hi = np.inf, -np.inf
    for start in range(0, n, 1 << 20):
        block = plan.lr_range(start, min(n, start + (1 << 20)))
        lo, hi = min(lo, float(block.min())), max(hi, float(block.max()))
    assert lo == pytest.approx(case["lr_min"], rel=1e-12, abs=0) and hi == pytest.approx(case["lr_max"], rel=1e-12, abs=0)
