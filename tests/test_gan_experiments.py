"""Tests for helpers.gan_minimax.experiments: the hopping test's null, the seed ranges, the collapse search's
rows and the registration for ``make replicate`` (the studies themselves train for minutes: notebook 03 and
``make replicate`` run them)."""

from __future__ import annotations

import pytest
import torch

from helpers.gan_minimax import experiments
from helpers.gan_minimax.stacked_gans import RingHistory


def _history(draws: list[list[list[int]]]) -> RingHistory:
    """A history whose ``fresh_counts`` are ``draws``: per checkpoint, two draws of (modes,) for one seed."""
    history = RingHistory()
    for step, (first, second) in enumerate(draws, 1):
        history.steps.append(step)
        history.fresh_counts.append(torch.tensor([[first], [second]]))
    return history


def test_total_variation_null_is_sampling_noise_between_two_draws():
    # a G that does not move: the two draws of a checkpoint differ as much as draws of consecutive ones
    still = _history([[[50, 50], [40, 60]], [[60, 40], [50, 50]], [[40, 60], [60, 40]]])
    moves = experiments.total_variation_between_checkpoints(still, second_half=False)
    assert moves["consecutive"].item() == pytest.approx((0.1 + 0.2) / 2)  # 0.5 -> 0.6 -> 0.4 on mode 0
    assert moves["same_checkpoint"].item() == pytest.approx((0.1 + 0.1 + 0.2) / 3)
    # a G that hops from mode 0 to mode 1: consecutive checkpoints differ far more than two draws of one
    hops = _history([[[100, 0], [98, 2]], [[0, 100], [1, 99]], [[100, 0], [99, 1]]])
    moves = experiments.total_variation_between_checkpoints(hops, second_half=False)
    assert moves["consecutive"].item() == pytest.approx(1.0)
    assert moves["same_checkpoint"].item() == pytest.approx((0.02 + 0.01 + 0.01) / 3)
    # a draw without any high-quality sample is left out of both
    empty = _history([[[0, 0], [3, 1]], [[2, 2], [0, 0]], [[4, 0], [2, 2]]])
    moves = experiments.total_variation_between_checkpoints(empty, second_half=False)
    assert moves["pairs"].item() == 1 and moves["consecutive"].item() == pytest.approx(0.5)
    assert moves["same_checkpoint"].item() == pytest.approx(0.5)


def test_seeds_must_be_a_range():
    assert experiments._first_seed(range(100, 110)) == (100, 10)
    for seeds in ([0, 2, 3], [5], [-1, 0]):
        with pytest.raises(ValueError, match="consecutive"):
            experiments._first_seed(seeds)


def test_collapse_search_row_counts_collapsed_dropping_and_unconverged_seeds():
    final = {
        "modes": torch.tensor([8.0, 3.0, 7.0, 2.0]),
        "high_quality": torch.tensor([0.9, 0.6, 0.7, 0.05]),
        "reverse_kl": torch.tensor([0.0, 1.0, 0.1, 2.0]),
    }
    row = experiments.collapse_search_row(range(4), "ring", "a setting", 2, final, 1.25)
    assert (row["collapsed"], row["drops_modes"], row["not_converged"]) == (1, 2, 1)
    assert row["data"] == "ring of 8" and row["modes"] == 5.0 and row["cpu_s"] == 1.2


def test_the_committed_search_has_every_setting_and_the_rerun_rows():
    rows = experiments.read_collapse_search()
    expected = [
        (f"{data} of {25 if data == 'grid' else 8}", description, pack)
        for data, description, packings, _ in experiments.COLLAPSE_SEARCH_SETTINGS
        for pack in packings
    ]
    assert [(row["data"], row["setting"], int(row["pack"])) for row in rows] == expected
    kinds = {
        experiments._search_setting(description, pack)[0] for description, pack in experiments.COLLAPSE_SEARCH_RERUN
    }
    assert kinds == {"ring", "grid"}


def test_replication_registers_the_notebooks_studies_with_fresh_seeds():
    replication = experiments.REPLICATION
    assert replication.notebook == "03_gan_minimax.ipynb"
    assert list(replication.notebook_seeds) == list(range(10))
    assert list(replication.fresh_seeds) == list(range(100, 110))
    names = [study.name for study in replication.studies]
    assert names == [
        "ring of 8", "D/G imbalance", "collapse search rows", "paper settings rerun", "DCGAN vs MLP GAN", "rebalancing"
    ]  # fmt: skip
    for five_seeds in ("paper settings rerun", "DCGAN vs MLP GAN"):  # the benchmark's seeds 0-4; the digit GANs
        study = replication.studies[names.index(five_seeds)]
        assert list(study.notebook_seeds) == list(range(5)) and list(study.fresh_seeds) == list(range(100, 105))
