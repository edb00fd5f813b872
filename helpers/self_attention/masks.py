"""Attention masks: the padding and look-ahead masks, their checks, and PyTorch's opposite convention.

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
returns NaN there. The GRU's additive attention (:class:`helpers.transformer.recurrent.AdditiveAttention`) follows
the same convention.
"""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.core import check_positive_int, check_shape

__all__ = [
    "causal_mask",
    "check_bool_mask",
    "checked_mask",
    "padding_mask",
    "to_pytorch_attn_mask",
    "to_pytorch_key_padding_mask",
]

_INTEGER_DTYPES = (torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64)


def padding_mask(lengths: Tensor, max_length: int | None = None) -> Tensor:
    """``(batch, 1, 1, max_length)`` boolean mask, True at the real tokens of each right-padded sequence.

    ``lengths`` ``(batch,)``: true lengths (``helpers.data.text.pad_batch`` returns them). For padding anywhere
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
    check_bool_mask(mask)
    if mask.dim() == 2:
        return ~mask
    if mask.dim() != 4 or num_heads is None:
        raise ValueError(
            f"to_pytorch_attn_mask takes a (q_len, k_len) mask, or a (batch, heads, q_len, k_len) mask together "
            f"with num_heads; got shape {tuple(mask.shape)} and num_heads={num_heads}"
        )
    batch, _, q_len, k_len = mask.shape
    return ~mask.expand(batch, num_heads, q_len, k_len).reshape(batch * num_heads, q_len, k_len)


def check_bool_mask(mask: object) -> None:
    if not isinstance(mask, Tensor):
        raise TypeError(f"mask must be a torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise ValueError(
            f"mask must be a boolean tensor (True = may attend), got dtype {mask.dtype}; "
            "for a 0/1 mask use mask.bool(), for PyTorch's True = blocked masks use ~mask"
        )


def checked_mask(mask: Tensor, scores_shape: tuple[int, ...], layout: str, heads_axis: bool) -> Tensor:
    """The mask, in a shape that broadcasts to the scores, or a ValueError that says which shape to use.

    The accepted shapes are listed in this module's docstring; any other rank is ambiguous and refused.
    """
    check_bool_mask(mask)
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
