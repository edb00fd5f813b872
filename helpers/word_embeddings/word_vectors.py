"""Trained word vectors with their vocabulary: lookup, cosine similarity, nearest neighbours.

Cosine similarity cos(a, b) = a·b / (‖a‖ ‖b‖), computed once as rows of length 1. Returned by
:func:`helpers.word_embeddings.word2vec.train_word2vec` and
:func:`helpers.word_embeddings.count_vectors.train_ppmi_svd`; the Text CNN (notebook 02) copies the rows into
its embedding table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from helpers.core import check_finite, check_positive_int, check_shape, check_words
from helpers.data.text import Vocabulary
from helpers.training import History

__all__ = ["WordVectors", "cosine_similarity_matrix"]


def cosine_similarity_matrix(vectors: torch.Tensor) -> torch.Tensor:
    """``(n, d)`` vectors -> ``(n, n)`` cosine similarities (zero vectors give 0, not NaN); dtype kept."""
    check_shape(vectors, (None, None), "vectors", "(n, embedding_dim)")
    unit = F.normalize(vectors if vectors.is_floating_point() else vectors.float(), dim=1)
    return unit @ unit.T


def _check_finite_rows(vectors: torch.Tensor, vocabulary: Vocabulary, name: str) -> None:
    """Refuse NaN or infinite vectors, naming the first words whose rows hold them."""
    bad_rows = (~torch.isfinite(vectors)).any(dim=1).nonzero().flatten().tolist()
    if bad_rows:
        words = [vocabulary.tokens[i] for i in bad_rows[:5]]
        raise ValueError(
            f"{name} holds NaN or infinite values in {len(bad_rows)} of {len(vectors)} rows (words {words}): "
            "training diverged (lower the learning rate) or the vectors were built from NaN"
        )


@dataclass
class WordVectors:
    """Word vectors with their vocabulary: ``vectors[i]`` belongs to ``vocabulary.tokens[i]``.

    ``context_vectors`` (SGNS's output vectors ``u``), when given, let one compare ``v_w · u_c`` with
    the PMI of the pair (Levy & Goldberg, 2014).
    """

    vocabulary: Vocabulary
    vectors: torch.Tensor  # (len(vocabulary), embedding_dim)
    history: History | None = field(default=None, repr=False)
    context_vectors: torch.Tensor | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_shape(self.vectors, (len(self.vocabulary), None), "vectors", "(vocabulary, embedding_dim)")
        if not self.vectors.is_floating_point():
            raise TypeError(f"vectors must be floating point, got {self.vectors.dtype}")
        _check_finite_rows(self.vectors, self.vocabulary, "vectors")
        self.vectors = self.vectors.detach().clone()  # a copy: later training of a model cannot change it
        if self.context_vectors is not None:
            check_shape(self.context_vectors, tuple(self.vectors.shape), "context_vectors", "like vectors")
            _check_finite_rows(self.context_vectors, self.vocabulary, "context_vectors")
            self.context_vectors = self.context_vectors.detach().clone()
        self.unit = F.normalize(self.vectors, dim=1)  # (vocabulary, d) rows of length 1, for cosines
        # Specials (<pad>, <unk>) and words never seen in training are no one's neighbours.
        self.searchable = self.vocabulary.counts_by_id() > 0

    @property
    def embedding_dim(self) -> int:
        return self.vectors.shape[1]

    def __contains__(self, word: str) -> bool:
        return word in self.vocabulary and self.vocabulary.count(word) > 0

    def index(self, word: str) -> int:
        if word not in self:
            raise KeyError(
                f"{word!r} is not in the vocabulary ({len(self.vocabulary):,} words). Words are lower-case and "
                "must occur at least min_count times in the training corpus; check the spelling or lower min_count"
            )
        return self.vocabulary.index(word)

    def vector(self, word: str) -> torch.Tensor:
        """The ``(embedding_dim,)`` vector of ``word`` (KeyError with advice if it is unknown)."""
        return self.vectors[self.index(word)]

    def similarity(self, first: str, second: str) -> float:
        """Cosine similarity of two words' vectors."""
        return float(self.unit[self.index(first)] @ self.unit[self.index(second)])

    def most_similar(
        self, word: str | torch.Tensor, k: int = 5, exclude: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """The ``k`` words with the highest cosine similarity to ``word`` (a word, itself excluded, or a vector)."""
        k = check_positive_int(k, "k")
        check_words(exclude, "exclude", hint="wrap one word in a list: exclude=['word']")
        if not isinstance(word, str):
            check_shape(word, (self.embedding_dim,), "word", "a word, or a vector (embedding_dim,)")
            check_finite(word, "word (a vector)")
        query = self.unit[self.index(word)] if isinstance(word, str) else F.normalize(word.to(self.unit.dtype), dim=0)
        scores = (self.unit @ query).masked_fill(~self.searchable, -math.inf)  # (vocabulary,)
        for excluded in ([word] if isinstance(word, str) else []) + list(exclude):
            scores[self.index(excluded)] = -math.inf
        top = torch.topk(scores, min(k, int(torch.isfinite(scores).sum())))
        return [(self.vocabulary.tokens[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist())]
