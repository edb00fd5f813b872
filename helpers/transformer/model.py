"""The Transformer encoder-decoder of Vaswani et al. (2017), "Attention Is All You Need", built from its parts.

    PE(pos, 2i) = sin(pos / 10000^(2i / d_model)),   PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))   (§3.5)
    sublayer output = LayerNorm(x + Dropout(Sublayer(x)))                                      (post-norm, §3.1, §5.4)
    FFN(x) = max(0, x W_1 + b_1) W_2 + b_2                                                                (§3.3)
    lr = d_model^-0.5 · min(step^-0.5, step · warmup^-1.5)                                                (§5.3)

Encoder layer: self-attention → add & norm → feed-forward → add & norm. Decoder layer: masked self-attention
→ add & norm → encoder-decoder attention → add & norm → feed-forward → add & norm. ``norm_first=True`` gives
the later pre-norm order, x + Sublayer(LayerNorm(x)) (Xiong et al., 2020), for the ablation of notebook 05.
The stacks end with the last layer's LayerNorm, as in the paper: ``nn.Transformer`` adds one more LayerNorm
after each stack; our layers equal ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer`` and our
stacks equal ``nn.TransformerEncoder`` / ``nn.TransformerDecoder`` built with ``norm=None``. Dropout sits
where PyTorch's layers put it: on attention weights, inside the feed-forward and on each sublayer's output.

Attention and masks come from :mod:`helpers.self_attention` (boolean masks, True = may attend). Layout is batch
first: ``(batch, seq, d_model)``. Arguments are checked once, in :class:`Transformer`; the layers trust it.
The date task lives in :mod:`helpers.transformer.dates`; training and decoding (label smoothing, the warm-up schedule,
greedy and beam search) in :mod:`helpers.transformer.seq2seq`; the recurrent baseline in
:mod:`helpers.transformer.recurrent`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from helpers.core import check_positive_int, check_probability, check_shape, check_token_ids, training_mode
from helpers.self_attention.attention import MultiHeadAttention
from helpers.self_attention.masks import causal_mask

__all__ = [
    "Decoder",
    "DecoderLayer",
    "Encoder",
    "EncoderLayer",
    "FeedForward",
    "POSITIONAL_ENCODINGS",
    "PositionalEncoding",
    "TokenEmbedding",
    "Transformer",
    "sinusoidal_positional_encoding",
]


def sinusoidal_positional_encoding(max_length: int, d_model: int) -> Tensor:
    """The ``(max_length, d_model)`` table of §3.5: sines in even columns, cosines in odd ones.

    Column pair i oscillates with wavelength 2π · 10000^(2i/d_model): from 2π (fast) to 20000π (slow), so
    every position gets a distinct pattern and PE(pos + k) is a linear function (a rotation) of PE(pos).
    """
    max_length, d_model = check_positive_int(max_length, "max_length"), check_positive_int(d_model, "d_model")
    if d_model % 2:
        raise ValueError(f"d_model must be even (sine/cosine pairs), got {d_model}")
    position = torch.arange(max_length, dtype=torch.float32)[:, None]  # (max_length, 1)
    frequency = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_length, d_model)
    table[:, 0::2] = torch.sin(position * frequency)  # (max_length, d_model / 2)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


POSITIONAL_ENCODINGS = ("sinusoidal", "learned", "none")


class PositionalEncoding(nn.Module):
    """Adds a ``(max_length, d_model)`` table of positions to ``x`` ``(batch, seq, d_model)``, then dropout (§5.4).

    ``learned=False``: the fixed sinusoids of §3.5 (a buffer). ``learned=True``: a trained table, one vector per
    position (Gehring et al., 2017; Vaswani et al., Table 3 row E), drawn from N(0, 1/2) so that its entries are
    as large as the sinusoids' (whose mean square is 1/2). A learned row gets gradient only where a training
    input reaches its position; the sinusoids are defined at every position.
    """

    def __init__(self, d_model: int, max_length: int = 256, dropout: float = 0.0, *, learned: bool = False):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        if learned:
            self.table = nn.Parameter(torch.randn(max_length, d_model) * 0.5**0.5)  # (max_length, d_model)
        else:
            self.register_buffer("table", sinusoidal_positional_encoding(max_length, d_model), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        max_length = self.table.size(0)
        if x.size(1) > max_length:
            raise ValueError(
                f"the sequence has {x.size(1)} positions but the positional table has only max_length={max_length}; "
                "build the model with a larger max_length or shorten the input"
            )
        return self.dropout(x + self.table[: x.size(1)].to(x.dtype))  # (batch, seq, d_model)


class TokenEmbedding(nn.Module):
    """Token ids ``(batch, seq)`` -> vectors ``(batch, seq, d_model)`` scaled by √d_model (§3.4).

    The scale makes the embeddings (initialised ~N(0, 1/d_model) here) as large as the positional
    encoding's entries, so that neither drowns the other in their sum.
    """

    def __init__(self, vocabulary_size: int, d_model: int, name: str = "tokens"):
        super().__init__()
        self.vocabulary_size, self.d_model, self.name = vocabulary_size, d_model, name
        self.embedding = nn.Embedding(vocabulary_size, d_model)
        nn.init.normal_(self.embedding.weight, std=d_model**-0.5)

    def forward(self, ids: Tensor) -> Tensor:
        check_shape(ids, (None, None), self.name, "(batch, seq) of token ids")
        if ids.is_floating_point() or ids.dtype == torch.bool:
            raise TypeError(f"{self.name} must hold integer token ids, got dtype {ids.dtype}; use ids.long()")
        check_token_ids(
            ids,
            self.vocabulary_size,
            f"{self.name} ids",
            hint="encode with the vocabulary the model was built for (source and target vocabularies are different)",
        )
        return self.embedding(ids) * math.sqrt(self.d_model)


class FeedForward(nn.Module):
    """FFN(x) = max(0, x W_1 + b_1) W_2 + b_2, applied to each position separately (§3.3)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)  # inside, as nn.TransformerEncoderLayer has it

    def forward(self, x: Tensor) -> Tensor:
        return self.linear2(self.dropout(F.relu(self.linear1(x))))  # (batch, seq, d_model)


class EncoderLayer(nn.Module):
    """Self-attention → add & norm → feed-forward → add & norm (post-norm, as in the paper)."""

    def __init__(
        self,
        *,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.1,
        norm_first: bool = False,
        d_k: int | None = None,
    ):
        super().__init__()
        self.self_attention = MultiHeadAttention(d_model, num_heads, dropout=dropout, d_k=d_k)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)  # on each sublayer's output, before the residual sum (§5.4)
        self.norm_first = norm_first

    def forward(
        self, x: Tensor, mask: Tensor | None = None, need_weights: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        """``x`` ``(batch, seq, d_model)``, ``mask`` e.g. the source's ``(batch, 1, 1, seq)``.

        Returns the new ``x`` and, with ``need_weights``, the attention weights ``(batch, heads, seq, seq)``.
        """
        if self.norm_first:  # pre-norm: x + Sublayer(LayerNorm(x))
            normed = self.norm1(x)
            attended, weights = self.self_attention(normed, normed, normed, mask, need_weights=need_weights)
            x = x + self.dropout(attended)
            return x + self.dropout(self.feed_forward(self.norm2(x))), weights
        attended, weights = self.self_attention(x, x, x, mask, need_weights=need_weights)  # (batch, seq, d_model)
        x = self.norm1(x + self.dropout(attended))  # add & norm: LayerNorm(x + Sublayer(x))
        x = self.norm2(x + self.dropout(self.feed_forward(x)))  # (batch, seq, d_model): add & norm again
        return x, weights

    @classmethod
    def from_pytorch(cls, layer: nn.TransformerEncoderLayer) -> EncoderLayer:
        """A copy of a ReLU ``nn.TransformerEncoderLayer``: weights, dtype, device, norm order and dropout."""
        _check_pytorch_layer(layer, nn.TransformerEncoderLayer)
        with _built_like(layer):
            ours = cls(**_sizes(layer))
            ours.self_attention = MultiHeadAttention.from_pytorch(layer.self_attn)
        _copy_feed_forward_and_norms(ours, layer, 2)
        return ours.train(layer.training)


class DecoderLayer(nn.Module):
    """Masked self-attention → add & norm → encoder-decoder attention → add & norm → feed-forward → add & norm."""

    def __init__(
        self,
        *,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.1,
        norm_first: bool = False,
        d_k: int | None = None,
    ):
        super().__init__()
        self.self_attention = MultiHeadAttention(d_model, num_heads, dropout=dropout, d_k=d_k)
        # queries: the decoder; keys and values: the encoder
        self.cross_attention = MultiHeadAttention(d_model, num_heads, dropout=dropout, d_k=d_k)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(
        self,
        x: Tensor,
        memory: Tensor,
        target_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """``x`` ``(batch, tgt_len, d_model)``; ``memory`` (the encoder's output) ``(batch, src_len, d_model)``.

        ``target_mask``: ``causal_mask(tgt_len)``; ``memory_mask``: the source's ``(batch, 1, 1, src_len)``.
        Returns ``x``, self-attention weights ``(batch, heads, tgt_len, tgt_len)`` and encoder-decoder weights
        ``(batch, heads, tgt_len, src_len)`` (``None`` without ``need_weights``).
        """
        if self.norm_first:
            normed = self.norm1(x)
            attended, self_weights = self.self_attention(normed, normed, normed, target_mask, need_weights)
            x = x + self.dropout(attended)
            attended, cross_weights = self.cross_attention(self.norm2(x), memory, memory, memory_mask, need_weights)
            x = x + self.dropout(attended)
            return x + self.dropout(self.feed_forward(self.norm3(x))), self_weights, cross_weights
        attended, self_weights = self.self_attention(x, x, x, target_mask, need_weights=need_weights)  # masked
        x = self.norm1(x + self.dropout(attended))  # (batch, tgt_len, d_model): add & norm
        # queries from the decoder, keys and values from the encoder: (batch, tgt_len, d_model)
        attended, cross_weights = self.cross_attention(x, memory, memory, memory_mask, need_weights=need_weights)
        x = self.norm2(x + self.dropout(attended))  # add & norm
        x = self.norm3(x + self.dropout(self.feed_forward(x)))  # (batch, tgt_len, d_model): add & norm
        return x, self_weights, cross_weights

    @classmethod
    def from_pytorch(cls, layer: nn.TransformerDecoderLayer) -> DecoderLayer:
        """A copy of a ReLU ``nn.TransformerDecoderLayer``: weights, dtype, device, norm order and dropout."""
        _check_pytorch_layer(layer, nn.TransformerDecoderLayer)
        with _built_like(layer):
            ours = cls(**_sizes(layer))
            ours.self_attention = MultiHeadAttention.from_pytorch(layer.self_attn)
            ours.cross_attention = MultiHeadAttention.from_pytorch(layer.multihead_attn)
        _copy_feed_forward_and_norms(ours, layer, 3)
        return ours.train(layer.training)


def _check_pytorch_layer(layer: nn.Module, kind: type) -> None:
    if not isinstance(layer, kind):
        raise TypeError(f"from_pytorch needs an {kind.__name__}, got {type(layer).__name__}")
    if layer.activation is not F.relu and not isinstance(layer.activation, nn.ReLU):
        raise ValueError("our feed-forward uses ReLU (the paper's): build the PyTorch layer with activation='relu'")
    if not layer.self_attn.batch_first:
        raise ValueError("our layout is batch first: build the PyTorch layer with batch_first=True")
    if layer.norm1.eps != 1e-5 or layer.linear1.bias is None:
        raise ValueError("our layers use LayerNorm eps=1e-5 and biases: build the PyTorch layer with the defaults")


def _sizes(layer: nn.Module) -> dict:
    return {
        "d_model": layer.self_attn.embed_dim,
        "num_heads": layer.self_attn.num_heads,
        "d_ff": layer.linear1.out_features,
        "dropout": layer.dropout.p,
        "norm_first": layer.norm_first,
    }


@contextlib.contextmanager
def _built_like(layer: nn.Module) -> Iterator[None]:
    """Create our parameters directly in the PyTorch layer's dtype, so that float64 weights are never rounded."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(layer.linear1.weight.dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _copy_feed_forward_and_norms(ours: nn.Module, theirs: nn.Module, norms: int) -> None:
    ours.to(theirs.linear1.weight.device)
    for name in ("linear1", "linear2"):
        getattr(ours.feed_forward, name).load_state_dict(getattr(theirs, name).state_dict())
    for index in range(1, norms + 1):
        getattr(ours, f"norm{index}").load_state_dict(getattr(theirs, f"norm{index}").state_dict())


class Encoder(nn.Module):
    """N encoder layers, one after the other; no extra LayerNorm at the end (the paper has none)."""

    def __init__(
        self,
        *,
        num_layers: int,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.1,
        norm_first: bool = False,
        d_k: int | None = None,
    ):
        super().__init__()
        self.layers = nn.ModuleList(
            EncoderLayer(
                d_model=d_model, num_heads=num_heads, d_ff=d_ff, dropout=dropout, norm_first=norm_first, d_k=d_k
            )
            for _ in range(num_layers)
        )

    def forward(self, x: Tensor, mask: Tensor | None = None, need_weights: bool = False) -> tuple[Tensor, list]:
        """Returns the encoder output ``(batch, src_len, d_model)`` and each layer's weights (or ``None``s)."""
        weights = []
        for layer in self.layers:
            x, layer_weights = layer(x, mask, need_weights)
            weights.append(layer_weights)
        return x, weights


class Decoder(nn.Module):
    """N decoder layers; no extra LayerNorm at the end."""

    def __init__(
        self,
        *,
        num_layers: int,
        d_model: int,
        num_heads: int,
        d_ff: int,
        dropout: float = 0.1,
        norm_first: bool = False,
        d_k: int | None = None,
    ):
        super().__init__()
        self.layers = nn.ModuleList(
            DecoderLayer(
                d_model=d_model, num_heads=num_heads, d_ff=d_ff, dropout=dropout, norm_first=norm_first, d_k=d_k
            )
            for _ in range(num_layers)
        )

    def forward(
        self,
        x: Tensor,
        memory: Tensor,
        target_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, list, list]:
        """Returns ``(batch, tgt_len, d_model)``, each layer's self- and encoder-decoder attention weights."""
        self_weights, cross_weights = [], []
        for layer in self.layers:
            x, layer_self, layer_cross = layer(x, memory, target_mask, memory_mask, need_weights)
            self_weights.append(layer_self)
            cross_weights.append(layer_cross)
        return x, self_weights, cross_weights


def _positional_encoding_kind(value: bool | str) -> str:
    """``True`` -> ``"sinusoidal"``, ``False`` -> ``"none"``; a name of :data:`POSITIONAL_ENCODINGS` as it is."""
    if isinstance(value, bool):
        return "sinusoidal" if value else "none"
    if value not in POSITIONAL_ENCODINGS:
        raise ValueError(f"positional_encoding must be True, False or one of {POSITIONAL_ENCODINGS}, got {value!r}")
    return value


class Transformer(nn.Module):
    """Embeddings + positions → encoder; shifted target → decoder; a linear generator to target logits.

    ``Transformer(source_vocabulary_size, target_vocabulary_size, num_layers=2, d_model=64, num_heads=4,
    d_ff=256, dropout=0.0)``. Sources may be padded anywhere with ``padding_id`` (found by value: left,
    middle or right padding is masked alike); the decoder input starts with ``<bos>`` and the model is
    trained to predict it shifted by one. ``positional_encoding``: ``"sinusoidal"`` (or ``True``, the paper's),
    ``"learned"`` (a trained table, Table 3 row E) or ``"none"`` (or ``False``: positions left out, an ablation).
    ``d_k``: each head's query and key size (``None``: d_model / num_heads; values keep d_model / num_heads).
    """

    def __init__(
        self,
        source_vocabulary_size: int,
        target_vocabulary_size: int,
        *,
        num_layers: int = 6,
        d_model: int = 512,
        num_heads: int = 8,
        d_ff: int = 2048,
        dropout: float = 0.1,
        padding_id: int = 0,
        max_length: int = 256,
        norm_first: bool = False,
        positional_encoding: bool | str = True,
        d_k: int | None = None,
    ):
        super().__init__()
        positions = _positional_encoding_kind(positional_encoding)
        sizes = {
            name: check_positive_int(value, name)
            for name, value in (
                ("source_vocabulary_size", source_vocabulary_size),
                ("target_vocabulary_size", target_vocabulary_size),
                ("num_layers", num_layers),
                ("d_model", d_model),
                ("num_heads", num_heads),
                ("d_ff", d_ff),
                ("max_length", max_length),
            )
        }
        check_probability(dropout, "dropout")
        if d_model % num_heads or d_model % 2:
            raise ValueError(
                f"d_model ({d_model}) must be even and divisible by num_heads ({num_heads}): each head "
                "gets d_model / num_heads features and the positional table sine/cosine pairs"
            )
        smallest = min(source_vocabulary_size, target_vocabulary_size)
        if isinstance(padding_id, bool) or not isinstance(padding_id, int) or not 0 <= padding_id < smallest:
            raise ValueError(
                f"padding_id must be an id of both vocabularies, in [0, {smallest}), got {padding_id!r}; "
                "put <pad> at the same id in both (Vocabulary puts it at 0)"
            )
        self.d_model, self.padding_id = d_model, padding_id
        self.source_embedding = TokenEmbedding(source_vocabulary_size, d_model, "source")
        self.target_embedding = TokenEmbedding(target_vocabulary_size, d_model, "target")
        self.positional_encoding = PositionalEncoding(d_model, max_length, dropout, learned=positions == "learned")
        if positions == "none":
            self.positional_encoding.table.zero_()  # order-blind: only the causal mask still tells positions apart
        layers = {key: sizes[key] for key in ("num_layers", "d_model", "num_heads", "d_ff")}
        self.encoder = Encoder(**layers, dropout=dropout, norm_first=norm_first, d_k=d_k)
        self.decoder = Decoder(**layers, dropout=dropout, norm_first=norm_first, d_k=d_k)
        # Pre-norm stacks leave their last residual sum unnormalised: each needs a final LayerNorm (PyTorch's).
        self.encoder_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.decoder_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.generator = nn.Linear(d_model, target_vocabulary_size)  # d_model -> logits over the target vocabulary

    def source_mask(self, source: Tensor) -> Tensor:
        """``(batch, 1, 1, src_len)``, True at real tokens: every position that is not ``padding_id``."""
        real = source != self.padding_id  # (batch, src_len): found by value, wherever the padding sits
        empty = (~real.any(dim=1)).nonzero().flatten().tolist() if source.size(1) else list(range(source.size(0)))
        if empty:
            raise ValueError(
                f"source rows {empty[:5]} hold no token but padding: there is nothing to translate; "
                "drop empty sources before encoding"
            )
        return real[:, None, None, :]

    def encode(self, source: Tensor, need_weights: bool = False) -> tuple[Tensor, Tensor, list]:
        """``source`` ``(batch, src_len)`` ids -> memory ``(batch, src_len, d_model)``, its mask, weights."""
        x = self.positional_encoding(self.source_embedding(source))  # checks the ids first
        mask = self.source_mask(source)
        memory, weights = self.encoder(x, mask, need_weights)
        return self.encoder_norm(memory), mask, weights

    def decode(
        self, target_in: Tensor, memory: Tensor, memory_mask: Tensor, need_weights: bool = False
    ) -> tuple[Tensor, list, list]:
        """Decoder input ids ``(batch, tgt_len)`` -> logits ``(batch, tgt_len, target_vocabulary)`` and weights."""
        if target_in.dim() == 2 and target_in.size(1) == 0:
            raise ValueError("target_in is empty (tgt_len 0): the decoder needs at least <bos> to read")
        x = self.positional_encoding(self.target_embedding(target_in))
        future = causal_mask(target_in.size(1), device=target_in.device)  # (tgt_len, tgt_len)
        x, self_weights, cross_weights = self.decoder(x, memory, future, memory_mask, need_weights)
        return self.generator(self.decoder_norm(x)), self_weights, cross_weights

    def forward(self, source: Tensor, target_in: Tensor) -> Tensor:
        """Teacher forcing: logits ``(batch, tgt_len, target_vocabulary)`` for every next target token at once."""
        check_shape(source, (None, None), "source", "(batch, src_len) of token ids")
        check_shape(target_in, (source.size(0), None), "target_in", "(batch, tgt_len) of token ids")
        memory, memory_mask, _ = self.encode(source)
        return self.decode(target_in, memory, memory_mask)[0]

    @torch.no_grad()
    def attention_maps(self, source: Tensor, target_in: Tensor) -> dict[str, list[Tensor]]:
        """All attention weights for one teacher-forced pass: ``encoder``, ``decoder`` (self-attention) and
        ``cross`` (encoder-decoder), one ``(batch, heads, q_len, k_len)`` per layer; the mode is restored."""
        with training_mode(self, False):
            memory, memory_mask, encoder_weights = self.encode(source, need_weights=True)
            _, self_weights, cross_weights = self.decode(target_in, memory, memory_mask, need_weights=True)
        return {"encoder": encoder_weights, "decoder": self_weights, "cross": cross_weights}
