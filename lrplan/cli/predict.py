"""``lrplan predict``: the predicted loss of schedules (:func:`lrplan.laws.predicting.predict_schedules`), ranked
by final loss, and optionally their loss curves as CSV.  Light to import: numpy loads inside the command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli import console
from lrplan.cli.console import Law, Output, PlainPath, Quiet


def predict(
    specs: Annotated[Optional[list[Path]], typer.Argument(metavar="[SPEC]...", click_type=PlainPath(), help="YAML schedule specs to predict (several: a comparison).", show_default=False)] = None,
    law: Law = None,
    output: Output = None,
    every: Annotated[Optional[int], typer.Option("--every", min=1, metavar="N", help="Curve rows at the steps that are multiples of N (plus the first step after warmup and the last step). Default: every step.", show_default=False)] = None,
    steps: Annotated[Optional[str], typer.Option("--steps", metavar="STEPS", help="Curve rows at these steps only, e.g. 1000,5000,20000.", show_default=False)] = None,
    show_plot: Annotated[bool, typer.Option("--plot", help="Also plot the predicted loss curves, overlaid (under the ranking).")] = False,
    lr_csv: Annotated[Optional[list[Path]], typer.Option("--lr-csv", metavar="FILE", help="A plain LR table (CSV step,lr; sparse rows are interpolated) to predict, like a spec (repeatable).", show_default=False)] = None,
    baseline: Annotated[Optional[Path], typer.Option("--baseline", metavar="SPEC", click_type=PlainPath(), help="Without --law: compare each schedule with this one (same peak LR and budget) instead of cosine to 10 % of its peak.", show_default=False)] = None,
    quiet: Quiet = False,
) -> None:
    """Predict the loss curve of schedules with a fitted or built-in law, with a 90 % band; several: compared.

    Without --law, uses the built-in [bold]builtin:mpl-400m[/bold] law and says how far the schedule is from the
    range it was fitted for (peak LR, length, tokens/step); it compares each schedule with cosine to 10 % of its
    own peak LR and budget (or --baseline), grouped by peak LR and budget. With --law: ranked by final loss. Predictions start after warmup. Every prediction has a
    90 % band (± half-width; a difference to the best inside its band is a tie, "within uncertainty"). -o FILE
    writes the predicted curve (CSV step,lr,loss,loss_lo,loss_hi; a name column first when several schedules).

    Example:

        lrplan predict schedules/wsd.yaml

        lrplan predict schedules/wsd.yaml schedules/cosine.yaml --law mpl-25m

        lrplan predict schedules/wsd.yaml -o pred.csv --every 100

        lrplan predict schedules/wsd.yaml schedules/cosine.yaml --plot
    """
    from lrplan.laws.predicting import predict_schedules

    from lrplan.output.table import atomic_output, check_output

    inputs = [*(specs or []), *(lr_csv or []), *([law] if law else []), *([baseline] if baseline else [])]
    check_output(output, inputs)
    if baseline is not None and law is not None:
        from lrplan.errors import LrplanError

        raise LrplanError("--baseline compares shapes under the built-in law; with --law the schedules are ranked by "
                          "their predicted loss: drop one of the two")
    if show_plot:  # a terminal too small for the plot: say so before any work
        console.check_plot_room(max_height=30)
    res = predict_schedules(specs or [], lr_csv or [], law=law, curve=bool(output), every=every, steps=steps)
    from lrplan.laws.shapes import compare_needed

    shapes = None  # the shape comparison (issue 17), before anything is written: a bad --baseline is one line
    if compare_needed(res, law is not None):
        from lrplan.laws.shapes import compare_prediction

        shapes = compare_prediction(res, baseline)
    if output:
        from lrplan.cli.progress import bar

        with bar("predict", quiet) as progress, atomic_output(output, inputs) as fh:
            res.write_curve(fh, progress=progress)
    err = console.stderr()
    if not quiet:
        console.show(res.messages, err)
    out = console.stdout() if output != "-" else err  # -o -: the curve owns stdout
    if len(res.predicted) == 1 and not res.invalid:
        p = res.predicted[0]
        T = p.schedule.steps
        lo, hi = p.final_band
        console.line(f"{p.schedule.name}: predicted final loss {p.final:.4f} ± {p.half_width:.4f} at step {T - 1:,} "
                     f"({T:,} steps)", out)
        console.line(f"90 % band {lo:.4f}..{hi:.4f}", out)
        if shapes is not None:
            from lrplan.output.shapes import relative_line

            console.line(relative_line(shapes, 0), out)
    elif shapes is not None:
        from lrplan.output.shapes import print_shapes

        print_shapes(shapes, out)
        for sch, _ in res.invalid:  # why: in the warning above (its refused value is never printed as a result)
            console.line(f"not compared: {sch.name}: the law cannot evaluate it (see the warning)", out)
    else:
        _ranking(res, out)
    if shapes is not None:
        from lrplan.output.shapes import shape_lines

        for line in shape_lines(shapes, res.law.label, res.law.meta.get("reference_model"), builtin=law is None):
            console.line(line, out, style="dim")
    if output and output != "-" and not quiet:
        console.line(f"wrote {output} ({res.rows:,} rows)", err)
    if show_plot and res.predicted:
        import sys

        from lrplan.output.plot import prediction_plot

        stream = sys.stderr if output == "-" else sys.stdout  # -o -: the curve owns stdout
        w, h = console.plot_size(None, None, max_height=30)
        if stream.isatty():  # one screen: leave room for the ranking (and the prompt) above the plot
            from lrplan.output.plot import MIN_HEIGHT

            if shapes is not None:  # one table per group, then its notes
                from lrplan.output.shapes import shape_lines

                table = (sum(len(g.members) + 5 for g in shapes.groups) + len(res.invalid) if res.several else 3)
                table += sum(-(-len(ln) // max(w, 1)) for ln in shape_lines(shapes, res.law.label, None)) + 1
            else:
                table = len(res.predicted) + len(res.invalid) + 6 if res.several else 1
            used = table + sum(-(-(len(m) + 10) // max(w, 1)) for _, m in res.messages)
            h = max(MIN_HEIGHT, h - used)
        stream.write(prediction_plot(res, w, h, color=console.want_color(False, stream)) + "\n")


def _ranking(res, out) -> None:
    """The schedules best first, then those the law cannot evaluate."""
    from rich.markup import escape
    from rich.table import Table

    ranked = res.ranked
    best = ranked[0]
    t = Table(title=escape(f"predicted final loss ({res.law.label}; ± = 90 % band)"), title_justify="left",
              header_style="bold")
    for col in ("#", "schedule", "steps", "peak LR", "final LR", "final loss", "vs best"):
        t.add_column(col, justify="left" if col == "schedule" else "right", no_wrap=col in ("final loss", "vs best"))
    ties = 0
    for i, p in enumerate(ranked, 1):
        sch = p.schedule
        if i == 1:
            vs = "best"
        else:
            tie = res.ties_best(p)
            ties += tie
            vs = f"+{p.final - best.final:.4f}" + (" tie" if tie else "")
        t.add_row(str(i), escape(sch.name), f"{sch.steps:,}", f"{sch.peak:.3g}", f"{sch.final_lr:.3g}",
                  f"{p.final:.4f} ± {p.half_width:.4f}", vs)
    for sch, _ in res.invalid:
        t.add_row("-", escape(sch.name), f"{sch.steps:,}", f"{sch.peak:.3g}", f"{sch.final_lr:.3g}", "n/a", "outside")
    out.print(t)
    if ties:
        console.line(f"tie: within uncertainty of the best ({ties} schedule(s)): the 90 % band of the difference "
                     "contains 0", out)
