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

Speed: an epoch's pairs and noise words are drawn at once, with no Python loop per pair or token; a
batch's scores are one sampled matrix product, with no (batch, 1 + k, d) copy of output vectors, and
each gradient table is one ``embedding_bag`` over the batch's entries grouped by word.
Evaluation: :mod:`helpers.word_benchmarks`; the count-based baseline: :mod:`helpers.count_vectors`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .core import check_choice, check_positive_int, check_shape, check_token_ids
from .datasets import read_text_lines
from .text import Vocabulary, tokenize
from .training import optimizer_step, train
from .word_vectors import WordVectors, cosine_similarity_matrix

__all__ = [
    "PairBatches", "SkipGramNegativeSampling", "WordVectors", "cosine_similarity_matrix", "keep_probabilities",
    "negative_sampling_loss", "noise_distribution", "noise_table", "one_hot", "read_sentences", "skipgram_pairs",
    "train_word2vec", "train_word2vec_on_file"
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
        raise ValueError(f"ids and sentence_ids must be 1-D and of equal length, got shapes {ids.shape} "
                         f"and {sentence_ids.shape}: one sentence number per token")
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
        return self.pair_losses(centres, contexts, negatives)

    def pair_losses(self, centres: torch.Tensor, contexts: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` without the argument checks (the trainer's ids are valid by construction)."""
        targets = torch.cat([contexts.unsqueeze(1), negatives], dim=1)  # (batch, 1 + k): one lookup for all
        return _PairLosses.apply(self.input_vectors.weight, self.output_vectors.weight, centres, targets)


class _PairLosses(torch.autograd.Function):
    """Eq. 4 for each pair, computed without gathering a (batch, 1 + k, d) block of output vectors.

    Scores s_ij = v_i · u_{t_ij} (t_i0 the context, t_ij the noise words) are a *sampled* matrix
    product: the entries of V Uᵀ at (i, t_ij) only (``sampled_addmm``). With labels y = (1, 0, …, 0),
    ∂loss_i/∂s_ij = σ(s_ij) − y_ij =: g_ij, and the gradients are sums over the same entries:
    ∂/∂v_c = Σ_{i: w_i = c} Σ_j g_ij u_{t_ij} and ∂/∂u_c = Σ_{t_ij = c} g_ij v_i, each one ``embedding_bag``
    (a weighted sum of rows, one bag per vocabulary word) once the entries are grouped by word.
    Checked against autograd in float64 (tests).
    """

    @staticmethod
    def forward(ctx, input_weight, output_weight, centres, targets):  # noqa: ANN001, ANN205
        v = input_weight.index_select(0, centres)  # (batch, d)
        batch, per_pair = targets.shape
        columns = output_weight.T  # (d, vocabulary)
        if per_pair > columns.shape[1]:  # a tiny vocabulary: sampled_addmm refuses more entries per row than columns
            columns = F.pad(columns, (0, per_pair - columns.shape[1]))
        row_starts = torch.arange(0, batch * per_pair + 1, per_pair, device=v.device)  # (batch + 1,)
        with warnings.catch_warnings(action="ignore", category=UserWarning):  # "CSR is in beta": tested here
            where = torch.sparse_csr_tensor(row_starts, targets.flatten(), v.new_zeros(batch * per_pair),
                                            (batch, columns.shape[1]), check_invariants=False)
        scores = torch.sparse.sampled_addmm(where, v, columns, beta=0.0).values().view(batch, per_pair)
        ctx.save_for_backward(output_weight, v, centres, targets, scores)
        return negative_sampling_loss(scores[:, 0], scores[:, 1:])  # (batch,)

    @staticmethod
    def backward(ctx, grad_loss):  # noqa: ANN001, ANN205
        output_weight, v, centres, targets, scores = ctx.saved_tensors
        g = torch.sigmoid(scores) * grad_loss.unsqueeze(1)  # (batch, 1 + k): (σ(s) − y) ∂L/∂loss_i,
        g[:, 0] -= grad_loss  # y = 1 for the context only
        vocabulary_size, per_pair = len(output_weight), targets.shape[1]
        # ∂/∂v_c: one bag per centre word c, holding the 1 + k targets of each of its pairs
        by_centre, centre_starts = _group_by_word(centres, vocabulary_size)
        grad_input = F.embedding_bag(targets[by_centre].flatten(), output_weight, centre_starts * per_pair,
                                     mode="sum", per_sample_weights=g[by_centre].flatten())  # (vocabulary, d)
        # ∂/∂u_c: one bag per target word c, holding the centre vector of each pair it is a target of
        by_target, target_starts = _group_by_word(targets.flatten(), vocabulary_size)
        pair_rows = by_target.div(per_pair, rounding_mode="floor")  # (batch·(1+k),) the pair of each entry
        grad_output = F.embedding_bag(pair_rows, v, target_starts, mode="sum",
                                      per_sample_weights=g.flatten()[by_target])  # (vocabulary, d)
        return grad_input, grad_output, None, None


def _group_by_word(words: torch.Tensor, vocabulary_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A stable counting sort of word ids: the positions of ``words`` grouped by id, and where each group starts.

    ``embedding_bag`` with these ``starts`` as offsets then sums one bag per vocabulary word (empty
    bags give zero rows). numpy's radix sort of 16-bit ids is about 10x faster than ``torch.sort`` here.
    """
    if words.device.type == "cpu" and vocabulary_size <= 2**16:
        order = torch.from_numpy(np.argsort(words.numpy().astype(np.uint16), kind="stable"))
    else:
        order = torch.sort(words, stable=True).indices
    counts = torch.bincount(words, minlength=vocabulary_size)  # (vocabulary,)
    return order, counts.cumsum(0) - counts


# --- batches for one epoch ----------------------------------------------------------------------


def noise_table(noise: torch.Tensor, size: int = 2**20) -> np.ndarray:
    """word2vec's unigram table: ``size`` slots, word w filling a share P_n(w) of them.

    Drawing a noise word is then a lookup of one random slot instead of a binary search over the
    cumulative distribution. Each word's share is rounded to 1/size (word2vec's table: 10^8 slots).
    """
    cumulative = np.cumsum(noise.numpy())
    slots = (np.arange(size) + 0.5) / size * cumulative[-1]  # the midpoint of each slot
    ids = np.minimum(np.searchsorted(cumulative, slots, side="right"), len(cumulative) - 1)  # (size,)
    return ids.astype(np.int32)  # half the bytes of int64 for the epoch's millions of draws


class PairBatches:
    """One epoch of shuffled (centres, contexts, negatives) batches, all drawn at once from a seed.

    Subsampling, windows, shuffling and noise words (slots of a :func:`noise_table`) are drawn anew
    each epoch, as word2vec does.
    """

    def __init__(self, ids: np.ndarray, sentence_ids: np.ndarray, keep: np.ndarray, table: np.ndarray,
                 *, window: int, negatives: int, batch_size: int, seed: int):
        generator = np.random.default_rng(seed)
        kept = generator.random(len(ids)) < keep[ids]  # subsampling: drop frequent words' occurrences
        centres, contexts = skipgram_pairs(ids[kept], sentence_ids[kept], window, generator)
        if len(centres) == 0:
            raise ValueError("no (centre, context) pairs: the corpus is too small or every sentence has one word")
        order = generator.permutation(len(centres))
        noise_words = table[generator.integers(0, len(table), size=(len(centres), negatives), dtype=np.int32)]
        self.centres = torch.from_numpy(centres[order])  # (pairs,)
        self.contexts = torch.from_numpy(contexts[order])  # (pairs,)
        self.negatives = torch.from_numpy(noise_words)  # (pairs, k)
        self.batch_size = batch_size

    def __len__(self) -> int:
        return math.ceil(len(self.centres) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        for start in range(0, len(self.centres), self.batch_size):
            end = start + self.batch_size
            yield self.centres[start:end], self.contexts[start:end], self.negatives[start:end]


# --- training -----------------------------------------------------------------------------------


def train_word2vec(
    sentences: list[list[str]], *, embedding_dim: int = 100, window: int = 5, negatives: int = 5, min_count: int = 2,
    subsample_threshold: float = 1e-4, epochs: int = 3, batch_size: int = 4096, learning_rate: float = 0.01,
    optimizer: str = "adam", seed: int = 0, show_progress: bool = True, num_threads: int | None = 1,
    noise_power: float = 0.75,
) -> WordVectors:
    """Train skip-gram with negative sampling on tokenised ``sentences``; return the input vectors.

    The vocabulary keeps words seen ``min_count`` times (plus ``<pad>`` = 0 and ``<unk>`` = 1, so that
    a Text CNN can use it as is); rarer words are removed from the corpus before the windows are
    taken, as in word2vec. ``optimizer="adam"``: Adam on the mean loss of each batch, its learning
    rate decaying linearly to zero like word2vec's; ``"sgd"``: plain SGD on the summed loss (word2vec's
    per-pair update, applied a batch at a time; try ``learning_rate=0.025``, word2vec's).

    ``num_threads``: PyTorch threads while training (restored afterwards; ``None`` keeps PyTorch's),
    1 because each operation is small. ``noise_power``: the exponent of P_n (the paper's 3/4).
    """
    for name, value in (("embedding_dim", embedding_dim), ("window", window), ("negatives", negatives),
                        ("min_count", min_count), ("epochs", epochs), ("batch_size", batch_size)):
        check_positive_int(value, name)
    check_choice(optimizer, ("adam", "sgd"), "optimizer")
    if not isinstance(sentences, (list, tuple)) or any(isinstance(s, str) for s in sentences):
        raise TypeError("sentences must be a list of tokenised sentences (lists of words), e.g. [['a', 'cat'], ...]; "
                        "split strings with helpers.text.tokenize")
    if not any(len(sentence) for sentence in sentences):
        raise ValueError("train_word2vec got an empty corpus: pass a list of tokenised sentences (lists of words)")
    vocabulary = Vocabulary.build(sentences, min_count=min_count)
    if len(vocabulary) <= 3:
        raise ValueError(f"fewer than two words occur at least min_count={min_count} times; lower min_count")
    counts = vocabulary.counts_by_id()
    position = {word: i for i, word in enumerate(vocabulary.tokens)}
    ids = np.fromiter((position.get(word, -1) for sentence in sentences for word in sentence), dtype=np.int64)
    sentence_ids = np.repeat(np.arange(len(sentences)), [len(sentence) for sentence in sentences])
    ids, sentence_ids = ids[ids >= 0], sentence_ids[ids >= 0]  # -1: rarer than min_count, removed
    keep = keep_probabilities(counts, subsample_threshold).numpy()
    table = noise_table(noise_distribution(counts, noise_power))

    torch.manual_seed(seed)
    model = SkipGramNegativeSampling(len(vocabulary), embedding_dim=embedding_dim)
    update = (torch.optim.Adam(model.parameters(), lr=learning_rate, fused=True)  # fused: ~5x faster on CPU
              if optimizer == "adam" else torch.optim.SGD(model.parameters(), lr=learning_rate))

    def batches(epoch: int) -> PairBatches:
        return PairBatches(ids, sentence_ids, keep, table, window=window, negatives=negatives,
                           batch_size=batch_size, seed=seed * 1000 + epoch)

    first_epoch = batches(1)
    total_steps = epochs * len(first_epoch)  # an estimate: the number of pairs varies a little per epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(update, lambda s: max(0.0001, 1 - s / total_steps))

    def step(batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> dict[str, float]:
        losses = model.pair_losses(*batch)  # (batch,)
        optimizer_step(update, losses.mean() if optimizer == "adam" else losses.sum())
        schedule.step()
        return {"loss": float(losses.detach().mean())}

    threads_before = torch.get_num_threads()
    try:
        if num_threads is not None:
            torch.set_num_threads(check_positive_int(num_threads, "num_threads"))
        history = train(step, lambda epoch: first_epoch if epoch == 1 else batches(epoch), epochs,
                        description="word2vec epoch", show_progress=show_progress)
    finally:
        torch.set_num_threads(threads_before)
    return WordVectors(vocabulary, model.input_vectors.weight, history, model.output_vectors.weight)


# --- a learner's own text -----------------------------------------------------------------------


def read_sentences(path: str | Path, *, encoding: str | None = None, lowercase: bool = True) -> list[list[str]]:
    """A text file as tokenised sentences, one per non-empty line (UTF-8 or Latin-1: ``read_text_lines``)."""
    lines = read_text_lines(path, encoding=encoding)
    sentences = [words for words in (tokenize(line, lowercase=lowercase) for line in lines) if words]
    if not sentences:
        raise ValueError(f"{path} has no words in any of its {len(lines)} lines: give a text file with "
                         "one sentence or paragraph per line")
    return sentences


def train_word2vec_on_file(path: str | Path, *, encoding: str | None = None, lowercase: bool = True,
                           **settings: object) -> WordVectors:
    """SGNS on a learner's text file; ``settings`` are :func:`train_word2vec`'s (``embedding_dim=``...)."""
    return train_word2vec(read_sentences(path, encoding=encoding, lowercase=lowercase), **settings)  # type: ignore[arg-type]
