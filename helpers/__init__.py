"""helpers: the model code, data loading, training loop and plotting behind the notebooks.

Import the modules by name. One notebook, one group of topic modules:

- 01 word embeddings: ``embeddings`` (one-hot, skip-gram with negative sampling, its trainer),
  ``word_vectors`` (trained vectors, neighbours), ``count_vectors`` (PPMI + SVD), ``word_benchmarks``
  (Spearman, bootstrap intervals, analogies).
- 02 text CNN: ``text_cnn`` (Kim's model), ``linear_baselines`` (MNB, NBSVM), ``cross_validation`` (folds,
  mean ± standard error), ``text_classification`` (a learner's labelled file to a trained, evaluated model).
- 03 GAN: ``gan`` (the value function, D*, losses, players, Dirac-GAN), ``gan_metrics`` (mixtures, PacGAN's
  metrics), ``gan_seeds`` (seeds trained together), ``dcgan`` (DCGAN and the digit judge), ``gan_rebalance``
  (a conditional DCGAN against oversampling and class weights).
- 04 self-attention: ``attention`` (the formula, masks, multi-head), ``attention_tasks`` (induction).
- 05 Transformer: ``transformer`` (the 2017 model), ``seq2seq`` (loss, schedule, greedy and beam search,
  checkpoint averaging), ``recurrent`` (GRU with additive attention), ``dates`` (the date task),
  ``translate`` (a learner's file of pairs to a trained translator).
- Exercises: ``exercises`` (one grader module per topic).

Shared: ``core`` (seeding, device, argument checks, timing), ``data`` (fetching the data sets at setup
time), ``datasets`` (reading them), ``text`` (tokenisation, vocabulary, padded batches), ``training`` (the
one training loop and optimiser step), ``workers`` (independent runs in worker processes), ``progress`` and
``plotting``.
"""

from __future__ import annotations

import torch

from .core import check_positive_int, pick_device, seed_everything
from .plotting import use_style

__version__ = "0.1.0"
__all__ = ["pick_device", "seed_everything", "setup_notebook", "use_style"]


def setup_notebook(seed: int = 0, threads: int | None = None) -> torch.device:
    """The first code cell of every notebook: seed everything, set the plot style, pick the device.

    ``threads`` fixes how many CPU threads PyTorch uses. Matrix products split over threads add in a
    different order, so a notebook that names its thread count prints the same digits on a laptop with
    8 cores as on CI's 2; ``None`` keeps PyTorch's default (one per core).
    """
    seed_everything(seed)
    if threads is not None:
        torch.set_num_threads(check_positive_int(threads, "threads"))
    use_style()
    return pick_device()
