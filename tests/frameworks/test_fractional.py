"""Warmups that end between two updates (Megatron's ``--lr-warmup-fraction``) and the real configs that have them.

* ``warmup: "3.2 steps"`` (or ``"97460937.4 samples"``): the warmup piece holds the updates before 3.2, the decay
  starts at 3.2 as Megatron's ``get_lr`` does; ``cosine``/``linear`` take a ``tail`` at min_lr (Megatron's
  ``--lr-decay-iters`` < ``--train-iters``). Other kinds refuse a fractional warmup, in one line.
* NVIDIA/Megatron-LM ``examples/gptoss/02_train.sh`` and ``examples/academic_paper_scripts/sc21`` (figure 11), with
  the scripts' defaults (``tests/data/real_configs/megatron/``, each file naming repo@commit:path): each imports as
  one cosine with a fractional warmup (three phases, not one per update), exactly: compared with the Megatron
  simulator at every update, in chunks; exported back, it is the original arguments.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrplan.cli import app
from lrplan.errors import LrplanError
from lrplan.frameworks.exactness import CHUNK
from lrplan.frameworks.export import export
from lrplan.frameworks.megatron import simulator as megatron
from lrplan.frameworks.megatron.importer import import_megatron
from lrplan.spec.loading import load_spec

CONFIGS = Path(__file__).resolve().parents[1] / "data" / "real_configs" / "megatron"
runner = CliRunner()


def script_args(name: str) -> tuple[str, list[str]]:
    """``(source line, the arguments pretrain_gpt.py receives)`` of a trimmed launch script."""
    text = (CONFIGS / name).read_text()
    source = next(ln for ln in text.splitlines() if ln.startswith("# source: "))
    cmd = " ".join(ln for ln in text.splitlines() if not ln.startswith("#")).replace("\\\n", " ").replace("\\", " ")
    toks = shlex.split(cmd)
    return source, toks[toks.index("pretrain_gpt.py") + 1:]


def _chunked_exact(cfg: dict, spec) -> int:
    """Every update of the run, spec against Megatron's simulator, a chunk at a time; returns the updates."""
    plan = spec.schedule_plan()
    n = megatron.train_iters(cfg)
    assert plan.total_steps == n
    for ch in plan.chunks(size=CHUNK):
        got = megatron.lr_at(cfg, ch.step)
        bad = np.flatnonzero(~(np.abs(got - ch.lr) <= 1e-12 * np.abs(ch.lr)))
        assert bad.size == 0, f"update {ch.step[bad[0]] + 1}: megatron {got[bad[0]]!r}, spec {ch.lr[bad[0]]!r}"
    return n


@pytest.mark.parametrize("name,updates,warmup", [
    ("mlm_gptoss_02_train.sh", 15_258_789, "97460937.4 samples"),
    ("mlm_sc21_run_figure_11.sh", 500, "3.2 steps"),
])
def test_real_fractional_warmups_import_as_a_cosine(name, updates, warmup):
    source, args = script_args(name)
    assert source.startswith("# source: NVIDIA/Megatron-LM@d98e8a64ddf34856e74b24714e3bedb2f5a39553:examples/")
    assert "--lr-warmup-fraction" in args
    imp = import_megatron(args)
    sch = imp.spec["schedule"]
    assert imp.exact and sch["kind"] == "cosine" and sch["warmup"] == warmup
    spec = load_spec(imp.yaml)  # the printed YAML
    assert [s.phase for s in spec.schedule_plan().segments] == ["warmup", "decay", "tail"]
    assert _chunked_exact(imp.config, spec) == updates
    back = export(spec, "megatron")  # and back: the script's own schedule arguments
    assert back.exact
    assert back.native["lr_warmup_fraction"] == imp.config["lr_warmup_fraction"]
    for k in ("lr", "min_lr", "lr_decay_style", "global_batch_size"):
        assert back.native[k] == imp.config[k]


def test_cli_imports_the_gptoss_script(tmp_path):
    _, args = script_args("mlm_gptoss_02_train.sh")
    out = tmp_path / "g.yaml"
    res = runner.invoke(app, ["import", "megatron", "-o", str(out), "--", *args])
    assert res.exit_code == 0, res.stderr
    s = load_spec(out)
    assert s.schedule.kind == "cosine" and s.schedule_plan().total_steps == 15_258_789
    assert "phases" not in out.read_text()


def test_fractional_warmup_semantics():
    """Update s is in the warmup when s < 3.2 (Megatron: s * gbs <= 25.6 samples); the decay's progress is
    (s - 3.2) / (320 - 3.2); from update 320 on, min_lr."""
    s = load_spec({"budget": {"steps": 500, "batch_size": 8},
                   "schedule": {"kind": "cosine", "peak_lr": 1e-4, "min_lr": 1e-5, "warmup": "3.2 steps", "tail": 180}})
    segs = s.schedule_plan().segments
    assert [(g.phase, g.start, g.end) for g in segs] == [("warmup", 0, 4), ("decay", 4, 320), ("tail", 320, 500)]
    lr = s.render().lr
    np.testing.assert_allclose(lr[:4], 1e-4 * np.arange(4) / 3.2, rtol=1e-15)
    z = (np.arange(4, 320) - 3.2) / (320 - 3.2)
    np.testing.assert_allclose(lr[4:320], 1e-5 + 0.5 * (1 + np.cos(np.pi * z)) * 9e-5, rtol=1e-13)
    assert (lr[320:] == 1e-5).all()
    cfg = {"lr": 1e-4, "min_lr": 1e-5, "train_iters": 500, "lr_decay_iters": 320, "global_batch_size": 8,
           "lr_decay_style": "cosine", "lr_warmup_fraction": 0.01}
    np.testing.assert_allclose(megatron.simulate(cfg), lr, rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind,extra", [("linear", {}), ("constant", {}), ("wsd", {"decay": 100}),
                                        ("wsdc", {"decay": 100, "tail": 10})])
def test_fractional_warmup_families_match_megatron(kind, extra):
    s = load_spec({"budget": {"steps": 1000, "batch_size": 16},
                   "schedule": {"kind": kind, "peak_lr": 1e-3, "warmup": "10.25 steps", **extra}})
    e = export(s, "megatron")
    assert e.exact, e.differences
    assert "lr_warmup_fraction" in e.native and "lr_warmup_iters" not in e.native


def test_fractional_warmup_refusals():
    with pytest.raises(LrplanError, match="may end between two updates for kind constant, linear, cosine, wsd, wsdc only"):
        load_spec({"budget": {"steps": 100}, "schedule": {"kind": "rex", "peak_lr": 1e-3, "warmup": "3.5 steps"}})
    with pytest.raises(LrplanError, match="must be whole"):  # a bare fraction is still a step count that must be whole
        load_spec({"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": 1e-3, "warmup": 3.5}})
    with pytest.raises(LrplanError, match="not a whole number"):  # other lengths stay whole
        load_spec({"budget": {"steps": 100}, "schedule": {"kind": "wsd", "peak_lr": 1e-3, "decay": "3.5 steps"}})
    with pytest.raises(LrplanError, match="leaves no decay"):
        load_spec({"budget": {"steps": 100}, "schedule": {"kind": "cosine", "peak_lr": 1e-3, "warmup": 50, "tail": 50}})


def test_whole_warmups_are_unchanged():
    """A whole warmup builds the same segments as before (integer starts and lengths: bit-identical LRs)."""
    s = load_spec({"budget": {"steps": 1000}, "schedule": {"kind": "cosine", "peak_lr": 1e-3, "warmup": "100 steps"}})
    segs = s.schedule_plan().segments
    assert [(g.start, g.end) for g in segs] == [(0, 100), (100, 1000)]
    steps = np.arange(1000)
    z = (steps[100:] - 100).astype(np.float64) / 900.0
    np.testing.assert_array_equal(s.render().lr[100:], 0.0 + 0.5 * (np.cos(np.pi * z) + 1.0) * (1e-3 - 0.0))
