"""Tests for helpers.gan_minimax: mode_metrics, stacked_gans and dcgan, known answers on hand-made inputs."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.gan_minimax import dcgan, mode_metrics, stacked_gans


def test_ring_and_grid_centres():
    centers = mode_metrics.ring_centers(8)
    assert len(torch.unique(centers.round(decimals=4), dim=0)) == 8
    assert torch.allclose(centers.norm(dim=1), torch.full((8,), 2.0))
    grid = mode_metrics.grid_centers(5)
    assert grid.shape == (25, 2) and grid.min() == -4 and grid.max() == 4


def test_mode_coverage_on_hand_made_samples():
    centers = mode_metrics.ring_centers(8)
    samples = torch.cat([centers[[1, 4]].repeat_interleave(30, 0), centers[[6]].repeat(5, 1), torch.zeros(15, 2)])
    result = mode_metrics.mode_coverage(samples, centers, std=0.02)
    assert result["modes"] == 3  # PacGAN: one high-quality sample covers a mode
    assert mode_metrics.mode_coverage(samples, centers, std=0.02, min_samples=20)["modes"] == 2
    assert result["high_quality"] == pytest.approx(65 / 80)
    assert result["counts"] == [0, 30, 0, 0, 30, 0, 5, 0]
    p = torch.tensor([30, 30, 5], dtype=torch.float64) / 65
    assert result["reverse_kl"] == pytest.approx(float((p * (p * 8).log()).sum()))
    # one mode only: log 8; all modes equally: 0; nothing within 3σ: log 8
    single = mode_metrics.mode_coverage(centers[:1].repeat(10, 1), centers, std=0.02)
    assert single["reverse_kl"] == pytest.approx(math.log(8))
    assert mode_metrics.mode_coverage(centers, centers, std=0.02)["reverse_kl"] == pytest.approx(0.0, abs=1e-12)
    assert mode_metrics.mode_coverage(torch.zeros(3, 2), centers, std=0.02)["reverse_kl"] == pytest.approx(math.log(8))
    # just outside 3σ is not high quality
    outside = centers[:1] + torch.tensor([[0.061, 0.0]])
    assert mode_metrics.mode_coverage(outside, centers, std=0.02)["high_quality"] == 0.0


def test_mode_coverage_refuses_bad_input():
    centers = mode_metrics.ring_centers(8)
    with pytest.raises(ValueError, match="samples is empty"):
        mode_metrics.mode_coverage(torch.zeros(0, 2), centers, std=0.02)
    with pytest.raises(ValueError, match="std must be a finite number > 0"):
        mode_metrics.mode_coverage(torch.zeros(3, 2), centers, std=0.0)
    with pytest.raises(ValueError, match=r"samples must have shape"):
        mode_metrics.mode_coverage(torch.zeros(3, 3), centers, std=0.02)


def test_class_histogram_metrics_known_answers():
    uniform = torch.eye(10).repeat(3, 1)  # every class three times, fully confident
    result = mode_metrics.class_histogram_metrics(uniform)
    assert result["classes"] == 10 and result["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    assert result["confidence"] == pytest.approx(1.0)
    one_class = torch.full((4, 10), 0.05)
    one_class[:, 3] = 0.55
    result = mode_metrics.class_histogram_metrics(one_class)
    assert result["classes"] == 1 and result["kl_to_uniform"] == pytest.approx(math.log(10))
    assert result["confidence"] == pytest.approx(0.55) and result["counts"][3] == 4
    with pytest.raises(ValueError, match="softmax"):
        mode_metrics.class_histogram_metrics(torch.randn(4, 10))


def test_class_histogram_metrics_strict_coverage():
    # 100 samples: classes 0-7 at 12 % each, class 8 at 3 %, class 9 at 1 %: all 10 drawn at least once,
    # but only 8 at half the uniform share (5 %) or more
    labels = torch.tensor([c for c in range(8) for _ in range(12)] + [8, 8, 8, 9])
    result = mode_metrics.class_histogram_metrics(torch.nn.functional.one_hot(labels, 10).double())
    assert result["classes"] == 10 and result["classes_at_half_share"] == 8
    assert result["min_share"] == pytest.approx(0.01)
    assert result["tv_to_uniform"] == pytest.approx(0.5 * (8 * 0.02 + 0.07 + 0.09))  # 0.16 to move
    assert sum(result["shares"]) == pytest.approx(1.0)


def test_parzen_matches_gaussian_density_and_keeps_dtype():
    samples, points = torch.zeros(1, 3), torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 0.0]])
    expected = torch.distributions.Normal(0.0, 0.5).log_prob(points).sum(1)
    assert torch.allclose(mode_metrics.parzen_log_likelihood(samples, points, sigma=0.5), expected, atol=1e-5)
    many = torch.randn(10, 3)
    mixture = torch.logsumexp(torch.distributions.Normal(many, 0.7).log_prob(points[:, None]).sum(-1), 1) - math.log(10)
    assert torch.allclose(mode_metrics.parzen_log_likelihood(many, points, sigma=0.7, chunk=1), mixture, atol=1e-5)
    assert mode_metrics.parzen_log_likelihood(many, points.double(), sigma=0.7).dtype == torch.float64
    with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
        mode_metrics.parzen_log_likelihood(torch.zeros(2, 2), torch.zeros(1, 2), sigma=0.0)


def test_stacked_linear_equals_one_linear_per_seed():
    layer = stacked_gans.StackedLinear(3, 4, 5)
    x = torch.randn(3, 7, 4)
    for s in range(3):
        assert torch.allclose(layer(x)[s], x[s] @ layer.weight[s] + layer.bias[s], atol=1e-6)
    # a seed's weights do not depend on how many seeds are stacked
    assert torch.equal(stacked_gans.StackedLinear(5, 4, 5).weight[:3], layer.weight)


def test_stacked_gradients_are_per_seed():
    """The sum of per-seed losses gives each seed exactly its own gradient (no cross-talk)."""
    mlp = stacked_gans.StackedMLP(2, [2, 6, 1], batch_norm=True)
    x = torch.randn(2, 8, 2)
    mlp(x)[0].square().mean().backward()  # a loss of seed 0 only
    assert all(p.grad[1].abs().max() == 0 for p in mlp.parameters())
    assert any(p.grad[0].abs().max() > 0 for p in mlp.parameters())


def test_train_stacked_gans_records_and_learns():
    torch.set_num_threads(1)
    centers = mode_metrics.ring_centers(8)
    generator, history = stacked_gans.train_stacked_gans(
        centers,
        std=0.02,
        seeds=2,
        steps=300,
        generator_sizes=(16, 16),
        discriminator_sizes=(16,),
        record_every=100,
        evaluation_samples=200,
    )
    assert history.steps == [100, 200, 300]
    assert history.stacked("counts").shape == (3, 2, 8) and history.stacked("g_grad_norm").shape == (3, 2)
    assert stacked_gans.final_metrics(history, 8)["modes"].shape == (2,)
    untrained = stacked_gans.StackedMLP(2, [2, 16, 16, 2], batch_norm=True)  # the same initial weights
    z = torch.randn(2, 500, 2)
    with torch.no_grad():  # distance to the ring (radius 2) per seed, before and after training
        before, after = ((g(z).norm(dim=-1) - 2).abs().mean(1) for g in (untrained, generator))
    assert (after < 0.85 * before).all()
    with pytest.raises(ValueError, match="multiple of pack"):
        stacked_gans.train_stacked_gans(centers, std=0.02, batch_size=99, pack=2)
    fresh = history.stacked("fresh_counts")  # (checkpoints, 2 draws, seeds, modes) on new noise each time
    assert fresh.shape == (3, 2, 2, 8) and not torch.equal(fresh[:, 0], fresh[:, 1])
    assert (history.stacked("d_slope") > 0).all() and history.stacked("d_fake").shape == (3, 2)
    assert ((history.stacked("d_fake") > 0) & (history.stacked("d_fake") < 1)).all()


def test_first_seed_starts_the_stack_at_a_later_seed():
    later = stacked_gans.StackedLinear(2, 4, 5, first_seed=3)
    assert torch.equal(later.weight, stacked_gans.StackedLinear(5, 4, 5).weight[3:])
    centers = mode_metrics.ring_centers(8)
    options = dict(std=0.02, steps=2, generator_sizes=(8,), discriminator_sizes=(8,), evaluation_samples=50)
    _, from_zero = stacked_gans.train_stacked_gans(centers, seeds=2, record_every=1, **options)
    _, again = stacked_gans.train_stacked_gans(centers, seeds=2, first_seed=0, record_every=1, **options)
    _, fresh = stacked_gans.train_stacked_gans(centers, seeds=2, first_seed=100, record_every=1, **options)
    assert torch.equal(from_zero.stacked("g_grad_norm"), again.stacked("g_grad_norm"))  # the default is seed 0
    assert not torch.equal(from_zero.stacked("g_grad_norm"), fresh.stacked("g_grad_norm"))
    with pytest.raises(ValueError, match="first_seed must be a non-negative int"):
        stacked_gans.train_stacked_gans(centers, seeds=2, first_seed=-1, **options)


def test_dcgan_shapes_and_modes():
    generator, discriminator = dcgan.DCGANGenerator(8, width=4), dcgan.DCGANDiscriminator(width=4)
    images = generator(torch.randn(5, 8))
    assert images.shape == (5, 1, 28, 28) and images.abs().max() <= 1
    assert discriminator(images).shape == (5,) and discriminator(images.flatten(1)).shape == (5,)
    assert dcgan.DigitClassifier(width=4)(images.flatten(1)).shape == (5, 10)
    generator.train()
    assert generator.sample(3).shape == (3, 1, 28, 28) and generator.training  # mode restored
    with pytest.raises(ValueError, match="z must have shape"):
        generator(torch.randn(5, 7))
    with pytest.raises(ValueError, match=r"\(batch, 784\)"):
        discriminator(torch.zeros(2, 14, 14))
    with pytest.raises(TypeError, match="floating point"):
        discriminator(torch.zeros(2, 784, dtype=torch.uint8))


def test_dcgan_generator_upsamples_with_transposed_convolutions():
    generator = dcgan.DCGANGenerator(8, width=4)
    kinds = [type(m).__name__ for m in generator.modules()]
    assert kinds.count("ConvTranspose2d") == 2 and "MaxPool2d" not in kinds
    strides = [m.stride for m in dcgan.DCGANDiscriminator(width=4).modules() if isinstance(m, torch.nn.Conv2d)]
    assert strides == [(2, 2), (2, 2)]


# --- issue 31: widths, rates and probabilities checked at the door ------------------------------------


def test_mixtures_refuse_a_negative_nan_or_infinite_std():
    centers = mode_metrics.ring_centers(8)
    for std in (-0.02, math.nan, math.inf, 0.0):
        with pytest.raises(ValueError, match="std must be a finite number > 0"):
            mode_metrics.sample_mixture(4, centers, std=std)  # -0.02 used to sample, nan to give NaN points
    with pytest.raises(ValueError, match="std must be a finite number > 0, got inf"):
        mode_metrics.mode_coverage(torch.zeros(3, 2), centers, std=math.inf)  # used to call everything covered
    with pytest.raises(ValueError, match="sigma must be a finite number > 0, got nan"):
        mode_metrics.parzen_log_likelihood(torch.zeros(2, 2), torch.zeros(1, 2), sigma=math.nan)
    with pytest.raises(ValueError, match="radius must be a finite number > 0"):
        mode_metrics.ring_centers(8, radius=math.nan)


def test_class_histogram_refuses_values_that_are_not_probabilities():
    rows_sum_to_one = torch.tensor([[1.5, -0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"probabilities must hold probabilities in \[0, 1\], got 2 value\(s\)"):
        mode_metrics.class_histogram_metrics(rows_sum_to_one)  # used to report confidence 1.0


def test_train_stacked_gans_refuses_an_infinite_learning_rate():
    centers = mode_metrics.ring_centers(8)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0, got inf"):
        stacked_gans.train_stacked_gans(centers, std=0.02, seeds=1, steps=1, learning_rate=math.inf)
    with pytest.raises(ValueError, match=r"betas\[1\] must be a number in \[0, 1\)"):
        stacked_gans.train_stacked_gans(centers, std=0.02, seeds=1, steps=1, betas=(0.5, 1.5))


def test_stacked_players_refuse_sizes_that_make_no_sense():
    with pytest.raises(ValueError, match="sizes must list at least the input and output sizes"):
        stacked_gans.StackedMLP(2, [2])  # used to build a model with no layer
    with pytest.raises(ValueError, match="seeds must be a positive integer, got 0"):
        stacked_gans.StackedLinear(0, 2, 2)  # used to fail inside torch.stack
