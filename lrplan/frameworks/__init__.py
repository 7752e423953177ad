"""The training frameworks lrplan simulates, exports to and imports from: one registry.

Each framework is one folder, ``lrplan/frameworks/<folder>/``:

* ``simulator.py``: the framework's own LR scheduler re-implemented in numpy, citing the source lines it follows:
  ``validate(config) -> list[str]`` (the framework's refusals) and ``simulate(config, n_updates=None)``
  (float64, row ``s-1`` = the LR of the ``s``-th update, quirks and off-by-ones included: the order of the
  framework's own training loop, cited in the simulator's docstring). ``config`` is the framework's native config as a dict (the shape of
  ``tests/data/conformance/<folder>.json``). For runs of any length without holding them: ``run_length(config)``,
  ``lr_at(config, steps)`` (any updates; ``simulate`` is ``lr_at`` of ``arange(n)``) and ``pieces(config, n)``
  (where the formula changes, with its closed form: :mod:`lrplan.schedules.forms`), which
  :mod:`lrplan.frameworks.exactness` compares with a spec per piece;
* ``export.py``: the native configs to try for a spec (``candidates``), the ready-to-paste text (``snippet``)
  and what the framework lacks (``why``, ``notes``, ``RECIPE``); :func:`lrplan.frameworks.export.export` runs
  every candidate through the simulator and keeps the exact one, or the nearest with its deviation;
* ``importer.py`` (when the framework can be imported): its config -> the lrplan spec that runs the same LRs;
* ``__init__.py``: ``FRAMEWORK = Framework(...)`` (:class:`lrplan.frameworks.base.Framework`): its name,
  versions, native families and decay shapes, and which of import / ``plan --export`` it supports.

:data:`REGISTRY` lists them, one line each, user-facing name -> folder. Everything that lists frameworks reads
it: ``render --format`` and ``--convention``, ``plot --convention``, ``import``, ``plan --export``, the versions,
and the "known: ..." of error messages.

**Adding a framework** is one folder and one line. Create ``lrplan/frameworks/<folder>/`` with ``simulator.py``
and ``export.py`` (what they define: the protocols in :mod:`lrplan.frameworks.base`), ``importer.py`` if
``lrplan import`` should read its configs, and an ``__init__.py`` defining ``FRAMEWORK = Framework(...)``; add
``"<name>": "<folder>",`` to :data:`REGISTRY`. The CLI's choices, completion, versions and messages follow. Then
prove the simulator against the framework's own scheduler: a recorder in ``conformance/generate.py``
(``RECORDERS``, keyed by the folder), the fixture it writes (``tests/data/conformance/<folder>.json``), and the
framework's rows in ``tests/frameworks/`` (``test_conformance.py``'s worked example and scale tables,
``test_export.py``'s exactness matrix and snippet parser); ``tests/frameworks/test_registry.py`` checks the folder is
complete.

This package imports nothing heavy: looking a framework up loads its ``__init__.py`` only, and its modules load
on first use (numpy with the simulator).

>>> names()
('megatron', 'torchtitan', 'hf', 'olmo-core', 'deepspeed')
>>> get("OLMo_core").folder, resolve("torchtitan"), resolve("hf", "4.57.1")
('olmo_core', ('torchtitan', '0.3'), ('hf', '4'))
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Optional

from lrplan.errors import LrplanError
from lrplan.frameworks.base import Framework

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.frameworks.importing import Imported

REGISTRY: dict[str, str] = {  # user-facing name -> folder; the order is the order of every listing
    "megatron": "megatron",
    "torchtitan": "torchtitan",
    "hf": "hf",
    "olmo-core": "olmo_core",
    "deepspeed": "deepspeed",
}

NAMES: tuple[str, ...] = tuple(REGISTRY)
FOLDERS: tuple[str, ...] = tuple(REGISTRY.values())  # module names; the conformance fixtures are named so

__all__ = [
    "FOLDERS", "NAMES", "REGISTRY", "Framework", "exportable_plans", "get", "import_config", "importable", "names",
    "resolve", "simulator",
]


def names() -> tuple[str, ...]:
    """Every framework's user-facing name, in registry order."""
    return NAMES


@functools.cache
def _load(name: str) -> Framework:
    fw = importlib.import_module(f"{__name__}.{REGISTRY[name]}").FRAMEWORK
    if not isinstance(fw, Framework) or fw.name != name:  # pragma: no cover - a registry line that does not fit
        raise RuntimeError(f"lrplan.frameworks.{REGISTRY[name]}.FRAMEWORK is not the Framework {name!r}")
    return fw


def _key(name: str) -> Optional[str]:
    key = name.strip().lower().replace("_", "-")
    if key in REGISTRY:
        return key
    return next((n for n in NAMES if key in _load(n).aliases), None)


def get(name: str) -> Framework:
    """The framework called ``name`` (any case, ``_`` for ``-``, or an alias); an unknown name raises one line
    listing the known ones."""
    if not isinstance(name, str):
        raise LrplanError(f"a framework is named by a string, not {_what(name)}; known: {', '.join(NAMES)}")
    key = _key(name)
    if key is None:
        raise LrplanError(f"unknown framework {name!r}; known: {', '.join(NAMES)}")
    return _load(key)


def resolve(framework: str, version: Optional[str] = None) -> tuple[str, str]:
    """``(name, version)``: the framework's name and the version it knows that ``version`` is (``"4.57.1"`` is
    ``"4"``; default: the newest). Unknown ones raise one line listing the known ones."""
    fw = get(framework)
    known = fw.versions
    if version is None:
        return fw.name, known[0]
    if not isinstance(version, str):
        raise LrplanError(f"a {fw.name} version is a string such as {known[0]!r}, not {_what(version)}; "
                          f"known: {', '.join(known)} (default {known[0]})")
    v = version.strip().lstrip("v")
    for k in known:
        if v == k or v.startswith(k + "."):
            return fw.name, k
    raise LrplanError(f"unknown {fw.name} version {version!r}; known: {', '.join(known)} (default {known[0]})")


def simulator(name: str) -> ModuleType:
    """The simulator module of framework ``name`` (``olmo-core`` or its folder name ``olmo_core``); an unknown
    name raises ``ValueError``."""
    try:
        fw = get(name)
    except LrplanError:
        raise ValueError(f"unknown framework {name!r}; choose from: {', '.join(NAMES)}") from None
    return importlib.import_module(f"{fw.package}.simulator")


def importable() -> tuple[str, ...]:
    """The frameworks ``lrplan import`` reads."""
    return tuple(n for n in NAMES if _load(n).importable)


def exportable_plans() -> tuple[str, ...]:
    """The frameworks ``lrplan plan --export`` writes launches for."""
    return tuple(n for n in NAMES if _load(n).plan_export is not None)


def import_config(
    framework: str, config: dict, notes: Optional[list[str]] = None, budget: Optional[dict] = None,
    name: Optional[str] = None, seq_len: Optional[int] = None,
) -> "Imported":
    """Import a native config (the simulator's dict form) of an importable framework (:func:`importable`): the
    lrplan spec that reproduces what it runs (:mod:`lrplan.frameworks.importing`)."""
    if not isinstance(framework, str):
        raise LrplanError(f"a framework is named by a string, not {_what(framework)}; importable: {', '.join(importable())}")
    key = framework.lower().replace("_", "-")
    if key not in importable():
        raise LrplanError(f"cannot import {framework!r}; importable: {', '.join(importable())}")
    return _load(key).importer.import_config(config, notes, budget, name, seq_len, label=framework)


def _what(value: object) -> str:
    from lrplan.frameworks.importing import what

    return what(value)
