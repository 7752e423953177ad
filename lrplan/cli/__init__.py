"""The ``lrplan`` command line: a thin skin that parses, calls the library, and renders with rich.

Heavy modules (numpy, pydantic, plotext, scipy) are imported inside commands so ``lrplan --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Callable, Optional, TypeVar

import typer

from lrplan import __version__
from lrplan.cli.console import Command, user_errors

app = typer.Typer(
    name="lrplan",
    help="Plan learning-rate schedules for LLM pretraining: render every step's LR, export framework configs, "
    "predict loss, plan WSD-S branches.\n\nExample: lrplan render schedules/wsd.yaml  (then lrplan COMMAND --help)",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lrplan {__version__}")
        raise typer.Exit()


THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(environ: "dict[str, str] | os._Environ[str]", threads: Optional[int] = None) -> None:
    """Pin the BLAS/OpenMP thread pools before numpy loads: lrplan's numeric work is small dense kernels, which
    a pool of spinning threads only slows down (and starting it costs every command ~40 ms). ``threads`` (from
    ``--threads``) wins; else ``LRPLAN_THREADS``; else 1; a pool size the user already exported is kept."""
    if threads is not None:
        for var in THREAD_VARS:
            environ[var] = str(threads)
        return
    default = environ.get("LRPLAN_THREADS", "1")
    for var in THREAD_VARS:
        environ.setdefault(var, default)


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = None,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, metavar="N", help="Threads for numpy's BLAS (default 1, or LRPLAN_THREADS).", show_default=False)] = None,
) -> None:
    """lrplan: learning-rate schedule planner."""
    if threads is not None:  # before any command imports numpy
        pin_threads(os.environ, threads)


# --- the commands: one module each, registered here in --help order (each module is light to import: heavy
# modules load inside the command) ---------------------------------------------------------------------------
from lrplan.cli import check, frameworks, listing, plan, plot, render  # noqa: E402

app.command(cls=Command)(user_errors(render.render))
app.command("list", cls=Command)(user_errors(listing.list_))
app.command(cls=Command)(user_errors(check.check))
app.command("plan", cls=Command)(user_errors(plan.plan))
app.command(cls=Command)(user_errors(plot.plot))
app.command("import", cls=Command, context_settings={"ignore_unknown_options": True})(user_errors(frameworks.import_))
from lrplan.cli import fit, laws, predict, probe; app.command(cls=Command)(user_errors(fit.fit)); app.command(cls=Command)(user_errors(predict.predict)); app.command(cls=Command)(user_errors(probe.probe)); app.command(cls=Command)(user_errors(laws.laws))  # noqa: E402, E702


def _stdout_kind() -> tuple[int, int] | None:
    try:
        st = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return st.st_dev, st.st_ino


class _Terminated(BaseException):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, so a temporary output file is removed on the way out."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, frame):  # type: ignore[no-untyped-def]
    raise _Terminated(signum)


def main() -> None:
    """Entry point: usage errors (unknown option, missing argument, bad value) are one `error:` line, exit 2;
    a reader that closes the pipe early (``lrplan list | head -1``) is not an error: exit 0, as ``render``.
    SIGINT, SIGTERM and SIGHUP stop the command with one line, leaving no temporary file behind."""
    import signal

    pin_threads(os.environ)
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, _on_signal)
    before = _stdout_kind()
    try:
        rv = app(standalone_mode=False)
        sys.stdout.flush()  # a full disk behind stdout fails here, not in the interpreter's exit
    except _Terminated as e:
        name = signal.Signals(e.signum).name
        sys.stderr.write(f"error: stopped by {name}; no output file was left half-written\n")
        sys.exit(128 + e.signum)
    except UnicodeEncodeError as e:  # e.g. PYTHONIOENCODING=ascii: the tables' box characters cannot be shown
        _silence_stdout()
        sys.stderr.write(f"error: the output's encoding ({e.encoding}) cannot show lrplan's output; set "
                         "PYTHONIOENCODING=utf-8 (or a UTF-8 locale, LANG=C.UTF-8)\n")
        sys.exit(2)
    except BrokenPipeError:  # a closed pipe outside a command (e.g. typer's own help): not an error
        _silence_stdout()
        sys.exit(0)
    except OSError as e:
        _silence_stdout()
        sys.stderr.write(f"error: cannot write the output: {e.strerror or e}\n")
        sys.exit(2)
    except SystemExit as e:
        # rich answers a closed pipe by pointing stdout at /dev/null and raising SystemExit(1)
        now = _stdout_kind()
        if e.code == 1 and before is not None and now != before and now == _devnull():
            sys.exit(0)
        raise
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    except Exception as e:
        if hasattr(e, "format_message") and hasattr(e, "exit_code"):  # click's UsageError / BadParameter
            ctx = getattr(e, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            msg = " ".join(str(e.format_message()).split())
            if not msg:  # `lrplan` alone: the help was printed, nothing went wrong
                sys.exit(0)
            sys.stderr.write(f"error: {msg}{hint}\n")
            sys.exit(2 if e.exit_code in (1, 2) else e.exit_code)
        if type(e).__name__ == "Abort":
            sys.stderr.write("error: aborted\n")
            sys.exit(1)
        raise
    sys.exit(rv if isinstance(rv, int) else 0)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush of what could not be written stays quiet."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _devnull() -> tuple[int, int]:
    st = os.stat(os.devnull)
    return st.st_dev, st.st_ino


if __name__ == "__main__":  # pragma: no cover
    main()
