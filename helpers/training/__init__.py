"""Training: the one training loop, its progress bar, runs in worker processes, and cross-validation.

Every notebook trains through :func:`helpers.training.loop.train`; folds and seeds are repeated and
summarised (mean ± standard error) by :mod:`helpers.training.cross_validation`.
"""

from helpers.training.loop import History, evaluate_classifier, optimizer_step, supervised_step, train

__all__ = ["History", "evaluate_classifier", "optimizer_step", "supervised_step", "train"]
