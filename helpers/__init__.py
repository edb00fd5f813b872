"""helpers: the model code, data loading, training loop and plotting behind the notebooks.

Topic modules (import them by name): ``helpers.embeddings``, ``helpers.text_cnn``, ``helpers.gan``,
``helpers.attention``, ``helpers.transformer``. Shared modules: ``helpers.core`` (seeding, device,
argument checks), ``helpers.data`` (fetching the offline data sets at setup time), ``helpers.datasets``
(reading them), ``helpers.text`` (tokenisation, vocabulary, padded batches), ``helpers.training`` (the
one training loop and optimiser step), ``helpers.progress`` and ``helpers.plotting``.
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
