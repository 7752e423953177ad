"""Resolve a loss law for prediction and check what it may be used for.

* :func:`resolve_law`: the one loader: ``None`` -> the default built-in law, ``builtin:NAME``, or a ``law.yaml``
  (the output of ``lrplan fit``), validated with one-line errors;
* :func:`law_range` / :func:`range_detail`: the range a law was fitted for (peak LR, steps, tokens per step) and
  how far a schedule is from it;
* :func:`loss_floor` / :func:`check_predicted`: the lowest loss a law can give within its fitted peak LR; a
  prediction below it, non-finite or implausibly large is refused (:class:`OutsideLaw`);
* :func:`predictor_for`: a checked ``predict(lr, steps)`` for one spec (``lrplan plan``, ``plot --loss``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lrplan.errors import LrplanError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from lrplan.laws.fitted import FittedLaw

DEFAULT_LAW = "builtin:mpl-400m"
PEAK_TOLERANCE = 1.25  # peak LR within [1/1.25, 1.25] x the law's: no warning
LENGTH_TOLERANCE = 3.0  # up to 3x the longest fitted curve (the MPL protocol tests 3x horizons)
TPS_TOLERANCE = 2.0


# ------------------------------------------------------------------------------------------------ laws


@dataclass
class ResolvedLaw:
    """A law ready to predict: the :class:`FittedLaw`, how the user named it, and its source dict."""

    fitted: "FittedLaw"
    label: str
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.fitted.meta or {})


def _builtin(name: str) -> ResolvedLaw:
    from lrplan.laws.builtin import BUILTIN_DIR, builtin_names, load_law

    names = builtin_names()
    if name not in names:
        raise LrplanError(f"no built-in law {name!r}; built-in laws: {', '.join(names)} (see `lrplan laws`)")
    law = load_law(BUILTIN_DIR / f"{name}.yaml")  # only the one asked for
    return ResolvedLaw(law, f"builtin:{name}", law.to_dict())


def load_law_file(path: str | Path) -> ResolvedLaw:
    """Load and validate a law file (``lrplan fit`` output or a built-in's YAML); one-line errors."""
    import yaml

    from lrplan.laws.fitted import FittedLaw
    from lrplan.laws.logs import read_text
    from lrplan.spec.yamlio import safe_load

    p = str(path)
    text, _ = read_text(path, what="law")
    try:
        data = safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise LrplanError(f"{p}{where}: not valid YAML ({getattr(e, 'problem', None) or 'syntax error'})") from None
    except (ValueError, RecursionError, OverflowError) as e:
        raise LrplanError(f"{p}: not a readable law file ({type(e).__name__})") from None
    if not isinstance(data, dict):
        raise LrplanError(f"{p}: not a law file: expected a mapping with law, params, warmup (from `lrplan fit`)")
    for key in ("law", "params", "warmup"):
        if key not in data:
            raise LrplanError(f"{p}: not a law file: missing {key!r} (write one with `lrplan fit`)")
    if not isinstance(data["params"], dict):
        raise LrplanError(f"{p}: 'params' must be a mapping of parameter names to numbers")
    for k, v in data["params"].items():
        if not _finite_number(v):
            raise LrplanError(f"{p}: parameter {str(k)[:40]!r} is {str(v)[:40]!r}, not a finite number")
    for key in ("window", "metrics", "meta"):
        if key in data and data[key] is not None and not isinstance(data[key], dict):
            raise LrplanError(f"{p}: {key!r} must be a mapping")
    if data.get("metrics") and not all(isinstance(v, dict) for v in data["metrics"].values()):
        raise LrplanError(f"{p}: 'metrics' must map curve names to metric mappings")
    if "flags" in data and not isinstance(data["flags"], (list, tuple, type(None))):
        raise LrplanError(f"{p}: 'flags' must be a list")
    clean = {k: v for k, v in data.items() if v is not None}
    try:
        fitted = FittedLaw.from_dict(clean)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise LrplanError(f"{p}: not a valid law file: {msg[:300]}") from None
    _check_law_shape(fitted, p)
    return ResolvedLaw(fitted, p, data)


def _finite_number(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def _check_law_shape(fitted: "FittedLaw", where: str) -> None:
    """Evaluate the law on a tiny reference schedule: a law whose formula gives NaN is refused up front."""
    import numpy as np

    peak = law_range(fitted.meta or {}).get("peak_lr", 3e-4)  # a plain schedule at the law's own peak LR
    lr = peak * np.concatenate([np.linspace(1 / 30, 1, 10), np.ones(90), np.linspace(1, 0.1, 100)])
    try:
        with np.errstate(all="ignore"):
            out = fitted.predict(lr, np.array([20, 99, 199]))
    except (ValueError, TypeError, KeyError, ZeroDivisionError, OverflowError) as e:
        raise LrplanError(f"{where}: the law's parameters cannot be evaluated ({str(e)[:200]})") from None
    if not np.all(np.isfinite(out)):
        raise LrplanError(f"{where}: the law's parameters give a non-finite loss; re-fit it with `lrplan fit`")
    bad = _not_a_loss(out)
    if bad.any():
        raise LrplanError(f"{where}: the law's parameters give a loss of {float(out[np.argmax(bad)]):.4g} "
                          "nats on a plain 200-step schedule (not a loss); re-fit it with `lrplan fit`")


def _not_a_loss(y: "np.ndarray") -> "np.ndarray":
    """Where predicted values cannot be a loss in nats/token: non-finite, <= 0, or above ``logs.MAX_LOSS``."""
    import numpy as np

    from lrplan.laws.logs import MAX_LOSS

    return ~np.isfinite(y) | (y <= 0) | (y > MAX_LOSS)


def resolve_law(law: str | None) -> ResolvedLaw:
    """``None`` -> the default built-in law; ``builtin:NAME`` (or a bare built-in NAME that is not a file) -> that
    built-in; anything else -> a law file."""
    if law is None or not str(law).strip():
        return _builtin(DEFAULT_LAW.split(":", 1)[1])
    law = str(law)
    if law.startswith("builtin:"):
        return _builtin(law.split(":", 1)[1])
    try:
        exists = Path(law).exists()
    except (OSError, ValueError):
        exists = False
    if not exists:
        from lrplan.laws.builtin import BUILTIN_DIR

        if (BUILTIN_DIR / f"{law}.yaml").is_file():
            return _builtin(law)
        raise LrplanError(f"{law}: no such law file (and no built-in law of that name; see `lrplan laws`)")
    return load_law_file(law)


def law_range(meta: dict[str, Any]) -> dict[str, Any]:
    """What a law was fitted for: ``peak_lr`` (and ``peak_lr_range`` when fitted on several), ``steps`` (first,
    last fitted step), ``tokens_per_step``.  A malformed entry is left out without losing the others."""
    def positive(v: Any) -> float | None:
        try:
            f = float(v)
        except (TypeError, ValueError, OverflowError):
            return None
        return f if math.isfinite(f) and f > 0 else None

    out: dict[str, Any] = {}
    peak = positive(meta.get("peak_lr"))
    if peak is not None:
        out["peak_lr"] = peak
    pr = meta.get("peak_lr_range")
    if isinstance(pr, (list, tuple)) and len(pr) == 2:
        lo, hi = positive(pr[0]), positive(pr[1])
        if lo is not None and hi is not None and lo <= hi:
            out["peak_lr_range"] = (lo, hi)
    r = meta.get("fitted_step_range")
    if isinstance(r, (list, tuple)) and len(r) == 2:
        try:
            out["steps"] = (int(r[0]), int(r[1]))
        except (TypeError, ValueError, OverflowError):
            pass
    tps = positive(meta.get("tokens_per_step"))
    if tps is not None and tps < 2**63:
        out["tokens_per_step"] = int(tps)
    return out


def law_description(res: ResolvedLaw) -> str:
    """One line: which law, fitted on what, for which range."""
    m = res.meta
    rng = law_range(m)
    parts = [res.fitted.law]
    if m.get("reference_model"):
        parts.append(str(m["reference_model"]))
    fit_for = []
    lo_hi, one = _peaks(rng)
    if lo_hi:
        fit_for.append(f"peak LR {lo_hi[0]:.3g}-{lo_hi[1]:.3g}")
    elif one is not None:
        fit_for.append(f"peak LR {one:.3g}")
    if "steps" in rng:
        fit_for.append(f"runs of up to {rng['steps'][1] + 1:,} steps, from step {rng['steps'][0]:,}")
    if "tokens_per_step" in rng:
        fit_for.append(f"{rng['tokens_per_step']:,} tokens/step")
    if fit_for:
        parts.append("fitted for " + ", ".join(fit_for))
    return f"law {res.label} ({'; '.join(parts)})"


def _ratio(r: float) -> str:
    """``1.25x``; far from 1 in three significant digits (``3.3e+96x``, not a 100-digit number)."""
    return f"{r:.2f}x" if 0.01 <= r < 1000 else f"{r:.3g}x"


def range_check(res: ResolvedLaw, name: str, lr: Any, tokens_per_step: int | None) -> tuple[str, bool]:
    """``(line, outside)``: ``name: `` and :func:`range_detail`."""
    detail, outside = range_detail(res, lr, tokens_per_step)
    return f"{name}: {detail}", outside


def _peak_size(lr: Any) -> tuple[float, int]:
    """The largest LR and the number of updates of an LR array or a :class:`~lrplan.laws.history.History`."""
    from lrplan.laws.history import History

    if isinstance(lr, History):
        return lr.peak(), lr.total
    return float(lr.max()), int(lr.size)


def _peaks(rng: dict) -> tuple[list | None, float | None]:
    """``(range, None)`` for a law fitted at several peak LRs, else ``(None, its one peak LR)`` (``None`` when it
    records none); a range whose ends agree to 3 significant digits is one peak LR (runs logged at 0.003 and
    0.0030000001 are one peak)."""
    lo_hi = rng.get("peak_lr_range")
    if lo_hi and f"{lo_hi[0]:.3g}" != f"{lo_hi[1]:.3g}":
        return lo_hi, None
    if "peak_lr" in rng:
        return None, float(rng["peak_lr"])
    return None, (float(lo_hi[1]) if lo_hi else None)


def range_detail(res: ResolvedLaw, lr: Any, tokens_per_step: int | None) -> tuple[str, bool]:
    """``(text, outside)``: how a schedule (its LR array or :class:`~lrplan.laws.history.History`) compares with
    the law's fitted range (peak LR, length, tokens/step)."""
    rng = law_range(res.meta)
    parts: list[str] = []
    outside = False
    peak, size = _peak_size(lr)
    lo_hi, one = _peaks(rng)
    if lo_hi:  # fitted on runs of several peak LRs
        r_lo, r_hi = peak / lo_hi[0], peak / lo_hi[1]
        parts.append(f"peak LR {peak:.3g} vs the law's {lo_hi[0]:.3g}-{lo_hi[1]:.3g}")
        outside |= not (r_lo >= 1 / PEAK_TOLERANCE and r_hi <= PEAK_TOLERANCE)
    elif one is not None:
        r = peak / one
        parts.append(f"peak LR {peak:.3g} = {_ratio(r)} the law's {one:.3g}")
        outside |= not (1 / PEAK_TOLERANCE <= r <= PEAK_TOLERANCE)
    if "steps" in rng:
        last = rng["steps"][1]
        r = size / max(1, last + 1)
        parts.append(f"length {size:,} steps = {_ratio(r)} its longest fitted curve ({last + 1:,})")
        outside |= r > LENGTH_TOLERANCE or size <= rng["steps"][0]
    if "tokens_per_step" in rng and tokens_per_step:
        r = tokens_per_step / rng["tokens_per_step"]
        parts.append(f"{tokens_per_step:,} tokens/step = {_ratio(r)} its {rng['tokens_per_step']:,}")
        outside |= not (1 / TPS_TOLERANCE <= r <= TPS_TOLERANCE)
    if not parts:
        return "the law does not record its fitted range; cannot tell how far this extrapolates", True
    tail = " (outside the fitted range: the prediction extrapolates)" if outside else ""
    return f"{'; '.join(parts)}{tail}", outside


class OutsideLaw(LrplanError):
    """The law gives no plausible loss for the schedule (:func:`check_predicted`): it cannot evaluate it."""


class _Lazy:
    """An LR array computed only if a law's ``loss_bound`` reads it (``np.asarray``)."""

    def __init__(self, make: Any) -> None:
        self._make = make

    def __array__(self, dtype: Any = None, copy: Any = None) -> "np.ndarray":
        import numpy as np

        return np.asarray(self._make(), dtype=dtype)


def loss_floor(res: ResolvedLaw, lr: Any = None, exact_steps: int | None = None) -> float:
    """A loss below which the law's prediction cannot come from a schedule within its fitted peak LR (0 if the
    peak is not recorded): the law's own ``loss_bound`` (:class:`~lrplan.laws.base.LawSpec`; e.g. multi-power
    ``L0 - B * peak**kappa``), given this schedule's LR.  A prediction below the floor comes from the law's terms
    outgrowing their range (e.g. a peak LR far above the fitted one)."""
    rng = law_range(res.meta)
    peak = rng["peak_lr_range"][1] if "peak_lr_range" in rng else rng.get("peak_lr")
    if peak is None:
        return 0.0
    from lrplan.laws.history import History

    if isinstance(lr, History):  # a short run's every LR; a long run's samples (exact for monotone phases)
        from lrplan.laws.fitted import EXACT_STEPS

        lr = _Lazy(lr.array if lr.total <= (EXACT_STEPS if exact_steps is None else exact_steps) else lr.sample)
    return max(res.fitted.law_spec.loss_bound(res.fitted.params, peak, lr), 0.0)


def check_predicted(res: ResolvedLaw, y: "np.ndarray", q: "np.ndarray", what: str, context: str = "",
                    lr: Any = None, floor: float | None = None, exact_steps: int | None = None) -> None:
    """Raise :class:`OutsideLaw` unless every predicted loss is finite and at least :func:`loss_floor` (of the
    LR array or :class:`~lrplan.laws.history.History` ``lr`` up to the last step of ``q``; or ``floor``)."""
    import numpy as np

    from lrplan.laws.history import History
    from lrplan.laws.logs import MAX_LOSS

    if floor is None:
        last = int(np.max(q)) + 1
        floor = loss_floor(res, None if lr is None else lr.prefix(last) if isinstance(lr, History) else lr[:last],
                           exact_steps)
    bad = _not_a_loss(y) | (y < floor)
    if bad.any():
        k = int(np.argmax(bad))
        if not np.isfinite(y[k]):
            got = "a non-finite loss"
        elif y[k] > MAX_LOSS:
            got = f"a loss of {y[k]:.4g} nats (implausibly large),"
        else:
            got = (f"a loss of {y[k]:.4g}, below the lowest it gives for any schedule within its fitted peak LR "
                   f"({floor:.4g}),")
        tail = f" ({context})" if context else " (compare its peak LR and length with `lrplan laws`)"
        raise OutsideLaw(f"{what}: law {res.label} gives {got} at step {int(q[k]):,}: the schedule is too far "
                          f"outside what the law was fitted for{tail}")




class Predictor:
    """A law's predictor for ``lrplan plan``: ``predictor(lr, steps)`` for a per-step LR array (as before), and
    :meth:`history` for a run given as a :class:`~lrplan.laws.history.History`. With a resolved law (``res``)
    every prediction is checked (:func:`check_predicted`: raises :class:`LrplanError` where the law cannot
    evaluate the schedule); a bare :class:`~lrplan.laws.FittedLaw` (``lrplan.plan(spec, law=fitted)``) is not."""

    def __init__(self, fitted: "FittedLaw", res: ResolvedLaw | None = None, name: str = "", detail: str = ""):
        self.fitted, self.res, self.name, self.detail = fitted, res, name, detail

    def __call__(self, lr: "np.ndarray", q: "np.ndarray") -> "np.ndarray":
        import numpy as np

        with np.errstate(all="ignore"):
            y = np.asarray(self.fitted.predict(lr, q), dtype=float)
        if self.res is not None:
            check_predicted(self.res, y, np.asarray(q), self.name, self.detail, lr)
        return y

    def history(self, hist: Any, q: "np.ndarray", exact_steps: int | None = None) -> "np.ndarray":
        """The loss at steps ``q`` of ``hist``: from its per-step LR array when it has at most ``exact_steps``
        updates (the same numbers as :meth:`__call__`), else from the law's sampled evaluation."""
        import numpy as np

        q = np.asarray(q, dtype=np.int64)
        with np.errstate(all="ignore"):
            y = np.asarray(self.fitted.predict_history(hist, q, exact_steps), dtype=float)
        if self.res is not None:
            check_predicted(self.res, y, q, self.name, self.detail, hist, exact_steps=exact_steps)
        return y

    def finals(self, hists: list, exact_steps: int | None = None) -> "list[np.ndarray | Exception]":
        """:meth:`history` at the last step of each run (many runs at once); per run the loss (an array of one)
        or the :class:`LrplanError` its check raised."""
        import numpy as np

        with np.errstate(all="ignore"):
            y = np.asarray(self.fitted.predict_finals(hists, exact_steps), dtype=float)
        out: list = []
        for h, v in zip(hists, y):
            q = np.array([h.total - 1])
            try:
                if self.res is not None:
                    check_predicted(self.res, np.array([v]), q, self.name, self.detail, h, exact_steps=exact_steps)
                out.append(np.array([v]))
            except LrplanError as e:
                out.append(e)
        return out


    def member_laws(self) -> "list[FittedLaw]":
        """The law's ensemble (:mod:`lrplan.laws.bands`): the centre (this law) first, then the members its law
        file records (none for a law fitted before bands)."""
        if getattr(self, "_members", None) is None:
            import dataclasses

            from lrplan.laws.bands import members_of

            sets = members_of(self.fitted.uncertainty, self.fitted.params)
            self._members = [self.fitted] + [dataclasses.replace(self.fitted, params=p, uncertainty={})
                                             for p in sets[1:]]
        return self._members

    @property
    def rmse(self) -> float:
        """The law's fit RMS residual in nats (the scale of the bands' model-error term)."""
        from lrplan.laws.bands import fit_rmse

        return fit_rmse(self.fitted)

    def member_finals(self, hists: list, exact_steps: int | None = None) -> "np.ndarray":
        """The final loss of each run under every member of the law's ensemble, shape ``(K, len(hists))``: row 0
        is the centre (the numbers :meth:`finals` gives, unchecked), rows 1.. the members; a non-finite member
        value is replaced by the centre's. A :class:`lrplan.laws.bands.Members` (it carries :attr:`rmse` for
        :func:`lrplan.laws.bands.final_band` / :func:`~lrplan.laws.bands.difference_band`)."""
        import numpy as np

        from lrplan.laws.bands import Members, gains

        laws = self.member_laws()
        with np.errstate(all="ignore"):  # the ensemble at once: a long run's cells are laid out once for all members
            out = np.asarray(self.fitted.predict_finals_members([m.params for m in laws], hists, exact_steps),
                             dtype=float).reshape(len(laws), len(hists))
        out[1:] = np.where(np.isfinite(out[1:]), out[1:], out[0][None, :])
        g = gains(self.fitted, hists, [[h.total - 1] for h in hists], [[c] for c in out[0]], exact_steps)
        return Members(out, self.rmse, None if g is None else np.concatenate(g))

    def member_history(self, hist: Any, q: "np.ndarray", exact_steps: int | None = None) -> "np.ndarray | None":
        """:meth:`member_finals` at steps ``q`` of one run (a WSD-S run's checkpoints: each member reads the run
        once), ``(K, len(q))``; ``None`` when the centre is not finite there."""
        import numpy as np

        from lrplan.laws.bands import Members, gains
        from lrplan.laws.fitted import members_history

        with np.errstate(all="ignore"):
            m = members_history(self.member_laws(), hist, q, exact_steps)
        if m.ndim != 2 or not np.isfinite(m[0]).all():
            return None
        m[1:] = np.where(np.isfinite(m[1:]), m[1:], m[0][None, :])
        g = gains(self.fitted, [hist], [q], [m[0]], exact_steps)
        return Members(m, self.rmse, None if g is None else g[0])


def predictor_for(law: str | None, spec: Any, required: bool):
    """``(predict, label, warning)`` for ``--law FILE|builtin:NAME`` or the built-in default law (``lrplan plan``
    and :func:`lrplan.plan`): ``predict`` is a checked :class:`Predictor`; ``(None, None, None)`` if the law
    cannot be resolved and none was required. ``predict`` raises :class:`LrplanError` where the law cannot
    evaluate the schedule (:func:`check_predicted`). ``warning``: a plain line saying how far ``spec`` is outside
    the law's fitted range (``None`` when it is inside), for the caller to print."""
    try:
        res = resolve_law(law)
    except LrplanError:
        if required:
            raise
        return None, None, None
    from lrplan.laws.history import History

    name = spec.name or "the plan"
    detail, outside = "", False
    try:
        detail, outside = range_detail(res, History.from_plan(spec.schedule_plan()), spec.schedule_plan().tokens_per_step)
    except LrplanError:
        pass
    warning = f"law {res.label}: {name}: {detail}" if outside else None
    return Predictor(res.fitted, res, name, detail), res.label, warning
