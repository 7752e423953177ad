"""Tables of a loss law for the terminal: its fit quality per curve (``lrplan fit``, ``lrplan laws NAME``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table


def metrics_table(metrics: dict[str, dict[str, float]], title: str,
                  extra: Optional[tuple[str, dict[str, str]]] = None) -> "Table":
    """One row per curve: R², MAE, worst relative error (:data:`lrplan.laws.metrics.METRIC_COLUMNS`), and an
    optional ``extra`` column ``(header, cell per curve)``."""
    from rich.markup import escape
    from rich.table import Table

    from lrplan.laws.metrics import METRIC_COLUMNS, metric_cells

    t = Table(title=title, title_justify="left", header_style="bold")
    for col in ("curve", *METRIC_COLUMNS, *([extra[0]] if extra else [])):
        t.add_column(col, justify="left" if col == "curve" else "right")
    for name, m in metrics.items():
        t.add_row(escape(str(name)), *metric_cells(m), *([extra[1].get(name, "")] if extra else []))
    return t
