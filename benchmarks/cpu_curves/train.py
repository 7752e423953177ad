"""Train a tiny byte-level GPT on CPU under a schedule that `lrplan render` wrote: fresh loss curves made here.

Every curve set shipped in `tests/data/curves/` had been used to choose or calibrate something by the end of
2026-12-03 (`benchmarks/LAW_SELECTION_16.md`). These runs are new data for a held-out check (Part 10 there).

    python benchmarks/cpu_curves/train.py SCHEDULE.csv NAME OUT.csv [--steps N]

SCHEDULE.csv is `lrplan render SPEC -o SCHEDULE.csv` (columns step,lr, one row per optimizer update, step 0 first):
update t uses the LR of row t, as torch's schedulers do when stepped after each update. OUT.csv has the format and
step convention of `tests/data/curves/lrplan_gpt19m_code` (`run,step,lr,train_loss,val_loss`; `val_loss` of row s
after s updates, `lr` and `train_loss` of update s). Same model init, same data
order and the same evaluation batches in every run (seeds fixed); one thread, deterministic algorithms, so a rerun
gives the same numbers.

Corpus: the `*.py` files of this Python's standard library (no site-packages, no tests), sorted by path and
concatenated as bytes; the first 95 % trains, the last 5 % evaluates. The script prints the corpus's size and
SHA-256 so a rerun elsewhere can tell whether it trains on the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

CTX = 64
BATCH = 16
D_MODEL = 64
N_LAYER = 2
N_HEAD = 4
EVAL_EVERY = 50
EVAL_BATCHES = 32
WEIGHT_DECAY = 0.1
BETAS = (0.9, 0.95)


def corpus() -> bytes:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.rglob("*.py")
                   if "site-packages" not in p.parts and not any(part in ("test", "tests", "idle_test")
                                                                 for part in p.parts))
    return b"".join(p.read_bytes() for p in files)


class Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, N_HEAD, batch_first=True, bias=False)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, d: int = D_MODEL, layers: int = N_LAYER) -> None:
        super().__init__()
        self.tok = nn.Embedding(256, d)
        self.pos = nn.Embedding(CTX, d)
        self.blocks = nn.ModuleList(Block(d) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, 256, bias=False)
        self.register_buffer("mask", torch.triu(torch.full((CTX, CTX), float("-inf")), diagonal=1))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x = b(x, self.mask)
        return self.head(self.ln(x))


def batches(data: np.ndarray, starts: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    idx = starts[:, None] + np.arange(CTX + 1)[None, :]
    chunk = torch.from_numpy(data[idx].astype(np.int64))
    return chunk[:, :-1], chunk[:, 1:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("schedule")
    ap.add_argument("name")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=None, help="stop after this many updates (default: the schedule's)")
    ap.add_argument("--dense-from", type=int, default=None,
                    help="also evaluate every --dense-every updates from this many updates on (a probe's cooldown)")
    ap.add_argument("--dense-every", type=int, default=10)
    ap.add_argument("--d-model", type=int, default=D_MODEL, help=f"model width (default {D_MODEL}, Part 10's)")
    ap.add_argument("--layers", type=int, default=N_LAYER, help=f"transformer blocks (default {N_LAYER})")
    ap.add_argument("--init-seed", type=int, default=0, help="model init seed (default 0)")
    ap.add_argument("--data-seed", type=int, default=1337, help="data order seed (default 1337)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    with open(a.schedule) as fh:
        lrs = np.array([float(r["lr"]) for r in csv.DictReader(fh)])  # `lrplan render` or evaluate.py --probe-lr
    steps = a.steps or lrs.size
    raw = corpus()
    data = np.frombuffer(raw, dtype=np.uint8)
    cut = int(0.95 * data.size)
    train, held = data[:cut], data[cut:]
    print(f"corpus {data.size:,} bytes sha256 {hashlib.sha256(raw).hexdigest()[:16]}; {steps:,} updates",
          file=sys.stderr)
    rng = np.random.default_rng(a.data_seed)  # the data order: the same in every run
    order = rng.integers(0, train.size - CTX - 1, size=(max(steps, 1), BATCH))
    eval_starts = np.random.default_rng(7).integers(0, held.size - CTX - 1, size=(EVAL_BATCHES, BATCH))
    torch.manual_seed(a.init_seed)
    model = TinyGPT(a.d_model, a.layers)
    print(f"model: d {a.d_model}, {a.layers} layers, {sum(p.numel() for p in model.parameters()):,} parameters",
          file=sys.stderr)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "pos" not in n and "tok" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "pos" not in n and "tok" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": rest, "weight_decay": 0.0}],
                            lr=float(lrs[0]), betas=BETAS)
    loss_fn = nn.CrossEntropyLoss()

    def evaluate() -> float:
        model.eval()
        with torch.no_grad():
            tot = 0.0
            for s in eval_starts:
                x, y = batches(held, s)
                tot += float(loss_fn(model(x).reshape(-1, 256), y.reshape(-1)))
        model.train()
        return tot / len(eval_starts)

    val = np.full(steps + 1, np.nan)  # val[s]: after s updates
    tl = np.full(steps + 1, np.nan)  # tl[s]: the training loss of update s
    val[0] = evaluate()
    t0 = time.perf_counter()
    for t in range(steps):
        for g in opt.param_groups:
            g["lr"] = float(lrs[t])
        x, y = batches(train, order[t])
        loss = loss_fn(model(x).reshape(-1, 256), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tl[t] = float(loss.detach())
        dense = a.dense_from is not None and t + 1 >= a.dense_from and (t + 1 - a.dense_from) % a.dense_every == 0
        if (t + 1) % EVAL_EVERY == 0 or t + 1 == steps or dense:
            val[t + 1] = evaluate()
            if not math.isfinite(val[t + 1]):
                raise SystemExit(f"{a.name}: eval loss {val[t + 1]} after {t + 1} updates")
    tmp = Path(a.out + ".tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["run", "step", "lr", "train_loss", "val_loss"])  # the 19M set's format and step convention
        for k in range(steps + 1):
            lr = f"{lrs[k]:.6e}" if k < steps else "nan"
            w.writerow([a.name, k, lr, "nan" if np.isnan(tl[k]) else f"{tl[k]:.5f}",
                        "nan" if np.isnan(val[k]) else f"{val[k]:.5f}"])
    tmp.replace(a.out)
    print(f"{a.name}: {steps:,} updates in {time.perf_counter() - t0:.0f} s, final val {val[steps]:.4f}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
