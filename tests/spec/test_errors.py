"""Bad specs: one line each naming file:line, the field path, the value and what was expected; exit 2."""

import pytest
from typer.testing import CliRunner

import lrplan
from lrplan.cli import app

runner = CliRunner()

CASES = {
    "min_above_peak": ("schedule:\n  kind: wsd\n  peak_lr: 3e-4\n  min_lr: 1e-3\n", "x.yaml:6: schedule.min_lr: min_lr (0.001) is above peak_lr (0.0003)"),
    "unknown_kind": ("schedule:\n  kind: csine\n  peak_lr: 3e-4\n", "x.yaml:4: schedule.kind: unknown schedule kind 'csine'; did you mean 'cosine'?"),
    "too_long": ("schedule:\n  kind: wsd\n  peak_lr: 3e-4\n  warmup: 600\n  decay: 500\n", "x.yaml:7: schedule.decay: warmup (600 steps) + decay (500 steps) = 1100 steps is longer than the budget (1000 steps)"),
    "bad_shape": ("schedule:\n  kind: wsd\n  peak_lr: 3e-4\n  decay_shape: 1-sqr\n", "x.yaml:6: schedule.decay_shape: '1-sqr' is not one of: linear, cosine, 1-sqrt"),
    "nan": ("schedule:\n  kind: wsd\n  peak_lr: .nan\n", "x.yaml:5: schedule.peak_lr: Input should be a finite number"),
    "negative": ("schedule:\n  kind: cosine\n  peak_lr: -1e-3\n", "x.yaml:5: schedule.peak_lr: Input should be greater than 0 (got '-1e-3')"),
    "typo": ("schedule:\n  kind: wsd\n  peak_lr: 1e-3\n  warmpu: 10\n", "x.yaml:6: schedule.warmpu: unknown field 'warmpu'; did you mean 'warmup'?"),
    "duplicate": ("schedule:\n  kind: wsd\n  peak_lr: 1e-3\n  peak_lr: 2e-3\n", "x.yaml:6: invalid YAML: duplicate key 'peak_lr' (first at line 5)"),
    "missing": ("schedule:\n  kind: wsd\n  warmup: 10\n", "x.yaml:3: schedule.peak_lr: missing required field 'peak_lr'"),
    "fraction_steps": ("schedule:\n  kind: wsd\n  peak_lr: 1e-3\n  warmup: 0.1\n", "x.yaml:6: schedule.warmup: a bare number is a step count and must be whole (got 0.1); for a fraction of the budget write '10%'"),
    "both_min": ("schedule:\n  kind: cosine\n  peak_lr: 1e-3\n  min_lr: 0\n  min_lr_ratio: 0.1\n", "x.yaml:7: schedule.min_lr_ratio: give min_lr or min_lr_ratio, not both"),
    "tokens_no_tps": ("schedule:\n  kind: wsd\n  peak_lr: 1e-3\n  warmup: 1B tokens\n", "x.yaml:6: schedule.warmup: 1000000000 tokens needs tokens per step"),
    "warmup_too_long": ("schedule:\n  kind: cosine\n  peak_lr: 1e-3\n  warmup: 1000\n", "x.yaml:6: schedule.warmup: warmup (1000 steps) must be shorter than the budget (1000 steps)"),
    "syntax": ("schedule: [1, 2\n", "x.yaml:4: invalid YAML"),
    "geometric_from_zero": ("schedule:\n  kind: phases\n  phases:\n    - {length: 50, shape: geometric, from: 0, to: 1.0e-3}\n    - {shape: constant}\n",
                            "x.yaml:6: schedule.phases[0].from: phase 1 (geometric) moves multiplicatively and needs a positive start LR, got 0;"),
    "geometric_after_zero": ("schedule:\n  kind: phases\n  phases:\n    - {length: 50, shape: linear, from: 1.0e-3, to: 0}\n    - {shape: inverse-proportional, to: 1.0e-4}\n",
                             "x.yaml:7: schedule.phases[1].from: phase 2 (inverse-proportional) moves multiplicatively and needs a positive start LR, got 0 (the previous phase ends at 0)"),
    "geometric_zero": ("schedule:\n  kind: wsd\n  peak_lr: 1e-3\n  decay_shape: geometric\n", "x.yaml:6: schedule.decay_shape: 'geometric' decays towards the final LR multiplicatively and needs min_lr > 0"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_spec_one_line_exit_2(tmp_path, name, monkeypatch):
    body, want = CASES[name]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.yaml").write_text("budget:\n  steps: 1000\n" + body)
    res = runner.invoke(app, ["render", "x.yaml", "-o", "out.csv"])
    assert res.exit_code == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: " + want), lines[0]
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert not (tmp_path / "out.csv").exists() and list(tmp_path.iterdir()) == [tmp_path / "x.yaml"]


@pytest.mark.parametrize(
    "budget,want",
    [
        ({"steps": 0}, "budget.steps: must be positive (got 0)"),
        ({"steps": 10, "tokens": 100}, "give exactly one of tokens, steps or budgets (got tokens, steps)"),
        ({"budgets": [100, 50]}, "budget.budgets[1]: budgets must strictly increase"),
        ({"steps": 10, "batch_size": 2, "seq_len": 4, "tokens_per_step": 9}, "tokens_per_step (9) != batch_size x seq_len (8)"),
        ({"tokens": "1B"}, "budget.tokens: a token budget needs tokens per step"),
    ],
)
def test_budget_errors_from_dict(budget, want):
    with pytest.raises(lrplan.SpecError) as e:
        lrplan.load_spec({"budget": budget, "schedule": {"kind": "constant", "peak_lr": 1.0}})
    assert want in str(e.value)


def test_unreadable_and_non_utf8(tmp_path):
    res = runner.invoke(app, ["check", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and "cannot read spec" in res.stderr
    (tmp_path / "b.yaml").write_bytes(b"\xff\xfe\x00")
    res = runner.invoke(app, ["check", str(tmp_path / "b.yaml")])
    assert res.exit_code == 2 and "not UTF-8" in res.stderr


def test_several_problems_reported_at_once(tmp_path):
    (tmp_path / "x.yaml").write_text("budget:\n  steps: 0\nschedule:\n  kind: cosine\n  peak_lr: -1\n")
    res = runner.invoke(app, ["check", str(tmp_path / "x.yaml")])
    assert res.exit_code == 2
    assert [line.split(": ")[2] for line in res.stderr.splitlines()] == ["budget.steps", "schedule.peak_lr"]


def test_failed_render_keeps_existing_file(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("previous")
    (tmp_path / "x.yaml").write_text("budget: {steps: 10}\nschedule: {kind: cosine, peak_lr: 0}\n")
    res = runner.invoke(app, ["render", str(tmp_path / "x.yaml"), "-o", str(out)])
    assert res.exit_code == 2 and out.read_text() == "previous"


def test_spec_error_from_dict_has_no_file():
    with pytest.raises(lrplan.SpecError) as e:
        lrplan.load_spec({"budget": {"steps": 10}, "schedule": {"kind": "wsd", "peak_lr": 1.0, "decay": 20}})
    assert str(e.value).startswith("<spec>: schedule.decay: warmup (0 steps) + decay (20 steps)")


@pytest.mark.parametrize(
    "text,value,unit",
    [("512 tokens", 512, "tokens"), ("7tokens", 7, "tokens"), ("1B tokens", 10**9, "tokens"), ("100Btokens", 10**11, "tokens"),
     ("2k", 2000, "steps"), ("2k steps", 2000, "steps"), ("1.5M samples", 1_500_000, "samples"), ("2.5%", 2.5, "percent"), (300, 300, "steps")],
)
def test_length_forms(text, value, unit):
    from lrplan.spec.units import parse_length

    got = parse_length(text)
    assert (got.value, got.unit) == (value, unit)


@pytest.mark.parametrize("key,want", [
    ("warmup_steps", "unknown field 'warmup_steps' (TorchTitan/HF's name); in lrplan write schedule.warmup: 2000"),
    ("decay_ratio", "unknown field 'decay_ratio' (TorchTitan's name); in lrplan write schedule.decay: '20%'"),
    ("lr", "unknown field 'lr' (Megatron/TorchTitan's name); in lrplan write schedule.peak_lr: 3.0e-4"),
    ("max_lr", "in lrplan write schedule.peak_lr"),
    ("warmup_ratio", "(HF's name); in lrplan write schedule.warmup: '5%'"),
    ("lr_min", "schedule.min_lr_ratio: 0.1 (TorchTitan's lr_min is a fraction of lr)"),
    ("train_iters", "(Megatron's name); in lrplan write budget: {steps: N}"),
    ("max_steps", "(HF's name); in lrplan write budget: {steps: N}"),
    ("num_decay_steps", "in lrplan write schedule.decay: 2000"),
    ("lr_decay_samples", "(Megatron's name)"),
    ("warmup_tokens", "in lrplan write schedule.warmup: '1B tokens'"),
    ("micro_batch_size", "lrplan needs the global batch only"),
    ("cooldown_steps", "in lrplan write schedule.decay"),
])
def test_framework_keys_say_how_lrplan_writes_them(key, want):
    """Keys users bring from Megatron, TorchTitan and HF get the lrplan spelling, not a near-miss suggestion
    (``warmup_steps`` used to suggest ``warmup_shape``, ``decay_ratio`` ``decay_shape``, ``lr`` nothing)."""
    with pytest.raises(lrplan.SpecError) as e:
        lrplan.load_spec({"budget": {"steps": 1000}, "schedule": {"kind": "wsd", "peak_lr": 1e-3, key: 1}})
    assert f"schedule.{key}: " in str(e.value) and want in str(e.value)
    assert "did you mean" not in str(e.value)


def test_a_union_field_reports_the_real_problem_not_the_other_branch():
    """``grad_norms`` is a file name or a list: a list with a bad value says which value, without the misleading
    'Input should be a valid string' of the other branch."""
    with pytest.raises(lrplan.SpecError) as e:
        lrplan.load_spec({"budget": {"steps": 100}, "schedule": {"kind": "refined", "peak_lr": 1e-3, "grad_norms": [1, -1]}})
    assert str(e.value) == "<spec>: schedule.grad_norms[1]: Input should be greater than 0 (got -1)"
