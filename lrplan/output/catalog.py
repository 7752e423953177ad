"""`lrplan list`: schedule families, their parameters with defaults, and decay shapes.

The listing is read from ``_catalog.json`` (generated from the pydantic models by ``python -m lrplan.output.catalog``;
a test fails when it is stale), so ``lrplan list`` starts without importing pydantic or numpy.
"""

from __future__ import annotations

import json
import re
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
        fams[kind] = {"summary": cls.summary, "formula": cls.formula, "source": cls.source,
                      "doc": " ".join((cls.__doc__ or "").split()), "params": params}
    shapes = {n: {"formula": sh.formula, "source": sh.source, "param": sh.param} for n, (sh, _) in DECAY_SHAPES.items()}
    warm = {n: sh.formula for n, (sh, _) in WARMUP_SHAPES.items()}
    return {"families": fams, "decay_shapes": shapes, "warmup_shapes": warm}


def load_catalog() -> dict[str, Any]:
    try:
        return json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return build_catalog()


def short_source(source: str) -> str:
    """The first reference of a source line, short: its arXiv id if it has one (``arXiv 2404.06395``)."""
    m = re.search(r"arXiv \d{4}\.\d{4,5}", source)
    if m:
        return m.group(0)
    first = source.split(";")[0].split(" (")[0].strip()
    return first if len(first) <= 24 else first[:23] + "…"


def plain(text: str) -> str:
    """Docstring text for a terminal: ````x```` becomes ``x`` (rich markup escaped)."""
    from rich.markup import escape

    return re.sub(r"``(.+?)``", lambda m: f"[bold]{escape(m.group(1))}[/bold]", escape(text).replace("\\[", "\\["))


def print_catalog(console: "Console", kind: str | None = None) -> None:
    """``lrplan list``: one screen of families (kind, formula, source); ``lrplan list KIND``: one family's
    parameters; ``lrplan list shapes``: the decay and warmup shapes with their formulas."""
    from rich import box
    from rich.table import Table

    cat = load_catalog()
    fams = cat["families"]
    if kind == "shapes":
        s = Table(title="decay shapes (decay_shape; a = start LR, b = end LR, p = progress 0..1)", title_justify="left",
                  header_style="bold", box=box.SIMPLE_HEAD)
        s.add_column("shape", no_wrap=True)
        s.add_column("formula", overflow="fold")
        s.add_column("source", overflow="fold")
        for name, sh in cat["decay_shapes"].items():
            s.add_row(name, sh["formula"] + (f"  [needs {sh['param']}]" if sh["param"] else ""), sh["source"])
        console.print(s)
        console.print("warmup shapes (warmup_shape): " + ", ".join(f"{n} ({fm})" for n, fm in cat["warmup_shapes"].items()))
        console.print("lengths: 2000 (steps), '2k steps', '1B tokens', '500K samples', '10%' (of the budget)")
        return
    if kind is not None:
        if kind not in fams:
            raise LrplanError(unknown_kind(kind, list(fams) + ["shapes"]))
        f = fams[kind]
        console.print(f"[bold]{kind}[/bold]: {plain(f['summary'])}")
        console.print(f"source: {plain(f['source'])}")
        if f["doc"]:
            console.print(plain(f["doc"]))
        t = Table(header_style="bold", box=box.SIMPLE_HEAD)
        t.add_column("parameter", no_wrap=True)
        t.add_column("default")
        t.add_column("meaning")
        for name, default, desc in f["params"]:
            t.add_row(name, plain(default), plain(desc))
        console.print(t)
        return
    t = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    t.add_column("kind", no_wrap=True)
    t.add_column("formula", no_wrap=True, overflow="ellipsis")
    t.add_column("source", no_wrap=True, overflow="ellipsis")
    for k, f in fams.items():
        t.add_row(k, f.get("formula") or f["summary"], short_source(f["source"]))
    console.print(t)
    console.print("z = decay progress. Details: lrplan list KIND; shapes: lrplan list shapes")


if __name__ == "__main__":  # regenerate _catalog.json
    CATALOG_FILE.write_text(json.dumps(build_catalog(), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {CATALOG_FILE}")
