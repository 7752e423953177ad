"""How a spec is named in tables and legends: its ``name``, else its file's stem; repeats made distinct."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.spec.models import Spec


def spec_label(spec: "Spec") -> str:
    """Label of a spec: its ``name``, else its file's stem (``spec`` for a spec from a string or dict)."""
    if spec.name:
        return spec.name
    return Path(spec.source).stem if spec.source and not spec.source.startswith("<") else "spec"


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Make repeated labels distinct (``a``, ``a #2``, ...).

    >>> unique_labels(["wsd", "cosine", "wsd"])
    ['wsd', 'cosine', 'wsd #2']
    """
    out: list[str] = []
    for lab in labels:
        cand, k = lab, 2
        while cand in out:
            cand, k = f"{lab} #{k}", k + 1
        out.append(cand)
    return out
