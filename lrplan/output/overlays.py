"""Curves drawn over a schedule plot: what a framework really runs (``plot --convention``) and the loss a law
predicts (``plot --loss``, right axis). Each builder returns its series and the notes/warnings to show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.spec.models import Spec


def convention_series(specs: "list[Spec]", width: int, x: str, framework: str) -> tuple[list, list[str]]:
    """Each spec as planned, and as ``framework`` really runs it with lrplan's snippet (its simulator applied
    to the exported config); ``(series, notes)``: a note per spec says whether they match and by how much."""
    import numpy as np

    from lrplan.frameworks.export import export
    from lrplan.output.plot import Series, spec_series
    from lrplan.spec.labels import spec_label, unique_labels

    planned = spec_series(specs, width, "tokens" if x == "tokens" else "step")
    out = []
    notes: list[str] = []
    for s, base, lab in zip(specs, planned, unique_labels([spec_label(sp) for sp in specs])):
        e = export(s, framework)
        plan = s.schedule_plan()
        steps = np.arange(e.lr.size, dtype=np.int64)
        xs = plan.tokens_at(steps).astype(np.float64) if x == "tokens" and plan.has_tokens else steps.astype(np.float64)
        verdict = "runs the spec exactly" if e.exact else f"differs: max deviation {e.max_abs_dev:.4g} ({e.max_abs_dev / max(s.schedule.peak(), 1e-300):.2%} of peak)"
        notes.append(f"{lab}: {e.framework} {e.version} {verdict}")
        out.append(Series(f"{base.label} (spec)", base.x, base.y, base.edges))
        out.append(Series(f"{lab} ({e.framework})", xs, e.lr, base.edges))
    return out, notes


def loss_series(specs: "list[Spec]", width: int, x: str, law: Optional[str]) -> tuple[list, list[str], list[str]]:
    """Predicted loss of each spec (from the end of its warmup) as right-axis :class:`lrplan.output.plot.Series`;
    ``(series, notes, warnings)``: which law, and how far each spec is from its fitted range (a spec the law
    cannot evaluate gets a warning and no curve)."""
    import numpy as np

    from lrplan.errors import LrplanError
    from lrplan.laws.history import History
    from lrplan.laws.resolve import check_predicted, law_description, range_check, resolve_law
    from lrplan.output.plot import SAMPLES_PER_COLUMN, Series, sample_steps
    from lrplan.spec.labels import spec_label, unique_labels

    res = resolve_law(law)
    notes = ["loss: " + law_description(res)]
    warnings: list[str] = []
    out = []
    for s, lab in zip(specs, unique_labels([spec_label(s) for s in specs])):
        plan = s.schedule_plan()
        hist = History.from_plan(plan)  # never rendered: only the plotted steps are predicted
        line, outside = range_check(res, lab, hist, plan.tokens_per_step)
        if outside:
            warnings.append(line)
        first = max(hist.warmup_length(), hist.first_positive() or 0)
        steps = sample_steps(plan, SAMPLES_PER_COLUMN * width)
        steps = steps[steps >= first]
        if not steps.size:
            continue
        with np.errstate(all="ignore"):
            y = np.asarray(res.fitted.predict_history(hist, steps), dtype=np.float64)
        try:  # the same refusal as predict/plan: no curve where the law's terms outgrow their range
            check_predicted(res, y, steps, lab, lr=hist)
        except LrplanError as e:
            warnings.append(f"no loss curve: {e}")
            continue
        xs = plan.tokens_at(steps).astype(np.float64) if x == "tokens" and plan.has_tokens else steps.astype(np.float64)
        out.append(Series(lab, xs, y))
    return out, notes, warnings
