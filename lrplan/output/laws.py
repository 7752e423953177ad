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

    names = [str(n) for n in metrics]
    prefix = _common_source(names)
    t = Table(title=title + (f" (curves of {prefix})" if prefix else ""), title_justify="left", header_style="bold")
    for col in ("curve", *METRIC_COLUMNS, *([extra[0]] if extra else [])):
        t.add_column(col, justify="left" if col == "curve" else "right", no_wrap=col != "curve")
    for name, m in metrics.items():
        t.add_row(escape(str(name)[len(prefix) + 1 if prefix else 0 :]), *metric_cells(m),
                  *([extra[1].get(name, "")] if extra else []))
    return t


def _common_source(names: list[str]) -> str:
    """The ``FILE`` of curve names ``FILE:RUN`` when every one of several curves comes from the same file (the
    table then names the runs alone, and the title the file); else ``""``."""
    if len(names) < 2 or not all(":" in n for n in names):
        return ""
    heads = {n.rsplit(":", 1)[0] for n in names}
    return heads.pop() if len(heads) == 1 else ""
