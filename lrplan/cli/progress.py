"""Progress on long work: a ``rich.progress`` bar on stderr, shown only on a terminal, only once the work has
taken longer than ``DELAY`` seconds, and never under ``-q``.

The library reports progress through a plain callback, ``progress(stage, done, total)`` (:data:`Callback`):
``stage`` names what is counted (``"rows"``, ``"curves"``, ``"iterations"``, ``"budgets"``), ``done`` how many
are finished and ``total`` how many there are (``None`` when unknown). The library never imports rich for it;
this module turns the callbacks into one transient bar (it disappears when the work ends, so the screen keeps
only the result).

``LRPLAN_PROGRESS_DELAY`` (seconds, default 1) changes the delay: ``0`` shows the bar at once, which the
terminal tests use to see it on short work.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, Optional

Callback = Callable[[str, int, Optional[int]], None]

DELAY = 1.0
LABELS = {"rows": "rows", "steps": "steps", "curves": "reading logs", "iterations": "fitting",
          "budgets": "optimising budgets", "families": "predicting WSD-S, WSD, cosine"}


def _delay() -> float:
    raw = os.environ.get("LRPLAN_PROGRESS_DELAY")
    if raw is None:
        return DELAY
    try:
        return max(0.0, float(raw))
    except ValueError:
        return DELAY


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Bar:
    """A callback (:data:`Callback`) that draws a transient bar on stderr once the work is slow; a context
    manager that removes it at the end. Disabled (a no-op costing one attribute test per call) when stderr is
    not a terminal or ``quiet``."""

    def __init__(self, what: str, quiet: bool = False, delay: Optional[float] = None) -> None:
        self.what = what
        self.enabled = not quiet and _stderr_is_terminal()
        self.delay = _delay() if delay is None else delay
        self.t0 = time.monotonic()
        self._progress = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "Bar":
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _start(self) -> None:
        from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, \
            TimeRemainingColumn
        from rich.text import Text

        from lrplan.cli import console

        class Count(ProgressColumn):  # "1,234,567/20,000,000" (rich's MofN column has no thousands separators)
            def render(self, task) -> Text:  # type: ignore[no-untyped-def]
                total = "?" if task.total is None else f"{int(task.total):,}"
                return Text(f"{int(task.completed):,}/{total}")

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), Count(),
                                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                  console=console.stderr(), transient=True, refresh_per_second=5)
        self._progress.start()

    def __call__(self, stage: str, done: int, total: Optional[int] = None) -> None:
        if not self.enabled:
            return
        if self._progress is None:
            if time.monotonic() - self.t0 < self.delay:
                return
            self._start()
        prog = self._progress
        assert prog is not None
        task = self._tasks.get(stage)
        if task is None:
            label = f"{self.what}: {LABELS.get(stage, stage)}"
            task = self._tasks[stage] = prog.add_task(label, total=total)
        prog.update(task, completed=done, total=total)


def bar(what: str, quiet: bool = False) -> Bar:
    """The progress callback for one command's long work (``with bar("render", quiet) as progress: ...``)."""
    return Bar(what, quiet)
