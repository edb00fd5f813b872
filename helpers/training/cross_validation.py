"""Kim (2014)'s evaluation protocol: stratified k-fold cross-validation, mean ± standard error.

Kim reports each model's mean test accuracy over 10 folds of MR, with a random 10% of each training
fold held out for early stopping. :func:`stratified_folds` deals each class's examples to the folds in
turn (every example in exactly one test fold, each fold with the classes' shares);
:func:`stratified_split` takes the validation tenth; :func:`cross_validate` runs any model on the folds
and returns a :class:`CrossValidation`: per-fold accuracies, mean, standard error = sd / √folds.
Two models run with the same labels, ``num_folds`` and ``seed`` see the same folds, so their per-fold
difference is a paired comparison.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from helpers.core import check_positive_int, check_probability, check_unique, numpy_generator
from helpers.training.workers import map_in_processes

__all__ = [
    "CrossValidation",
    "cross_validate",
    "cross_validate_arms",
    "label_ids",
    "stratified_folds",
    "stratified_split",
]


# --- folds ----------------------------------------------------------------------------------------


def label_ids(labels: Sequence[Hashable], classes: Sequence[Hashable] | None = None) -> tuple[np.ndarray, list]:
    """Labels -> ids ``(n,)`` int64 in ``[0, len(classes))`` and the classes (sorted unless given, each once)."""
    if isinstance(labels, str):
        raise TypeError(f"labels must be a list with one label per example, got the string {labels[:40]!r}")
    if isinstance(labels, torch.Tensor):
        if labels.dtype.is_floating_point:
            raise TypeError(f"labels must be class names or integer ids, got a tensor of dtype {labels.dtype}")
        labels = labels.tolist()
    labels = list(labels)
    if not labels:
        raise ValueError("labels is empty: give one label per sentence")
    floats = [label for label in labels if isinstance(label, (float, np.floating))]
    if floats:
        raise TypeError(
            f"labels must be class names or integer ids, got floats such as {floats[0]!r}: "
            "convert them, e.g. [int(label) for label in labels]"
        )
    classes = sorted(set(labels), key=str) if classes is None else check_unique(classes, "classes")
    position = {label: index for index, label in enumerate(classes)}
    unknown = sorted({str(label) for label in labels if label not in position})
    if unknown:
        raise ValueError(f"labels {unknown[:5]} are not among the classes {classes}")
    return np.array([position[label] for label in labels], dtype=np.int64), classes


def stratified_folds(labels: Sequence[Hashable], num_folds: int = 10, *, seed: int = 0) -> list[np.ndarray]:
    """Split indices ``0..n-1`` into ``num_folds`` disjoint test folds that keep every class's share.

    Each class's examples are shuffled (seeded) and dealt to the folds in turn, so fold sizes differ by
    at most one per class. Returns the sorted test indices of each fold.
    """
    num_folds = check_positive_int(num_folds, "num_folds")
    ids, classes = label_ids(labels)
    counts = np.bincount(ids, minlength=len(classes))
    if num_folds < 2 or counts.min() < num_folds:
        raise ValueError(
            f"num_folds={num_folds} needs 2 <= num_folds <= the smallest class's size "
            f"({dict(zip(map(str, classes), counts.tolist()))})"
        )
    rng = numpy_generator(seed)
    folds: list[list[int]] = [[] for _ in range(num_folds)]
    dealt = 0  # where the next class starts dealing, so that the remainders spread over the folds
    for class_id in range(len(classes)):
        for position, index in enumerate(rng.permutation(np.flatnonzero(ids == class_id))):
            folds[(dealt + position) % num_folds].append(int(index))
        dealt += int(counts[class_id])
    return [np.sort(np.array(fold, dtype=np.int64)) for fold in folds]


def stratified_split(labels: Sequence[Hashable], fraction: float, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the rest and of a stratified, seeded ``fraction`` of the examples (at least one per class)."""
    if not 0 < check_probability(fraction, "fraction"):
        raise ValueError("fraction must be above 0, e.g. 0.1 for Kim's validation tenth")
    ids, classes = label_ids(labels)
    rng = numpy_generator(seed)
    held_out = []
    for class_id in range(len(classes)):
        members = rng.permutation(np.flatnonzero(ids == class_id))
        held_out.extend(members[: max(1, round(fraction * len(members)))].tolist())
    held = np.zeros(len(ids), dtype=bool)
    held[held_out] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


@dataclass
class CrossValidation:
    """Test accuracy of each fold run, with the model each fold trained (for its best epoch, or to inspect it)."""

    accuracies: list[float]
    models: list = field(default_factory=list)

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def standard_error(self) -> float:
        """Standard deviation over folds / √folds (the folds' test sets are disjoint)."""
        return (
            float(np.std(self.accuracies, ddof=1) / math.sqrt(len(self.accuracies)))
            if len(self.accuracies) > 1
            else math.nan
        )

    @property
    def best_epochs(self) -> list[int | None]:
        """The epoch each fold's early stopping kept (None for models trained without epochs)."""
        return [getattr(model, "best_epoch", None) for model in self.models]

    def __str__(self) -> str:
        return f"{100 * self.mean:.1f} ± {100 * self.standard_error:.1f} % ({len(self.accuracies)} folds)"


def cross_validate(
    fit_and_score: Callable[[np.ndarray, np.ndarray], float | tuple[float, object]],
    labels: Sequence[Hashable],
    *,
    num_folds: int = 10,
    folds_to_run: int | None = None,
    seed: int = 0,
    workers: int = 1,
    description: str = "fold",
) -> CrossValidation:
    """Run ``fit_and_score(train_indices, test_indices)`` on the first ``folds_to_run`` of ``num_folds`` folds.

    ``fit_and_score`` returns the test accuracy, or (accuracy, the trained model). The folds depend only
    on ``labels``, ``num_folds`` and ``seed``, so models run with the same three see the same folds and
    their per-fold accuracies can be compared in pairs. ``workers`` > 1 runs folds in that many processes
    (see :func:`cross_validate_arms`).
    """
    return cross_validate_arms(
        {description: fit_and_score},
        labels,
        num_folds=num_folds,
        folds_to_run=folds_to_run,
        seed=seed,
        workers=workers,
        description=description,
    )[description]


def cross_validate_arms(
    arms: dict[str, Callable[[np.ndarray, np.ndarray], float | tuple[float, object]]],
    labels: Sequence[Hashable],
    *,
    num_folds: int = 10,
    folds_to_run: int | dict[str, int] | None = None,
    seed: int = 0,
    workers: int = 1,
    description: str = "folds",
) -> dict[str, CrossValidation]:
    """:func:`cross_validate` for several models ("arms") on the same folds: ``{name: CrossValidation}``.

    ``folds_to_run`` may differ by arm (``{name: count}``): each arm runs the first folds of the same ten.

    With ``workers`` > 1 the (arm, fold) runs are shared among that many processes of one thread each,
    so two cores train two folds at once (:func:`helpers.training.workers.map_in_processes`). Every run seeds
    itself, so the results are the same for any number of workers; ``fit_and_score`` must then be
    picklable (a module-level function or a ``functools.partial`` of one, not a lambda or a function
    defined in a notebook).
    """
    folds = stratified_folds(labels, num_folds, seed=seed)
    per_arm = dict(folds_to_run) if isinstance(folds_to_run, dict) else {name: folds_to_run for name in arms}  # a copy
    if set(per_arm) != set(arms):
        raise ValueError(f"folds_to_run names {sorted(per_arm)} but the arms are {sorted(arms)}")
    for name, count in per_arm.items():
        per_arm[name] = num_folds if count is None else check_positive_int(count, "folds_to_run")
        if per_arm[name] > num_folds:
            raise ValueError(f"folds_to_run={per_arm[name]} is more than num_folds={num_folds}")
    workers = check_positive_int(workers, "workers")
    everything = np.arange(sum(len(fold) for fold in folds))
    jobs = [(name, np.setdiff1d(everything, test), test) for name in arms for test in folds[: per_arm[name]]]
    results = map_in_processes(
        operator.call,
        [(arms[name], train, test) for name, train, test in jobs],
        workers=workers,
        description=description,
    )
    by_arm = {name: CrossValidation([], []) for name in arms}
    for (name, _, _), result in zip(jobs, results):
        accuracy, model = result if isinstance(result, tuple) else (result, None)
        by_arm[name].accuracies.append(float(accuracy))
        by_arm[name].models.append(model)
    return by_arm
