"""Scaled dot-product attention and multi-head attention, written out (Vaswani et al., 2017, §3.2).

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V
    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O,   head_i = Attention(Q W_Q^i, K W_K^i, V W_V^i)

Layout: batch first everywhere, ``(batch, seq, d_model)``; inside multi-head attention the heads get
their own axis, ``(batch, heads, seq, d_k)``, and attention weights are ``(batch, heads, q_len, k_len)``.

Mask convention (the one used in every notebook and helper of this project)
--------------------------------------------------------------------------
A mask is a **boolean** tensor, **True = this query MAY attend to this key**, False = blocked. Shapes, with
PyTorch's meaning: ``(q_len, k_len)`` (:func:`causal_mask`), one axis per score axis, each of the score's
size or 1 (:func:`padding_mask` gives ``(batch, 1, 1, k_len)``; ``&`` combines masks), and, in
:class:`MultiHeadAttention`, ``nn.MultiheadAttention``'s ``(batch * heads, q_len, k_len)``. A 3-D
``(batch, q_len, k_len)`` mask beside 4-D scores is refused: broadcasting would apply it along the heads.

``F.scaled_dot_product_attention``'s boolean ``attn_mask`` has the same convention; ``nn.MultiheadAttention``
and ``nn.Transformer*`` use True = **blocked**: :func:`to_pytorch_key_padding_mask` and
:func:`to_pytorch_attn_mask` convert.

A query row whose keys are all blocked has no distribution to take a softmax over (softmax of a row of
-inf is 0/0 = NaN). Here such a row gets **all-zero weights and a zero output**, with finite gradients:
the same choice as ``F.scaled_dot_product_attention`` in PyTorch 2.5+, whereas ``nn.MultiheadAttention``
returns NaN there.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .core import check_positive_int, check_probability, check_shape

__all__ = [
    "MultiHeadAttention",
    "SelfAttention",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "to_pytorch_attn_mask",
    "to_pytorch_key_padding_mask",
]


# --- masks --------------------------------------------------------------------------------------

_INTEGER_DTYPES = (torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64)


def padding_mask(lengths: Tensor, max_length: int | None = None) -> Tensor:
    """``(batch, 1, 1, max_length)`` boolean mask, True at the real tokens of each right-padded sequence.

    ``lengths`` ``(batch,)``: true lengths (``helpers.text.pad_batch`` returns them). For padding anywhere
    else, compare the ids with the padding id instead: ``(ids != padding_id)[:, None, None, :]``.
    """
    if not isinstance(lengths, Tensor) or lengths.dim() != 1 or lengths.dtype not in _INTEGER_DTYPES:
        got = f"{lengths.dtype} of shape {tuple(lengths.shape)}" if isinstance(lengths, Tensor) else type(lengths)
        raise ValueError(f"lengths must be a 1-D integer tensor (batch,), got {got}")
    longest = int(lengths.max()) if lengths.numel() else 0
    max_length = longest if max_length is None else check_positive_int(max_length, "max_length")
    if lengths.numel() and (int(lengths.min()) < 0 or longest > max_length):
        raise ValueError(f"lengths must lie in [0, max_length={max_length}], got {lengths.tolist()}")
    return (torch.arange(max_length, device=lengths.device) < lengths[:, None])[:, None, None, :]


def causal_mask(size: int, device: torch.device | str | None = None) -> Tensor:
    """``(size, size)`` boolean look-ahead mask: query t may attend to keys 0..t (lower triangle True)."""
    size = check_positive_int(size, "size")
    return torch.ones(size, size, dtype=torch.bool, device=device).tril()


def to_pytorch_key_padding_mask(mask: Tensor) -> Tensor:
    """Our padding mask ``(batch, 1, 1, k_len)`` (True = real token) -> ``nn.MultiheadAttention``'s
    ``key_padding_mask`` ``(batch, k_len)`` (True = padding, i.e. blocked)."""
    check_shape(mask, (None, 1, 1, None), "mask", "(batch, 1, 1, k_len)")
    return ~mask[:, 0, 0, :]


def to_pytorch_attn_mask(mask: Tensor, num_heads: int | None = None) -> Tensor:
    """Our mask (True = may attend) -> ``nn.MultiheadAttention``'s boolean ``attn_mask`` (True = blocked).

    A ``(q_len, k_len)`` mask stays 2-D. A 4-D ``(batch, heads or 1, q_len, k_len)`` mask becomes the
    ``(batch * num_heads, q_len, k_len)`` layout that ``nn.MultiheadAttention`` wants for per-example masks.
    """
    _check_bool_mask(mask)
    if mask.dim() == 2:
        return ~mask
    if mask.dim() != 4 or num_heads is None:
        raise ValueError(
            f"to_pytorch_attn_mask takes a (q_len, k_len) mask, or a (batch, heads, q_len, k_len) mask together "
            f"with num_heads; got shape {tuple(mask.shape)} and num_heads={num_heads}"
        )
    batch, _, q_len, k_len = mask.shape
    return ~mask.expand(batch, num_heads, q_len, k_len).reshape(batch * num_heads, q_len, k_len)


def _check_bool_mask(mask: object) -> None:
    if not isinstance(mask, Tensor):
        raise TypeError(f"mask must be a torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise ValueError(
            f"mask must be a boolean tensor (True = may attend), got dtype {mask.dtype}; "
            "for a 0/1 mask use mask.bool(), for PyTorch's True = blocked masks use ~mask"
        )


def _checked_mask(mask: Tensor, scores_shape: tuple[int, ...], layout: str, heads_axis: bool) -> Tensor:
    """The mask, in a shape that broadcasts to the scores, or a ValueError that says which shape to use.

    The accepted shapes are listed in the module's docstring; any other rank is ambiguous and refused.
    """
    _check_bool_mask(mask)
    shape, wanted = tuple(mask.shape), tuple(scores_shape)
    if heads_axis and mask.dim() == 3 and shape == (wanted[0] * wanted[1], *wanted[2:]):
        return mask.reshape(wanted)  # nn.MultiheadAttention's layout: row b * heads + h is example b, head h
    same_rank = mask.dim() == len(wanted) and all(m in (1, s) for m, s in zip(shape, wanted, strict=True))
    if same_rank or (mask.dim() == 2 and all(m in (1, s) for m, s in zip(shape, wanted[-2:], strict=True))):
        return mask
    per_example = "(batch, 1, q_len, k_len) (a (batch, q_len, k_len) mask m becomes m[:, None])"
    if heads_axis:
        pytorch_layout = (wanted[0] * wanted[1], *wanted[2:])
        per_example += f", or nn.MultiheadAttention's (batch * heads, q_len, k_len) = {pytorch_layout}"
    raise ValueError(
        f"mask of shape {shape} does not fit the attention scores {layout} = {wanted}; use (q_len, k_len) "
        f"(causal_mask), (batch, 1, 1, k_len) (padding_mask) or, for a mask per example, {per_example}"
    )


# --- the formula --------------------------------------------------------------------------------


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
    _check_qkv(query, key, value)
    if mask is not None:
        scores_shape = (*query.shape[:-1], key.size(-2))
        mask = _checked_mask(mask, scores_shape, "(..., q_len, k_len)", heads_axis=False)
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


def _check_qkv(query: Tensor, key: Tensor, value: Tensor) -> None:
    for name, tensor in (("query", query), ("key", key), ("value", value)):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
        if tensor.dim() < 2:
            raise ValueError(
                f"{name} must have shape (..., seq, features) with at least 2 axes, got {tuple(tensor.shape)}"
            )
    if not query.is_floating_point() or query.dtype != key.dtype or query.dtype != value.dtype:
        raise TypeError(
            f"query, key and value must be floating-point tensors of one dtype, got {query.dtype}, {key.dtype}, "
            f"{value.dtype}; convert them with .float() (or .double())"
        )
    shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
    if not (query.shape[:-2] == key.shape[:-2] == value.shape[:-2]):
        raise ValueError(f"query, key and value must share their leading (batch, heads) axes; got {shapes}")
    if query.size(-1) != key.size(-1):
        raise ValueError(f"query and key must have the same last size d_k (they are dotted together); got {shapes}")
    if key.size(-2) != value.size(-2):
        raise ValueError(f"key and value must have the same length k_len (one value per key); got {shapes}")


def _check_module_input(module: nn.Module, tensor: Tensor, name: str, expected: tuple, layout: str) -> None:
    check_shape(tensor, expected, name, layout)
    weight = next(module.parameters())
    if tensor.dtype != weight.dtype:
        raise TypeError(
            f"{name} has dtype {tensor.dtype} but the module's weights are {weight.dtype}; convert one of them "
            f"(e.g. module.to({tensor.dtype}) or {name}.to({weight.dtype}))"
        )


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
        _check_module_input(self, x, "x", (None, None, self.d_model), "(batch, seq, d_model)")
        batch, seq, _ = x.shape
        if mask is not None:  # a head axis of size 1: the scores are (batch, 1, seq, seq)
            mask = _checked_mask(mask, (batch, 1, seq, seq), "(batch, heads=1, seq, seq)", heads_axis=True)
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

    def __init__(self, d_model: int, num_heads: int, *, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.d_model = check_positive_int(d_model, "d_model")
        self.num_heads = check_positive_int(num_heads, "num_heads")
        if d_model % num_heads != 0:
            raise ValueError(
                f"d_model ({d_model}) must be divisible by num_heads ({num_heads}): each head gets d_model / "
                "num_heads features; choose e.g. num_heads that divides d_model"
            )
        self.d_k = d_model // num_heads
        self.dropout = check_probability(dropout, "dropout")
        self.bias = bias
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)  # W_Q of all heads side by side
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
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
        # (batch, seq, d_model) -> (batch, seq, heads, d_k) -> (batch, heads, seq, d_k): the transpose puts
        # each head's features together; a plain view to (batch, heads, seq, d_k) would mix positions.
        return x.view(batch, seq, self.num_heads, self.d_k).transpose(1, 2)

    def forward(
        self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None, need_weights: bool = True
    ) -> tuple[Tensor, Tensor | None]:
        _check_module_input(self, query, "query", (None, None, self.d_model), "(batch, q_len, d_model)")
        batch, q_len, _ = query.shape
        _check_module_input(self, key, "key", (batch, None, self.d_model), "(batch, k_len, d_model)")
        k_len = key.size(1)
        _check_module_input(self, value, "value", (batch, k_len, self.d_model), "(batch, k_len, d_model)")
        if mask is not None:  # checked once, here; the formula below trusts it
            scores_shape = (batch, self.num_heads, q_len, k_len)
            mask = _checked_mask(mask, scores_shape, "(batch, heads, q_len, k_len)", heads_axis=True)
        q = self._split_heads(self.q_proj(query))  # (batch, heads, q_len, d_k)
        k = self._split_heads(self.k_proj(key))  # (batch, heads, k_len, d_k)
        v = self._split_heads(self.v_proj(value))  # (batch, heads, k_len, d_k)
        dropout = self.dropout if self.training else 0.0
        if need_weights:
            heads, weights = _attention(q, k, v, mask, dropout)
        else:  # the fused kernel: same numbers, never materialises the weights in memory
            heads, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout), None
        # Concatenate the heads: (batch, heads, q_len, d_k) -> (batch, q_len, heads * d_k)
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
        weight = self.q_proj.weight
        module = nn.MultiheadAttention(
            self.d_model, self.num_heads, dropout=self.dropout, bias=self.bias, batch_first=True,
            device=weight.device, dtype=weight.dtype,
        )
        with torch.no_grad():
            module.in_proj_weight.copy_(torch.cat([self.q_proj.weight, self.k_proj.weight, self.v_proj.weight]))
            module.out_proj.weight.copy_(self.out_proj.weight)
            if self.bias:
                module.in_proj_bias.copy_(torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]))
                module.out_proj.bias.copy_(self.out_proj.bias)
        return module.train(self.training)
