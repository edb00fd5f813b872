"""word2vec's trainer: skip-gram with negative sampling on a tokenised corpus, and on a learner's file.

Each epoch draws its (centre, context) pairs and noise words at once, with no Python loop per pair or
token (:class:`PairBatches`); a batch's losses come from :func:`helpers.word_embeddings.fast_sgns.pair_losses`
and the step goes through the course's one training loop, :func:`helpers.training.loop.train`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from helpers.core import (
    check_choice,
    check_finite_number,
    check_positive_int,
    check_positive_number,
    numpy_generator,
    resolve_device,
    seed_stream,
    seed_torch,
)
from helpers.data.readers import read_text_lines
from helpers.data.text import Vocabulary, tokenize
from helpers.training import optimizer_step, train
from helpers.word_embeddings.fast_sgns import pair_losses
from helpers.word_embeddings.skipgram import (
    SkipGramNegativeSampling,
    keep_probabilities,
    noise_distribution,
    skipgram_pairs,
)
from helpers.word_embeddings.word_vectors import WordVectors

__all__ = ["PairBatches", "noise_table", "read_sentences", "train_word2vec", "train_word2vec_on_file"]


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
    each epoch, as word2vec does. ``pair_fraction`` < 1 keeps that share of the epoch's shuffled pairs
    (the first ones after shuffling: a random subset, drawn anew each epoch), a control that trains on
    fewer pairs with the same window; 1 keeps every pair and draws exactly what it always drew.
    """

    def __init__(
        self,
        ids: np.ndarray,
        sentence_ids: np.ndarray,
        keep: np.ndarray,
        table: np.ndarray,
        *,
        window: int,
        negatives: int,
        batch_size: int,
        seed: int,
        pair_fraction: float = 1.0,
    ):
        if not 0 < pair_fraction <= 1:
            raise ValueError(f"pair_fraction must lie in (0, 1], e.g. 0.5 for half the pairs, got {pair_fraction!r}")
        generator = numpy_generator(seed)
        kept = generator.random(len(ids)) < keep[ids]  # subsampling: drop frequent words' occurrences
        centres, contexts = skipgram_pairs(ids[kept], sentence_ids[kept], window, generator)
        if len(centres) == 0:
            raise ValueError("no (centre, context) pairs: the corpus is too small or every sentence has one word")
        order = generator.permutation(len(centres))
        if pair_fraction < 1:
            order = order[: max(1, round(len(order) * pair_fraction))]
        noise_words = table[generator.integers(0, len(table), size=(len(order), negatives), dtype=np.int32)]
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
    sentences: list[list[str]],
    *,
    embedding_dim: int = 100,
    window: int = 5,
    negatives: int = 5,
    min_count: int = 2,
    subsample_threshold: float = 1e-4,
    epochs: int = 3,
    batch_size: int = 4096,
    learning_rate: float = 0.01,
    optimizer: str = "adam",
    seed: int = 0,
    show_progress: bool = True,
    num_threads: int | None = 1,
    noise_power: float = 0.75,
    device: torch.device | str | None = None,
    pair_fraction: float = 1.0,
) -> WordVectors:
    """Train skip-gram with negative sampling on tokenised ``sentences``; return the input vectors.

    The vocabulary keeps words seen ``min_count`` times (plus ``<pad>`` = 0 and ``<unk>`` = 1, so that
    a Text CNN can use it as is); rarer words are removed from the corpus before the windows are
    taken, as in word2vec. ``optimizer="adam"``: Adam on the mean loss of each batch, its learning
    rate decaying linearly to zero like word2vec's; ``"sgd"``: plain SGD on the summed loss (word2vec's
    per-pair update, applied a batch at a time; try ``learning_rate=0.025``, word2vec's).

    ``num_threads``: PyTorch threads while training (restored afterwards; ``None`` keeps PyTorch's),
    1 because each operation is small. ``noise_power``: the exponent of P_n (the paper's 3/4). ``device``: where
    the model trains (``None``: the CPU); the pairs are drawn on the CPU and the vectors come back on the CPU.
    ``pair_fraction``: train on that random share of each epoch's (centre, context) pairs (1: all of them, the
    paper's; notebook 01 uses 0.5 to give window 5 as many pairs as window 2 yields).
    """
    device = resolve_device(device)
    for name, value in (
        ("embedding_dim", embedding_dim),
        ("window", window),
        ("negatives", negatives),
        ("min_count", min_count),
        ("epochs", epochs),
        ("batch_size", batch_size),
    ):
        check_positive_int(value, name)
    check_choice(optimizer, ("adam", "sgd"), "optimizer")
    check_positive_number(learning_rate, "learning_rate", hint="e.g. 0.01 for Adam, 0.025 for SGD (word2vec's)")
    check_finite_number(noise_power, "noise_power", hint="the exponent of P_n, the paper's 0.75")
    if not isinstance(sentences, (list, tuple)) or any(isinstance(s, str) for s in sentences):
        raise TypeError(
            "sentences must be a list of tokenised sentences (lists of words), e.g. [['a', 'cat'], ...]; "
            "split strings with helpers.data.text.tokenize"
        )
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

    seed_torch(seed)
    model = SkipGramNegativeSampling(len(vocabulary), embedding_dim=embedding_dim).to(device)
    update = (
        torch.optim.Adam(model.parameters(), lr=learning_rate, fused=True)  # fused: ~5x faster on CPU
        if optimizer == "adam"
        else torch.optim.SGD(model.parameters(), lr=learning_rate)
    )

    def batches(epoch: int) -> PairBatches:
        return PairBatches(
            ids,
            sentence_ids,
            keep,
            table,
            window=window,
            negatives=negatives,
            batch_size=batch_size,
            seed=seed_stream("word2vec.epoch_pairs", seed, epoch),
            pair_fraction=pair_fraction,
        )

    first_epoch = batches(1)
    total_steps = epochs * len(first_epoch)  # an estimate: the number of pairs varies a little per epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(update, lambda s: max(0.0001, 1 - s / total_steps))

    def step(batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> dict[str, float]:
        losses = pair_losses(model, *(ids.to(device) for ids in batch))  # (batch,)
        optimizer_step(update, losses.mean() if optimizer == "adam" else losses.sum())
        schedule.step()
        return {"loss": float(losses.detach().mean())}

    threads_before = torch.get_num_threads()
    try:
        if num_threads is not None:
            torch.set_num_threads(check_positive_int(num_threads, "num_threads"))
        history = train(
            step,
            lambda epoch: first_epoch if epoch == 1 else batches(epoch),
            epochs,
            model=model,
            description="word2vec epoch",
            show_progress=show_progress,
        )
    finally:
        torch.set_num_threads(threads_before)
    vectors = [table.weight.detach().cpu() for table in (model.input_vectors, model.output_vectors)]
    return WordVectors(vocabulary, vectors[0], history, vectors[1])


# --- a learner's own text -----------------------------------------------------------------------


def read_sentences(path: str | Path, *, encoding: str | None = None, lowercase: bool = True) -> list[list[str]]:
    """A text file as tokenised sentences, one per non-empty line (UTF-8 or Latin-1: ``read_text_lines``)."""
    lines = read_text_lines(path, encoding=encoding)
    sentences = [words for words in (tokenize(line, lowercase=lowercase) for line in lines) if words]
    if not sentences:
        raise ValueError(
            f"{path} has no words in any of its {len(lines)} lines: give a text file with "
            "one sentence or paragraph per line"
        )
    return sentences


def train_word2vec_on_file(
    path: str | Path, *, encoding: str | None = None, lowercase: bool = True, **settings: object
) -> WordVectors:
    """SGNS on a learner's text file; ``settings`` are :func:`train_word2vec`'s (``embedding_dim=``...)."""
    return train_word2vec(read_sentences(path, encoding=encoding, lowercase=lowercase), **settings)  # type: ignore[arg-type]
