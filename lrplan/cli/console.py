"""What every command shares: the two consoles, the user-error boundary, terminal sizes and the option types.

The options are declared once here (as sqlite-utils declares ``output_options``) and used by every command as
``output: Output = None``; a command module imports only this module and the library.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Callable, Optional, TextIO, TypeVar

import typer
import typer.core

try:  # the click that typer runs on: newer typer vendors it as typer._click
    from typer import _click as click
except ImportError:  # pragma: no cover - typer with click as a dependency
    import click  # type: ignore[no-redef]

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

F = TypeVar("F", bound=Callable)


def _no_color() -> Optional[bool]:
    return bool(os.environ.get("NO_COLOR")) or None


def stdout() -> "Console":
    """The product's console (tables, summaries, previews)."""
    from rich.console import Console

    return Console(highlight=False, no_color=_no_color())


def stderr() -> "Console":
    """Diagnostics: warnings, notes, progress, 'wrote FILE'."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, no_color=_no_color())


def warn(message: str, console: "Console | None" = None) -> None:
    """``warning: ...`` on stderr; ``message`` is plain text (not rich markup). Word-wrapped on a terminal, one
    line otherwise (logs and pipes keep whole lines)."""
    say(f"[yellow]warning:[/yellow] {_escape(message)}", console or stderr())


def note(message: str, console: "Console | None" = None) -> None:
    """``note: ...`` on stderr, as :func:`warn`."""
    say(f"[yellow]note:[/yellow] {_escape(message)}", console or stderr())


def show(messages: "list[tuple[str, str]]", console: "Console | None" = None) -> None:
    """The library's ``("note" | "warning", text)`` messages, in order, on stderr: warnings marked, notes plain."""
    err = console or stderr()
    for kind, message in messages:
        if kind == "warning":
            warn(message, err)
        else:
            err.print(message, soft_wrap=not err.is_terminal, markup=False)


def line(text: str, console: "Console", style: Optional[str] = None) -> None:
    """Print plain text (no markup): word-wrapped on a terminal, one line otherwise, as :func:`say`."""
    console.print(text, markup=False, style=style, soft_wrap=not console.is_terminal)


def say(markup: str, console: "Console") -> None:
    """Print rich markup: word-wrapped to the terminal's width on a terminal, one line otherwise."""
    console.print(markup, soft_wrap=not console.is_terminal)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def user_errors(fn: F) -> F:
    """Turn library errors into one ``error: ...`` line per problem on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from lrplan.errors import LrplanError

        try:
            return fn(*args, **kwargs)
        except LrplanError as e:
            for line in str(e).splitlines() or ["error"]:
                sys.stderr.write(f"error: {line}\n")
            raise typer.Exit(2) from None
        except MemoryError:  # e.g. a framework config of 1e11 steps, simulated per step
            sys.stderr.write("error: out of memory: the input is too large for this machine (a very long run, a "
                             "huge log or config); use a shorter budget, --every N where the command has it, or a "
                             "smaller input\n")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:  # Ctrl-C: any temporary output file was removed on the way out
            sys.stderr.write("error: interrupted; nothing was written\n")
            raise typer.Exit(130) from None
        except BrokenPipeError:  # `lrplan render x | head`
            try:
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            finally:
                raise typer.Exit(0) from None

    return wrapper  # type: ignore[return-value]


def load(path, quiet: bool = False):  # type: ignore[no-untyped-def]
    """Load a spec for a command, warning (unless ``quiet``) about values it almost surely does not mean
    (:func:`lrplan.spec.lint.lint`: a peak LR of 5, a bare 100B read as steps, ...)."""
    from lrplan.spec.lint import lint
    from lrplan.spec.loading import load_spec

    spec = load_spec(path)
    if not quiet:
        for w in lint(spec):
            warn(w)
    return spec


# ---------------------------------------------------------------------------------------------- terminal


def want_color(no_color: bool, stream: TextIO) -> bool:
    """Colour only on a terminal, and not with ``--no-color`` or the ``NO_COLOR`` environment variable."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def plot_size(width: Optional[int], height: Optional[int], max_height: Optional[int] = None) -> tuple[int, int]:
    """``--width``/``--height``, else the terminal's size (minus two rows for the prompt; at most the largest
    plot, so a huge COLUMNS/LINES only limits, never refuses)."""
    from lrplan.output.plot import MAX_HEIGHT, MAX_WIDTH

    term = shutil.get_terminal_size()
    w = width if width is not None else min(term.columns, MAX_WIDTH)
    h = height if height is not None else min(term.lines - 2, MAX_HEIGHT)
    if height is None and max_height is not None:
        h = min(h, max_height)
    return w, h


def check_plot_room(max_height: Optional[int] = None) -> None:
    """Refuse a terminal too small (or a size too large) for the plot, before a command prints anything."""
    from lrplan.output.plot import check_size

    check_size(*plot_size(None, None, max_height=max_height))


# ---------------------------------------------------------------------------------------------- help


def reflow(doc: str) -> str:
    """A docstring for rich help: the lines of a prose paragraph joined (rich mode would keep each source line
    break, cutting sentences mid-line), indented example lines kept as they are, one per line."""
    import inspect

    out = []
    for para in inspect.cleandoc(doc).split("\n\n"):
        lines = para.splitlines()
        if lines and all(ln.startswith("    ") for ln in lines):  # an example block: one command per line
            out.append("\n".join(lines))
        else:
            out.append(" ".join(ln.strip() for ln in lines))
    return "\n\n".join(out)


class Command(typer.core.TyperCommand):
    """Every lrplan command: prose help reflowed (:func:`reflow`); the usage line shows ``SPEC``, not click's
    ``{SPEC}`` for a required argument."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if self.help:
            self.help = reflow(self.help)

    def collect_usage_pieces(self, ctx):  # type: ignore[no-untyped-def]
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


class PlainPath(click.types.ParamType):
    """A path argument whose help shows only its metavar (``SPEC``), not an extra ``<path>`` column."""

    name = "path"

    def get_metavar(self, param, ctx=None):  # type: ignore[no-untyped-def, override]
        return ""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, str) and not value.strip():  # Path("") is ".", the current directory
            self.fail("an empty file name", param, ctx)
        return value if isinstance(value, Path) else Path(value)


class PlainText(click.types.ParamType):
    """A text argument whose help shows only its metavar (``KIND``), not an extra ``<str>`` column."""

    name = "text"

    def get_metavar(self, param, ctx=None):  # type: ignore[no-untyped-def, override]
        return ""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        return str(value)


# ---------------------------------------------------------------------------------------------- completion
# Shell completion offers the values lrplan knows (`lrplan --install-completion`); each reads the registry it
# completes from, so a new framework, law or family is offered without touching this module.


def _starting(values: list[str], incomplete: str) -> list[str]:
    return [v for v in values if v.startswith(incomplete)]


def framework_names() -> list[str]:
    from lrplan.frameworks import names

    return list(names())


def complete_framework(incomplete: str) -> list[str]:
    return _starting(framework_names(), incomplete)


def complete_plan_export(incomplete: str) -> list[str]:
    from lrplan.frameworks import exportable_plans

    return _starting(list(exportable_plans()), incomplete)


def complete_format(incomplete: str) -> list[str]:
    return _starting(["csv", "json", *framework_names()], incomplete)


def complete_version(incomplete: str) -> list[str]:
    from lrplan.frameworks import get, names

    return _starting(sorted({v for n in names() for v in get(n).versions}), incomplete)


def complete_law(incomplete: str) -> list[str]:
    from lrplan.laws.builtin import builtin_names

    return _starting([f"builtin:{n}" for n in builtin_names()], incomplete)


def complete_kind(incomplete: str) -> list[str]:
    from lrplan.output.catalog import load_catalog

    return _starting([*load_catalog()["families"], "shapes"], incomplete)


# ---------------------------------------------------------------------------------------------- options


def _frameworks(plans_only: bool = False) -> str:
    """The registry's frameworks for help texts: ``megatron, torchtitan, hf, olmo-core, deepspeed``."""
    from lrplan.frameworks import exportable_plans, names

    return ", ".join(exportable_plans() if plans_only else names())


FRAMEWORKS_HELP = _frameworks()
PLAN_FRAMEWORKS_HELP = _frameworks(plans_only=True)

SpecArg = Annotated[Path, typer.Argument(metavar="SPEC", click_type=PlainPath(), help="YAML budget spec (see schedules/ for examples).", show_default=False)]
Output = Annotated[Optional[str], typer.Option(
    "-o", "--output", metavar="FILE",
    help="Write to FILE instead of stdout (a temporary file renamed into place: never half-written).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No summary or notes on stderr.")]
Law = Annotated[Optional[str], typer.Option(
    "--law", metavar="LAW", autocompletion=complete_law, help="A law.yaml from `lrplan fit`, or builtin:NAME (see `lrplan laws`).", show_default=False)]
FrameworkVersion = Annotated[Optional[str], typer.Option(
    "--framework-version", metavar="VERSION", autocompletion=complete_version,
    help="Framework version for --format/--convention (torchtitan 0.2 = TOML, 0.3 = Python; default the newest).")]
Width = Annotated[Optional[int], typer.Option("--width", "-W", metavar="N", help="Columns (default: the terminal's).", show_default=False)]
Height = Annotated[Optional[int], typer.Option("--height", "-H", metavar="N", help="Rows, legend included (default: the terminal's).", show_default=False)]
NoColor = Annotated[bool, typer.Option("--no-color", help="Plain text, one marker character per spec (automatic when not a terminal or NO_COLOR is set).")]
