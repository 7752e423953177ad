"""What a fit reads and writes: an observed :class:`Curve`, and a :class:`FittedLaw` (the content of a law file:
law name, parameters, warmup convention, fit window, fit quality) that predicts through its registered law."""

from __future__ import annotations

import dataclasses

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lrplan.errors import DataError
from lrplan.laws.base import domain_text, in_domain
from lrplan.laws.registry import canonical, get_law, law_names
from lrplan.laws.warmup import WARMUP_CONVENTIONS

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.laws.base import LawSpec
    from lrplan.laws.history import History, QuerySteps

EXACT_STEPS = 1 << 20
"""Runs of at most this many updates are predicted from their whole per-step LR array (:meth:`FittedLaw.predict`,
the same numbers as ever); longer ones through the law's ``predict_history`` / ``curve`` (multi-power: the sampled
cells of :mod:`lrplan.laws.cells`; momentum: one exact pass in blocks), in memory that does not grow with the run."""
MAX_ARRAY_STEPS = 200_000_000
"""A law without ``predict_history`` reads a run's whole LR array: up to this many updates (1.6 GB)."""


@dataclass(frozen=True)
class Curve:
    """One observed loss curve: ``loss[i]`` measured at global step ``steps[i]``; ``lr`` per step from step 0."""

    name: str
    steps: np.ndarray
    loss: np.ndarray
    lr: np.ndarray

    def __post_init__(self) -> None:
        try:
            steps = np.asarray(self.steps).astype(np.int64)
            loss = np.asarray(self.loss, dtype=float)
            lr = np.asarray(self.lr, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise DataError(f"curve {self.name!r}: steps, loss and lr must be arrays of numbers") from None
        if steps.shape != loss.shape or steps.ndim != 1 or steps.size == 0:
            raise DataError(f"curve {self.name!r}: steps and loss must be equal-length 1-D arrays")
        if steps.max() >= lr.size or steps.min() < 0:
            raise DataError(f"curve {self.name!r}: lr (len {lr.size}) must cover steps 0..{steps.max()}")
        if not np.all(np.isfinite(loss)) or np.any(loss <= 0):
            raise DataError(f"curve {self.name!r}: loss must be finite and positive")
        order = np.argsort(steps, kind="stable")
        object.__setattr__(self, "steps", steps[order])
        object.__setattr__(self, "loss", loss[order])
        object.__setattr__(self, "lr", lr)


@dataclass(frozen=True)
class FittedLaw:
    """A fitted law: name, parameters, warmup convention, fit window and per-curve fit metrics."""

    law: str
    params: dict[str, float]
    warmup: str
    window: dict[str, Any]
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    objective: float = float("nan")
    meta: dict[str, Any] = field(default_factory=dict)
    uncertainty: dict[str, Any] = field(default_factory=dict)
    """What the fit leaves undetermined and the ensemble along it (:mod:`lrplan.laws.bands`; empty: none)."""

    @property
    def law_spec(self) -> "LawSpec":
        """The registered law (:mod:`lrplan.laws.registry`)."""
        return get_law(self.law)

    def predict(self, lr: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Predicted loss at ``steps`` for the per-step LR array ``lr`` (unchecked: the callers in lrplan refuse
        non-finite values with their own context; :func:`predict` is the checked public form)."""
        spec = self.law_spec
        return spec.predict({**spec.defaults, **self.params}, lr, steps, self.warmup)

    def predict_history(self, hist: "History", steps: np.ndarray, exact_steps: int | None = None) -> np.ndarray:
        """:meth:`predict` for a run given as a :class:`~lrplan.laws.history.History`: from its per-step LR array
        when it has at most ``exact_steps`` (default :data:`EXACT_STEPS`) updates, else through the law's
        ``predict_history`` (unchecked, like :meth:`predict`)."""
        spec = self.law_spec
        limit = EXACT_STEPS if exact_steps is None else exact_steps
        if hist.total <= limit or spec.predict_history is None:
            return self.predict(_array(hist), steps)
        return spec.predict_history({**spec.defaults, **self.params}, hist, np.asarray(steps, dtype=np.int64),
                                    self.warmup)

    def predict_finals(self, hists: "list[History]", exact_steps: int | None = None) -> np.ndarray:
        """:meth:`predict_history` at the last step of each run (``lrplan plan``'s many runs at once)."""
        spec = self.law_spec
        limit = EXACT_STEPS if exact_steps is None else exact_steps
        out = np.empty(len(hists))
        long = [i for i, h in enumerate(hists) if h.total > limit and spec.predict_history is not None]
        for i in sorted(set(range(len(hists))) - set(long)):
            out[i] = self.predict_history(hists[i], np.array([hists[i].total - 1]), exact_steps)[0]
        if long and spec.predict_finals is not None:
            out[long] = spec.predict_finals({**spec.defaults, **self.params}, [hists[i] for i in long], self.warmup)
        else:
            for i in long:
                out[i] = self.predict_history(hists[i], np.array([hists[i].total - 1]), exact_steps)[0]
        return out

    def predict_finals_members(self, param_sets: "list[dict[str, float]]", hists: "list[History]",
                               exact_steps: int | None = None) -> np.ndarray:
        """:meth:`predict_finals` under each of ``param_sets`` (the law's ensemble), shape ``(K, len(hists))``, the
        same numbers as one set at a time: a short run's LR array is built once for all sets, and a law whose
        ``predict_finals`` takes every set at once (``.many``: the multi-power law) lays out the long runs' cells
        once."""
        spec = self.law_spec
        limit = EXACT_STEPS if exact_steps is None else exact_steps
        K = len(param_sets)
        out = np.empty((K, len(hists)))
        sets = [{**spec.defaults, **p} for p in param_sets]
        long = [i for i, h in enumerate(hists) if h.total > limit and spec.predict_history is not None]
        for i in sorted(set(range(len(hists))) - set(long)):
            lr = _array(hists[i])
            q = np.array([hists[i].total - 1])
            for k, p in enumerate(sets):
                out[k, i] = spec.predict(p, lr, q, self.warmup)[0]
        if long and spec.predict_finals is not None and getattr(spec.predict_finals, "many", False):
            out[:, long] = spec.predict_finals(sets, [hists[i] for i in long], self.warmup)
        elif long:
            for k, p in enumerate(param_sets):
                out[k, long] = dataclasses.replace(self, params=p).predict_finals([hists[i] for i in long], exact_steps)
        return out

    def curve(self, hist: "History", qs: "QuerySteps", exact_steps: int | None = None, chunk: int = 1 << 16):
        """The predicted loss at the query steps ``qs`` as ``(steps, lr, loss)`` blocks in step order (at most
        ``chunk`` rows each for a run of at most ``exact_steps`` updates, predicted as :meth:`predict_history`
        does; longer runs stream through the law's ``curve``)."""
        spec = self.law_spec
        limit = EXACT_STEPS if exact_steps is None else exact_steps
        if hist.total <= limit or spec.curve is None:
            lr = _array(hist)
            steps = qs.array()
            loss = np.asarray(self.predict(lr, steps), dtype=np.float64)
            for i in range(0, steps.size, chunk):
                yield steps[i : i + chunk], lr[steps[i : i + chunk]], loss[i : i + chunk]
            return
        yield from spec.curve({**spec.defaults, **self.params}, hist, qs, self.warmup)

    def to_dict(self) -> dict[str, Any]:
        """Plain-python dict (YAML/JSON-safe)."""
        return {"law": self.law, "params": {k: float(v) for k, v in self.params.items()}, "warmup": self.warmup,
                "window": _plain(self.window), "metrics": _plain(self.metrics), "flags": list(self.flags),
                "objective": float(self.objective), "meta": _plain(self.meta),
                **({"uncertainty": _plain(self.uncertainty)} if self.uncertainty else {})}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FittedLaw":
        """Validate a law file's mapping (law name, parameter names and domains, warmup convention)."""
        law = canonical(str(d["law"]))
        if law is None:
            raise DataError(f"unknown law {d['law']!r}; choose from {sorted(law_names())}")
        spec = get_law(law)
        params = {str(k): float(v) for k, v in d["params"].items()}
        missing = [n for n in spec.params if n not in params]
        if missing:
            raise DataError(f"law {law!r}: missing params {missing}")
        allowed = spec.all_params
        unknown = [k for k in params if k not in allowed]
        if unknown:
            raise DataError(f"law {law!r} has no parameter {unknown[0][:40]!r} (its parameters: {', '.join(allowed)})")
        for k, v in params.items():
            if not in_domain(v, spec.domains[k]):
                raise DataError(f"parameter {k} = {v:g} is outside its domain {domain_text(*spec.domains[k])}")
        if d.get("warmup") not in WARMUP_CONVENTIONS:
            raise DataError(f"unknown warmup convention {d.get('warmup')!r}; choose from {WARMUP_CONVENTIONS}")
        return cls(law=law, params=params, warmup=str(d["warmup"]), window=dict(d.get("window", {})),
                   metrics={k: dict(v) for k, v in d.get("metrics", {}).items()},
                   flags=tuple(d.get("flags", ())), objective=float(d.get("objective", float("nan"))),
                   meta=dict(d.get("meta", {})), uncertainty=_uncertainty(d.get("uncertainty"), spec))


def _uncertainty(u: Any, spec: "LawSpec") -> dict[str, Any]:
    """A law file's optional ``uncertainty`` section, its members checked like ``params`` (absent: ``{}``)."""
    if u is None:
        return {}
    if not isinstance(u, dict):
        raise DataError("'uncertainty' must be a mapping (written by `lrplan fit`)")
    members = u.get("members") or []
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        raise DataError("'uncertainty.members' must be a list of parameter mappings")
    for m in members:
        for k, v in m.items():
            if str(k) not in spec.all_params:
                raise DataError(f"uncertainty member has no parameter {str(k)[:40]!r}")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not in_domain(float(v), spec.domains[str(k)]):
                raise DataError(f"uncertainty member parameter {k} = {str(v)[:40]} is not a number in its domain")
    return dict(u)


def _array(hist: "History") -> np.ndarray:
    if hist.total > MAX_ARRAY_STEPS:
        from lrplan.errors import LrplanError

        raise LrplanError(f"{hist.total:,} steps is too many for this law, which reads every update's LR at once "
                          f"(up to {MAX_ARRAY_STEPS:,})")
    return hist.array()


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x)
    if isinstance(x, (np.integer, int)) and not isinstance(x, bool):
        return int(x)
    return x


def members_history(laws: "list[FittedLaw]", hist: "History", steps: np.ndarray,
                    exact_steps: int | None = None) -> np.ndarray:
    """:meth:`FittedLaw.predict_history` of each of a law's ensemble (``laws``, same law), ``(K, len(steps))``: a
    run longer than ``exact_steps`` under the multi-power law has its cells laid out once for every member
    (:func:`lrplan.laws.multipower.many_params`); otherwise member by member."""
    limit = EXACT_STEPS if exact_steps is None else exact_steps
    steps = np.asarray(steps, dtype=np.int64)
    if hist.total > limit and all(law.law == "multi-power" for law in laws):
        from lrplan.laws.multipower import many_params

        spec = laws[0].law_spec
        return np.asarray(many_params([{**spec.defaults, **law.params} for law in laws], hist, steps,
                                      laws[0].warmup), dtype=float)
    return np.array([np.asarray(law.predict_history(hist, steps, exact_steps), dtype=float) for law in laws])


def predict(law: FittedLaw, lr: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Predict with a :class:`FittedLaw` (``lrplan.predict``): its registered law's formula, with the law's
    defaults for the parameters the law file leaves out. ``lr`` is the LR of every update from step 0 (finite,
    non-negative), ``steps`` whole steps in ``[0, len(lr))``. Bad input, or a step with no finite prediction (no
    LR applied yet), raises :class:`lrplan.errors.DataError`."""
    if not isinstance(law, FittedLaw):
        raise DataError(f"predict needs a FittedLaw (from lrplan.fit or a law file), not {type(law).__name__}")
    try:
        lr_a = np.asarray(lr, dtype=np.float64)
        st = np.asarray(steps, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("predict: lr must be an array of numbers (the LR of every update) and steps whole step "
                        "numbers") from None
    if lr_a.ndim != 1 or lr_a.size == 0 or not np.all(np.isfinite(lr_a)) or np.any(lr_a < 0):
        raise DataError("predict: lr must be a non-empty 1-D array of finite, non-negative LRs, one per update")
    st = np.atleast_1d(st)
    if st.ndim != 1 or st.size == 0 or not np.all(np.isfinite(st)) or np.any(st != np.round(st)):
        raise DataError("predict: steps must be whole step numbers")
    if st.min() < 0 or st.max() >= lr_a.size:
        raise DataError(f"predict: steps must lie in 0..{lr_a.size - 1} (the LR array has {lr_a.size:,} updates)")
    st_i = st.astype(np.int64)
    with np.errstate(all="ignore"):
        y = np.asarray(law.predict(lr_a, st_i), dtype=np.float64)
    bad = ~np.isfinite(y)
    if bad.any():
        k = int(st_i[np.argmax(bad)])
        nz = np.flatnonzero(lr_a > 0)
        why = (f"no LR has been applied by then (the first update with LR > 0 is {int(nz[0]):,})"
               if nz.size and k <= int(nz[0]) else "the law's terms overflow there")
        raise DataError(f"predict: no finite prediction at step {k:,}: {why}")
    return y
