"""The one way to seed: the whole process, PyTorch's global generator, or a private, named stream.

Three levels, each a function here and nowhere else:

- :func:`seed_everything` seeds Python, NumPy and PyTorch at the top of a notebook or a worker's job;
- :func:`seed_torch` seeds only PyTorch's global generator, which ``nn.Module`` initialisation draws from;
- :func:`torch_generator`, :func:`numpy_generator` and :func:`python_random` give a private generator, so
  that a data stream (shuffling, noise, sampling) cannot be disturbed by what other cells draw.

A private stream is named: ``torch_generator(seed, "dates.validation")`` is seed ``seed`` of the stream
called "dates.validation", which starts at its own offset in :data:`SEED_STREAMS`. The name says what
the numbers are for, and the table shows where two streams could meet.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "SEED_STREAMS",
    "SeedStream",
    "numpy_generator",
    "python_random",
    "seed_everything",
    "seed_stream",
    "seed_torch",
    "torch_generator",
]


@dataclass(frozen=True)
class SeedStream:
    """Seed ``seed``, item ``index`` of a stream is ``offset + seed * seed_step + index * index_step``."""

    offset: int
    seed_step: int = 1
    index_step: int = 1000


# The offsets are the ones the committed results were made with; a new stream takes a block of its own.
# Two overlaps predate the names and are kept so that the committed outputs repeat (tests/test_core.py
# lists them and fails on any new one): the probe noise's seed 7 is also layer 0 of stacked generator 7,
# and the date task's day shuffle and its training examples both draw from the task seed itself.
SEED_STREAMS: dict[str, SeedStream] = {
    # word2vec: the (centre, context) pairs and noise words of epoch `index` of training seed `seed`
    "word2vec.epoch_pairs": SeedStream(0, seed_step=1000, index_step=1),
    # seeds trained side by side: layer `index` of stacked model `seed`
    "stacked_mlp.init": SeedStream(0),
    "stacked_gans.discriminator_init": SeedStream(500),
    "stacked_gans.data": SeedStream(10_000),  # the real samples of stacked seed `seed`
    "stacked_gans.noise": SeedStream(20_000),  # one noise stream per stack, keyed by the stack's size
    "stacked_gans.probe_noise": SeedStream(7, seed_step=0),  # the same evaluation noise for every run
    "rebalancing.minibatches": SeedStream(40_000),  # keyed by the number of stacked seeds
    # the papers' ring and grid settings (helpers.gan_minimax.paper_settings), per seed: layer `index` of each
    # player, the data set (index 0), its packing (1) and epoch order (2), the training noise (0) and fresh
    # checkpoint noise (1); the probe noise is one draw shared by every seed, as in PacGAN's code
    "paper_gans.generator_init": SeedStream(100_000),
    "paper_gans.discriminator_init": SeedStream(200_000),
    "paper_gans.data": SeedStream(300_000),
    "paper_gans.noise": SeedStream(400_000),
    "paper_gans.probe_noise": SeedStream(500_000, seed_step=0),
    # the date task: which formats are held out, and the examples of each split
    "dates.format_shuffle": SeedStream(1),
    "dates.validation": SeedStream(1001),
    "dates.test": SeedStream(1002),
    "dates.held_out_format": SeedStream(1003),
    "dates.other_years": SeedStream(1004),
}


def _check_seed(seed: object, name: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{name} must be a non-negative int, got {seed!r}")
    return int(seed)


def seed_stream(name: str, seed: int = 0, index: int = 0) -> int:
    """The integer seed of item ``index`` of seed ``seed`` in the stream called ``name``."""
    if name not in SEED_STREAMS:
        raise ValueError(f"unknown seed stream {name!r}; known streams: {sorted(SEED_STREAMS)}")
    stream = SEED_STREAMS[name]
    seed, index = _check_seed(seed), _check_seed(index, "index")
    return stream.offset + seed * stream.seed_step + index * stream.index_step


def _resolve(seed: int, stream: str | None, index: int) -> int:
    if stream is None:
        if index:
            raise ValueError("index= needs a named stream (stream=...)")
        return _check_seed(seed)
    return seed_stream(stream, seed, index)


def torch_generator(seed: int, stream: str | None = None, index: int = 0) -> torch.Generator:
    """A private CPU ``torch.Generator`` seeded with ``seed`` (of the named ``stream``, if given)."""
    return torch.Generator().manual_seed(_resolve(seed, stream, index))


def numpy_generator(seed: int, stream: str | None = None, index: int = 0) -> np.random.Generator:
    """A private NumPy ``Generator`` seeded with ``seed`` (of the named ``stream``, if given)."""
    return np.random.default_rng(_resolve(seed, stream, index))


def python_random(seed: int, stream: str | None = None, index: int = 0) -> random.Random:
    """A private Python ``random.Random`` seeded with ``seed`` (of the named ``stream``, if given)."""
    return random.Random(_resolve(seed, stream, index))


def seed_torch(seed: int, stream: str | None = None, index: int = 0) -> None:
    """Seed PyTorch's global generator only: the weights a module draws when it is built come from it."""
    torch.manual_seed(_resolve(seed, stream, index))  # seeds the CPU and every CUDA device


def seed_everything(seed: int = 0, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and PyTorch so that a CPU run repeats to the last digit.

    Returns a ``torch.Generator`` seeded with the same value, for code that wants its own stream
    (a data loader's shuffling, say) that later cells cannot disturb.
    """
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    seed_torch(seed)
    if deterministic:
        # warn_only: a few CUDA kernels have no deterministic version; on CPU nothing warns.
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        # Needed by cuBLAS for deterministic matrix products on CUDA; harmless on CPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return torch_generator(seed)
