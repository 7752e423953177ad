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


def _law():
    import numpy as np

    from lrplan.laws import Curve

    steps = np.arange(100, 1000, 10)
    return lrplan.fit([Curve("c", steps, 3 + 1 / np.sqrt(steps), np.full(1000, 3e-4))])


@pytest.mark.parametrize("junk", [None, [], [None], "x", [1, 2], 5, {"a": 1}, b"x", [object()]], ids=repr)
def test_fit_junk_raises_lrplan_errors(junk):
    with pytest.raises(lrplan.LrplanError):
        lrplan.fit(junk)


def test_predict_junk_raises_lrplan_errors_and_never_returns_inf():
    import numpy as np

    law = _law()
    lr = np.concatenate([np.zeros(10), np.full(90, 3e-4)])
    for a, s in [(None, [1]), ([], [1]), (lr, [500]), (lr, [-1]), (lr, ["a"]), (np.full(100, np.nan), [50]),
                 ("x", [1]), (lr, None), (lr, [2.5]), (-lr, [50])]:
        with pytest.raises(lrplan.LrplanError):
            lrplan.predict(law, a, s)
    with pytest.raises(lrplan.LrplanError, match=r"no finite prediction at step 5: no LR has been applied by then"):
        lrplan.predict(law, lr, [5, 50])  # was: inf at step 5, silently
    for bad_law in (None, "law.yaml", 5):
        with pytest.raises(lrplan.LrplanError, match="needs a FittedLaw"):
            lrplan.predict(bad_law, lr, [50])
    assert np.isfinite(lrplan.predict(law, lr, [50, 99])).all()


def test_data_errors_are_still_value_errors():
    """The library's documented ``ValueError`` stays true: DataError is both."""
    with pytest.raises(ValueError):
        lrplan.fit([])


@pytest.mark.parametrize("junk", [None, 5, "/nonexistent/law.yaml", "/tmp", "/dev/zero", "pyproject.toml",
                                  "schedules/wsd.yaml"], ids=repr)
def test_load_law_junk_raises_lrplan_errors(junk):
    from lrplan.laws import load_law

    with pytest.raises(lrplan.LrplanError):
        load_law(junk)
