"""The recurrent baseline of notebook 05: a GRU encoder-decoder with additive attention.

Bahdanau, Cho and Bengio (2015), "Neural Machine Translation by Jointly Learning to Align and Translate":

    e_tj = vᵀ tanh(W s_{t-1} + U h_j),   α_tj = softmax_j(e_tj),   c_t = Σ_j α_tj h_j        (additive attention)
    s_t = GRU(s_{t-1}, [E y_{t-1}; c_t]),   s_0 = tanh(W_s h←_1),   p(y_t) = softmax(W_o [s_t; c_t; E y_{t-1}])

The encoder is a bidirectional GRU, h_j = [h→_j; h←_j]. The decoder must run one step after another: the
state s_t needs s_{t-1}. That sequential loop is what the Transformer removed (notebook 05 times both).
The output layer is linear (the paper's has a maxout layer). Same ``encode``/``decode`` methods as
:class:`helpers.transformer.model.Transformer`, so :mod:`helpers.transformer.seq2seq` decodes and trains both.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from helpers.core import check_positive_int, check_shape, check_token_ids

__all__ = ["AdditiveAttention", "GRUTranslator"]


class AdditiveAttention(nn.Module):
    """e_j = vᵀ tanh(W q + U k_j); weights softmax over the unmasked keys; context Σ_j α_j k_j.

    A row whose keys are all masked gets all-zero weights and a zero context, the convention of the
    project's scaled dot-product attention (:mod:`helpers.self_attention.masks`), instead of softmax's 0/0 = NaN.
    """

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        for name, value in (("query_size", query_size), ("key_size", key_size), ("attention_size", attention_size)):
            check_positive_int(value, name)
        self.query = nn.Linear(query_size, attention_size, bias=False)  # W
        self.key = nn.Linear(key_size, attention_size)  # U (computed once per source, see project_keys)
        self.score = nn.Linear(attention_size, 1, bias=False)  # v

    def forward(self, query: Tensor, keys: Tensor, projected_keys: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """``query`` ``(batch, query_size)``, ``keys`` ``(batch, src_len, key_size)``, ``projected_keys`` = U k,
        ``mask`` ``(batch, src_len)`` True at real tokens -> context ``(batch, key_size)``, weights
        ``(batch, src_len)``."""
        scores = self.score(torch.tanh(self.query(query)[:, None, :] + projected_keys)).squeeze(-1)
        scores = scores.masked_fill(~mask, float("-inf"))  # (batch, src_len)
        has_any_key = mask.any(dim=-1, keepdim=True)  # a row with every key masked would be 0/0 = NaN
        if bool(has_any_key.all()):
            weights = scores.softmax(dim=-1)
        else:  # a harmless finite row for the softmax, zeroed after it: zero weights, zero context
            weights = scores.masked_fill(~has_any_key, 0.0).softmax(dim=-1).masked_fill(~has_any_key, 0.0)
        return (weights[..., None] * keys).sum(dim=1), weights


def _check_target_ids(target_in: Tensor, vocabulary_size: int) -> None:
    if target_in.is_floating_point() or target_in.dtype == torch.bool:
        raise TypeError(f"target_in must hold integer token ids, got dtype {target_in.dtype}; use .long()")
    check_token_ids(
        target_in,
        vocabulary_size,
        "target ids",
        hint="encode targets with the target vocabulary the model was built for",
    )


class GRUTranslator(nn.Module):
    """Bidirectional GRU encoder, GRU decoder with additive attention; right-padded sources with ``padding_id``."""

    def __init__(
        self,
        source_vocabulary_size: int,
        target_vocabulary_size: int,
        *,
        embedding_dim: int = 64,
        hidden_size: int = 96,
        padding_id: int = 0,
    ):
        super().__init__()
        for name, value in (
            ("source_vocabulary_size", source_vocabulary_size),
            ("embedding_dim", embedding_dim),
            ("target_vocabulary_size", target_vocabulary_size),
            ("hidden_size", hidden_size),
        ):
            check_positive_int(value, name)
        if (
            isinstance(padding_id, bool)
            or not isinstance(padding_id, int)
            or not 0 <= padding_id < min(source_vocabulary_size, target_vocabulary_size)
        ):
            raise ValueError(f"padding_id must be an id of both vocabularies, got {padding_id!r}")
        self.padding_id, self.hidden_size = padding_id, hidden_size
        self.source_embedding = nn.Embedding(source_vocabulary_size, embedding_dim, padding_idx=padding_id)
        self.target_embedding = nn.Embedding(target_vocabulary_size, embedding_dim, padding_idx=padding_id)
        self.encoder = nn.GRU(embedding_dim, hidden_size, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(hidden_size, hidden_size)  # W_s: s_0 from the backward state at the first token
        self.attention = AdditiveAttention(hidden_size, 2 * hidden_size, hidden_size)
        self.cell = nn.GRUCell(embedding_dim + 2 * hidden_size, hidden_size)
        self.generator = nn.Linear(hidden_size + 2 * hidden_size + embedding_dim, target_vocabulary_size)

    def encode(self, source: Tensor) -> tuple[Tensor, Tensor, None]:
        """``source (batch, src_len)`` -> annotations h ``(batch, src_len, 2 hidden)``, mask ``(batch, src_len)``."""
        check_shape(source, (None, None), "source", "(batch, src_len) of token ids")
        if source.is_floating_point() or source.dtype == torch.bool:
            raise TypeError(f"source must hold integer token ids, got dtype {source.dtype}; use .long()")
        check_token_ids(source, self.source_embedding.num_embeddings, "source ids")
        mask = source != self.padding_id
        lengths = mask.sum(dim=1)
        if bool((lengths == 0).any()) or not torch.equal(mask, torch.arange(source.size(1)) < lengths[:, None]):
            raise ValueError("every source must hold tokens, right-padded with padding_id (the GRU reads in order)")
        packed = pack_padded_sequence(
            self.source_embedding(source), lengths.cpu(), batch_first=True, enforce_sorted=False
        )  # the backward GRU then starts at each last real token
        annotations, _ = pad_packed_sequence(self.encoder(packed)[0], batch_first=True, total_length=source.size(1))
        return annotations, mask, None

    def decode(
        self, target_in: Tensor, memory: Tensor, memory_mask: Tensor, need_weights: bool = False
    ) -> tuple[Tensor, None, list[Tensor]]:
        """Decoder input ids ``(batch, tgt_len)`` -> logits ``(batch, tgt_len, target_vocabulary)``, one step at a time;
        also the attention weights ``(batch, tgt_len, src_len)`` (in a one-element list, as the Transformer's)."""
        if target_in.dim() == 2 and target_in.size(1) == 0:
            raise ValueError("target_in is empty (tgt_len 0): the decoder needs at least <bos> to read")
        state = torch.tanh(self.bridge(memory[:, 0, self.hidden_size :]))  # s_0 = tanh(W_s h←_1)
        projected = self.attention.key(memory)  # U h_j, once for every step
        embedded = self.target_embedding(target_in)  # (batch, tgt_len, embedding_dim)
        logits, weights = [], []
        for t in range(target_in.size(1)):  # sequential: s_t needs s_{t-1}
            context, step_weights = self.attention(state, memory, projected, memory_mask)
            state = self.cell(torch.cat([embedded[:, t], context], dim=-1), state)
            logits.append(self.generator(torch.cat([state, context, embedded[:, t]], dim=-1)))
            weights.append(step_weights)
        return torch.stack(logits, dim=1), None, [torch.stack(weights, dim=1)]

    def forward(self, source: Tensor, target_in: Tensor) -> Tensor:
        """Teacher forcing: logits ``(batch, tgt_len, target_vocabulary)``."""
        check_shape(target_in, (source.size(0), None), "target_in", "(batch, tgt_len) of token ids")
        _check_target_ids(target_in, self.target_embedding.num_embeddings)
        memory, mask, _ = self.encode(source)
        return self.decode(target_in, memory, mask)[0]
