"""``lrplan probe``: the cheapest extra run(s) that make a fitted law trustworthy for the schedules a user is choosing
between (:mod:`lrplan.laws.probe`). Light to import: numpy loads inside the command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli import console
from lrplan.cli.console import Law, PlainPath, Quiet


def probe(
    specs: Annotated[list[Path], typer.Argument(metavar="SPEC...", click_type=PlainPath(), help="The schedules you are choosing between (YAML specs).", show_default=False)],
    logs: Annotated[Optional[list[Path]], typer.Option("--logs", metavar="LOG", help="The logs you have (any format `lrplan fit` reads; repeatable): the law is fitted on them and a constant-LR run among them is the trunk probes branch from.", show_default=False)] = None,
    runs: Annotated[Optional[str], typer.Option("--runs", metavar="RUNS", help="Runs to use from a multi-run log, e.g. constant,cosine.", show_default=False)] = None,
    trunk: Annotated[Optional[str], typer.Option("--trunk", metavar="CURVE", help="The run that logs starting after its warmup branch off (an earlier probe's log): as `lrplan fit --trunk`.", show_default=False)] = None,
    law: Law = None,
    output: Annotated[Optional[str], typer.Option("-o", "--output", metavar="DIR", help="Write each recommended probe as a spec, DIR/probe-N.yaml (`lrplan render` gives its framework config).", show_default=False)] = None,
    quiet: Quiet = False,
) -> None:
    """Recommend one or two short probe runs that shrink the uncertainty of the predictions your choice turns on.

    A fit on a constant and a cosine run cannot tell how fast a decay pays off: `lrplan fit` keeps the fits
    the data cannot tell apart, and `probe` picks the short cooldown, branched off a constant-LR trunk, that tells
    them apart best for these schedules. It prints each probe's compute as a fraction of the planned run.

    Example:

        lrplan probe schedules/wsd.yaml --logs tests/data/logs/mpl25m_runs.csv

        lrplan probe schedules/wsd.yaml --law builtin:mpl-25m -o probes/
    """
    from lrplan.errors import LrplanError
    from lrplan.output.table import check_output_dir

    inputs = [*specs, *(logs or []), *([law] if law else [])]
    check_output_dir(output, inputs)
    if not logs and not law:
        raise LrplanError("probe needs the logs you have (--logs LOG ...) or a law fitted on them (--law law.yaml): "
                          "it recommends a run that sharpens that law")
    from lrplan.laws import probe as P
    from lrplan.laws.predicting import load_schedules

    schedules, _ = load_schedules(specs)
    err = console.stderr()
    if law:
        from lrplan.laws.resolve import resolve_law

        res = resolve_law(law)
        fitted, label = res.fitted, res.label
    else:
        from lrplan.laws.fitting import fit_logs

        lf = fit_logs(logs or [], runs=runs, trunk=trunk)
        fitted, label = lf.law, "fitted on " + ", ".join(str(p) for p in logs or [])
    from lrplan.laws.resolve import ResolvedLaw, range_detail

    for s in schedules:  # as predict warns: a probe for a schedule the law extrapolates to inherits that
        detail, outside = range_detail(ResolvedLaw(fitted, label), s.history, s.tokens_per_step)
        if outside:
            err.print(f"warning: law {label}: {s.name}: {detail}", markup=False, soft_wrap=not err.is_terminal)
    curves = []
    if logs:
        from lrplan.laws.logformats import read_any
        from lrplan.laws.fitting import split_runs

        for p in logs:
            curves += read_any(p, runs=split_runs(runs) if runs else None)
        if trunk is not None:
            from lrplan.laws.logs import continue_trunk

            curves = [c for c in continue_trunk(curves, trunk) if c.branch_of is None]  # a branch is no trunk
    longest = max(schedules, key=lambda s: s.history.total)
    plans = [(s.name, s.history.range_lr(0, min(s.history.total, P.MAX_TRUNK_STEPS))) for s in schedules]
    hist = longest.history
    trunk = P.trunk_of(curves, plans, hist.peak(), hist.warmup_length(), min(hist.total, P.MAX_TRUNK_STEPS))
    own = next((s for s in schedules if trunk.kind == "plan" and s.name == trunk.run), longest)
    rec = P.recommend(fitted, [s.history for s in schedules], trunk, own.history.total)  # % of the run it branches off
    out = console.stdout()
    halves = (fitted.uncertainty or {}).get("member_half_steps") or []
    span = f": kernel half-times {min(halves):,.3g}..{max(halves):,.3g} updates at the peak LR" if halves else ""
    wrap = {"markup": False, "soft_wrap": not out.is_terminal}  # a pipe gets whole lines, as predict's
    ewrap = {"markup": False, "soft_wrap": not err.is_terminal}
    out.print(f"law {label}: {rec.members} fits the data cannot tell apart{span}", **wrap)
    what = (f"the final loss of {schedules[0].name}" if len(schedules) == 1 else
            f"the final losses of {', '.join(s.name for s in schedules)} (each against the best)")
    out.print(f"decision: {what}; its spread over those fits (90%): {P.spread_text(rec.spread_before)}", **wrap)
    base = None
    if specs:
        from lrplan.spec.loading import load_spec

        base = load_spec(specs[0]).model_dump(mode="json", by_alias=True, exclude_none=True)
    written = []
    for i, (p, after) in enumerate(zip(rec.probes, rec.spread_after), 1):
        out.print(f"probe {i}: {P.describe(p, rec)}; expected spread after it: {P.spread_text(after)}", **wrap)
        if output:
            written.append(_write(Path(output), i, p, trunk, base, rec))
    peaks = sorted({round(s.history.peak(), 12) for s in schedules})
    if len(peaks) > 1:  # the probe sharpens the cooldown's payoff, not the comparison of peak LRs
        err.print(f"warning: the schedules differ in peak LR ({', '.join(f'{v:.3g}' for v in peaks)}): a probe pins "
                  "down how fast a decay pays off, not how the loss depends on the peak LR, and the multi-power law's "
                  "losses did not transfer across peak LRs in lrplan's tests (a fit at two peaks was 0.10-0.17 off on "
                  "the Hägele size series, benchmarks/LAW_SELECTION_16.md Part 7); compare peak LRs with runs at each",
                  **ewrap)
    if not quiet:
        off = (f"--trunk {trunk.run}" if trunk.kind == "log" and trunk.run else
               "--trunk RUN (the run it branched off, its log among the LOGS)")
        err.print("the band's model-error part (what no fit of this law explains) stays; refit with the probe's log "
                  f"added: lrplan fit LOGS... PROBE_LOG {off} (a probe's log that starts at its branch point takes "
                  "its trunk's LR before it)", **ewrap)
        for w in written:
            err.print(f"wrote {w} (its config: lrplan render {w} --format megatron)", **ewrap)


def _write(out_dir: Path, i: int, p, trunk, base, rec) -> Path:  # type: ignore[no-untyped-def]
    """``DIR/probe-N.yaml``: the probe as a spec, with a comment saying how to run it."""
    import yaml

    from lrplan.errors import LrplanError
    from lrplan.laws import probe as P
    from lrplan.output.table import atomic_output

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LrplanError(f"cannot create {out_dir}: {e.strerror or e}") from None
    path = out_dir / f"probe-{i}.yaml"
    head = f"# lrplan probe {i}: {P.describe(p, rec)}\n"
    with atomic_output(str(path)) as fh:
        fh.write((head + yaml.safe_dump(P.probe_spec(p, trunk, base), sort_keys=False)).encode())
    return path
