"""Framework logs (issue 17 point 1): format detection from the content, each reader's step convention, and the
one-line errors.  Fixtures: tests/data/logs/frameworks (real files from transformers.Trainer / SummaryWriter and
Megatron-LM's training.py f-strings; see its README and generate.py)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from lrplan.errors import LrplanError
from lrplan.laws.logformats import map_points, read_any, sniff

FW = Path(__file__).resolve().parents[1] / "data" / "logs" / "frameworks"
HF = FW / "hf" / "trainer_state.json"
MEG = FW / "megatron_stdout.log"
WANDB = FW / "wandb_export.csv"
CSV = FW.parent / "mpl25m_runs.csv"
tb = pytest.importorskip  # TensorBoard tests skip without the optional extra


def test_detection_from_content_not_name(tmp_path):
    for src, fmt in [(HF, "hf"), (MEG, "megatron"), (WANDB, "wandb"), (CSV, "csv"),
                     (next((FW / "megatron_tb").iterdir()), "tensorboard")]:
        assert sniff(src.read_bytes()) == fmt
        renamed = tmp_path / f"x_{fmt}.dat"
        shutil.copy(src, renamed)
        assert sniff(renamed.read_bytes()) == fmt


def test_map_points_conventions():
    pts = [(10, 1.0), (20, 2.0)]
    assert map_points("eval", pts)[0] == [(9, 1.0), (19, 2.0)]  # after N updates -> step N-1
    assert map_points("train", pts)[0] == [(8, 1.0), (18, 2.0)]  # update N's loss (after N-1 updates) -> N-2
    assert map_points("window", pts)[0] == [(4, 1.0), (14, 2.0)]  # mean of updates N-9..N: centre, N-2-(k-1)//2
    assert map_points("window", [(1, 1.0), (2, 2.0)]) == ([(0, 2.0)], 1)  # update 1's loss lands before step 0
    assert map_points("lr_next", pts)[0] == [(10, 1.0), (20, 2.0)]  # LR of update N+1 -> row N
    assert map_points("lr_this", pts)[0] == [(9, 1.0), (19, 2.0)]  # LR of update N -> row N-1


def test_hf_trainer_state_mapping():
    (c,) = read_any(HF, max_points=None)
    hist = json.loads(HF.read_text())["log_history"]
    ev = [(h["step"], h["eval_loss"]) for h in hist if "eval_loss" in h]
    assert len(ev) >= 5 and c.lr_source == "column:learning_rate"
    assert c.steps.tolist() == [s - 1 for s, _ in ev]  # eval_loss at global_step G: after G updates
    assert np.allclose(c.loss, [v for _, v in ev])
    # learning_rate at step G is update G's LR (transformers 5.23 trainer.py reads it before lr_scheduler.step())
    tr = [(h["step"], h["learning_rate"]) for h in hist if "learning_rate" in h]
    for g, lr in tr:
        assert c.lr[g - 1] == pytest.approx(lr)
    # the fixture's cosine with 4 warmup steps: update 1 has LR 3e-3 * 0/4, logged at step 2 is update 2's 3e-3/4
    assert tr[0] == (2, pytest.approx(3e-3 / 4))
    assert any("eval_loss" in n for n in c.notes)


def test_hf_train_loss_when_asked():
    (c,) = read_any(HF, max_points=None, loss_key="loss", lr_key="learning_rate")
    hist = json.loads(HF.read_text())["log_history"]
    tr = [h["step"] for h in hist if "loss" in h]  # logging_steps=2: the mean of updates G-1, G -> step G-2
    assert c.steps.tolist() == [g - 2 for g in tr][1:]  # step 0 (LR area 0: update 1's LR is 0) is dropped
    assert any("before the first non-zero LR" in n for n in c.notes)


def test_megatron_stdout():
    (c,) = read_any(MEG, max_points=None)
    lines = MEG.read_text().splitlines()
    vals = [ln for ln in lines if "validation loss at iteration" in ln]
    its = [int(ln.split("iteration ")[1].split()[0]) for ln in vals]
    assert c.steps.tolist() == [n - 1 for n in its]
    assert c.loss[0] == pytest.approx(float(vals[0].split("lm loss value: ")[1].split(" |")[0]))
    first = next(ln for ln in lines if " iteration " in ln)
    n = int(first.split("iteration")[1].split("/")[0])
    lr = float(first.split("learning rate: ")[1].split(" |")[0])
    assert c.lr[n] == pytest.approx(lr)  # printed after N scheduler steps: update N+1's LR, row N
    (t,) = read_any(MEG, max_points=None, loss_key="lm loss", lr_key="learning rate")
    assert t.steps[0] == n - 2 - 127 // 2  # log_interval 128: mean of updates N-127..N


def test_wandb_export_matches_hf():
    (w,) = read_any(WANDB, max_points=None)
    (h,) = read_any(HF, max_points=None)
    assert w.steps.tolist() == h.steps.tolist() and np.allclose(w.loss, h.loss)
    assert np.allclose(w.lr, h.lr)


def test_wandb_chart_export(tmp_path):
    f = tmp_path / "chart.csv"
    rows = ["Step,a - train/loss,a - train/loss__MIN,b - train/loss"]
    rows += [f"{s},{3 - s / 100},{3 - s / 100},{3.1 - s / 100}" for s in range(10, 110, 10)]
    f.write_text("\n".join(rows) + "\n")
    with pytest.raises(LrplanError, match="no LR series"):
        read_any(f)


def test_directory_one_curve_per_log(tmp_path):
    d = tmp_path / "runs"
    (d / "out" / "checkpoint-20").mkdir(parents=True)
    hist = json.loads(HF.read_text())
    early = dict(hist, log_history=[h for h in hist["log_history"] if h["step"] <= 20])
    (d / "out" / "checkpoint-20" / "trainer_state.json").write_text(json.dumps(early))
    (d / "out" / "checkpoint-40").mkdir()
    shutil.copy(HF, d / "out" / "checkpoint-40" / "trainer_state.json")
    shutil.copy(MEG, d / "meg.log")
    (d / "notes.txt").write_text("not a log\n")
    curves = read_any(d, max_points=None)
    names = [c.name for c in curves]
    assert names == ["meg.log", os.path.join("out", "checkpoint-40", "trainer_state.json")]
    assert [c.name for c in read_any(d, max_points=None)] == names  # deterministic


@pytest.mark.parametrize("sub,loss,shift", [("megatron_tb", "lm loss", 2), ("torchtitan_tb",
                                            "loss_metrics/global_avg_loss", 2)])
def test_tensorboard_megatron_torchtitan(sub, loss, shift):
    tb("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (c,) = read_any(FW / sub, max_points=None)
    acc = EventAccumulator(str(FW / sub))
    acc.Reload()
    ev = acc.Scalars(loss)
    assert c.steps.tolist() == [e.step - shift for e in ev]
    lr_tag = "learning-rate" if sub == "megatron_tb" else "lr/AdamW"
    lr_shift = 0 if sub == "megatron_tb" else 1
    for e in acc.Scalars(lr_tag)[:5]:
        assert c.lr[e.step - lr_shift] == pytest.approx(e.value)


def test_tensorboard_hf_events():
    tb("tensorboard")
    (c,) = read_any(FW / "hf" / "runs", max_points=None)
    (h,) = read_any(HF, max_points=None)
    assert c.steps.tolist() == h.steps.tolist() and np.allclose(c.loss, h.loss, rtol=1e-6)
    assert np.allclose(c.lr, h.lr, rtol=1e-6)


def test_tensorboard_missing_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.setitem(sys.modules, "tensorboard.backend.event_processing.event_accumulator", None)
    with pytest.raises(LrplanError, match=r"needs the tensorboard package: pip install 'lrplan\[tensorboard\]'"):
        read_any(FW / "megatron_tb")


def test_bad_inputs(tmp_path):
    tb("tensorboard")
    with pytest.raises(LrplanError, match="TensorBoard events with tags: grad_norm, throughput.*--loss-col"):
        read_any(FW / "bad" / "tb_no_loss")
    with pytest.raises(LrplanError, match=r"not_hf.json: not a log format.*JSON with keys: best_metric.*--format"):
        read_any(FW / "bad" / "not_hf.json")
    noloss = tmp_path / "trainer_state.json"
    noloss.write_text(json.dumps({"log_history": [{"step": 2, "learning_rate": 1e-3, "grad_norm": 1.0}]}))
    with pytest.raises(LrplanError, match="no loss series.*grad_norm, learning_rate"):
        read_any(noloss)
    nolr = tmp_path / "nolr.json"
    nolr.write_text(json.dumps({"log_history": [{"step": s, "eval_loss": 3.0 - s / 100} for s in range(1, 9)]}))
    with pytest.raises(LrplanError, match="no LR series.*--schedule"):
        read_any(nolr)
    with pytest.raises(LrplanError, match="not a TensorBoard event file"):
        read_any(HF, fmt="tensorboard")
    with pytest.raises(LrplanError, match="no Megatron-LM"):
        read_any(HF, fmt="megatron")
    with pytest.raises(LrplanError, match="no log lrplan can read"):
        read_any(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else None)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_fifo_and_device_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(LrplanError, match="FIFO"):
        read_any(fifo)
    with pytest.raises(LrplanError, match="device"):
        read_any("/dev/zero", fmt="tensorboard")
