"""What a person sees: the CLI run in a real pseudo-terminal at 80x24 and 120x40, asserting on the screen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ptyscreen import screen

ROOT = Path(__file__).resolve().parents[2]
SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("cols,rows", SIZES)
def test_render_preview_honours_format_every_and_quiet(cols, rows):
    lines = screen(["render", "schedules/power.yaml", "--every", "5000", "--format", "json"], cols, rows)
    rows_json = [ln for ln in lines if ln.startswith('{"step":')]
    assert rows_json and not any(ln.startswith("step,tokens,lr,phase") for ln in lines)
    steps = [int(re.match(r'\{"step":(\d+)', ln).group(1)) for ln in rows_json]
    stable = [s for s in steps if s >= 5000 and s % 5000 == 0]
    assert stable[:3] == [5000, 10000, 15000]  # the requested spacing, not the preview's own
    assert any("more rows" in ln for ln in lines)
    quiet = screen(["render", "schedules/power.yaml", "--every", "5000", "-q"], cols, rows)
    assert not any("phase" in ln and "steps" in ln for ln in quiet) and not any(ln.startswith("note:") for ln in quiet)
    assert any(ln.startswith("5000,") for ln in quiet)


@pytest.mark.parametrize("cols,rows", SIZES)
def test_notes_wrap_at_word_boundaries(cols, rows):
    lines = screen(["check", "schedules/power.yaml"], cols, rows)
    assert all(len(ln) <= cols for ln in lines)
    text = "\n".join(lines)
    assert "100,000,595,968" in text  # never broken mid-number
    notes = [i for i, ln in enumerate(lines) if ln.startswith("note:")]
    assert len(notes) == 3
    for i in notes:  # a wrapped note breaks between words: its line ends in a whole word
        if i + 1 < len(lines) and not lines[i + 1].startswith(("note:", "LR ")):
            assert lines[i].endswith((" ", ",", ")", "s")) or lines[i + 1][0] in "(0123456789"


@pytest.mark.parametrize("cols,rows", SIZES)
def test_list_is_one_screen_without_cut_cells(cols, rows):
    lines = screen(["list"], cols, rows)
    body = [ln for ln in lines if ln.strip()]
    assert len(body) <= rows - 1  # the prompt still shows the header
    assert "…" not in "\n".join(lines)
    assert any(ln.startswith("cosine-restarts ") for ln in lines) and any("arXiv 2404.06395" in ln for ln in lines)
    detail = screen(["list", "wsd"], cols, rows)
    assert "``" not in "\n".join(detail) and any("decay_shape" in ln for ln in detail)


@pytest.mark.parametrize("cols,rows", SIZES)
def test_check_ends_with_a_sparkline(cols, rows):
    lines = screen(["check", "schedules/cyclic-cosine.yaml"], cols, rows)
    spark = next(ln for ln in lines if ln.startswith("LR 0.."))
    blocks = re.search(r"[▁▂▃▄▅▆▇█]+", spark).group(0)
    assert len(spark) <= cols and 10 <= len(blocks) <= 60
    assert blocks.count("█") >= 2 and "▂" in blocks  # two cycles: peaks and troughs both show
    assert lines[-1].strip() == "ok"


def test_plot_messages_stay_on_screen():
    lines = screen(["plot", "schedules/wsd.yaml", "--loss", "--law", "builtin:mpl-25m"], 80, 24)
    assert len([ln for ln in lines if ln.strip()]) <= 24
    assert lines[-1].startswith(("warning:", "loss:")) or any(ln.startswith("warning:") for ln in lines[-4:])


@pytest.mark.parametrize("cols,rows", SIZES)
def test_predict_plot_overlays_the_loss_curves(cols, rows):
    lines = screen(["predict", "schedules/wsd.yaml", "schedules/cosine.yaml", "--law", "builtin:mpl-25m", "--plot"],
                   cols, rows)
    # the comparison first: one peak LR's law, two peak LRs, so one table per group (issue 17)
    assert any("vs reference" in ln for ln in lines) and any("not ranked against each other" in ln for ln in lines)
    legend = [ln for ln in lines if "wsd-100B" in ln and "cosine" in ln and "┃" not in ln and "│" not in ln]
    assert legend, "no legend naming both schedules"
    plot = [ln for ln in lines if ln.startswith(("│", " │")) or "┤" in ln]
    assert len(plot) >= 3 and all(len(ln) <= cols for ln in lines)
    ticks = [float(ln.split("┤")[0]) for ln in lines if "┤" in ln and ln.split("┤")[0].strip()]
    assert ticks and min(ticks) > 1.0  # the loss axis spans the losses, not 0..5
