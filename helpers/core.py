"""Shared basics: seeding, device choice and argument checks with clear messages.

Every notebook and helper uses these, so that there is one way to seed a run, one way to pick a
device and one style of error message ("what was expected, what was given, how to fix it").
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.utils import benchmark

__all__ = [
    "check_choice",
    "check_positive_int",
    "check_probability",
    "check_shape",
    "check_token_ids",
    "pick_device",
    "seconds_per_call",
    "seed_everything",
]


def seed_everything(seed: int = 0, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and PyTorch so that a CPU run repeats to the last digit.

    Returns a ``torch.Generator`` seeded with the same value, for code that wants its own stream
    (a data loader's shuffling, say) that later cells cannot disturb.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and every CUDA device
    if deterministic:
        # warn_only: a few CUDA kernels have no deterministic version; on CPU nothing warns.
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        # Needed by cuBLAS for deterministic matrix products on CUDA; harmless on CPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


_DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(prefer: str | None = None) -> torch.device:
    """Choose where tensors live: CUDA, then Apple MPS, then CPU.

    ``prefer`` (or the environment variable ``HELPERS_DEVICE``) may be ``"auto"``, ``"cpu"``,
    ``"cuda"`` or ``"mps"``. The tests set ``HELPERS_DEVICE=cpu``: the committed notebook outputs
    are CPU runs, and only the CPU path is bit-for-bit reproducible.
    """
    choice = (prefer or os.environ.get("HELPERS_DEVICE") or "auto").lower()
    check_choice(choice, _DEVICE_CHOICES, "device (prefer= or HELPERS_DEVICE)")
    cuda_ok = torch.cuda.is_available()
    mps_ok = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if choice == "cuda" and not cuda_ok:
        raise RuntimeError("device 'cuda' was asked for, but PyTorch sees no CUDA GPU; use 'cpu' or 'auto'")
    if choice == "mps" and not mps_ok:
        raise RuntimeError("device 'mps' was asked for, but PyTorch sees no Apple GPU; use 'cpu' or 'auto'")
    if choice == "auto":
        choice = "cuda" if cuda_ok else "mps" if mps_ok else "cpu"
    return torch.device(choice)


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is an int > 0, else raise a ValueError that names the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_probability(value: object, name: str, *, allow_one: bool = False) -> float:
    """Return ``value`` if it lies in [0, 1) (or [0, 1] with ``allow_one``), else raise ValueError."""
    upper_ok = (lambda v: v <= 1.0) if allow_one else (lambda v: v < 1.0)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not (0.0 <= value and upper_ok(value)):
        interval = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


def check_choice(value: object, choices: Sequence[object], name: str) -> None:
    """Raise ValueError if ``value`` is not one of ``choices``, listing the valid ones."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def check_shape(tensor: object, expected: Sequence[int | None], name: str, layout: str = "") -> torch.Tensor:
    """Check a tensor's rank and sizes; ``None`` in ``expected`` accepts any size.

    >>> check_shape(torch.zeros(2, 5, 8), (None, None, 8), "q", "(batch, seq, d_k)")  # passes

    On a mismatch the error names the argument, the layout it should have and the shape it has,
    e.g. ``q must have shape (batch, seq, d_k) = (*, *, 8), got (2, 5, 7)``.
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    wanted = "(" + ", ".join("*" if size is None else str(size) for size in expected) + ")"
    if len(expected) == 1:
        wanted = wanted[:-1] + ",)"
    described = f"{layout} = {wanted}" if layout else wanted
    got = tuple(tensor.shape)
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
        raise ValueError(f"{name} must have shape {described}, got {got}")
    return tensor


def check_token_ids(ids: torch.Tensor, vocabulary_size: int, name: str = "word ids", hint: str = "") -> torch.Tensor:
    """Raise ValueError if an id lies outside ``[0, vocabulary_size)``; ``hint`` says how to fix it.

    An id out of range would otherwise surface as an index error deep inside ``nn.Embedding``.
    """
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocabulary_size):
        message = f"{name} must lie in [0, {vocabulary_size}), got ids from {int(ids.min())} to {int(ids.max())}"
        raise ValueError(f"{message}; {hint}" if hint else message)
    return ids


def seconds_per_call(function: Callable[[], object], min_run_time: float = 0.2) -> float:
    """Median seconds of one call of ``function``, timed by ``torch.utils.benchmark.Timer``.

    The Timer warms up, repeats the call in blocks until ``min_run_time`` seconds have been spent, and
    synchronises CUDA; the median shrugs off a busy shared machine's spikes. The one timing function of
    the notebooks and the benchmarks: its numbers vary from run to run, so cells that print them are
    marked as timings.
    """
    timer = benchmark.Timer(stmt="function()", globals={"function": function})
    return timer.blocked_autorange(min_run_time=min_run_time).median
