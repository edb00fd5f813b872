"""The checks at attention's door: query, key and value shapes and dtypes, and a module's input.

They run once, where a learner calls in, so that the formula itself can read like the paper's equation.
"""

from __future__ import annotations

from torch import Tensor, nn

from helpers.core import check_shape

__all__ = ["check_module_input", "check_qkv"]


def check_qkv(query: Tensor, key: Tensor, value: Tensor) -> None:
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


def check_module_input(module: nn.Module, tensor: Tensor, name: str, expected: tuple, layout: str) -> None:
    check_shape(tensor, expected, name, layout)
    weight = next(module.parameters())
    if tensor.dtype != weight.dtype:
        raise TypeError(
            f"{name} has dtype {tensor.dtype} but the module's weights are {weight.dtype}; convert one of them "
            f"(e.g. module.to({tensor.dtype}) or {name}.to({weight.dtype}))"
        )
