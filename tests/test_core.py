"""helpers.core: named seed streams, the one train/eval switch, and that no module seeds PyTorch by itself."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from helpers.core import (
    numpy_generator,
    python_random,
    seed_stream,
    seed_torch,
    torch_generator,
    training_mode,
)
from helpers.core.seeding import SEED_STREAMS

HELPERS = Path(__file__).resolve().parents[1] / "helpers"


def test_seed_streams_keep_the_seeds_the_results_were_made_with() -> None:
    # The offsets the committed notebook outputs were produced with, before the streams had names.
    assert seed_stream("word2vec.epoch_pairs", 3, 2) == 3 * 1000 + 2
    assert seed_stream("stacked_mlp.init", 4, 1) == 1000 * 1 + 4
    assert seed_stream("stacked_gans.discriminator_init", 4, 2) == 1000 * 2 + 500 + 4
    assert seed_stream("stacked_gans.data", 7) == 10_000 + 7
    assert seed_stream("stacked_gans.noise", 10) == 20_000 + 10
    assert seed_stream("stacked_gans.probe_noise", 9) == 7
    assert seed_stream("rebalancing.minibatches", 10) == 40_000 + 10
    assert [seed_stream(f"dates.{n}", 5) for n in ("validation", "test", "held_out_format", "other_years")] == [
        1006,
        1007,
        1008,
        1009,
    ]


# Seeds that two streams of one run share. Both predate the names and are kept so that the committed outputs
# repeat: notebook 03's evaluation noise (seed 7) is also layer 0 of stacked generator 7's initial weights, and
# the date task's day shuffle (split_dates) and its training examples (date_examples) both use the task seed.
KNOWN_OVERLAPS = {
    ("stacked_gans.probe_noise", "stacked_mlp.init", 7),
    ("dates.days", "dates.training_examples", 0),
}
RUNS = {  # the streams one call draws from: train_stacked_gans, train_paper_gans, date_task (+ two unnamed draws)
    "train_stacked_gans": [
        "stacked_mlp.init",
        "stacked_gans.discriminator_init",
        "stacked_gans.data",
        "stacked_gans.noise",
        "stacked_gans.probe_noise",
    ],
    "train_paper_gans": [
        "paper_gans.generator_init",
        "paper_gans.discriminator_init",
        "paper_gans.data",
        "paper_gans.noise",
        "paper_gans.probe_noise",
    ],
    "date_task": [
        "dates.days",
        "dates.training_examples",
        "dates.format_shuffle",
        "dates.validation",
        "dates.test",
        "dates.held_out_format",
        "dates.other_years",
    ],
}


def _seeds_drawn(name: str, run_seed: int, stacked: int) -> set[int]:
    if name in ("dates.days", "dates.training_examples"):
        return {run_seed}  # python_random(seed): the task seed itself
    if name in ("stacked_mlp.init", "stacked_gans.discriminator_init"):
        return {seed_stream(name, s, layer) for s in range(stacked) for layer in range(4)}
    if name.startswith("paper_gans.") and name != "paper_gans.probe_noise":  # per seed, per layer or item
        return {seed_stream(name, s, item) for s in range(run_seed, run_seed + stacked) for item in range(6)}
    if name == "stacked_gans.data":
        return {seed_stream(name, s) for s in range(stacked)}
    if name == "stacked_gans.noise":
        return {seed_stream(name, stacked)}
    return {seed_stream(name, run_seed)}


def test_streams_of_one_run_share_no_seed_but_the_known_ones() -> None:
    overlaps = set()
    for streams in RUNS.values():
        for run_seed, stacked in [(0, 10), (3, 10), (0, 1)]:
            drawn = {name: _seeds_drawn(name, run_seed, stacked) for name in streams}
            for i, first in enumerate(streams):
                for second in streams[i + 1 :]:
                    for seed in drawn[first] & drawn[second]:
                        overlaps.add((*sorted((first, second)), seed if "dates" not in first else 0))
    assert overlaps == KNOWN_OVERLAPS


def test_generators_repeat_and_differ_by_stream() -> None:
    assert torch.equal(torch.rand(3, generator=torch_generator(1)), torch.rand(3, generator=torch_generator(1)))
    same = torch.rand(3, generator=torch_generator(1, "dates.test"))
    assert torch.equal(same, torch.rand(3, generator=torch.Generator().manual_seed(1003)))
    assert numpy_generator(2).random() == np.random.default_rng(2).random()
    assert python_random(5, "dates.format_shuffle").random() == python_random(6).random()


def test_seeding_refuses_what_it_cannot_use() -> None:
    with pytest.raises(ValueError, match=r"unknown seed stream 'ring'; known streams: \["):
        seed_stream("ring", 0)
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -1"):
        torch_generator(-1)
    with pytest.raises(ValueError, match="seed must be a non-negative int, got 1.5"):
        seed_torch(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="index= needs a named stream"):
        numpy_generator(0, index=2)


def test_no_module_seeds_pytorch_by_itself() -> None:
    # One seeding module: every other file of helpers goes through helpers.core.seeding.
    pattern = re.compile(
        r"torch\.manual_seed|torch\.Generator\(\)\.manual_seed|np\.random\.default_rng|random\.Random\("
    )
    offenders = [
        f"{path.relative_to(HELPERS)}:{number}"
        for path in HELPERS.rglob("*.py")
        if path.name != "seeding.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []


def test_training_mode_switches_and_restores_each_submodule() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.BatchNorm1d(2))
    model[2].eval()  # a caller's frozen batch norm inside a model in train mode
    with training_mode(model, False) as inside:
        assert inside is model and not any(m.training for m in model.modules())
    assert model.training and model[1].training and not model[2].training
    with pytest.raises(RuntimeError), training_mode(model, False):
        raise RuntimeError("a failure inside the block")
    assert model.training and not model[2].training  # restored on the way out of an error too
    model.eval()
    with training_mode(model, True):
        assert all(m.training for m in model.modules())
    assert not any(m.training for m in model.modules())


def test_every_named_stream_is_drawn_somewhere() -> None:
    sources = "\n".join(path.read_text(encoding="utf-8") for path in HELPERS.rglob("*.py") if path.name != "seeding.py")
    unused = [name for name in SEED_STREAMS if f'"{name}"' not in sources]
    assert unused == []
