"""Per-step LR arrays of published reference runs and loaders for their loss curves (numpy only).

* Multi-Power-Law runs (Luo et al., arXiv 2503.12811; data: thu-yao-01-luo/MultiPowerLaw, MIT): Llama-2
  25M/100M/400M, peak 3e-4, final 3e-5, linear warmup 0 -> 3e-4 over steps 0..2159 (``np.linspace``), 0.5M
  tokens/step.  ``mpl_lr(name)`` rebuilds the schedule of each CSV name from the definitions in
  ``tests/data/curves/multipowerlaw/README.md``.
* Schaipp/Hägele SlimPajama runs (arXiv 2501.18965; data: fabian-sp/lr-scheduling, MIT), 124M at peak 5e-4,
  1e-3, 2e-3 and the 124M/209M horizon-transfer runs: ``schaipp_lr`` reproduces the Hägele et al. (arXiv
  2405.18392) WSD schedule (linear warmup from 1 % of peak over 300 steps; linear or 1-sqrt cooldown to 0; the
  two-stage variant) and the torch ``OneCycleLR`` cosine (cosine warmup from 1 %).

Step convention: ``lr[s]`` is the LR used by update ``s + 1``; arrays have length ``T`` (steps ``0..T-1``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.laws.fitted import Curve

MPL_PEAK = 3e-4
MPL_FINAL = 3e-5
MPL_WARMUP = 2160
MPL_SIZES: tuple[str, ...] = ("25", "100", "400")
MPL_TRAIN: tuple[str, ...] = ("constant_24000", "cosine_24000", "wsdcon_9")
MPL_TEST: tuple[str, ...] = ("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000",
                             "wsdcon_3", "wsdcon_18")
MPL_TOKENS_PER_STEP = 128 * 4096


def mpl_lr(name: str, length: int | None = None, peak: float = MPL_PEAK, final: float = MPL_FINAL,
           warmup: int = MPL_WARMUP) -> np.ndarray:
    """Per-step LR of an MPL reference schedule (``constant_T``, ``cosine_T``, ``wsd_D_T``, ``wsdld_D_T``,
    ``wsdcon_X`` = 3e-4 until step 8000 then X*1e-5 until 16000).  ``length`` defaults to the schedule's T.
    """
    m_wsdcon = re.fullmatch(r"wsdcon_(\d+)", name)
    m_const = re.fullmatch(r"constant_(\d+)", name)
    m_cos = re.fullmatch(r"cosine_(\d+)", name)
    m_wsd = re.fullmatch(r"(wsd|wsdld)_(\d+)_(\d+)", name)
    if m_wsdcon:
        T = 16000
    elif m_const or m_cos:
        T = int((m_const or m_cos).group(1))  # type: ignore[union-attr]
    elif m_wsd:
        T = int(m_wsd.group(3))
    else:
        raise ValueError(f"unknown MPL schedule name {name!r}")
    n = T if length is None else int(length)
    s = np.arange(n, dtype=float)
    lr = np.full(n, peak)
    if m_wsdcon:
        lr[s >= 8000] = int(m_wsdcon.group(1)) * 1e-5
    elif m_cos:
        frac = np.clip((s - warmup) / (T - warmup), 0.0, 1.0)
        lr = final + 0.5 * (peak - final) * (1.0 + np.cos(np.pi * frac))
    elif m_wsd:
        D = int(m_wsd.group(2))
        frac = np.clip((s - D) / (T - D), 0.0, 1.0)
        if m_wsd.group(1) == "wsd":
            lr = np.where(s >= D, peak ** (1.0 - frac) * final**frac, peak)
        else:
            lr = np.where(s >= D, peak + (final - peak) * frac, peak)
    w = min(warmup, n)
    lr[:w] = np.linspace(0.0, peak, warmup)[:w]
    return lr


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    a = np.genfromtxt(path, delimiter=",", names=True)
    return a["step"].astype(np.int64), a["loss"].astype(float)


def load_mpl_curves(root: str | Path, size: str) -> dict[str, "Curve"]:
    """The nine MPL curves of one model size (``"25"``, ``"100"``, ``"400"``) as :class:`~lrplan.laws.fitted.Curve`.

    ``root`` is the folder holding ``loss_curve_repo/csv_<size>/``.  Like the official loader, a row at the
    final step (e.g. 24000) is dropped.
    """
    from lrplan.laws.fitted import Curve

    out = {}
    for name in MPL_TRAIN + MPL_TEST:
        steps, loss = _read_csv(Path(root) / "loss_curve_repo" / f"csv_{size}" / f"{name}.csv")
        lr = mpl_lr(name)
        keep = steps < lr.size
        out[name] = Curve(name, steps[keep], loss[keep], lr)
    return out


def schaipp_lr(kind: str, T: int, peak: float = 1e-3, frac: float = 0.0, decay: str = "linear",
               warmup: int = 300, cos_final: float = 1e-7, twostage: float | None = None,
               twostage_after: int = 40000, twostage_steps: int = 1000,
               cos_final_frac: float | None = None) -> np.ndarray:
    """Per-step LR (length ``T``) of a Schaipp/Hägele run: ``kind`` = ``"wsd"`` (constant if ``frac`` = 0;
    ``decay`` = ``"linear"`` or ``"sqrt"`` = 1-sqrt cooldown over the last ``int(frac*T)`` steps, to 0) or
    ``"cos"`` (torch OneCycleLR: cosine warmup from peak/100, cosine anneal to ``cos_final`` absolute).

    ``twostage`` (WSD only; the runs' ``wsd_twostage_factor``): after ``twostage_after`` steps the stable LR falls
    linearly over ``twostage_steps`` steps to ``twostage * peak``, and the cooldown starts from there.

    ``cos_final_frac`` (``"cos"`` only): if given, the cosine ends at ``cos_final_frac * peak`` instead of the absolute
    ``cos_final`` (the ``cos-10`` and size-series cosines end at 10 % of their peak).
    """
    s = np.arange(T, dtype=float)
    if kind == "wsd":
        if cos_final_frac is not None:
            raise ValueError("cos_final_frac applies to kind 'cos' only")
        n_anneal = int(frac * T)
        hold = T - n_anneal
        lr = np.ones(T)
        lr[s < warmup] = s[s < warmup] / warmup + (1 - s[s < warmup] / warmup) / 100.0
        if n_anneal:
            m = s >= hold
            p = (s[m] - hold) / n_anneal
            if decay == "linear":
                lr[m] = 1.0 - p
            elif decay == "sqrt":
                lr[m] = 1.0 - np.sqrt(p)
            else:
                raise ValueError(f"unknown decay {decay!r}; choose 'linear' or 'sqrt'")
        if twostage is not None:
            if twostage_after + twostage_steps > hold:
                raise ValueError(f"the two-stage fall (steps {twostage_after}-{twostage_after + twostage_steps}) "
                                 f"overlaps the cooldown starting at {hold}")
            ramp = np.clip((s - twostage_after) / twostage_steps, 0.0, 1.0)
            lr *= 1.0 - (1.0 - twostage) * ramp
        return peak * lr
    if kind == "cos":
        if twostage is not None:
            raise ValueError("twostage applies to kind 'wsd' only")
        e1 = float(warmup) - 1.0
        init, fin = peak / 100.0, (cos_final if cos_final_frac is None else cos_final_frac * peak)
        lr = np.empty(T)
        w = s <= e1
        pct = s[w] / e1
        lr[w] = peak + (init - peak) / 2.0 * (np.cos(np.pi * pct) + 1.0)
        pct = (s[~w] - e1) / (T - 1 - e1)
        lr[~w] = fin + (peak - fin) / 2.0 * (np.cos(np.pi * pct) + 1.0)
        return lr
    raise ValueError(f"unknown kind {kind!r}; choose 'wsd' or 'cos'")


SCHAIPP_TRAIN: tuple[str, ...] = ("constant_50000", "cosine_25000", "cosine_50000")


def schaipp_spec(name: str) -> dict[str, Any]:
    """Schedule parameters encoded in a derived Schaipp CSV name (see ``tests/data/curves/schaipp2025_124m``)."""
    m = re.fullmatch(r"(constant|cosine)_(\d+)", name)
    if m:
        return {"kind": "wsd" if m.group(1) == "constant" else "cos", "T": int(m.group(2)), "frac": 0.0,
                "decay": "linear"}
    m = re.fullmatch(r"cosine(\d+)_(\d+)", name)  # cosine to <percent> % of its peak (``cosine10_<T>``)
    if m:
        return {"kind": "cos", "T": int(m.group(2)), "frac": 0.0, "decay": "linear",
                "cos_final_frac": int(m.group(1)) / 100.0}
    m = re.fullmatch(r"wsd-(linear|sqrt)-([0-9.]+)_(\d+)", name)
    if m:
        return {"kind": "wsd", "T": int(m.group(3)), "frac": float(m.group(2)), "decay": m.group(1)}
    m = re.fullmatch(r"twostage-([0-9.]+)-(linear|sqrt)-([0-9.]+)_(\d+)", name)
    if not m:
        raise ValueError(f"unknown Schaipp curve name {name!r}")
    return {"kind": "wsd", "T": int(m.group(4)), "frac": float(m.group(3)), "decay": m.group(2),
            "twostage": float(m.group(1))}


def load_schaipp_curves(root: str | Path, skip_first: int = 0, peak: float = 1e-3) -> dict[str, "Curve"]:
    """All derived Schaipp/Hägele curves in ``root`` (one model, peak LR ``peak``; the 124M SlimPajama runs at
    1e-3 by default) as Curves with per-step LR rebuilt from their names (:func:`schaipp_spec`)."""
    from lrplan.laws.fitted import Curve

    out = {}
    for path in sorted(Path(root).glob("*.csv")):
        spec = schaipp_spec(path.stem)
        steps, loss = _read_csv(path)
        lr = schaipp_lr(spec.pop("kind"), spec.pop("T"), peak=peak, **spec)
        keep = (steps < lr.size) & (steps >= skip_first)
        out[path.stem] = Curve(path.stem, steps[keep], loss[keep], lr)
    return out


def load_schaipp_sizes(root: str | Path, skip_first: int = 0) -> dict[str, tuple[float, dict[str, "Curve"]]]:
    """The Hägele-style model-size series (``tests/data/curves/schaipp2025_sizes``): folder name (e.g.
    ``"slimpajama_33m"``) -> (WSD peak LR, Curves), each Curve's per-step LR rebuilt from its name
    (:func:`schaipp_spec`) and the folder's ``peaks.json`` (``"wsd"`` for ``constant_*``/``wsd-*``, ``"cosine"``
    for the ``cosine10_*`` runs, whose peak is twice the WSD peak)."""
    from lrplan.laws.fitted import Curve

    out: dict[str, tuple[float, dict[str, Curve]]] = {}
    for folder in sorted(p for p in Path(root).iterdir() if (p / "peaks.json").is_file()):
        peaks = json.loads((folder / "peaks.json").read_text())
        curves = {}
        for path in sorted(folder.glob("*.csv")):
            spec = schaipp_spec(path.stem)
            steps, loss = _read_csv(path)
            peak = float(peaks["cosine" if spec["kind"] == "cos" else "wsd"])
            lr = schaipp_lr(spec.pop("kind"), spec.pop("T"), peak=peak, **spec)
            keep = (steps < lr.size) & (steps >= skip_first)
            curves[path.stem] = Curve(path.stem, steps[keep], loss[keep], lr)
        out[folder.name] = (float(peaks["wsd"]), curves)
    return out
