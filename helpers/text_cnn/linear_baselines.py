"""The linear baselines of Kim (2014)'s Table 2: MNB and NBSVM of Wang & Manning (2012), "Baselines and
Bigrams: Simple, Good Sentiment and Topic Classification" (ACL 2012).

A sentence is the binarised indicator x̂ ∈ {0, 1}^|V| of its unigrams and bigrams (x̂_f = 1 if n-gram f
occurs). With smoothing α, the count vectors of the two classes and their log-count ratio are

    p = α + Σ_{i: y_i = 1} x̂_i,     q = α + Σ_{i: y_i = 0} x̂_i,     r = log( (p / ‖p‖₁) / (q / ‖q‖₁) ).

- MNB (multinomial naive Bayes on x̂): predict sign(rᵀx̂ + b) with b = log(N₊ / N₋), the class ratio.
  With more than two classes: argmax_c log P(c) + x̂ᵀ log θ_c, θ_c = (α + Σ_{y_i = c} x̂_i) / ‖·‖₁
  (for two classes the same rule as above).
- NBSVM: a linear SVM (L2-regularised squared hinge loss, C) on the scaled features x̃ = r ∘ x̂, then
  the weights interpolated towards their mean magnitude: w' = (1 − β) w̄ + β w, w̄ = ‖w‖₁ / |V|.
  Wang & Manning: α = 1, C = 1, β = 0.25. Two classes only (their MR setting).

Also here: :class:`BagOfWords`, logistic regression on word counts as an ``nn.Module`` trained by the
course's own loop (notebook 04's baseline for attention pooling).

The SVM is solved here by full-batch L-BFGS in float64 (the objective is convex and once
differentiable); LIBLINEAR, which they used, solves the same problem by coordinate descent.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence

import torch
from torch import nn

from helpers.core import (
    check_positive_int,
    check_positive_number,
    check_probability,
    check_same_length,
    check_sentences,
    check_token_ids,
)
from helpers.training.cross_validation import label_ids

__all__ = ["BagOfWords", "NBSVM", "MultinomialNB", "NgramFeatures", "log_count_ratio", "ngrams"]


def ngrams(words: Sequence[str], max_n: int = 2) -> list[str]:
    """The distinct n-grams of a tokenised sentence for n = 1..max_n, e.g. ["a", "b"] -> ["a", "b", "a b"]."""
    if isinstance(words, str):
        raise TypeError("ngrams takes a list of words; tokenize the sentence first")
    max_n = check_positive_int(max_n, "max_n", hint="1 for unigrams, 2 for uni+bigrams")
    found = [" ".join(words[i : i + n]) for n in range(1, max_n + 1) for i in range(len(words) - n + 1)]
    return list(dict.fromkeys(found))


class NgramFeatures:
    """The n-grams of the training sentences, and the binarised indicator matrix x̂ of any sentences."""

    def __init__(self, sentences: Sequence[Sequence[str]], max_n: int = 2):
        self.max_n = check_positive_int(max_n, "max_n", hint="1 for unigrams, 2 for uni+bigrams")
        sentences = check_sentences(sentences)
        grams = [ngrams(sentence, max_n) for sentence in sentences]
        self.index = {gram: i for i, gram in enumerate(sorted(dict.fromkeys(g for found in grams for g in found)))}
        if not self.index:
            raise ValueError("no n-grams in the training sentences: are they empty?")
        self.training_matrix = self._matrix(grams)  # x̂ of the training sentences

    def __len__(self) -> int:
        return len(self.index)

    def transform(self, sentences: Sequence[Sequence[str]]) -> torch.Tensor:
        """x̂ ``(sentences, n-grams)``: a sparse float64 0/1 matrix; n-grams unseen in training are dropped."""
        return self._matrix([ngrams(sentence, self.max_n) for sentence in sentences])

    def _matrix(self, grams: list[list[str]]) -> torch.Tensor:
        rows, columns = [], []
        for row, found_grams in enumerate(grams):
            found = [self.index[g] for g in found_grams if g in self.index]
            rows.extend([row] * len(found))
            columns.extend(found)
        indices = torch.tensor([rows, columns], dtype=torch.int64).reshape(2, -1)
        values = torch.ones(indices.shape[1], dtype=torch.float64)
        return torch.sparse_coo_tensor(
            indices, values, (len(grams), len(self)), check_invariants=False
        ).coalesce()  # built above, valid by construction


def log_count_ratio(features: torch.Tensor, targets: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """r = log((p/‖p‖₁) / (q/‖q‖₁)) ``(n-grams,)`` from x̂ ``(n, n-grams)`` and 0/1 ``targets`` ``(n,)``."""
    check_positive_number(alpha, "alpha", hint="the smoothing count, Wang & Manning's 1")
    p = alpha + torch.sparse.mm(features.t(), (targets == 1).double().unsqueeze(1)).squeeze(1)  # (n-grams,)
    q = alpha + torch.sparse.mm(features.t(), (targets == 0).double().unsqueeze(1)).squeeze(1)
    return torch.log(p / p.sum()) - torch.log(q / q.sum())


class _LinearTextModel:
    """Shared by MNB and NBSVM: the n-gram features of the training sentences and the class names."""

    def _prepare(
        self, sentences: Sequence[Sequence[str]], labels: Sequence[Hashable]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        sentences = check_sentences(sentences)
        check_same_length(sentences, "sentences", labels, "labels", hint="give one label per sentence")
        targets, self.classes = label_ids(labels)
        if len(self.classes) < 2:
            raise ValueError("every label is the same: a classifier needs at least two classes")
        self.features = NgramFeatures(sentences, self.max_n)
        return self.features.training_matrix, torch.from_numpy(targets)

    def scores(self, sentences: Sequence[Sequence[str]]) -> torch.Tensor:
        raise NotImplementedError

    def predict(self, sentences: Sequence[Sequence[str]]) -> list:
        """The predicted class of each tokenised sentence."""
        return [self.classes[i] for i in self.scores(sentences).argmax(dim=1).tolist()]

    def accuracy(self, sentences: Sequence[Sequence[str]], labels: Sequence[Hashable]) -> float:
        """The share of the tokenised ``sentences`` whose predicted class is their label."""
        sentences = check_sentences(sentences)
        check_same_length(sentences, "sentences", labels, "labels", hint="give one label per sentence")
        targets, _ = label_ids(labels, self.classes)
        return float((self.scores(sentences).argmax(dim=1) == torch.from_numpy(targets)).double().mean())


class MultinomialNB(_LinearTextModel):
    """Multinomial naive Bayes on binarised uni+bigram indicators (Wang & Manning's MNB)."""

    def __init__(
        self, sentences: Sequence[Sequence[str]], labels: Sequence[Hashable], *, alpha: float = 1.0, max_n: int = 2
    ):
        check_positive_number(alpha, "alpha", hint="the smoothing count, Wang & Manning's 1")
        self.max_n = check_positive_int(max_n, "max_n", hint="1 for unigrams, 2 for uni+bigrams")
        features, targets = self._prepare(sentences, labels)
        one_hot = torch.nn.functional.one_hot(targets, len(self.classes)).double()  # (n, classes)
        counts = alpha + torch.sparse.mm(features.t(), one_hot)  # (n-grams, classes)
        self.log_theta = torch.log(counts / counts.sum(0))  # log θ_c, each column sums to one in θ
        self.log_prior = torch.log(one_hot.sum(0) / len(targets))  # (classes,)

    def scores(self, sentences: Sequence[Sequence[str]]) -> torch.Tensor:
        """log P(c) + x̂ᵀ log θ_c ``(sentences, classes)`` (the log joint, up to a constant)."""
        return torch.sparse.mm(self.features.transform(sentences), self.log_theta) + self.log_prior


class NBSVM(_LinearTextModel):
    """An L2-regularised squared-hinge SVM on r ∘ x̂, interpolated with β (two classes)."""

    def __init__(
        self,
        sentences: Sequence[Sequence[str]],
        labels: Sequence[Hashable],
        *,
        alpha: float = 1.0,
        C: float = 1.0,
        beta: float = 0.25,
        max_n: int = 2,
        max_iterations: int = 100,
    ):  # noqa: N803 (the paper's C)
        check_positive_number(alpha, "alpha", hint="the smoothing count, Wang & Manning's 1")
        check_positive_number(C, "C", hint="the SVM's cost, Wang & Manning's 1")
        check_probability(beta, "beta", allow_one=True)
        check_positive_int(max_iterations, "max_iterations")
        self.max_n = check_positive_int(max_n, "max_n", hint="1 for unigrams, 2 for uni+bigrams")
        features, targets = self._prepare(sentences, labels)
        if len(self.classes) != 2:
            raise ValueError(
                f"NBSVM here separates two classes, got {len(self.classes)}: use MultinomialNB, "
                "or train one NBSVM per class against the rest"
            )
        self.r = log_count_ratio(features, targets, alpha)  # (n-grams,)
        scaled = features * self.r  # x̃ = r ∘ x̂, still sparse
        signs = targets.double() * 2 - 1  # y ∈ {−1, +1}
        weights, self.bias = _squared_hinge_svm(scaled, signs, C, max_iterations)
        self.weights = (1 - beta) * weights.abs().mean() + beta * weights  # w' = (1 − β) w̄ + β w

    def scores(self, sentences: Sequence[Sequence[str]]) -> torch.Tensor:
        """``(sentences, 2)``: 0 for the first class and w'ᵀ(r ∘ x̂) + b for the second."""
        scaled = self.features.transform(sentences) * self.r
        margin = torch.sparse.mm(scaled, self.weights.unsqueeze(1)).squeeze(1) + self.bias  # (sentences,)
        return torch.stack([torch.zeros_like(margin), margin], dim=1)


def _squared_hinge_svm(
    features: torch.Tensor,
    signs: torch.Tensor,
    C: float,  # noqa: N803
    max_iterations: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """argmin_{w, b} ½‖w‖² + C Σ_i max(0, 1 − y_i (wᵀx_i + b))² (b not regularised) by L-BFGS.

    The gradient is written out (w − 2C Xᵀ(y ∘ a), −2C Σ y ∘ a with a = max(0, 1 − margins)) so that
    each iteration is two sparse matrix-vector products with X in compressed-row form.
    """
    with warnings.catch_warnings():  # CSR is marked "beta"; its matrix-vector product is 40x faster than COO's here
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        rows, columns = features.to_sparse_csr(), features.t().coalesce().to_sparse_csr()  # X and Xᵀ
    weights = torch.zeros(features.shape[1], dtype=torch.float64)
    bias = torch.zeros((), dtype=torch.float64)
    weights.grad, bias.grad = torch.zeros_like(weights), torch.zeros_like(bias)
    optimizer = torch.optim.LBFGS(
        [weights, bias],
        lr=1,
        max_iter=max_iterations,
        tolerance_grad=1e-6,
        tolerance_change=1e-10,
        history_size=10,
        line_search_fn="strong_wolfe",
    )

    def objective() -> torch.Tensor:
        margins = signs * (rows @ weights + bias)  # (n,)
        shortfall = torch.relu(1 - margins)  # a_i
        weights.grad.copy_(weights - 2 * C * (columns @ (signs * shortfall)))
        bias.grad.copy_(-2 * C * (signs * shortfall).sum())
        return 0.5 * weights.dot(weights) + C * shortfall.square().sum()

    optimizer.step(objective)
    if not math.isfinite(float(objective())):
        raise FloatingPointError("the SVM objective is not finite: check the features for NaN")
    return weights, bias


class BagOfWords(nn.Module):
    """Logistic regression on word counts: logits = W · Σ_words one_hot(word) + b.

    The sum of one-hot vectors times W is the sum of W's columns for the sentence's words, which is what
    ``nn.EmbeddingBag(mode="sum")`` computes without building the one-hot vectors. Padding counts nothing.
    """

    def __init__(self, vocabulary_size: int, *, num_classes: int = 2, padding_id: int = 0):
        super().__init__()
        self.vocabulary_size = check_positive_int(vocabulary_size, "vocabulary_size")
        check_positive_int(num_classes, "num_classes")
        if not 0 <= padding_id < vocabulary_size:
            raise ValueError(f"padding_id must lie in [0, {vocabulary_size}), got {padding_id!r}")
        self.weights = nn.EmbeddingBag(vocabulary_size, num_classes, mode="sum", padding_idx=padding_id)
        nn.init.zeros_(self.weights.weight)
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Word ids ``(batch, seq)`` -> logits ``(batch, num_classes)``."""
        check_token_ids(ids, self.vocabulary_size, hint="encode with the vocabulary the model was built for")
        return self.weights(ids) + self.bias
