"""``lrplan fit``, ``lrplan predict`` and ``lrplan laws``: fit an annealing loss law to training logs, predict the
loss curve of schedules, list the built-in laws.

Light to import (typer only): numpy, scipy, yaml and :mod:`lrplan.laws` load inside the commands.  Law
resolution (:func:`resolve_law`) is shared with ``lrplan plan`` and ``lrplan plot --loss``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from lrplan.errors import LrplanError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


    from lrplan.laws.resolve import ResolvedLaw

# ------------------------------------------------------------------------------------------------ laws


def laws(
    name: Annotated[Optional[str], typer.Argument(help="Show one law in full: a built-in NAME or a law.yaml.", show_default=False)] = None,
) -> None:
    """List the built-in loss laws: reference model, data, fitted range, and accuracy on held-out schedules.

    [dim]lrplan predict[/dim] uses [bold]builtin:mpl-400m[/bold] when no --law is given.

    Example:

        lrplan laws

        lrplan laws mpl-25m
    """
    from lrplan.laws.resolve import DEFAULT_LAW, law_range, resolve_law

    from rich.table import Table

    from lrplan.cli import console
    from lrplan.laws import builtin_laws

    out = console.stdout()
    if name is not None:
        _show_law(resolve_law(name), out)
        return
    t = Table(title="built-in loss laws (use --law builtin:NAME)", title_justify="left", header_style="bold")
    for col in ("name", "peak LR", "tokens/step", "fitted steps", "R²", "MAE", "worst"):
        t.add_column(col, justify="left" if col == "name" else "right", no_wrap=col != "name")
    data_lines = []
    for n, fl in builtin_laws().items():
        m = fl.meta or {}
        rng = law_range(m)
        held = m.get("heldout_mean") or {}
        heldw = max((v.get("worst_e", 0.0) for v in (m.get("heldout_metrics") or {}).values()), default=None)
        t.add_row(
            n + (" (default)" if f"builtin:{n}" == DEFAULT_LAW else ""),
            f"{rng['peak_lr']:.3g}" if "peak_lr" in rng else "-",
            f"{rng['tokens_per_step']:,}" if "tokens_per_step" in rng else "-",
            f"{rng['steps'][0]:,}-{rng['steps'][1]:,}" if "steps" in rng else "-",
            f"{held['r2']:.4f}" if "r2" in held else "-", f"{held['mae']:.4f}" if "mae" in held else "-",
            f"{heldw:.2%}" if heldw is not None else "-",
        )
        if m.get("data"):
            n_held = len(m.get("heldout_curves") or [])
            data_lines.append(f"[bold]{n}[/bold] ({fl.law} law): {m.get('reference_model', '-')}; fitted on {', '.join(m.get('fitted_curves') or [])}; "
                              f"tested on {n_held} held-out schedules; data: {m['data']}")
    out.print(t)
    for line in data_lines:
        out.print(line, soft_wrap=True)
    out.print("[dim]R², MAE, worst: on held-out test schedules; R², MAE = mean (incl. 3x longer runs); worst = largest relative error at any point. "
              "Raw LR units: a law is exact only near its peak LR and tokens/step.[/dim]")


def _show_law(res: ResolvedLaw, out) -> None:
    from lrplan.laws.resolve import law_description

    from rich.table import Table

    fl = res.fitted
    out.print(law_description(res), markup=False)
    t = Table(title="parameters", title_justify="left", header_style="bold")
    t.add_column("name")
    t.add_column("value", justify="right")
    for k, v in fl.params.items():
        t.add_row(k, f"{v:.6g}")
    out.print(t)
    _metrics_table(fl.metrics, out, "fit quality per curve")
    held = (fl.meta or {}).get("heldout_metrics")
    if held:
        _metrics_table(held, out, "held-out (test) curves")
    for f in fl.flags:
        out.print(f"flag: {f}", soft_wrap=True, markup=False)
    inputs = res.raw.get("inputs")
    if isinstance(inputs, list):
        for i in inputs:
            if isinstance(i, dict):
                out.print(f"input: {i.get('curve', '?')} from {i.get('file', '?')} (sha256 {str(i.get('sha256', '?'))[:12]}…, "
                          f"LR {i.get('lr_source', '?')})", soft_wrap=True, markup=False)


def _metrics_table(metrics: dict[str, dict[str, float]], out, title: str, extra: dict[str, str] | None = None) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=title, title_justify="left", header_style="bold")
    for col in ("curve", "R²", "MAE", "RMSE", "max rel err") + (("points, steps",) if extra else ()):
        t.add_column(col, justify="left" if col == "curve" else "right")
    for name, m in metrics.items():
        def g(k: str, fmt: str) -> str:
            v = m.get(k)
            return format(v, fmt) if isinstance(v, (int, float)) else "-"
        row = [escape(str(name)), g("r2", ".5f"), g("mae", ".4f"), g("rmse", ".4f"), g("worst_e", ".3%")]
        if extra:
            row.append(extra.get(name, ""))
        t.add_row(*row)
    out.print(t)


# ------------------------------------------------------------------------------------------------ fit


def _split_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise LrplanError("--runs needs run names separated by commas, e.g. --runs a,b")
    return names


def fit(
    logs: Annotated[list[Path], typer.Argument(help="CSV logs with a header: step and loss columns, and an lr column (or --schedule).", show_default=False)],
    law: Annotated[str, typer.Option("--law", help="multi-power (7 params, more accurate) or momentum (4 params).")] = "multi-power",
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write law.yaml to FILE (atomically); default stdout.")] = None,
    schedule: Annotated[Optional[list[Path]], typer.Option("--schedule", help="The run's schedule spec, one per log in order (repeat the option); replaces the lr column.", show_default=False)] = None,
    step_col: Annotated[str, typer.Option("--step-col", help="Step column (global optimizer step).")] = "step",
    loss_col: Annotated[str, typer.Option("--loss-col", help="Loss column (nats/token; validation loss is best).")] = "loss",
    lr_col: Annotated[str, typer.Option("--lr-col", help="LR column (every step or every N steps).")] = "lr",
    run_col: Annotated[str, typer.Option("--run-col", help="Run-name column of multi-run files.")] = "run",
    runs: Annotated[Optional[str], typer.Option("--runs", help="Runs to use from a multi-run file, e.g. a,b (each is its own curve; default all).", show_default=False)] = None,
    from_step: Annotated[Optional[int], typer.Option("--from-step", min=0, help="First step of the fit window (default: automatic, after warmup and the early transient).", show_default=False)] = None,
    to_step: Annotated[Optional[int], typer.Option("--to-step", min=1, help="Last step of the fit window (default: the end of each log).", show_default=False)] = None,
    warmup: Annotated[Optional[str], typer.Option("--warmup", help="Warmup convention: area (MPL default), ramp, or peak (momentum default).", show_default=False)] = None,
    max_points: Annotated[int, typer.Option("--max-points", min=5, help="Thin each curve to at most N points (median of step bins): keeps fits fast and robust to noisy per-step loss.")] = 500,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary table (notes, warnings and the chosen fit window are still printed, on stderr).")] = False,
) -> None:
    """Fit a loss law to training logs: a law.yaml that [bold]lrplan predict[/bold] and [bold]lrplan plan[/bold] use.

    Each log is a CSV with a header (step, loss, and lr unless --schedule gives the run's schedule). Fit runs
    with different schedules together (a constant and a cosine run at least, to identify the annealing terms).
    law.yaml records the parameters, the fit window, the inputs with their sha256 and the fit quality per curve.

    Example:

        lrplan fit tests/data/logs/mpl25m_runs.csv --runs constant,cosine -o law.yaml

        lrplan fit tests/data/logs/cosine_sparse_lr.csv --loss-col val_loss --law momentum -o law.yaml

        lrplan fit YOUR_RUN.csv --schedule schedules/wsd.yaml -o law.yaml   [dim](a log without an lr column)[/dim]
    """
    from lrplan.laws.resolve import ResolvedLaw, law_description

    import numpy as np
    import yaml

    from lrplan.cli import console
    from lrplan.laws import fit as law_fit
    from lrplan.laws.fit import LAW_ALIASES
    from lrplan.laws.logs import read_log
    from lrplan.output.table import atomic_output

    from rich.markup import escape

    err = console.stderr()
    msgs: list[str] = []  # said on stderr once the fit succeeded: a failure is one error line
    law_name = LAW_ALIASES.get(law.strip().lower())
    if law_name is None:
        raise LrplanError(f"--law {law!r}: unknown law; choose multi-power or momentum")
    if warmup is not None and warmup not in ("area", "ramp", "peak"):
        raise LrplanError(f"--warmup {warmup!r}: choose area, ramp or peak")
    if schedule and len(schedule) != len(logs):
        raise LrplanError(f"--schedule given {len(schedule)} time(s) for {len(logs)} log(s): give one schedule per log, "
                          "in the same order")
    if from_step is not None and to_step is not None and to_step <= from_step:
        raise LrplanError(f"--to-step {to_step} must be after --from-step {from_step}")
    run_names = _split_names(runs)
    specs: list[Any] = [None] * len(logs)
    if schedule:
        from lrplan.spec.models import load_spec

        specs = [load_spec(s) for s in schedule]
    curves = []
    for path, spec in zip(logs, specs):
        curves.extend(read_log(path, step_col=step_col, loss_col=loss_col, lr_col=lr_col, run_col=run_col,
                               runs=run_names, schedule=spec, max_points=max_points,
                               require_run_col=run_col != "run", window=(from_step, to_step)))
    seen: dict[str, int] = {}
    for c in curves:  # unique curve names (same file stem in two folders)
        k = seen.get(c.name, 0)
        seen[c.name] = k + 1
        if k:
            c.name = f"{c.name}#{k + 1}"
    for c in curves:
        for n in c.notes:
            msgs.append(escape(f"note: {c.name}: {n}"))
    from lrplan.laws import warmup_length
    from lrplan.laws.logs import MIN_POINTS

    law_curves = []
    for c in curves:
        first = max(from_step or 0, warmup_length(c.lr) + 1)  # the fit never uses warmup points
        n = int(np.sum((c.steps >= first) & (c.steps <= (to_step if to_step is not None else np.inf))))
        if n < MIN_POINTS:
            raise LrplanError(f"{c.path}: only {n} loss point(s) of {c.name} after warmup in the fit window "
                              f"{first:,}..{f'{to_step:,}' if to_step is not None else 'end'}; a fit needs at least "
                              f"{MIN_POINTS}")
        try:
            law_curves.append(c.curve(to_step))
        except ValueError as e:
            raise LrplanError(f"{c.path}: {str(e).splitlines()[0][:300]}") from None
    window: Any = "auto" if from_step is None else int(from_step)
    import warnings

    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = law_fit(law_curves, law=law_name, window=window, warmup=warmup)
    except ValueError as e:
        raise LrplanError(f"cannot fit: {str(e).splitlines()[0][:300]}") from None
    bad = [k for k, v in fitted.params.items() if not math.isfinite(v)]
    bad += [f"{c}.{k}" for c, m in fitted.metrics.items() for k, v in m.items() if not math.isfinite(v)]
    if bad:
        raise LrplanError(f"the fit did not converge to finite values ({', '.join(bad[:4])}); check the logs "
                          "(loss column, LR) or fit a narrower window with --from-step/--to-step")
    d = fitted.to_dict()
    win = d["window"]
    if to_step is not None:
        win["end"] = int(to_step)
    per = win.get("per_curve", {})
    first = min(v[0] for v in per.values()) if per else int(win.get("start", 0))
    last = max(v[1] for v in per.values()) if per else int(max(c.steps.max() for c in law_curves))
    peaks = [float(c.lr.max()) for c in law_curves]
    tps = {s.schedule_plan().tokens_per_step for s in specs if s is not None}
    from lrplan import __version__

    d["meta"].update({
        "peak_lr": max(peaks), "peak_lr_range": [min(peaks), max(peaks)],
        "fitted_step_range": [int(first), int(last)],
        "warmup_steps": sorted({int(warmup_length(c.lr)) for c in law_curves}),
        "tokens_per_step": next(iter(tps)) if len(tps) == 1 and all(s is not None for s in specs) else None,
        "fitted_curves": [c.name for c in law_curves],
        "lr_units": "raw (absolute) learning rate; steps are global optimizer steps incl. warmup",
        "generator": f"lrplan {__version__} fit",
    })
    d["inputs"] = [c.input_record() for c in curves]
    try:
        reloaded = type(fitted).from_dict(d)  # what predict will load from the file
    except ValueError as e:
        raise LrplanError(f"the fit gave parameters the law cannot use ({str(e)[:200]}): the fit window may be too "
                          "short to determine them (widen --from-step/--to-step), or the loss column is not a loss in "
                          "nats/token") from None
    header = (f"# {law_name} law fitted by `lrplan fit` on {len(curves)} curve(s).\n"
              "# Predict with: lrplan predict SPEC.yaml --law THIS_FILE\n")
    text = header + yaml.safe_dump(d, sort_keys=False, default_flow_style=None, width=120, allow_unicode=True)
    # the window, said on stderr
    if win.get("rule") == "auto":
        how = (f"automatic: after warmup and the early transient (tail RMS {win['tail_rms_log']:.2g} in log loss)"
               if "tail_rms_log" in win else f"automatic: after warmup ({win.get('note', '')})")
    elif win.get("rule") == "fixed":
        how = "--from-step"
    else:
        how = win.get("rule", "")
    msgs.append(escape(f"fit window: steps {first:,}..{last:,} ({how}); "
                       + ", ".join(f"{k} {v[0]:,}..{v[1]:,} ({v[2]} points)" for k, v in per.items())))
    for f in fitted.flags:
        msgs.append(f"[yellow]warning:[/yellow] {escape(str(f))}")
        if "annealing-unidentifiable" in str(f):
            msgs.append("[yellow]warning:[/yellow] add a run whose LR decays (cosine, WSD, a step drop) to fit the "
                        "annealing terms; until then predictions show no gain from annealing")
    with atomic_output(output) as fh:
        fh.write(text.encode())
    for m in msgs:
        err.print(m, soft_wrap=True)
    to_file = bool(output) and output != "-"
    if not quiet:
        con = console.stdout() if to_file else err
        rs = ResolvedLaw(reloaded, output or "<stdout>", d)  # as the written file reads back
        con.print(law_description(rs), markup=False)
        from rich.table import Table

        t = Table(title="parameters", title_justify="left", header_style="bold")
        for k in fitted.params:
            t.add_column(k, justify="right")
        t.add_row(*[f"{v:.4g}" for v in fitted.params.values()])
        con.print(t)
        extra = {k: f"{v[2]}, {v[0]:,}..{v[1]:,}" for k, v in per.items()}
        _metrics_table(fitted.metrics, con, "fit quality per curve", extra)
        if to_file:
            con.print(f"wrote {output}", markup=False)


# ------------------------------------------------------------------------------------------------ predict


@dataclass
class _Input:
    name: str
    lr: "np.ndarray"
    tokens_per_step: int | None
    source: str


def _parse_steps(text: str) -> list[int]:
    out = []
    for tok in text.replace(" ", "").split(","):
        if not tok:
            continue
        try:
            v = float(tok.replace("_", ""))
        except ValueError:
            raise LrplanError(f"--steps: {tok[:40]!r} is not a step number (use e.g. --steps 1000,2000,5000)") from None
        if not math.isfinite(v) or v != int(v) or v < 0:
            raise LrplanError(f"--steps: {tok[:40]!r} is not a whole, non-negative step")
        if v > 1e15:
            raise LrplanError(f"--steps: {tok[:40]!r} is past the end of any schedule lrplan predicts")
        out.append(int(v))
    if not out:
        raise LrplanError("--steps needs step numbers separated by commas, e.g. --steps 1000,2000")
    return sorted(set(out))


def predict(
    specs: Annotated[Optional[list[Path]], typer.Argument(help="YAML schedule specs to predict (several: a comparison).", show_default=False)] = None,
    law: Annotated[Optional[str], typer.Option("--law", help="A law.yaml from `lrplan fit`, or builtin:NAME (see `lrplan laws`).", show_default=False)] = None,
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write the predicted curve to FILE (CSV step,lr,loss; a name column first when several schedules).")] = None,
    every: Annotated[Optional[int], typer.Option("--every", min=1, help="Curve rows at the steps that are multiples of N (plus the first step after warmup and the last step). Default: every step.", show_default=False)] = None,
    steps: Annotated[Optional[str], typer.Option("--steps", help="Curve rows at these steps only, e.g. 1000,5000,20000.", show_default=False)] = None,
    lr_csv: Annotated[Optional[list[Path]], typer.Option("--lr-csv", help="A plain LR table (CSV step,lr; sparse rows are interpolated) to predict, like a spec (repeatable).", show_default=False)] = None,
) -> None:
    """Predict the loss curve of schedules with a fitted or built-in law; several: ranked by final loss.

    Without --law, uses the built-in [bold]builtin:mpl-400m[/bold] law and says how far the schedule is from the
    range it was fitted for (peak LR, length, tokens/step). Predictions start after warmup.

    Example:

        lrplan predict schedules/wsd.yaml

        lrplan predict schedules/wsd.yaml schedules/cosine.yaml --law builtin:mpl-25m -o pred.csv --every 100
    """
    from lrplan.laws.resolve import OutsideLaw, _first_predictable, law_description, range_detail, resolve_law

    import numpy as np

    from lrplan.cli import console
    from lrplan.output.table import atomic_output

    from rich.markup import escape

    err = console.stderr()
    msgs: list[str] = []  # said on stderr once every prediction succeeded: a failure is one error line
    if not specs and not lr_csv:
        raise LrplanError("nothing to predict: give one or more spec files, or --lr-csv FILE")
    if every is not None and steps is not None:
        raise LrplanError("--every and --steps exclude each other; use one")
    if (every is not None or steps is not None) and not output:
        raise LrplanError(f"--{'every' if every is not None else 'steps'} chooses the rows of the predicted curve: "
                          "add -o FILE (or -o - for stdout)")
    want = _parse_steps(steps) if steps is not None else None
    from lrplan.output.plot import spec_label, unique_labels
    from lrplan.spec.models import load_spec

    inputs: list[_Input] = []
    for p in specs or []:
        s = load_spec(p)
        plan = s.schedule_plan()
        if plan.total_steps > 200_000_000:
            raise LrplanError(f"{p}: {plan.total_steps:,} steps is too many to predict (limit 200,000,000)")
        inputs.append(_Input(spec_label(s), s.render().lr, plan.tokens_per_step, str(p)))
    if lr_csv:
        from lrplan.laws.logs import read_lr_table

        for p in lr_csv:
            c = read_lr_table(p)
            for n in c.notes:
                msgs.append(escape(f"note: {p}: {n}"))
            inputs.append(_Input(Path(p).stem, c.lr, None, str(p)))
    for inp, lab in zip(inputs, unique_labels([i.name for i in inputs])):
        inp.name = lab
    res = resolve_law(law)
    msgs.append(escape(("using " if law else "using the default ") + law_description(res)))
    for f in res.fitted.flags:
        msgs.append(f"[yellow]warning:[/yellow] the law is flagged: {escape(str(f))}")
    finals: list[tuple[float, _Input]] = []
    curves: list[tuple[_Input, np.ndarray, np.ndarray]] = []
    from lrplan.laws import warmup_length

    invalid: list[tuple[_Input, str]] = []  # several inputs: the ones the law cannot evaluate are listed, not ranked
    for inp in inputs:
        detail, outside = range_detail(res, inp.lr, inp.tokens_per_step)
        T = inp.lr.size
        start = _first_predictable(inp.lr)
        if start is None or start > T - 1:
            raise LrplanError(f"{inp.source}: the LR is 0 at every step: no loss to predict")
        try:
            final = _predict(res, inp, np.array([T - 1]), detail)[0]
        except OutsideLaw as e:
            if len(inputs) == 1:
                raise
            invalid.append((inp, str(e)))
            msgs.append("[yellow]warning:[/yellow] " + escape(f"{e}; not ranked"))
            continue
        msgs.append(("[yellow]warning:[/yellow] " if outside else "note: ") + escape(f"{inp.name}: {detail}"))
        finals.append((float(final), inp))
        if output:
            if want is not None:
                if want[-1] >= T:
                    raise LrplanError(f"--steps: step {want[-1]:,} is past the end of {inp.name} "
                                      f"({T:,} steps, 0..{T - 1:,})")
                if want[0] < start:
                    zero = "at step 0" if start == 1 else f"at steps 0..{start - 1:,}"
                    raise LrplanError(f"--steps: step {want[0]:,} of {inp.name} comes before any LR area (its LR is 0 "
                                      f"{zero}); the law predicts from step {start:,} on")
                q = np.array(want, dtype=np.int64)
                w = warmup_length(inp.lr)
                if q.min() < max(start, w):
                    msgs.append(escape(f"note: {inp.name}: steps before {max(start, w):,} are in the warmup, where "
                                       "the law was not fitted"))
            else:
                n = min(every or 1, T)
                first = max(start, warmup_length(inp.lr))
                q = np.arange(first, T, dtype=np.int64)
                if n > 1:
                    q = q[(q % n == 0)]
                q = np.unique(np.concatenate([[first], q, [T - 1]]))
            curves.append((inp, q, _predict(res, inp, q, detail)))
    if not finals:
        more = f" (and the {len(invalid) - 1} other schedules)" if len(invalid) > 1 else ""
        raise LrplanError(f"the law cannot evaluate any of the schedules: {invalid[0][1]}{more}")
    if output:
        import io

        buf = io.StringIO()
        several = len(inputs) > 1
        buf.write(("name," if several else "") + "step,lr,loss\n")
        for inp, q, y in curves:
            pre = f"{_csv_cell(inp.name)}," if several else ""
            lrq = inp.lr[q]
            buf.write("".join(f"{pre}{s},{lr:.9g},{v:.6f}\n" for s, lr, v in zip(q.tolist(), lrq.tolist(), y.tolist())))
        with atomic_output(output) as fh:
            fh.write(buf.getvalue().encode())
    for m in msgs:
        err.print(m, soft_wrap=True)
    out = console.stdout() if output != "-" else err  # -o -: the curve owns stdout
    if len(finals) == 1 and not invalid:
        v, inp = finals[0]
        out.print(f"{inp.name}: predicted final loss {v:.4f} at step {inp.lr.size - 1:,} ({inp.lr.size:,} steps)",
                  markup=False)
    else:
        from rich.table import Table

        finals.sort(key=lambda t: t[0])
        best = finals[0][0]
        t = Table(title=escape(f"predicted final loss ({res.label})"), title_justify="left", header_style="bold")
        for col in ("#", "schedule", "steps", "peak LR", "final LR", "final loss", "vs best"):
            t.add_column(col, justify="left" if col == "schedule" else "right")
        for i, (v, inp) in enumerate(finals, 1):
            t.add_row(str(i), escape(inp.name), f"{inp.lr.size:,}", f"{inp.lr.max():.3g}", f"{inp.lr[-1]:.3g}", f"{v:.4f}",
                      "best" if i == 1 else f"+{v - best:.4f}")
        for inp, _ in invalid:
            t.add_row("-", escape(inp.name), f"{inp.lr.size:,}", f"{inp.lr.max():.3g}", f"{inp.lr[-1]:.3g}", "n/a",
                      "outside")
        out.print(t)
    if output and output != "-":
        err.print(f"wrote {output} ({sum(c[1].size for c in curves):,} rows)", markup=False)


def _csv_cell(s: str) -> str:
    return '"' + s.replace('"', '""') + '"' if any(ch in s for ch in ',"\n\r') else s


def _predict(res: ResolvedLaw, inp: _Input, q: "np.ndarray", context: str = "") -> "np.ndarray":
    from lrplan.laws.resolve import check_predicted

    import numpy as np

    import warnings

    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = np.asarray(res.fitted.predict(inp.lr, q), dtype=float)
    except (ValueError, OverflowError, ZeroDivisionError) as e:
        raise LrplanError(f"{inp.source}: cannot predict with law {res.label}: {str(e).splitlines()[0][:200]}") from None
    check_predicted(res, y, q, inp.source, context, inp.lr)
    return y


