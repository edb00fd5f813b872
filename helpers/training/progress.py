"""A text progress bar whose output is the same on every run, so nbval can compare it.

It redraws one line in place with a carriage return at fixed fractions of the work (never on a
timer) and shows counts and metrics, never times or rates: the text a notebook stores is
therefore identical from run to run. Before each redraw it blanks the line it drew last, so a
shorter line never leaves the end of a longer one on screen ("loss 5.4532" is not shown as
"loss 5.45323"). nbval keeps only what follows a line's last carriage return, which is exactly
what the reader finally sees, so a notebook saved from JupyterLab (which drops overwritten text)
compares equal to a fresh run (which keeps it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

from helpers.core import check_positive_int

T = TypeVar("T")

BAR_WIDTH = 20


def format_metrics(metrics: dict[str, float]) -> str:
    """``{"loss": 0.12345}`` -> ``"loss 0.1235"``: four significant decimals, fixed order."""
    parts = []
    for key, value in metrics.items():
        parts.append(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
    return " ".join(parts)


class ProgressBar:
    """``description |#####.....| done/total metrics``, redrawn ``redraws`` times at most."""

    def __init__(self, total: int, description: str = "", redraws: int = 10, stream: TextIO | None = None):
        self.total = check_positive_int(total, "total")
        self.redraws = check_positive_int(redraws, "redraws")
        self.description = description
        self.stream = stream if stream is not None else sys.stdout
        self.done = 0
        self._next_draw = 1
        self.metrics: dict[str, float] = {}
        self._drawn = 0  # the length of the line on screen, which the next redraw blanks first

    def _draw(self, end: str = "") -> None:
        line = self._line()
        blank = "\r" + " " * self._drawn if self._drawn else ""
        self.stream.write(f"{blank}\r{line}{end}")
        self.stream.flush()
        self._drawn = 0 if end else len(line)

    def _line(self) -> str:
        filled = BAR_WIDTH * self.done // self.total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        width = len(str(self.total))
        text = f"{self.description} |{bar}| {self.done:>{width}}/{self.total}"
        return f"{text} {format_metrics(self.metrics)}".rstrip()

    def update(self, count: int = 1, **metrics: float) -> None:
        """Advance by ``count`` items; redraw if a new tenth (or 1/redraws) has been passed."""
        self.done = min(self.total, self.done + count)
        self.metrics.update(metrics)
        # Redraw points depend only on counts, so the same run always prints the same text.
        if self.done * self.redraws >= self._next_draw * self.total and self.done < self.total:
            self._draw()
            self._next_draw = self.done * self.redraws // self.total + 1

    def close(self, **metrics: float) -> None:
        """Draw the final state (with any end-of-run metrics) and end the line."""
        self.metrics.update(metrics)
        self._draw(end="\n")


def progress(items: Iterable[T], description: str = "", total: int | None = None) -> Iterator[T]:
    """Wrap an iterable with a ProgressBar (the simple case: no metrics)."""
    if total is None:
        total = len(items)  # type: ignore[arg-type]
    bar = ProgressBar(total, description)
    for item in items:
        yield item
        bar.update()
    bar.close()
