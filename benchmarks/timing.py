"""The benchmarks time with the notebooks' one timing function, ``helpers.core.seconds_per_call``."""

from helpers.core import seconds_per_call

__all__ = ["seconds_per_call"]
