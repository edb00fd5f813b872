"""helpers.gan_minimax.paper_settings: PacGAN's and Unrolled GAN's settings, checked against hand computations.

Maxout against a loop over units and pieces; a seed trained in a stack against the same seed trained alone;
one simultaneous step against the update written out by hand (an alternating step fails it); packing of whole
packed inputs; Blocks' Adam convention; batch norm per chunk with population statistics; the papers' metrics on
hand-made samples at PacGAN's own scale (ring radius 1, σ 0.01; grid σ 0.05).
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.core import torch_generator
from helpers.gan_minimax.mode_metrics import mode_coverage, nearest_mode_counts, ring_centers
from helpers.gan_minimax.paper_settings import (
    PACGAN_GRID,
    PACGAN_RING,
    UNROLLED_RING,
    StackedMaxout,
    _PackedData,
    build_discriminator,
    build_generator,
    pack_samples,
    train_paper_gans,
    unrolled_generator_loss,
)
from helpers.gan_minimax.stacked_gans import StackedBatchNorm, StackedLinear, final_metrics

# PacGAN's setting at a size a test can train: same structure (BN generator, maxout D, simultaneous updates,
# a fixed packed data set), smaller layers
SMALL_PACGAN = dataclasses.replace(
    PACGAN_RING,
    generator_sizes=(16, 16),
    discriminator_sizes=(12, 12),
    maxout_pieces=3,
    dataset_size=500,
    batch_size=20,
    evaluation_samples=300,
    learning_rate=1e-3,
)
SMALL_UNROLLED = dataclasses.replace(
    UNROLLED_RING, noise_dim=8, generator_sizes=(16,), discriminator_sizes=(8,), batch_size=32, evaluation_samples=300
)


def test_maxout_equals_a_loop_over_units_and_pieces():
    layer = StackedMaxout(3, 4, units=6, pieces=5, init_std=0.5, stream="paper_gans.discriminator_init")
    with torch.no_grad():
        layer.linear.bias.normal_()  # non-zero biases, so that a wrong grouping of the pieces shows
    x = torch.randn(3, 7, 4)
    out = layer(x)
    weight, bias = layer.linear.weight.detach(), layer.linear.bias.detach()  # (3, 4, 30), (3, 1, 30)
    for seed in range(3):
        for row in range(7):
            for unit in range(6):
                pieces = [
                    float(x[seed, row] @ weight[seed, :, unit * 5 + k] + bias[seed, 0, unit * 5 + k]) for k in range(5)
                ]
                assert float(out[seed, row, unit].detach()) == pytest.approx(max(pieces), abs=1e-6)
    # for one input row, the gradient reaches only the winning piece of each unit, with weight 1
    (gradient,) = torch.autograd.grad(out[:, 0].sum(), layer.linear.bias)
    assert torch.equal(gradient.reshape(3, 6, 5).sum(-1), torch.ones(3, 6))
    assert torch.all((gradient > 0).reshape(3, 6, 5).sum(-1) == 1)


def test_initialisations_are_the_papers():
    normal = StackedLinear(4, 200, 300, init_std=0.02, stream="paper_gans.generator_init")
    assert normal.weight.std().item() == pytest.approx(0.02, rel=0.02) and torch.all(normal.bias == 0)
    orthogonal = StackedLinear(2, 256, 128, orthogonal_gain=0.8, stream="paper_gans.generator_init")
    gram = orthogonal.weight[1].T @ orthogonal.weight[1]  # (128, 128): columns orthogonal, norm 0.8
    torch.testing.assert_close(gram, 0.64 * torch.eye(128), atol=1e-5, rtol=0)
    assert not torch.equal(normal.weight[0], normal.weight[1])  # each seed its own draw
    generator = build_generator(PACGAN_RING, 2)
    hidden = [m for m in generator if isinstance(m, StackedLinear)]
    assert [m.bias is None for m in hidden] == [True, True, True, True, False]  # BN's shift is the bias
    assert [m.weight.shape[1:] for m in hidden] == [(2, 400), (400, 400), (400, 400), (400, 400), (400, 2)]
    maxout = [m for m in build_discriminator(PACGAN_RING, 2, pack=2) if isinstance(m, StackedMaxout)]
    assert [m.linear.weight.shape[1:] for m in maxout] == [(4, 1000), (200, 1000), (200, 1000)]


def test_packing_puts_sample_i_of_each_batch_in_packed_input_i():
    samples = torch.arange(2 * 3 * 4 * 2, dtype=torch.float32).reshape(2, 3, 4, 2)  # (seeds, m, batch, 2)
    packed = pack_samples(samples)
    assert packed.shape == (2, 4, 6)
    for seed in range(2):
        for i in range(4):
            assert torch.equal(packed[seed, i], torch.cat([samples[seed, j, i] for j in range(3)]))
    data = _PackedData(SMALL_PACGAN, SMALL_PACGAN.centers(), 2, range(3))
    batch = data.next_batch()
    assert batch.shape == (3, 20, 4)  # 20 packed inputs = 40 samples per seed
    halves = batch.reshape(3, 20, 2, 2)
    # every sample is a data point within 5σ of a ring centre, and the two samples of an input are separate draws
    distance = torch.cdist(halves.reshape(-1, 2), SMALL_PACGAN.centers()).min(1).values
    assert distance.max() < 5 * SMALL_PACGAN.std
    assert not torch.equal(halves[:, :, 0], halves[:, :, 1])
    # an epoch visits every packed input once, in an order of each seed's own, and the next epoch reshuffles
    first = [order.clone() for order in data.order]
    assert all(torch.equal(order.sort().values, torch.arange(500)) for order in first)
    assert not torch.equal(first[0], first[1])
    for _ in range(25):
        data.next_batch()
    assert data.position == 20 and not torch.equal(data.order[0], first[0])


def test_discriminator_sees_whole_packed_inputs_and_a_full_batch():
    seen = []
    setting = dataclasses.replace(SMALL_PACGAN)
    original = build_discriminator

    def spy(*args, **kwargs):
        discriminator = original(*args, **kwargs)
        discriminator[0].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].shape))
        return discriminator

    import helpers.gan_minimax.paper_settings as module

    module.build_discriminator, saved = spy, module.build_discriminator
    try:
        train_paper_gans(setting, pack=2, seeds=2, steps=1, record_every=1)
    finally:
        module.build_discriminator = saved
    # one training forward: 20 real + 20 fake packed inputs of 2 samples (2 × 2 coordinates), per seed
    assert seen[0] == (2, 40, 4)


def test_a_seed_trained_in_a_stack_is_the_seed_trained_alone():
    for setting, pack in (
        (SMALL_PACGAN, 2),
        (SMALL_UNROLLED, 1),
        (dataclasses.replace(SMALL_UNROLLED, unroll_steps=2), 1),
    ):
        stacked, history = train_paper_gans(setting, pack=pack, seeds=3, steps=12, record_every=6)
        alone, alone_history = train_paper_gans(setting, pack=pack, seeds=1, steps=12, record_every=6, first_seed=1)
        for many, one in zip(stacked.parameters(), alone.parameters()):
            torch.testing.assert_close(many[1:2], one, atol=1e-5, rtol=1e-4)
        assert not torch.allclose(next(stacked.parameters())[0], next(stacked.parameters())[1])
        torch.testing.assert_close(history.stacked("high_quality")[:, 1:2], alone_history.stacked("high_quality"))
        assert history.steps == [6, 12] and len(history.cpu_seconds) == 2


def _blocks_adam(parameter, gradients, learning_rate, beta1, beta2, epsilon=1e-8):
    """Blocks' Adam.compute_step as written in its source (decay_factor 1 - 1e-8 ≈ 1): the other convention."""
    mean, variance = torch.zeros_like(parameter), torch.zeros_like(parameter)
    for t, g in enumerate(gradients, start=1):
        rate = learning_rate * math.sqrt(1 - (1 - beta2) ** t) / (1 - (1 - beta1) ** t)
        mean = beta1 * g + (1 - beta1) * mean
        variance = beta2 * g**2 + (1 - beta2) * variance
        parameter = parameter - rate * mean / (variance.sqrt() + epsilon)
    return parameter


def test_blocks_beta1_point_eight_is_pytorch_beta1_point_two():
    gradients = [torch.randn(5, generator=torch_generator(t)) for t in range(6)]
    start = torch.randn(5, generator=torch_generator(9))
    blocks = _blocks_adam(start, gradients, 1e-2, beta1=0.8, beta2=0.001)
    for betas, same in (((0.2, 0.999), True), ((0.8, 0.999), False)):
        parameter = torch.nn.Parameter(start.clone())
        optimizer = torch.optim.Adam([parameter], 1e-2, betas=betas, fused=True)
        for g in gradients:
            parameter.grad = g.clone()
            optimizer.step()
        assert torch.allclose(parameter.detach(), blocks, atol=1e-6) is same
    assert PACGAN_RING.betas == PACGAN_GRID.betas == (0.2, 0.999)


def test_one_step_is_simultaneous_as_written_by_hand():
    setting, pack, batch = SMALL_PACGAN, 2, SMALL_PACGAN.batch_size
    trained, _ = train_paper_gans(setting, pack=pack, seeds=1, steps=1, record_every=1)
    generator, discriminator = build_generator(setting, 1), build_discriminator(setting, 1, pack)
    real = _PackedData(setting, setting.centers(), pack, range(1)).next_batch()
    z = torch.randn((pack, batch, setting.noise_dim), generator=torch_generator(0, "paper_gans.noise", 0))[None]
    fake = pack_samples(generator(z))
    d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()
    g_loss = F.softplus(-discriminator(fake)).mean()
    d_grads = torch.autograd.grad(d_loss, list(discriminator.parameters()), retain_graph=True)
    g_grads = torch.autograd.grad(g_loss, list(generator.parameters()))  # at the *old* D: simultaneous
    for parameters, grads in ((list(generator.parameters()), g_grads), (list(discriminator.parameters()), d_grads)):
        for p, g in zip(parameters, grads):
            p.grad = g
        torch.optim.Adam(parameters, setting.learning_rate, betas=setting.betas).step()
    for mine, theirs in zip(generator.parameters(), trained.parameters()):
        torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=1e-5)
    # the alternating order (G against the updated D) gives a different G
    alternating, _ = train_paper_gans(
        dataclasses.replace(setting, simultaneous=False), pack=pack, seeds=1, steps=1, record_every=1
    )
    assert not all(torch.allclose(a, b, atol=1e-6) for a, b in zip(alternating.parameters(), trained.parameters()))


def test_batch_norm_per_chunk_and_population_statistics():
    layer = StackedBatchNorm(2, 3, eps=1e-4, momentum=0.05)
    x = torch.randn(2, 2, 50, 3) * 3 + 1  # (seeds, chunks, batch, features)
    out = layer(x)
    for chunk in range(2):
        piece = x[:, chunk]
        expected = (piece - piece.mean(1, keepdim=True)) / (piece.var(1, unbiased=False, keepdim=True) + 1e-4).sqrt()
        torch.testing.assert_close(out[:, chunk], expected, atol=1e-5, rtol=1e-5)
    chunk_mean = x.mean(2).mean(1, keepdim=True)  # (2, 1, 3)
    chunk_std = (x.var(2, unbiased=False) + 1e-4).sqrt().mean(1, keepdim=True)
    torch.testing.assert_close(layer.population_mean, 0.05 * chunk_mean)
    torch.testing.assert_close(layer.population_std, 0.95 + 0.05 * chunk_std)
    layer.eval()
    plain = torch.randn(2, 4, 3)
    torch.testing.assert_close(layer(plain), (plain - layer.population_mean) / layer.population_std)


def test_the_papers_metrics_at_pacgans_scale():
    centers = PACGAN_RING.centers()  # radius 1, σ 0.01: high quality = within 0.03 of a centre
    assert torch.allclose(centers.norm(dim=1), torch.ones(8))
    inside, outside = centers[2] + torch.tensor([0.029, 0.0]), centers[2] + torch.tensor([0.0, 0.031])
    samples = torch.stack([centers[0], centers[0], centers[0], centers[5], inside, outside, torch.zeros(2)])
    result = mode_coverage(samples, centers, std=PACGAN_RING.std)
    assert result["counts"] == [3, 0, 1, 0, 0, 1, 0, 0]
    assert result["modes"] == 3 and result["high_quality"] == pytest.approx(5 / 7)
    p = torch.tensor([3, 1, 1], dtype=torch.float64) / 5
    assert result["reverse_kl"] == pytest.approx(float((p * (8 * p).log()).sum()))
    grid = PACGAN_GRID.centers()  # -4..4 step 2, σ 0.05: high quality within 0.15
    assert grid.shape == (25, 2) and sorted(set(grid[:, 0].tolist())) == [-4, -2, 0, 2, 4]
    near = grid + torch.tensor([0.1, 0.1])  # 0.141 from each centre: all 25 covered, all high quality
    result = mode_coverage(near, grid, std=PACGAN_GRID.std)
    assert (
        result["modes"] == 25 and result["high_quality"] == 1.0 and result["reverse_kl"] == pytest.approx(0, abs=1e-12)
    )
    assert mode_coverage(grid + 0.11, grid, std=PACGAN_GRID.std)["high_quality"] == 0.0  # 0.156 > 3σ


def test_history_gives_the_papers_metrics_per_checkpoint():
    _, history = train_paper_gans(SMALL_PACGAN, pack=1, seeds=2, steps=4, record_every=2)
    for checkpoint in range(2):
        metrics = final_metrics(history, 8, checkpoint=checkpoint)
        counts = history.counts[checkpoint]
        assert torch.equal(metrics["modes"], (counts > 0).sum(1).double())
        assert metrics["high_quality"].tolist() == history.high_quality[checkpoint].double().tolist()


def test_alternating_steps_with_the_saturating_loss_as_written_by_hand():
    setting, steps = SMALL_UNROLLED, 3  # Unrolled GAN's baseline: D's step, then G's step against the updated D
    trained, _ = train_paper_gans(setting, seeds=1, steps=steps, record_every=steps)
    generator, discriminator = build_generator(setting, 1), build_discriminator(setting, 1)
    data, noise = _PackedData(setting, setting.centers(), 1, range(1)), torch_generator(0, "paper_gans.noise", 0)
    d_opt = torch.optim.Adam(discriminator.parameters(), setting.learning_rate, betas=setting.betas)
    g_opt = torch.optim.Adam(generator.parameters(), setting.learning_rate, betas=setting.betas)
    for _ in range(steps):
        real = data.next_batch()
        fake = generator(torch.randn((1, setting.batch_size, setting.noise_dim), generator=noise)[None])[:, 0]
        d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake.detach())).mean()
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        g_loss = torch.log1p(-torch.sigmoid(discriminator(fake))).mean()  # E[log(1 - D(G(z)))], minimised
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
    for mine, theirs in zip(generator.parameters(), trained.parameters()):
        torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=1e-5)
    # the non-saturating loss moves G differently
    other, _ = train_paper_gans(
        dataclasses.replace(setting, generator_loss="non_saturating"), seeds=1, steps=steps, record_every=steps
    )
    assert not all(torch.allclose(a, b, atol=1e-6) for a, b in zip(other.parameters(), trained.parameters()))


def _unrolled_players(steps_before: int = 1):
    """A tiny Unrolled-GAN G and D in float64, D's Adam with ``steps_before`` steps of state, one batch."""
    setting = SMALL_UNROLLED
    generator, discriminator = build_generator(setting, 2).double(), build_discriminator(setting, 2).double()
    optimizer = torch.optim.Adam(discriminator.parameters(), 1e-2, betas=setting.betas)
    real = _PackedData(setting, setting.centers(), 1, range(2)).next_batch().double()
    z = torch.randn(2, 1, setting.batch_size, setting.noise_dim, generator=torch_generator(3), dtype=torch.float64)
    for _ in range(steps_before):
        logits = discriminator(torch.cat([real, pack_samples(generator(z)).detach()], 1)).squeeze(-1)
        loss = F.softplus(-logits[:, : setting.batch_size]).mean() + F.softplus(logits[:, setting.batch_size :]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return generator, discriminator, optimizer, real, z


def test_one_unrolled_step_is_ds_own_adam_step():
    generator, discriminator, optimizer, real, z = _unrolled_players()
    fake = pack_samples(generator(z)).detach()
    before = [p.detach().clone() for p in discriminator.parameters()]
    state = [optimizer.state[p]["exp_avg"].clone() for p in discriminator.parameters()]
    unrolled = unrolled_generator_loss(discriminator, optimizer, real, fake, 1)
    # the call changed neither D nor its optimiser
    assert all(torch.equal(a, b) for a, b in zip(before, discriminator.parameters()))
    assert all(torch.equal(a, optimizer.state[p]["exp_avg"]) for a, p in zip(state, discriminator.parameters()))
    # f at D after one real Adam step (L_D summed over the seeds, as the trainer sums it)
    logits = discriminator(torch.cat([real, fake], 1)).squeeze(-1)
    batch = real.shape[1]
    loss = (F.softplus(-logits[:, :batch]).mean(1) + F.softplus(logits[:, batch:]).mean(1)).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    logits = discriminator(torch.cat([real, fake], 1)).squeeze(-1)
    after = (F.softplus(-logits[:, :batch]).mean(1) + F.softplus(logits[:, batch:]).mean(1)).sum()
    torch.testing.assert_close(unrolled, -after, atol=1e-10, rtol=1e-10)


def test_unrolled_generator_gradient_goes_through_the_unrolled_steps():
    generator, discriminator, optimizer, real, z = _unrolled_players()
    weight = generator[-1].weight  # (2, 16, 2): G's output layer

    def loss() -> Tensor:
        return unrolled_generator_loss(discriminator, optimizer, real, pack_samples(generator(z)), 3)

    (gradient,) = torch.autograd.grad(loss(), weight)
    numeric = torch.zeros(6, dtype=torch.float64)
    entries = [(0, 0, 0), (0, 3, 1), (0, 7, 0), (1, 2, 1), (1, 9, 0), (1, 15, 1)]
    for n, index in enumerate(entries):  # central differences (the unrolling needs autograd, so no no_grad here)
        weight.data[index] += 1e-6
        up = loss().detach()
        weight.data[index] -= 2e-6
        down = loss().detach()
        weight.data[index] += 1e-6
        numeric[n] = (up - down) / 2e-6
    analytic = torch.stack([gradient[index] for index in entries])
    torch.testing.assert_close(analytic, numeric, atol=1e-6, rtol=1e-4)
    # holding θ_D^K fixed (K real Adam steps of D, taken last, no differentiation through them): another vector
    fake = pack_samples(generator(z))
    batch = real.shape[1]
    expected = loss().detach()
    for _ in range(3):
        logits = discriminator(torch.cat([real, fake.detach()], 1)).squeeze(-1)
        loss_d = (F.softplus(-logits[:, :batch]).mean(1) + F.softplus(logits[:, batch:]).mean(1)).sum()
        optimizer.zero_grad()
        loss_d.backward()
        optimizer.step()
    logits = discriminator(torch.cat([real, fake], 1)).squeeze(-1)
    fixed_loss = -(F.softplus(-logits[:, :batch]).mean(1) + F.softplus(logits[:, batch:]).mean(1)).sum()
    torch.testing.assert_close(fixed_loss.detach(), expected, atol=1e-8, rtol=1e-8)  # the same value of f_K
    (fixed,) = torch.autograd.grad(fixed_loss, weight)
    assert not torch.allclose(torch.stack([fixed[index] for index in entries]), numeric, atol=1e-6, rtol=1e-4)


def test_nearest_mode_counts_every_sample_and_the_high_quality_bar_a_subset():
    centers = ring_centers(8, radius=2.0)
    # 3 samples on mode 0, 2 at 0.5 from mode 2 (outside 3σ = 0.06, but nearest to mode 2), 1 near mode 7
    samples = torch.cat([centers[[0, 0, 0]], centers[[2, 2]] * 1.25, centers[[7]] + 0.01])
    nearest = nearest_mode_counts(samples, centers)
    assert nearest.tolist() == [3, 0, 2, 0, 0, 0, 0, 1]
    assert mode_coverage(samples, centers, std=0.02)["counts"] == [3, 0, 0, 0, 0, 0, 0, 1]


def test_checkpoints_keep_samples_and_both_bars_of_the_fresh_draws_without_changing_training():
    generator, history = train_paper_gans(SMALL_UNROLLED, seeds=2, steps=6, record_every=2, keep_samples=7)
    other, sparse = train_paper_gans(SMALL_UNROLLED, seeds=2, steps=6, record_every=3)
    for kept, trained in zip(generator.parameters(), other.parameters()):
        torch.testing.assert_close(kept, trained, rtol=0, atol=0)  # recording draws only from its own streams
    assert sparse.samples == [] and len(sparse.fresh_nearest) == 2
    samples, nearest, good = (history.stacked(n) for n in ("samples", "fresh_nearest", "fresh_counts"))
    assert samples.shape == (3, 2, 7, 2) and nearest.shape == good.shape == (3, 2, 2, 8)
    assert (nearest.sum(-1) == SMALL_UNROLLED.evaluation_samples).all()  # every sample of a draw, counted once
    assert (good <= nearest).all()  # a high-quality sample is one of its nearest mode's samples
    probe = torch.randn(300, 8, generator=torch_generator(0, "paper_gans.probe_noise"))
    with torch.no_grad():  # the kept samples are G's on the probe noise at the last checkpoint
        torch.testing.assert_close(samples[-1], generator(probe.expand(2, -1, -1))[:, :7])


def test_the_rerun_arm_is_the_benchmarks_unrolled_arm():
    from importlib import util
    from pathlib import Path

    from helpers.gan_minimax.experiments import PAPER_RERUN

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gan_paper_settings.py"
    spec = util.spec_from_file_location("gan_paper_settings_benchmark", path)
    benchmark = util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    key, pack, steps, every = PAPER_RERUN
    assert (key, pack) in {(k, p) for k, p, _ in benchmark.ARMS}
    assert (steps, every) == (benchmark.UNROLLED_STEPS, benchmark.UNROLLED_RECORD_EVERY)
    assert list(benchmark.SEEDS) == list(range(5))


def test_top_mode_share_is_one_at_one_mode_and_an_eighth_when_spread():
    from helpers.gan_minimax.experiments import top_mode_share
    from helpers.gan_minimax.stacked_gans import RingHistory

    history = RingHistory(steps=[1, 2])
    one_mode = torch.tensor([0, 0, 0, 40, 0, 0, 0, 0])
    history.fresh_nearest = [torch.stack([torch.stack([one_mode, torch.full((8,), 5)])] * 2)] * 2
    assert top_mode_share(history).tolist() == [1.0, 0.125]
