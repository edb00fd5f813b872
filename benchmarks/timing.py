"""The benchmarks time with the notebooks' one timing function, ``helpers.core.seconds_per_call``.

``timer(quick, min_run_time)`` is that function with its one knob set: ``min_run_time`` seconds of calls in a
full run (0.2 s, its default, or longer where a call is long and the median needs more of them), and
``QUICK_MIN_RUN_TIME`` in a quick run (``benchmarks/run.py --quick``), which only checks that the code runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from helpers.core import seconds_per_call

__all__ = ["QUICK_MIN_RUN_TIME", "seconds_per_call", "timer"]

QUICK_MIN_RUN_TIME = 0.01  # a quick run's numbers mean little: it shows that every benchmark still runs


def timer(quick: bool, min_run_time: float = 0.2) -> Callable[[Callable[[], object]], float]:
    """``seconds_per_call`` with ``min_run_time`` seconds of calls (``QUICK_MIN_RUN_TIME`` when ``quick``)."""
    return partial(seconds_per_call, min_run_time=QUICK_MIN_RUN_TIME if quick else min_run_time)
