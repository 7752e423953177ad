"""Peer of `lrplan fit`: the official multi-power-law fitting code (Luo et al. 2025), run as its authors ship it.

    python benchmarks/peers/mpl_official.py REPO THIN

REPO is a checkout of https://github.com/thu-yao-01-luo/MultiPowerLaw (run_all.py clones it, or takes
``--mpl-repo``); nothing of it is copied into lrplan.  Its dependencies: torch, numpy, scipy, matplotlib, tqdm.

This driver calls the repository's own functions on its own 25M data: ``src.data_loader.load_data`` (csv_25, its
LR schedules), then the three training curves of its protocol (``src.config.TRAIN_SET`` = cosine_24000,
constant_24000, wsdcon_9) thinned to every THIN-th row plus the last one (THIN = 3 is exactly the rows of
``tests/data/logs/mpl25m_runs.csv``, the README tour's fit), ``src.fitting.initialize_params`` (its grid of
L-BFGS-B starts on the LLDL form), ``generate_init_params`` and ``mpl_adam_fit`` (AdamW on the torch model, its
configured steps and early stopping).  The fit is the published law (rho = kappa = 1, real warmup LRs) on every
point (no fit window), so its objective is not lrplan's; the time is the comparison.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from _common import report


def main() -> None:
    repo, thin = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    t_imp = time.perf_counter()
    sys.path.insert(0, repo)
    os.chdir(repo)
    import numpy as np
    from src.config import FOLDER_PATHS, TRAIN_SET
    from src.data_loader import load_data
    from src.fitting import generate_init_params, initialize_params, mpl_adam_fit

    t0 = time.perf_counter()
    data = load_data(FOLDER_PATHS["25"])
    n_points = 0
    for f in TRAIN_SET:
        d = data[f]
        idx = np.unique(np.r_[np.arange(0, d["step"].size, thin), d["step"].size - 1])
        d["step"], d["loss"] = d["step"][idx], d["loss"][idx]
        n_points += idx.size
    t1 = time.perf_counter()
    init = initialize_params(data, TRAIN_SET)
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as figs:
        params, best = mpl_adam_fit(data, TRAIN_SET, [], generate_init_params(init), figs)
    t3 = time.perf_counter()
    commit = None
    if os.path.exists(os.path.join(repo, "COMMIT")):
        commit = open(os.path.join(repo, "COMMIT")).read().strip()
    report(work_s=t3 - t1, import_s=t0 - t_imp, load_s=t1 - t0, init_s=t2 - t1, adam_s=t3 - t2, points=n_points,
           huber_sum=float(best), objective_lrplan_units=float(best) / (1e-6 * n_points), params=params,
           commit=commit)


if __name__ == "__main__":
    main()
