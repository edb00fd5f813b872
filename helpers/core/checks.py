"""Argument checks with one style of message: what was expected, what was given, how to fix it.

Public functions and constructors call these where a learner calls in; inner layers stay lean.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence, Sized

import numpy as np
import torch

__all__ = [
    "check_choice",
    "check_finite",
    "check_finite_number",
    "check_integers",
    "check_positive_int",
    "check_positive_number",
    "check_probabilities",
    "check_probability",
    "check_same_length",
    "check_sentences",
    "check_shape",
    "check_token_ids",
    "check_unique",
    "check_words",
]


def check_positive_int(value: object, name: str, *, hint: str = "") -> int:
    """Return ``value`` if it is an int > 0, else raise a ValueError that names the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        message = f"{name} must be a positive integer, got {value!r}"
        raise ValueError(f"{message}; {hint}" if hint else message)
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


def check_finite_number(value: object, name: str, *, minimum: float | None = None, hint: str = "") -> float:
    """Return ``value`` as a float if it is a finite real number (not a bool), ``>= minimum`` when given.

    NaN and infinity are refused: a NaN passes every ``<`` test silently, and an infinite rate, exponent or
    width turns every later number into NaN.
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not ok or not math.isfinite(value) or (minimum is not None and value < minimum):
        wanted = "a finite number" + (f" >= {minimum:g}" if minimum is not None else "")
        message = f"{name} must be {wanted}, got {value!r}"
        raise ValueError(f"{message}; {hint}" if hint else message)
    return float(value)


def check_positive_number(value: object, name: str, *, hint: str = "") -> float:
    """Return ``value`` as a float if it is a finite number > 0: a learning rate, a standard deviation, a width."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not ok or not math.isfinite(value) or not value > 0:
        message = f"{name} must be a finite number > 0, got {value!r}"
        raise ValueError(f"{message}; {hint}" if hint else message)
    return float(value)


def check_integers(values: object, name: str, *, ndim: int = 1, hint: str = "") -> torch.Tensor:
    """``values`` (a list, an array or a tensor of whole numbers) as an int64 tensor with ``ndim`` axes.

    Floats are refused, not truncated (``1.7`` would silently become id 1), and so are bools and nested
    lists deeper than ``ndim``. An empty list is an empty int64 tensor.
    """
    if isinstance(values, str):
        raise TypeError(f"{name} must be integers (ids, labels or lengths), got the string {values[:40]!r}")
    tensor = values
    if not isinstance(values, torch.Tensor):
        try:
            tensor = torch.as_tensor(values)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(
                f"{name} must be a {ndim}-D sequence of integers, got {_short(values)} (ragged or not numbers)"
            ) from None
    if tensor.numel() == 0 and not isinstance(values, torch.Tensor):
        tensor = tensor.to(torch.int64)  # torch.as_tensor([]) is float32: an empty list holds no float
    dtype = tensor.dtype
    if dtype.is_floating_point or dtype.is_complex or dtype == torch.bool:
        message = (
            f"{name} must hold integers (ids, labels or lengths), got {_kind(dtype)} such as "
            f"{_first(values, tensor)!r}: they are refused, not truncated; convert whole numbers with int() or .long()"
        )
        raise TypeError(f"{message}; {hint}" if hint else message)
    if tensor.dim() != ndim:
        message = f"{name} must be a {ndim}-D sequence of integers, got shape {tuple(tensor.shape)}: {_short(values)}"
        raise ValueError(f"{message}; {hint}" if hint else message)
    return tensor.to(torch.int64)


def _kind(dtype: torch.dtype) -> str:
    return "bools" if dtype == torch.bool else "complex numbers" if dtype.is_complex else "floats"


def _first(values: object, tensor: torch.Tensor) -> object:
    """The first value of the learner's own input that is not an integer (as written, not as float32)."""
    if isinstance(values, (list, tuple)):
        for value in values:
            if isinstance(value, (float, bool, complex, np.floating, np.bool_)):
                return value
    return tensor.flatten()[0].item() if tensor.numel() else tensor.dtype


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_words(words: object, name: str, *, hint: str = "") -> None:
    """Refuse a bare string where a sequence of words (tokens) is meant: it would be read character by character."""
    if isinstance(words, str):
        message = (
            f"{name} must be a list of words, got the string {words[:40]!r}, which would be read as "
            "characters: tokenize it first (helpers.data.text.tokenize), or pass list(text) for characters"
        )
        raise TypeError(f"{message}; {hint}" if hint else message)


def check_sentences(sentences: object, name: str = "sentences") -> list:
    """A list of tokenised sentences (lists of words): refuse one string, or strings in place of sentences."""
    check_words(sentences, name)
    sentences = list(sentences)  # type: ignore[call-overload]
    strings = [index for index, sentence in enumerate(sentences) if isinstance(sentence, str)]
    if strings:
        raise TypeError(
            f"{name} must be tokenised sentences (lists of words), but {name}[{strings[0]}] is the string "
            f"{sentences[strings[0]][:40]!r} ({len(strings)} string(s) in all): tokenize each one first, "
            "e.g. [tokenize(text) for text in texts]"
        )
    return sentences


def check_unique(values: Sequence[Hashable], name: str) -> list:
    """Return ``values`` as a list if no value repeats, else raise ValueError naming the repeated ones."""
    check_words(values, name, hint=f"pass a list, e.g. {name}=[...]")
    values = list(values)
    repeated = [value for value, count in Counter(values).items() if count > 1]
    if repeated:
        raise ValueError(
            f"{name} must not repeat a value, got {values[:10]} with {repeated[:5]} more than once: "
            "each should appear once (a repeat would shift every id after it)"
        )
    return values


def check_same_length(first: Sized, first_name: str, second: Sized, second_name: str, *, hint: str = "") -> None:
    """Raise ValueError if two collections that pair up element by element differ in length."""
    if len(first) != len(second):
        message = f"got {len(first)} {first_name} but {len(second)} {second_name}: they pair up one to one"
        raise ValueError(f"{message}; {hint}" if hint else message)


def check_finite(tensor: torch.Tensor, name: str, *, hint: str = "") -> torch.Tensor:
    """Raise ValueError if ``tensor`` holds NaN or an infinity, saying how many and where the first one is."""
    bad = ~torch.isfinite(tensor)
    if bool(bad.any()):
        first = tuple(int(i) for i in bad.nonzero()[0])
        message = (
            f"{name} holds {int(bad.sum())} NaN or infinite value(s) of {tensor.numel()} (the first at index "
            f"{first[0] if len(first) == 1 else first}): NaN would spread into every result"
        )
        raise ValueError(f"{message}; {hint}" if hint else message)
    return tensor


def check_probabilities(tensor: object, name: str, *, hint: str = "") -> torch.Tensor:
    """Raise ValueError unless every entry of the tensor ``tensor`` is a probability in [0, 1]."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of probabilities, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must hold probabilities (floating point), got dtype {tensor.dtype}")
    outside = ~((tensor >= 0) & (tensor <= 1))  # NaN is outside too
    if bool(outside.any()):
        values = tensor[outside]
        message = (
            f"{name} must hold probabilities in [0, 1], got {int(outside.sum())} value(s) outside, such as "
            f"{float(values[0])!r}"
        )
        raise ValueError(f"{message}; {hint}" if hint else message)
    return tensor
