"""Word embeddings: one-hot vectors, and word2vec's skip-gram with negative sampling (SGNS).

Mikolov, Sutskever, Chen, Corrado & Dean (2013), "Distributed Representations of Words and Phrases
and their Compositionality". For a centre word ``w`` and a word ``c`` seen near it, SGNS maximises

    log σ(u_c · v_w) + Σ_{i=1..k} log σ(−u_{n_i} · v_w),   n_i ~ P_n(w) ∝ count(w)^{3/4}      (eq. 4)

where ``v`` are the input (centre) vectors, ``u`` the output (context) vectors and ``k`` the number
of negative (noise) words. Frequent words are thrown away with probability ``1 − √(t / f(w))``
(eq. 5, ``f`` = relative frequency, ``t`` = ``subsample_threshold``) and each centre word looks at a
window of random size 1..``window`` on each side, as in the paper's code, which weights near words
more. One deliberate deviation: word2vec runs plain SGD after every single pair; here Adam updates
on batches of thousands of pairs (notebook 01 measures plain SGD on such batches).

The model here is the taught one, the paper's equation on gathered vectors; the trainer
(:mod:`helpers.word_embeddings.word2vec`) computes the same losses through :mod:`helpers.word_embeddings.fast_sgns`.
Evaluation: :mod:`helpers.word_embeddings.word_benchmarks`; the count-based baseline:
:mod:`helpers.word_embeddings.count_vectors`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.core import check_finite, check_finite_number, check_positive_int, check_shape, check_token_ids

__all__ = [
    "SkipGramNegativeSampling",
    "keep_probabilities",
    "negative_sampling_loss",
    "noise_distribution",
    "one_hot",
    "skipgram_pairs",
]


# --- one-hot vectors ----------------------------------------------------------------------------


def one_hot(ids: torch.Tensor | Sequence[int], vocabulary_size: int) -> torch.Tensor:
    """Rows of the identity matrix: ``(n,)`` word ids -> ``(n, vocabulary_size)`` float one-hot vectors."""
    vocabulary_size = check_positive_int(vocabulary_size, "vocabulary_size")
    ids = torch.as_tensor(ids)
    if ids.is_floating_point() or ids.dtype == torch.bool:
        raise TypeError(f"word ids must be integers, got dtype {ids.dtype}; use .long() only if they are whole")
    ids = check_token_ids(ids.long(), vocabulary_size)
    return F.one_hot(ids, vocabulary_size).float()


# --- the pieces of SGNS -------------------------------------------------------------------------


def noise_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """P_n(w) = count(w)^power / Σ count^power: the distribution negative words are drawn from.

    The power 3/4 (the paper's) raises rare words' chance of being a negative above their share.
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    check_finite_number(power, "power", hint="the paper's 3/4")
    check_finite(counts, "counts", hint="word counts are finite numbers >= 0")
    if counts.ndim != 1 or counts.numel() == 0 or bool((counts < 0).any()) or not float(counts.sum()) > 0:
        raise ValueError("counts must be a non-empty 1-D tensor of non-negative word counts with a positive sum")
    weights = counts.pow(power) * (counts > 0)  # 0 ** power is 1 for power 0: keep unseen words at 0
    return weights / weights.sum()


def keep_probabilities(counts: torch.Tensor, subsample_threshold: float = 1e-4) -> torch.Tensor:
    """Probability of keeping each occurrence of a word: min(1, √(t / f(w))), i.e. discard 1 − √(t/f).

    ``f(w)`` is the word's share of all tokens and ``t`` the ``subsample_threshold``; words rarer than
    ``t`` are always kept. ``subsample_threshold=0`` switches subsampling off (every word kept).
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    t = subsample_threshold
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not t >= 0 or math.isinf(t):
        raise ValueError(f"subsample_threshold must be a finite number >= 0 (the paper's t, e.g. 1e-4), got {t!r}")
    if t == 0:
        return torch.ones_like(counts)
    frequency = counts / counts.sum()
    return torch.sqrt(t / frequency.clamp_min(1e-300)).clamp(max=1.0)


def skipgram_pairs(
    ids: np.ndarray, sentence_ids: np.ndarray, window: int, generator: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Every (centre, context) pair of a corpus with word2vec's dynamic window, vectorised.

    ``ids`` is the corpus as one array of word ids, ``sentence_ids`` says which sentence each token
    belongs to (windows stop at sentence ends). Each centre token draws its window ``b`` uniformly
    from 1..``window`` and pairs with the ``b`` tokens on each side. Instead of a Python loop over
    tokens, this loops over the offsets 1..window and takes all centres at once.
    """
    window = check_positive_int(window, "window")
    ids, sentence_ids = np.asarray(ids), np.asarray(sentence_ids)
    if ids.ndim != 1 or ids.shape != sentence_ids.shape:
        raise ValueError(
            f"ids and sentence_ids must be 1-D and of equal length, got shapes {ids.shape} "
            f"and {sentence_ids.shape}: one sentence number per token"
        )
    reach = generator.integers(1, window + 1, size=len(ids))  # (tokens,) each centre's window
    centres, contexts = [], []
    for offset in range(1, window + 1):
        same_sentence = sentence_ids[offset:] == sentence_ids[:-offset]  # (tokens - offset,)
        # centre i, context i + offset (right) and centre i + offset, context i (left)
        right = same_sentence & (reach[:-offset] >= offset)
        left = same_sentence & (reach[offset:] >= offset)
        centres += [ids[:-offset][right], ids[offset:][left]]
        contexts += [ids[offset:][right], ids[:-offset][left]]
    return np.concatenate(centres), np.concatenate(contexts)


def negative_sampling_loss(positive_scores: torch.Tensor, negative_scores: torch.Tensor) -> torch.Tensor:
    """Eq. 4 as a loss per pair: −log σ(u_c·v_w) − Σ_i log σ(−u_{n_i}·v_w).

    ``positive_scores`` ``(batch,)`` are the dot products with the true context, ``negative_scores``
    ``(batch, k)`` those with the noise words. ``logsigmoid`` is the stable form of log σ.
    """
    check_shape(positive_scores, (None,), "positive_scores", "(batch,)")
    check_shape(negative_scores, (positive_scores.shape[0], None), "negative_scores", "(batch, negatives)")
    return -F.logsigmoid(positive_scores) - F.logsigmoid(-negative_scores).sum(dim=1)  # (batch,)


class SkipGramNegativeSampling(nn.Module):
    """Two embedding tables: input vectors ``v`` for centre words, output vectors ``u`` for contexts.

    Initialised as in word2vec's code: ``v`` uniform in ±0.5/embedding_dim, ``u`` zero. The input
    vectors are the word vectors one keeps.
    """

    def __init__(self, vocabulary_size: int, *, embedding_dim: int = 100):
        super().__init__()
        self.vocabulary_size = check_positive_int(vocabulary_size, "vocabulary_size")
        embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
        self.input_vectors = nn.Embedding(vocabulary_size, embedding_dim)
        self.output_vectors = nn.Embedding(vocabulary_size, embedding_dim)
        nn.init.uniform_(self.input_vectors.weight, -0.5 / embedding_dim, 0.5 / embedding_dim)
        nn.init.zeros_(self.output_vectors.weight)

    def forward(self, centres: torch.Tensor, contexts: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """Loss per pair ``(batch,)`` for ids ``centres (batch,)``, ``contexts (batch,)``, ``negatives (batch, k)``."""
        check_shape(centres, (None,), "centres", "(batch,)")
        check_shape(contexts, (centres.shape[0],), "contexts", "(batch,)")
        check_shape(negatives, (centres.shape[0], None), "negatives", "(batch, negatives)")
        for name, ids in (("centres", centres), ("contexts", contexts), ("negatives", negatives)):
            if ids.is_floating_point() or ids.dtype == torch.bool:
                raise TypeError(f"{name} must hold integer word ids, got dtype {ids.dtype}")
            check_token_ids(ids, self.vocabulary_size, name, "ids come from the vocabulary the model was built for")
        v = self.input_vectors(centres)  # (batch, d): the centre words' input vectors
        positive = (v * self.output_vectors(contexts)).sum(dim=1)  # (batch,): u_c · v_w
        negative = torch.einsum("bkd,bd->bk", self.output_vectors(negatives), v)  # (batch, k): u_{n_i} · v_w
        return negative_sampling_loss(positive, negative)  # (batch,)
