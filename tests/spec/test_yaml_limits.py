"""YAML that would take forever or all memory is refused at once: alias bombs anywhere (list fields included),
and long bad values are not echoed whole."""

from __future__ import annotations

import time

import pytest

import lrplan

LEVELS = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
BOMB = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + LEVELS  # 9**9 = 387M values from ~400 bytes


@pytest.mark.parametrize("where", [
    "budget: {budgets: *i}\nschedule: {kind: wsd-s, peak_lr: 1.0e-3}\n",
    "budget: {steps: 1000}\nschedule: {kind: multistep, peak_lr: 1.0e-3, milestones: *i}\n",
    "budget: {steps: 1000}\nschedule: {kind: cosine, peak_lr: 1.0e-3}\nname: *i\n",
])
def test_alias_bomb_is_refused_at_once(where):
    assert len(BOMB) < 450
    t = time.perf_counter()
    with pytest.raises(lrplan.SpecError, match="YAML aliases expand to more than 100,000 values"):
        lrplan.load_spec(BOMB + where)
    assert time.perf_counter() - t < 5


def test_recursive_alias_is_refused():
    with pytest.raises(lrplan.SpecError, match="alias"):
        lrplan.load_spec("x: &x [*x]\nbudget: {steps: 10}\nschedule: {kind: constant, peak_lr: 1.0e-3}\n")


def test_ordinary_aliases_still_work():
    s = lrplan.load_spec("budget: {steps: 100}\nschedule: {kind: cosine, peak_lr: &lr 3.0e-4, min_lr: *lr}\n")
    assert s.render().lr[-1] == pytest.approx(3e-4)


def test_a_long_bad_value_is_not_echoed_whole():
    with pytest.raises(lrplan.SpecError) as e:
        lrplan.load_spec({"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": "x" * 5000}})
    msg = str(e.value)
    assert len(msg) < 400 and "schedule.peak_lr" in msg and " … " in msg


def test_fast_safe_load_gives_yamls_values_and_errors():
    """Law files go through libyaml's parser when PyYAML has it: the same values as ``yaml.safe_load`` (the
    built-in laws, bit for bit), and a bad document raises the pure-Python parser's error."""
    from pathlib import Path

    import yaml

    import lrplan.laws.builtin as builtin
    from lrplan.spec.yamlio import safe_load

    files = sorted(Path(builtin.__file__).parent.glob("*.yaml"))
    assert files
    for f in files:
        text = f.read_text()
        assert repr(safe_load(text)) == repr(yaml.safe_load(text)), f.name
    bad = "law: [multi-power\nparams: {"
    with pytest.raises(yaml.YAMLError) as fast:
        safe_load(bad)
    with pytest.raises(yaml.YAMLError) as slow:
        yaml.safe_load(bad)
    assert str(fast.value) == str(slow.value)
