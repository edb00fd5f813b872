"""helpers: the model code, data loading, training loop and plotting behind the notebooks.

One sub-package per topic notebook, each named like it, beside a few shared ones:

- ``word_embeddings`` (01), ``text_cnn`` (02), ``gan_minimax`` (03), ``self_attention`` (04),
  ``transformer`` (05): each ``__init__`` says which module holds what;
- ``exercises``: one grader module per topic notebook;
- shared: ``core`` (seeding, device, argument checks, train/eval mode, timing), ``data`` (the pinned data
  files, their readers, text and vocabularies), ``training`` (the one training loop, its progress bar,
  worker processes, cross-validation) and ``plotting``.

Import modules by their full name: ``from helpers.text_cnn.model import TextCNN``.
"""

from __future__ import annotations

import torch

from helpers.core import check_positive_int, pick_device, seed_everything
from helpers.plotting import use_style

__version__ = "0.1.0"
__all__ = ["pick_device", "seed_everything", "setup_notebook", "use_style"]


def setup_notebook(seed: int = 0, threads: int | None = None) -> torch.device:
    """The first code cell of every notebook: seed everything, set the plot style, pick the device.

    Pass the returned device to the trainers (``device=device``): they move their model and batches there.
    ``threads`` fixes how many CPU threads PyTorch uses. Matrix products split over threads add in a
    different order, so a notebook that names its thread count prints the same digits on a laptop with
    8 cores as on CI's 2; ``None`` keeps PyTorch's default (one per core).
    """
    seed_everything(seed)
    if threads is not None:
        torch.set_num_threads(check_positive_int(threads, "threads"))
    use_style()
    return pick_device()
