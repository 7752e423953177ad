"""The YAML budget spec: models (``models``), loading with file:line errors (``loading``, ``yamlio``), counts
and lengths (``units``), the token and batch clock (``clock``).

``from lrplan.spec import Spec, load_spec`` works; the names are resolved lazily so that importing
``lrplan.spec.units`` does not import pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.spec.loading import load_spec
    from lrplan.spec.models import Spec

__all__ = ["Spec", "load_spec"]


def __getattr__(name: str) -> Any:
    if name == "Spec":
        from lrplan.spec.models import Spec

        return Spec
    if name == "load_spec":
        from lrplan.spec.loading import load_spec

        return load_spec
    raise AttributeError(f"module 'lrplan.spec' has no attribute {name!r}")
