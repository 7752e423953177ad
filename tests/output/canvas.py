"""Read a no-colour plot back: the canvas inside the frame, the legend, where a marker sits."""

from __future__ import annotations

from dataclasses import dataclass

FRAME = set("┌┐└┘─│┤├┬┴┼")


@dataclass
class Canvas:
    rows: list[str]  # canvas cells only, top row first, all the same width
    lines: list[str]  # the whole text
    legend: list[str]  # lines after the x-axis label line

    @property
    def width(self) -> int:
        return len(self.rows[0])

    @property
    def height(self) -> int:
        return len(self.rows)

    def cols_in_row(self, row: int, marker: str) -> list[int]:
        return [c for c, ch in enumerate(self.rows[row]) if ch == marker]

    def rows_in_col(self, col: int, marker: str) -> list[int]:
        return [r for r, line in enumerate(self.rows) if line[col] == marker]

    def cols_with(self, marker: str) -> list[int]:
        return sorted({c for line in self.rows for c, ch in enumerate(line) if ch == marker})

    def count(self, marker: str) -> int:
        return sum(line.count(marker) for line in self.rows)


def parse(text: str) -> Canvas:
    """Split a plot into canvas rows (between the frame corners) and the legend (below the axis labels)."""
    assert "\x1b" not in text, "expected plain text"
    lines = text.split("\n")
    top = next(i for i, ln in enumerate(lines) if "┌" in ln and "┐" in ln)
    bottom = next(i for i, ln in enumerate(lines) if "└" in ln and "┘" in ln)
    left, right = lines[top].index("┌"), lines[top].index("┐")
    rows = [ln.ljust(right + 1)[left + 1 : right] for ln in lines[top + 1 : bottom]]
    assert rows and all(len(r) == right - left - 1 for r in rows)
    # bottom frame, tick labels, axis-label line, then the legend
    legend = lines[bottom + 3 :]
    return Canvas(rows, lines, legend)
