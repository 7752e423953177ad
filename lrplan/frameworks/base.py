"""What lrplan's generic framework code needs from one training framework.

Each framework folder ``lrplan/frameworks/<folder>/`` defines, in its ``__init__.py``, one :class:`Framework`:
the facts the generic code reads (its name, versions, native families and decay shapes, what it supports), and
where its code is. The code is three modules of that folder, loaded on first use (so that listing frameworks
imports no numpy); the protocols below say what each must define:

* ``simulator.py`` (:class:`Simulator`): the framework's own LR scheduler, re-implemented;
* ``export.py`` (:class:`Exporter`): native configs for a spec, and the snippet text;
* ``importer.py`` (:class:`Importer`, only when ``import_args`` is set): a native config -> the lrplan spec it runs.

The registry of all frameworks is :mod:`lrplan.frameworks`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, cast

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from lrplan.frameworks.common import Candidate, Export, Facts, Native
    from lrplan.frameworks.importing import Imported
    from lrplan.spec.models import Spec


class Simulator(Protocol):
    """``<folder>/simulator.py``: the framework's scheduler, quirks and off-by-ones included (which LR the
    ``s``-th update uses in the framework's training loop), citing the framework source lines it follows."""

    def validate(self, config: Mapping[str, Any]) -> list[str]:
        """The framework's own refusals of ``config``, one message each (empty: it runs)."""

    def simulate(self, config: Mapping[str, Any], n_updates: Optional[int] = None) -> "np.ndarray":
        """float64 array, row ``s-1`` = the LR the ``s``-th optimizer update uses; ``ValueError`` when
        :meth:`validate` finds problems. ``lr_at(config, np.arange(n))``."""

    def run_length(self, config: Mapping[str, Any]) -> int:
        """The updates the config runs (what :meth:`simulate` returns without ``n_updates``)."""

    def lr_at(self, config: Mapping[str, Any], steps: "np.ndarray") -> "np.ndarray":
        """The LR of the 0-based updates ``steps`` (any order, elementwise: the values :meth:`simulate` gives
        them), for a valid config; O(len(steps))."""

    def pieces(self, config: Mapping[str, Any], n: int) -> list:
        """``(start, end, form)`` stretches covering updates ``[0, n)`` inside each of which the framework's
        formula does not change; ``form`` is its closed form (:class:`lrplan.schedules.forms.StepForm`) or None.
        O(formula changes), whatever ``n``."""


class Exporter(Protocol):
    """``<folder>/export.py``: the framework's side of :func:`lrplan.frameworks.export.export`.

    Optional hooks (the generic code uses a default when the module does not define them):

    * ``run(native, n_updates=None) -> np.ndarray``: the LRs a config this module writes runs (default: the
      simulator's ``simulate``; Megatron fills in the batch size an iteration-based config leaves out);
    * ``prepare(native) -> dict``: the simulator config of such a config (what ``run`` simulates), for the lazy
      :class:`lrplan.frameworks.exactness.FrameworkRun` (default: ``native`` itself);
    * ``warnings(native) -> list[str]``: what the framework will warn about when it loads ``native``
      (TorchTitan's clamps; default none);
    * ``relaunch(i, checkpoint, decay, resume_step) -> str``: the recipe line of launch ``i`` (0-based) of a
      per-segment export; required when ``candidates`` can return a list (a framework with ``wsd-s`` natively);
    * ``ANNOTATED: bool`` (default True): the snippet carries the report (:func:`lrplan.frameworks.common.header`
      comments), so ``lrplan render`` does not repeat it on stderr when both go to one terminal; False for a
      format without comments (DeepSpeed's JSON), whose report goes to stderr only.
    """

    RECIPE: str
    """What to do instead when the spec cannot be run exactly (usually lrplan's PyTorch scheduler)."""

    def candidates(self, f: "Facts", sample_based: bool) -> "list[Candidate]":
        """Native configs to try for the spec described by ``f``: the exact one when the framework can express
        the schedule, else the nearest native ones (every candidate is simulated and compared)."""

    def snippet(self, e: "Export", f: "Facts", spec: "Spec") -> str:
        """Ready-to-paste text of ``e.native`` (with :func:`lrplan.frameworks.common.header`)."""

    def why(self, f: "Facts") -> list[str]:
        """This framework's own reasons it cannot run the spec exactly (the generic ones are added around them)."""

    def notes(self, f: "Facts", native: "Native", got: "np.ndarray", want: "np.ndarray") -> list[str]:
        """Notes about the chosen config (e.g. :func:`lrplan.frameworks.common.start_note`)."""


class Importer(Protocol):
    """``<folder>/importer.py``: ``lrplan import <name>``."""

    def import_config(self, config: dict, notes: Optional[list[str]] = None, budget: Optional[dict] = None,
                      name: Optional[str] = None, seq_len: Optional[int] = None, *, label: str = "") -> "Imported":
        """The lrplan spec of a native config (the simulator's dict form), checked against the simulator
        (:func:`lrplan.frameworks.importing.import_native`); ``label`` names the framework in messages."""

    def from_cli(self, args: list[str]) -> "Imported":
        """``lrplan import <name> ARGS...``: read the config the CLI arguments give (arguments, or one file)."""


@dataclass(frozen=True)
class PlanExport:
    """``lrplan plan --export <name>``: one config file per launch (WSD trunk and branches, WSD-S segments)."""

    ext: Mapping[str, str]  # framework version -> file extension of a launch's config
    resume_flag: str = ""  # what a resumed launch must add (Megatron: --override-opt-param-scheduler)


@dataclass(frozen=True, eq=False)
class Framework:
    """One training framework, as the registry (:mod:`lrplan.frameworks`) hands it out (one object per framework:
    compared and hashed by identity)."""

    name: str  # the user-facing name: --format / --convention / import / plan --export value
    title: str  # how messages name it ("OLMo-core")
    package: str  # the folder's module, e.g. "lrplan.frameworks.olmo_core"
    versions: tuple[str, ...]  # the snippet forms it knows, newest (the default) first
    native_kinds: frozenset[str]  # lrplan schedule families it runs natively
    native_shapes: Mapping[str, str]  # lrplan decay_shape -> its name for that decay (WSD decays)
    shaped_warmup: frozenset[str] = frozenset()  # families whose native config also has a non-linear warmup
    samples: bool = False  # its scheduler counts samples: token-clock specs export in samples; --sample-based
    horizon: bool = False  # its decay may be defined over a length beyond the run (schedule.horizon)
    import_args: Optional[str] = None  # has importer.py: what `lrplan import <name> ARGS` takes (None: no import)
    plan_export: Optional[PlanExport] = None  # `lrplan plan --export <name>` writes its launches
    aliases: tuple[str, ...] = ()  # other names `resolve` accepts ("olmo")

    @property
    def folder(self) -> str:
        """The folder name (``olmo_core``): also the name of its conformance fixture."""
        return self.package.rpartition(".")[2]

    def _module(self, name: str) -> Any:
        return importlib.import_module(f"{self.package}.{name}")

    @property
    def simulator(self) -> Simulator:
        return cast(Simulator, self._module("simulator"))

    @property
    def exporter(self) -> Exporter:
        return cast(Exporter, self._module("export"))

    @property
    def importable(self) -> bool:
        return self.import_args is not None

    @property
    def importer(self) -> Importer:
        if not self.importable:
            raise LookupError(f"{self.name} has no importer")
        return cast(Importer, self._module("importer"))

    def validate(self, config: Mapping[str, Any]) -> list[str]:
        return self.simulator.validate(config)

    def simulate(self, config: Mapping[str, Any], n_updates: Optional[int] = None) -> "np.ndarray":
        return self.simulator.simulate(config, n_updates)

    def run(self, native: dict, n_updates: Optional[int] = None) -> "np.ndarray":
        """The LRs one exported config runs (the exporter's ``run`` hook, else :meth:`simulate`)."""
        hook: Optional[Callable[..., "np.ndarray"]] = getattr(self.exporter, "run", None)
        return hook(native, n_updates) if hook is not None else self.simulate(native, n_updates)

    def prepare(self, native: dict) -> dict:
        """The simulator config of one exported config (the exporter's ``prepare`` hook, else ``native``)."""
        hook: Optional[Callable[[dict], dict]] = getattr(self.exporter, "prepare", None)
        return hook(native) if hook is not None else native

    def export_warnings(self, native: dict) -> list[str]:
        """What the framework will warn about when it loads ``native`` (the exporter's ``warnings`` hook)."""
        hook: Optional[Callable[[dict], list[str]]] = getattr(self.exporter, "warnings", None)
        return hook(native) if hook is not None else []
