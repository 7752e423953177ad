"""The YAML budget spec: models (``models``), counts and lengths (``units``), the token clock (``clock``).

``from lrplan.spec import Spec, load_spec`` works; the names are resolved lazily so that importing
``lrplan.spec.units`` does not import pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.spec.models import Spec, load_spec

__all__ = ["Spec", "load_spec"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from lrplan.spec import models

        return getattr(models, name)
    raise AttributeError(f"module 'lrplan.spec' has no attribute {name!r}")
