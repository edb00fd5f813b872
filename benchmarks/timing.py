"""The one timing function of the benchmarks (imported by each ``bench_<topic>.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def seconds_per_call(function: Callable[[], object], repeats: int = 10, warmup: int = 2) -> float:
    """Median of ``repeats`` timed calls after ``warmup`` untimed ones.

    The median shrugs off a busy shared machine's spikes; the warm-up lets PyTorch pick its kernels and
    the allocator fill its caches before anything is timed.
    """
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]
