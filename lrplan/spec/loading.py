"""Loading a spec: a path, YAML text or a dict -> a validated :class:`~lrplan.spec.models.Spec`, every problem
reported at once as ``file:line: field.path: what is wrong`` (pydantic's locations cleaned to the YAML's).

>>> spec = load_spec({"budget": {"tokens": "1M", "tokens_per_step": 1000}, "schedule": {"kind": "constant", "peak_lr": 1e-3}})
>>> spec.schedule_plan().total_steps
1000
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

from lrplan.errors import Problem, SpecError
from lrplan.spec.files import InputError, read_bytes
from lrplan.spec.models import Spec, from_data
from lrplan.spec.yamlio import load_yaml, located


def _looks_like_path(text: str) -> bool:
    """A one-line string naming a .yaml file or an existing file, or with no mapping in it (no ``:``, as every
    spec has) and not a YAML collection (``{...}``, ``[...]``), is a path (so a missing ``spec.txt`` is "cannot
    read", not "not a mapping"); anything else is YAML text."""
    if not text.strip() or "\n" in text:
        return False
    if text.endswith((".yaml", ".yml")) or (":" not in text and text.lstrip()[0] not in "{["):
        return True
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # e.g. a long one-line YAML string, or a NUL byte: not a file name
        return False


def load_spec(source: Union[str, Path, dict]) -> Spec:
    """Load and fully validate a spec from a YAML file path, a YAML string, or a dict.

    Raises :class:`lrplan.SpecError` whose message is one line per problem, ``file:line: field.path: what``.
    """
    node = None
    base_dir: Path | None = None
    name: str | None = None
    if isinstance(source, dict):
        data = source
    elif isinstance(source, (str, Path)):
        text: str
        if isinstance(source, Path) or _looks_like_path(source):
            path = Path(source)
            name = str(source)
            try:
                raw = read_bytes(path, "spec")
            except InputError as e:  # the file's name leads the message: keep only what is wrong
                raise SpecError([Problem((), str(e).split(": ", 1)[1])], name) from None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise SpecError([Problem((), f"not UTF-8 text (byte {e.start}); save the spec as UTF-8")], name) from None
            base_dir = path.parent
        else:
            text = source
            name = "<string>"
        data, node = load_yaml(text, name)
    else:
        raise SpecError([Problem((), f"load_spec takes a path, a YAML string or a dict, not {type(source).__name__}")])
    try:
        spec = from_data(data, source=name, base_dir=base_dir, node=node)
    except SpecError as e:
        raise located(e, name, node) from None
    return spec
