"""Predicted losses of a plan's checkpoints (WSD, WSD-S, cosine per budget) with a loss law, and
``--optimize``: the decay fraction and shape per budget with the lowest predicted loss.

A law's :class:`~lrplan.laws.resolve.Predictor` reads each run as a :class:`~lrplan.laws.history.History`, never
rendered: a run of at most :data:`PLAN_EXACT_STEPS` updates is predicted from its per-step LRs (the numbers
``lrplan plan`` always gave), a longer one from the law's sampled cells, whose cost does not grow with the run.
The WSD branches share the trunk (warmup and stable phase): each branch is the trunk's first steps followed by
its own decay, so the trunk's sums are computed once (:meth:`~lrplan.laws.history.History.prefix`). ``--optimize``
scores its candidates with the sampled cells (a WSD-S candidate is the run chosen so far followed by a stable
stretch and the candidate decay, built as the WSD-S family lays it out), so its cost is linear in the number of
budgets, and gives each winner's loss as :func:`predictions` would.

A plain ``predict(lr, steps)`` callable (any function of the per-step LR array) is also accepted: each run is
then rendered and every candidate built from its spec, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from lrplan.errors import LrplanError, spec_error
from lrplan.laws.history import History, Piece
from lrplan.planning.branches import (Checkpoint, Predictor, budget_spec, cosine_specs, single_budget,
                                     wsd_branch_specs)
from lrplan.spec.models import Spec

PLAN_EXACT_STEPS = 1 << 16
"""Runs of at most this many updates are predicted from their per-step LR array (as ``lrplan plan`` always did);
longer runs by the law's sampled evaluation (:meth:`lrplan.laws.FittedLaw.predict_history`)."""


@dataclass
class Optimized:
    index: int
    decay_fraction: float
    decay_shape: str
    predicted_loss: float
    spec_loss: float
    predicted_band: Optional[list[float]] = None
    """The 90 % band ``[lo, hi]`` of ``predicted_loss`` (:mod:`lrplan.laws.bands`); ``None``: the law has none."""
    fractions_within: Optional[list[float]] = None
    """``[min, max]`` of the decay fractions (over the grid) whose predicted loss is within uncertainty of the
    best one (the band of their difference to it contains 0): the choice inside this range is not determined."""
    shapes_within: list[str] = field(default_factory=list)
    """The decay shapes among those candidates."""
    written_within: Optional[bool] = None
    """Whether the spec's own decay (fraction and shape, when they are on the grid) is within uncertainty of the
    best: then ``gain`` is not a real gain. ``None``: not on the grid, or no band."""

    @property
    def gain(self) -> float:
        return self.spec_loss - self.predicted_loss


def _finite(v: float, what: str) -> float:
    if not np.isfinite(v):
        raise LrplanError(f"the loss law gives a non-finite loss for {what}; it cannot evaluate this schedule")
    return float(v)


def _loss(predict: Any, hist: History, q: np.ndarray, exact_steps: int | None = None) -> np.ndarray:
    """The law's (checked) loss at steps ``q`` of a run: a :class:`~lrplan.laws.resolve.Predictor` reads the
    history (per update for a run of at most ``exact_steps``, default :data:`PLAN_EXACT_STEPS`, updates); a
    plain ``predict(lr, steps)`` the rendered LRs."""
    q = np.asarray(q, dtype=np.int64)
    exact_steps = PLAN_EXACT_STEPS if exact_steps is None else exact_steps
    if hasattr(predict, "history"):
        return np.asarray(predict.history(hist, q, exact_steps), dtype=float)
    return np.asarray(predict(hist.array(), q), dtype=float)


def _final(predict: Any, hist: History, exact_steps: int | None = None) -> float:
    """Predicted loss after the run's last update."""
    n = hist.total
    return _finite(float(_loss(predict, hist, np.array([n - 1]), exact_steps)[0]), f"a run of {n:,} steps")


def _predict_final(predict: Predictor, plan) -> float:
    """Predicted loss after the last update of a :class:`~lrplan.schedules.render.SchedulePlan`."""
    return _final(predict, History.from_plan(plan))


def on_trunk(trunk: History, plan) -> History | None:
    """``plan``'s run as the first steps of ``trunk`` followed by ``plan``'s last segment (its decay), if its
    earlier segments are the trunk's (same phases and boundaries, the same LRs at their ends and at a few steps
    inside); ``None`` otherwise."""
    dec = plan.segments[-1]
    own = plan.segments[:-1]
    if not own or dec.start > trunk.total or len(own) > len(trunk.pieces):
        return None
    for s, t in zip(own, trunk.pieces):
        if s.start != t.start or s.phase != t.phase or not (s.end == t.end or (s is own[-1] and s.end <= t.end)):
            return None
    pts = np.unique(np.concatenate([np.linspace(s.start, s.end - 1, 5).round().astype(np.int64) for s in own]))
    if not np.array_equal(trunk.lr_at(pts), History.from_plan(plan).lr_at(pts)):
        return None
    return trunk.prefix(dec.start).then([Piece(dec.phase, dec.start, dec.end, dec.fn)], plan.total_steps)


def trunk_histories(plans: list) -> list[History]:
    """Each WSD branch's run as the shared trunk's first steps followed by its own decay (:func:`on_trunk`), so
    the trunk's sums are computed once for all branches; the trunk is the longest branch's warmup and stable
    phase. A branch that does not fit it keeps its own plan."""
    if not plans:
        return []
    longest = max(plans, key=lambda p: p.segments[-1].start)
    trunk = History.from_plan(longest).prefix(longest.segments[-1].start)
    return [on_trunk(trunk, p) or History.from_plan(p) for p in plans]


def _members(predict: Any, hists: list[History], exact_steps: int | None = None) -> np.ndarray | None:
    """The law's member predictions of each run's final loss, shape ``(K, len(hists))`` (row 0: the central
    fit; :meth:`lrplan.laws.resolve.Predictor.member_finals`), or ``None`` when the predictor has no band (a plain
    callable) or the members cannot be evaluated (a failure there never hides the central prediction)."""
    if not hists or not hasattr(predict, "member_finals"):
        return None
    try:
        m = np.asanyarray(predict.member_finals(hists, PLAN_EXACT_STEPS if exact_steps is None else exact_steps),
                       dtype=float)
    except LrplanError:
        return None
    return m if m.ndim == 2 and m.shape[1] == len(hists) and np.isfinite(m).all() else None


BAND_MAX_CHECKPOINTS = 256
"""A WSD-S run with more checkpoints gets no band: a member whose kernel depends on the LR (``gamma != 0``) sums
each checkpoint's earlier decays one by one, quadratic in their number (1,000 checkpoints: ~50 s)."""


def _members_at(predict: Any, hist: History, q: np.ndarray, notes: list[str] | None = None) -> np.ndarray | None:
    """The law's member predictions at steps ``q`` of one run, ``(K, len(q))`` (a WSD-S run's checkpoints: each
    member reads the run once), as :func:`_members` gives them; ``None`` without members (or past
    :data:`BAND_MAX_CHECKPOINTS`, said in ``notes``)."""
    if not hasattr(predict, "member_history"):
        return None
    if len(q) > BAND_MAX_CHECKPOINTS and len(predict.member_laws()) > 1:
        if notes is not None:
            notes.append(f"no uncertainty band for WSD-S: its {len(q):,} checkpoints are more than the "
                         f"{BAND_MAX_CHECKPOINTS} lrplan evaluates the law's ensemble at in one run")
        return None
    return predict.member_history(hist, q, PLAN_EXACT_STEPS)


def _fill_bands(cps: list[Checkpoint], family: str, members: np.ndarray | None,
                store: dict[str, np.ndarray]) -> None:
    """Each checkpoint's 90 % band for ``family`` (:func:`lrplan.laws.bands.final_band`); the members are kept
    in ``store`` for the ties between families."""
    if members is None:
        return
    from lrplan.laws.bands import final_band

    lo, hi = final_band(members)
    for c, a, b in zip(cps, lo, hi):
        c.predicted_band[family] = [float(a), float(b)]
    store[family] = members


def _ties(cps: list[Checkpoint], store: dict[str, np.ndarray]) -> None:
    """Per checkpoint, the families whose predicted loss is within uncertainty of the lowest one (the band of
    their paired difference, :func:`lrplan.laws.bands.difference_band`, contains 0): ``Checkpoint.best``. With
    no bands the best is the lowest central prediction alone."""
    for i, c in enumerate(cps):
        if not c.predicted_loss:
            continue
        best = min(sorted(c.predicted_loss), key=lambda k: c.predicted_loss[k])
        tied = [best]
        if best in store:
            from lrplan.laws.bands import difference_band

            for k in sorted(c.predicted_loss):
                if k != best and k in store:
                    lo, _ = difference_band(store[k][:, i : i + 1], store[best][:, i : i + 1])
                    if float(lo[0]) <= 0.0:
                        tied.append(k)
        c.best = tied


def predictions(spec: Spec, cps: list[Checkpoint], predict: Predictor, progress: Any = None) -> list[str]:
    """Fill ``predicted_loss`` (and ``predicted_band``, ``best``) of each checkpoint for WSD, WSD-S and
    cosine-per-budget; return notes for the plan. ``progress`` is told each of the three families done (stage
    ``"families"``: every budget's WSD-S, WSD and cosine run)."""
    notes: list[str] = []
    kind = spec.schedule.kind
    tick = progress or (lambda *a: None)
    tick("families", 0, 3)
    store: dict[str, np.ndarray] = {}
    if kind == "wsd-s":
        hist = History.from_plan(spec.schedule_plan())
        q = np.array([c.checkpoint_step - 1 for c in cps])
        for c, v in zip(cps, _loss(predict, hist, q)):
            c.predicted_loss["WSD-S"] = _finite(float(v), f"WSD-S checkpoint {c.index}")
        _fill_bands(cps, "WSD-S", _members_at(predict, hist, q, notes), store)
        branches = wsd_branch_specs(_as_wsd(spec))
    else:
        branches = wsd_branch_specs(spec)
        wsds = _as_wsds(spec)
        if wsds is not None:
            plan = wsds.schedule_plan()
            decs = [s for s in plan.segments if s.phase.startswith("decay")]
            hist = History.from_plan(plan)
            vals = _loss(predict, hist, np.array([s.end - 1 for s in decs]))
            for c, v in zip(cps, vals):
                c.predicted_loss["WSD-S"] = _finite(float(v), f"WSD-S checkpoint {c.index}")
            _fill_bands(cps, "WSD-S", _members_at(predict, hist, np.array([s.end - 1 for s in decs]), notes), store)
    tick("families", 1, 3)
    wsd = trunk_histories([b.schedule_plan() for b in branches])
    cos = [History.from_plan(b.schedule_plan()) for b in cosine_specs(spec)]
    for c, v in zip(cps, _finals(predict, wsd)):
        c.predicted_loss["WSD"] = v
    _fill_bands(cps, "WSD", _members(predict, wsd), store)
    tick("families", 2, 3)
    for c, v in zip(cps, _finals(predict, cos)):
        c.predicted_loss["cosine"] = v
    _fill_bands(cps, "cosine", _members(predict, cos), store)
    _ties(cps, store)
    tick("families", 3, 3)
    return notes


def _finals(predict: Any, hists: list[History]) -> list[float]:
    """:func:`_final` of each run (a law's predictor does them all at once; the first failure is raised)."""
    if not hasattr(predict, "finals"):
        return [_final(predict, h) for h in hists]
    out = []
    for h, v in zip(hists, predict.finals(hists, PLAN_EXACT_STEPS)):
        if isinstance(v, Exception):
            raise v
        out.append(_finite(float(v[0]), f"a run of {h.total:,} steps"))
    return out


def _as_wsd(spec: Spec) -> Spec:
    return spec.derive(schedule={"kind": "wsd", "rewarmup": None})


def _as_wsds(spec: Spec) -> Spec | None:
    try:
        return spec.derive(schedule={"kind": "wsd-s"})
    except LrplanError:
        return None


SHAPES = ("linear", "cosine", "1-sqrt", "sqrt-cube", "1-square")
FRACTIONS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def optimize(spec: Spec, cps: list[Checkpoint], predict: Predictor,
             fractions: tuple[float, ...] = FRACTIONS, shapes: tuple[str, ...] = SHAPES,
             progress: Any = None) -> list[Optimized]:
    """Per budget, the decay fraction and shape (from the grid) with the lowest predicted loss at the checkpoint.
    WSD: each branch on its own. WSD-S: greedily in budget order, earlier choices fixed (they shape the run).
    ``progress(stage, done, total)`` (:data:`lrplan.cli.progress.Callback`) is told each budget done."""
    base = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    kind = base["schedule"]["kind"]
    fast = hasattr(predict, "history")
    run = _WsdsRun(spec) if kind == "wsd-s" and fast else None
    one = single_budget(spec) if kind == "wsd" else None
    trunk: list[History] = []
    out: list[Optimized] = []
    chosen: list[tuple[float, str]] = []
    for i, cp in enumerate(cps):
        if progress is not None:
            progress("budgets", i, len(cps))
        best: tuple[float, float, str, Any] | None = None
        cands: list[tuple[float, float, str, Any]] = []
        spec_loss = cp.predicted_loss.get("WSD-S" if kind == "wsd-s" else "WSD")
        for f in fractions:
            for shape in shapes:
                try:
                    if kind == "wsd":
                        sched = dict(base["schedule"], decay=f"{f * 100:g}%", decay_shape=shape)
                        p = budget_spec(spec, spec.budget.budgets[i], sched, one).schedule_plan()
                        hist = _branch(trunk, p) if fast else History.from_plan(p)
                        loss = _final(predict, hist, 0 if fast else None)
                    elif run is not None:
                        hist = run.candidate(i, f, shape)
                        loss = _finite(float(_loss(predict, hist, np.array([hist.total - 1]), 0)[0]),
                                       f"a WSD-S run of {hist.total:,} steps")
                    else:
                        hist = None
                        loss = _wsds_loss_with(spec, base, chosen + [(f, shape)], i, predict)
                except LrplanError:
                    continue
                cands.append((loss, f, shape, hist))
                if best is None or loss < best[0]:
                    best = (loss, f, shape, hist)
        if best is None:
            if kind == "wsd-s":  # later decays are laid out after this one: the greedy search cannot go on
                break
            continue
        chosen.append((best[1], best[2]))
        loss = best[0]
        if fast:  # the winner's loss as predictions() gives it (per update for a short run)
            hist = best[3]
            loss = _finite(float(_loss(predict, hist, np.array([hist.total - 1]))[0]), f"a run of {hist.total:,} steps")
            if run is not None:
                run.choose(i, best[1], best[2])
        if spec_loss is None:  # pragma: no cover - predictions() always fills it
            continue
        o = Optimized(i + 1, best[1], best[2], loss, spec_loss)
        if fast:
            _within(predict, o, best, cands, _written(spec))
        out.append(o)
    return out


def _written(spec: Spec) -> tuple[float, str] | None:
    """The spec's own decay as a grid point ``(fraction, shape)``, or ``None`` (not a percentage of the budget)."""
    d = spec.schedule.decay
    if getattr(d, "unit", None) != "percent":
        return None
    return round(float(d.value) / 100, 10), str(spec.schedule.decay_shape)


def _within(predict: Any, o: Optimized, best: tuple[float, float, str, Any], cands: list,
            written: tuple[float, str] | None = None) -> None:
    """The winner's band and the candidates within uncertainty of it (``Optimized.fractions_within``,
    ``shapes_within``). Only candidates whose central loss is within twice the winner's band width of it are
    evaluated: one further away could tie only with a band more than three times as wide as the winner's (a
    paired difference band is at most as wide as the two bands it comes from)."""
    mb = _members(predict, [best[3]])
    if mb is None:
        return
    from lrplan.laws.bands import difference_band, final_band

    lo, hi = final_band(mb)
    o.predicted_band = [float(lo[0]), float(hi[0])]
    m0 = _members(predict, [best[3]], 0)  # candidates were scored by the sampled cells: compare like with like
    near = [c for c in cands if c is not best and c[0] - best[0] <= 2.0 * float(hi[0] - lo[0])]
    mc = _members(predict, [c[3] for c in near], 0) if near else None
    inside = [best]
    if m0 is not None and mc is not None:
        dlo, _ = difference_band(mc, np.repeat(m0, mc.shape[1], axis=1))
        inside += [c for c, v in zip(near, dlo) if float(v) <= 0.0]
    fr = [c[1] for c in inside]
    o.fractions_within = [float(min(fr)), float(max(fr))]
    if written is not None:
        same = [c for c in cands if abs(c[1] - written[0]) < 1e-9 and c[2] == written[1]]
        if same:
            o.written_within = any(c is same[0] for c in inside)
    o.shapes_within = sorted({c[2] for c in inside}, key=SHAPES.index)


def _branch(trunk: list[History], plan) -> History:
    """A WSD candidate branch on the trunk of the first candidate (:func:`on_trunk`)."""
    if not trunk:
        trunk.append(History.from_plan(plan).prefix(plan.segments[-1].start))
    return on_trunk(trunk[0], plan) or History.from_plan(plan)


class _WsdsRun:
    """The WSD-S run of ``--optimize``, laid out budget by budget exactly as
    :meth:`lrplan.schedules.wsd.WsdS.build` lays it out (positions ``C_i = (B_i - d_i) + sum_{j<=i} d_j``, a
    re-warmup from the previous decay's last LR, the decay shape per budget, the token clock mapped to steps),
    so a candidate for budget ``i`` is the run chosen so far plus three segments: O(1) per candidate."""

    def __init__(self, spec: Spec) -> None:
        from lrplan.schedules.segments import Timeline

        self.spec = spec
        self.sched = spec.schedule
        self.ctx = spec.context()
        self.budgets = list(self.ctx.budgets or [])
        self.w = self.sched.warmup_steps(self.ctx)
        self.rw = self.ctx.steps(self.sched.rewarmup, ("schedule", "rewarmup"))
        self.tl = Timeline()  # clock units (steps, or tokens on the token clock)
        self.done_decay = 0
        self.prev_branch = 0
        self.hist: History | None = None  # the chosen run, in steps
        self._last: tuple | None = None

    def _layout(self, i: int, f: float, shape: str):
        from lrplan.schedules.segments import Segment, constant, ramp
        from lrplan.schedules.shapes import warmup_fn
        from lrplan.spec.units import Length

        ctx, sc = self.ctx, self.sched
        b = self.budgets[i]
        d = ctx.steps(Length(float(f"{f * 100:g}"), "percent"), ("schedule", "decay"), base=b)
        if d < 1:
            raise spec_error(("schedule", "decay"), f"the decay for budget {i + 1} ({b} steps) is shorter than one step")
        branch = b - d
        stable = branch - self.prev_branch
        start = branch + self.done_decay
        need = self.w if i == 0 else self.rw
        if stable < need:
            raise spec_error(("budget", "budgets", i), f"budget {i + 1} leaves {stable} stable steps before its decay")
        segs: list = []
        pos = self.tl.end

        def add(phase: str, length: int, make) -> None:
            nonlocal pos
            if length > 0:
                segs.append(Segment(phase, pos, pos + length, make(pos, length)))
                pos += length

        if i == 0:
            add("warmup", self.w, ramp(warmup_fn(sc.warmup_shape), sc.warmup_init_lr, sc.peak_lr))
            add("stable", stable - self.w, constant(sc.peak_lr))
        else:
            prev = self.tl.segments[-1]
            last = float(prev.fn(np.array([prev.end - 1], dtype=np.int64))[0])
            add("rewarmup", self.rw, ramp(warmup_fn("linear"), last, sc.peak_lr))
            add("stable", stable - self.rw, constant(sc.peak_lr))
        shaped = sc if shape == sc.decay_shape else sc.model_copy(update={"decay_shape": shape})
        add(f"decay{i + 1}", d, ramp(shaped.decay_fn(ctx, sc.floor, d), sc.peak_lr, sc.floor))
        return segs, d, branch, start

    def _to_steps(self, segs: list, total: int) -> tuple[list[Piece], int]:
        if self.ctx.unit != "tokens":
            return [Piece(s.phase, s.start, s.end, s.fn) for s in segs], segs[-1].end
        from lrplan.spec.models import _tokens_to_steps

        mapped, _ = _tokens_to_steps(segs, total, self.ctx.clock)
        return [Piece(s.phase, s.start, s.end, s.fn) for s in mapped], (mapped[-1].end if mapped else 0)

    def candidate(self, i: int, f: float, shape: str) -> History:
        """The run through checkpoint ``i`` with decay ``i`` of fraction ``f`` and ``shape``, cut at it."""
        segs, d, branch, start = self._layout(i, f, shape)
        last = i + 1 == len(self.budgets)
        total = start + d + (0 if last else d)  # an earlier checkpoint ends its decay as inside the whole run
        pieces, end = self._to_steps(segs, total)
        if not pieces or end <= (self.hist.total if self.hist is not None else 0):
            raise LrplanError(f"budget {i + 1}: the decay has no update")
        base = self.hist if self.hist is not None else History([], 0)
        h = base.then(pieces, end, share=False)  # a candidate's work dies with it
        self._last = (i, f, shape, segs, d, branch, h)
        return h

    def choose(self, i: int, f: float, shape: str) -> None:
        if self._last is None or self._last[:3] != (i, f, shape):
            self.candidate(i, f, shape)
        assert self._last is not None
        _, _, _, segs, d, branch, h = self._last
        self.tl.segments.extend(segs)
        self.done_decay += d
        self.prev_branch = branch
        self.hist = h


def _wsds_loss_with(spec: Spec, base: dict, choices: list[tuple[float, str]], i: int, predict: Predictor) -> float:
    """Predicted loss at checkpoint ``i`` of the spec's WSD-S run cut after budget ``i``, whose decays use
    ``choices`` (fraction of their budget, shape); built by the WSD-S family itself (warmup shape, rewarmup)."""
    from lrplan.spec.units import Length

    budgets = base["budget"]["budgets"]
    last = i + 1 == len(budgets)
    sp = spec.derive(budget={"budgets": budgets[: i + 1]})
    decays = [(Length(float(f"{f * 100:g}"), "percent"), shape) for f, shape in choices]  # as "decay: 10%" reads
    # an earlier checkpoint ends its decay as inside the whole run (a tail after it), the last one as the run ends
    sp = sp.with_schedule(sp.schedule.with_decays(decays, probe_tail=not last))
    plan = sp.schedule_plan()
    end = next(s.end for s in plan.segments if s.phase == f"decay{i + 1}")  # checkpoint i, as in the whole run
    hist = History.from_plan(plan).prefix(end)
    return _finite(float(_loss(predict, hist, np.array([end - 1]))[0]), f"a WSD-S run of {end:,} steps")
