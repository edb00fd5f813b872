"""Text processing shared by the text notebooks: Kim (2014)'s tokeniser, the vocabulary, padding.

- :func:`tokenize` is Kim's ``clean_str`` (the preprocessing of his CNN code), preceded by folding
  accented letters to ASCII (NFKD), so that "cliché" stays the word "cliche" instead of "clich".
- :class:`Vocabulary` maps words to ids: special tokens first (``<pad>`` = 0, ``<unk>`` = 1).
- :func:`pad_batch` and :func:`padded_loader` turn id lists into padded batches with PyTorch's own
  ``pad_sequence`` and ``DataLoader``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Sampler

from helpers.core.checks import check_integers, check_positive_int, check_same_length, check_words

__all__ = ["Vocabulary", "clean_str", "fold_accents", "pad_batch", "padded_loader", "tokenize"]


def fold_accents(text: str) -> str:
    """ "cliché" -> "cliche": decompose (NFKD) and drop the combining marks."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def clean_str(text: str, lowercase: bool = True) -> str:
    """Kim (2014)'s tokenisation (his ``clean_str``): split off clitics and punctuation.

    Kim lower-cases every data set except TREC (question types depend on case): ``lowercase=False``.
    """
    text = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", fold_accents(text))
    for clitic in ("'s", "'ve", "n't", "'re", "'d", "'ll"):
        text = text.replace(clitic, " " + clitic)
    for mark in ",!()?":
        text = text.replace(mark, f" {mark} ")
    text = re.sub(r"\s{2,}", " ", text).strip()
    return text.lower() if lowercase else text


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """``clean_str`` then split on spaces."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize takes one string, got {type(text).__name__}")
    return clean_str(text, lowercase).split()


class Vocabulary:
    """Words <-> integer ids. Special tokens come first (``<pad>`` is id 0, ``<unk>`` id 1 by default)."""

    def __init__(self, tokens: Sequence[str], counts: Counter | None = None, unknown: str | None = "<unk>"):
        check_words(tokens, "tokens")
        if len(set(tokens)) != len(tokens):
            raise ValueError("Vocabulary tokens must be unique")
        self.tokens = list(tokens)
        self._ids = {token: index for index, token in enumerate(self.tokens)}
        self._counts = counts if counts is not None else Counter()
        self.unknown = unknown
        if unknown is not None and unknown not in self._ids:
            raise ValueError(f"the unknown token {unknown!r} must be one of the tokens")

    @classmethod
    def build(
        cls,
        sentences: Iterable[Sequence[str]],
        *,
        min_count: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = ("<pad>", "<unk>"),
        unknown: str | None = "<unk>",
    ) -> Vocabulary:
        """Count words; keep those seen ``min_count`` times, most frequent first (ties alphabetical).

        ``max_size`` counts the special tokens too, so it must leave room for at least one word.
        """
        min_count = check_positive_int(min_count, "min_count")
        check_words(specials, "specials", hint="e.g. specials=('<pad>', '<unk>')")
        if max_size is not None and check_positive_int(max_size, "max_size") <= len(specials):
            raise ValueError(
                f"max_size={max_size} counts the {len(specials)} special tokens {list(specials)} too, so it leaves "
                f"no room for a word: give max_size > {len(specials)}, or None for every word"
            )
        if isinstance(sentences, str):
            raise TypeError(
                "Vocabulary.build takes tokenised sentences (lists of words), got one string; "
                "tokenize it first, e.g. [tokenize(line) for line in lines]"
            )
        sentences = list(sentences)
        if any(isinstance(sentence, str) and len(sentence) > 1 for sentence in sentences):
            raise TypeError(
                "Vocabulary.build takes lists of words, got strings: it would build a vocabulary of "
                "characters. Tokenize each sentence first (or pass list(text) for characters)"
            )
        counts = Counter(word for sentence in sentences for word in sentence)
        if not counts:
            raise ValueError("cannot build a vocabulary from an empty corpus (no words in the sentences given)")
        kept = [w for w, c in counts.items() if c >= min_count and w not in specials]
        kept.sort(key=lambda w: (-counts[w], w))
        if max_size is not None:
            kept = kept[: max_size - len(specials)]
        return cls([*specials, *kept], counts, unknown)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._ids

    def count(self, token: str) -> int:
        """How often ``token`` was seen in the corpus the vocabulary was built from (0 if never)."""
        return self._counts.get(token, 0)

    def counts_by_id(self) -> torch.Tensor:
        """Corpus count of every id, ``(len(self),)`` float64; special tokens count 0."""
        return torch.tensor([float(self._counts.get(token, 0)) for token in self.tokens], dtype=torch.float64)

    def index(self, token: str) -> int:
        """The id of ``token``; unknown words map to ``<unk>``, or raise KeyError if there is none."""
        if token in self._ids:
            return self._ids[token]
        if self.unknown is None:
            raise KeyError(f"{token!r} is not in the vocabulary ({len(self)} tokens) and it has no unknown token")
        return self._ids[self.unknown]

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """The ids of a list of words (a string is refused: it would be encoded character by character)."""
        check_words(tokens, "tokens")
        return [self.index(token) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The words of a 1-D list or tensor of integer ids (floats are refused, not truncated)."""
        ids = check_integers(ids, "ids", hint="decode takes the ids of one sentence").tolist()
        bad = [i for i in ids if not 0 <= i < len(self.tokens)]
        if bad:
            raise ValueError(f"ids must lie in [0, {len(self.tokens)}), got {bad[:5]}: ids from another vocabulary?")
        return [self.tokens[i] for i in ids]


def pad_batch(
    sequences: Sequence[Sequence[int] | torch.Tensor], padding_id: int = 0, min_length: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into a ``(batch, max_len)`` tensor; also return the true lengths ``(batch,)``.

    ``min_length`` pads further when every sequence is shorter (a CNN window wider than the sentence).
    Each sequence is a 1-D list or tensor of integer ids: floats and nested lists are refused.
    """
    if isinstance(sequences, str):
        raise TypeError(f"pad_batch takes a list of id sequences, got the string {sequences[:40]!r}")
    if len(sequences) == 0:
        raise ValueError("pad_batch got no sequences: give a non-empty list of id sequences")
    _check_padding(padding_id, min_length)
    tensors = [check_integers(s, f"sequences[{index}]") for index, s in enumerate(sequences)]
    return _pad(tensors, padding_id, min_length)


def _check_padding(padding_id: object, min_length: object) -> None:
    if isinstance(padding_id, bool) or not isinstance(padding_id, (int, np.integer)) or padding_id < 0:
        raise ValueError(f"padding_id must be an id (an int >= 0), got {padding_id!r}")
    check_positive_int(min_length, "min_length")


def _pad(tensors: list[torch.Tensor], padding_id: int, min_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`pad_batch` on checked 1-D int64 tensors."""
    lengths = torch.tensor([len(t) for t in tensors], dtype=torch.int64)
    padded = pad_sequence(tensors, batch_first=True, padding_value=padding_id)  # (batch, max_len)
    if padded.shape[1] < min_length:
        padded = torch.nn.functional.pad(padded, (0, min_length - padded.shape[1]), value=padding_id)
    return padded, lengths


def padded_loader(
    sequences: Sequence[Sequence[int]],
    labels: Sequence[int] | torch.Tensor,
    *,
    batch_size: int,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    padding_id: int = 0,
    min_length: int = 1,
    batch_sampler: Sampler[list[int]] | None = None,
) -> DataLoader:
    """A ``DataLoader`` of ``(ids (batch, max_len), labels (batch,))``, padded per batch.

    With ``shuffle=True`` pass a seeded ``generator`` (``seed_everything`` returns one): each epoch
    then draws a new order, and the whole run repeats exactly. A ``batch_sampler`` (e.g. one that puts
    sentences of similar length together) chooses the batches instead of ``batch_size``/``shuffle``.
    """
    labels = check_integers(labels, "labels", hint="class ids, e.g. from label_ids(labels)")
    if isinstance(sequences, str):
        raise TypeError("sequences must be a list of id sequences, got one string")
    check_same_length(sequences, "sequences", labels, "labels", hint="give one label per sequence")
    _check_padding(padding_id, min_length)
    tensors = [check_integers(s, f"sequences[{index}]") for index, s in enumerate(sequences)]
    empty = [index for index, sequence in enumerate(tensors) if len(sequence) == 0]
    if empty:
        raise ValueError(f"sequences {empty[:5]} are empty (no words after tokenising): drop them before batching")
    examples = list(zip(tensors, labels))

    def collate(batch: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, _ = _pad([ids for ids, _ in batch], padding_id, min_length)
        return ids, torch.stack([label for _, label in batch])

    if batch_sampler is not None:
        return DataLoader(examples, batch_sampler=batch_sampler, collate_fn=collate)
    check_positive_int(batch_size, "batch_size")
    return DataLoader(examples, batch_size=batch_size, shuffle=shuffle, generator=generator, collate_fn=collate)
