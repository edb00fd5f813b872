"""The shape of a set of word vectors: how far they spread over their dimensions, and a way to spread them.

Two measures, on the ``(words, d)`` matrix of learned vectors (``<pad>``, ``<unk>`` left out):

- **mean pairwise cosine**, the average of cos(v_i, v_j) over all pairs i ≠ j. With unit rows
  ``u_i = v_i / ‖v_i‖`` it needs no ``(n, n)`` matrix: Σ_{i≠j} u_i·u_j = ‖Σ_i u_i‖² − n, so the mean is
  (‖Σ u_i‖² − n) / (n (n − 1)). Random directions give about 0; vectors that all point into one narrow
  cone give nearly 1.
- **participation ratio** of the covariance's eigenvalues λ_1..λ_d (the vectors centred first),
  PR = (Σ λ)² / Σ λ². It counts the dimensions that carry the spread: d when every direction carries the
  same variance (random vectors), 1 when one direction carries all of it.

Where the common direction of SGNS vectors comes from (Mimno & Thompson, 2017, "The strange geometry of
skip-gram with negative sampling"): every update pushes a word's input vector v_w away from the output
vectors u_n of its noise words, drawn ∝ count^{3/4}, i.e. along the same vector −Σ_n P_n(n) u_n for every
word. :func:`noise_direction_alignment` measures how closely the mean input vector follows that direction.

And one remedy, **all-but-the-top** (Mu & Viswanath, 2018, "All-but-the-Top: Simple and Effective
Postprocessing for Word Representations", Algorithm 1): subtract the common mean vector μ and the
projections on the top D principal components u_1..u_D of the centred vectors,

    v'(w) = ṽ(w) − Σ_{i=1..D} (u_iᵀ ṽ(w)) u_i,      ṽ(w) = v(w) − μ,

with D ≈ d / 100 in the paper. (Algorithm 1 writes u_iᵀ v(w) in the sum; with ṽ(w) the result keeps mean
zero, the two differ by the constant Σ (u_iᵀ μ) u_i.)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from helpers.core import check_positive_int, check_shape
from helpers.word_embeddings.skipgram import noise_distribution
from helpers.word_embeddings.word_vectors import WordVectors

__all__ = [
    "all_but_the_top",
    "learned_rows",
    "mean_pairwise_cosine",
    "noise_direction_alignment",
    "participation_ratio",
]


def learned_rows(vectors: WordVectors) -> torch.Tensor:
    """The rows of the words seen in training ``(words, d)``: ``<pad>``, ``<unk>`` and unseen words left out."""
    return vectors.vectors[vectors.vocabulary.counts_by_id() > 0]


def _matrix(vectors: torch.Tensor | WordVectors) -> torch.Tensor:
    """The ``(words, d)`` float64 matrix of ``vectors`` (a tensor, or the learned rows of :class:`WordVectors`)."""
    matrix = learned_rows(vectors) if isinstance(vectors, WordVectors) else vectors
    check_shape(matrix, (None, None), "vectors", "(words, embedding_dim)")
    if len(matrix) < 2:
        raise ValueError(f"need at least two vectors to measure their geometry, got {len(matrix)}")
    return matrix.detach().double()


def mean_pairwise_cosine(vectors: torch.Tensor | WordVectors) -> float:
    """Mean of cos(v_i, v_j) over all pairs i ≠ j: (‖Σ u_i‖² − n) / (n (n − 1)) with u_i = v_i / ‖v_i‖."""
    unit = F.normalize(_matrix(vectors), dim=1)  # (n, d)
    n, total = len(unit), unit.sum(dim=0)  # total: (d,)
    return float((total @ total - n) / (n * (n - 1)))


def participation_ratio(vectors: torch.Tensor | WordVectors) -> float:
    """(Σ λ)² / Σ λ² of the covariance eigenvalues of the centred vectors: between 1 and d."""
    matrix = _matrix(vectors)
    centred = matrix - matrix.mean(dim=0)  # (n, d)
    eigenvalues = torch.linalg.eigvalsh(centred.T @ centred / len(centred)).clamp_min(0)  # (d,)
    if not float(eigenvalues.sum()) > 0:
        raise ValueError("the vectors are all equal: there is no spread to measure")
    return float(eigenvalues.sum() ** 2 / (eigenvalues**2).sum())


def noise_direction_alignment(vectors: WordVectors, noise_power: float = 0.75) -> float:
    """cos(mean input vector, Σ_n P_n(n) u_n): −1 when the words' common direction is "away from the noise words".

    ``vectors`` must carry SGNS's output (context) vectors, as :func:`helpers.word_embeddings.word2vec.train_word2vec`
    returns them; P_n ∝ count^``noise_power`` is the noise distribution the trainer drew from.
    """
    if vectors.context_vectors is None:
        raise ValueError("these vectors carry no context (output) vectors: train them with train_word2vec")
    counts = vectors.vocabulary.counts_by_id()  # (vocabulary,) specials count 0, so they weigh nothing
    noise = noise_distribution(counts, noise_power)  # (vocabulary,)
    noise_mean = noise @ vectors.context_vectors.double()  # (d,) Σ_n P_n(n) u_n
    return float(F.cosine_similarity(learned_rows(vectors).double().mean(dim=0), noise_mean, dim=0))


def all_but_the_top(vectors: WordVectors, components: int | None = None) -> WordVectors:
    """Mu & Viswanath (2018)'s post-processing: remove the mean vector and the top ``components`` directions.

    ``components`` is the paper's D (``None``: ⌈d / 100⌉, the paper's rule). The mean and the principal
    components come from the words seen in training, and only their rows change (``<pad>``, ``<unk>`` are
    kept). Returns new :class:`WordVectors` with the same vocabulary (without context vectors).
    """
    d = vectors.embedding_dim
    components = math.ceil(d / 100) if components is None else check_positive_int(components, "components")
    if components >= d:
        raise ValueError(f"components={components} would remove every one of the {d} dimensions")
    seen = vectors.vocabulary.counts_by_id() > 0  # (vocabulary,)
    rows = vectors.vectors[seen].double()  # (n, d)
    mean = rows.mean(dim=0)  # (d,) μ
    top = torch.linalg.svd(rows - mean, full_matrices=False).Vh[:components]  # (D, d): u_1..u_D as rows
    centred = rows - mean  # (n, d) ṽ
    processed = vectors.vectors.clone()
    processed[seen] = (centred - (centred @ top.T) @ top).to(processed.dtype)  # (n, d)
    return WordVectors(vectors.vocabulary, processed, vectors.history)
