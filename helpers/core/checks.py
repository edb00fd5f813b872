"""Argument checks with one style of message: what was expected, what was given, how to fix it.

Public functions and constructors call these where a learner calls in; inner layers stay lean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = [
    "check_choice",
    "check_positive_int",
    "check_probability",
    "check_shape",
    "check_token_ids",
]


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
