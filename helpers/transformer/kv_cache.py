"""Incremental decoding with a key/value cache: each decoder step computes only the newest position.

Greedy decoding (``helpers.transformer.seq2seq.greedy_decode``) re-reads the whole prefix at every step: step t
runs the decoder over t positions, so an output of n tokens costs about n²/2 position-passes. But under the
causal mask, position i's state never depends on later positions, so the states, keys and values of positions
0..t-1 are the same at every later step. A cache keeps, for every decoder layer,

- the self-attention's keys and values of the positions decoded so far (one row more at every step), and
- the encoder-decoder attention's keys and values, projected once from the encoder's output (the memory),

and step t then runs the decoder on position t alone: its query meets the cached keys (which are all in its
past, so no mask is needed) and the memory's. The result equals the uncached decoder's last position up to
floating-point rounding (the tests and notebook 05 check both the logits and the decoded tokens).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from helpers.core import training_mode
from helpers.self_attention.attention import MultiHeadAttention, _attention
from helpers.transformer.model import DecoderLayer, Transformer
from helpers.transformer.seq2seq import _check_decoding

__all__ = ["LayerCache", "cached_greedy_decode", "decoder_step"]


@dataclass
class LayerCache:
    """One decoder layer's cache: self-attention keys/values ``(batch, heads, t, d_k)``, grown by one position
    per step, and the memory's keys/values ``(batch, heads, src_len, d_k)``, computed once."""

    memory_keys: Tensor
    memory_values: Tensor
    keys: list[Tensor] = field(default_factory=list)
    values: list[Tensor] = field(default_factory=list)


def _heads(attention: MultiHeadAttention, projected: Tensor) -> Tensor:
    return attention._split_heads(projected)  # (batch, len, d_model) -> (batch, heads, len, d_k)


def _attend(attention: MultiHeadAttention, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor | None) -> Tensor:
    """``query`` ``(batch, 1, d_model)`` against cached keys/values -> ``(batch, 1, d_model)``."""
    heads, _ = _attention(_heads(attention, attention.q_proj(query)), keys, values, mask, 0.0)
    return attention.out_proj(heads.transpose(1, 2).reshape(query.shape))  # concatenate the heads, then W_O


def _self_attend(layer: DecoderLayer, x: Tensor, cache: LayerCache) -> Tensor:
    attention = layer.self_attention
    cache.keys.append(_heads(attention, attention.k_proj(x)))  # (batch, heads, 1, d_k): this position's key
    cache.values.append(_heads(attention, attention.v_proj(x)))
    keys, values = torch.cat(cache.keys, dim=2), torch.cat(cache.values, dim=2)  # (batch, heads, t + 1, d_k)
    return _attend(attention, x, keys, values, None)  # every cached key is in the past: nothing to mask


def _layer_step(layer: DecoderLayer, x: Tensor, cache: LayerCache, memory_mask: Tensor) -> Tensor:
    """One decoder layer on the newest position ``x`` ``(batch, 1, d_model)``, as ``DecoderLayer.forward``."""
    cross = layer.cross_attention
    if layer.norm_first:
        x = x + _self_attend(layer, layer.norm1(x), cache)
        x = x + _attend(cross, layer.norm2(x), cache.memory_keys, cache.memory_values, memory_mask)
        return x + layer.feed_forward(layer.norm3(x))
    x = layer.norm1(x + _self_attend(layer, x, cache))  # masked self-attention → add & norm
    x = layer.norm2(x + _attend(cross, x, cache.memory_keys, cache.memory_values, memory_mask))
    return layer.norm3(x + layer.feed_forward(x))  # feed-forward → add & norm


def decoder_step(
    model: Transformer, token: Tensor, position: int, memory_mask: Tensor, caches: list[LayerCache]
) -> Tensor:
    """The newest token ``(batch,)`` at ``position`` -> logits ``(batch, target_vocabulary)`` for the next one;
    every layer's cache grows by this position. Call in eval mode (no dropout), positions 0, 1, 2, ..."""
    x = model.target_embedding(token[:, None])  # (batch, 1, d_model)
    x = x + model.positional_encoding.table[position].to(x.dtype)  # the sinusoid of this position only
    for layer, cache in zip(model.decoder.layers, caches, strict=True):
        x = _layer_step(layer, x, cache, memory_mask)
    return model.generator(model.decoder_norm(x))[:, 0]


def _new_caches(model: Transformer, memory: Tensor) -> list[LayerCache]:
    caches = []
    for layer in model.decoder.layers:
        cross = layer.cross_attention
        caches.append(LayerCache(_heads(cross, cross.k_proj(memory)), _heads(cross, cross.v_proj(memory))))
    return caches


@torch.no_grad()
def cached_greedy_decode(model: Transformer, source: Tensor, *, max_length: int, bos_id: int, eos_id: int) -> Tensor:
    """``greedy_decode`` with a key/value cache: the same ``(batch, ≤ max_length)`` ids, without ``<bos>``,
    each step running the decoder on one position instead of the whole prefix."""
    if not isinstance(model, Transformer):
        raise TypeError(
            f"cached_greedy_decode needs a helpers.transformer.model.Transformer, got {type(model).__name__}"
        )
    _check_decoding(model, source, max_length, bos_id, eos_id)
    positions = model.positional_encoding.table.size(0)
    if max_length > positions:
        raise ValueError(f"max_length={max_length} exceeds the model's positional table ({positions} positions)")
    with training_mode(model, False):
        memory, memory_mask, _ = model.encode(source)
        caches = _new_caches(model, memory)
        token = torch.full((source.size(0),), bos_id, dtype=torch.long, device=source.device)
        finished = torch.zeros(source.size(0), dtype=torch.bool, device=source.device)
        generated = []
        for position in range(max_length):
            logits = decoder_step(model, token, position, memory_mask, caches)  # (batch, target_vocabulary)
            token = logits.argmax(dim=-1).masked_fill(finished, model.padding_id)
            generated.append(token)
            finished |= token == eos_id
            if bool(finished.all()):
                break
    return torch.stack(generated, dim=1)
