"""``lrplan render --format FW`` as a person sees it: a real pseudo-terminal at 80x24, stdout and stderr on one
screen. The snippet carries its report (exact / NOT EXACT, differences, warnings, notes, recipe) as comments, and
stderr carries it too; on one terminal each diagnostic must show once. DeepSpeed's JSON has no comments: its
report is stderr's alone, and shows once as well."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from ptyscreen import screen

ROOT = Path(__file__).resolve().parents[2]


PREFIXES = ("warning: ", "note: ", "recipe: ")


def diagnostics(lines: list[str]) -> list[str]:
    """The report's lines, as the same text whether a snippet comment (``# note: ...``) or a stderr line
    (``note: ...``, ``  why: ...``): the comment character, indentation and ``warning:``/``note:``/``recipe:``
    prefixes dropped. Snippet code (``--lr ...``, ``lr_scheduler = ...``) is not a diagnostic."""
    out = []
    for ln in lines:
        s = ln
        if s.startswith(("#", "//")):
            s = s.lstrip("#/")
        elif not (s.startswith(PREFIXES) or (s.startswith("  ") and s.strip()[:1].isalnum())):  # not JSON's `  "lr"`
            continue
        s = s.strip()
        for p in PREFIXES:
            if s.startswith(p):
                s = s[len(p):]
        if s.startswith("exact") or s.startswith("NOT EXACT"):  # the verdict, in whichever words
            s = "VERDICT"
        if s:
            out.append(s)
    return out


CASES = [
    ("megatron", "schedules/cosine.yaml"),  # exact, with two notes (min_lr never reached, update 1 at LR 0)
    ("megatron", "schedules/wsd-s.yaml"),  # exact, one launch per decay: the relaunch recipe
    ("torchtitan", "schedules/wsd.yaml"),  # NOT EXACT: the differences, the why and the recipe
    ("torchtitan", "schedules/cosine.yaml"),
    ("hf", "schedules/wsd.yaml"),
    ("olmo-core", "schedules/wsd.yaml"),
    ("deepspeed", "schedules/wsd.yaml"),  # the JSON has no comments: the report is stderr's
]


@pytest.mark.parametrize("fw,spec", CASES)
def test_each_diagnostic_shows_once_on_a_terminal(fw, spec):
    lines = screen(["render", spec, "--format", fw], 80, 24)
    diag = diagnostics(lines)
    assert diag, lines
    repeated = sorted({d for d in diag if diag.count(d) > 1})
    assert not repeated, "\n".join(lines)
    assert diag.count("VERDICT") + sum("cannot run this" in d for d in diag) == 1  # exact / NOT EXACT: said once


def test_megatron_notes_show_once_at_80x24():
    lines = screen(["render", "schedules/cosine.yaml", "--format", "megatron"], 80, 24)
    assert sum("never runs at min_lr" in ln for ln in lines) == 1
    assert sum("update 1 runs at LR 0" in ln for ln in lines) == 1
    assert sum("--lr-decay-style cosine" in ln for ln in lines) == 1  # the snippet itself is all there
    assert len([ln for ln in lines if ln.strip()]) <= 24 - 1  # it fits one screen (the prompt still shows)


def test_torchtitan_report_shows_once_at_80x24():
    lines = screen(["render", "schedules/wsd.yaml", "--format", "torchtitan"], 80, 24)
    assert sum("why: TorchTitan's warmup runs (c+1)/W" in ln for ln in lines) == 1
    assert sum("update 1 runs at LR 1.5e-07 (spec: 0)" in ln for ln in lines) == 1
    assert sum("lrplan's PyTorch scheduler" in ln for ln in lines) == 1
    assert sum("NOT EXACT" in ln for ln in lines) == 1
    assert sum(ln.startswith("lr_scheduler = LRSchedulersContainer.Config(") for ln in lines) == 1


def test_deepspeed_on_a_terminal_reports_on_stderr_and_prints_json():
    lines = screen(["render", "schedules/wsd.yaml", "--format", "deepspeed"], 80, 24)
    assert sum("why: DeepSpeed has no wsd schedule" in ln for ln in lines) == 1
    assert sum(ln.startswith("warning: deepspeed cannot run this wsd schedule exactly") for ln in lines) == 1
    start = lines.index("{")
    doc = json.loads("\n".join(lines[start:]))  # the snippet is plain JSON, after the report
    assert doc["scheduler"]["type"] == "WarmupDecayLR"


def test_report_still_goes_to_stderr_when_stderr_is_not_the_terminal(tmp_path):
    """`lrplan render ... 2>log` on a terminal: the snippet on screen, and the report in the log as before."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    log = tmp_path / "log"
    with open(log, "wb") as err:
        proc = subprocess.run([sys.executable, "-m", "lrplan", "render", "schedules/cosine.yaml", "--format", "megatron"],
                              stdin=slave, stdout=slave, stderr=err, cwd=ROOT, timeout=60)
    os.close(slave)
    os.close(master)
    assert proc.returncode == 0
    text = log.read_text()
    assert "megatron 0.16: exact" in text and "note: update 1 runs at LR 0" in text
