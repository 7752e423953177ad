"""Shared fixtures for the loss-law tests (data under tests/data/curves)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # L-BFGS-B's BLAS threads spin on small problems

import pytest  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "curves"
MPL_DATA = DATA / "multipowerlaw"
SCHAIPP_DATA = DATA / "schaipp2025_124m"
TISSUE_DATA = DATA / "tissue2024_fig2"

fitmod = importlib.import_module("lrplan.laws.driver")  # the generic fit driver (fit, FittedLaw, predict)


@pytest.fixture(scope="session")
def mpl_curves():
    from lrplan.laws.reference_curves import MPL_SIZES, load_mpl_curves

    return {s: load_mpl_curves(MPL_DATA, s) for s in MPL_SIZES}


@pytest.fixture(scope="session")
def mpl_fits(mpl_curves):
    from lrplan.laws.reference_curves import MPL_TRAIN

    return {s: fitmod.fit([c[n] for n in MPL_TRAIN]) for s, c in mpl_curves.items()}


@pytest.fixture(scope="session")
def schaipp_curves():
    from lrplan.laws.reference_curves import load_schaipp_curves

    return load_schaipp_curves(SCHAIPP_DATA)


def load_run_curves(path: Path) -> dict:
    """Runs of a ``run,step,lr,train_loss,val_loss`` file (``lrplan_gpt19m_code``'s format, also
    ``lrplan_cpu_tiny``'s) as lrplan :class:`~lrplan.laws.fitted.Curve` s in lrplan's step convention, as
    ``benchmarks/law_accuracy.py`` reads them: ``val_loss`` of row ``r`` (after ``r`` updates) -> step ``r - 1``,
    ``lr`` of row ``r`` -> update ``r``; ``wsd_branch*`` runs are spliced onto their constant trunk."""
    import csv
    import gzip

    import numpy as np

    from lrplan.laws.fitted import Curve

    raw: dict[str, list] = {}
    with gzip.open(path, "rt") as fh:
        for r in csv.DictReader(fh):
            raw.setdefault(r["run"], []).append((int(r["step"]), float(r["lr"]), float(r["val_loss"])))
    out = {}
    for name, rows in raw.items():
        a = np.array(rows)
        if name.startswith("wsd_branch"):
            trunk = np.array(raw["constant" + (name[name.index("_peak"):] if "_peak" in name else "")])
            a = np.r_[trunk[trunk[:, 0] < a[0, 0]], a]
        step, lr, val = a[:, 0].astype(int), a[:, 1], a[:, 2]
        m = np.isfinite(val) & (step >= 1)
        out[name] = Curve(name, step[m] - 1, val[m], lr[: step.size - 1])
    return out
