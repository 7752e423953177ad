"""`lrplan list`: schedule families, their parameters with defaults, and decay shapes."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from lrplan.errors import LrplanError

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console


def _default(field) -> str:
    from pydantic_core import PydanticUndefined

    if field.default is PydanticUndefined:
        return "(required)"
    if field.default is None:
        return "-"
    return str(field.default)


def family_params(kind: str) -> list[tuple[str, str, str]]:
    """(name, default, description) for every parameter of ``kind``."""
    from lrplan.schedules import FAMILIES

    cls = FAMILIES[kind]
    out = []
    for name, f in cls.model_fields.items():
        if name == "kind":
            continue
        out.append((f.alias or name, _default(f), f.description or ""))
    return out


def print_catalog(console: "Console", kind: str | None = None) -> None:
    from rich.table import Table

    from lrplan.schedules import DECAY_SHAPES, FAMILIES, WARMUP_SHAPES

    if kind is not None:
        if kind not in FAMILIES:
            close = difflib.get_close_matches(kind, list(FAMILIES), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise LrplanError(f"unknown schedule kind {kind!r}; {hint}choose from: {', '.join(FAMILIES)}")
        cls = FAMILIES[kind]
        console.print(f"[bold]{kind}[/bold]: {cls.summary}")
        console.print(f"source: {cls.source}")
        doc = " ".join((cls.__doc__ or "").split())
        if doc:
            console.print(doc)
        t = Table(header_style="bold")
        t.add_column("parameter")
        t.add_column("default")
        t.add_column("meaning")
        for name, default, desc in family_params(kind):
            t.add_row(name, default, desc)
        console.print(t)
        return
    t = Table(title="schedule families (schedule.kind)", title_justify="left", header_style="bold")
    t.add_column("kind")
    t.add_column("what")
    t.add_column("parameters (default)")
    t.add_column("source")
    for k, cls in FAMILIES.items():
        params = ", ".join(f"{n}={d}" if d != "(required)" else n for n, d, _ in family_params(k))
        t.add_row(k, cls.summary, params, cls.source)
    console.print(t)
    s = Table(title="decay shapes (decay_shape; a = start LR, b = end LR, p = progress 0..1)", title_justify="left", header_style="bold")
    s.add_column("shape")
    s.add_column("formula")
    s.add_column("source")
    for name, (shape, _) in DECAY_SHAPES.items():
        s.add_row(name, shape.formula + (f"  [needs {shape.param}]" if shape.param else ""), shape.source)
    console.print(s)
    console.print("warmup shapes (warmup_shape): " + ", ".join(f"{n} ({sh.formula})" for n, (sh, _) in WARMUP_SHAPES.items()))
    console.print("lengths: 2000 (steps), '2k steps', '1B tokens', '500K samples', '10%' (of the budget)")
