"""Derive the compact 124M SlimPajama CSVs in this folder from the Schaipp/Hägele wandb JSON dumps.

Run from the repository root (needs the shared copy of fabian-sp/lr-scheduling @ 8ace3a3, MIT):

    python tests/data/curves/schaipp2025_124m/derive.py /work/shared/data/curves/schaipp2025_lr-scheduling

Each output CSV has the header ``step,lr,loss``: ``step`` = the run's ``history.val.iter`` (sorted, duplicates
averaged), ``loss`` = ``val_loss`` (nats/token), ``lr`` = the logged ``train_lr`` linearly interpolated at that step
(informational only; the per-step LR used for fitting is rebuilt by ``lrplan.laws.reference_curves.schaipp_lr``).
WSD cooldown logs (``ann124-*``) start at the cooldown; they are spliced onto the constant-LR base run
(``stable-124m_..._lr0.001_..._iter50000``) for all base steps before the first cooldown step, as
``merge_wsd_base()`` in the source repository's ``reanalysis/data_utils.py`` does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

MID = "_slimpajama_llama_norm_nlayers12_nhead12_lr0.001_sched_"
TAIL = "_bs50x2_ws2_seed0_data_seed1337.json"
BASE = "stable-124m" + MID + "wsd_warmup300_decay_linear_0.0_iter50000" + TAIL

RUNS: dict[str, str] = {
    "constant_50000": BASE,
    "cosine_25000": "cos-zero-124m" + MID + "cos_warmup300_decay_sqrt_0.0_iter25000" + TAIL,
    "cosine_50000": "cos-zero-124m" + MID + "cos_warmup300_decay_sqrt_0.0_iter50000" + TAIL,
    "wsd-linear-0.994_50000": "grad_norm/ann124-0.994" + MID + "wsd_warmup300_decay_linear_0.994_iter50000" + TAIL,
}
for frac in ("0.1", "0.2", "0.4", "0.6", "0.8", "0.9"):
    for T in (15000, 25000, 35000, 50000):
        RUNS[f"wsd-linear-{frac}_{T}"] = f"ann124-{frac}" + MID + f"wsd_warmup300_decay_linear_{frac}_iter{T}" + TAIL
for T in (25000, 50000):
    RUNS[f"wsd-sqrt-0.2_{T}"] = "ann124-0.2" + MID + f"wsd_warmup300_decay_sqrt_0.2_iter{T}" + TAIL


def _series(h: dict, key: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    d: dict[int, list[float]] = {}
    for it, v in zip(h["history"][key]["iter"], h["history"][key][y]):
        d.setdefault(int(it), []).append(float(v))
    its = np.array(sorted(d))
    return its, np.array([np.mean(d[i]) for i in its])


def main(src: Path) -> None:
    out = Path(__file__).parent
    base = json.loads((src / "data" / BASE).read_text())
    b_it, b_loss = _series(base, "val", "val_loss")
    bl_it, bl_lr = _series(base, "train", "train_lr")
    for name, fn in RUNS.items():
        h = json.loads((src / "data" / fn).read_text())
        it, loss = _series(h, "val", "val_loss")
        l_it, l_lr = _series(h, "train", "train_lr")
        if name.startswith("wsd-") and it[0] > 0:
            keep = b_it < it[0]
            it, loss = np.concatenate([b_it[keep], it]), np.concatenate([b_loss[keep], loss])
            k2 = bl_it < l_it[0]
            l_it, l_lr = np.concatenate([bl_it[k2], l_it]), np.concatenate([bl_lr[k2], l_lr])
        lr = np.interp(it, l_it, l_lr)
        rows = ["step,lr,loss"] + [f"{s},{a:.6g},{b:.6f}" for s, a, b in zip(it, lr, loss)]
        (out / f"{name}.csv").write_text("\n".join(rows) + "\n")
        print(name, len(it))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
