"""Graders for the exercises of notebook 02 (Kim, 2014, "Convolutional Neural Networks for Sentence Classification").

    c_i = ReLU(w · x_{i:i+h-1} + b)        (eq. 2: one feature per window of h words)
    ĉ = max_i c_i                          (eq. 3: max-over-time pooling, over the windows that hold a word)
    ‖w_c‖₂ ≤ s  (s = 3)                     (the max-norm constraint on each class's weight vector)

Padding follows Kim's code: h_max − 1 padding words on each side of a sentence. The references are plain
PyTorch, written here so that the grader does not depend on the code it grades.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.core import torch_generator

from .grading import Case, Exercise, Mistake

__all__ = ["apply_max_norm", "feature_maps", "kim_padding", "max_over_time", "window_has_word"]


# --- padding ----------------------------------------------------------------------------------------


def reference_kim_padding(ids: Tensor, max_window: int, padding_id: int) -> Tensor:
    return F.pad(ids, (max_window - 1, max_window - 1), value=padding_id)  # (batch, seq + 2 (h_max - 1))


def _padding_cases() -> list[Case]:
    g = torch_generator(0)
    return [
        Case("random", (torch.randint(2, 50, (3, 6), generator=g), 5, 0)),
        Case("padding_id 1", (torch.randint(2, 50, (2, 4), generator=g), 3, 1)),
        Case("batch of 1", (torch.randint(2, 50, (1, 7), generator=g), 4, 0)),
        Case("h_max = 1", (torch.randint(2, 50, (2, 3), generator=g), 1, 0)),
    ]


kim_padding = Exercise(
    "kim_padding",
    reference_kim_padding,
    _padding_cases,
    [
        Mistake(
            "h_max − 1 padding words on each side, not h_max: the first window then starts at the first word",
            lambda ids, h, p: F.pad(ids, (h, h), value=p),
        ),
        Mistake(
            "pad both sides: every word must also be the last word of some window",
            lambda ids, h, p: F.pad(ids, (0, h - 1), value=p),
        ),
        Mistake("pad with padding_id, not with 0", lambda ids, h, p: F.pad(ids, (h - 1, h - 1), value=0)),
        Mistake("h_max − 1 on each side, not in total", lambda ids, h, p: F.pad(ids, ((h - 1) // 2, h // 2), value=p)),
    ],
)


# --- the convolution --------------------------------------------------------------------------------


def reference_feature_maps(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    # conv1d wants (batch, channels = k, seq) and weights (maps, k, h); it slides w without flipping it.
    return F.conv1d(x.transpose(1, 2), weight.transpose(1, 2), bias).relu()  # (batch, maps, seq - h + 1)


def _feature_cases() -> list[Case]:
    g = torch_generator(1)
    r = lambda *shape, dtype=torch.float32: torch.randn(*shape, generator=g, dtype=dtype)  # noqa: E731
    return [
        Case("random", (r(2, 7, 4), r(3, 2, 4), r(3))),
        Case("window = sentence", (r(2, 3, 4), r(2, 3, 4), r(2))),
        Case("batch of 1, h = 1", (r(1, 5, 3), r(4, 1, 3), r(4))),
        Case("float64", (r(2, 6, 5, dtype=torch.float64), r(3, 3, 5, dtype=torch.float64), r(3, dtype=torch.float64))),
    ]


def _no_relu(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    return F.conv1d(x.transpose(1, 2), weight.transpose(1, 2), bias)


feature_maps = Exercise(
    "feature_maps",
    reference_feature_maps,
    _feature_cases,
    [
        Mistake("the ReLU is missing: c_i = ReLU(w · x_{i:i+h-1} + b)", _no_relu),
        Mistake("the bias b is missing", lambda x, w, b: reference_feature_maps(x, w, torch.zeros_like(b))),
        Mistake(
            "the filter runs backwards (a textbook convolution flips it): w's first row meets the window's first word",
            lambda x, w, b: reference_feature_maps(x, w.flip(1), b),
        ),
        Mistake(
            "one window too few: a sentence of n words has n − h + 1 windows of h words",
            lambda x, w, b: reference_feature_maps(x, w, b)[..., :-1],
        ),
    ],
)


# --- which windows hold a word ----------------------------------------------------------------------


def reference_window_has_word(is_word: Tensor, window: int) -> Tensor:
    return is_word.unfold(1, window, 1).any(dim=-1)  # (batch, seq - window + 1)


def _window_cases() -> list[Case]:
    padded = torch.tensor([[0, 0, 1, 1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0, 0, 0]], dtype=torch.bool)
    return [
        Case("Kim-padded sentences", (padded, 3)),
        Case("window 1", (padded, 1)),
        Case("batch of 1, every position a word", (torch.ones(1, 5, dtype=torch.bool), 2)),
        Case("wide window", (padded, 5)),
    ]


window_has_word = Exercise(
    "window_has_word",
    reference_window_has_word,
    _window_cases,
    [
        Mistake(
            "one real word is enough: a window holds a word if any of its positions is one (any, not all)",
            lambda w, h: w.unfold(1, h, 1).all(dim=-1),
        ),
        Mistake(
            "one window too few: a row of n positions has n − h + 1 windows",
            lambda w, h: w.unfold(1, h, 1).any(dim=-1)[:, :-1],
        ),
        Mistake(
            "the window starting at position i covers i .. i + h − 1, not i − h + 1 .. i", lambda w, h: w[:, h - 1 :]
        ),
    ],
)


# --- max-over-time pooling --------------------------------------------------------------------------


def reference_max_over_time(features: Tensor, valid: Tensor) -> Tensor:
    blocked = ~valid[:, None, :]  # (batch, 1, windows): broadcast over the feature maps
    return features.masked_fill(blocked, float("-inf")).amax(dim=2)  # (batch, maps)


def _pooling_cases() -> list[Case]:
    g = torch_generator(2)
    features = torch.randn(2, 3, 6, generator=g)
    features[:, :, 4:] = 5.0  # windows of padding only: large values that must not win
    valid = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]], dtype=torch.bool)
    negative = -torch.rand(2, 4, 5, generator=g) - 0.1  # every real feature negative (no ReLU before it)
    negative_valid = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    return [
        Case("padding", (features, valid)),
        Case("negative features", (negative, negative_valid)),
        Case("batch of 1, no padding", (torch.randn(1, 4, 3, generator=g), torch.ones(1, 3, dtype=torch.bool))),
        Case("float64", (features.double(), valid)),
    ]


max_over_time = Exercise(
    "max_over_time",
    reference_max_over_time,
    _pooling_cases,
    [
        Mistake("the mean, not the maximum, over time", lambda f, v: f.mean(dim=2)),
        Mistake(
            "the mean over the real windows, not the maximum",
            lambda f, v: (f * v[:, None]).sum(dim=2) / v.sum(dim=1, keepdim=True),
        ),
        Mistake(
            "padding windows win the max: fill the windows without a word with −inf before the max",
            lambda f, v: f.amax(dim=2),
        ),
        Mistake(
            "filled with 0, a padding window wins when every real feature is negative: fill with −inf",
            lambda f, v: f.masked_fill(~v[:, None], 0.0).amax(dim=2),
        ),
        Mistake(
            "the max is over the feature maps (dim=1); max-over-time is over the windows (dim=2)",
            lambda f, v: f.masked_fill(~v[:, None], float("-inf")).amax(dim=1),
        ),
    ],
)


# --- the max-norm constraint ------------------------------------------------------------------------


def reference_max_norm(weight: Tensor, max_norm: float) -> Tensor:
    norms = weight.norm(dim=1, keepdim=True)  # (classes, 1): one norm per class's weight vector
    return weight * (max_norm / norms).clamp(max=1.0)  # only rows longer than s shrink, back to s


def _weight_cases() -> list[Case]:
    g = torch_generator(3)
    mixed = torch.randn(4, 6, generator=g) * torch.tensor([[0.2], [3.0], [0.5], [2.0]])
    with_zero = mixed.clone()
    with_zero[2] = 0.0
    return [
        Case("some rows too long", (mixed, 3.0)),
        Case("a zero row", (with_zero, 3.0)),
        Case("one class", (torch.randn(1, 5, generator=g) * 4, 2.0)),
        Case("float64", (mixed.double(), 1.5)),
    ]


apply_max_norm = Exercise(
    "apply_max_norm",
    reference_max_norm,
    _weight_cases,
    [
        Mistake(
            "rows already shorter than s were stretched: only rows with ‖w‖ > s change",
            lambda w, s: w * s / w.norm(dim=1, keepdim=True).clamp_min(1e-12),
        ),
        Mistake(
            "one norm per class: take the norm of each row (dim=1), not of each column",
            lambda w, s: w * (s / w.norm(dim=0, keepdim=True)).clamp(max=1.0),
        ),
        Mistake(
            "each weight was clipped to ±s; the constraint rescales the whole row, keeping its direction",
            lambda w, s: w.clamp(-s, s),
        ),
    ],
)
