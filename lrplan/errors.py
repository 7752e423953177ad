"""Error types. Library code raises these; the CLI prints them as one line each and exits 2."""

from __future__ import annotations

from dataclasses import dataclass


class LrplanError(Exception):
    """A problem the user can fix (bad input, infeasible request). The CLI exits with status 2."""


class DataError(LrplanError, ValueError):
    """Bad data given to a library function (a curve, an LR array, law parameters): an :class:`LrplanError`,
    and a ``ValueError`` as the function's contract has always said."""


@dataclass(frozen=True)
class Problem:
    """One problem in a spec: the field path (``schedule.decay``), the message, and where it is."""

    path: tuple[str | int, ...]
    message: str
    line: int | None = None

    def dotted(self) -> str:
        out = ""
        for seg in self.path:
            out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
        return out


class SpecError(LrplanError):
    """A spec failed validation. ``str(err)`` is one line per problem: ``file:line: path: message``."""

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        lines = []
        for p in self.problems:
            where = self.source or "<spec>"
            if p.line is not None:
                where += f":{p.line}"
            field = p.dotted()
            lines.append(f"{where}: {field + ': ' if field else ''}{shorten(p.message)}")
        return "\n".join(lines)

    def with_source(self, source: str | None, line_of=None) -> "SpecError":
        """Return a copy that names the file and, through ``line_of(path)``, each problem's line."""
        probs = [
            Problem(p.path, p.message, p.line if p.line is not None or line_of is None else line_of(p.path))
            for p in self.problems
        ]
        return SpecError(probs, source)


MAX_MESSAGE = 300  # characters of one problem's message; a long echoed value is cut in its middle


def shorten(text: str, most: int = MAX_MESSAGE) -> str:
    """``text`` on one line and at most ``most`` characters: a 5,000-character value is not echoed whole.

    >>> shorten("got " + "x" * 1000, 20)
    'got xx … xxxxxxxxxxx'
    """
    text = " ".join(text.split())
    if len(text) <= most:
        return text
    head = (most - 3) * 2 // 5
    return f"{text[:head]} … {text[len(text) - (most - 3 - head):]}"


def spec_error(path: tuple[str | int, ...], message: str) -> SpecError:
    """Shorthand for a single-problem :class:`SpecError`."""
    return SpecError([Problem(tuple(path), message)])


def unknown_kind(kind: object, kinds: list[str]) -> str:
    """The error line for a schedule kind that does not exist (spec files and ``lrplan list KIND``)."""
    import difflib

    close = difflib.get_close_matches(str(kind), kinds, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown schedule kind {kind!r}; {hint}choose from: {', '.join(kinds)}"
