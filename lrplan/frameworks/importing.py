"""Import a framework's LR-scheduler config as an lrplan spec that reproduces what the framework RUNS: the
machinery every ``lrplan/frameworks/<folder>/importer.py`` shares.

:func:`import_native` takes the framework's native config (the simulator's dict form), its simulator and its
``family`` function (the config as an lrplan schedule, with the framework's off-by-ones folded in: TorchTitan's
``(c+1)/W`` warmup becomes a warmup of ``W-1`` steps from ``lr/W``), and returns an :class:`Imported`: the spec
(dict and YAML text) and whether ``load_spec(spec).render().lr`` equals the framework's LRs at rtol 1e-12. When no
family reproduces the run, the spec is ``kind: phases`` (linear and constant pieces, one per update where nothing
else fits, :func:`phases_from_lr`), always checked against the simulator. Configs the framework itself would
refuse raise :class:`lrplan.errors.LrplanError`, one line per problem.

``lrplan.frameworks.import_config(name, config)`` picks the framework by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from lrplan.errors import LrplanError

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

    import numpy as np

__all__ = ["Imported", "import_native", "phases_from_lr", "read_text"]


@dataclass
class Imported:
    """The result of an import: the native config, the lrplan spec (dict and YAML text), whether it is exact."""

    framework: str
    config: dict
    spec: dict
    yaml: str
    exact: bool
    max_abs_dev: float
    notes: list[str] = field(default_factory=list)


def read_text(source: Union[str, Path]) -> str:
    """A config file's text; unreadable or non-UTF-8 files raise one line."""
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as e:
        raise LrplanError(f"cannot read {source}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise LrplanError(f"{source}: not UTF-8 text (byte {e.start}); save the config as UTF-8") from None


def phases_from_lr(lr: "np.ndarray") -> list[dict]:
    """Exact ``kind: phases`` pieces for an LR array: runs of equal values become constant phases, runs on a
    straight line become linear phases, anything else one constant phase per update."""
    import numpy as np

    n = lr.size
    out: list[dict] = []
    i = 0
    while i < n:
        a = float(lr[i])
        neq = np.flatnonzero(lr[i:] != lr[i])
        j = i + (int(neq[0]) if neq.size else n - i)
        if j - i >= 2:
            out.append({"shape": "constant", "lr": a, "length": j - i})
            i = j
            continue
        L = _linear_run(lr, i)
        if L >= 3:
            slope = (float(lr[i + L - 1]) - a) / (L - 1)
            b = a + slope * L
            out.append({"shape": "linear", "from": a, "to": max(b, 0.0), "length": L})
            i += L
            continue
        out.append({"shape": "constant", "lr": a, "length": 1})
        i += 1
    return out


def _linear_run(lr: "np.ndarray", i: int) -> int:
    """Length of the longest run from ``i`` that lrplan's linear ramp reproduces at rtol 1e-12."""
    n = lr.size
    if i + 2 >= n:
        return 0
    window = 64
    while True:
        w = min(window, n - i)
        L = _linear_run_in(lr[i : i + w])
        if L < w or w == n - i:
            return L
        window *= 8


def _linear_run_in(seg: "np.ndarray") -> int:
    import numpy as np

    n = seg.size
    a = float(seg[0])
    end = 2  # candidate last index (inclusive)
    k = np.arange(n, dtype=np.float64)
    for _ in range(6):
        L = end + 1
        slope = (float(seg[end]) - a) / (L - 1)
        if slope == 0:
            return 0
        b = a + slope * L
        if b < 0 and b < -1e-12 * abs(a):
            return 0
        b = max(b, 0.0)
        # the phase's formula: b + (1 - p) * (a - b) with p = k / L  (lrplan shapes._linear)
        pred = b + (1.0 - k / L) * (a - b)
        ok = np.abs(pred - seg) <= 1e-12 * np.abs(seg) + 1e-300
        bad = np.flatnonzero(~ok)
        new_end = (int(bad[0]) if bad.size else n) - 1
        if new_end <= end:
            return L if new_end >= end else 0
        end = new_end
    return end + 1


def import_native(
    framework: str, config: dict, simulator: "ModuleType", family: Callable[[dict], Optional[dict]],
    notes: Optional[list[str]] = None, budget: Optional[dict] = None, name: Optional[str] = None, *,
    warn: Optional[Callable[[dict], list[str]]] = None, negative_hint: str = "",
) -> Imported:
    """The lrplan spec of the native ``config`` of ``framework`` (the name messages use): the family spec
    ``family(config)`` (a ``schedule`` dict, or None) when it renders exactly what ``simulator`` (the framework's
    ``simulator.py``: ``validate``, ``simulate``) runs, else exact
    ``kind: phases``. The framework's refusals (``simulator.validate``) and a negative LR raise
    :class:`LrplanError`; ``warn(config)`` adds the framework's own warnings to the notes, ``negative_hint`` says
    why its LR goes negative."""
    import numpy as np
    import yaml

    from lrplan.frameworks.common import compare
    from lrplan.spec.models import load_spec

    mod = simulator
    notes = list(notes or [])
    try:
        problems = mod.validate(config)
        if problems:
            raise LrplanError(f"{framework} would refuse this config: {'; '.join(problems)}")
        if warn is not None:
            notes += warn(config)
        truth = mod.simulate(config)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError, KeyError, AttributeError) as e:
        # a value of the wrong type or range that the framework's own code would choke on
        raise LrplanError(f"{framework} would fail on this config ({type(e).__name__}: {e}); check the field types and values") from None
    neg = np.flatnonzero(truth < 0)
    if neg.size:
        k = int(neg[0])
        raise LrplanError(
            f"this {framework} config runs a negative LR ({truth[k]:.6g}) from update {k + 1}{negative_hint}; "
            "lrplan cannot plan negative LRs: fix the config"
        )
    if truth.size == 0:
        raise LrplanError(f"the {framework} config runs 0 updates")
    bud: dict[str, Any] = budget if budget and "tokens" in budget else {"steps": int(truth.size), **(budget or {})}
    sched = family(config)
    spec: dict | None = None
    if sched is not None:
        cand = {"name": name or f"imported from {framework}", "budget": bud, "schedule": sched}
        try:
            got = load_spec(cand).render().lr
            if compare(got, truth)[0]:
                spec = cand
        except LrplanError:
            pass
    if spec is None:
        phases = phases_from_lr(truth)
        if "tokens" in bud:
            bud = {"steps": int(truth.size), **{k: v for k, v in bud.items() if k in ("seq_len",)}}
        spec = {"name": name or f"imported from {framework}", "budget": bud, "schedule": {"kind": "phases", "phases": phases}}
        got = load_spec(spec).render().lr
        if not compare(got, truth)[0]:  # pragma: no cover - constant phases are exact by construction
            spec["schedule"]["phases"] = [{"shape": "constant", "lr": float(v), "length": 1} for v in truth]
            got = load_spec(spec).render().lr
        notes.append(
            f"no lrplan family reproduces this {framework} run update for update; written as {len(spec['schedule']['phases'])} phases"
        )
    exact, mx, _, _ = compare(got, truth)
    header = [f"# lrplan spec of the {framework} config (reproduces the LR of every update {framework} runs"
              + (", checked)" if exact else f"; max deviation {mx:.3g})")]
    header += [f"# note: {n}" for n in notes]
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: long phase lists dump fast
    text = "\n".join(header) + "\n" + yaml.dump(spec, Dumper=dumper, sort_keys=False, default_flow_style=None, width=120)
    del np
    return Imported(framework, config, spec, text, exact, mx, notes)
