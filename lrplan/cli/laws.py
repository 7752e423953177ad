"""``lrplan laws``: the built-in loss laws (reference model, data, fitted range, held-out accuracy), or one law
(built-in or a law.yaml) in full.  Light to import: the laws load inside the command."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lrplan.cli import console
from lrplan.cli.console import PlainText


def laws(
    name: Annotated[Optional[str], typer.Argument(metavar="NAME", click_type=PlainText(), autocompletion=console.complete_law, help="Show one law in full: a built-in NAME or a law.yaml.", show_default=False)] = None,
) -> None:
    """List the built-in loss laws: reference model, data, fitted range, and accuracy on held-out schedules.

    [dim]lrplan predict[/dim] uses [bold]builtin:mpl-400m[/bold] when no --law is given.

    Example:

        lrplan laws

        lrplan laws mpl-25m
    """
    from lrplan.laws.builtin import builtin_laws
    from lrplan.laws.resolve import DEFAULT_LAW, resolve_law

    out = console.stdout()
    if name is not None:
        _show_law(resolve_law(name), out)
        return
    _listing(builtin_laws(), DEFAULT_LAW, out)


def _listing(builtins: dict, default: str, out) -> None:
    from rich.table import Table

    from lrplan.laws.resolve import law_range

    t = Table(title="built-in loss laws (use --law builtin:NAME)", title_justify="left", header_style="bold")
    for col in ("name", "peak LR", "tokens/step", "fitted steps", "R²", "MAE", "worst"):
        t.add_column(col, justify="left" if col == "name" else "right", no_wrap=col != "name")
    data_lines = []
    for n, fl in builtins.items():
        m = fl.meta or {}
        rng = law_range(m)
        held = m.get("heldout_mean") or {}
        heldw = max((v.get("worst_e", 0.0) for v in (m.get("heldout_metrics") or {}).values()), default=None)
        t.add_row(
            n + (" (default)" if f"builtin:{n}" == default else ""),
            f"{rng['peak_lr']:.3g}" if "peak_lr" in rng else "-",
            f"{rng['tokens_per_step']:,}" if "tokens_per_step" in rng else "-",
            f"{rng['steps'][0]:,}-{rng['steps'][1]:,}" if "steps" in rng else "-",
            f"{held['r2']:.4f}" if "r2" in held else "-", f"{held['mae']:.4f}" if "mae" in held else "-",
            f"{heldw:.2%}" if heldw is not None else "-",
        )
        if m.get("data"):
            n_held = len(m.get("heldout_curves") or [])
            data_lines.append(f"[bold]{n}[/bold] ({fl.law} law): {m.get('reference_model', '-')}; fitted on "
                              f"{', '.join(m.get('fitted_curves') or [])}; tested on {n_held} held-out schedules; "
                              f"data: {m['data']}")
    out.print(t)
    for line in data_lines:
        out.print(line, soft_wrap=True)
    out.print("[dim]R², MAE, worst: on held-out test schedules; R², MAE = mean (incl. 3x longer runs); worst = largest "
              "relative error at any point. Raw LR units: a law is exact only near its peak LR and tokens/step.[/dim]")


def _show_law(res, out) -> None:
    from rich.table import Table

    from lrplan.laws.resolve import law_description

    fl = res.fitted
    console.line(law_description(res), out)
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


def _metrics_table(metrics: dict[str, dict[str, float]], out, title: str) -> None:
    from lrplan.output.laws import metrics_table

    out.print(metrics_table(metrics, title))
