"""lrplan.torch.LRPlanScheduler with a real torch.optim.AdamW: the param group's LR at every update is exactly
``spec.render().lr``, across checkpoint/resume, with per-group scales, and at the end of the budget.

(No ``__init__.py`` in this folder on purpose: with one, pytest would import it as a package named ``torch`` and
shadow PyTorch. Keep test file names unique across tests/.)
"""

from __future__ import annotations

import io

import pytest

torch = pytest.importorskip("torch")  # CI installs torch through the test extra; skip only where it is absent
if getattr(torch, "__file__", None) is None:  # pragma: no cover - a namespace package, not PyTorch
    pytest.skip("PyTorch is not installed", allow_module_level=True)

from torch.optim.lr_scheduler import LRScheduler  # noqa: E402

import lrplan  # noqa: E402
from lrplan.torch import (  # noqa: E402
    LRPlanScheduler,
    ScheduleEndError,
    ScheduleMismatchError,
    spec_fingerprint,
)

SPECS = {
    "cosine-warmup": {
        "budget": {"steps": 240},
        "schedule": {"kind": "cosine", "peak_lr": 3e-3, "warmup": "5%", "min_lr_ratio": 0.1},
    },
    "wsd": {
        "budget": {"steps": 200},
        "schedule": {"kind": "wsd", "peak_lr": 2e-3, "warmup": 20, "decay": "20%", "decay_shape": "1-sqrt", "min_lr": 1e-5},
    },
    "wsd-s": {
        "budget": {"budgets": [60, 120, 240]},
        "schedule": {"kind": "wsd-s", "peak_lr": 1e-3, "warmup": 10, "decay": "10%", "rewarmup": 4, "decay_shape": "cosine"},
    },
    "onecycle": {"budget": {"steps": 150}, "schedule": {"kind": "onecycle", "peak_lr": 1e-2}},
    "onecycle-3phase": {"budget": {"steps": 150}, "schedule": {"kind": "onecycle", "peak_lr": 1e-2, "three_phase": True, "anneal_strategy": "linear"}},
    "power-tokens": {
        "budget": {"tokens": "256K", "batch_size": 8, "seq_len": 128},
        "schedule": {"kind": "power", "warmup": 10, "decay": "10%"},
    },
    "inverse-sqrt-cooldown": {
        "budget": {"steps": 120},
        "schedule": {"kind": "inverse-sqrt", "peak_lr": 1e-3, "warmup": 10, "cooldown": 20, "min_lr": 1e-5},
    },
}


# ---------------------------------------------------------------------------------------------- helpers


def make_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


def make_data(n: int, seed: int = 1) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(16, 4, generator=g), torch.randn(16, 1, generator=g)) for _ in range(n)]


def make_opt(model: torch.nn.Module, lr: float = 0.123, groups: int = 1) -> torch.optim.AdamW:
    if groups == 1:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1)
    first, second = model[0], model[2]
    return torch.optim.AdamW(
        [{"params": first.parameters()}, {"params": second.parameters(), "lr_scale": 0.25}], lr=lr, weight_decay=0.1
    )


def train(model, opt, sched, data) -> list[list[float]]:
    """The standard loop; returns every group's LR as seen by each update (read just before optimizer.step())."""
    seen = []
    for x, y in data:
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        seen.append([g["lr"] for g in opt.param_groups])
        opt.step()
        opt.zero_grad(set_to_none=True)
        sched.step()
    return seen


def roundtrip(obj):
    """torch.save / torch.load(weights_only=True), as a real checkpoint would."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


# ---------------------------------------------------------------------------------------------- exactness


@pytest.mark.parametrize("family", sorted(SPECS))
def test_group_lr_is_the_rendered_lr_at_every_update(family):
    spec = lrplan.load_spec(SPECS[family])
    want = spec.render().lr.tolist()
    n = len(want)
    model = make_model()
    opt = make_opt(model)
    sched = LRPlanScheduler(opt, spec)
    assert isinstance(sched, LRScheduler)
    assert sched.total_steps == n and sched.last_epoch == 0
    assert opt.param_groups[0]["lr"] == want[0]  # the constructor already set update 1's LR (not the 0.123)
    seen = train(model, opt, sched, make_data(n))
    assert [s[0] for s in seen] == want  # ==, the same floats, at every one of the n updates
    assert all(type(s[0]) is float for s in seen)
    assert sched.last_epoch == n and sched.finished
    assert sched.get_last_lr() == [want[-1]]


def test_get_last_lr_follows_the_schedule():
    spec = lrplan.load_spec(SPECS["cosine-warmup"])
    want = spec.render().lr
    model = make_model()
    opt = make_opt(model)
    sched = LRPlanScheduler(opt, spec)
    for s, (x, y) in enumerate(make_data(50)):
        assert sched.get_last_lr() == [want[s]]
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        opt.zero_grad()
        sched.step()
    assert sched.get_last_lr() == [want[50]]


def test_long_run_crosses_render_windows_exactly():
    # > 2 windows of 4096 steps; a bare parameter keeps this fast
    spec = lrplan.load_spec({"budget": {"steps": 9001}, "schedule": {"kind": "cosine", "peak_lr": 1.0, "warmup": 123, "min_lr": 0.01}})
    want = spec.render().lr.tolist()
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.AdamW([p], lr=0.5)
    sched = LRPlanScheduler(opt, spec)
    seen = []
    for _ in range(len(want)):
        p.grad = torch.ones(2)
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == want


@pytest.mark.parametrize("how", ["dict", "path", "Path", "yaml-string", "Spec"])
def test_spec_argument_forms(tmp_path, how):
    import yaml

    d = SPECS["wsd"]
    f = tmp_path / "wsd.yaml"
    f.write_text(yaml.safe_dump(d))
    arg = {"dict": d, "path": str(f), "Path": f, "yaml-string": yaml.safe_dump(d), "Spec": lrplan.load_spec(d)}[how]
    sched = LRPlanScheduler(make_opt(make_model()), arg)
    assert sched.base_lr(150) == lrplan.load_spec(d).render().lr[150]
    assert sched.fingerprint == spec_fingerprint(d)


def test_bad_arguments():
    opt = make_opt(make_model())
    with pytest.raises(TypeError, match="spec must be"):
        LRPlanScheduler(opt, 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a torch.optim.Optimizer"):
        LRPlanScheduler(object(), SPECS["wsd"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="after_end"):
        LRPlanScheduler(opt, SPECS["wsd"], after_end="wrap")  # type: ignore[arg-type]
    with pytest.raises(lrplan.SpecError, match=r"schedule\.warmpu"):
        LRPlanScheduler(opt, {"budget": {"steps": 10}, "schedule": {"kind": "cosine", "peak_lr": 1.0, "warmpu": 1}})


# ---------------------------------------------------------------------------------------------- checkpoint / resume


@pytest.mark.parametrize("family", ["cosine-warmup", "wsd-s", "onecycle", "power-tokens"])
@pytest.mark.parametrize("order", ["optimizer-first", "scheduler-first"])
def test_resume_mid_run_is_identical_to_an_uninterrupted_run(family, order):
    spec = lrplan.load_spec(SPECS[family])
    n = spec.schedule_plan().total_steps
    data = make_data(n)

    model = make_model()
    opt = make_opt(model)
    full = train(model, opt, LRPlanScheduler(opt, spec), data)
    final = [p.detach().clone() for p in model.parameters()]

    for k in (1, n // 3, n - 1):
        model = make_model()
        opt = make_opt(model)
        sched = LRPlanScheduler(opt, spec)
        first = train(model, opt, sched, data[:k])
        ckpt = roundtrip({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()})
        del model, opt, sched

        # a new process: the same code builds everything afresh, with the same spec, then loads the checkpoint
        model2 = make_model(seed=99)
        opt2 = make_opt(model2, lr=9.9)
        sched2 = LRPlanScheduler(opt2, lrplan.load_spec(SPECS[family]))
        model2.load_state_dict(ckpt["model"])
        if order == "optimizer-first":
            opt2.load_state_dict(ckpt["opt"])
            sched2.load_state_dict(ckpt["sched"])
        else:
            sched2.load_state_dict(ckpt["sched"])
            opt2.load_state_dict(ckpt["opt"])
        assert sched2.last_epoch == k
        assert opt2.param_groups[0]["lr"] == full[k][0]
        rest = train(model2, opt2, sched2, data[k:])
        assert first + rest == full, k
        assert all(torch.equal(a, b) for a, b in zip(model2.parameters(), final)), k


def test_resume_from_the_very_end_then_stops():
    spec = lrplan.load_spec(SPECS["wsd"])
    n = spec.schedule_plan().total_steps
    model = make_model()
    opt = make_opt(model)
    sched = LRPlanScheduler(opt, spec)
    train(model, opt, sched, make_data(n))
    state = roundtrip(sched.state_dict())
    opt2 = make_opt(make_model())
    sched2 = LRPlanScheduler(opt2, spec)
    sched2.load_state_dict(state)
    assert sched2.finished and sched2.get_last_lr() == sched.get_last_lr()
    with pytest.raises(ScheduleEndError):
        opt2.step()


def test_state_dict_is_plain_and_small():
    sched = LRPlanScheduler(make_opt(make_model()), SPECS["wsd"], scales=[1.0])
    state = sched.state_dict()
    assert set(state) == {"lrplan_state_format", "last_epoch", "_step_count", "_last_lr", "spec_fingerprint", "total_steps", "scales"}
    assert roundtrip(state) == state  # loadable with weights_only=True: plain Python values only
    assert "spec" not in state and "plan" not in state


def test_refuses_to_resume_with_a_different_spec():
    opt = make_opt(make_model())
    sched = LRPlanScheduler(opt, SPECS["cosine-warmup"])
    for _ in range(5):
        opt.step()
        sched.step()
    state = sched.state_dict()

    other = {**SPECS["cosine-warmup"], "schedule": {**SPECS["cosine-warmup"]["schedule"], "peak_lr": 1e-3}}
    sched2 = LRPlanScheduler(make_opt(make_model()), other)
    with pytest.raises(ScheduleMismatchError, match="different spec") as ei:
        sched2.load_state_dict(state)
    assert isinstance(ei.value, lrplan.LrplanError) and isinstance(ei.value, ValueError)
    assert sched2.last_epoch == 0  # untouched

    longer = {**SPECS["cosine-warmup"], "budget": {"steps": 241}}
    with pytest.raises(ScheduleMismatchError, match="240 steps"):
        LRPlanScheduler(make_opt(make_model()), longer).load_state_dict(state)

    # cosmetic fields do not count: a renamed spec, or one with model facts added, resumes fine
    renamed = {**SPECS["cosine-warmup"], "name": "renamed", "model": {"params": "124M"}}
    sched3 = LRPlanScheduler(make_opt(make_model()), renamed)
    sched3.load_state_dict(state)
    assert sched3.last_epoch == 5

    with pytest.raises(ScheduleMismatchError, match="not an LRPlanScheduler state dict"):
        sched3.load_state_dict(torch.optim.lr_scheduler.LambdaLR(make_opt(make_model()), lambda s: 1.0).state_dict())


def test_refuses_to_resume_with_different_scales():
    model = make_model()
    sched = LRPlanScheduler(make_opt(model, groups=2), SPECS["wsd"], scales=[1.0, 0.5])
    state = sched.state_dict()
    with pytest.raises(ScheduleMismatchError, match="scales"):
        LRPlanScheduler(make_opt(make_model(), groups=2), SPECS["wsd"], scales=[1.0, 0.25]).load_state_dict(state)
    with pytest.raises(ScheduleMismatchError, match="scales"):
        LRPlanScheduler(make_opt(make_model(), groups=2), SPECS["wsd"], scales="lr_scale").load_state_dict(state)


def test_fingerprint():
    a = spec_fingerprint(SPECS["wsd"])
    assert a == spec_fingerprint(lrplan.load_spec(SPECS["wsd"])) and len(a) == 16
    assert a == spec_fingerprint({**SPECS["wsd"], "name": "x"})
    changed = {**SPECS["wsd"], "schedule": {**SPECS["wsd"]["schedule"], "decay_shape": "linear"}}
    assert spec_fingerprint(changed) != a
    # the same schedule written another way (20% of 200 = 40 steps) has another dump, so it counts as different
    assert spec_fingerprint({**SPECS["wsd"], "schedule": {**SPECS["wsd"]["schedule"], "decay": 40}}) != a


# ---------------------------------------------------------------------------------------------- scales


def test_per_group_scales_list():
    spec = lrplan.load_spec(SPECS["cosine-warmup"])
    want = spec.render().lr
    model = make_model()
    opt = make_opt(model, groups=2)
    m_width = 4.0
    sched = LRPlanScheduler(opt, spec, scales=[1.0, 1 / m_width])
    seen = train(model, opt, sched, make_data(len(want)))
    assert [s[0] for s in seen] == want.tolist()
    assert [s[1] for s in seen] == [x * (1 / m_width) for x in want.tolist()]
    assert sched.get_last_lr() == [want[-1], want[-1] / m_width]


def test_per_group_scales_from_a_param_group_key():
    spec = lrplan.load_spec(SPECS["wsd"])
    want = spec.render().lr.tolist()
    model = make_model()
    opt = make_opt(model, groups=2)  # group 1 has lr_scale 0.25, group 0 none (scale 1)
    sched = LRPlanScheduler(opt, spec, scales="lr_scale")
    seen = train(model, opt, sched, make_data(30))
    assert [s[0] for s in seen] == want[:30]
    assert [s[1] for s in seen] == [x * 0.25 for x in want[:30]]
    # a group added later is scaled from its own key, from its very first update on (update 31 = want[30])
    used = []
    opt.register_step_pre_hook(lambda o, a, k: used.append([g["lr"] for g in o.param_groups]))  # after the guard
    extra = torch.nn.Parameter(torch.zeros(3))
    opt.add_param_group({"params": [extra], "lr_scale": 2.0})
    opt.step()
    assert used[-1] == [want[30], want[30] * 0.25, want[30] * 2.0]  # the new group ran at its lr before step()
    sched.step()
    assert sched.get_last_lr() == [want[31], want[31] * 0.25, want[31] * 2.0]
    opt.step()
    assert used[-1] == [want[31], want[31] * 0.25, want[31] * 2.0]


def test_a_group_added_with_fixed_scales_is_refused_at_the_optimizer_step():
    model = make_model()
    opt = make_opt(model, groups=2)
    sched = LRPlanScheduler(opt, SPECS["wsd"], scales=[1.0, 0.5])
    train(model, opt, sched, make_data(3))
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(3))]})
    with pytest.raises(ValueError, match="now has 3 param groups but scales has 2"):
        opt.step()  # not one silent update at the optimizer's own lr


def test_a_group_added_while_another_scheduler_drives_the_lr_is_left_to_it():
    """After a SequentialLR milestone the LR belongs to the next scheduler: adding a group must not make this one's
    optimizer-step hook rewrite the groups (a review found [0.001, 0.1] turned into [0.4, 0.4])."""
    from torch.optim.lr_scheduler import ConstantLR, SequentialLR

    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=0.1)
    spec = {"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": 1.0, "warmup": 10}}
    seq = SequentialLR(opt, [LRPlanScheduler(opt, spec), ConstantLR(opt, factor=0.01, total_iters=1000)], milestones=[5])
    used = []
    opt.register_step_pre_hook(lambda o, a, k: used.append([float(g["lr"]) for g in o.param_groups]))
    for i in range(8):
        if i == 6:
            opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))]})
        opt.step()
        seq.step()
    assert used[:5] == [[0.0], [0.1], [0.2], [0.3], [0.4]]  # the lrplan warmup
    assert used[5:] == [[0.1 * 0.01], [0.1 * 0.01, 0.1], [0.1 * 0.01, 0.1]]  # ConstantLR's, untouched


def test_inside_sequential_lr_resumes_before_and_after_its_milestone():
    """SequentialLR parks the schedulers after the first at last_epoch -1 until their milestone."""
    from torch.optim.lr_scheduler import ConstantLR, SequentialLR

    spec = SPECS["wsd"]

    def build():
        model = make_model()
        opt = make_opt(model)
        seq = SequentialLR(opt, [ConstantLR(opt, 0.5, total_iters=5), LRPlanScheduler(opt, spec)], milestones=[5])
        return model, opt, seq

    data = make_data(20)
    model, opt, seq = build()
    straight = train(model, opt, seq, data)
    for cut in (2, 5, 9):
        model, opt, seq = build()
        first = train(model, opt, seq, data[:cut])
        ckpt = roundtrip({"model": model.state_dict(), "opt": opt.state_dict(), "sched": seq.state_dict()})
        model, opt, seq = build()
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        seq.load_state_dict(ckpt["sched"])
        assert first + train(model, opt, seq, data[cut:]) == straight, cut


def test_bad_scales():
    opt = make_opt(make_model(), groups=2)
    with pytest.raises(ValueError, match="2 param groups"):
        LRPlanScheduler(opt, SPECS["wsd"], scales=[1.0])
    with pytest.raises(ValueError, match="finite"):
        LRPlanScheduler(opt, SPECS["wsd"], scales=[1.0, float("nan")])
    with pytest.raises(ValueError, match="finite"):
        LRPlanScheduler(opt, SPECS["wsd"], scales=[1.0, -1.0])
    opt.param_groups[1]["lr_scale"] = "big"
    with pytest.raises(ValueError, match="lr_scale"):
        LRPlanScheduler(opt, SPECS["wsd"], scales="lr_scale")


# ---------------------------------------------------------------------------------------------- end of budget


def test_error_past_the_end():
    spec = lrplan.load_spec(SPECS["onecycle"])
    n = spec.schedule_plan().total_steps
    model = make_model()
    opt = make_opt(model)
    sched = LRPlanScheduler(opt, spec)
    train(model, opt, sched, make_data(n))  # exactly n updates (and n scheduler steps) are fine
    assert sched.finished
    before = [p.detach().clone() for p in model.parameters()]
    x, y = make_data(1, seed=5)[0]
    torch.nn.functional.mse_loss(model(x), y).backward()
    with pytest.raises(ScheduleEndError, match=f"update {n + 1}.*budget is {n} updates.*after_end='hold'"):
        opt.step()  # refused before it changes anything
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters()))
    with pytest.raises(ScheduleEndError, match="past the end"):
        sched.step()
    assert sched.last_epoch == n  # the failed step() left the position alone
    assert isinstance(ScheduleEndError("x"), lrplan.LrplanError)


def test_hold_keeps_the_last_lr():
    spec = lrplan.load_spec(SPECS["wsd"])
    want = spec.render().lr.tolist()
    n = len(want)
    model = make_model()
    opt = make_opt(model, groups=2)
    sched = LRPlanScheduler(opt, spec, after_end="hold", scales=[1.0, 0.5])
    seen = train(model, opt, sched, make_data(n + 7))
    assert [s[0] for s in seen] == want + [want[-1]] * 7
    assert [s[1] for s in seen] == [x * 0.5 for x in want + [want[-1]] * 7]
    assert sched.last_epoch == n + 7
    # and a hold run resumes past the end too
    sched2 = LRPlanScheduler(make_opt(make_model(), groups=2), spec, after_end="hold", scales=[1.0, 0.5])
    sched2.load_state_dict(roundtrip(sched.state_dict()))
    assert sched2.get_last_lr() == [want[-1], want[-1] * 0.5]


def test_a_new_scheduler_replaces_the_old_guard():
    spec = {"budget": {"steps": 3}, "schedule": {"kind": "constant", "peak_lr": 1.0}}
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    old = LRPlanScheduler(opt, spec)
    for _ in range(3):
        opt.step()
        old.step()
    new = LRPlanScheduler(opt, {"budget": {"steps": 10}, "schedule": {"kind": "constant", "peak_lr": 1.0}})
    opt.step()  # the finished old scheduler no longer blocks the optimizer
    new.step()
    assert new.last_epoch == 1 and old.finished


def test_tensor_lr_is_filled_in_place():
    spec = lrplan.load_spec(SPECS["wsd"])
    want = spec.render().lr
    p = torch.nn.Parameter(torch.zeros(2))
    lr = torch.tensor(0.5, dtype=torch.float64)
    opt = torch.optim.AdamW([p], lr=lr)
    sched = LRPlanScheduler(opt, spec)
    for s in range(25):
        assert opt.param_groups[0]["lr"].item() == want[s]
        p.grad = torch.ones(2)
        opt.step()
        sched.step()
    state = sched.state_dict()
    opt2 = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(2))], lr=torch.tensor(0.5, dtype=torch.float64))
    sched2 = LRPlanScheduler(opt2, spec)
    sched2.load_state_dict(state)
    assert opt2.param_groups[0]["lr"].item() == want[25]


def test_no_rerender_per_step(monkeypatch):
    """O(1) per step: the whole schedule is never rendered; LRs come a window (4096 steps) at a time."""
    from lrplan.torch import WINDOW

    spec = lrplan.load_spec({"budget": {"steps": 3 * WINDOW + 5}, "schedule": {"kind": "wsd", "peak_lr": 1.0, "warmup": 7}})
    want = spec.render().lr
    plan = spec.schedule_plan()
    calls = []
    real_chunks = plan.chunks
    monkeypatch.setattr(plan, "render", lambda: pytest.fail("rendered the whole schedule"))
    monkeypatch.setattr(plan, "chunks", lambda *a, **k: (calls.append(a), real_chunks(*a, **k))[1])
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = LRPlanScheduler(opt, spec)
    for s in range(plan.total_steps):
        assert opt.param_groups[0]["lr"] == want[s]
        opt.step()
        sched.step()
    assert len(calls) == 4  # one per window, plus none per step
    assert all(b - a <= WINDOW for a, b, *_ in calls)
