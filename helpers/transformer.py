"""The Transformer encoder-decoder of Vaswani et al. (2017), "Attention Is All You Need", built from its parts.

    PE(pos, 2i) = sin(pos / 10000^(2i / d_model)),   PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))   (§3.5)
    sublayer output = LayerNorm(x + Dropout(Sublayer(x)))                                      (post-norm, §3.1, §5.4)
    FFN(x) = max(0, x W_1 + b_1) W_2 + b_2                                                                (§3.3)
    lr = d_model^-0.5 · min(step^-0.5, step · warmup^-1.5)                                                (§5.3)

Encoder layer: self-attention → add & norm → feed-forward → add & norm. Decoder layer: masked self-attention
→ add & norm → encoder-decoder attention → add & norm → feed-forward → add & norm. The stacks end with the
last layer's LayerNorm, as in the paper: ``nn.Transformer`` adds one more LayerNorm after each stack (a
habit of pre-norm models); our layers equal ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer``
with ``norm_first=False``, and our stacks equal ``nn.TransformerEncoder`` / ``nn.TransformerDecoder`` built
with ``norm=None``.

Attention and masks come from :mod:`helpers.attention` (boolean masks, True = may attend). Layout is batch
first: ``(batch, seq, d_model)``. Also here: the date-normalisation task of notebook 05, generated with the
standard library from a small table of Unicode CLDR date patterns and month/weekday names.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from datetime import date, timedelta

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention import MultiHeadAttention, causal_mask, padding_mask
from .core import check_positive_int, check_probability, check_shape, check_token_ids

__all__ = [
    "DATE_FORMATS",
    "Decoder",
    "DecoderLayer",
    "Encoder",
    "EncoderLayer",
    "FeedForward",
    "PositionalEncoding",
    "TokenEmbedding",
    "Transformer",
    "date_examples",
    "format_date",
    "greedy_decode",
    "label_smoothed_cross_entropy",
    "sinusoidal_positional_encoding",
    "split_dates",
    "transformer_learning_rate",
    "warmup_scheduler",
]


# --- positions and tokens -----------------------------------------------------------------------


def sinusoidal_positional_encoding(max_len: int, d_model: int) -> Tensor:
    """The ``(max_len, d_model)`` table of §3.5: sines in even columns, cosines in odd ones.

    Column pair i oscillates with wavelength 2π · 10000^(2i/d_model): from 2π (fast) to 20000π (slow), so
    every position gets a distinct pattern and PE(pos + k) is a linear function (a rotation) of PE(pos).
    """
    max_len, d_model = check_positive_int(max_len, "max_len"), check_positive_int(d_model, "d_model")
    if d_model % 2:
        raise ValueError(f"d_model must be even (sine/cosine pairs), got {d_model}")
    position = torch.arange(max_len, dtype=torch.float32)[:, None]  # (max_len, 1)
    frequency = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(position * frequency)  # (max_len, d_model / 2)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal table to ``x`` ``(batch, seq, d_model)``, then dropout (§5.4)."""

    def __init__(self, d_model: int, max_len: int = 256, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(check_probability(dropout, "dropout"))
        self.register_buffer("table", sinusoidal_positional_encoding(max_len, d_model), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        max_len, d_model = self.table.shape
        check_shape(x, (None, None, d_model), "x", "(batch, seq, d_model)")
        if x.size(1) > max_len:
            raise ValueError(
                f"the sequence has {x.size(1)} positions but the positional table has only max_len={max_len}; "
                "build the model with a larger max_len or shorten the input"
            )
        return self.dropout(x + self.table[: x.size(1)])  # (batch, seq, d_model)


class TokenEmbedding(nn.Module):
    """Token ids ``(batch, seq)`` -> vectors ``(batch, seq, d_model)`` scaled by √d_model (§3.4).

    The scale makes the embeddings (initialised ~N(0, 1/d_model) here) as large as the positional
    encoding's entries, so that neither drowns the other in their sum.
    """

    def __init__(self, vocab_size: int, d_model: int, name: str = "tokens"):
        super().__init__()
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.d_model = check_positive_int(d_model, "d_model")
        self.name = name
        self.embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embedding.weight, std=d_model**-0.5)

    def forward(self, ids: Tensor) -> Tensor:
        check_shape(ids, (None, None), self.name, "(batch, seq) of token ids")
        if ids.is_floating_point():
            raise ValueError(f"{self.name} must hold integer token ids, got dtype {ids.dtype}")
        check_token_ids(ids, self.vocab_size, f"{self.name} ids", hint="encode with the vocabulary the model was "
                        "built for (source and target vocabularies are different)")
        return self.embedding(ids) * math.sqrt(self.d_model)


# --- layers -------------------------------------------------------------------------------------


class FeedForward(nn.Module):
    """FFN(x) = max(0, x W_1 + b_1) W_2 + b_2, applied to each position separately (§3.3)."""

    def __init__(self, d_model: int, d_ff: int):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear2(F.relu(self.linear1(x)))  # (batch, seq, d_model)


def _check_layer_sizes(d_model: int, num_heads: int, d_ff: int, dropout: float) -> None:
    for value, name in ((d_model, "d_model"), (num_heads, "num_heads"), (d_ff, "d_ff")):
        check_positive_int(value, name)
    check_probability(dropout, "dropout")


class EncoderLayer(nn.Module):
    """Self-attention → add & norm → feed-forward → add & norm (post-norm, as in the paper)."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1):
        super().__init__()
        _check_layer_sizes(d_model, num_heads, d_ff, dropout)
        self.self_attention = MultiHeadAttention(d_model, num_heads)
        self.feed_forward = FeedForward(d_model, d_ff)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)  # on each sublayer's output, before the residual sum (§5.4)

    def forward(
        self, x: Tensor, mask: Tensor | None = None, need_weights: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        """``x`` ``(batch, seq, d_model)``, ``mask`` e.g. ``padding_mask`` ``(batch, 1, 1, seq)``.

        Returns the new ``x`` and, with ``need_weights``, the attention weights ``(batch, heads, seq, seq)``
        (without, the fused attention kernel runs and the weights are ``None``).
        """
        attended, weights = self.self_attention(x, x, x, mask, need_weights=need_weights)
        x = self.norm1(x + self.dropout(attended))
        x = self.norm2(x + self.dropout(self.feed_forward(x)))
        return x, weights

    @classmethod
    def from_pytorch(cls, layer: nn.TransformerEncoderLayer) -> EncoderLayer:
        """A copy of a post-norm, ReLU ``nn.TransformerEncoderLayer`` (its dropout is taken over too)."""
        _check_pytorch_layer(layer, nn.TransformerEncoderLayer)
        attention = layer.self_attn
        ours = cls(attention.embed_dim, attention.num_heads, layer.linear1.out_features, layer.dropout.p)
        ours.self_attention = MultiHeadAttention.from_pytorch(attention)
        _copy_feed_forward_and_norms(ours, layer, 2)
        return ours


class DecoderLayer(nn.Module):
    """Masked self-attention → add & norm → encoder-decoder attention → add & norm → feed-forward → add & norm."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1):
        super().__init__()
        _check_layer_sizes(d_model, num_heads, d_ff, dropout)
        self.self_attention = MultiHeadAttention(d_model, num_heads)
        self.cross_attention = MultiHeadAttention(d_model, num_heads)  # queries: decoder; keys/values: encoder
        self.feed_forward = FeedForward(d_model, d_ff)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x: Tensor,
        memory: Tensor,
        target_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """``x`` ``(batch, tgt_len, d_model)``; ``memory`` (the encoder's output) ``(batch, src_len, d_model)``.

        ``target_mask``: ``causal_mask(tgt_len)`` (position t sees positions ≤ t); ``memory_mask``: the source's
        ``padding_mask`` ``(batch, 1, 1, src_len)``. Returns ``x``, self-attention weights
        ``(batch, heads, tgt_len, tgt_len)`` and encoder-decoder weights ``(batch, heads, tgt_len, src_len)``.
        """
        attended, self_weights = self.self_attention(x, x, x, target_mask, need_weights=need_weights)
        x = self.norm1(x + self.dropout(attended))
        attended, cross_weights = self.cross_attention(x, memory, memory, memory_mask, need_weights=need_weights)
        x = self.norm2(x + self.dropout(attended))
        x = self.norm3(x + self.dropout(self.feed_forward(x)))
        return x, self_weights, cross_weights

    @classmethod
    def from_pytorch(cls, layer: nn.TransformerDecoderLayer) -> DecoderLayer:
        """A copy of a post-norm, ReLU ``nn.TransformerDecoderLayer``."""
        _check_pytorch_layer(layer, nn.TransformerDecoderLayer)
        attention = layer.self_attn
        ours = cls(attention.embed_dim, attention.num_heads, layer.linear1.out_features, layer.dropout.p)
        ours.self_attention = MultiHeadAttention.from_pytorch(attention)
        ours.cross_attention = MultiHeadAttention.from_pytorch(layer.multihead_attn)
        _copy_feed_forward_and_norms(ours, layer, 3)
        return ours


def _check_pytorch_layer(layer: nn.Module, kind: type) -> None:
    if not isinstance(layer, kind):
        raise TypeError(f"from_pytorch needs an {kind.__name__}, got {type(layer).__name__}")
    if layer.norm_first:
        raise ValueError("our layers are post-norm (the paper's order): build the PyTorch layer with norm_first=False")
    if layer.activation is not F.relu and not isinstance(layer.activation, nn.ReLU):
        raise ValueError("our feed-forward uses ReLU (the paper's): build the PyTorch layer with activation='relu'")
    if not layer.self_attn.batch_first:
        raise ValueError("our layout is batch first: build the PyTorch layer with batch_first=True")


def _copy_feed_forward_and_norms(ours: nn.Module, theirs: nn.Module, norms: int) -> None:
    with torch.no_grad():
        for name in ("linear1", "linear2"):
            getattr(ours.feed_forward, name).load_state_dict(getattr(theirs, name).state_dict())
        for index in range(1, norms + 1):
            getattr(ours, f"norm{index}").load_state_dict(getattr(theirs, f"norm{index}").state_dict())


# --- stacks and the model -----------------------------------------------------------------------


class Encoder(nn.Module):
    """N encoder layers, one after the other; no extra LayerNorm at the end (the paper has none)."""

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1):
        super().__init__()
        check_positive_int(num_layers, "num_layers")
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))

    def forward(self, x: Tensor, mask: Tensor | None = None, need_weights: bool = False) -> tuple[Tensor, list]:
        """Returns the encoder output ``(batch, src_len, d_model)`` and each layer's weights (or ``None``s)."""
        weights = []
        for layer in self.layers:
            x, layer_weights = layer(x, mask, need_weights)
            weights.append(layer_weights)
        return x, weights


class Decoder(nn.Module):
    """N decoder layers; no extra LayerNorm at the end."""

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1):
        super().__init__()
        check_positive_int(num_layers, "num_layers")
        self.layers = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))

    def forward(
        self, x: Tensor, memory: Tensor, target_mask: Tensor | None = None, memory_mask: Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, list, list]:
        """Returns ``(batch, tgt_len, d_model)``, each layer's self- and encoder-decoder attention weights."""
        self_weights, cross_weights = [], []
        for layer in self.layers:
            x, layer_self, layer_cross = layer(x, memory, target_mask, memory_mask, need_weights)
            self_weights.append(layer_self)
            cross_weights.append(layer_cross)
        return x, self_weights, cross_weights


class Transformer(nn.Module):
    """Embeddings + positions → encoder; shifted target → decoder; a linear generator to target logits.

    Sequences are right-padded with ``pad_id``; masks are derived from it: the source's ``padding_mask``
    (for encoder self-attention and encoder-decoder attention) and ``causal_mask`` in the decoder. The
    decoder input starts with ``<bos>``; the model is trained to predict it shifted by one.
    """

    def __init__(
        self,
        source_vocab_size: int,
        target_vocab_size: int,
        d_model: int = 512,
        num_heads: int = 8,
        num_layers: int = 6,
        d_ff: int = 2048,
        dropout: float = 0.1,
        max_len: int = 256,
        pad_id: int = 0,
    ):
        super().__init__()
        self.d_model, self.pad_id = d_model, pad_id
        self.source_embedding = TokenEmbedding(source_vocab_size, d_model, "source")
        self.target_embedding = TokenEmbedding(target_vocab_size, d_model, "target")
        self.positional_encoding = PositionalEncoding(d_model, max_len, dropout)
        self.encoder = Encoder(num_layers, d_model, num_heads, d_ff, dropout)
        self.decoder = Decoder(num_layers, d_model, num_heads, d_ff, dropout)
        self.generator = nn.Linear(d_model, target_vocab_size)  # d_model -> logits over the target vocabulary

    def source_mask(self, source: Tensor) -> Tensor:
        """``(batch, 1, 1, src_len)``, True at real tokens (right padding assumed)."""
        lengths = (source != self.pad_id).sum(dim=1)
        return padding_mask(lengths, max_len=source.size(1))

    def encode(self, source: Tensor, need_weights: bool = False) -> tuple[Tensor, Tensor, list]:
        """``source`` ``(batch, src_len)`` ids -> memory ``(batch, src_len, d_model)``, its mask, weights."""
        mask = self.source_mask(source)
        memory, weights = self.encoder(self.positional_encoding(self.source_embedding(source)), mask, need_weights)
        return memory, mask, weights

    def decode(
        self, target_in: Tensor, memory: Tensor, memory_mask: Tensor, need_weights: bool = False
    ) -> tuple[Tensor, list, list]:
        """Decoder input ids ``(batch, tgt_len)`` -> logits ``(batch, tgt_len, target_vocab)`` and weights."""
        x = self.positional_encoding(self.target_embedding(target_in))
        future = causal_mask(target_in.size(1), device=target_in.device)  # (tgt_len, tgt_len)
        x, self_weights, cross_weights = self.decoder(x, memory, future, memory_mask, need_weights)
        return self.generator(x), self_weights, cross_weights

    def forward(self, source: Tensor, target_in: Tensor) -> Tensor:
        """Teacher forcing: logits ``(batch, tgt_len, target_vocab)`` for every next target token at once."""
        check_shape(target_in, (source.size(0) if source.dim() else None, None), "target_in", "(batch, tgt_len)")
        memory, memory_mask, _ = self.encode(source)
        return self.decode(target_in, memory, memory_mask)[0]

    @torch.no_grad()
    def attention_maps(self, source: Tensor, target_in: Tensor) -> dict[str, list[Tensor]]:
        """All attention weights for one teacher-forced pass (evaluation mode): ``encoder``, ``decoder``
        (self-attention) and ``cross`` (encoder-decoder), one ``(batch, heads, q_len, k_len)`` per layer."""
        memory, memory_mask, encoder_weights = self.encode(source, need_weights=True)
        _, self_weights, cross_weights = self.decode(target_in, memory, memory_mask, need_weights=True)
        return {"encoder": encoder_weights, "decoder": self_weights, "cross": cross_weights}


@torch.no_grad()
def greedy_decode(model: Transformer, source: Tensor, max_len: int, bos_id: int, eos_id: int) -> Tensor:
    """Generate target ids one token at a time, always taking the most likely next token.

    ``source`` ``(batch, src_len)`` -> ``(batch, ≤ max_len)`` ids, without ``<bos>``; a sequence that has
    produced ``<eos>`` is padded with ``model.pad_id`` until all are done. The encoder runs once; the
    decoder re-reads its whole prefix at every step (simple, and cheap for short outputs).
    """
    check_positive_int(max_len, "max_len")
    model.eval()
    memory, memory_mask, _ = model.encode(source)
    generated = torch.full((source.size(0), 1), bos_id, dtype=torch.long, device=source.device)
    finished = torch.zeros(source.size(0), dtype=torch.bool, device=source.device)
    for _ in range(max_len):
        logits = model.decode(generated, memory, memory_mask)[0][:, -1]  # (batch, target_vocab): the next token
        next_token = logits.argmax(dim=-1).masked_fill(finished, model.pad_id)
        generated = torch.cat([generated, next_token[:, None]], dim=1)
        finished |= next_token == eos_id
        if bool(finished.all()):
            break
    return generated[:, 1:]


# --- training: loss and schedule ----------------------------------------------------------------


def label_smoothed_cross_entropy(
    logits: Tensor, targets: Tensor, smoothing: float = 0.1, ignore_index: int | None = 0
) -> Tensor:
    """Cross-entropy against (1 - ε) · one-hot + ε / K (§5.4), averaged over the non-padding tokens.

    ``logits`` ``(..., K)``, ``targets`` ``(...)``. Equals ``F.cross_entropy(..., label_smoothing=ε,
    ignore_index=...)``. The model is paid to keep some probability on every class: it becomes less sure,
    which "hurts perplexity ... but improves accuracy and BLEU" (the paper).
    """
    check_probability(smoothing, "smoothing")
    if logits.shape[:-1] != targets.shape:
        raise ValueError(
            f"logits (..., K) and targets (...) must agree on the leading axes; got logits {tuple(logits.shape)} "
            f"and targets {tuple(targets.shape)}"
        )
    log_probs = logits.log_softmax(dim=-1)  # (..., K)
    nll = -log_probs.gather(-1, targets.clamp(min=0)[..., None]).squeeze(-1)  # -log p(true class)
    uniform = -log_probs.mean(dim=-1)  # cross-entropy against the uniform distribution 1/K
    losses = (1.0 - smoothing) * nll + smoothing * uniform
    keep = targets != ignore_index if ignore_index is not None else torch.ones_like(targets, dtype=torch.bool)
    if not bool(keep.any()):
        raise ValueError("every target is the ignore_index (padding): there is no token to compute a loss on")
    return losses[keep].mean()


def transformer_learning_rate(step: int, d_model: int, warmup: int) -> float:
    """lr = d_model^-0.5 · min(step^-0.5, step · warmup^-1.5): linear warm-up, then ∝ 1/√step (§5.3)."""
    step = check_positive_int(step, "step (1-based)")
    check_positive_int(d_model, "d_model")
    check_positive_int(warmup, "warmup")
    return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


def warmup_scheduler(
    optimizer: torch.optim.Optimizer, d_model: int, warmup: int, factor: float = 1.0
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` that sets ``lr = factor · transformer_learning_rate(step)``; call ``.step()`` after each
    optimiser step. The optimiser's own lr is overwritten (LambdaLR multiplies it: build it with ``lr=1``)."""
    for group in optimizer.param_groups:
        group["initial_lr"] = 1.0
    # LambdaLR counts from 0; the paper's first step is step 1.
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda index: factor * transformer_learning_rate(index + 1, d_model, warmup)
    )


# --- the task: dates as real locales write them, normalised to ISO 8601 -------------------------

# Unicode CLDR (v46, as shipped by babel 2.18) date patterns and names, copied by hand; the Unicode licence
# allows it. Left out: fr_FR short (= en_GB short) and es_ES short ("d/M/yy", which would make "5/3/99"
# mean both 3 May and 5 March next to en_US "M/d/yy"): every text must name exactly one date.
_NAMES = {
    "en_US": (
        "January February March April May June July August September October November December".split(),
        "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
    ),
    "de_DE": (
        "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split(),
        "Jan. Feb. März Apr. Mai Juni Juli Aug. Sept. Okt. Nov. Dez.".split(),
        "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag".split(),
    ),
    "fr_FR": (
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
        "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split(),
        "lundi mardi mercredi jeudi vendredi samedi dimanche".split(),
    ),
    "es_ES": (
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
        "ene feb mar abr may jun jul ago sept oct nov dic".split(),
        "lunes martes miércoles jueves viernes sábado domingo".split(),
    ),
    "ja_JP": ([f"{m}月" for m in range(1, 13)], [f"{m}月" for m in range(1, 13)], list("月火水木金土日")),
    "ko_KR": ([f"{m}월" for m in range(1, 13)], [f"{m}월" for m in range(1, 13)], list("월화수목금토일")),
}
_NAMES["ja_JP"] = (*_NAMES["ja_JP"][:2], [f"{day}曜日" for day in _NAMES["ja_JP"][2]])
_NAMES["ko_KR"] = (*_NAMES["ko_KR"][:2], [f"{day}요일" for day in _NAMES["ko_KR"][2]])
_NAMES["en_GB"] = (_NAMES["en_US"][0], [*_NAMES["en_US"][1][:8], "Sept", *_NAMES["en_US"][1][9:]], _NAMES["en_US"][2])

DATE_FORMATS: dict[str, str] = {
    "en_US full": "EEEE, MMMM d, y", "en_US long": "MMMM d, y", "en_US medium": "MMM d, y", "en_US short": "M/d/yy",
    "en_GB full": "EEEE, d MMMM y", "en_GB long": "d MMMM y", "en_GB medium": "d MMM y", "en_GB short": "dd/MM/y",
    "de_DE full": "EEEE, d. MMMM y", "de_DE long": "d. MMMM y", "de_DE medium": "dd.MM.y", "de_DE short": "dd.MM.yy",
    "fr_FR full": "EEEE d MMMM y", "fr_FR long": "d MMMM y", "fr_FR medium": "d MMM y",
    "es_ES full": "EEEE, d 'de' MMMM 'de' y", "es_ES long": "d 'de' MMMM 'de' y", "es_ES medium": "d MMM y",
    "ja_JP full": "y年M月d日EEEE", "ja_JP long": "y年M月d日", "ja_JP medium": "y/MM/dd",
    "ko_KR full": "y년 MMMM d일 EEEE", "ko_KR long": "y년 MMMM d일",
    "ko_KR medium": "y. M. d.", "ko_KR short": "yy. M. d.",
}
# Two-digit years ("yy") are read as Python's strptime reads %y: 69-99 -> 1969-1999, 00-68 -> 2000-2068.
# The task's dates stay inside that window, so that every text names exactly one date.
FIRST_DATE, LAST_DATE = date(1969, 1, 1), date(2068, 12, 31)
_FIELD = re.compile(r"'[^']*'|y+|M+|d+|E+|.")


def format_date(day: date, format_name: str) -> str:
    """``format_date(date(2026, 11, 24), "de_DE full")`` -> ``"Dienstag, 24. November 2026"``."""
    if format_name not in DATE_FORMATS:
        raise ValueError(f"unknown date format {format_name!r}; known: {list(DATE_FORMATS)}")
    months, short_months, weekdays = _NAMES[format_name.split()[0]]
    fields = {
        "y": str(day.year), "yy": f"{day.year % 100:02d}", "M": str(day.month), "MM": f"{day.month:02d}",
        "MMM": short_months[day.month - 1], "MMMM": months[day.month - 1], "d": str(day.day),
        "dd": f"{day.day:02d}", "EEEE": weekdays[day.weekday()],
    }
    parts = []
    for token in _FIELD.findall(DATE_FORMATS[format_name]):
        parts.append(token[1:-1] if token.startswith("'") else fields.get(token, token))
    return "".join(parts)


def split_dates(validation: int = 1000, test: int = 2000, seed: int = 0) -> dict[str, list[date]]:
    """Every day from 1969-01-01 to 2068-12-31, shuffled and cut into ``train`` / ``validation`` / ``test``.

    The cut is by *date*: a held-out day never appears in training, in any format.
    """
    days = [FIRST_DATE + timedelta(days=offset) for offset in range((LAST_DATE - FIRST_DATE).days + 1)]
    if validation + test >= len(days):
        raise ValueError(f"validation + test ({validation + test}) must leave training days out of {len(days)}")
    random.Random(seed).shuffle(days)
    return {"validation": days[:validation], "test": days[validation : validation + test],
            "train": days[validation + test :]}


def date_examples(
    days: Sequence[date], formats: Sequence[str] | None = None, seed: int = 0
) -> list[tuple[str, str, str]]:
    """One ``(text, ISO date, format name)`` per day, the format drawn at random (with ``seed``) from ``formats``."""
    formats = list(DATE_FORMATS) if formats is None else list(formats)
    rng = random.Random(seed)
    examples = []
    for day in days:
        name = rng.choice(formats)
        examples.append((format_date(day, name), day.isoformat(), name))
    return examples
