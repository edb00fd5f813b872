"""A convolutional network for sentence classification: Kim (2014), "Convolutional Neural Networks for
Sentence Classification" (EMNLP 2014).

A sentence of n words becomes an (n, k) matrix of word vectors x_1..x_n. A filter w of width h words
slides over it and gives one feature per window (eq. 2), max-over-time pooling keeps the largest one
(eq. 3), and a softmax layer reads the pooled features through dropout (eq. 4-5):

    c_i = ReLU(w · x_{i:i+h-1} + b)          ĉ = max_i c_i          y = softmax(W (z ∘ r) + b),  r ~ Bernoulli(p)

Windows of 3, 4 and 5 words with 100 filters each, dropout p = 0.5 and a max-norm constraint
‖W_c‖₂ ≤ s = 3 on each class's weight vector of the last layer. The variants of the paper's Table 2:

- ``rand``: word vectors start random and are trained;
- ``static``: pretrained word2vec vectors, frozen;
- ``non-static``: pretrained vectors, fine-tuned;
- ``multichannel``: two copies of the pretrained vectors, one frozen and one fine-tuned. Every filter
  reads both channels and adds the results, which is one convolution over the two copies concatenated.

Padding follows Kim's code: h_max − 1 padding words on each side of a sentence, so that every word is
the first and the last word of some window. Windows that hold no real word are left out of the max,
so a sentence's prediction does not depend on how long the other sentences of its batch are.

``pooling="mean"`` replaces eq. 3 by the mean over the sentence's windows, for the ablation.

Also here: the embedding matrix built from pretrained vectors, and tools to read what filters learned.
The learner's path (files, folds, training) is :mod:`helpers.text_cnn.text_classification`; the linear
baselines are :mod:`helpers.text_cnn.linear_baselines`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from helpers.core import (
    check_choice,
    check_positive_int,
    check_probability,
    check_shape,
    check_token_ids,
    model_device,
    torch_generator,
    training_mode,
)
from helpers.data.text import Vocabulary, pad_batch, tokenize

__all__ = [
    "MODES",
    "POOLINGS",
    "TextCNN",
    "TextCNNTrace",
    "apply_max_norm_",
    "confusion_matrix",
    "embedding_matrix",
    "max_over_time",
    "predict_probabilities",
    "top_ngrams",
    "window_has_word",
]

MODES = ("rand", "static", "non-static", "multichannel")
POOLINGS = ("max", "mean")


def _check_ids(ids: object, vocabulary_size: int, padding_id: int) -> torch.Tensor:
    """Word ids ``(batch, seq)``: int64, inside the vocabulary, at least one word per sentence."""
    check_shape(ids, (None, None), "ids", "(batch, seq)")
    if ids.dtype != torch.int64:
        raise TypeError(f"ids must be int64 word ids (from Vocabulary.encode), got dtype {ids.dtype}")
    if ids.numel() == 0:
        raise ValueError(f"ids is empty, shape {tuple(ids.shape)}: give at least one sentence of at least one word")
    check_token_ids(
        ids, vocabulary_size, hint="encode sentences with the model's vocabulary (unknown words map to <unk>)"
    )
    empty = (ids == padding_id).all(dim=1)
    if bool(empty.any()):
        raise ValueError(
            f"sentence {int(empty.nonzero()[0])} of the batch has no words (only padding); "
            "an empty sentence has nothing to classify"
        )
    return ids


def window_has_word(is_word: torch.Tensor, window: int) -> torch.Tensor:
    """``(batch, seq)`` bool -> ``(batch, seq - window + 1)`` bool: does window i hold a real word?"""
    check_shape(is_word, (None, None), "is_word", "(batch, seq)")
    # A max over each window of the 0/1 word indicator: 1 if any word is inside.
    return F.max_pool1d(is_word.float().unsqueeze(1), window, stride=1).squeeze(1) > 0


def max_over_time(features: torch.Tensor, valid: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 3: ĉ = max_i c_i for every feature map. ``(batch, maps, windows)`` -> values and positions ``(batch, maps)``.

    ``valid`` ``(batch, windows)`` marks the windows that may win (those holding a real word).
    """
    check_shape(features, (None, None, None), "features", "(batch, maps, windows)")
    if valid is not None:
        check_shape(valid, (features.shape[0], features.shape[2]), "valid", "(batch, windows)")
        features = features.masked_fill(~valid.unsqueeze(1), -math.inf)
    values, positions = features.max(dim=2)  # (batch, maps) each
    return values, positions


@torch.no_grad()
def apply_max_norm_(weight: torch.Tensor, max_norm: float = 3.0) -> torch.Tensor:
    """Kim's constraint: rescale each row w_c (one class's weights) with ‖w_c‖₂ > s back to norm s, in place."""
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}")
    norms = weight.norm(dim=1, keepdim=True)  # (classes, 1)
    weight.mul_(torch.clamp(max_norm / norms.clamp_min(1e-12), max=1.0))
    return weight


@dataclass
class TextCNNTrace:
    """Every intermediate tensor of one forward pass, for the walk-through and the filter analysis."""

    padded_ids: torch.Tensor  # (batch, pad + seq + pad)
    embedded: torch.Tensor  # (batch, channels * k, padded seq): word vectors as Conv1d channels
    feature_maps: list[torch.Tensor]  # per window size: (batch, maps, padded seq - h + 1), after ReLU
    pooled: list[torch.Tensor]  # per window size: (batch, maps)
    winners: list[torch.Tensor]  # per window size: (batch, maps) index of the winning window in padded_ids
    features: torch.Tensor  # (batch, windows * maps), the penultimate layer z
    logits: torch.Tensor  # (batch, classes)


class TextCNN(nn.Module):
    """Kim (2014)'s CNN: embeddings -> convolutions of widths 3/4/5 + ReLU -> max over time -> dropout -> linear.

    ``mode`` is one of ``"rand"``, ``"static"``, ``"non-static"``, ``"multichannel"``; all but
    ``"rand"`` need ``pretrained`` ``(vocabulary_size, embedding_dim)`` vectors. The defaults are the
    settings notebook 02 reports: 50-d vectors and 50 maps per width (Kim's: 300-d and 100), small
    enough for 10-fold cross-validation on a laptop CPU. ``sparse_gradients``: the tuned table's gradient
    holds only the rows a batch used (for ``torch.optim.SparseAdam``; a step then costs the same for a
    table of 10,000 words or of 20,000).
    """

    def __init__(
        self,
        vocabulary_size: int,
        *,
        num_classes: int = 2,
        embedding_dim: int = 50,
        mode: str = "rand",
        pretrained: torch.Tensor | None = None,
        window_sizes: Sequence[int] = (3, 4, 5),
        feature_maps: int = 50,
        dropout: float = 0.5,
        pooling: str = "max",
        padding_id: int = 0,
        sparse_gradients: bool = False,
    ):
        super().__init__()
        self.vocabulary_size = check_positive_int(vocabulary_size, "vocabulary_size")
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
        check_choice(mode, MODES, "mode")
        check_choice(pooling, POOLINGS, "pooling")
        if isinstance(window_sizes, int) or not window_sizes:
            raise ValueError(f"window_sizes must be a sequence of filter widths, e.g. (3, 4, 5), got {window_sizes!r}")
        self.window_sizes = tuple(check_positive_int(h, "each window size") for h in window_sizes)
        self.feature_maps = check_positive_int(feature_maps, "feature_maps")
        self.num_classes = check_positive_int(num_classes, "num_classes")
        check_probability(dropout, "dropout")
        if isinstance(padding_id, bool) or not isinstance(padding_id, int) or not 0 <= padding_id < vocabulary_size:
            raise ValueError(f"padding_id must be an id in [0, {vocabulary_size}), got {padding_id!r}")
        self.mode, self.pooling, self.padding_id = mode, pooling, padding_id
        if mode == "rand":
            if pretrained is not None:
                raise ValueError("mode 'rand' starts from random vectors; pass pretrained= only to the other modes")
            vectors = torch.empty(vocabulary_size, embedding_dim).uniform_(-0.25, 0.25)  # Kim's range
        else:
            if pretrained is None:
                raise ValueError(f"mode {mode!r} needs pretrained= vectors of shape (vocabulary_size, embedding_dim)")
            vectors = (
                check_shape(
                    pretrained, (vocabulary_size, embedding_dim), "pretrained", "(vocabulary_size, embedding_dim)"
                )
                .detach()
                .float()
                .clone()
            )
        vectors[padding_id] = 0.0  # padding reads as a zero vector, as in Kim's code
        # The tuned table (absent in "static") and the frozen one (only "static" and "multichannel").
        self.embedding = (
            None
            if mode == "static"
            else nn.Embedding.from_pretrained(
                vectors.clone(), freeze=False, padding_idx=padding_id, sparse=sparse_gradients
            )
        )
        self.static_embedding = (
            nn.Embedding.from_pretrained(vectors.clone(), freeze=True, padding_idx=padding_id)
            if mode in ("static", "multichannel")
            else None
        )
        channels = 2 if mode == "multichannel" else 1
        # Conv1d over channels * k input channels: one filter w ∈ R^{h×k} per channel, results summed.
        self.convolutions = nn.ModuleList(
            nn.Conv1d(channels * embedding_dim, feature_maps, kernel_size=h) for h in self.window_sizes
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(len(self.window_sizes) * feature_maps, num_classes)

    def _embed(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Padded ids ``(batch, pad + seq + pad)``, word vectors ``(batch, channels * k, padded seq)``, is-word mask."""
        pad = max(self.window_sizes) - 1
        padded = F.pad(ids, (pad, pad), value=self.padding_id)  # (batch, pad + seq + pad)
        tables = [table for table in (self.static_embedding, self.embedding) if table is not None]
        embedded = torch.cat([table(padded) for table in tables], dim=2)  # (batch, padded seq, channels * k)
        return padded, embedded.transpose(1, 2), padded != self.padding_id  # Conv1d wants channels first

    def trace(self, ids: torch.Tensor) -> TextCNNTrace:
        """The forward pass with every intermediate result (see :class:`TextCNNTrace`)."""
        _check_ids(ids, self.vocabulary_size, self.padding_id)
        padded, embedded, is_word = self._embed(ids)
        feature_maps, pooled, winners = [], [], []
        for h, convolution in zip(self.window_sizes, self.convolutions):
            c = F.relu(convolution(embedded))  # (batch, maps, padded seq - h + 1), eq. 2
            valid = window_has_word(is_word, h)  # (batch, windows)
            values, positions = max_over_time(c, valid)  # (batch, maps), eq. 3
            if self.pooling == "mean":
                values = (c * valid.unsqueeze(1)).sum(2) / valid.sum(1, keepdim=True)  # (batch, maps)
            feature_maps.append(c)
            pooled.append(values)
            winners.append(positions)
        features = torch.cat(pooled, dim=1)  # (batch, windows * maps)
        logits = self.classifier(self.dropout(features))  # (batch, classes); dropout only in training
        return TextCNNTrace(padded, embedded, feature_maps, pooled, winners, features, logits)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Word ids ``(batch, seq)`` (``padding_id`` after the end) -> logits ``(batch, classes)``."""
        return self.trace(ids).logits

    largest_class_norm: float = 0.0  # the largest ‖w_c‖₂ apply_max_norm has met: above max_norm, it rescaled

    def apply_max_norm(self, max_norm: float = 3.0) -> None:
        """Kim's constraint on the softmax layer; call after each optimiser step."""
        self.largest_class_norm = max(self.largest_class_norm, float(self.classifier.weight.detach().norm(dim=1).max()))
        apply_max_norm_(self.classifier.weight, max_norm)


# --- data ---------------------------------------------------------------------------------------


def embedding_matrix(
    vocabulary: Vocabulary, pretrained: dict[str, torch.Tensor] | object, embedding_dim: int, *, seed: int = 0
) -> tuple[torch.Tensor, int]:
    """Rows for ``vocabulary`` from pretrained vectors; words without one get U[−a, a] (Kim's recipe).

    ``pretrained`` maps word -> vector (a dict, or anything with ``__contains__`` and ``vector(word)``
    such as :class:`helpers.word_embeddings.word_vectors.WordVectors`). ``a`` is chosen so that the random rows have the
    same variance as the pretrained ones (Var U[−a, a] = a²/3). Returns the matrix and how many words
    were found.
    """
    embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
    lookup = pretrained.vector if hasattr(pretrained, "vector") else pretrained.__getitem__
    found = {i: lookup(word) for i, word in enumerate(vocabulary.tokens) if word in pretrained}
    if not found:
        raise ValueError("none of the vocabulary's words has a pretrained vector: check that both are lower-case")
    known = torch.stack([torch.as_tensor(v, dtype=torch.float32) for v in found.values()])  # (found, embedding_dim)
    check_shape(known, (None, embedding_dim), "pretrained vectors", "(words, embedding_dim)")
    bound = math.sqrt(3 * float(known.var()))
    generator = torch_generator(seed)
    matrix = (torch.rand(len(vocabulary), embedding_dim, generator=generator) * 2 - 1) * bound
    matrix[list(found)] = known
    return matrix, len(found)


# --- reading the model --------------------------------------------------------------------------


@torch.no_grad()
def predict_probabilities(model: nn.Module, vocabulary: Vocabulary, texts: Sequence[str]) -> torch.Tensor:
    """Raw sentences -> class probabilities ``(len(texts), classes)`` (Kim's tokenisation, unknown words -> <unk>)."""
    if isinstance(texts, str):
        raise TypeError("predict_probabilities takes a list of sentences; wrap a single sentence in a list")
    encoded = [vocabulary.encode(tokenize(text)) for text in texts]
    for text, ids in zip(texts, encoded):
        if not ids:
            raise ValueError(f"{text!r} has no words after tokenisation (clean_str keeps letters, digits, ,!?'())")
    with training_mode(model, False):
        ids, _ = pad_batch(encoded, getattr(model, "padding_id", 0))
        ids = ids.to(model_device(model))
        probabilities = torch.softmax(model(ids), dim=1)
    return probabilities


def confusion_matrix(predictions: torch.Tensor, targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``counts[true, predicted]`` ``(num_classes, num_classes)`` from integer class ids in ``[0, num_classes)``."""
    num_classes = check_positive_int(num_classes, "num_classes")
    predictions, targets = torch.as_tensor(predictions), torch.as_tensor(targets)
    if predictions.shape != targets.shape or predictions.dim() != 1:
        raise ValueError(
            f"predictions {tuple(predictions.shape)} and targets {tuple(targets.shape)} must be "
            "1-D and of the same length (one class id per example)"
        )
    for name, values in (("predictions", predictions), ("targets", targets)):
        if values.dtype.is_floating_point or values.dtype.is_complex or values.dtype == torch.bool:
            raise TypeError(
                f"{name} must be integer class ids, got dtype {values.dtype}: "
                "take logits.argmax(dim=1) rather than probabilities"
            )
        if values.numel() and (int(values.min()) < 0 or int(values.max()) >= num_classes):
            raise ValueError(
                f"{name} must lie in [0, {num_classes}), got values from {int(values.min())} to "
                f"{int(values.max())}: is num_classes right?"
            )
    flat = targets.long() * num_classes + predictions.long()
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@torch.no_grad()
def top_ngrams(
    model: TextCNN,
    batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
    vocabulary: Vocabulary,
    window_index: int,
    filters: Sequence[int],
    k: int = 5,
) -> dict[int, list[tuple[str, float]]]:
    """For each filter of one window size, the ``k`` distinct n-grams of the corpus that activate it most.

    Each sentence contributes the n-gram that won its max (the one the classifier sees).
    """
    with training_mode(model, False):
        h = model.window_sizes[window_index]
        best: dict[int, dict[str, float]] = {f: {} for f in filters}
        for ids, _ in batches:
            trace = model.trace(ids.to(model_device(model)))
            values, winners = trace.pooled[window_index], trace.winners[window_index]  # (batch, maps)
            for f in filters:
                for row, (value, start) in enumerate(zip(values[:, f].tolist(), winners[:, f].tolist())):
                    words = [
                        vocabulary.tokens[i]
                        for i in trace.padded_ids[row, start : start + h].tolist()
                        if i != model.padding_id
                    ]
                    ngram = " ".join(words)
                    best[f][ngram] = max(value, best[f].get(ngram, -math.inf))
    return {f: sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k] for f, scores in best.items()}
