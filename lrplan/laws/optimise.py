"""The optimiser: scipy's L-BFGS-B with analytic gradients, run from a grid of starts (screen each briefly, refine
the best two), with OpenBLAS pinned to one thread."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import numpy as np

SCREEN_ITERS = 60
REFINE_ITERS = 3000
N_REFINED = 2


def lbfgs(f: Callable, z0: np.ndarray, bounds: list, maxiter: int,
          on_iteration: Callable[[], None] | None = None) -> tuple[np.ndarray, float]:
    """Minimise ``f`` (returning value and gradient) from ``z0`` (clipped into ``bounds``); ``(z, value)``.
    ``on_iteration`` is called after every L-BFGS-B iteration (progress only: it does not change the result)."""
    from scipy.optimize import minimize

    z0 = np.array([np.clip(v, lo if lo is not None else -np.inf, hi if hi is not None else np.inf)
                   for v, (lo, hi) in zip(z0, bounds)])
    with np.errstate(all="ignore"):
        r = minimize(f, z0, jac=True, method="L-BFGS-B", bounds=bounds,
                     options={"maxiter": maxiter, "ftol": 1e-12, "gtol": 1e-8, "maxcor": 10},
                     callback=None if on_iteration is None else (lambda *_: on_iteration()))
    return r.x, float(r.fun)


def multistart(make_f: Callable[[np.ndarray], Callable], z_starts: list[np.ndarray], free: np.ndarray,
               bounds: list, progress: Callable[[str, int, int | None], None] | None = None) -> tuple[np.ndarray, float]:
    """``SCREEN_ITERS`` iterations from every start, then ``REFINE_ITERS`` from the best ``N_REFINED``; returns the
    best full ``z`` and its value.  ``make_f(z0)`` is the objective over the ``free`` coordinates with the others
    at ``z0``; ``bounds`` are those of the free coordinates."""
    # progress: iterations done out of the most there can be (the refinements usually stop well before theirs)
    budget = len(z_starts) * SCREEN_ITERS + min(N_REFINED, len(z_starts)) * REFINE_ITERS
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress("iterations", done[0], budget)

    step = tick if progress is not None else None
    screened = []
    for z0 in z_starts:
        zf, v = lbfgs(make_f(z0), z0[free], bounds, SCREEN_ITERS, step)
        z = z0.copy()
        z[free] = zf
        screened.append((v, z))
    screened.sort(key=lambda t: t[0])
    best_z, best_v = None, np.inf
    for i, (_, z0) in enumerate(screened[:N_REFINED]):
        zf, v = lbfgs(make_f(z0), z0[free], bounds, REFINE_ITERS, step)
        done[0] = len(z_starts) * SCREEN_ITERS + (i + 1) * REFINE_ITERS  # this refinement is over
        if progress is not None:
            progress("iterations", done[0], budget)
        if v < best_v:
            z = z0.copy()
            z[free] = zf
            best_z, best_v = z, v
    assert best_z is not None
    return best_z, best_v


_BLAS_THREAD_API = (("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                    ("openblas_get_num_threads", "openblas_set_num_threads"))


@contextlib.contextmanager
def blas_single_thread() -> Iterator[None]:
    """Pin every loaded OpenBLAS to one thread for the duration (best effort; Linux ``/proc`` only).

    L-BFGS-B calls tiny BLAS/LAPACK kernels thousands of times; through OpenBLAS's thread pool they are ~8x
    slower on a busy 2-core machine (measured: 0.8 s vs 6 s for the 3-curve MPL fit).  Restores the previous
    thread counts afterwards; silently does nothing where the libraries cannot be found.
    """
    restore: list[tuple[Any, int]] = []
    try:
        import ctypes

        with open("/proc/self/maps") as fh:
            paths = {ln.split()[-1] for ln in fh if "openblas" in ln and ".so" in ln.split()[-1]}
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for get_name, set_name in _BLAS_THREAD_API:
                getter, setter = getattr(lib, get_name, None), getattr(lib, set_name, None)
                if getter is not None and setter is not None:
                    n = int(getter())
                    setter(1)
                    restore.append((setter, n))
                    break
    except Exception:  # pragma: no cover - platform dependent, purely a speed optimisation
        pass
    try:
        yield
    finally:
        for setter, n in restore:
            setter(n)
