"""Regenerate the framework-log fixtures in this folder (see README.md for what made each file).

    pip install 'transformers==5.23.0' 'accelerate' 'tensorboard' torch
    python tests/data/logs/frameworks/generate.py

* ``hf/``: a real ``transformers.Trainer`` run (a 1-layer GPT-2 of 30k parameters, random init, no download, on
  a synthetic next-token task, CPU, 40 steps): ``trainer_state.json`` from ``Trainer.save_state()`` and the event
  file its TensorBoard callback (``report_to=["tensorboard"]``) wrote.
* ``megatron_stdout.log``: every line made by the f-strings of Megatron-LM's ``megatron/training/training.py``
  (NVIDIA/Megatron-LM @ d98e8a64ddf34856e74b24714e3bedb2f5a39553: ``training_log`` lines 3567-3641, the
  validation printout of ``evaluate_and_print_results`` lines 5372-5418), with the loss and LR of the
  Multi-Power-Law 25M ``cosine_24000`` curve (MIT; ``../../curves/multipowerlaw``) at those iterations.
* ``megatron_tb/``, ``torchtitan_tb/``: ``torch.utils.tensorboard.SummaryWriter`` event files with the tags and
  steps Megatron-LM (``training_log``: ``learning-rate``, ``lm loss`` at ``iteration``; ``lm loss validation``) and
  TorchTitan (``components/metrics.py``: ``loss_metrics/global_avg_loss``, ``lr/AdamW`` at ``step``) write, values
  from the 25M ``constant_24000`` / ``wsd_20000_24000`` curves.
* ``wandb_export.csv``: the columns a W&B run-history CSV export has when HF's ``WandbCallback`` logged the run
  (``_step``, ``_runtime``, ``_timestamp``, ``train/global_step``, ``train/loss``, ``train/learning_rate``,
  ``eval/loss``), one row per ``wandb.log`` call, from the real ``trainer_state.json`` above.
* ``bad/``: a TensorBoard file without loss/LR tags (``grad_norm``, ``throughput``) and a JSON that is not HF's.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
CURVES = HERE.parents[2] / "data" / "curves" / "multipowerlaw" / "loss_curve_repo" / "csv_25"


def curve(name: str) -> tuple[list[int], list[float], list[float]]:
    with open(CURVES / f"{name}.csv") as f:
        rows = list(csv.DictReader(f))
    return [int(r["step"]) for r in rows], [float(r["lr"]) for r in rows], [float(r["loss"]) for r in rows]


def hf_run() -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    torch.manual_seed(0)
    vocab, seq = 32, 32

    class Data(torch.utils.data.Dataset):
        def __init__(self, n: int, seed: int):
            g = torch.Generator().manual_seed(seed)
            start = torch.randint(0, vocab, (n, 1), generator=g)
            stride = torch.randint(1, 4, (n, 1), generator=g)
            self.x = (start + stride * torch.arange(seq)) % vocab  # learnable: arithmetic progressions

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return {"input_ids": self.x[i], "labels": self.x[i]}

    model = GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_positions=seq, n_embd=32, n_layer=1, n_head=2))
    out = Path(tempfile.mkdtemp())
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(out / "runs")
    args = TrainingArguments(output_dir=str(out), max_steps=40, per_device_train_batch_size=16, learning_rate=3e-3,
                             warmup_steps=4, lr_scheduler_type="cosine", logging_steps=2, eval_strategy="steps",
                             eval_steps=4, per_device_eval_batch_size=64, save_strategy="no", report_to=["tensorboard"],
                             use_cpu=True, seed=0, dataloader_num_workers=0,
                             disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=Data(2048, 1), eval_dataset=Data(128, 2))
    trainer.train()
    trainer.save_state()
    dest = HERE / "hf"
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "runs").mkdir(parents=True)
    shutil.copy(out / "trainer_state.json", dest / "trainer_state.json")
    for ev in sorted((out / "runs").rglob("events.out.tfevents.*")):
        shutil.copy(ev, dest / "runs" / ev.name)
    shutil.rmtree(out)
    wandb_export(json.loads((dest / "trainer_state.json").read_text())["log_history"])


def wandb_export(history: list[dict]) -> None:
    """One row per ``wandb.log`` call of HF's WandbCallback.on_log (``rewrite_logs``: ``train/``/``eval/`` prefixes;
    it adds ``train/global_step``); ``_step`` is W&B's own counter."""
    cols = ["_step", "_runtime", "_timestamp", "train/global_step", "train/epoch", "train/loss",
            "train/learning_rate", "train/grad_norm", "eval/loss"]
    with open(HERE / "wandb_export.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for i, h in enumerate(h for h in history if "train_runtime" not in h):
            row = {"_step": i, "_runtime": 1.0 + i, "_timestamp": 1.7e9 + i, "train/global_step": h["step"],
                   "train/epoch": h.get("epoch", "")}
            if "loss" in h:
                row.update({"train/loss": h["loss"], "train/learning_rate": h["learning_rate"],
                            "train/grad_norm": h.get("grad_norm", "")})
            if "eval_loss" in h:
                row["eval/loss"] = h["eval_loss"]
            w.writerow([row.get(c, "") for c in cols])


def megatron_stdout() -> None:
    """Lines from Megatron-LM's training.py f-strings (commit above), log_interval=128, eval every 1024."""
    import numpy as np

    steps, lrs, losses = curve("cosine_24000")
    train_iters, gbs, k = 24000, 512, 128  # hypothetical run settings; log_interval k, eval_interval 1024
    lines = []
    for it in range(k, train_iters + 1, k):
        # the printed lm loss is the mean over updates it-k+1..it (lrplan step it-2-(k-1)//2), the printed
        # learning rate the next update's (lrplan row it), the validation loss after it updates (step it-1)
        s = it - 2 - (k - 1) // 2
        if s < steps[0]:
            continue
        loss = float(np.interp(s, steps, losses))
        learning_rate = float(np.interp(it, steps, lrs))
        log_string = f" [{datetime(2026, 1, 1).strftime('%Y-%m-%d %H:%M:%S.%f')}]"
        log_string += ' iteration {:8d}/{:8d} |'.format(it, train_iters)
        log_string += ' consumed samples: {:12d} |'.format(it * gbs)
        log_string += ' elapsed time per iteration (ms): {:.1f} |'.format(812.4)
        log_string += f' learning rate: {learning_rate:.6E} |'
        log_string += f' global batch size: {gbs:5d} |'
        log_string += ' {}: {:.6E} |'.format('lm loss', loss)
        log_string += f' loss scale: {1.0:.1f} |'
        log_string += f' grad norm: {0.25:.3f} |'
        log_string += ' number of skipped iterations: {:3d} |'.format(0)
        log_string += ' number of nan iterations: {:3d} |'.format(0)
        lines.append(log_string)
        if it % 1024 == 0:
            prefix = f'iteration {it}'
            string = f' validation loss at {prefix} | '
            v = float(np.interp(it - 1, steps, losses)) - 0.01
            string += '{} value: {:.6E} | '.format('lm loss', v)
            string += '{} PPL: {:.6E} | '.format('lm loss', math.exp(min(20, v)))
            length = len(string) + 1
            lines += ['-' * length, string, '-' * length]
    (HERE / "megatron_stdout.log").write_text("\n".join(lines) + "\n")


def tensorboard_files() -> None:
    from torch.utils.tensorboard import SummaryWriter

    def write(dirname: str, name: str, tags: dict[str, tuple[str, int]]) -> None:
        d = HERE / dirname
        shutil.rmtree(d, ignore_errors=True)
        steps, lrs, losses = curve(name)
        w = SummaryWriter(str(d), filename_suffix=".fixture")
        for s, lr, loss in zip(steps, lrs, losses):
            for tag, (what, shift) in tags.items():
                w.add_scalar(tag, {"lr": lr, "loss": loss, "val": loss - 0.01}[what], s + shift)
        w.close()

    # Megatron: lm loss at iteration N is update N's (lrplan step N-2), learning-rate the next update's (row N),
    # lm loss validation after N updates (step N-1): write each curve point at the iteration that maps to it.
    write("megatron_tb", "wsd_20000_24000", {"learning-rate": ("lr", 0), "lm loss": ("loss", 2)})
    # TorchTitan: loss of update N (step N-2), lr/AdamW read before update N's scheduler step (row N-1).
    write("torchtitan_tb", "constant_24000", {"lr/AdamW": ("lr", 1), "loss_metrics/global_avg_loss": ("loss", 2)})
    bad = HERE / "bad"
    shutil.rmtree(bad, ignore_errors=True)
    w = SummaryWriter(str(bad / "tb_no_loss"), filename_suffix=".fixture")
    for s in range(1, 11):
        w.add_scalar("grad_norm", 1.0 / s, s)
        w.add_scalar("throughput", 100.0 + s, s)
    w.close()
    (bad / "not_hf.json").write_text(json.dumps({"best_metric": None, "epoch": 1.0}) + "\n")


if __name__ == "__main__":
    megatron_stdout()
    tensorboard_files()
    hf_run()
