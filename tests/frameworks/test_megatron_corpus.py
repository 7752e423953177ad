"""The Megatron entries of the real-config corpus (tests/data/real_configs, issue 18): each imports exactly (the
spec renders what the simulator runs, at every update: ``Imported.exact``, lrplan.frameworks.exactness) or is
refused with one line; the export of an imported spec runs identically in Megatron (simulate both and compare at
every update) and keeps the user's style (warmup fraction / iters / samples, cosine with a min-LR tail)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import yaml

from lrplan import load_spec
from lrplan.errors import LrplanError
from lrplan.frameworks.export import export
from lrplan.frameworks.megatron import simulator
from lrplan.frameworks.megatron.export import prepare
from lrplan.frameworks.megatron.importer import import_megatron

DATA = Path(__file__).resolve().parents[1] / "data" / "real_configs"
ENTRIES = [e for e in json.loads((DATA / "index.json").read_text()) if e["framework"] == "megatron"]


def corpus_argv(path: Path) -> list[str]:
    """The argv a corpus file hands Megatron (tests/data/real_configs/README.md)."""
    if path.suffix == ".sh":
        lines = [ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#")]
        words = shlex.split("\n".join(lines).replace("\\\n", " "))
        return words[next(i for i, w in enumerate(words) if w.endswith(".py")) + 1:]
    root = yaml.compose(path.read_text())
    for k, v in root.value:
        if k.value == "MODEL_ARGS":
            out: list[str] = []
            for kk, vv in v.value:
                key, val = kk.value, " ".join(vv.value.split())
                if val == "true":
                    out.append(key)
                elif re.fullmatch(r"\[[^]]+\]", val):
                    out += [key] + val[1:-1].split()
                else:
                    out += [key, val]
            return out
    raise AssertionError(path)


# id -> (outcome, the refusal's words | the spec's kind, the export's style keys, round trip exact)
REFUSED = {
    "mlm_gpt3_175b_distributed": "Megatron refuses --step-batch-size-schedule together with --global-batch-size",
}
# runs that stop inside their decay or warmup (--lr-decay-iters/-samples above the run): a family with a horizon,
# exported back as --lr-decay-iters/-samples = the horizon
HORIZON = {"mlm_ft_gpt3_15b_8t_release": "cosine", "mlm_ft_gpt3_15b_8t_release_sm": "cosine",
           "mlm_ft_gpt3_resume_torch_dist_dist_optimizer": "cosine", "mlm_ft_nemotron3_5_lightning_nightly": "cosine",
           "mlm_ft_nemotron3_super_release_gb200": "wsd", "mlm_ft_t5_11b_mcore_tp4_pp1": "linear"}
# --lr-warmup-fraction 0.01 of a 320000-iteration horizon is 3200 iterations, 32x the 100-iteration run: a spec
# percentage is of the budget (at most 100%), so the warmup comes back as --lr-warmup-iters 3200
WARMUP_AS_ITERS = {"mlm_ft_gpt3_resume_torch_dist_dist_optimizer"}


def test_the_corpus_has_21_megatron_entries():
    assert len(ENTRIES) == 21


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_corpus_entry(entry):
    argv = corpus_argv(DATA / entry["file"])
    if entry["id"] in REFUSED:
        with pytest.raises(LrplanError) as err:
            import_megatron(argv)
        assert REFUSED[entry["id"]] in str(err.value) and "\n" not in str(err.value)
        return
    imp = import_megatron(argv)
    assert imp.exact
    assert imp.spec["schedule"]["kind"] != "phases"
    if entry["id"] in HORIZON:
        assert imp.spec["schedule"]["kind"] == HORIZON[entry["id"]] and "horizon" in imp.spec["schedule"]
    else:
        assert "horizon" not in imp.spec["schedule"]
    src = imp.config
    e = export(load_spec(imp.yaml), "megatron")
    assert e.exact and not isinstance(e.native, list)
    back = prepare(e.native)
    a, b = simulator.simulate(src), simulator.simulate(back)
    assert a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=0)
    # the user's style
    assert back["lr_decay_style"] == src.get("lr_decay_style", "linear")
    for k in ("lr_decay_iters", "lr_decay_samples"):
        if entry["id"] in HORIZON and src.get(k):
            assert back[k] == src[k], k
    warmup_keys = ("lr_warmup_fraction", "lr_warmup_iters", "lr_warmup_samples")
    for k in ("train_iters", "train_samples") + (() if entry["id"] in WARMUP_AS_ITERS else warmup_keys):
        if src.get(k):
            assert k in back, k
    if entry["id"] in WARMUP_AS_ITERS:
        assert back["lr_warmup_iters"] == 3200 and "lr_warmup_fraction" not in back
    elif src.get("lr_warmup_fraction") is not None:
        assert back["lr_warmup_fraction"] == src["lr_warmup_fraction"]


EXPECTED_WARNINGS = {
    "mlm_sc21_run_figure_11": "decay ends at iteration 320; the last 180 of 500 updates run at min_lr",
    "mlm_mixtral_8x7b_distributed": "decay ends at iteration 320000; the last 180000 of 500000 updates run at min_lr",
    "mlm_mamba_train": "the last 1562 of 2288818 updates run at min_lr",
}


@pytest.mark.parametrize("eid, words", sorted(EXPECTED_WARNINGS.items()))
def test_decay_shorter_than_the_run_is_warned(eid, words):
    entry = next(e for e in ENTRIES if e["id"] == eid)
    assert any(words in w for w in import_megatron(corpus_argv(DATA / entry["file"])).warnings)


def test_language_model_tokens_per_sample():
    seq = {e["id"]: import_megatron(corpus_argv(DATA / e["file"])).spec["budget"].get("seq_len")
           for e in ENTRIES if e["id"] in ("mlm_multimodal_pretrain_mistral_clip", "mlm_nvlm_sft_34b_internvit",
                                           "mlm_t5_220m_distributed")}
    assert seq == {"mlm_multimodal_pretrain_mistral_clip": 1024, "mlm_nvlm_sft_34b_internvit": 3200,
                   "mlm_t5_220m_distributed": 512}


def test_decoupled_lr_is_a_second_param_group():
    entry = next(e for e in ENTRIES if e["id"] == "mlm_llama3_8b_h100_fp8")
    imp = import_megatron(corpus_argv(DATA / entry["file"]))
    note = next(n for n in imp.notes if n.startswith("--decoupled-lr"))
    assert "kind: cosine" in note and "peak_lr: 0.0005" in note and "min_lr: 4.5e-05" in note


def test_multi_value_flags_take_their_arity():
    imp = import_megatron(["--spec", "megatron.core.models.mamba", "mamba_stack_spec", "--data-path", "0.7", "/a", "0.3", "/b", "--lr", "1e-3", "--train-iters", "100", "--global-batch-size", "8", "--bf16", "--lr-decay-style", "cosine"])
    assert imp.exact and imp.spec["schedule"]["kind"] == "cosine"


def test_o_after_double_dash_is_one_line():
    with pytest.raises(LrplanError, match="-o after -- is passed to Megatron"):
        import_megatron(["--lr", "1e-3", "--train-iters", "10", "-o", "x.yaml"])
