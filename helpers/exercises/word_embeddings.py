"""Graders for the exercises of notebook 01 (word embeddings; Mikolov et al., 2013, skip-gram with negative sampling).

    cos(a, b) = a · b / (‖a‖ ‖b‖)
    keep(w) = min(1, √(t / f(w)))                     f(w) = count(w) / Σ count        (eq. 5, as a keep rate)
    P_n(w) = count(w)^{3/4} / Σ_w' count(w')^{3/4}                                     (the noise distribution)
    loss = −log σ(u_c · v_w) − Σ_{i=1..k} log σ(−u_{n_i} · v_w)                          (eq. 4, negated)

The references are plain PyTorch, written here so that the grader does not depend on the code it grades.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.core import torch_generator

from .grading import Case, Exercise, Mistake

__all__ = ["cosine_similarity", "keep_probabilities", "negative_sampling_loss", "noise_distribution", "skipgram_pairs"]


# --- cosine similarity ------------------------------------------------------------------------------


def reference_cosine_similarity(a: Tensor, b: Tensor) -> Tensor:
    return F.normalize(a, dim=1) @ F.normalize(b, dim=1).T  # (n, m); a zero vector's row stays 0


def _cosine_cases() -> list[Case]:
    g = torch_generator(0)
    with_zero = torch.randn(3, 5, generator=g)
    with_zero[1] = 0.0
    return [
        Case("random", (torch.randn(4, 6, generator=g), torch.randn(3, 6, generator=g))),
        Case("one-hot vectors", (torch.eye(5)[[0, 2, 4]], torch.eye(5)[[1, 2]])),
        Case("a zero vector", (with_zero, torch.randn(2, 5, generator=g))),
        Case("batch of 1", (torch.randn(1, 5, generator=g), torch.randn(1, 5, generator=g))),
        Case(
            "float64",
            (torch.randn(3, 4, generator=g, dtype=torch.float64), torch.randn(2, 4, generator=g, dtype=torch.float64)),
        ),
    ]


def _cosine_nan(a: Tensor, b: Tensor) -> Tensor:
    return (a @ b.T) / (a.norm(dim=1)[:, None] * b.norm(dim=1)[None, :])


cosine_similarity = Exercise(
    "cosine_similarity",
    reference_cosine_similarity,
    _cosine_cases,
    [
        Mistake("a dot product, not a cosine: divide by both vectors' norms", lambda a, b: a @ b.T),
        Mistake(
            "normalised over the batch axis (dim=0): divide each vector (row) by its own norm, dim=1",
            lambda a, b: F.normalize(a, dim=0) @ F.normalize(b, dim=0).T,
        ),
        Mistake(
            "a zero vector gives 0/0 = NaN: clamp the norms (F.normalize does) so that its cosine is 0", _cosine_nan
        ),
        Mistake(
            "divided by the squared norms: the norm is the square root of the sum of squares",
            lambda a, b: (a @ b.T) / ((a * a).sum(1)[:, None] * (b * b).sum(1)[None, :]).clamp_min(1e-12),
        ),
    ],
)


# --- skip-gram pairs with a dynamic window ----------------------------------------------------------


def _pairs(
    ids: Tensor,
    reach: Tensor,
    *,
    both_sides: bool = True,
    include_centre: bool = False,
    widest: bool = False,
    right_end: int = 1,
    wrap: bool = False,
) -> Tensor:
    """The reference (default arguments) and, through its switches, the typical mistakes."""
    words, pairs = ids.tolist(), []
    for i, centre in enumerate(words):
        b = int(reach.max()) if widest else int(reach[i])
        start = i - b if both_sides else i
        for j in range(start if wrap else max(0, start), min(len(words), i + b + right_end)):
            if j != i or include_centre:
                pairs.append((centre, words[j]))
    return torch.tensor(pairs, dtype=torch.long).reshape(-1, 2)  # (pairs, 2): (centre, context)


def reference_skipgram_pairs(ids: Tensor, reach: Tensor) -> Tensor:
    return _pairs(ids, reach)


def _sorted_pairs(pairs: object) -> object:
    """Pairs in any order are right: compare them sorted by (centre, context)."""
    if isinstance(pairs, Tensor) and pairs.dim() == 2 and pairs.shape[1] == 2 and not pairs.is_floating_point():
        key = pairs[:, 0].long() * (int(pairs.max()) + 1 if pairs.numel() else 1) + pairs[:, 1].long()
        return pairs[key.argsort(stable=True)]
    return pairs


def _pair_cases() -> list[Case]:
    return [
        Case("random windows", (torch.tensor([4, 8, 15, 16, 23, 42]), torch.tensor([1, 2, 1, 3, 2, 1]))),
        Case("every window 1", (torch.tensor([7, 3, 9, 3]), torch.tensor([1, 1, 1, 1]))),
        Case("windows wider than the sentence", (torch.tensor([5, 6, 7]), torch.tensor([5, 1, 4]))),
        Case("a one-word sentence", (torch.tensor([11]), torch.tensor([2]))),
    ]


skipgram_pairs = Exercise(
    "skipgram_pairs",
    reference_skipgram_pairs,
    _pair_cases,
    [
        Mistake(
            "the centre is paired with itself: skip offset 0",
            lambda ids, reach: _pairs(ids, reach, include_centre=True),
        ),
        Mistake(
            "every centre uses the widest window: centre i pairs with reach[i] words on each side, its own draw",
            lambda ids, reach: _pairs(ids, reach, widest=True),
        ),
        Mistake(
            "only the words after the centre: the window reaches b words on both sides",
            lambda ids, reach: _pairs(ids, reach, both_sides=False),
        ),
        Mistake(
            "the right end of the window is missing: range's end is exclusive, use range(i - b, i + b + 1)",
            lambda ids, reach: _pairs(ids, reach, right_end=0),
        ),
        Mistake(
            "a negative index wraps around to the end of the sentence: the window stops at the sentence's start",
            lambda ids, reach: _pairs(ids, reach, wrap=True),
        ),
    ],
    canonical=_sorted_pairs,
)


# --- subsampling and the noise distribution ---------------------------------------------------------


def reference_keep_probabilities(counts: Tensor, threshold: float) -> Tensor:
    frequency = counts / counts.sum()  # f(w): each word's share of all tokens
    return (threshold / frequency).sqrt().clamp(max=1.0)  # rare words (f < t) are always kept


def _count_cases() -> list[Case]:
    g = torch_generator(2)
    zipf = 1000.0 / torch.arange(1, 21, dtype=torch.float32)  # "the", "of", ... then rarer words
    return [
        Case("Zipf counts", (zipf, 1e-2)),
        Case("random counts", (torch.randint(1, 500, (12,), generator=g).float(), 5e-2)),
        Case("every word rare", (zipf, 1.0)),
        Case("a one-word vocabulary", (torch.tensor([42.0]), 1e-3)),
        Case("float64", (zipf.double(), 3e-2)),
    ]


keep_probabilities = Exercise(
    "keep_probabilities",
    reference_keep_probabilities,
    _count_cases,
    [
        Mistake(
            "that is the probability of discarding the word (eq. 5): keep it with probability min(1, √(t/f))",
            lambda c, t: 1 - reference_keep_probabilities(c, t),
        ),
        Mistake(
            "probabilities above 1 for rare words: clamp at 1 (words rarer than t are always kept)",
            lambda c, t: (t / (c / c.sum())).sqrt(),
        ),
        Mistake(
            "f(w) is the word's share of all tokens, count / total, not its raw count",
            lambda c, t: (t / c).sqrt().clamp(max=1.0),
        ),
        Mistake(
            "the square root is missing: keep with probability √(t / f)",
            lambda c, t: (t / (c / c.sum())).clamp(max=1.0),
        ),
    ],
)


def reference_noise_distribution(counts: Tensor, power: float) -> Tensor:
    weights = counts.pow(power) * (counts > 0)  # an unseen word is never a negative (0 ** 0 would be 1)
    return weights / weights.sum()


def _noise_cases() -> list[Case]:
    g = torch_generator(3)
    counts = torch.randint(1, 1000, (10,), generator=g).float()
    with_unseen = counts.clone()
    with_unseen[[2, 7]] = 0.0
    return [
        Case("random counts", (counts, 0.75)),
        Case("unseen words", (with_unseen, 0.75)),
        Case("power 0.5", (counts, 0.5)),
        Case("a one-word vocabulary", (torch.tensor([9.0]), 0.75)),
        Case("float64", (counts.double(), 0.75)),
    ]


noise_distribution = Exercise(
    "noise_distribution",
    reference_noise_distribution,
    _noise_cases,
    [
        Mistake(
            "that is the unigram distribution: raise the counts to the power (3/4) first", lambda c, p: c / c.sum()
        ),
        Mistake("it does not sum to 1: divide by the sum of count^power", lambda c, p: c.pow(p) * (c > 0)),
        Mistake(
            "normalise after the power: (count / total)^power does not sum to 1",
            lambda c, p: (c / c.sum()).pow(p) * (c > 0),
        ),
    ],
)


# --- the loss ---------------------------------------------------------------------------------------


def reference_negative_sampling_loss(positive_scores: Tensor, negative_scores: Tensor) -> Tensor:
    return -F.logsigmoid(positive_scores) - F.logsigmoid(-negative_scores).sum(dim=1)  # (batch,)


def _score_cases() -> list[Case]:
    g = torch_generator(5)
    confident = torch.tensor([200.0, -200.0, 3.0]), torch.tensor([[-200.0, 1.0], [200.0, -1.0], [0.0, 0.5]])
    return [
        Case("random", (torch.randn(6, generator=g), torch.randn(6, 5, generator=g))),
        Case("confident scores (±200)", confident),
        Case("batch of 1, one negative", (torch.randn(1, generator=g), torch.randn(1, 1, generator=g))),
        Case(
            "float64",
            (torch.randn(4, generator=g, dtype=torch.float64), torch.randn(4, 3, generator=g, dtype=torch.float64)),
        ),
    ]


negative_sampling_loss = Exercise(
    "negative_sampling_loss",
    reference_negative_sampling_loss,
    _score_cases,
    [
        Mistake(
            "the noise words' term is log σ(−u_n · v_w): the minus sign inside σ is missing",
            lambda p, n: -F.logsigmoid(p) - F.logsigmoid(n).sum(dim=1),
        ),
        Mistake(
            "sum over the k noise words, not the mean", lambda p, n: -F.logsigmoid(p) - F.logsigmoid(-n).mean(dim=1)
        ),
        Mistake(
            "log(sigmoid(x)) underflows to log 0 = −inf for large scores: use F.logsigmoid",
            lambda p, n: -torch.log(torch.sigmoid(p)) - torch.log(torch.sigmoid(-n)).sum(dim=1),
        ),
        Mistake(
            "return one loss per (centre, context) pair, shape (batch,), not their mean",
            lambda p, n: reference_negative_sampling_loss(p, n).mean(),
        ),
        Mistake(
            "that is the objective word2vec maximises; the loss is its negative",
            lambda p, n: -reference_negative_sampling_loss(p, n),
        ),
    ],
)
