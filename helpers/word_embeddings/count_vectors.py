"""Count-based word vectors: positive PMI with context-distribution smoothing, reduced by truncated SVD.

Levy & Goldberg (2014), "Neural Word Embedding as Implicit Matrix Factorization", and Levy, Goldberg
& Dagan (2015), "Improving Distributional Similarity with Lessons Learned from Word Embeddings".
From the (window-weighted) co-occurrence counts #(w, c) of a corpus with D pairs in all:

    PMI_α(w, c) = log [ #(w, c) · D / ( #(w) · D · P_α(c) ) ],   P_α(c) = #(c)^α / Σ_c' #(c')^α     (α = 0.75)
    PPMI_α(w, c) = max(PMI_α(w, c), 0)

and the word vectors are the rows of U_d Σ_d^p from the truncated SVD PPMI ≈ U Σ Vᵀ (p = 0.5 here,
one of the weightings Levy et al. recommend). The link to word2vec: SGNS with k negatives drawn
from P_n reaches its optimum when v_w · u_c = log [ #(w, c) / (k · #(w) · P_n(c)) ], a shifted PMI,
which is ``pmi_matrix(counts, context_distribution=P_n, positive=False)`` minus log k.
"""

from __future__ import annotations

import numpy as np
import torch

from helpers.core import (
    check_finite,
    check_finite_number,
    check_integers,
    check_positive_int,
    check_probabilities,
    check_sentences,
    check_shape,
    seed_torch,
)
from helpers.data.text import Vocabulary
from helpers.word_embeddings.word_vectors import WordVectors

__all__ = ["cooccurrence_counts", "pmi_matrix", "svd_embedding", "train_ppmi_svd", "truncated_svd"]


def cooccurrence_counts(
    ids: np.ndarray, sentence_ids: np.ndarray, vocabulary_size: int, *, window: int = 5, keep: np.ndarray | None = None
) -> torch.Tensor:
    """Sparse ``(vocabulary, vocabulary)`` counts #(w, c), both directions, within sentences.

    A pair at distance d gets weight (window − d + 1) / window: the expected count under word2vec's
    dynamic window. ``keep`` (probability of keeping each word, from subsampling) multiplies the
    weight by keep[w] · keep[c], the chance that both words survive.
    """
    window = check_positive_int(window, "window")
    vocabulary_size = check_positive_int(vocabulary_size, "vocabulary_size")
    ids = check_integers(ids, "ids", hint="word ids from Vocabulary.encode").numpy()
    sentence_ids = np.asarray(sentence_ids)  # only compared for equality: any numbers will do
    if ids.ndim != 1 or ids.shape != sentence_ids.shape:
        raise ValueError("ids and sentence_ids must be 1-D and of equal length: one sentence number per token")
    if len(ids) and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise ValueError(f"word ids must lie in [0, {vocabulary_size}), got {ids.min()} to {ids.max()}")
    keys, weights = [], []
    for offset in range(1, window + 1):
        same = sentence_ids[offset:] == sentence_ids[:-offset]
        left, right = ids[:-offset][same], ids[offset:][same]
        weight = np.full(len(left), (window - offset + 1) / window)
        if keep is not None:
            weight = weight * keep[left] * keep[right]
        keys += [left * vocabulary_size + right, right * vocabulary_size + left]
        weights += [weight, weight]
    unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    totals = np.bincount(inverse, weights=np.concatenate(weights))
    indices = torch.from_numpy(np.stack([unique // vocabulary_size, unique % vocabulary_size]))
    return torch.sparse_coo_tensor(
        indices, torch.from_numpy(totals), (vocabulary_size,) * 2, check_invariants=True
    ).coalesce()


def pmi_matrix(
    counts: torch.Tensor,
    *,
    alpha: float = 0.75,
    positive: bool = True,
    context_distribution: torch.Tensor | None = None,
) -> torch.Tensor:
    """PMI_α of every co-occurring pair (a sparse matrix shaped like ``counts``); PPMI if ``positive``.

    ``counts`` may be dense or sparse, float64 kept. ``context_distribution`` replaces P_α(c) (e.g.
    SGNS's noise distribution); pairs never seen have no entry (their PMI would be −∞, PPMI 0).
    """
    if not isinstance(counts, torch.Tensor) or counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError("counts must be a square (vocabulary, vocabulary) tensor of co-occurrence counts")
    check_finite_number(alpha, "alpha", minimum=0, hint="the context-distribution smoothing exponent, e.g. 0.75")
    counts = (counts if counts.is_sparse else counts.to_sparse()).coalesce()
    values = counts.values().double()
    check_finite(values, "counts", hint="co-occurrence counts are finite numbers >= 0")
    if values.numel() == 0 or bool((values < 0).any()):
        raise ValueError("counts must hold non-negative counts, and at least one pair")
    if context_distribution is not None:
        check_shape(context_distribution, (counts.shape[1],), "context_distribution", "(vocabulary,)")
        check_probabilities(context_distribution, "context_distribution")
    rows, columns = counts.indices()
    word_totals = torch.zeros(counts.shape[0], dtype=torch.float64).index_add_(0, rows, values)  # #(w)
    context_totals = torch.zeros(counts.shape[1], dtype=torch.float64).index_add_(0, columns, values)  # #(c)
    if context_distribution is None:
        smoothed = context_totals.pow(alpha) * (context_totals > 0)
        context_distribution = smoothed / smoothed.sum()  # P_α(c)
    pmi = torch.log(values) - torch.log(word_totals[rows]) - torch.log(context_distribution.double()[columns])
    if positive:
        pmi = pmi.clamp_min(0)
    pmi = torch.sparse_coo_tensor(counts.indices(), pmi.to(counts.dtype), counts.shape, check_invariants=True)
    return pmi.coalesce()


def truncated_svd(
    matrix: torch.Tensor, embedding_dim: int, *, seed: int = 0, iterations: int = 4
) -> tuple[torch.Tensor, torch.Tensor]:
    """U_d ``(rows, embedding_dim)`` and Σ_d ``(embedding_dim,)`` of a truncated SVD of ``matrix`` (dense or sparse).

    Randomised SVD (Halko et al., 2011, ``torch.svd_lowrank``), seeded; each column's sign is fixed
    so that its largest entry is positive (an SVD may flip signs from machine to machine).
    """
    embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
    check_positive_int(iterations, "iterations")
    if embedding_dim > min(matrix.shape):
        raise ValueError(f"embedding_dim={embedding_dim} exceeds the matrix's smaller side {min(matrix.shape)}")
    with torch.random.fork_rng():
        seed_torch(seed)
        left, singular, _ = torch.svd_lowrank(matrix, q=min(embedding_dim + 10, min(matrix.shape)), niter=iterations)
    left, singular = left[:, :embedding_dim], singular[:embedding_dim]
    signs = torch.sign(left.gather(0, left.abs().argmax(dim=0, keepdim=True)))
    return left * signs, singular


def svd_embedding(
    matrix: torch.Tensor, embedding_dim: int, *, eigenvalue_power: float = 0.5, seed: int = 0, iterations: int = 4
) -> torch.Tensor:
    """Rows of U_d Σ_d^p from a truncated SVD of ``matrix`` (dense or sparse): ``(rows, embedding_dim)``.

    Levy, Goldberg & Dagan (2015) call p the eigenvalue weighting: p = 1 is the classic SVD factor,
    p = 0.5 weights words and contexts symmetrically, p = 0 drops the singular values. The SVD is
    :func:`truncated_svd` (randomised, seeded, signs fixed).
    """
    check_finite_number(eigenvalue_power, "eigenvalue_power", hint="p in U Σ^p, e.g. 0.5")
    left, singular = truncated_svd(matrix, embedding_dim, seed=seed, iterations=iterations)
    return left * singular.pow(eigenvalue_power)


def train_ppmi_svd(
    sentences: list[list[str]],
    vocabulary: Vocabulary,
    *,
    embedding_dim: int = 100,
    window: int = 5,
    alpha: float = 0.75,
    eigenvalue_power: float = 0.5,
    seed: int = 0,
) -> WordVectors:
    """PPMI_α + truncated SVD vectors for the words of ``vocabulary`` (others are dropped from the text)."""
    sentences = check_sentences(sentences)
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError(f"vocabulary must be a helpers.data.text.Vocabulary, got {type(vocabulary).__name__}")
    encoded = [[vocabulary.index(w) for w in sentence if w in vocabulary] for sentence in sentences]
    ids = np.fromiter((i for sentence in encoded for i in sentence), dtype=np.int64)
    sentence_ids = np.repeat(np.arange(len(encoded)), [len(sentence) for sentence in encoded])
    counts = cooccurrence_counts(ids, sentence_ids, len(vocabulary), window=window)
    if counts._nnz() == 0:
        raise ValueError(
            "sentences give no pair of vocabulary words within a window: no sentence has two words of "
            "vocabulary (are they tokenised, and is vocabulary built from them?)"
        )
    ppmi = pmi_matrix(counts, alpha=alpha).float()
    vectors = svd_embedding(ppmi, embedding_dim, eigenvalue_power=eigenvalue_power, seed=seed)
    return WordVectors(vocabulary, vectors)
