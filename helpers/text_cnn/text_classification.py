"""Sentence classification on any labelled text, with Kim (2014)'s evaluation protocol.

The path a learner takes with their own file, and the one notebook 02 takes with MR:

1. :func:`read_labelled_file`: one example per line, a label column and the sentence; every bad row of
   the file is named in one message, with its line number (or left out, with ``skip_bad_lines=True``).
2. :func:`train_text_cnn`: (sentences, labels) -> a trained :class:`TextClassifier`. A stratified tenth
   of the data is held out for early stopping (Kim: "early stopping on dev sets"), the number of
   classes comes from the labels, and the best epoch's weights are kept.
3. :func:`cross_validate_text_cnn`: Kim's protocol, k-fold cross-validation (stratified folds from
   :func:`stratified_folds`), returning every fold's test accuracy with their mean ± standard error.
   :func:`cross_validate` runs any other model (the linear baselines) on the same folds, and
   :func:`compare_text_cnns` several settings of the CNN (ablations). ``workers=2`` trains two folds
   at once in processes of one thread each, with the same results.

Training batches group sentences of similar length (:class:`LengthBucketSampler`): a batch is padded
to its longest sentence, so mixing lengths spends most of the convolution on padding.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Sampler

from helpers.core import (
    check_integers,
    check_positive_int,
    check_positive_number,
    check_unique,
    model_device,
    resolve_device,
    seed_torch,
    torch_generator,
)
from helpers.data.readers import bad_lines_report, decode_lines
from helpers.data.text import Vocabulary, pad_batch, padded_loader, tokenize
from helpers.text_cnn.model import TextCNN, embedding_matrix
from helpers.training import History, evaluate_classifier, supervised_step, train
from helpers.training.cross_validation import CrossValidation, cross_validate_arms, label_ids, stratified_split

__all__ = [
    "LabelledText",
    "LengthBucketSampler",
    "length_bucketed_loader",
    "TextClassifier",
    "compare_text_cnns",
    "cross_validate_text_cnn",
    "read_labelled_file",
    "train_text_cnn",
]


# --- reading a learner's file -------------------------------------------------------------------


@dataclass
class LabelledText:
    """The examples of a labelled file: ``texts[i]`` has label ``labels[i]`` and sits on line ``line_numbers[i]``.

    ``print(data)`` shows how many examples there are and every label with its count (:attr:`label_counts`).
    """

    texts: list[str]
    labels: list[str]
    line_numbers: list[int]

    @property
    def label_counts(self) -> dict[str, int]:
        """Each label and how many examples carry it, the most frequent first (ties alphabetical)."""
        return _label_counts(self.labels)

    def __str__(self) -> str:
        counts = ", ".join(f"{label!r}: {count}" for label, count in self.label_counts.items())
        return f"{len(self.texts)} examples, {len(self.label_counts)} labels: {counts}"


def _label_counts(labels: Sequence[str]) -> dict[str, int]:
    return dict(sorted(Counter(labels).items(), key=lambda item: (-item[1], item[0])))


_ADVICE = {
    "encoding": "re-save the file in one encoding (UTF-8), or pass encoding=",
    "fields": "check label_column= and separator=",
    "empty": "remove a line that holds only a label, or add its sentence",
    "unknown": "fix the label, or add it to classes=",
    "rare": (
        "a label seen on fewer than min_label_count lines is likely a typo, or a line without its label (its "
        "first word became the label): fix it, name the labels with classes=[...], or lower min_label_count="
    ),
}


def read_labelled_file(
    path: str | Path,
    *,
    label_column: int = 0,
    separator: str | None = None,
    encoding: str | None = None,
    classes: Sequence[str] | None = None,
    min_label_count: int = 2,
    skip_bad_lines: bool = False,
) -> LabelledText:
    """One example per line: the field ``label_column`` (0 = first, -1 = last) is the label, the rest the text.

    Fields are split on ``separator`` (``None``: any run of spaces or tabs, as ``str.split``). Blank
    lines are skipped; lines keep their numbers in the file (see :func:`helpers.data.readers.read_text_lines`
    for the encoding). A line is bad if it does not decode, lacks the label column, has no words after its
    label, or has a label outside ``classes``; without ``classes``, a label found on fewer than
    ``min_label_count`` lines (default 2) is taken for a typo. Every bad line of the file is named in one
    ValueError (the first few described, the rest counted), or, with ``skip_bad_lines=True``, left out with
    a printed report. ``print(data)`` lists the labels with their counts.
    """
    if isinstance(label_column, bool) or not isinstance(label_column, int):
        raise TypeError(f"label_column must be an int (0 = first field, -1 = last), got {label_column!r}")
    if classes is not None:
        classes = check_unique(classes, "classes")
    min_label_count = check_positive_int(min_label_count, "min_label_count")
    if not isinstance(skip_bad_lines, bool):
        raise TypeError(f"skip_bad_lines must be True or False, got {skip_bad_lines!r}")
    lines, undecodable = decode_lines(path, encoding)
    bad: dict[int, tuple[str, str]] = {}  # line number -> (kind, what is wrong)
    texts, labels, numbers = [], [], []
    for number, line in enumerate(lines, start=1):
        if number in undecodable:
            bad[number] = ("encoding", f"{undecodable[number]}: {line[:60]!r}")
            continue
        if not line.strip():
            continue
        fields = line.split(separator) if separator is not None else line.split()
        if not -len(fields) <= label_column < len(fields):
            what = f"has {len(fields)} field(s), so label_column={label_column} does not exist: {line[:60]!r}"
            bad[number] = ("fields", what)
            continue
        label = fields.pop(label_column).strip()
        text = (separator or " ").join(fields)
        if not tokenize(text):
            bad[number] = ("empty", f"has the label {label!r} but no words after tokenising: {line[:60]!r}")
        elif classes is not None and label not in classes:
            bad[number] = ("unknown", f"has the label {label!r}, which is not one of classes={classes}")
        else:
            texts.append(text)
            labels.append(label)
            numbers.append(number)
    counts = _label_counts(labels)
    rare = {label for label, count in counts.items() if count < min_label_count} if classes is None else set()
    if rare:  # without classes=, a label on fewer than min_label_count lines is taken for a typo
        for number, label in zip(numbers, labels):
            if label in rare:
                where = f"{counts[label]} line{'s' * (counts[label] != 1)}"
                bad[number] = ("rare", f"has the label {label!r}, found on {where} only (a typo?)")
        kept = [index for index, label in enumerate(labels) if label not in rare]
        texts, labels, numbers = [texts[i] for i in kept], [labels[i] for i in kept], [numbers[i] for i in kept]
    if bad:
        report = _bad_lines_report(path, bad, len(lines), counts)
        if not skip_bad_lines:
            raise ValueError(f"{report}\nFix them, or pass skip_bad_lines=True to leave them out.")
        print(f"{report}\nThese lines are left out (skip_bad_lines=True).")
    if not texts:
        raise ValueError(f"{path} holds no labelled line")
    return LabelledText(texts, labels, numbers)


def _bad_lines_report(path: str | Path, bad: dict[int, tuple[str, str]], total: int, counts: dict[str, int]) -> str:
    """Every bad line in one message (:func:`helpers.data.readers.bad_lines_report`), then what to do."""
    report = bad_lines_report(path, {number: what for number, (_, what) in bad.items()}, total)
    kinds = dict.fromkeys(bad[number][0] for number in sorted(bad))
    advice = [f"  {_ADVICE[kind]}" for kind in kinds]
    seen = ", ".join(f"{label!r}: {count}" for label, count in counts.items())
    return "\n".join([report, "What to do:", *advice, f"Labels seen: {seen}"])


# --- batching -------------------------------------------------------------------------------------


class LengthBucketSampler(Sampler[list[int]]):
    """Batches of sentences of similar length, in a new random order every epoch.

    Sentences are sorted by length (ties in random order), cut into batches, and the batches shuffled:
    each batch is padded only to lengths its members nearly share.
    """

    def __init__(
        self, lengths: Sequence[int], batch_size: int, *, shuffle: bool, generator: torch.Generator | None = None
    ):
        self.lengths = check_integers(lengths, "lengths").to(torch.float64)
        self.batch_size, self.shuffle, self.generator = check_positive_int(batch_size, "batch_size"), shuffle, generator

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        if self.shuffle:  # random fractions break ties between equal lengths in a new way each epoch
            keys = self.lengths + torch.rand(len(self.lengths), generator=self.generator, dtype=torch.float64)
        else:
            keys = self.lengths
        order = torch.argsort(keys, stable=True).tolist()
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=self.generator).tolist()]
        yield from batches


def length_bucketed_loader(
    encoded: Sequence[Sequence[int]],
    targets: Sequence[int] | np.ndarray,
    *,
    batch_size: int,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    padding_id: int = 0,
) -> DataLoader:
    """:func:`helpers.data.text.padded_loader` whose batches hold sentences of similar length.

    ``(ids (batch, longest), labels (batch,))`` batches; with ``shuffle`` a new order every epoch.
    """
    sampler = LengthBucketSampler([len(ids) for ids in encoded], batch_size, shuffle=shuffle, generator=generator)
    return padded_loader(
        encoded, np.asarray(targets), batch_size=batch_size, padding_id=padding_id, batch_sampler=sampler
    )


# --- the trained model ----------------------------------------------------------------------------


@dataclass
class TextClassifier:
    """A trained Text CNN with what it needs to read new text: its vocabulary, classes and tokeniser."""

    model: TextCNN
    vocabulary: Vocabulary
    classes: list
    lowercase: bool = True
    history: History = field(default_factory=History)

    @property
    def best_epoch(self) -> int | None:
        """The epoch whose weights were kept (early stopping on the validation tenth)."""
        return self.history.best_epoch

    def encode(self, sentences: Sequence[str | Sequence[str]]) -> list[list[int]]:
        return [self.vocabulary.encode(_words(sentence, self.lowercase)) for sentence in sentences]

    @torch.no_grad()
    def predict(self, sentences: Sequence[str | Sequence[str]]) -> list:
        """The predicted class of each sentence (a string is tokenised as in training)."""
        if isinstance(sentences, str):
            raise TypeError("predict takes a list of sentences; wrap a single sentence in a list")
        encoded = self.encode(sentences)
        empty = [index for index, ids in enumerate(encoded) if not ids]
        if empty:
            raise ValueError(f"sentences {empty[:5]} have no words after tokenising: nothing to classify")
        self.model.eval()
        ids = pad_batch(encoded, self.model.padding_id)[0].to(model_device(self.model))
        predictions = self.model(ids).argmax(dim=1)
        return [self.classes[i] for i in predictions.tolist()]

    def accuracy(self, sentences: Sequence[str | Sequence[str]], labels: Sequence[Hashable]) -> float:
        """The share of ``sentences`` whose predicted class is their label (e.g. a test file's, read with
        ``read_labelled_file(path, classes=classifier.classes)``)."""
        if isinstance(sentences, str):
            raise TypeError("accuracy takes a list of sentences; wrap a single sentence in a list")
        targets, _ = label_ids(labels, self.classes)
        encoded = _checked_encoding(self.encode(sentences), targets)
        loader = length_bucketed_loader(encoded, targets, batch_size=500, padding_id=self.model.padding_id)
        return evaluate_classifier(self.model, loader, device=model_device(self.model))["accuracy"]


def _words(sentence: str | Sequence[str], lowercase: bool) -> list[str]:
    return tokenize(sentence, lowercase=lowercase) if isinstance(sentence, str) else list(sentence)


def _checked_encoding(encoded: list[list[int]], targets: np.ndarray) -> list[list[int]]:
    if len(encoded) != len(targets):
        raise ValueError(f"got {len(encoded)} sentences but {len(targets)} labels; give one label per sentence")
    empty = [index for index, ids in enumerate(encoded) if not ids]
    if empty:
        raise ValueError(
            f"sentences {empty[:5]} (0-based) have no words after tokenising; drop them "
            "(read_labelled_file names such lines in the file)"
        )
    return encoded


def train_text_cnn(
    sentences: Sequence[str | Sequence[str]],
    labels: Sequence[Hashable],
    *,
    mode: str = "rand",
    word_vectors: object | None = None,
    embedding_dim: int = 50,
    window_sizes: Sequence[int] = (3, 4, 5),
    feature_maps: int = 50,
    dropout: float = 0.5,
    pooling: str = "max",
    max_norm: float | None = 3.0,
    min_count: int = 2,
    lowercase: bool = True,
    batch_size: int = 50,
    learning_rate: float = 3e-3,
    max_epochs: int = 10,
    patience: int = 1,
    validation_fraction: float = 0.1,
    seed: int = 0,
    show_progress: bool = True,
    device: torch.device | str | None = None,
) -> TextClassifier:
    """Train Kim (2014)'s CNN on ``sentences`` (strings, or lists of words) and their ``labels``.

    The defaults are notebook 02's CNN-rand: 50-d vectors of the words seen ``min_count`` = 2 times,
    widths 3/4/5 × 50 maps, dropout 0.5, max-norm 3 (``None``: off), Adam (lr 3e-3, batches of 50; the word
    table by SparseAdam, which updates only the rows of the words a batch holds).
    A stratified ``validation_fraction`` of the data is held out; training stops ``patience`` epochs
    after the best validation accuracy (``max_epochs`` is only a cap) and keeps that epoch's weights.
    ``mode`` "static", "non-static" or "multichannel" needs ``word_vectors`` (a
    :class:`helpers.word_embeddings.word_vectors.WordVectors` or a dict word -> vector); their words join the
    vocabulary, so that a word never seen in training still has its pretrained vector.
    ``device``: where the model trains (``None``: the CPU); the returned classifier's model stays there.
    ``lowercase``: Kim lower-cases every data set except TREC, whose question types depend on case
    ("What is NASA ?"): pass ``lowercase=False`` there.
    """
    device = resolve_device(device)
    targets, classes = label_ids(labels)
    if len(classes) < 2:
        raise ValueError(f"every label is {classes[0]!r}: a classifier needs at least two classes")
    if isinstance(sentences, str):
        raise TypeError("sentences must be a list of sentences, got one string")
    words = [_words(sentence, lowercase) for sentence in sentences]
    _checked_encoding(words, targets)
    if (mode == "rand") != (word_vectors is None):
        raise ValueError(f"mode {mode!r} {'takes no' if mode == 'rand' else 'needs'} word_vectors=")
    for name, value in (("max_epochs", max_epochs), ("patience", patience), ("min_count", min_count)):
        check_positive_int(value, name)
    check_positive_number(learning_rate, "learning_rate", hint="Adam's step size, e.g. 3e-3")
    if max_norm is not None:
        check_positive_number(max_norm, "max_norm", hint="Kim's s = 3, or None for no constraint")
    rest, validation = stratified_split(targets.tolist(), validation_fraction, seed=seed)
    vocabulary = Vocabulary.build([words[i] for i in rest], min_count=min_count)
    pretrained = None
    if word_vectors is not None:
        known = word_vectors.vocabulary.tokens if hasattr(word_vectors, "vocabulary") else list(word_vectors)
        vocabulary = Vocabulary([*vocabulary.tokens, *(w for w in known if w not in vocabulary)])
        lookup = word_vectors.vector if hasattr(word_vectors, "vector") else word_vectors.__getitem__
        embedding_dim = len(lookup(known[-1]))  # the width of the pretrained vectors
        pretrained, _ = embedding_matrix(vocabulary, word_vectors, embedding_dim, seed=seed)
    encoded = [vocabulary.encode(sentence) for sentence in words]

    seed_torch(seed)
    model = TextCNN(
        len(vocabulary),
        num_classes=len(classes),
        embedding_dim=embedding_dim,
        mode=mode,
        pretrained=pretrained,
        window_sizes=window_sizes,
        feature_maps=feature_maps,
        dropout=dropout,
        pooling=pooling,
        padding_id=vocabulary.index("<pad>"),
        sparse_gradients=True,
    ).to(device)
    # The tuned word table by SparseAdam (Adam's update on the rows a batch used; the others wait), the rest
    # by Adam, fused: one kernel for the whole update. Together ~15 % less time per epoch than dense Adam.
    table = [] if model.embedding is None else [model.embedding.weight]
    others = [p for p in model.parameters() if p.requires_grad and all(p is not t for t in table)]
    optimizer = torch.optim.Adam(others, lr=learning_rate, fused=True)
    table_optimizer = torch.optim.SparseAdam(table, lr=learning_rate) if table else None

    def after_step() -> None:
        if table_optimizer is not None:
            table_optimizer.step()
            table_optimizer.zero_grad(set_to_none=True)
        if max_norm is not None:
            model.apply_max_norm(max_norm)

    step = supervised_step(model, optimizer, F.cross_entropy, device=device, after_step=after_step)
    generator = torch_generator(seed)
    training = length_bucketed_loader(
        [encoded[i] for i in rest], targets[rest], batch_size=batch_size, shuffle=True, generator=generator
    )
    held_out = length_bucketed_loader([encoded[i] for i in validation], targets[validation], batch_size=500)
    history = train(
        step,
        training,
        max_epochs,
        model=model,
        monitor="val_accuracy",
        patience=patience,
        evaluate=lambda: evaluate_classifier(model, held_out, prefix="val_", device=device),
        show_progress=show_progress,
    )
    model.eval()
    return TextClassifier(model, vocabulary, classes, lowercase, history)


# --- Kim's protocol -------------------------------------------------------------------------------


def cross_validate_text_cnn(
    sentences: Sequence[str | Sequence[str]],
    labels: Sequence[Hashable],
    *,
    num_folds: int = 10,
    folds_to_run: int | None = None,
    seed: int = 0,
    workers: int = 1,
    **settings,
) -> CrossValidation:
    """Kim's protocol: :func:`train_text_cnn` (with ``settings``) on each training fold, tested on its fold.

    Each fold's validation tenth comes from its training part only; the test fold is touched once.
    ``workers`` > 1 trains that many folds at once, in processes of one thread (same results).
    """
    name = settings.get("mode", "rand")
    return compare_text_cnns(
        sentences, labels, {name: settings}, num_folds=num_folds, folds_to_run=folds_to_run, seed=seed, workers=workers
    )[name]


def compare_text_cnns(
    sentences: Sequence[str | Sequence[str]],
    labels: Sequence[Hashable],
    arms: dict[str, dict],
    *,
    num_folds: int = 10,
    folds_to_run: int | dict[str, int] | None = None,
    seed: int = 0,
    workers: int = 1,
) -> dict[str, CrossValidation]:
    """:func:`cross_validate_text_cnn` for several settings on the same folds: ``{name: CrossValidation}``.

    ``arms`` maps a name to the keyword arguments of :func:`train_text_cnn`, e.g.
    ``{"widths {3}": dict(window_sizes=(3,))}``; ``folds_to_run`` may name a count per arm. With
    ``workers`` > 1 all (arm, fold) runs share the processes.
    """
    if len(sentences) != len(labels):
        raise ValueError(f"got {len(sentences)} sentences but {len(labels)} labels; give one label per sentence")
    labels = list(labels.tolist() if isinstance(labels, (np.ndarray, torch.Tensor)) else labels)
    label_ids(labels)  # refuse float labels before any training
    sentences = list(sentences)
    runs = {
        name: functools.partial(_fit_and_score, sentences, labels, seed, settings) for name, settings in arms.items()
    }
    return cross_validate_arms(
        runs,
        labels,
        num_folds=num_folds,
        folds_to_run=folds_to_run,
        seed=seed,
        workers=workers,
        description=", ".join(arms),
    )


def _fit_and_score(
    sentences: list, labels: list, seed: int, settings: dict, train_indices: np.ndarray, test_indices: np.ndarray
) -> tuple[float, TextClassifier]:
    """One fold (module level, so that worker processes can receive it)."""
    classifier = train_text_cnn(
        [sentences[i] for i in train_indices],
        [labels[i] for i in train_indices],
        seed=seed,
        show_progress=False,
        **settings,
    )
    return classifier.accuracy([sentences[i] for i in test_indices], [labels[i] for i in test_indices]), classifier
