"""The public Python API: lrplan.load_spec (path, dict, YAML string), Spec.render() arrays, lrplan.SpecError,
and a light ``import lrplan`` (no numpy, no torch)."""

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import lrplan

COSINE_YAML = textwrap.dedent(
    """\
    name: cosine-demo
    budget:
      steps: 1000
      batch_size: 8
      seq_len: 512
    schedule:
      kind: cosine
      peak_lr: 3.0e-4
      min_lr: 3.0e-5
      warmup: 10%
    """
)
COSINE_DICT = {
    "name": "cosine-demo",
    "budget": {"steps": 1000, "batch_size": 8, "seq_len": 512},
    "schedule": {"kind": "cosine", "peak_lr": 3.0e-4, "min_lr": 3.0e-5, "warmup": "10%"},
}


def _cosine(s, peak=3.0e-4, low=3.0e-5, w=100, n=1000):
    if s < w:
        return peak * s / w
    return low + (peak - low) * 0.5 * (1.0 + math.cos(math.pi * (s - w) / (n - w)))


# ---------------------------------------------------------------------------------------------- loading


def test_public_names():
    for name in ("load_spec", "Spec", "Rendered", "SpecError", "LrplanError", "__version__"):
        assert name in lrplan.__all__
        assert getattr(lrplan, name) is not None
    assert issubclass(lrplan.SpecError, lrplan.LrplanError)
    assert lrplan.load_spec.__doc__ and lrplan.Spec.render.__doc__ and lrplan.SpecError.__doc__
    with pytest.raises(AttributeError):
        lrplan.no_such_name  # noqa: B018


@pytest.mark.parametrize("how", ["str-path", "Path", "dict", "yaml-string"])
def test_load_spec_from_path_dict_and_yaml_string(tmp_path, how):
    f = tmp_path / "cosine.yaml"
    f.write_text(COSINE_YAML)
    source = {"str-path": str(f), "Path": f, "dict": COSINE_DICT, "yaml-string": COSINE_YAML}[how]
    spec = lrplan.load_spec(source)
    assert isinstance(spec, lrplan.Spec)
    assert spec.name == "cosine-demo"
    assert spec.schedule.kind == "cosine"
    assert spec.schedule_plan().total_steps == 1000
    assert spec.source == {"str-path": str(f), "Path": str(f), "dict": None, "yaml-string": "<string>"}[how]
    # every way of giving the spec means the same spec and the same LRs
    ref = lrplan.load_spec(COSINE_DICT)
    assert spec.model_dump() == ref.model_dump()
    assert np.array_equal(spec.render().lr, ref.render().lr)


def test_one_line_yaml_string_is_yaml_not_a_path():
    spec = lrplan.load_spec("{budget: {steps: 10}, schedule: {kind: cosine, peak_lr: 1.0, warmup: 2}}")
    assert spec.render().lr[:3].tolist() == [0.0, 0.5, 1.0]


def test_spec_is_frozen():
    spec = lrplan.load_spec(COSINE_DICT)
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="frozen"):
        spec.schedule.peak_lr = 1.0  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------- render


def test_render_arrays_cosine_with_warmup():
    r = lrplan.load_spec(COSINE_DICT).render()
    assert isinstance(r, lrplan.Rendered)
    assert len(r) == r.step.size == r.lr.size == r.tokens.size == 1000
    assert r.step.dtype == np.int64 and r.tokens.dtype == np.int64 and r.lr.dtype == np.float64
    assert r.step.tolist() == list(range(1000))  # row s is the (s+1)-th update
    assert np.array_equal(r.tokens, np.arange(1000) * 8 * 512)  # tokens consumed before the update
    for s in (0, 1, 50, 99, 100, 101, 550, 777, 999):
        assert r.lr[s] == pytest.approx(_cosine(s), rel=1e-13, abs=1e-18), s
    assert r.lr[0] == 0.0
    assert r.lr[100] == 3.0e-4  # the peak, exactly, at the first post-warmup update
    assert r.lr[550] == pytest.approx((3.0e-4 + 3.0e-5) / 2, rel=1e-13)  # half way down the cosine
    assert [(p.name, p.start, p.end) for p in r.phases] == [("warmup", 0, 100), ("decay", 100, 1000)]


def test_render_arrays_wsd():
    spec = lrplan.load_spec(
        {"budget": {"steps": 200}, "schedule": {"kind": "wsd", "peak_lr": 1e-3, "warmup": 20, "decay": "20%", "min_lr": 1e-4}}
    )
    r = spec.render()
    assert r.tokens is None  # no tokens per step in this budget
    assert len(r) == 200 and r.lr.dtype == np.float64
    peak, low = 1e-3, 1e-4
    assert r.lr[0] == 0.0
    assert r.lr[10] == pytest.approx(peak * 10 / 20, rel=1e-15)
    assert r.lr[20] == r.lr[100] == r.lr[159] == peak  # stable [20, 160)
    for s in (160, 170, 180, 199):  # linear decay over the last 40 steps: low + (peak-low)(1 - (s-160)/40)
        assert r.lr[s] == pytest.approx(low + (peak - low) * (1 - (s - 160) / 40), rel=1e-14), s
    assert [p.name for p in r.phases] == ["warmup", "stable", "decay"]


def test_render_matches_plan_lr_at():
    plan = lrplan.load_spec(COSINE_DICT).schedule_plan()
    steps = np.array([999, 0, 100, 42])
    assert plan.lr_at(steps).tolist() == plan.render().lr[steps].tolist()


# ---------------------------------------------------------------------------------------------- SpecError

BAD_DICTS = {
    "unknown field": ({"schedule": {"kind": "cosine", "peak_lr": 1e-3, "warmpu": 10}}, "schedule.warmpu", "unknown field 'warmpu'"),
    "bad value": ({"schedule": {"kind": "cosine", "peak_lr": -1.0}}, "schedule.peak_lr", "greater than 0"),
    "unknown kind": ({"schedule": {"kind": "cosin", "peak_lr": 1e-3}}, "schedule.kind", "did you mean 'cosine'"),
    "too long": ({"schedule": {"kind": "wsd", "peak_lr": 1e-3, "warmup": 60, "decay": 50}}, "schedule.decay", "longer than the budget"),
    "list index": ({"schedule": {"kind": "multistep", "peak_lr": 1e-3, "milestones": [10, "x"]}}, "schedule.milestones[1]", ""),
    "missing": ({"schedule": {"kind": "cosine"}}, "schedule.peak_lr", "missing required field 'peak_lr'"),
}


@pytest.mark.parametrize("case", sorted(BAD_DICTS))
def test_spec_error_from_dict_names_the_field(case):
    body, field, words = BAD_DICTS[case]
    with pytest.raises(lrplan.SpecError) as ei:
        lrplan.load_spec({"budget": {"steps": 100}, **body})
    err = ei.value
    assert isinstance(err, lrplan.LrplanError)
    msg = str(err)
    assert msg.startswith(f"<spec>: {field}: "), msg
    assert words in msg
    assert [p.dotted() for p in err.problems][0] == field


def test_spec_error_lists_every_problem_one_line_each():
    with pytest.raises(lrplan.SpecError) as ei:
        lrplan.load_spec({"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": -1.0, "warmpu": 3}})
    lines = str(ei.value).splitlines()
    assert len(lines) == len(ei.value.problems) == 2
    assert {ln.split(":")[1].strip() for ln in lines} == {"schedule.peak_lr", "schedule.warmpu"}


@pytest.mark.parametrize(
    "body, line, field",
    [
        ("schedule:\n  kind: cosine\n  peak_lr: 1e-3\n  warmpu: 10\n", 6, "schedule.warmpu"),  # pydantic stage
        ("schedule:\n  kind: cosine\n  peak_lr: 1e-3\n  warmup: 100\n", 6, "schedule.warmup"),  # build stage
        ("schedule:\n  kind: cosin\n  peak_lr: 1e-3\n", 4, "schedule.kind"),  # precheck stage
    ],
)
def test_spec_error_from_file_has_file_line_and_matches_the_cli(tmp_path, monkeypatch, body, line, field):
    f = tmp_path / "bad.yaml"
    f.write_text("budget:\n  steps: 100\n" + body)
    for source in (str(f), f):
        with pytest.raises(lrplan.SpecError) as ei:
            lrplan.load_spec(source)
        assert str(ei.value).startswith(f"{f}:{line}: {field}: "), str(ei.value)
        assert ei.value.source == str(f)
        assert ei.value.problems[0].line == line
    # the CLI prints the same message: "error: " + each line of str(err), exit status 2
    from lrplan.cli import app

    monkeypatch.chdir(tmp_path)
    with pytest.raises(lrplan.SpecError) as ei:
        lrplan.load_spec("bad.yaml")
    res = CliRunner().invoke(app, ["check", "bad.yaml"])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == ["error: " + ln for ln in str(ei.value).splitlines()]


def test_spec_error_from_yaml_string_and_unreadable_file(tmp_path):
    with pytest.raises(lrplan.SpecError, match=r"^<string>:4: schedule\.warmpu: unknown field"):
        lrplan.load_spec("budget:\n  steps: 10\nschedule:\n  warmpu: 1\n  kind: cosine\n  peak_lr: 1.0\n")
    with pytest.raises(lrplan.SpecError, match=r"^<string>:\d+: invalid YAML"):
        lrplan.load_spec("budget: [1,\n")
    missing = tmp_path / "nope.yaml"
    with pytest.raises(lrplan.SpecError, match=rf"^{missing}: cannot read spec"):
        lrplan.load_spec(missing)
    for one_line in (str(tmp_path) + "/", str(tmp_path / "spec.txt")):  # were parsed as YAML text: "not a mapping"
        with pytest.raises(lrplan.SpecError, match=rf"^{one_line}: cannot read spec"):
            lrplan.load_spec(one_line)
    with pytest.raises(lrplan.SpecError, match=r"^<string>:1: a spec is a mapping .*\(got list\)"):
        lrplan.load_spec("[1, 2]")  # one-line YAML collections stay YAML
    with pytest.raises(lrplan.SpecError, match=r"^<string>:1: budget: missing required field"):
        lrplan.load_spec("{}")


def test_specs_pickle_and_copies_rebuild_their_plan():
    import pickle

    spec = lrplan.load_spec(COSINE_DICT)
    lr = spec.render().lr  # the cached plan holds closures: pickling it failed
    back = pickle.loads(pickle.dumps(spec))
    assert back.model_dump() == spec.model_dump() and np.array_equal(back.render().lr, lr)
    longer = spec.model_copy(update={"budget": spec.budget.model_copy(update={"steps": 2000})})
    assert longer.schedule_plan().total_steps == 2000 and longer.render().lr.size == 2000  # was the stale 1000


def test_export_and_convention_take_what_load_spec_takes(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(COSINE_YAML)
    want = lrplan.convention(lrplan.load_spec(COSINE_DICT), "hf")
    for form in (COSINE_DICT, str(path), path, COSINE_YAML):
        assert np.array_equal(lrplan.convention(form, "hf"), want)
        assert lrplan.export(form, "megatron").exact


def test_spec_error_for_non_mapping_yaml():
    with pytest.raises(lrplan.SpecError, match="a spec is a mapping"):
        lrplan.load_spec("- 1\n- 2\n")


# ---------------------------------------------------------------------------------------------- import cost


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent.parent)


def test_import_lrplan_imports_neither_numpy_nor_torch():
    res = _run(
        "import sys, lrplan\n"
        "heavy = [m for m in ('numpy', 'torch', 'pydantic', 'scipy', 'yaml') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "lrplan.SpecError, lrplan.LrplanError\n"  # the exception types are light too
        "assert 'numpy' not in sys.modules and 'torch' not in sys.modules\n"
        "lrplan.load_spec({'budget': {'steps': 10}, 'schedule': {'kind': 'cosine', 'peak_lr': 1.0}}).render()\n"
        "assert 'torch' not in sys.modules  # using the API never pulls torch in\n"
        "print('ok')\n"
    )
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


def test_lrplan_torch_without_torch_says_how_to_install():
    res = _run(
        "import sys\n"
        "sys.modules['torch'] = None  # as if torch were not installed\n"
        "import lrplan\n"
        "lrplan.load_spec({'budget': {'steps': 10}, 'schedule': {'kind': 'cosine', 'peak_lr': 1.0}}).render()\n"
        "try:\n"
        "    import lrplan.torch\n"
        "except ImportError as e:\n"
        "    print(e)\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    assert res.returncode == 0, res.stderr
    assert "pip install lrplan[torch]" in res.stdout


def test_plan_errors_name_the_spec_file_and_line(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text("budget: {budgets: [1000, 100000]}\nschedule: {kind: wsd, peak_lr: 1.0e-3, warmup: 2000, decay: 10%}\n")
    with pytest.raises(lrplan.SpecError, match=rf"^{p}:2: schedule.decay: warmup \(2000 steps\) \+ decay"):
        lrplan.plan(p)  # said '<spec>: ...' (as the CLI, which already named the file)
