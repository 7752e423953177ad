"""``lrplan probe``: the cheapest extra run that makes a fitted law trustworthy for the schedules a user is choosing
between (issue 16 point 3).

A fit on a constant and a cosine run leaves the annealing kernel's rate undetermined; :mod:`lrplan.laws.bands`
keeps an ensemble of equally good parameter sets ("members") along it. A probe run is a short cooldown branched off
a constant-LR trunk. The members disagree on its loss curve, so observing it tells them apart. How much it helps is
computed from the members alone (Bayesian experimental design with the ensemble as the prior sample):

1. the *decision*: the quantities the comparison turns on, per member: each schedule's final loss minus the
   best one's (one schedule: its final loss);
2. for a candidate probe, each member's predicted probe curve at the probe's eval steps;
3. if member ``j`` were the truth, the observed curve would be its curve plus noise of the fit's RMS residual
   ``sigma``: every member ``m`` is re-weighted by ``exp(-|Y_m - Y_j|^2 / (2 sigma^2))``;
4. the expected spread of the decision after the probe is the weighted standard deviation, averaged over the
   members as truth (all members equally likely a priori) and over the decision's columns.

The recommended probe branches at the latest candidate branch point; among the cooldown lengths there, the one with
the smallest expected spread (within :data:`NEAR_BEST` of it: the cheapest). Late, because the law is not exact: the kernel rate a cooldown reveals
depends on where in training it happens, and on ``lrplan_gpt19m_code`` a cooldown at 20 % of the run pins the
members that are wrong about cooldowns at its end (``benchmarks/probe_19m.py``: the pure-information choice,
``wsd_branch_25``, leaves the mean |final error| at 0.042; ``wsd_branch_75`` brings it to 0.0095). Branching off an
existing trunk costs only the cooldown, wherever it branches. So a probe branches off the latest
:data:`LOG_BRANCH_FRACTIONS` of a constant-LR log, or, without one, off the planned run's own stable phase at
:data:`PLAN_BRANCH_FRACTIONS` of it (its answer arrives while the run still has its cooldown ahead). A second probe
is recommended only if the first leaves a material spread (:data:`MATERIAL`) and, together with the first, it cuts
it by another :data:`SECOND_GAIN`. The
probe's compute is its cooldown's updates, as a fraction of the longest planned run.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from lrplan.errors import LrplanError

LOG_BRANCH_FRACTIONS = (0.75, 1.0)
"""Branch points off a constant-LR log, as fractions of its constant stretch."""
PLAN_BRANCH_FRACTIONS = (0.25, 0.5)
"""Branch points off the planned run's own stable phase (no constant-LR log), as fractions of the planned run."""
DECAY_FRACTIONS = (0.05, 0.1, 0.2)
"""Cooldown lengths, as fractions of the branch point."""
EVAL_POINTS = 15
"""Evaluations over the cooldown (every ``decay / EVAL_POINTS`` updates, from the drop to the end)."""
NEAR_BEST = 0.1
"""Probes whose expected spread is within this fraction of the best one's count as equally good: the cheapest wins."""
SECOND_GAIN = 0.25
"""A second probe is recommended only if it cuts the remaining spread by at least this fraction."""
MAX_TRUNK_STEPS = 1 << 22
"""A planned run longer than this is not rendered to branch from (its first ``MAX_TRUNK_STEPS`` updates are)."""
MATERIAL = 0.002 / 1.6448536269514722
"""A second probe only if the first leaves a decision spread (standard deviation) above this: a 90 % range of
0.002 nats, the smallest final-loss difference issue 16 counts as a ranking."""
FLAT_RTOL = 0.01
"""An LR within this relative tolerance of the run's peak counts as constant (the trunk's stable stretch)."""


@dataclass(frozen=True)
class Trunk:
    """A constant-LR stretch to branch probes from: its LRs from step 0, the step where it ends (exclusive), where
    it starts (the end of its warmup), its name (a log's run, or ``None``: the planned run's own stable phase, at its
    peak LR after its warmup)."""

    lr: np.ndarray
    end: int
    start: int
    name: str | None
    kind: str = "log"
    """``"log"`` (a constant-LR log), ``"plan"`` (a planned run's stable phase) or ``"scratch"`` (to be run first)."""
    run: str | None = None
    """The log's curve name (``kind == "log"``) or the planned run's name (``"plan"``)."""


@dataclass(frozen=True)
class Probe:
    """A probe run: the trunk's LRs to ``branch``, then a linear decay to 0 over ``decay`` updates; evaluated every
    ``eval_every`` updates from the drop to the end. ``cost``: the updates it needs beyond the logs."""

    branch: int
    decay: int
    eval_every: int
    cost: int
    trunk: str | None
    given_lr: np.ndarray | None = field(default=None, compare=False, hash=False, repr=False)
    """A probe that was run already (the benchmark's real branches): its LR at every update, used as it is."""

    @property
    def steps(self) -> int:
        return self.branch + self.decay

    def lr(self, trunk: Trunk) -> np.ndarray:
        """Its LR at every update: the trunk's to ``branch``, then the decay of :func:`probe_spec` as lrplan
        renders it (``wsd``, ``decay_shape: linear``, ``min_lr: 0``), so the probe is exactly its exported config."""
        if self.given_lr is not None:
            return self.given_lr
        from lrplan.spec.loading import load_spec

        spec_lr = np.asarray(load_spec(probe_spec(self, trunk)).schedule_plan().render().lr, dtype=np.float64)
        if trunk.kind == "scratch":  # from scratch: the whole run is the spec
            return spec_lr
        return np.concatenate([trunk.lr[: self.branch], spec_lr[self.branch :]])

    def eval_steps(self) -> np.ndarray:
        """The steps whose loss the probe must log: the drop and every ``eval_every`` updates to its end."""
        s = np.arange(self.branch - 1, self.steps, self.eval_every, dtype=np.int64)
        return np.unique(np.concatenate([s, [self.steps - 1]]))


@dataclass
class Recommendation:
    """The probes chosen (one or two), the decision's spread before and expected after each, and every candidate's
    score ``(probe, expected spread)``."""

    probes: list[Probe]
    spread_before: float
    spread_after: list[float]
    plan_steps: int
    members: int
    sigma: float
    scores: list[tuple[Probe, float]] = field(default_factory=list)

    def fraction(self, p: Probe) -> float:
        """The probe's compute as a fraction of the longest planned run."""
        return p.cost / self.plan_steps


def member_laws(fitted: Any) -> list[Any]:
    """The law's members as :class:`~lrplan.laws.fitted.FittedLaw` objects (centre first)."""
    from lrplan.laws.bands import members_of

    return [dataclasses.replace(fitted, params=p) for p in members_of(fitted.uncertainty, dict(fitted.params))]


def trunk_of(curves: Sequence[Any], plans: Sequence[tuple[str, np.ndarray]] = (), plan_peak: float = 0.0,
             plan_warmup: int = 0, plan_steps: int = 0) -> Trunk:
    """Where to branch probes from: the longest constant-LR stretch among the logs' curves (``.lr``, ``.name``;
    its LR within :data:`FLAT_RTOL` of the curve's peak from its warmup to its last logged update, for at least
    half the curve); else the longest stable phase among the planned runs (``plans``: ``(name, lr)``); else a
    constant run from scratch (linear warmup over ``plan_warmup`` updates to ``plan_peak``, to ``plan_steps``)."""
    def longest(items: Sequence[tuple[str, np.ndarray]], what: str, kind: str) -> Trunk | None:
        best: Trunk | None = None
        for name, lr in items:
            lr = np.asarray(lr, dtype=np.float64)
            if lr.size < 4:
                continue
            peak = float(lr.max())
            flat = np.abs(lr - peak) <= FLAT_RTOL * peak
            start = int(np.argmax(flat))
            end = lr.size if flat[start:].all() else start + int(np.argmin(flat[start:]))
            start = int(np.argmax(lr >= peak * (1 - 1e-12)))  # the warmup: up to the first update at the peak
            if end - start >= lr.size // 2 and (best is None or end - start > best.end - best.start):
                best = Trunk(lr[:end], end, start, what.format(name), kind, name)
        return best

    got = longest([(str(c.name), c.lr) for c in curves], "your constant-LR run {}", "log")
    got = got or longest(list(plans), "the stable phase of your planned run {} (save a checkpoint there)", "plan")
    if got is not None:
        return got
    w = max(int(plan_warmup), 0)
    k = np.arange(plan_steps, dtype=np.float64)
    lr = np.where(k < w, plan_peak * (k + 1) / max(w, 1), plan_peak)
    return Trunk(lr, plan_steps, w, None, "scratch")


def candidates(trunk: Trunk, branch_fractions: Sequence[float] | None = None,
               decay_fractions: Sequence[float] = DECAY_FRACTIONS) -> list[Probe]:
    """Probes branching off ``trunk`` (a log: at :data:`LOG_BRANCH_FRACTIONS` of its constant stretch; the plan's
    own: at :data:`PLAN_BRANCH_FRACTIONS` of the run), decaying over fractions of the branch point (whole updates;
    duplicates and branches inside the warmup dropped). Each costs its cooldown, plus its trunk when that must be
    run first (no log or planned run to branch from)."""
    if branch_fractions is None:
        branch_fractions = LOG_BRANCH_FRACTIONS if trunk.kind == "log" else PLAN_BRANCH_FRACTIONS
    out: dict[tuple[int, int], Probe] = {}
    for f in branch_fractions:
        b = (trunk.start + int(round(f * (trunk.end - trunk.start)))) if trunk.kind == "log" else int(round(f * trunk.end))
        if b <= trunk.start or b > trunk.end:
            continue
        for g in decay_fractions:
            d = max(int(round(g * b)), EVAL_POINTS)
            cost = b + d if trunk.kind == "scratch" else d
            out.setdefault((b, d), Probe(b, d, max(d // EVAL_POINTS, 1), cost, trunk.name))
    return sorted(out.values(), key=lambda p: (p.cost, p.branch, p.decay))


def decision(laws: Sequence[Any], hists: Sequence[Any]) -> np.ndarray:
    """Per member (rows), what the comparison turns on (columns): each schedule's final loss minus that of the best
    one under the centre, the best left out; one schedule: its final loss."""
    with np.errstate(all="ignore"):
        F = np.array([np.asarray(m.predict_finals(list(hists)), dtype=float) for m in laws])
    if not np.isfinite(F).all():
        raise LrplanError("the law gives a non-finite loss for a schedule: it cannot evaluate these plans")
    if F.shape[1] == 1:
        return F
    best = int(np.argmin(F[0]))
    return np.delete(F - F[:, [best]], best, axis=1)


def probe_curves(laws: Sequence[Any], trunk: Trunk, p: Probe) -> np.ndarray:
    """Each member's predicted loss at the probe's eval steps (members x steps)."""
    lr, q = p.lr(trunk), p.eval_steps()
    with np.errstate(all="ignore"):
        Y = np.array([np.asarray(m.predict(lr, q), dtype=float) for m in laws])
    return np.where(np.isfinite(Y), Y, np.nan)


def expected_spread(D: np.ndarray, Ys: Sequence[np.ndarray], sigma: float) -> float:
    """The decision's expected standard deviation over the members once the probe curves ``Ys`` are observed with
    noise ``sigma`` (module docstring, steps 3-4). No probes: the prior spread."""
    K = D.shape[0]
    d2 = np.zeros((K, K))
    for Y in Ys:
        Y = np.where(np.isfinite(Y), Y, np.nanmean(Y, axis=0, keepdims=True))
        d2 += ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(axis=2)
    logw = -d2 / (2.0 * sigma * sigma)  # row j: the truth; column m: a member
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    mean = w @ D  # (truth, column)
    var = np.einsum("jm,jmc->jc", w, (D[None, :, :] - mean[:, None, :]) ** 2)
    return float(np.sqrt(np.maximum(var, 0.0)).mean())


def recommend(fitted: Any, hists: Sequence[Any], trunk: Trunk, plan_steps: int,
              probes: Sequence[Probe] | None = None, max_runs: int = 2) -> Recommendation:
    """The probe run(s) for ``hists`` (the planned schedules, :class:`~lrplan.laws.history.History`) under
    ``fitted`` (with its members), branching off ``trunk`` (candidates: :func:`candidates`, or ``probes``)."""
    from lrplan.laws.bands import fit_rmse

    laws = member_laws(fitted)
    if len(laws) < 2:
        raise LrplanError("the law has no ensemble of fits to tell apart (fitted before lrplan recorded one, or on "
                          "data that determine it): refit it with `lrplan fit` to get its uncertainty")
    sigma = max(fit_rmse(fitted), 1e-6)
    D = decision(laws, hists)
    cands = list(probes) if probes is not None else candidates(trunk)
    if not cands:
        raise LrplanError("no probe fits the trunk: its constant stretch is too short to branch from")
    curves = {p: probe_curves(laws, trunk, p) for p in cands}
    before = expected_spread(D, [], sigma)
    scores = [(p, expected_spread(D, [curves[p]], sigma)) for p in cands]
    latest = max(p.branch for p in cands)
    pool = [(p, s) for p, s in scores if p.branch == latest]
    top = min(s for _, s in pool)
    first = min((p for p, s in pool if s <= top * (1 + NEAR_BEST) + 1e-15), key=lambda p: (p.cost, p.decay))
    chosen, after = [first], [next(s for p, s in scores if p is first)]
    if max_runs > 1 and after[0] > MATERIAL:
        pair = [(p, expected_spread(D, [curves[first], curves[p]], sigma)) for p in cands if p is not first]
        if pair:
            top2 = min(s for _, s in pair)
            p2 = min((p for p, s in pair if s <= top2 * (1 + NEAR_BEST) + 1e-15), key=lambda p: (-p.branch, p.cost))
            s2 = next(s for p, s in pair if p is p2)
            if s2 <= after[0] * (1 - SECOND_GAIN):
                chosen.append(p2)
                after.append(s2)
    return Recommendation(chosen, before, after, plan_steps, len(laws), sigma, scores)


def probe_spec(p: Probe, trunk: Trunk, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The probe as an lrplan spec mapping (``wsd``, linear to 0 over its decay), so ``lrplan render --format
    megatron|torchtitan`` gives its config. ``base``: the planned spec's mapping, for its batch/sequence length."""
    peak = float(trunk.lr[p.branch - 1])
    budget: dict[str, Any] = {"steps": int(p.steps)}
    for k in ("batch_size", "seq_len", "tokens_per_step"):
        if base and base.get("budget", {}).get(k) is not None:
            budget[k] = base["budget"][k]
    return {"name": f"probe-branch{p.branch}-decay{p.decay}", "budget": budget,
            "schedule": {"kind": "wsd", "peak_lr": peak, "min_lr": 0.0, "warmup": int(trunk.start),
                         "decay": f"{p.decay} steps", "decay_shape": "linear"}}


def describe(p: Probe, r: Recommendation) -> str:
    """One sentence a user can act on."""
    src = p.trunk or "a constant-LR run at your plan's peak LR and warmup (run it first; its cost is included)"
    frac = r.fraction(p)
    return (f"branch off {src} after {p.branch:,} updates and decay linearly to 0 over {p.decay:,} steps; log the "
            f"eval loss every {p.eval_every:,} steps over the cooldown (lrplan steps {p.branch - 1:,}..{p.steps - 1:,}) "
            f"({p.cost:,} updates of compute = {frac:.1%} of the planned {r.plan_steps:,}-step run)")


def spread_text(v: float) -> str:
    """``± 0.0123``: a 90 % range (1.645 standard deviations) of the decision."""
    if not math.isfinite(v):
        return "-"
    w = 1.6448536269514722 * v
    return f"± {w:.4f}" if w >= 5e-5 else "± <0.0001"
