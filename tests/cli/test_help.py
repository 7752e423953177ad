"""Every ``--help`` screen reads well at 80 and 120 columns: no sentence cut mid-line, examples on one line each
(pasteable as written), plain metavars (no ``{spec}`` or ``<str>``) and no raw ``double backticks``."""

from __future__ import annotations

import inspect
import re

import pytest
import typer
from typer.testing import CliRunner

from lrplan.cli import app

runner = CliRunner()
CLICK = typer.main.get_command(app)
COMMANDS = [[]] + [[name] for name in CLICK.commands]  # type: ignore[attr-defined]
WIDTHS = (80, 120)


def _help(cmd: list[str], width: int) -> str:
    res = runner.invoke(app, [*cmd, "--help"], env={"COLUMNS": str(width), "NO_COLOR": "1", "TERM": "dumb"})
    assert res.exit_code == 0, res.output
    return res.stdout


def _doc(cmd: list[str]) -> str:
    obj = CLICK.commands[cmd[0]] if cmd else CLICK  # type: ignore[attr-defined]
    return inspect.cleandoc(obj.help or "")


def _examples(doc: str) -> list[str]:
    return [ln.strip() for ln in doc.splitlines() if ln.strip().startswith("lrplan ")]


def test_every_command_is_covered():
    assert {c[0] for c in COMMANDS if c} >= {"render", "list", "check", "plot", "plan", "import", "fit", "predict", "laws"}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "lrplan")
def test_help_screen_reads_well(cmd, width):
    out = _help(cmd, width)
    lines = out.splitlines()
    assert all(len(ln) <= width for ln in lines), "a line is wider than the terminal"
    # plain metavars: SPEC, FILE, N ... never click's {spec} or typer's <str> / <int range>
    assert not re.search(r"\{[a-z_]+\}|<[a-z ]+>|<int range>", out), re.findall(r"\{[a-z_]+\}|<[a-z ]+>", out)
    assert "``" not in out
    # examples: each on one line of the screen, exactly as written in the docstring (so it pastes)
    flat = [ln.strip() for ln in lines]
    for ex in _examples(_doc(cmd)):
        assert ex in flat, f"example wrapped or altered at {width} columns: {ex}"
    # no sentence cut mid-line: inside a paragraph of the description, a line ends early only where the next
    # word would not have fitted
    desc = []
    for ln in lines[lines.index(next(x for x in lines if x.strip().startswith("Usage:"))) + 1:]:
        if ln.lstrip().startswith(("╭", "Example")) or (ln.strip() and ln.strip() in [e for e in _examples(_doc(cmd))]):
            break
        desc.append(ln.strip())
    for a, b in zip(desc, desc[1:]):
        if a and b:
            assert len(a) + 1 + len(b.split()[0]) > width - 2, f"cut mid-line at {width} columns: {a!r} / {b!r}"


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c], ids=lambda c: c[0])
def test_option_help_has_no_hard_line_breaks(cmd):
    command = CLICK.commands[cmd[0]]  # type: ignore[attr-defined]
    for p in command.params:
        assert "\n" not in (getattr(p, "help", None) or ""), f"{cmd[0]} {p.name}: a hard line break in its help"


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c], ids=lambda c: c[0])
def test_every_command_has_an_example(cmd):
    assert _examples(_doc(cmd)), f"lrplan {cmd[0]} --help has no example"
