"""``lrplan fit``: fit a loss law to training logs (:func:`lrplan.laws.fitting.fit_logs`) and write the law file.

Light to import: the law names come from the registry (:mod:`lrplan.laws.registry`, no numpy); the fit loads
inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli import console
from lrplan.cli.console import Output, PlainPath
from lrplan.laws.registry import accepted_names, cli_help, law_names


def _complete_law(incomplete: str) -> list[str]:
    return [n for n in accepted_names() if n.startswith(incomplete)]


LawName = Annotated[str, typer.Option("--law", metavar="LAW", help=cli_help(), autocompletion=_complete_law)]


def _complete_format(incomplete: str) -> list[str]:
    from lrplan.laws.logformats import FORMATS

    return [f for f in FORMATS if f.startswith(incomplete)]


def fit(
    logs: Annotated[list[Path], typer.Argument(metavar="LOG...", click_type=PlainPath(), help="Logs: step/loss/lr CSV, HF trainer_state.json, Megatron-LM stdout, TensorBoard event files, a W&B CSV export, or a directory of these (format detected from the content).", show_default=False)],
    log_format: Annotated[Optional[str], typer.Option("--format", metavar="FORMAT", autocompletion=_complete_format, help="Read every LOG as this format: csv, hf, megatron, tensorboard or wandb (default: detected from the content).", show_default=False)] = None,
    law: LawName = law_names()[0],
    output: Output = None,
    schedule: Annotated[Optional[list[Path]], typer.Option("--schedule", metavar="SPEC", help="The run's schedule spec, one per log in order (repeat the option); replaces the lr column.", show_default=False)] = None,
    step_col: Annotated[str, typer.Option("--step-col", metavar="COL", help="Step column (global optimizer step).")] = "step",
    loss_col: Annotated[str, typer.Option("--loss-col", metavar="COL", help="Loss column (nats/token; validation loss is best); for a framework log, the series (tag or key) to fit (default: its validation loss, else train loss).")] = "loss",
    lr_col: Annotated[str, typer.Option("--lr-col", metavar="COL", help="LR column (every step or every N steps); for a framework log, the LR series (default: its own).")] = "lr",
    run_col: Annotated[str, typer.Option("--run-col", metavar="COL", help="Run-name column of multi-run files.")] = "run",
    runs: Annotated[Optional[str], typer.Option("--runs", metavar="RUNS", help="Runs to use from a multi-run file, e.g. a,b (each is its own curve; default all).", show_default=False)] = None,
    from_step: Annotated[Optional[int], typer.Option("--from-step", min=0, metavar="STEP", help="First step of the fit window (default: automatic, after warmup and the early transient).", show_default=False)] = None,
    to_step: Annotated[Optional[int], typer.Option("--to-step", min=1, metavar="STEP", help="Last step of the fit window (default: the end of each log).", show_default=False)] = None,
    trunk: Annotated[Optional[str], typer.Option("--trunk", metavar="CURVE", help="The run your probe logs branch off (a curve, run or file name among the LOGs): a log whose first LR comes after twice this run's warmup takes its LR before that step, instead of an assumed warmup from 0.", show_default=False)] = None,
    warmup: Annotated[Optional[str], typer.Option("--warmup", metavar="area|ramp|peak", help="Warmup convention: area (MPL default), ramp, or peak (momentum default).", show_default=False)] = None,
    max_points: Annotated[int, typer.Option("--max-points", min=5, metavar="N", help="Thin each curve to at most N points (median of step bins): keeps fits fast and robust to noisy per-step loss.")] = 500,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary table (notes, warnings and the chosen fit window are still printed, on stderr).")] = False,
) -> None:
    """Fit a loss law to training logs: a law.yaml that [bold]lrplan predict[/bold] and [bold]lrplan plan[/bold] use.

    Each log is a CSV with a header (step, loss, and lr unless --schedule gives the run's schedule: the
    third example fits the momentum law to a log without an lr column), or what a framework wrote: a Hugging
    Face trainer_state.json, a Megatron-LM stdout log, TensorBoard event files (pip install
    'lrplan\\[tensorboard]'), a W&B CSV export, or a directory of these; each framework's step convention is
    mapped onto lrplan's (README, "Predicting loss"). Fit runs
    with different schedules together (a constant and a cosine run at least, to identify the annealing terms).
    law.yaml (to -o FILE, else stdout) records the parameters, the fit window, the inputs with their sha256,
    the fit quality per curve, and the parameter sets the data cannot tell apart (uncertainty: the bands of
    predict; one warning line when the data leave open how fast a decay pays off).

    Example:

        lrplan fit tests/data/logs/mpl25m_runs.csv --runs constant,cosine

        lrplan fit tests/data/logs/cosine_sparse_lr.csv --loss-col val_loss

        lrplan fit YOUR_RUN.csv --schedule schedules/wsd.yaml --law mtl

        lrplan fit tests/data/logs/frameworks/megatron_stdout.log

    A probe resumed from the constant run's checkpoint (probe.csv, logged from there on) with its trunk:

        lrplan fit tests/data/logs/cpu_probe --trunk constant
    """
    from lrplan.laws.fitting import fit_logs
    from lrplan.output.table import atomic_output, check_output

    inputs = [*logs, *(schedule or [])]
    check_output(output, inputs)  # before the fit: -o naming a log (or an empty -o) is refused at once
    from lrplan.cli.progress import bar

    with bar("fit", quiet) as progress:
        res = fit_logs(logs, law=law, schedules=schedule, step_col=step_col, loss_col=loss_col, lr_col=lr_col,
                       run_col=run_col, runs=runs, from_step=from_step, to_step=to_step, warmup=warmup,
                       max_points=max_points, fmt=log_format, trunk=trunk, progress=progress)
    with atomic_output(output, inputs) as fh:
        fh.write(res.text.encode())
    err = console.stderr()
    console.show(res.messages, err)
    to_file = bool(output) and output != "-"
    if not quiet:
        out = console.stdout() if to_file else err  # -o -: the law file owns stdout
        _summary(res, out, output or "<stdout>")
        if to_file:
            console.line(f"wrote {output}", out)


def _summary(res, out, label: str) -> None:
    """The written law in one line, its parameters, and the fit quality per curve with the fitted points."""
    from rich.table import Table

    from lrplan.laws.resolve import law_description
    from lrplan.output.laws import metrics_table

    console.line(law_description(res.resolved(label)), out)
    t = Table(title="parameters", title_justify="left", header_style="bold")
    for k in res.fitted.params:
        t.add_column(k, justify="right")
    t.add_row(*[f"{v:.4g}" for v in res.fitted.params.values()])
    out.print(t)
    points = {k: f"{n}, {first:,}..{last:,}" for k, (first, last, n) in res.per_curve.items()}
    out.print(metrics_table(res.fitted.metrics, "fit quality per curve", ("points, steps", points)))
