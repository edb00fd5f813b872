"""Scoring word vectors: word similarity with bootstrap intervals, analogies, and seed statistics.

- Word similarity (WordSim-353, Finkelstein et al. 2002; SimLex-999, Hill et al. 2015): Spearman's
  rank correlation ρ = Pearson(rank(x), rank(y)) of cosine similarities with human scores, on the
  pairs the vocabulary covers, with a percentile bootstrap 95 % interval over the pairs (Efron &
  Tibshirani, 1993): resample the covered pairs with replacement, recompute ρ, take the 2.5 % and
  97.5 % quantiles.
- Analogies a : b :: c : ? (Mikolov et al., 2013's questions), answered over the whole vocabulary
  (a, b and c excluded) by 3CosAdd, argmax_d cos(d, b) − cos(d, a) + cos(d, c), and by 3CosMul
  (Levy & Goldberg, 2014), argmax_d cos'(d, b)·cos'(d, c) / (cos'(d, a) + ε) with cos' = (cos + 1)/2
  and ε = 0.001.
- Two models on the same pairs: a paired bootstrap interval of the difference of their ρ (the same
  resampled pairs score both), i.e. how far the benchmark's finite sample of pairs alone could move it.

Statistics over seeds (mean ± SE, paired differences, the 3-SE rule) are :mod:`helpers.core.evidence`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from helpers.core import check_choice, check_positive_int, torch_generator
from helpers.data.readers import read_analogies, read_word_pairs
from helpers.word_embeddings.word_vectors import WordVectors

__all__ = [
    "analogy_accuracy",
    "bootstrap_spearman",
    "bootstrap_spearman_difference",
    "evaluate_word_similarity",
    "similarity_scores",
    "solve_analogies",
    "spearman",
]


def _average_ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n along the last axis; tied values share the mean of the ranks they occupy.

    ``rank = (#smaller + #smaller-or-equal + 1) / 2``, found by binary search in the sorted rows,
    so that a whole batch of bootstrap resamples is ranked at once.
    """
    ordered = values.sort(dim=-1).values
    below = torch.searchsorted(ordered, values, side="left")
    at_most = torch.searchsorted(ordered, values, side="right")
    return (below + at_most + 1).double() / 2


def _spearman_rows(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Spearman's ρ of each row pair of ``x``, ``y`` ``(..., n)``; NaN where a row is constant."""
    rx, ry = _average_ranks(x), _average_ranks(y)
    rx, ry = rx - rx.mean(dim=-1, keepdim=True), ry - ry.mean(dim=-1, keepdim=True)
    return (rx * ry).sum(-1) / torch.sqrt((rx * rx).sum(-1) * (ry * ry).sum(-1))


def _as_pair_of_sequences(x: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    if x.ndim != 1 or x.shape != y.shape or x.numel() < 2:
        raise ValueError(
            f"spearman needs two 1-D sequences of equal length >= 2, got shapes {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
        raise ValueError("spearman got NaN or infinite values: drop those pairs first (a NaN has no rank)")
    return x, y


def spearman(x: Sequence[float] | torch.Tensor, y: Sequence[float] | torch.Tensor) -> float:
    """Spearman's rank correlation: Pearson's correlation of the (tie-averaged) ranks."""
    x, y = _as_pair_of_sequences(x, y)
    value = float(_spearman_rows(x, y))
    if math.isnan(value):
        raise ValueError("spearman is undefined when one of the sequences is constant")
    return value


def bootstrap_spearman(
    x: Sequence[float] | torch.Tensor,
    y: Sequence[float] | torch.Tensor,
    *,
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of Spearman's ρ: resample the (x, y) pairs with replacement.

    Resamples in which one side is constant (possible for tiny n) are dropped.
    """
    x, y = _as_pair_of_sequences(x, y)
    resamples = check_positive_int(resamples, "resamples")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), e.g. 0.95, got {level!r}")
    generator = torch_generator(seed)
    rows = torch.randint(len(x), (resamples, len(x)), generator=generator)  # (resamples, n)
    values = _spearman_rows(x[rows], y[rows])
    values = values[~torch.isnan(values)]
    tail = (1 - level) / 2
    low, high = torch.quantile(values, torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    return low, high


def bootstrap_spearman_difference(
    first: Sequence[float] | torch.Tensor,
    second: Sequence[float] | torch.Tensor,
    human: Sequence[float] | torch.Tensor,
    *,
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Paired percentile bootstrap interval of ρ(first, human) − ρ(second, human) over the same pairs.

    Each resample draws the pairs once and scores both models on them, so the interval says how much
    the difference depends on which pairs the benchmark happens to hold.
    """
    first, human_a = _as_pair_of_sequences(first, human)
    second, human_b = _as_pair_of_sequences(second, human)
    resamples = check_positive_int(resamples, "resamples")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), e.g. 0.95, got {level!r}")
    generator = torch_generator(seed)
    rows = torch.randint(len(first), (resamples, len(first)), generator=generator)  # (resamples, n)
    values = _spearman_rows(first[rows], human_a[rows]) - _spearman_rows(second[rows], human_b[rows])
    values = values[~torch.isnan(values)]
    tail = (1 - level) / 2
    low, high = torch.quantile(values, torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    return low, high


def similarity_scores(vectors: WordVectors, benchmark: str = "wordsim353") -> tuple[list[float], list[float]]:
    """Cosine similarity and human score of each benchmark pair whose two words the vocabulary covers."""
    pairs = read_word_pairs(benchmark)
    covered = [(a, b, score) for a, b, score in pairs if a in vectors and b in vectors]
    if len(covered) < 3:
        raise ValueError(
            f"only {len(covered)} of the {len(pairs)} {benchmark} pairs are in the vocabulary: "
            "train on more text or lower min_count"
        )
    return [vectors.similarity(a, b) for a, b, _ in covered], [score for _, _, score in covered]


def evaluate_word_similarity(
    vectors: WordVectors, benchmark: str = "wordsim353", *, resamples: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Spearman ρ of cosine similarity with human scores on the pairs the vocabulary covers.

    Returns ``spearman``, its bootstrap 95 % interval ``low``/``high`` (``resamples=0`` skips it),
    ``covered`` (pairs scored) and ``total`` (pairs in the benchmark).
    """
    model_scores, human_scores = similarity_scores(vectors, benchmark)
    total = len(read_word_pairs(benchmark))
    result = {"spearman": spearman(model_scores, human_scores), "covered": len(model_scores), "total": total}
    if resamples:
        result["low"], result["high"] = bootstrap_spearman(model_scores, human_scores, resamples=resamples, seed=seed)
    return result


# --- analogies ----------------------------------------------------------------------------------


def solve_analogies(
    vectors: WordVectors, questions: Sequence[tuple[str, str, str]], method: str = "add", *, chunk: int = 512
) -> list[str]:
    """Answer a : b :: c : ? for each (a, b, c) by 3CosAdd (``"add"``) or 3CosMul (``"mul"``).

    The answer is the best word of the vocabulary other than a, b and c (specials excluded).
    """
    check_choice(method, ("add", "mul"), "method")
    chunk = check_positive_int(chunk, "chunk")
    _check_questions(questions, 3, "questions", "a : b :: c : ?, e.g. ('man', 'king', 'woman')")
    ids = torch.tensor([[vectors.index(w) for w in question] for question in questions], dtype=torch.int64)
    answers: list[str] = []
    for start in range(0, len(ids), chunk):
        a, b, c = ids[start : start + chunk].T  # (q,) each
        cos_a, cos_b, cos_c = (vectors.unit[i] @ vectors.unit.T for i in (a, b, c))  # (q, vocabulary) each
        if method == "add":
            scores = cos_b - cos_a + cos_c
        else:  # cosines shifted to [0, 1] so that the product and the ratio are meaningful
            scores = (cos_b + 1) / 2 * (cos_c + 1) / 2 / ((cos_a + 1) / 2 + 1e-3)
        scores = scores.masked_fill(~vectors.searchable, -math.inf)
        rows = torch.arange(len(a))
        for excluded in (a, b, c):
            scores[rows, excluded] = -math.inf
        answers += [vectors.vocabulary.tokens[i] for i in scores.argmax(dim=1).tolist()]
    return answers


def _check_questions(questions: object, words: int, name: str, example: str) -> None:
    """Each question must be a tuple or list of ``words`` words (a string would be read as characters)."""
    if isinstance(questions, str):
        raise TypeError(f"{name} must be a list of questions, got the string {questions[:40]!r}")
    for index, question in enumerate(questions):  # type: ignore[attr-defined]
        if isinstance(question, str) or len(question) != words or not all(isinstance(w, str) for w in question):
            raise ValueError(f"{name}[{index}] must be {words} words, {example}; got {question!r}")


def analogy_accuracy(
    vectors: WordVectors, method: str = "add", sections: dict[str, list[tuple[str, str, str, str]]] | None = None
) -> dict[str, dict[str, float]]:
    """Accuracy per section on the questions whose four words the vocabulary covers.

    ``sections`` defaults to Mikolov et al.'s questions (:func:`helpers.data.readers.read_analogies`).
    Returns ``{section: {"correct", "covered", "total", "accuracy"}}``; ``accuracy`` is NaN when no
    question of a section is covered.
    """
    sections = read_analogies() if sections is None else sections
    if not isinstance(sections, dict):
        raise TypeError(f"sections must be a dict {{section name: [(a, b, c, d), ...]}}, got {type(sections).__name__}")
    for name, questions in sections.items():
        _check_questions(questions, 4, f"sections[{name!r}]", "a : b :: c : d, e.g. ('man', 'king', 'woman', 'queen')")
    results = {}
    for name, questions in sections.items():
        covered = [q for q in questions if all(word in vectors for word in q)]
        answers = solve_analogies(vectors, [q[:3] for q in covered], method) if covered else []
        correct = sum(answer == q[3] for answer, q in zip(answers, covered))
        results[name] = {
            "correct": correct,
            "covered": len(covered),
            "total": len(questions),
            "accuracy": correct / len(covered) if covered else math.nan,
        }
    return results
