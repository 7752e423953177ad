"""Every public function raises only ``lrplan.LrplanError`` subclasses for bad input: random junk through each."""

from __future__ import annotations

import random

import pytest

import lrplan

JUNK = [None, 0, -1, 1e309, float("nan"), "", "\x00", "a\x00b: 1", b"x", [], {}, [1, 2], {"budget": None},
        {"budget": {"steps": 10}}, {"budget": {"steps": 10}, "schedule": None}, "budget: [", "x" * 10_000,
        "/nonexistent/spec.yaml", "/dev/zero", "/tmp", object(), 3.5, True, {"schedule": {"kind": []}}]
GOOD = {"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": 1e-3, "warmup": 10}}


def _only_lrplan_errors(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except lrplan.LrplanError:
        pass


@pytest.mark.parametrize("junk", JUNK, ids=lambda j: repr(j)[:24])
def test_load_spec_and_plan_raise_only_lrplan_errors(junk):
    _only_lrplan_errors(lrplan.load_spec, junk)
    _only_lrplan_errors(lrplan.plan, junk)


def test_random_spec_dicts_raise_only_lrplan_errors():
    rng = random.Random(0)
    for _ in range(300):
        d = {"budget": dict(GOOD["budget"]), "schedule": dict(GOOD["schedule"])}
        section = rng.choice(["budget", "schedule"])
        d[section][rng.choice(["steps", "tokens", "peak_lr", "warmup", "kind", "min_lr", "decay", "x"])] = rng.choice(JUNK)
        _only_lrplan_errors(lrplan.load_spec, d)


def test_torch_scheduler_junk_state_is_a_mismatch_error():
    torch = pytest.importorskip("torch")
    from lrplan.torch import LRPlanScheduler, ScheduleMismatchError

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = LRPlanScheduler(opt, GOOD)
    good = sched.state_dict()
    for bad in [None, [], {}, {"spec_fingerprint": good["spec_fingerprint"], "last_epoch": "x", "scales": good["scales"]},
                {**good, "last_epoch": None}, {**good, "last_epoch": 1e400}, {**good, "_step_count": "many"},
                {**good, "_last_lr": 5, "last_epoch": -1}]:
        with pytest.raises(ScheduleMismatchError):
            sched.load_state_dict(bad)
    sched.load_state_dict(good)  # an intact state still loads
