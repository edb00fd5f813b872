"""Scaled dot-product attention and multi-head attention, written out (Vaswani et al., 2017, §3.2).

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V
    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O,   head_i = Attention(Q W_Q^i, K W_K^i, V W_V^i)

Layout: batch first everywhere, ``(batch, seq, d_model)``; inside multi-head attention the heads get
their own axis, ``(batch, heads, seq, d_k)``, and attention weights are ``(batch, heads, q_len, k_len)``.

Masks are boolean, True = may attend (:mod:`helpers.self_attention.masks` explains the convention and
converts to PyTorch's). A query row whose keys are all blocked gets all-zero weights and a zero output.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from helpers.core import check_positive_int, check_probability
from helpers.self_attention.checks import check_module_input, check_qkv
from helpers.self_attention.masks import checked_mask

__all__ = ["MultiHeadAttention", "SelfAttention", "scaled_dot_product_attention"]


# --- the formula ---------------------------------------------------------------------------------


def scaled_dot_product_attention(
    query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None, *, dropout: float = 0.0
) -> tuple[Tensor, Tensor]:
    """softmax(Q Kᵀ / √d_k) V, step by step; returns ``(output, weights)``.

    Shapes: query ``(..., q_len, d_k)``, key ``(..., k_len, d_k)``, value ``(..., k_len, d_v)`` with the
    same leading axes (e.g. ``(batch, heads)``); output ``(..., q_len, d_v)``, weights ``(..., q_len, k_len)``.
    ``mask``: boolean, True = may attend, either ``(q_len, k_len)`` or with one axis per score axis (each of
    the score's size or 1), e.g. ``(batch, 1, 1, k_len)``. ``dropout`` drops attention weights (as the paper
    does; pass 0 at evaluation); the returned weights are those applied.
    """
    check_probability(dropout, "dropout")
    check_qkv(query, key, value)
    if mask is not None:
        scores_shape = (*query.shape[:-1], key.size(-2))
        mask = checked_mask(mask, scores_shape, "(..., q_len, k_len)", heads_axis=False)
    return _attention(query, key, value, mask, dropout)


def _attention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, dropout: float) -> tuple[Tensor, Tensor]:
    """The formula itself; the callers have checked the shapes and the mask."""
    scores = query @ key.transpose(-2, -1)  # (..., q_len, k_len): one dot product per (query, key) pair
    # Scale so the scores keep unit variance whatever d_k: otherwise the softmax saturates (see notebook 04).
    # In place (here and below): the scores are a fresh tensor that autograd does not keep, and the
    # (q_len, k_len) matrices are what makes attention expensive, so each saved copy counts.
    scores.div_(math.sqrt(query.size(-1)))
    fully_blocked = None
    if mask is not None:
        scores.masked_fill_(~mask, float("-inf"))  # exp(-inf) = 0: blocked keys get no weight
        has_any_key = mask.any(dim=-1, keepdim=True)  # a row with every key blocked would be 0/0 = NaN
        if not bool(has_any_key.all()):
            fully_blocked = ~has_any_key
            scores.masked_fill_(fully_blocked, 0.0)  # a harmless finite row, zeroed after the softmax
    weights = scores.softmax(dim=-1)  # (..., q_len, k_len), each row sums to 1
    if fully_blocked is not None:
        weights = weights.masked_fill(fully_blocked, 0.0)  # fully blocked rows: zero weights, zero output
    if dropout > 0.0:
        weights = F.dropout(weights, p=dropout)
    return weights @ value, weights  # (..., q_len, d_v): a weighted mean of the values


# --- modules ------------------------------------------------------------------------------------


class SelfAttention(nn.Module):
    """One attention head over one sequence: Q, K and V all come from the same ``x`` ("self").

    ``x`` ``(batch, seq, d_model)`` -> output ``(batch, seq, d_k)`` and weights ``(batch, seq, seq)``.
    The three projections W_Q, W_K, W_V (``d_model -> d_k``, no bias, as in the paper) are what make
    queries, keys and values differ. ``mask``: ``(seq, seq)``, ``(batch, seq, seq)`` (one head, so this is
    also ``nn.MultiheadAttention``'s layout) or ``(batch, 1, 1, seq)`` (``padding_mask``).
    """

    def __init__(self, d_model: int, d_k: int):
        super().__init__()
        self.d_model = check_positive_int(d_model, "d_model")
        self.d_k = check_positive_int(d_k, "d_k")
        self.query = nn.Linear(d_model, d_k, bias=False)  # W_Q
        self.key = nn.Linear(d_model, d_k, bias=False)  # W_K
        self.value = nn.Linear(d_model, d_k, bias=False)  # W_V

    def forward(self, x: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_module_input(self, x, "x", (None, None, self.d_model), "(batch, seq, d_model)")
        batch, seq, _ = x.shape
        if mask is not None:  # a head axis of size 1: the scores are (batch, 1, seq, seq)
            mask = checked_mask(mask, (batch, 1, seq, seq), "(batch, heads=1, seq, seq)", heads_axis=True)
        q, k, v = (proj(x).unsqueeze(1) for proj in (self.query, self.key, self.value))  # (batch, 1, seq, d_k)
        output, weights = _attention(q, k, v, mask, 0.0)
        return output.squeeze(1), weights.squeeze(1)  # (batch, seq, d_k), (batch, seq, seq)


class MultiHeadAttention(nn.Module):
    """h heads in parallel: project, split into heads, attend, concatenate, project with W_O.

    ``forward(query, key, value, mask)``: query ``(batch, q_len, d_model)``, key/value
    ``(batch, k_len, d_model)``. Self-attention passes the same tensor three times; encoder-decoder
    attention passes the decoder states as query and the encoder output as key and value.
    ``mask`` (True = may attend): ``(q_len, k_len)``, ``(batch or 1, heads or 1, q_len or 1, k_len)`` or
    ``nn.MultiheadAttention``'s ``(batch * heads, q_len, k_len)``; a ``(batch, q_len, k_len)`` mask is refused
    (PyTorch would read it as heads): write ``m[:, None]``.
    Returns ``(output (batch, q_len, d_model), weights (batch, heads, q_len, k_len))``; with
    ``need_weights=False`` it calls PyTorch's fused ``F.scaled_dot_product_attention`` (same result,
    faster, less memory) and returns ``(output, None)``. ``dropout`` drops attention weights in training,
    as ``nn.MultiheadAttention`` does.

    The weights are laid out as ``nn.MultiheadAttention``'s (its ``in_proj_weight`` is W_Q, W_K, W_V
    stacked): :meth:`from_pytorch` and :meth:`to_pytorch` copy them across.
    """

    def __init__(
        self, d_model: int, num_heads: int, *, dropout: float = 0.0, bias: bool = True, d_k: int | None = None
    ):
        super().__init__()
        self.d_model = check_positive_int(d_model, "d_model")
        self.num_heads = check_positive_int(num_heads, "num_heads")
        if d_model % num_heads != 0:
            raise ValueError(
                f"d_model ({d_model}) must be divisible by num_heads ({num_heads}): each head gets d_model / "
                "num_heads features; choose e.g. num_heads that divides d_model"
            )
        self.d_v = d_model // num_heads  # each head's value size: the concatenated heads are d_model wide
        # The key (and query) size per head: d_model / h as in the paper's base model, or a size of its own
        # (Vaswani et al., Table 3 row B: d_k reduced, d_v kept).
        self.d_k = self.d_v if d_k is None else check_positive_int(d_k, "d_k")
        self.dropout = check_probability(dropout, "dropout")
        self.bias = bias
        self.q_proj = nn.Linear(d_model, num_heads * self.d_k, bias=bias)  # W_Q of all heads side by side
        self.k_proj = nn.Linear(d_model, num_heads * self.d_k, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)  # W_O
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # As nn.MultiheadAttention: Xavier-uniform over the stacked (3 d_model, d_model) input projection,
        # zero biases; the output projection keeps nn.Linear's default weight.
        bound = math.sqrt(6.0 / (self.d_model + 3 * self.d_model))
        for proj in (self.q_proj, self.k_proj, self.v_proj):
            nn.init.uniform_(proj.weight, -bound, bound)
        for proj in (self.q_proj, self.k_proj, self.v_proj, self.out_proj):
            if proj.bias is not None:
                nn.init.zeros_(proj.bias)

    def _split_heads(self, x: Tensor) -> Tensor:
        batch, seq, _ = x.shape
        # (batch, seq, heads * d) -> (batch, seq, heads, d) -> (batch, heads, seq, d), d = d_k for queries and keys,
        # d_v for values: the transpose puts each head's features together; a plain view to (batch, heads, seq, d)
        # would mix positions.
        return x.view(batch, seq, self.num_heads, -1).transpose(1, 2)

    def forward(
        self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None, need_weights: bool = True
    ) -> tuple[Tensor, Tensor | None]:
        check_module_input(self, query, "query", (None, None, self.d_model), "(batch, q_len, d_model)")
        batch, q_len, _ = query.shape
        check_module_input(self, key, "key", (batch, None, self.d_model), "(batch, k_len, d_model)")
        k_len = key.size(1)
        check_module_input(self, value, "value", (batch, k_len, self.d_model), "(batch, k_len, d_model)")
        if mask is not None:  # checked once, here; the formula below trusts it
            scores_shape = (batch, self.num_heads, q_len, k_len)
            mask = checked_mask(mask, scores_shape, "(batch, heads, q_len, k_len)", heads_axis=True)
        q = self._split_heads(self.q_proj(query))  # (batch, heads, q_len, d_k)
        k = self._split_heads(self.k_proj(key))  # (batch, heads, k_len, d_k)
        v = self._split_heads(self.v_proj(value))  # (batch, heads, k_len, d_v)
        dropout = self.dropout if self.training else 0.0
        if need_weights:
            heads, weights = _attention(q, k, v, mask, dropout)
        else:  # the fused kernel: same numbers, never materialises the weights in memory
            heads, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout), None
        # Concatenate the heads: (batch, heads, q_len, d_v) -> (batch, q_len, heads * d_v = d_model)
        concatenated = heads.transpose(1, 2).reshape(batch, q_len, self.d_model)
        return self.out_proj(concatenated), weights  # (batch, q_len, d_model)

    @classmethod
    def from_pytorch(cls, module: nn.MultiheadAttention) -> MultiHeadAttention:
        """A copy of a ``nn.MultiheadAttention`` (same d_model, heads, dropout, weights, dtype and device)."""
        if not isinstance(module, nn.MultiheadAttention):
            raise TypeError(f"from_pytorch needs an nn.MultiheadAttention, got {type(module).__name__}")
        if module.kdim != module.embed_dim or module.vdim != module.embed_dim:
            raise ValueError("from_pytorch supports nn.MultiheadAttention with kdim == vdim == embed_dim only")
        if module.bias_k is not None:
            raise ValueError("from_pytorch does not support add_bias_kv=True")
        source = module.in_proj_weight
        ours = cls(module.embed_dim, module.num_heads, dropout=module.dropout, bias=module.in_proj_bias is not None)
        ours = ours.to(source.device, source.dtype)  # before copying, so float64 weights stay exact
        projections = (ours.q_proj, ours.k_proj, ours.v_proj)
        with torch.no_grad():  # in_proj_weight is W_Q, W_K, W_V stacked along the output axis
            for proj, weight in zip(projections, source.chunk(3), strict=True):
                proj.weight.copy_(weight)
            if module.in_proj_bias is not None:
                for proj, bias in zip(projections, module.in_proj_bias.chunk(3), strict=True):
                    proj.bias.copy_(bias)
                ours.out_proj.bias.copy_(module.out_proj.bias)
            ours.out_proj.weight.copy_(module.out_proj.weight)
        return ours.train(module.training)

    def to_pytorch(self) -> nn.MultiheadAttention:
        """A ``nn.MultiheadAttention(batch_first=True)`` with this module's weights, dropout, dtype and mode."""
        if self.d_k != self.d_v:
            raise ValueError(
                f"nn.MultiheadAttention's heads have d_k = d_model / num_heads = {self.d_v}; this module's d_k is "
                f"{self.d_k}: build it without d_k to convert it"
            )
        weight = self.q_proj.weight
        module = nn.MultiheadAttention(
            self.d_model,
            self.num_heads,
            dropout=self.dropout,
            bias=self.bias,
            batch_first=True,
            device=weight.device,
            dtype=weight.dtype,
        )
        with torch.no_grad():
            module.in_proj_weight.copy_(torch.cat([self.q_proj.weight, self.k_proj.weight, self.v_proj.weight]))
            module.out_proj.weight.copy_(self.out_proj.weight)
            if self.bias:
                module.in_proj_bias.copy_(torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]))
                module.out_proj.bias.copy_(self.out_proj.bias)
        return module.train(self.training)
