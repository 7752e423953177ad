"""Import a framework's LR-scheduler config as an lrplan spec that reproduces what the framework RUNS: the
machinery every ``lrplan/frameworks/<folder>/importer.py`` shares.

:func:`import_native` takes the framework's native config (the simulator's dict form), its simulator and its
``family`` function (the config as an lrplan schedule, with the framework's off-by-ones folded in: TorchTitan's
``(c+1)/W`` warmup becomes a warmup of ``W-1`` steps from ``lr/W``; Megatron's ``--lr-warmup-fraction`` a warmup
that ends between two updates, ``3.2 steps``), and returns an :class:`Imported`: the spec (dict and YAML text) and
whether it renders the framework's LRs at rtol 1e-12 at every update (:func:`lrplan.frameworks.exactness.check`:
per piece for long runs, never holding the run). When no family reproduces the run, the spec is ``kind: phases``
(linear and constant pieces, one per update where nothing else fits, :func:`phases_from_lr`, O(n)), always checked
against the simulator. Configs the framework itself would
refuse raise :class:`lrplan.errors.LrplanError`, one line per problem; so does any other bad input (a value
of the wrong type, a config file that cannot be read: :func:`read_text`).

``lrplan.frameworks.import_config(name, config)`` picks the framework by name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from lrplan.errors import LrplanError

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

    import numpy as np

__all__ = ["Imported", "argv", "config_path", "import_native", "in_file", "phases_from_lr", "read_text", "what"]


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
    warnings: list[str] = field(default_factory=list)  # what the user should act on (e.g. TorchTitan's lr_min trap)


def what(value: object) -> str:
    """A value of the wrong type, for messages: ``None``, ``int 0``, ``dict {'a': 1}`` (at most 40 characters)."""
    if value is None:
        return "None"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def config_path(source: object, framework: str, kind: str) -> str:
    """``source`` as a path string, or one line saying what a config file argument takes (``kind``: ``TOML``)."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str):
        raise LrplanError(
            f"import_{framework} takes the path of a {framework} {kind} file (a str or pathlib.Path), not {what(source)}; "
            f"for a config dict use lrplan.frameworks.import_config({framework!r}, config)"
        )
    if not source.strip():
        raise LrplanError(f"give the {framework} {kind} file to import (got an empty file name)")
    return source


def argv(args: object, framework: str) -> list[str]:
    """Command-line arguments as a list of strings, or one line saying what they must be."""
    if not isinstance(args, (list, tuple)):
        hint = " (split a command line with shlex.split)" if isinstance(args, str) else ""
        raise LrplanError(f"{framework}'s arguments are a list of strings such as ['--lr', '3e-4'], not {what(args)}{hint}")
    for a in args:
        if not isinstance(a, str):
            raise LrplanError(f"{framework}'s arguments are strings; got {what(a)} among them")
    return list(args)


def in_file(source: str, err: LrplanError) -> LrplanError:
    """``err`` with each line naming the config file ``source`` (``cfg.toml: ...``) unless it already does."""
    lines = [ln if ln.startswith(f"{source}:") else f"{source}: {ln}" for ln in str(err).splitlines()]
    return LrplanError("\n".join(lines))


def read_text(source: Union[str, Path]) -> str:
    """A config file's text (``-``: standard input), read through :func:`lrplan.spec.files.read_bytes` (a regular
    file of at most ``LIMITS["config"]``: ``/dev/zero``, a FIFO or a directory is one line, not a hang);
    unreadable or non-UTF-8 files raise one line."""
    from lrplan.spec.files import read_bytes

    data = read_bytes(source, "config")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LrplanError(f"{source}: not UTF-8 text (byte {e.start}); save the config as UTF-8") from None


def phases_from_lr(lr: "np.ndarray") -> list[dict]:
    """Exact ``kind: phases`` pieces for an LR array: runs of equal values become constant phases, runs on a
    straight line become linear phases, anything else one constant phase per update; O(n)."""
    n = lr.size
    out: list[dict] = []
    i = 0
    while i < n:
        a = float(lr[i])
        j = i + _equal_run(lr, i)
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


def _equal_run(lr: "np.ndarray", i: int) -> int:
    """Length of the run of values equal to ``lr[i]`` from ``i``, looking at windows that grow 8-fold (so a run
    costs O(its length), not O(the rest of the array): the whole fallback stays O(n))."""
    import numpy as np

    n = lr.size
    window = 64
    pos = i
    while pos < n:
        w = min(window, n - pos)
        neq = np.flatnonzero(lr[pos : pos + w] != lr[i])
        if neq.size:
            return pos + int(neq[0]) - i
        pos += w
        window *= 8
    return n - i


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
    warn: Optional[Callable[[dict], list[str]]] = None, negative_hint: str = "", warnings: Optional[list[str]] = None,
) -> Imported:
    """The lrplan spec of the native ``config`` of ``framework`` (the name messages use): the family spec
    ``family(config)`` (a ``schedule`` dict, or None) when it renders exactly what ``simulator`` (the framework's
    ``simulator.py``: ``validate``, ``simulate``) runs, else exact
    ``kind: phases``. The framework's refusals (``simulator.validate``) and a negative LR raise
    :class:`LrplanError`; ``warn(config)`` adds the framework's own warnings to the notes, ``negative_hint`` says
    why its LR goes negative; ``warnings`` (what the user should act on) head the YAML and the report."""
    import numpy as np
    import yaml

    from lrplan.frameworks.common import compare
    from lrplan.frameworks.exactness import FrameworkRun, check
    from lrplan.spec.loading import load_spec

    mod = simulator
    if not isinstance(config, Mapping):
        raise LrplanError(f"the {framework} config must be a dict of its fields (the simulator's form), not {what(config)}")
    if notes is not None and (not isinstance(notes, (list, tuple)) or not all(isinstance(n, str) for n in notes)):
        raise LrplanError(f"notes must be a list of strings, not {what(notes)}")
    if budget is not None and not isinstance(budget, Mapping):
        raise LrplanError(f"budget must be a dict of spec budget fields (steps, tokens, batch_size, ...), not {what(budget)}")
    if name is not None and not isinstance(name, str):
        raise LrplanError(f"name must be a string, not {what(name)}")
    budget = dict(budget) if budget is not None else None
    notes = list(notes or [])
    fail = (TypeError, ValueError, OverflowError, ZeroDivisionError, KeyError, AttributeError)

    def would_fail(e: Exception) -> LrplanError:  # a value of the wrong type or range the framework's code chokes on
        return LrplanError(f"{framework} would fail on this config ({type(e).__name__}: {e}); check the field types and values")

    try:
        problems = mod.validate(config)
        if problems:
            raise LrplanError(f"{framework} would refuse this config: {'; '.join(problems)}")
        if warn is not None:
            notes += warn(config)
        run = FrameworkRun.of(mod, config)
    except fail as e:
        raise would_fail(e) from None
    n = run.n
    if n == 0:
        raise LrplanError(f"the {framework} config runs 0 updates")
    bud: dict[str, Any] = budget if budget and "tokens" in budget else {"steps": int(n), **(budget or {})}
    sched = family(config)
    spec: dict | None = None
    if sched is not None:
        cand = {"name": name or f"imported from {framework}", "budget": bud, "schedule": sched}
        try:
            s = load_spec(cand)
            plan = s.schedule_plan()
            # every update compared (or bounded per piece, lrplan.frameworks.exactness); a family spec is kept only
            # when it is exact and the framework's LRs are finite and >= 0 wherever they were evaluated (elsewhere
            # they are within 1e-12 of the spec's, which are)
            if plan.total_steps == n:
                res = check(run, plan, float(s.schedule.peak()), full=False)
                if res.exact and res.valid:
                    spec = cand
        except LrplanError:
            pass
        except fail:
            pass  # the per-update path below says what fails
    if spec is not None:
        exact, mx = True, 0.0
    else:
        from lrplan.schedules.render import MAX_IN_MEMORY

        if n > MAX_IN_MEMORY:
            raise LrplanError(f"no lrplan family reproduces this {framework} run of {n:,} updates, and that is too many "
                              f"to write as per-update phases (up to {MAX_IN_MEMORY:,})")
        try:
            truth = mod.simulate(config)
        except fail as e:
            raise would_fail(e) from None
        odd = np.flatnonzero(~np.isfinite(truth))
        if odd.size:
            k = int(odd[0])
            raise LrplanError(f"this {framework} config runs a non-finite LR ({truth[k]}) from update {k + 1}; fix the config")
        neg = np.flatnonzero(truth < 0)
        if neg.size:
            k = int(neg[0])
            raise LrplanError(
                f"this {framework} config runs a negative LR ({truth[k]:.6g}) from update {k + 1}{negative_hint}; "
                "lrplan cannot plan negative LRs: fix the config"
            )
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
    warnings = list(warnings or [])
    header += [f"# warning: {w}" for w in warnings]
    header += [f"# note: {n}" for n in notes]
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: long phase lists dump fast
    text = "\n".join(header) + "\n" + yaml.dump(spec, Dumper=dumper, sort_keys=False, default_flow_style=None, width=120)
    del np
    return Imported(framework, config, spec, text, exact, mx, notes, warnings)
