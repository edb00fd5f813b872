"""Tests for helpers.gan_minimax.minimax: the theory on known densities, the losses and their gradients, the metrics."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from helpers.gan_minimax import dirac, minimax, players
from helpers.training import train


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


GRID = torch.linspace(-10, 10, 20001, dtype=torch.float64)
DX = float(GRID[1] - GRID[0])


def normal(mean: float, std: float) -> torch.Tensor:
    return torch.exp(-((GRID - mean) ** 2) / (2 * std**2)) / (std * math.sqrt(2 * math.pi))


def test_optimal_discriminator_formula():
    p, q = torch.tensor([0.2, 0.0, 0.6, 0.0]), torch.tensor([0.6, 0.3, 0.2, 0.0])
    assert torch.allclose(minimax.optimal_discriminator(p, q), torch.tensor([0.25, 0.0, 0.75, 0.5]))


def test_optimal_discriminator_maximises_value():
    p, q = normal(0, 1), normal(1.5, 1)
    best = minimax.virtual_training_criterion(p, q, DX)
    assert best == pytest.approx(minimax.value_on_grid(minimax.optimal_discriminator(p, q), p, q, DX), abs=1e-9)
    for shift in (-0.1, 0.05):
        worse = minimax.value_on_grid((minimax.optimal_discriminator(p, q) + shift).clamp(1e-6, 1 - 1e-6), p, q, DX)
        assert worse < best


def test_criterion_equals_minus_log4_plus_2jsd():
    p, q = normal(0, 1), normal(2, 0.5)
    c = minimax.virtual_training_criterion(p, q, DX)
    assert c == pytest.approx(-math.log(4) + 2 * minimax.js_divergence(p, q, DX), abs=1e-9)
    assert c > -math.log(4) + 0.1


def test_minus_log4_at_equality():
    p = normal(0.5, 1.2)
    assert minimax.virtual_training_criterion(p, p, DX) == pytest.approx(-math.log(4), abs=1e-9)
    assert minimax.js_divergence(p, p, DX) == pytest.approx(0.0, abs=1e-12)


def test_value_estimate_matches_closed_form():
    """Monte-Carlo V with a fixed logistic D on N(0,1) vs N(1,1) against the grid integral."""
    w, b = 1.3, -0.4
    real, fake = torch.randn(100_000, dtype=torch.float64), 1 + torch.randn(100_000, dtype=torch.float64)
    estimate = float(minimax.value_estimate(w * real + b, w * fake + b))
    d = torch.sigmoid(w * GRID + b)
    exact = minimax.value_on_grid(d, normal(0, 1), normal(1, 1), DX)
    assert estimate == pytest.approx(exact, abs=1e-2)


def test_value_estimate_against_bce():
    real, fake = torch.randn(7), torch.randn(5)
    bce = F.binary_cross_entropy_with_logits(real, torch.ones(7))
    bce = bce + F.binary_cross_entropy_with_logits(fake, torch.zeros(5))
    assert torch.allclose(minimax.discriminator_loss(real, fake), bce)


def test_generator_loss_gradients():
    """d/dl log(1 - σ(l)) = -σ(l) (vanishes when D rejects) and d/dl [-log σ(l)] = -(1 - σ(l))."""
    logits = torch.tensor([-6.0, 0.0, 3.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(minimax.generator_loss(logits, "saturating") * 3, logits)
    (g_ns,) = torch.autograd.grad(minimax.generator_loss(logits, "non_saturating") * 3, logits)
    d = torch.sigmoid(logits.detach())
    assert torch.allclose(g_sat, -d) and torch.allclose(g_ns, -(1 - d))
    assert abs(g_sat[0]) < 0.01 < abs(g_ns[0])


def test_losses_are_finite_for_extreme_logits():
    logits = torch.tensor([-200.0, 200.0])
    for kind in minimax.GENERATOR_LOSSES:
        assert torch.isfinite(minimax.generator_loss(logits, kind))
    assert torch.isfinite(minimax.value_estimate(logits, logits))


def test_pacgan_packing():
    x = torch.arange(12.0).reshape(6, 2)
    assert torch.equal(players.pack_samples(x, 2)[1], torch.tensor([4.0, 5.0, 6.0, 7.0]))
    assert players.MLPDiscriminator(2, hidden_size=8, pack=3)(x).shape == (2,)
    with pytest.raises(ValueError, match="multiple of pack"):
        players.pack_samples(x, 4)


def test_clear_errors():
    with pytest.raises(ValueError, match=r"x must have shape \(batch, in_dim\)"):
        players.MLPDiscriminator(2)(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="z must have shape"):
        players.MLPGenerator(4, 2)(torch.zeros(4))
    with pytest.raises(ValueError, match="generator loss kind must be one of"):
        minimax.generator_loss(torch.zeros(3), "minimax")
    with pytest.raises(ValueError, match="p_g must have shape"):
        minimax.optimal_discriminator(torch.ones(3), torch.ones(4))
    with pytest.raises(ValueError, match="non-negative"):
        minimax.js_divergence(torch.tensor([1.0, -1.0]), torch.ones(2), 1.0)
    with pytest.raises(ValueError, match="pass noise_dim="):
        players.gan_step(torch.nn.Linear(2, 2), players.MLPDiscriminator(2), None, None)
    with pytest.raises(ValueError, match="d_steps must be a positive integer"):
        players.gan_step(players.MLPGenerator(2, 2), players.MLPDiscriminator(2), None, None, d_steps=0)
    with pytest.raises(TypeError):
        players.MLPGenerator(2, 2, 3)  # num_layers and hidden are keyword-only


def test_step_schedule_and_learning():
    """d_steps=k updates G once per k calls; a short 1-D run moves G towards the data."""
    torch.set_num_threads(1)
    generator, discriminator = players.MLPGenerator(1, 1, hidden_size=8), players.MLPDiscriminator(1, hidden_size=8)
    g_opt = torch.optim.Adam(generator.parameters(), 1e-2)
    d_opt = torch.optim.Adam(discriminator.parameters(), 1e-2)
    before = [p.clone() for p in generator.parameters()]
    step = players.gan_step(generator, discriminator, g_opt, d_opt, d_steps=3)
    assert "g_loss" not in step(torch.randn(8, 1))  # no G step yet: no G loss (not NaN, which train() refuses)
    step(torch.randn(8, 1))
    assert all(torch.equal(a, b) for a, b in zip(before, generator.parameters()))  # no G step yet
    assert "g_loss" in step(torch.randn(8, 1))
    assert not all(torch.equal(a, b) for a, b in zip(before, generator.parameters()))
    step = players.gan_step(generator, discriminator, g_opt, d_opt)
    start = float(generator.sample(2000).mean())
    history = train(step, players.SampledBatches(lambda n: 3 + 0.5 * torch.randn(n, 1), 64, 150), show_progress=False)
    assert set(history.steps) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert abs(float(generator.sample(2000).mean()) - 3) < abs(start - 3) - 0.5


def test_gan_step_uses_the_shared_optimizer_step(monkeypatch):
    """Every update goes through helpers.training.optimizer_step (issue 13: one optimiser step)."""
    calls = []
    import helpers.training

    original = helpers.training.optimizer_step

    def counting(optimizer, loss, **kwargs):
        calls.append(optimizer)
        original(optimizer, loss, **kwargs)

    monkeypatch.setattr(players, "optimizer_step", counting)
    generator, discriminator = players.MLPGenerator(1, 1, hidden_size=4), players.MLPDiscriminator(1, hidden_size=4)
    g_opt, d_opt = (torch.optim.SGD(m.parameters(), 0.1) for m in (generator, discriminator))
    players.gan_step(generator, discriminator, g_opt, d_opt, g_steps=2)(torch.randn(4, 1))
    assert calls == [d_opt, g_opt, g_opt]


def test_dirac_gan_one_step_matches_closed_form():
    """V = -log 2 - softplus(ψθ): ∂V/∂θ = -ψσ(ψθ), ∂V/∂ψ = -θσ(ψθ) - γψ (with the R1 penalty)."""
    theta, psi, h = 0.7, -1.3, 0.05
    s = torch.sigmoid(torch.tensor(theta * psi, dtype=torch.float64))
    for gamma in (0.0, 2.0):
        step = dirac.dirac_gan_trajectory(theta, psi, steps=1, learning_rate=h, gradient_penalty=gamma)[1]
        expected_psi = psi + h * (-theta * s - gamma * psi)
        expected_theta = theta + h * psi * s  # G descends V
        assert torch.allclose(step, torch.stack([expected_theta, expected_psi]).double(), atol=1e-12)
    # alternating: G answers the moved D
    step = dirac.dirac_gan_trajectory(theta, psi, steps=1, learning_rate=h, simultaneous=False)[1]
    new_psi = psi + h * (-theta * s)
    expected_theta = theta + h * new_psi * torch.sigmoid(theta * new_psi)
    assert torch.allclose(step, torch.stack([expected_theta, new_psi]).double(), atol=1e-12)


def test_dirac_gan_simultaneous_spirals_out_and_penalty_converges():
    """Simultaneous steps: |x|² grows by (1 + h²/4) per step near 0; with R1 the point converges."""
    free = dirac.dirac_gan_trajectory(0.01, 0.0, steps=200, learning_rate=0.1)
    ratio = free.norm(dim=1)[1:] / free.norm(dim=1)[:-1]
    assert torch.allclose(ratio, torch.full_like(ratio, math.sqrt(1 + 0.1**2 / 4)), rtol=1e-4)
    damped = dirac.dirac_gan_trajectory(1.0, 1.0, steps=500, learning_rate=0.1, gradient_penalty=1.0)
    assert damped[-1].norm() < 1e-6


def test_train_digit_gan_is_seeded_silent_and_names_its_kinds(capsys) -> None:
    from helpers.gan_minimax import dcgan

    real = torch.rand(64, 784) * 2 - 1
    first, again = (dcgan.train_digit_gan("DCGAN", 3, real, steps=2) for _ in range(2))
    assert isinstance(first, dcgan.DCGANGenerator)
    for (name, a), (_, b) in zip(first.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name  # seeded: the same run twice
    other = dcgan.train_digit_gan("DCGAN", 4, real, steps=2)
    assert not torch.equal(next(iter(first.parameters())), next(iter(other.parameters())))  # the seed matters
    assert isinstance(dcgan.train_digit_gan("MLP GAN", 0, real, steps=1), players.MLPGenerator)
    assert capsys.readouterr().out == ""  # prints nothing: a job for worker processes
    with pytest.raises(ValueError, match="kind"):
        dcgan.train_digit_gan("VAE", 0, real, steps=1)


def test_dirac_gan_refuses_an_infinite_learning_rate_or_a_nan_penalty() -> None:
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0, got inf"):
        dirac.dirac_gan_trajectory(1.0, 1.0, steps=2, learning_rate=math.inf)  # used to return NaN points
    with pytest.raises(ValueError, match="gradient_penalty must be a finite number >= 0, got nan"):
        dirac.dirac_gan_trajectory(1.0, 1.0, steps=2, learning_rate=0.1, gradient_penalty=math.nan)
