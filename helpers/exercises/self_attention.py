"""Graders for the exercises of notebook 04 (self-attention; Vaswani et al., 2017, §3.2).

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O,   head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)

Masks follow the course's convention: boolean, True = this query may attend to this key. A query whose keys
are all blocked gets all-zero weights and a zero output (as ``F.scaled_dot_product_attention`` does).
Multi-head attention is graded against PyTorch's own ``nn.MultiheadAttention`` computation with the same
weights (``F.multi_head_attention_forward``, whose masks mean the opposite: True = blocked). The other
references are plain PyTorch, written here so that the grader does not depend on the code it grades.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.core import torch_generator

from .grading import Case, Exercise, Mistake, Prediction

__all__ = [
    "attention",
    "causal_mask",
    "entropy_without_scaling",
    "multi_head_attention",
    "padding_mask",
    "split_heads",
]


# --- scaled dot-product attention ------------------------------------------------------------------


def _attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None = None,
    *,
    axis: int = -1,
    scale: str = "sqrt",
    fill: str = "-inf",
    inverted: bool = False,
    zero_empty_rows: bool = True,
    mask_after_softmax: bool = False,
) -> tuple[Tensor, Tensor]:
    """The reference (default arguments) and, through its switches, the typical mistakes."""
    d_k = query.size(-1)
    scores = query @ key.transpose(-2, -1)  # (..., q_len, k_len)
    scores = scores / {"sqrt": math.sqrt(d_k), "none": 1.0, "d_k": d_k}[scale]
    if mask is not None and not mask_after_softmax:
        blocked = mask if inverted else ~mask
        scores = scores.masked_fill(blocked, float("-inf") if fill == "-inf" else -1e9)
    weights = scores.softmax(dim=axis)
    if mask is not None and mask_after_softmax:
        weights = weights * mask
    if zero_empty_rows:
        weights = weights.nan_to_num(0.0)  # a fully blocked row: softmax of all -inf is 0/0
    return weights @ value, weights  # (..., q_len, d_v), (..., q_len, k_len)


def reference_attention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    return _attention(query, key, value, mask)


def _lengths_mask(lengths: list[int], k_len: int) -> Tensor:
    return (torch.arange(k_len)[None, :] < torch.tensor(lengths)[:, None])[:, None, None, :]  # (batch, 1, 1, k)


def _attention_cases() -> list[Case]:
    g = torch_generator(4)
    r = lambda *shape, dtype=torch.float32: torch.randn(*shape, generator=g, dtype=dtype)  # noqa: E731
    return [
        Case("random", (r(2, 5, 8), r(2, 5, 8), r(2, 5, 6))),
        Case("q_len ≠ k_len", (r(2, 3, 8), r(2, 6, 8), r(2, 6, 5))),
        Case("padding", (r(2, 2, 5, 4), r(2, 2, 5, 4), r(2, 2, 5, 4), _lengths_mask([5, 3], 5))),
        Case(
            "causal mask (batch of 1)",
            (r(1, 4, 6, 8), r(1, 4, 6, 8), r(1, 4, 6, 3), torch.ones(6, 6, dtype=torch.bool).tril()),
        ),
        Case("fully masked row", (r(2, 1, 4, 4), r(2, 1, 5, 4), r(2, 1, 5, 4), _lengths_mask([2, 0], 5))),
        Case(
            "float64",
            (
                r(2, 4, 16, dtype=torch.float64),
                r(2, 7, 16, dtype=torch.float64),
                r(2, 7, 2, dtype=torch.float64),
                _lengths_mask([7, 4], 7)[:, 0],
            ),
        ),
    ]


attention = Exercise(
    "attention",
    reference_attention,
    _attention_cases,
    [
        Mistake(
            "the weights sum to 1 over the queries: the softmax is over the wrong axis (dim=-2); use dim=-1, the keys",
            lambda q, k, v, m=None: _attention(q, k, v, m, axis=-2),
        ),
        Mistake(
            "the softmax is over the wrong axis: dim=1 is the queries of 3-D inputs but the heads of 4-D ones "
            "(batch, heads, q_len, k_len); the weights must sum to 1 over the keys, the last axis: dim=-1",
            lambda q, k, v, m=None: _attention(q, k, v, m, axis=1),
        ),
        Mistake(
            "the softmax is over the wrong axis: dim=2 is the keys of 3-D inputs but the queries of 4-D ones "
            "(batch, heads, q_len, k_len); count from the end: dim=-1",
            lambda q, k, v, m=None: _attention(q, k, v, m, axis=2),
        ),
        Mistake(
            "the softmax is over the batch (dim=0): the weights must sum to 1 over the keys, the last axis: dim=-1",
            lambda q, k, v, m=None: _attention(q, k, v, m, axis=0),
        ),
        Mistake("the scores are not divided by √d_k", lambda q, k, v, m=None: _attention(q, k, v, m, scale="none")),
        Mistake(
            "the scores are divided by d_k; the paper divides by √d_k",
            lambda q, k, v, m=None: _attention(q, k, v, m, scale="d_k"),
        ),
        Mistake(
            "the mask is inverted: True means 'may attend', so fill −inf where the mask is False (~mask)",
            lambda q, k, v, m=None: _attention(q, k, v, m, inverted=True),
        ),
        Mistake(
            "a fully masked row gives NaN (a softmax over a row of −inf is 0/0): give such rows zero weights, "
            "e.g. weights.nan_to_num(0.0)",
            lambda q, k, v, m=None: _attention(q, k, v, m, zero_empty_rows=False),
        ),
        Mistake(
            "a fully masked row spreads its weight over blocked keys (a large negative fill instead of −inf): "
            "give such rows zero weights",
            lambda q, k, v, m=None: _attention(q, k, v, m, fill="-1e9"),
        ),
        Mistake(
            "the weights were zeroed after the softmax, so the rows no longer sum to 1: fill −inf before it",
            lambda q, k, v, m=None: _attention(q, k, v, m, mask_after_softmax=True),
        ),
    ],
    names=("output", "weights"),
    gradients=True,
)


# --- masks ------------------------------------------------------------------------------------------


def reference_causal_mask(size: int) -> Tensor:
    return torch.ones(size, size, dtype=torch.bool).tril()  # (size, size): query t sees keys 0..t


causal_mask = Exercise(
    "causal_mask",
    reference_causal_mask,
    lambda: [
        Case("size 4", (4,)),
        Case("size 1", (1,)),
        Case("size 7", (7,)),
    ],
    [
        Mistake(
            "position t sees the future (the upper triangle): keep the lower triangle, torch.tril",
            lambda n: torch.ones(n, n, dtype=torch.bool).triu(),
        ),
        Mistake(
            "position t cannot see itself: the diagonal must be True (tril(), not tril(-1))",
            lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1),
        ),
        Mistake(
            "position t sees t + 1: the mask is shifted by one (tril(), not tril(1))",
            lambda n: torch.ones(n, n, dtype=torch.bool).tril(1),
        ),
        Mistake(
            "the mask is inverted: True means 'may attend' in this course (PyTorch's nn.MultiheadAttention uses "
            "the opposite)",
            lambda n: ~torch.ones(n, n, dtype=torch.bool).tril(),
        ),
    ],
)


def reference_padding_mask(lengths: Tensor, max_length: int) -> Tensor:
    positions = torch.arange(max_length)  # (max_length,)
    return (positions[None, :] < lengths[:, None])[:, None, None, :]  # (batch, 1, 1, max_length)


padding_mask = Exercise(
    "padding_mask",
    reference_padding_mask,
    lambda: [
        Case("random", (torch.tensor([3, 5, 1]), 5)),
        Case("batch of 1, longer than every sentence", (torch.tensor([4]), 6)),
        Case("an empty sentence", (torch.tensor([0, 2]), 3)),
    ],
    [
        Mistake(
            "position = length is padding too: compare with <, not <=",
            lambda lengths, n: (torch.arange(n)[None, :] <= lengths[:, None])[:, None, None, :],
        ),
        Mistake(
            "the mask is inverted: True marks the real tokens (they may be attended to)",
            lambda lengths, n: (torch.arange(n)[None, :] >= lengths[:, None])[:, None, None, :],
        ),
        Mistake(
            "return (batch, 1, 1, max_length) so that it broadcasts over heads and queries: add [:, None, None, :]",
            lambda lengths, n: torch.arange(n)[None, :] < lengths[:, None],
        ),
        Mistake(
            "the mask must have max_length columns, even when every sentence is shorter",
            lambda lengths, n: reference_padding_mask(lengths, int(lengths.max())),
        ),
    ],
)


# --- heads ------------------------------------------------------------------------------------------


def reference_split_heads(x: Tensor, num_heads: int) -> Tensor:
    batch, seq, d_model = x.shape
    return x.view(batch, seq, num_heads, d_model // num_heads).transpose(1, 2)  # (batch, heads, seq, d_k)


def _split_cases() -> list[Case]:
    g = torch_generator(1)
    return [
        Case("random", (torch.randn(2, 5, 12, generator=g), 3)),
        Case("batch of 1", (torch.randn(1, 4, 8, generator=g), 2)),
        Case("one head", (torch.randn(2, 3, 8, generator=g), 1)),
        Case("float64", (torch.randn(2, 6, 8, generator=g, dtype=torch.float64), 4)),
    ]


split_heads = Exercise(
    "split_heads",
    reference_split_heads,
    _split_cases,
    [
        Mistake(
            "reshaped straight to (batch, heads, seq, d_k), which mixes positions: view as "
            "(batch, seq, heads, d_k), then transpose(1, 2)",
            lambda x, h: x.reshape(x.shape[0], h, x.shape[1], x.shape[2] // h),
        ),
        Mistake(
            "each head takes a contiguous block of d_k features: view as (batch, seq, heads, d_k), "
            "not (batch, seq, d_k, heads)",
            lambda x, h: x.reshape(x.shape[0], x.shape[1], x.shape[2] // h, h).permute(0, 3, 1, 2),
        ),
        Mistake(
            "the axes are (batch, heads, seq, d_k): transpose(1, 2), which swaps seq and heads",
            lambda x, h: x.reshape(x.shape[0], x.shape[1], h, x.shape[2] // h).permute(0, 2, 3, 1),
        ),
    ],
    gradients=True,
)


# --- change one thing and predict -------------------------------------------------------------------

_KEYS, _D_K = 10, 512


@functools.cache
def _mean_entropy(scale: bool) -> float:
    """Mean entropy (nats) of softmax(q·k [/ √d_k]) over 10 keys, q and k with N(0, 1) entries, d_k = 512."""
    g = torch_generator(0)
    query = torch.randn(8000, _D_K, generator=g, dtype=torch.float64)
    # Given q, the scores q·k_j of independent keys k_j ~ N(0, I) are independent N(0, ‖q‖²): draw them so.
    scores = query.norm(dim=1, keepdim=True) * torch.randn(8000, _KEYS, generator=g, dtype=torch.float64)
    if scale:
        scores = scores / math.sqrt(_D_K)
    weights = scores.softmax(dim=-1)
    return float(-(torch.special.xlogy(weights, weights)).sum(dim=-1).mean())


entropy_without_scaling = Prediction(
    "entropy_without_scaling",
    lambda: _mean_entropy(scale=False),
    tolerance=0.05,
    wrong_answers=lambda: {
        "that is log 10, the entropy of uniform weights; without the scale the scores have variance d_k = 512, "
        "so the softmax is far from uniform": math.log(_KEYS),
        "that is the entropy with the √d_k kept (scores of variance 1); remove it and the scores have "
        "variance 512": _mean_entropy(scale=True),
        "that is log₂ 10, the entropy of uniform weights in bits; the course measures in nats (natural log), and "
        "without the scale the weights are far from uniform": math.log2(_KEYS),
        "that is the entropy with the √d_k kept, in bits; the course measures in nats, and without the scale the "
        "scores have variance 512": _mean_entropy(scale=True) / math.log(2),
        "0 would be exactly one-hot weights; nearly one-hot is not exactly one-hot: the runner-up keys keep a "
        "little weight. Measure it": 0.0,
    },
    explanation="Scores of standard deviation √512 ≈ 23 make the softmax nearly one-hot: its gradient vanishes.",
)


# --- multi-head attention, end to end ------------------------------------------------------------------


def reference_multi_head_attention(
    query: Tensor, key: Tensor, value: Tensor, weights: dict[str, Tensor], num_heads: int, mask: Tensor | None = None
) -> Tensor:
    """nn.MultiheadAttention's forward pass (batch first, no dropout) with the weights given, as a function."""
    attn_mask = key_padding_mask = None
    if mask is not None and mask.dim() == 2:
        attn_mask = ~mask  # (q_len, k_len); PyTorch's convention: True = blocked
    elif mask is not None:
        key_padding_mask = ~mask[:, 0, 0, :]  # (batch, 1, 1, k_len) -> (batch, k_len)
    output, _ = F.multi_head_attention_forward(
        query.transpose(0, 1),  # PyTorch's functional form wants (seq, batch, d_model)
        key.transpose(0, 1),
        value.transpose(0, 1),
        query.shape[-1],
        num_heads,
        torch.cat([weights["w_q"], weights["w_k"], weights["w_v"]]),
        torch.cat([weights["b_q"], weights["b_k"], weights["b_v"]]),
        None,
        None,
        False,
        0.0,
        weights["w_o"],
        weights["b_o"],
        training=False,
        key_padding_mask=key_padding_mask,
        need_weights=False,
        attn_mask=attn_mask,
    )
    return output.transpose(0, 1)  # (batch, q_len, d_model)


def _multi_head(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    weights: dict[str, Tensor],
    num_heads: int,
    mask: Tensor | None = None,
    *,
    scale_by_model: bool = False,
    output_projection: bool = True,
    merge_transposed: bool = True,
    linear_convention: bool = True,
    biases: bool = True,
    inverted: bool = False,
    heads: bool = True,
) -> Tensor:
    """Split → attend → merge → W_O (default arguments) and, through its switches, the typical mistakes."""

    def project(x: Tensor, name: str) -> Tensor:
        matrix = weights["w_" + name]
        out = x @ (matrix.T if linear_convention else matrix)  # nn.Linear: y = x Wᵀ + b
        return out + weights["b_" + name] if biases else out

    batch, q_len, d_model = query.shape
    h = num_heads if heads else 1
    d_k = d_model // h

    def split(x: Tensor) -> Tensor:
        return x.view(batch, x.shape[1], h, d_k).transpose(1, 2)  # (batch, heads, seq, d_k)

    q, k, v = split(project(query, "q")), split(project(key, "k")), split(project(value, "v"))
    if mask is not None:
        mask = ~mask if inverted else mask
        mask = mask if mask.dim() == 4 else mask[None, None]  # broadcast over (batch, heads)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_model if scale_by_model else d_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    attended = scores.softmax(dim=-1).nan_to_num(0.0) @ v  # (batch, heads, q_len, d_k)
    if merge_transposed:
        merged = attended.transpose(1, 2).reshape(batch, q_len, d_model)  # heads side by side again
    else:
        merged = attended.reshape(batch, q_len, d_model)
    return project(merged, "o") if output_projection else merged


def _weights(g: torch.Generator, d_model: int, dtype: torch.dtype = torch.float32) -> dict[str, Tensor]:
    scale = 1 / math.sqrt(d_model)
    return {
        **{f"w_{n}": torch.randn(d_model, d_model, generator=g, dtype=dtype) * scale for n in "qkvo"},
        **{f"b_{n}": torch.randn(d_model, generator=g, dtype=dtype) * 0.1 for n in "qkvo"},
    }


def _multi_head_cases() -> list[Case]:
    g = torch_generator(9)
    r = lambda *shape, dtype=torch.float32: torch.randn(*shape, generator=g, dtype=dtype)  # noqa: E731
    x = r(2, 5, 8)
    return [
        Case("self-attention", (x, x, x, _weights(g, 8), 2)),
        Case("cross-attention, q_len ≠ k_len", (r(2, 3, 12), r(2, 6, 12), r(2, 6, 12), _weights(g, 12), 3)),
        Case("causal mask", (x, x, x, _weights(g, 8), 4, torch.ones(5, 5, dtype=torch.bool).tril())),
        Case("padding", (r(2, 4, 8), r(2, 6, 8), r(2, 6, 8), _weights(g, 8), 2, _lengths_mask([6, 3], 6))),
        Case("batch of 1, one head", (r(1, 4, 6), r(1, 4, 6), r(1, 4, 6), _weights(g, 6), 1)),
        Case(
            "float64",
            (
                r(2, 3, 8, dtype=torch.float64),
                r(2, 4, 8, dtype=torch.float64),
                r(2, 4, 8, dtype=torch.float64),
                _weights(g, 8, torch.float64),
                2,
            ),
        ),
    ]


multi_head_attention = Exercise(
    "multi_head_attention",
    reference_multi_head_attention,
    _multi_head_cases,
    [
        Mistake(
            "the scores are divided by √d_model; each head divides by √d_k, d_k = d_model / num_heads",
            lambda *a: _multi_head(*a, scale_by_model=True),
        ),
        Mistake(
            "the heads' concatenation goes through the output projection: Concat(heads) W_Oᵀ + b_o",
            lambda *a: _multi_head(*a, output_projection=False),
        ),
        Mistake(
            "merging mixed positions: transpose(1, 2) back to (batch, q_len, heads, d_k) before reshaping to "
            "(batch, q_len, d_model)",
            lambda *a: _multi_head(*a, merge_transposed=False),
        ),
        Mistake(
            "the weights follow nn.Linear's convention, y = x Wᵀ + b (W is (out_features, in_features)): "
            "multiply by the transposed matrix",
            lambda *a: _multi_head(*a, linear_convention=False),
        ),
        Mistake("the biases b_q, b_k, b_v, b_o are missing", lambda *a: _multi_head(*a, biases=False)),
        Mistake(
            "the mask is inverted: True means 'may attend' in this course (nn.MultiheadAttention uses the opposite)",
            lambda *a: _multi_head(*a, inverted=True),
        ),
        Mistake(
            "one attention over all d_model features is one head: split into num_heads heads of d_k features each",
            lambda *a: _multi_head(*a, heads=False),
        ),
    ],
    gradients=True,
    forbidden=(F.multi_head_attention_forward, torch._native_multi_head_attention),
    forbidden_hint="build it from the pieces, split → attend → merge → W_O: nn.MultiheadAttention (and "
    "F.multi_head_attention_forward) is the reference your function is compared with",
)
