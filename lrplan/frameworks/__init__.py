"""Per-framework LR simulators: what each training framework's own scheduler would do.

Each submodule (``megatron``, ``torchtitan``, ``hf``, ``olmo_core``, ``deepspeed``) takes the
framework's native config (the same dicts as ``tests/data/conformance/<fw>.json``) and offers

* ``validate(config) -> list[str]``: the framework's own refusals, one message per problem;
* ``simulate(config, n_updates=None) -> np.ndarray``: float64 array, row ``s-1`` = the LR that
  the ``s``-th optimizer update uses, quirks and off-by-ones included (``shared/notes/frameworks.md``
  section 0); raises ``ValueError`` when ``validate`` finds problems.

This package imports nothing heavy; numpy is imported by the submodules only.
"""

from __future__ import annotations

import importlib
from types import ModuleType

FRAMEWORKS: tuple[str, ...] = ("megatron", "torchtitan", "hf", "olmo_core", "deepspeed")

__all__ = ["FRAMEWORKS", "get"]


def get(name: str) -> ModuleType:
    """Return the simulator module of framework ``name`` (one of :data:`FRAMEWORKS`)."""
    if name not in FRAMEWORKS:
        raise ValueError(f"unknown framework {name!r}; choose from: {', '.join(FRAMEWORKS)}")
    return importlib.import_module(f"{__name__}.{name}")
