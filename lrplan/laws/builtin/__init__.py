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
    """Load a :class:`FittedLaw` from a YAML (or JSON) file written by :meth:`FittedLaw.to_dict` (a built-in's,
    or ``lrplan fit``'s; for user files :func:`lrplan.laws.resolve.resolve_law` checks more). Bad input raises
    :class:`lrplan.errors.DataError`."""
    import yaml

    from lrplan.errors import DataError
    from lrplan.laws.fitted import FittedLaw
    from lrplan.spec.files import InputError, read_bytes
    from lrplan.spec.yamlio import safe_load

    if not isinstance(path, (str, Path)):
        raise DataError(f"load_law takes a path, not {type(path).__name__}")
    try:
        data: Any = safe_load(read_bytes(path, "law").decode("utf-8"))
    except InputError as e:
        raise DataError(str(e)) from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as e:
        raise DataError(f"{path}: not a law file ({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a mapping, got {type(data).__name__}")
    try:
        return FittedLaw.from_dict(data)
    except DataError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError, OverflowError) as e:
        raise DataError(f"{path}: not a valid law file: {str(e)[:200]}") from None


def builtin_names() -> list[str]:
    """Names (file stems) of the built-in laws, sorted."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def builtin_laws() -> dict[str, "FittedLaw"]:
    """All built-in laws by name (file stem), e.g. ``builtin_laws()["mpl-400m"]``."""
    return {name: load_law(BUILTIN_DIR / f"{name}.yaml") for name in builtin_names()}
