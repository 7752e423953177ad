"""Derive the compact CSVs of selection set v2 (``benchmarks/law_selection.py --broad``) from the Schaipp/Hägele
wandb JSON dumps. Run from the repository root (needs the shared copy of fabian-sp/lr-scheduling @ 8ace3a3, MIT):

    python tests/data/curves/schaipp2025_more/derive.py /work/shared/data/curves/schaipp2025_lr-scheduling

Same format and rules as ``../schaipp2025_124m/derive.py`` (``step,lr,loss``; ``loss`` = ``val_loss`` sorted by
iter, duplicates averaged; cooldown/extension logs spliced onto their base run for the steps before their first
logged step; a log that starts after the base run's constant phase (the 209M 200k extension starts at step 80050)
is spliced onto the 100k extension of the same model first, whose LR is constant until 80000). Every rebuilt
per-step LR (``lrplan.laws.reference_curves.schaipp_lr`` from the file name) is checked against the logged
``train_lr``; a mismatch aborts.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT))
from lrplan.laws.reference_curves import schaipp_lr, schaipp_spec  # noqa: E402

TAIL = "_bs50x2_ws2_seed0_data_seed1337.json"


def _sibling_series() -> Any:
    """``_series`` of ``../schaipp2025_124m/derive.py`` (one reader of the wandb histories for both folders)."""
    path = Path(__file__).resolve().parents[1] / "schaipp2025_124m" / "derive.py"
    spec = importlib.util.spec_from_file_location("schaipp2025_124m_derive", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod._series


_series = _sibling_series()


def _runs_124m(data: Path, lr: str) -> tuple[str, dict[str, str]]:
    mid = f"_slimpajama_llama_norm_nlayers12_nhead12_lr{lr}_sched_"
    base = "stable-124m" + mid + "wsd_warmup300_decay_linear_0.0_iter50000" + TAIL
    runs = {"constant_50000": base}
    for T in (25000, 50000):
        runs[f"cosine_{T}"] = "cos-zero-124m" + mid + f"cos_warmup300_decay_sqrt_0.0_iter{T}" + TAIL
    pat = re.compile(r"ann124-([0-9.]+)" + re.escape(mid) + r"wsd_warmup300_decay_(linear|sqrt)_([0-9.]+)_iter(\d+)"
                     + re.escape(TAIL))
    for p in sorted(data.glob("ann124-*")) + sorted(data.glob("grad_norm/ann124-*")):
        m = pat.fullmatch(p.name)
        if m:
            runs.setdefault(f"wsd-{m.group(2)}-{m.group(1)}_{m.group(4)}", str(p.relative_to(data)))
    for k, fn in list(runs.items()):  # the 3e-3 constant and cosine runs are only in grad_norm/
        if not (data / fn).exists() and (data / "grad_norm" / fn).exists():
            runs[k] = "grad_norm/" + fn
    return runs["constant_50000"], runs


def _runs_horizon(n_layer: int) -> tuple[str, dict[str, str]]:
    mid = f"slimpajama_chunk1_llama_norm_nlayers{n_layer}_nhead12_lr0.001_sched_"
    base = "horizon_transfer/" + mid + "wsd_warmup300_decay_linear_0.2_iter50000" + TAIL
    runs = {"wsd-linear-0.2_50000": base}
    ext = "horizon_transfer/extend-50k_" + mid
    for frac, T in ((0.2, 100000), (0.2, 200000), (0.6, 100000)):
        runs[f"wsd-linear-{frac}_{T}"] = ext + f"wsd_warmup300_decay_linear_{frac}_iter{T}" + TAIL
    for factor, T in ((0.525, 100000), (0.375, 200000)):
        runs[f"twostage-{factor}-linear-0.2_{T}"] = ext + f"wsd_twostage_warmup300_decay_linear_0.2_iter{T}" + TAIL
    return base, runs


def write_spliced(out: Path, folder: str, name: str, h: dict, bases: list, spec: dict, peak: float) -> None:
    """``out/name.csv`` of one run: its val loss and logged LR, spliced onto each of ``bases`` in turn for the steps
    before its first log (until one starts at step 0), cut at ``T``; aborts if the LR rebuilt from ``spec`` deviates
    from the logged ``train_lr`` (also used by ``../schaipp2025_sizes/derive.py``)."""
    spec = dict(spec)
    T = spec["T"]
    it, loss = _series(h, "val", "val_loss")
    l_it, l_lr = _series(h, "train", "train_lr")
    for base in bases:
        if it[0] == 0:
            break
        b_it, b_loss = _series(base, "val", "val_loss")
        bl_it, bl_lr = _series(base, "train", "train_lr")
        keep, k2 = b_it < it[0], bl_it < l_it[0]
        it, loss = np.concatenate([b_it[keep], it]), np.concatenate([b_loss[keep], loss])
        l_it, l_lr = np.concatenate([bl_it[k2], l_it]), np.concatenate([bl_lr[k2], l_lr])
    keep = it < T
    it, loss = it[keep], loss[keep]
    rebuilt = schaipp_lr(spec.pop("kind"), spec.pop("T"), peak=peak, **spec)
    lk = l_it < T
    dev = np.abs(rebuilt[l_it[lk]] - l_lr[lk]).max() / peak
    if dev > 1e-12:
        raise SystemExit(f"{folder}/{name}: rebuilt LR deviates from train_lr by {dev:.3g} x peak")
    lr = np.interp(it, l_it, l_lr)
    rows = ["step,lr,loss"] + [f"{s},{a:.6g},{b:.6f}" for s, a, b in zip(it, lr, loss)]
    (out / f"{name}.csv").write_text("\n".join(rows) + "\n")
    print(folder, name, len(it), f"lr dev {dev:.1e}")


def main(src: Path) -> None:
    data = src / "data"
    out_root = Path(__file__).parent
    sets = {"124m_lr0.0005": (0.0005, *_runs_124m(data, "0.0005")),
            "124m_lr0.002": (0.002, *_runs_124m(data, "0.002")),
            "124m_lr0.0001": (0.0001, *_runs_124m(data, "0.0001")),
            "124m_lr0.003": (0.003, *_runs_124m(data, "0.003")),
            "horizon_124m": (0.001, *_runs_horizon(12)),
            "horizon_209m": (0.001, *_runs_horizon(24))}
    for folder, (peak, base_fn, runs) in sets.items():
        out = out_root / folder
        out.mkdir(exist_ok=True)
        bases = [json.loads((data / base_fn).read_text())]
        if folder.startswith("horizon"):  # constant until 80000: fills a log that starts later (see docstring)
            bases.insert(0, json.loads((data / runs["wsd-linear-0.2_100000"]).read_text()))
        for name, fn in runs.items():
            if not (data / fn).exists():  # 3e-3 has no 25k cosine
                continue
            h = json.loads((data / fn).read_text())
            spec = schaipp_spec(name)
            if h["config"].get("wsd_twostage_factor") is not None and "twostage" in spec:
                assert h["config"]["wsd_twostage_factor"] == spec["twostage"], (fn, spec)
            write_spliced(out, folder, name, h, [] if fn == base_fn else bases, spec, peak)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
