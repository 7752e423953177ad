"""The loss-law registry: one line per law; everything that names, lists or looks up a law reads it.

Readers: :func:`lrplan.laws.fit` (``law=``), :class:`~lrplan.laws.FittedLaw` (``law:`` of a law file, and its
``predict``), the loss floor of :mod:`lrplan.laws.resolve`, and ``lrplan fit --law`` (its help and its check).

Light to import (no numpy): the CLI reads the names and summaries at start-up; a law's module is imported the
first time :func:`get_law` is asked for it.

>>> law_names()
['multi-power', 'momentum']
>>> canonical("mtl"), canonical("chinchilla")
('momentum', None)
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lrplan.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.laws.base import LawSpec


@dataclass(frozen=True)
class Entry:
    """A registered law: where its :class:`~lrplan.laws.base.LawSpec` is, its other names, its one-line summary."""

    law: "str | LawSpec"
    """The law's module (imported on first use; its ``LAW`` attribute is the spec), or the spec itself."""
    aliases: tuple[str, ...] = ()
    """Other names accepted wherever a law is named (``--law``, ``law:`` in a law file)."""
    summary: str = ""
    """A few words for ``lrplan fit --help``: ``multi-power (7 params, more accurate)``."""


LAWS: dict[str, Entry] = {
    "multi-power": Entry("lrplan.laws.multipower", aliases=("mpl",), summary="7 params, more accurate"),
    "momentum": Entry("lrplan.laws.momentum", aliases=("mtl",), summary="4 params"),
}
"""Registered laws by name, in the order ``lrplan fit --help`` lists them (the first is the default)."""


def law_names() -> list[str]:
    """The registered law names, in registry order."""
    return list(LAWS)


def accepted_names() -> list[str]:
    """Every name a law may be given by: the registered names and their aliases."""
    return [n for law, e in LAWS.items() for n in (law, *e.aliases)]


def canonical(name: str) -> str | None:
    """The registered name for ``name`` or one of its aliases (exact; the CLI lower-cases); ``None`` if none."""
    for law, entry in LAWS.items():
        if name == law or name in entry.aliases:
            return law
    return None


def choices_text(names: list[str] | None = None) -> str:
    """``multi-power or momentum`` (``a, b or c`` for three)."""
    names = law_names() if names is None else names
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def cli_help() -> str:
    """The ``--law`` help of ``lrplan fit``: every law with its summary."""
    return choices_text([f"{n} ({e.summary})" if e.summary else n for n, e in LAWS.items()]) + "."


def get_law(name: str) -> "LawSpec":
    """The :class:`~lrplan.laws.base.LawSpec` of a registered law (by name or alias); ``ValueError`` if unknown."""
    law = canonical(name)
    if law is None:
        raise DataError(f"unknown law {name!r}; choose from {sorted(accepted_names())}")
    entry = LAWS[law]
    if isinstance(entry.law, str):
        return importlib.import_module(entry.law).LAW
    return entry.law
