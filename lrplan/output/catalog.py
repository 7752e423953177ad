"""`lrplan list`: schedule families, their parameters with defaults, and decay shapes.

The listing is read from ``_catalog.json`` (generated from the pydantic models by ``python -m lrplan.output.catalog``;
a test fails when it is stale), so ``lrplan list`` starts without importing pydantic or numpy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lrplan.errors import LrplanError, unknown_kind

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

CATALOG_FILE = Path(__file__).with_name("_catalog.json")


def _default(field) -> str:
    from pydantic_core import PydanticUndefined

    if field.default is PydanticUndefined:
        return "(required)"
    if field.default is None:
        return "-"
    return str(field.default)


def build_catalog() -> dict[str, Any]:
    """The listing, from the models themselves (the source of truth)."""
    from lrplan.schedules import DECAY_SHAPES, FAMILIES, WARMUP_SHAPES

    fams = {}
    for kind, cls in FAMILIES.items():
        params = [
            [f.alias or name, _default(f), f.description or ""] for name, f in cls.model_fields.items() if name != "kind"
        ]
        fams[kind] = {"summary": cls.summary, "source": cls.source, "doc": " ".join((cls.__doc__ or "").split()), "params": params}
    shapes = {n: {"formula": sh.formula, "source": sh.source, "param": sh.param} for n, (sh, _) in DECAY_SHAPES.items()}
    warm = {n: sh.formula for n, (sh, _) in WARMUP_SHAPES.items()}
    return {"families": fams, "decay_shapes": shapes, "warmup_shapes": warm}


def load_catalog() -> dict[str, Any]:
    try:
        return json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return build_catalog()


def print_catalog(console: "Console", kind: str | None = None) -> None:
    from rich.table import Table

    cat = load_catalog()
    fams = cat["families"]
    if kind is not None:
        if kind not in fams:
            raise LrplanError(unknown_kind(kind, list(fams)))
        f = fams[kind]
        console.print(f"[bold]{kind}[/bold]: {f['summary']}")
        console.print(f"source: {f['source']}")
        if f["doc"]:
            console.print(f["doc"])
        t = Table(header_style="bold")
        t.add_column("parameter")
        t.add_column("default")
        t.add_column("meaning")
        for name, default, desc in f["params"]:
            t.add_row(name, default, desc)
        console.print(t)
        return
    t = Table(title="schedule families (schedule.kind)", title_justify="left", header_style="bold")
    t.add_column("kind")
    t.add_column("what")
    t.add_column("parameters (default)")
    t.add_column("source")
    for k, f in fams.items():
        params = ", ".join(f"{n}={d}" if d != "(required)" else n for n, d, _ in f["params"])
        t.add_row(k, f["summary"], params, f["source"])
    console.print(t)
    s = Table(title="decay shapes (decay_shape; a = start LR, b = end LR, p = progress 0..1)", title_justify="left", header_style="bold")
    s.add_column("shape")
    s.add_column("formula")
    s.add_column("source")
    for name, sh in cat["decay_shapes"].items():
        s.add_row(name, sh["formula"] + (f"  [needs {sh['param']}]" if sh["param"] else ""), sh["source"])
    console.print(s)
    console.print("warmup shapes (warmup_shape): " + ", ".join(f"{n} ({fm})" for n, fm in cat["warmup_shapes"].items()))
    console.print("lengths: 2000 (steps), '2k steps', '1B tokens', '500K samples', '10%' (of the budget)")


if __name__ == "__main__":  # regenerate _catalog.json
    CATALOG_FILE.write_text(json.dumps(build_catalog(), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {CATALOG_FILE}")
