"""Word embeddings: one-hot vectors, and word2vec's skip-gram with negative sampling (SGNS).

Mikolov, Sutskever, Chen, Corrado & Dean (2013), "Distributed Representations of Words and Phrases
and their Compositionality". For a centre word ``w`` and a word ``c`` seen near it, SGNS maximises

    log σ(u_c · v_w) + Σ_{i=1..k} log σ(−u_{n_i} · v_w),   n_i ~ P_n(w) ∝ count(w)^{3/4}      (eq. 4)

where ``v`` are the input (centre) vectors, ``u`` the output (context) vectors and ``k`` the number
of negative (noise) words. Frequent words are thrown away with probability ``1 − √(t / f(w))``
(eq. 5, ``f`` = relative frequency) and each centre word looks at a window of random size 1..``window``
on each side, as in the paper's code, which weights near words more. One deliberate deviation:
word2vec runs plain SGD after every single pair; here Adam updates on batches of thousands of pairs,
which is what makes PyTorch on a CPU fast enough (see :func:`train_word2vec`).

Also here: Spearman's rank
correlation (no SciPy), the word-similarity evaluation, and :class:`WordVectors`, the trained
vectors that other notebooks (the Text CNN) reuse.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .core import check_positive_int, check_shape, check_token_ids
from .datasets import read_word_pairs
from .text import Vocabulary
from .training import History, train

__all__ = [
    "PairBatches",
    "SkipGramNegativeSampling",
    "WordVectors",
    "cosine_similarity_matrix",
    "evaluate_word_similarity",
    "keep_probabilities",
    "negative_sampling_loss",
    "noise_distribution",
    "one_hot",
    "skipgram_pairs",
    "spearman",
    "train_word2vec",
]


# --- one-hot vectors ----------------------------------------------------------------------------


def one_hot(ids: torch.Tensor | Sequence[int], vocabulary_size: int) -> torch.Tensor:
    """Rows of the identity matrix: ``(n,)`` word ids -> ``(n, vocabulary_size)`` float one-hot vectors."""
    vocabulary_size = check_positive_int(vocabulary_size, "vocabulary_size")
    ids = check_token_ids(torch.as_tensor(ids, dtype=torch.int64), vocabulary_size)
    return F.one_hot(ids, vocabulary_size).float()


def cosine_similarity_matrix(vectors: torch.Tensor) -> torch.Tensor:
    """``(n, d)`` vectors -> ``(n, n)`` cosine similarities (zero vectors give 0, not NaN)."""
    check_shape(vectors, (None, None), "vectors", "(n, dimension)")
    unit = F.normalize(vectors.float(), dim=1)
    return unit @ unit.T


# --- the pieces of SGNS -------------------------------------------------------------------------


def noise_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """P_n(w) = count(w)^power / Σ count^power: the distribution negative words are drawn from.

    The power 3/4 (the paper's choice) raises rare words' chance of being a negative above their
    share of the corpus and lowers that of "the", "of", ...
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.ndim != 1 or counts.numel() == 0 or bool((counts < 0).any()) or float(counts.sum()) <= 0:
        raise ValueError("counts must be a non-empty 1-D tensor of non-negative word counts with a positive sum")
    weights = counts.pow(power) * (counts > 0)  # 0 ** power is 1 for power 0: keep unseen words at 0
    return weights / weights.sum()


def keep_probabilities(counts: torch.Tensor, threshold: float = 1e-4) -> torch.Tensor:
    """Probability of keeping each occurrence of a word: min(1, √(t / f(w))), i.e. discard 1 − √(t/f).

    ``f(w)`` is the word's share of all tokens and ``t`` the threshold; words rarer than ``t``
    are always kept. ``threshold=0`` switches subsampling off (every word kept).
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if not (isinstance(threshold, (int, float)) and threshold >= 0):
        raise ValueError(f"threshold (subsample) must be a number >= 0, got {threshold!r}")
    if threshold == 0:
        return torch.ones_like(counts)
    frequency = counts / counts.sum()
    return torch.sqrt(threshold / frequency.clamp_min(1e-300)).clamp(max=1.0)


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

    Initialised as in word2vec's code: ``v`` uniform in ±0.5/dimension, ``u`` zero. The input
    vectors are the word vectors one keeps.
    """

    def __init__(self, vocabulary_size: int, dimension: int, sparse: bool = False):
        super().__init__()
        vocabulary_size = check_positive_int(vocabulary_size, "vocabulary_size")
        dimension = check_positive_int(dimension, "dimension")
        self.input_vectors = nn.Embedding(vocabulary_size, dimension, sparse=sparse)
        self.output_vectors = nn.Embedding(vocabulary_size, dimension, sparse=sparse)
        nn.init.uniform_(self.input_vectors.weight, -0.5 / dimension, 0.5 / dimension)
        nn.init.zeros_(self.output_vectors.weight)

    def forward(self, centres: torch.Tensor, contexts: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """Loss per pair ``(batch,)`` for ids ``centres (batch,)``, ``contexts (batch,)``, ``negatives (batch, k)``."""
        check_shape(centres, (None,), "centres", "(batch,)")
        check_shape(contexts, (centres.shape[0],), "contexts", "(batch,)")
        check_shape(negatives, (centres.shape[0], None), "negatives", "(batch, negatives)")
        v = self.input_vectors(centres)  # (batch, d)
        u_context = self.output_vectors(contexts)  # (batch, d)
        u_noise = self.output_vectors(negatives)  # (batch, k, d)
        positive = (u_context * v).sum(dim=1)  # (batch,)
        negative = (u_noise * v.unsqueeze(1)).sum(dim=2)  # (batch, k); faster than bmm's many tiny products
        return negative_sampling_loss(positive, negative)


# --- batches for one epoch ----------------------------------------------------------------------


class PairBatches:
    """One epoch of shuffled (centres, contexts, negatives) batches, drawn from a seeded generator.

    Subsampling, windows, shuffling and noise words are all drawn anew each epoch, as word2vec does.
    """

    def __init__(
        self,
        ids: np.ndarray,
        sentence_ids: np.ndarray,
        keep: np.ndarray,
        noise: torch.Tensor,
        *,
        window: int,
        negatives: int,
        batch_size: int,
        seed: int,
    ):
        generator = np.random.default_rng(seed)
        kept = generator.random(len(ids)) < keep[ids]  # subsampling: drop frequent words' occurrences
        centres, contexts = skipgram_pairs(ids[kept], sentence_ids[kept], window, generator)
        order = generator.permutation(len(centres))
        self.centres = torch.from_numpy(centres[order])
        self.contexts = torch.from_numpy(contexts[order])
        self.noise_cumulative = np.cumsum(noise.numpy())
        self.negatives, self.batch_size, self.generator = negatives, batch_size, generator
        if len(self.centres) == 0:
            raise ValueError("no (centre, context) pairs: the corpus is too small or every sentence has one word")

    def __len__(self) -> int:
        return math.ceil(len(self.centres) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        for start in range(0, len(self.centres), self.batch_size):
            centres = self.centres[start : start + self.batch_size]
            # Inverse-CDF sampling from P_n: one uniform number per noise word, a binary search each.
            uniform = self.generator.random((len(centres), self.negatives))
            noise = np.searchsorted(self.noise_cumulative, uniform, side="right")
            noise = np.minimum(noise, len(self.noise_cumulative) - 1)
            yield centres, self.contexts[start : start + self.batch_size], torch.from_numpy(noise)


# --- trained vectors ----------------------------------------------------------------------------


@dataclass
class WordVectors:
    """Word vectors with their vocabulary: ``vectors[i]`` belongs to ``vocabulary.tokens[i]``."""

    vocabulary: Vocabulary
    vectors: torch.Tensor  # (len(vocabulary), dimension)
    history: History | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_shape(self.vectors, (len(self.vocabulary), None), "vectors", "(vocabulary, dimension)")
        self.vectors = self.vectors.detach().float().clone()  # a copy: later training of a model cannot change it
        self._unit = F.normalize(self.vectors, dim=1)
        # Specials (<pad>, <unk>) and words never seen in training are no one's neighbours.
        self._searchable = self.vocabulary.counts_by_id() > 0

    @property
    def dimension(self) -> int:
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
        """The ``(dimension,)`` vector of ``word`` (KeyError with advice if it is unknown)."""
        return self.vectors[self.index(word)]

    def similarity(self, first: str, second: str) -> float:
        """Cosine similarity of two words' vectors."""
        return float(self._unit[self.index(first)] @ self._unit[self.index(second)])

    def most_similar(self, word: str, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` words with the highest cosine similarity to ``word`` (itself excluded)."""
        k = check_positive_int(k, "k")
        index = self.index(word)
        scores = self._unit @ self._unit[index]  # (vocabulary,)
        scores = scores.masked_fill(~self._searchable, -math.inf)
        scores[index] = -math.inf
        top = torch.topk(scores, min(k, int(self._searchable.sum()) - 1))
        return [(self.vocabulary.tokens[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist())]


# --- evaluation ---------------------------------------------------------------------------------


def _average_ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n; tied values share the mean of the ranks they occupy."""
    unique, inverse, counts = torch.unique(values, sorted=True, return_inverse=True, return_counts=True)
    last_rank = torch.cumsum(counts, 0).double()  # (unique,) rank of each group's last member
    mean_rank = last_rank - (counts.double() - 1) / 2
    return mean_rank[inverse]


def spearman(x: Sequence[float] | torch.Tensor, y: Sequence[float] | torch.Tensor) -> float:
    """Spearman's rank correlation: Pearson's correlation of the (tie-averaged) ranks."""
    x = torch.as_tensor(x, dtype=torch.float64)
    y = torch.as_tensor(y, dtype=torch.float64)
    if x.ndim != 1 or x.shape != y.shape or x.numel() < 2:
        raise ValueError(
            f"spearman needs two 1-D sequences of equal length >= 2, got shapes {tuple(x.shape)} and {tuple(y.shape)}"
        )
    rx, ry = _average_ranks(x), _average_ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = torch.sqrt((rx * rx).sum() * (ry * ry).sum())
    if float(denominator) == 0:
        raise ValueError("spearman is undefined when one of the sequences is constant")
    return float((rx * ry).sum() / denominator)


def evaluate_word_similarity(vectors: WordVectors, benchmark: str = "wordsim353") -> dict[str, float]:
    """Spearman correlation of cosine similarity with human scores on the pairs the vocabulary covers.

    Returns ``{"spearman": ..., "covered": pairs used, "total": pairs in the benchmark}``.
    """
    pairs = read_word_pairs(benchmark)
    covered = [(a, b, score) for a, b, score in pairs if a in vectors and b in vectors]
    if len(covered) < 2:
        raise ValueError(f"only {len(covered)} of the {len(pairs)} {benchmark} pairs are in the vocabulary")
    model_scores = [vectors.similarity(a, b) for a, b, _ in covered]
    correlation = spearman(model_scores, [score for _, _, score in covered])
    return {"spearman": correlation, "covered": len(covered), "total": len(pairs)}


# --- training -----------------------------------------------------------------------------------


def train_word2vec(
    sentences: list[list[str]],
    *,
    dimension: int = 100,
    window: int = 5,
    negatives: int = 5,
    min_count: int = 2,
    subsample: float = 1e-4,
    epochs: int = 3,
    batch_size: int = 4096,
    learning_rate: float = 0.01,
    seed: int = 0,
    show_progress: bool = True,
    num_threads: int | None = 1,
    noise_power: float = 0.75,
) -> WordVectors:
    """Train skip-gram with negative sampling on tokenised ``sentences``; return the input vectors.

    The vocabulary keeps words seen ``min_count`` times (plus ``<pad>`` = 0 and ``<unk>`` = 1, so that
    a Text CNN can use it as is); rarer words are removed from the corpus before the windows are
    taken, as in word2vec. Optimiser: Adam on the mean loss of large batches, its learning rate
    decaying linearly to zero like word2vec's (measured: plain SGD on big batches learns far less).

    ``num_threads``: PyTorch threads while training (restored afterwards). The default 1 because
    each operation is small: on a shared 2-core machine a second thread mostly spins and waits
    (measured: 4x the CPU time for the same epoch). ``None`` keeps PyTorch's setting.
    ``noise_power``: the exponent of the noise distribution (the paper's 3/4; 1 = unigram, 0 = uniform).
    """
    for name, value in (("dimension", dimension), ("window", window), ("negatives", negatives),
                        ("min_count", min_count), ("epochs", epochs), ("batch_size", batch_size)):
        check_positive_int(value, name)
    if not any(len(sentence) for sentence in sentences):
        raise ValueError("train_word2vec got an empty corpus: pass a list of tokenised sentences (lists of words)")
    vocabulary = Vocabulary.build(sentences, min_count=min_count)
    if len(vocabulary) <= 3:
        raise ValueError(f"fewer than two words occur at least min_count={min_count} times; lower min_count")
    counts = vocabulary.counts_by_id()
    encoded = [[vocabulary.index(w) for w in sentence if w in vocabulary] for sentence in sentences]
    ids = np.fromiter((i for sentence in encoded for i in sentence), dtype=np.int64)
    sentence_ids = np.repeat(np.arange(len(encoded)), [len(sentence) for sentence in encoded])
    keep = keep_probabilities(counts, subsample).numpy()
    noise = noise_distribution(counts, noise_power)

    torch.manual_seed(seed)
    model = SkipGramNegativeSampling(len(vocabulary), dimension)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, fused=True)  # fused: ~5x faster step on CPU

    def batches(epoch: int) -> PairBatches:
        return PairBatches(ids, sentence_ids, keep, noise, window=window, negatives=negatives,
                           batch_size=batch_size, seed=seed * 1000 + epoch)

    first_epoch = batches(1)
    total_steps = epochs * len(first_epoch)  # an estimate: the number of pairs varies a little per epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0001, 1 - s / total_steps))

    def step(batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> dict[str, float]:
        loss = model(*batch).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        return {"loss": float(loss.detach())}

    threads_before = torch.get_num_threads()
    try:
        if num_threads is not None:
            torch.set_num_threads(check_positive_int(num_threads, "num_threads"))
        history = train(step, lambda epoch: first_epoch if epoch == 1 else batches(epoch), epochs,
                        description="word2vec epoch", show_progress=show_progress)
    finally:
        torch.set_num_threads(threads_before)
    return WordVectors(vocabulary, model.input_vectors.weight.detach().clone(), history)
