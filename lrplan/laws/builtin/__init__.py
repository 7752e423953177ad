"""Built-in fitted laws shipped with lrplan (``mpl-25m``, ``mpl-100m``, ``mpl-400m``).

Each ``<name>.yaml`` is a plain :meth:`FittedLaw.to_dict` mapping; regenerate with
``python -m lrplan.laws.make_builtin`` (needs the MPL reference curves, see that module).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.laws.fitted import FittedLaw

BUILTIN_DIR = Path(__file__).parent


def load_law(path: str | Path) -> "FittedLaw":
    """Load a :class:`FittedLaw` from a YAML (or JSON) file written by :meth:`FittedLaw.to_dict`."""
    import yaml

    from lrplan.laws.fitted import FittedLaw

    data: Any = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping, got {type(data).__name__}")
    return FittedLaw.from_dict(data)


def builtin_names() -> list[str]:
    """Names (file stems) of the built-in laws, sorted."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def builtin_laws() -> dict[str, "FittedLaw"]:
    """All built-in laws by name (file stem), e.g. ``builtin_laws()["mpl-400m"]``."""
    return {name: load_law(BUILTIN_DIR / f"{name}.yaml") for name in builtin_names()}
