"""Graders for the exercises of notebook 01 (word embeddings; Mikolov et al., 2013, skip-gram with negative sampling).

    cos(a, b) = a · b / (‖a‖ ‖b‖)
    keep(w) = min(1, √(t / f(w)))                     f(w) = count(w) / Σ count        (eq. 5, as a keep rate)
    P_n(w) = count(w)^{3/4} / Σ_w' count(w')^{3/4}                                     (the noise distribution)
    loss = −log σ(u_c · v_w) − Σ_{i=1..k} log σ(−u_{n_i} · v_w)                          (eq. 4, negated)
    ∂loss/∂v_w = (σ(u_c · v_w) − 1) u_c + Σ_i σ(u_{n_i} · v_w) u_{n_i}
    ∂loss/∂u_c = (σ(u_c · v_w) − 1) v_w          ∂loss/∂u_{n_i} = σ(u_{n_i} · v_w) v_w
    ρ = Pearson's correlation of the ranks (tied values share the mean of their ranks)     (Spearman)

The last exercise trains vectors on :func:`toy_corpus` (sentences about animals, vehicles and food) and scores
them against :data:`TOY_JUDGEMENTS`, made-up similarity judgements in the style of WordSim-353. The references
are plain PyTorch, written here so that the grader does not depend on the code it grades.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.core import python_random, torch_generator
from helpers.word_embeddings.word_vectors import WordVectors

from .grading import HINT, PASS, Behaviour, Case, Exercise, Mistake

__all__ = [
    "TOY_JUDGEMENTS",
    "cosine_similarity",
    "keep_probabilities",
    "nearest_neighbours",
    "negative_sampling_loss",
    "noise_distribution",
    "own_vectors",
    "sgns_gradients",
    "skipgram_pairs",
    "spearman_correlation",
    "toy_corpus",
]


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
        Case("power 0, unseen words", (with_unseen, 0.0)),
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
        *(
            Mistake("it does not sum to 1: divide by the sum of count^power", function)
            for function in (lambda c, p: c.pow(p) * (c > 0), lambda c, p: c.pow(p))
        ),
        *(
            Mistake("normalise after the power: (count / total)^power does not sum to 1", function)
            for function in (lambda c, p: (c / c.sum()).pow(p) * (c > 0), lambda c, p: (c / c.sum()).pow(p))
        ),
        Mistake(
            "0 ** 0 = 1: at power 0 an unseen word (count 0) gets the same share as every other word; multiply "
            "count^power by (counts > 0) so that it stays at 0",
            lambda c, p: c.pow(p) / c.pow(p).sum(),
        ),
        Mistake(
            "power · log(count) is 0 · (−inf) = NaN at power 0 for an unseen word: use count^power masked by "
            "(counts > 0) instead of exp(power · log count)",
            lambda c, p: torch.softmax(p * c.log(), dim=0),
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
    gradients=True,
)


# --- the gradients of SGNS, by hand -----------------------------------------------------------------


def reference_sgns_gradients(centre: Tensor, context: Tensor, negatives: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Autograd's gradients of one pair's loss: the reference a gradient derived by hand must equal."""
    with torch.enable_grad():
        leaves = [t.detach().clone().requires_grad_(True) for t in (centre, context, negatives)]
        v, u, noise = leaves
        loss = reference_negative_sampling_loss((u @ v)[None], (noise @ v)[None]).sum()
        return tuple(torch.autograd.grad(loss, leaves))  # (d,), (d,), (k, d)


def _by_hand(
    v: Tensor,
    u: Tensor,
    noise: Tensor,
    *,
    minus_one: bool = True,
    noise_sign: float = 1.0,
    sign: float = 1.0,
    swap: bool = False,
    mean: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """The gradients by hand (default arguments) and, through its switches, the typical mistakes."""
    positive = torch.sigmoid(u @ v) - (1 if minus_one else 0)  # σ(u_c · v_w) − 1
    negative = torch.sigmoid(noise_sign * (noise @ v))  # (k,): σ(u_n · v_w)
    noise_terms = negative[:, None] * noise  # (k, d)
    grad_v = positive * u + (noise_terms.mean(0) if mean else noise_terms.sum(0))
    grad_u = positive * (u if swap else v)
    grad_noise = negative[:, None] * (noise if swap else v[None, :])
    return sign * grad_v, sign * grad_u, sign * grad_noise


def _sgns_cases() -> list[Case]:
    g = torch_generator(6)
    r = lambda *shape, dtype=torch.float32: torch.randn(*shape, generator=g, dtype=dtype)  # noqa: E731
    context = r(6)
    return [
        Case("random, k = 3", (r(6), r(6), r(3, 6))),
        Case("confident scores", (4 * r(6), 4 * r(6), 4 * r(4, 6))),
        Case("one negative", (r(5), r(5), r(1, 5))),
        Case("a noise word equal to the context", (r(6), context, torch.stack([context, r(6)]))),
        Case("float64", (r(8, dtype=torch.float64), r(8, dtype=torch.float64), r(5, 8, dtype=torch.float64))),
    ]


sgns_gradients = Exercise(
    "sgns_gradients",
    reference_sgns_gradients,
    _sgns_cases,
    [
        Mistake(
            "the true context's term is (σ(u_c · v_w) − 1): the derivative of −log σ(x) is σ(x) − 1; the −1 is missing",
            lambda v, u, n: _by_hand(v, u, n, minus_one=False),
        ),
        Mistake(
            "the derivative of −log σ(−x) is σ(x), so each noise word contributes σ(u_n · v_w), not σ(−u_n · v_w)",
            lambda v, u, n: _by_hand(v, u, n, noise_sign=-1.0),
        ),
        Mistake(
            "that is the gradient of the objective word2vec maximises; the loss is its negative: flip the sign",
            lambda v, u, n: _by_hand(v, u, n, sign=-1.0),
        ),
        Mistake(
            "∂L/∂u_c is (σ(u_c · v_w) − 1) v_w and ∂L/∂u_n is σ(u_n · v_w) v_w: the other vector of the dot product "
            "multiplies, not the vector itself",
            lambda v, u, n: _by_hand(v, u, n, swap=True),
        ),
        Mistake(
            "the loss sums over the k noise words, so ∂L/∂v_w sums their terms too, not their mean",
            lambda v, u, n: _by_hand(v, u, n, mean=True),
        ),
    ],
    names=("grad_centre", "grad_context", "grad_negatives"),
    by_hand=True,
)


# --- nearest neighbours -------------------------------------------------------------------------------


def reference_nearest_neighbours(vectors: Tensor, word_id: int, k: int) -> Tensor:
    unit = F.normalize(vectors, dim=1)  # rows of length 1: a dot product of rows is their cosine
    scores = unit @ unit[word_id]  # (vocabulary,)
    scores[word_id] = -math.inf  # a word is not its own neighbour
    return scores.topk(k).indices  # (k,) int64, the most similar first


def _neighbour_cases() -> list[Case]:
    g = torch_generator(7)
    frequent = torch.randn(12, 4, generator=g)
    frequent[5] *= 30.0  # a long vector (a frequent word's): it wins dot products, not cosines
    with_zero = torch.randn(9, 3, generator=g)
    with_zero[2] = 0.0
    return [
        Case("random", (torch.randn(10, 5, generator=g), 3, 4)),
        Case("a long vector", (frequent, 0, 3)),
        Case("a zero vector", (with_zero, 4, 3)),
        Case("every other word", (torch.randn(6, 3, generator=g), 1, 5)),
        Case("float64", (torch.randn(8, 6, generator=g, dtype=torch.float64), 7, 2)),
    ]


def _dot_neighbours(vectors: Tensor, word_id: int, k: int) -> Tensor:
    scores = vectors @ vectors[word_id]
    scores[word_id] = -math.inf
    return scores.topk(k).indices


def _euclidean_neighbours(vectors: Tensor, word_id: int, k: int) -> Tensor:
    distances = (vectors - vectors[word_id]).norm(dim=1)
    distances[word_id] = math.inf
    return distances.topk(k, largest=False).indices


nearest_neighbours = Exercise(
    "nearest_neighbours",
    reference_nearest_neighbours,
    _neighbour_cases,
    [
        Mistake(
            "ranked by dot product: a long vector (a frequent word's) then wins for every query; rank by cosine, "
            "dividing by both norms",
            _dot_neighbours,
        ),
        Mistake(
            "the word itself is its own nearest neighbour (cosine 1): leave it out",
            lambda v, i, k: (F.normalize(v, dim=1) @ F.normalize(v, dim=1)[i]).topk(k).indices,
        ),
        Mistake(
            "those are the least similar words: the nearest have the highest cosine (topk's largest=True)",
            lambda v, i, k: (F.normalize(v, dim=1) @ F.normalize(v, dim=1)[i]).topk(k, largest=False).indices,
        ),
        Mistake(
            "ranked by Euclidean distance between the raw vectors, which mixes in their lengths: rank by cosine",
            _euclidean_neighbours,
        ),
    ],
)


# --- Spearman's rank correlation ----------------------------------------------------------------------


def _average_ranks(values: Tensor) -> Tensor:
    """Ranks 1..n; tied values share the mean of the ranks they occupy."""
    below = (values[None, :] < values[:, None]).sum(1)  # how many values are smaller
    ties = (values[None, :] == values[:, None]).sum(1)  # how many are equal (itself included)
    return below.double() + (ties.double() + 1) / 2


def _pearson(x: Tensor, y: Tensor) -> float:
    x, y = x.double() - x.double().mean(), y.double() - y.double().mean()
    return float((x * y).sum() / ((x * x).sum() * (y * y).sum()).sqrt())


def reference_spearman_correlation(x: Tensor, y: Tensor) -> float:
    return _pearson(_average_ranks(x), _average_ranks(y))


def _shortcut(rank_x: Tensor, rank_y: Tensor) -> float:
    """1 − 6 Σ d² / (n (n² − 1)): Spearman's formula for ranks without ties."""
    n = len(rank_x)
    return float(1 - 6 * ((rank_x.double() - rank_y.double()) ** 2).sum() / (n * (n * n - 1)))


def _without_ties(case: Case) -> bool:
    """Where no value is tied, a sort's order is the same whatever the library: compare the order there."""
    return all(len(set(values.tolist())) == len(values) for values in case.args)


def _spearman_cases() -> list[Case]:
    g = torch_generator(8)
    x = torch.randn(12, generator=g)
    return [
        Case("no ties", (x, x + 0.8 * torch.randn(12, generator=g))),
        Case("monotone but not linear", (x, x.exp())),
        Case("ties in the human scores", (x[:10], torch.tensor([8.0, 1.0, 8.0, 3.0, 1.0, 8.0, 5.0, 2.0, 9.0, 1.0]))),
        Case(
            "ties on both sides",
            (torch.tensor([1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0]), torch.tensor([2.0, 1.0, 4.0, 4.0, 3.0, 6.0, 6.0])),
        ),
        Case("reversed order", (x[:6], -x[:6] * 3)),
        Case("float64", (x.double(), (x * x).double())),
    ]


spearman_correlation = Exercise(
    "spearman_correlation",
    reference_spearman_correlation,
    _spearman_cases,
    [
        Mistake(
            "that is Pearson's correlation of the values; Spearman's is Pearson's correlation of their ranks",
            lambda x, y: _pearson(x, y),
        ),
        Mistake(
            "x.argsort() gives the order (which element is smallest, next, ...), not the ranks: the rank of each "
            "element is x.argsort().argsort() (plus 1), and tied values share their mean rank",
            lambda x, y: _pearson(x.argsort(stable=True), y.argsort(stable=True)),
            only=_without_ties,
        ),
        Mistake(
            "tied values must share the mean of the ranks they occupy (two values tied for ranks 3 and 4 both get "
            "3.5); argsort().argsort() breaks ties by position",
            lambda x, y: _pearson(x.argsort(stable=True).argsort(), y.argsort(stable=True).argsort()),
        ),
        Mistake(
            "1 − 6 Σ d² / (n (n² − 1)) holds only without ties; with tied ranks take Pearson's correlation of the "
            "ranks",
            lambda x, y: _shortcut(_average_ranks(x), _average_ranks(y)),
        ),
    ],
)


# --- your own vectors: train, then look at their neighbours and their ρ --------------------------------

# Each group: (nouns, verbs, places). The words of a group share their contexts, and no other group's.
_GROUPS = {
    "animals": (
        ("cat", "dog", "horse", "cow", "sheep", "goat"),
        ("eats", "sleeps", "runs", "grazes"),
        ("barn", "field", "meadow"),
    ),
    "vehicles": (
        ("car", "bus", "truck", "van", "tractor", "taxi"),
        ("drives", "stops", "parks", "brakes"),
        ("road", "street", "garage"),
    ),
    "food": (
        ("bread", "cheese", "soup", "rice", "cake", "pie"),
        ("tastes", "cooks", "bakes", "smells"),
        ("kitchen", "oven", "table"),
    ),
}
_GROUP_OF = {noun: group for group, (nouns, _, _) in _GROUPS.items() for noun in nouns}

TOY_JUDGEMENTS: list[tuple[str, str, float]] = [
    ("cat", "dog", 8.5), ("cow", "sheep", 8.8), ("horse", "cow", 8.0), ("sheep", "goat", 9.0),
    ("cat", "goat", 6.5), ("dog", "horse", 7.0), ("car", "van", 8.8), ("bus", "taxi", 8.0),
    ("truck", "van", 8.5), ("car", "tractor", 6.0), ("bus", "truck", 7.5), ("taxi", "car", 9.0),
    ("bread", "cake", 7.5), ("soup", "rice", 6.5), ("cheese", "bread", 7.0), ("cake", "pie", 9.0),
    ("rice", "bread", 7.0), ("soup", "pie", 5.5), ("cat", "car", 1.0), ("dog", "bread", 1.5),
    ("cow", "cheese", 3.5), ("horse", "tractor", 3.0), ("sheep", "bus", 0.5), ("goat", "cake", 0.8),
    ("truck", "soup", 0.3), ("van", "rice", 0.4), ("taxi", "pie", 0.5), ("tractor", "bread", 1.2),
]  # fmt: skip
"""(word, word, score 0–10): made-up similarity judgements on the toy corpus's nouns, WordSim-353's format."""

PROBES = ("cat", "car", "bread")
REQUIRED_SPEARMAN, REQUIRED_NEIGHBOURS = 0.5, 2  # of the 3 nearest neighbours of each probe, in its group


def toy_corpus(sentences: int = 900, seed: int = 0) -> list[list[str]]:
    """Tokenised sentences about animals, vehicles and food (about 6,800 tokens): "the cat eats in the barn
    with the dog". Words of a group share their contexts, so their vectors should end up close."""
    draw = python_random(seed)
    corpus = []
    for _ in range(sentences):
        nouns, verbs, places = _GROUPS[draw.choice(list(_GROUPS))]
        sentence = ["the", draw.choice(nouns), draw.choice(verbs), "in", "the", draw.choice(places)]
        if draw.random() < 0.5:
            sentence += ["with", "the", draw.choice(nouns)]
        corpus.append(sentence)
    return corpus


def _evaluate(vectors: WordVectors) -> tuple[float, dict[str, list[str]]]:
    """ρ of the cosines with :data:`TOY_JUDGEMENTS`, and each probe's 3 nearest neighbours."""
    cosines = torch.tensor([vectors.similarity(a, b) for a, b, _ in TOY_JUDGEMENTS])
    rho = reference_spearman_correlation(cosines, torch.tensor([score for _, _, score in TOY_JUDGEMENTS]))
    ids = {word: vectors.index(word) for word in PROBES}
    searchable = vectors.vectors.clone()
    searchable[~vectors.searchable] = 0.0  # <pad> and <unk>: never a neighbour (their cosine is then 0)
    neighbours = {
        word: vectors.vocabulary.decode(reference_nearest_neighbours(searchable, index, 3))
        for word, index in ids.items()
    }
    return rho, neighbours


def _own_vectors_verdict(vectors: object) -> tuple[str, str]:
    if not isinstance(vectors, WordVectors):
        return HINT, (
            f"pass the WordVectors that train_word2vec returns (vectors = train_word2vec(...)), not "
            f"{type(vectors).__name__}"
        )
    missing = sorted({w for a, b, _ in TOY_JUDGEMENTS for w in (a, b) if w not in vectors})
    if missing:
        return HINT, (
            f"{', '.join(missing[:4])} {'is' if len(missing) == 1 else 'are'} not in your vocabulary: train on "
            "check.toy_corpus(), with a min_count its nouns reach (each occurs about 70 times)"
        )
    rho, neighbours = _evaluate(vectors)
    in_group = {word: sum(_GROUP_OF.get(n) == _GROUP_OF[word] for n in found) for word, found in neighbours.items()}
    shown = "; ".join(f"{word}: {', '.join(found)}" for word, found in neighbours.items())
    measured = f"ρ = {rho:.2f} on the {len(TOY_JUDGEMENTS)} judgements; nearest neighbours {shown}"
    if rho >= REQUIRED_SPEARMAN and all(count >= REQUIRED_NEIGHBOURS for count in in_group.values()):
        return PASS, f"{measured}. Words that share contexts got close vectors."
    steps = len(vectors.history.steps.get("loss", [])) if vectors.history is not None else None
    advice = (
        f"Your run took only {steps} optimizer steps: "
        if steps is not None and steps < 100
        else "Look at the settings: "
    ) + (
        "train_word2vec's defaults are meant for millions of tokens. With batch_size=4096 this corpus of ~6,800 "
        "tokens is one or two batches per epoch, and subsampling (subsample_threshold=1e-4) keeps only about 10 % "
        "of a corpus where every word is frequent. Try batch_size=128, subsample_threshold=1.0 (no subsampling), "
        "a small window and embedding_dim, and a few epochs"
    )
    return HINT, (
        f"{measured}: below the bar (ρ ≥ {REQUIRED_SPEARMAN} and at least {REQUIRED_NEIGHBOURS} of the 3 neighbours "
        f"of {', '.join(PROBES)} in its own group). {advice}"
    )


def _train_toy_vectors(**settings: object) -> WordVectors:
    from helpers.word_embeddings.word2vec import train_word2vec  # the trainer, only when a reference is needed

    return train_word2vec(toy_corpus(), show_progress=False, **settings)


GOOD_SETTINGS = {
    "embedding_dim": 16,
    "window": 2,
    "min_count": 1,
    "subsample_threshold": 1.0,
    "epochs": 3,
    "batch_size": 128,
}

own_vectors = Behaviour(
    "own_vectors",
    _own_vectors_verdict,
    reference=lambda: _train_toy_vectors(**GOOD_SETTINGS),
    mistakes=[
        Mistake("defaults are meant for millions of tokens", lambda: _train_toy_vectors()),
        Mistake("not in your vocabulary", lambda: _train_toy_vectors(**{**GOOD_SETTINGS, "min_count": 500})),
        Mistake("pass the WordVectors", lambda: _train_toy_vectors(**GOOD_SETTINGS).vectors),
    ],
    callable_answer=False,
)
