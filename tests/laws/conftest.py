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
