"""The one timing function of the notebooks and the benchmarks."""

from __future__ import annotations

from collections.abc import Callable

from torch.utils import benchmark

from helpers.core.checks import check_positive_int

__all__ = ["seconds_per_call"]


def seconds_per_call(function: Callable[[], object], min_run_time: float = 0.2, *, threads: int = 1) -> float:
    """Median seconds of one call of ``function``, timed by ``torch.utils.benchmark.Timer``.

    The Timer warms up, repeats the call in blocks until ``min_run_time`` seconds have been spent, and
    synchronises CUDA; the median shrugs off a busy shared machine's spikes. The one timing function of
    the notebooks and the benchmarks: its numbers vary from run to run, so cells that print them are
    marked as timings. ``threads``: PyTorch threads while timing (the Timer's default, 1, so that a number
    does not depend on the machine's core count).
    """
    timer = benchmark.Timer(
        stmt="function()", globals={"function": function}, num_threads=check_positive_int(threads, "threads")
    )
    return timer.blocked_autorange(min_run_time=min_run_time).median
