"""Generative adversarial nets, written out (Goodfellow et al., 2014).

The two-player minimax game (the paper's equation 1)::

    min_G max_D V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))]

For a fixed G the best discriminator is ``D*(x) = p_data(x) / (p_data(x) + p_g(x))`` (Proposition 1),
and with it the generator's criterion is ``C(G) = -log 4 + 2 * JSD(p_data || p_g)`` (Theorem 1): its
minimum ``-log 4`` is reached only at ``p_g = p_data``, where ``D* = 1/2`` everywhere.

Conventions used everywhere in this module
------------------------------------------
- Discriminators return **logits** ``(batch,)``; ``D(x) = sigmoid(logit)``. Logs of D are computed
  from logits (``log D = -softplus(-l)``, ``log(1 - D) = -softplus(l)``) so they never become -inf.
- Samples are ``(batch, features)``; images are flattened to ``(batch, height * width)`` with pixel
  values in [-1, 1] (the generator ends in tanh).
- Generator loss ``"saturating"`` is the minimax one, ``E[log(1 - D(G(z)))]`` (minimised);
  ``"non_saturating"`` is the paper's remedy, ``-E[log D(G(z))]`` (same fixed point, strong gradient
  when D rejects the fakes).
- Known 1-D densities for the theory are given on an even grid with spacing ``dx``; integrals are
  Riemann sums.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .core import check_choice, check_positive_int, check_shape
from .training import optimizer_step

__all__ = [
    "GENERATOR_LOSSES",
    "MLPDiscriminator",
    "MLPGenerator",
    "SampledBatches",
    "dirac_gan_trajectory",
    "discriminator_loss",
    "gan_step",
    "generator_loss",
    "js_divergence",
    "optimal_discriminator",
    "pack_samples",
    "value_estimate",
    "value_on_grid",
    "virtual_training_criterion",
]

GENERATOR_LOSSES = ("saturating", "non_saturating")


# --- the theory on known densities ---------------------------------------------------------------


def _check_densities(p_data: Tensor, p_g: Tensor) -> None:
    check_shape(p_data, (None,), "p_data", "(grid,)")
    check_shape(p_g, (p_data.shape[0],), "p_g", "(grid,) like p_data")
    if bool((p_data < 0).any()) or bool((p_g < 0).any()):
        raise ValueError("densities must be non-negative; got a negative value in p_data or p_g")


def optimal_discriminator(p_data: Tensor, p_g: Tensor) -> Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), Proposition 1; 1/2 where both densities are 0."""
    _check_densities(p_data, p_g)
    total = p_data + p_g
    # Where neither distribution has mass, D is never evaluated in V; 1/2 is the natural choice.
    return torch.where(total > 0, p_data / total.clamp_min(torch.finfo(total.dtype).tiny), torch.full_like(total, 0.5))


def _xlogy(x: Tensor, y: Tensor) -> Tensor:
    return torch.special.xlogy(x, y)  # 0 * log 0 = 0, the convention every integral here needs


def value_on_grid(d: Tensor, p_data: Tensor, p_g: Tensor, dx: float) -> float:
    """V(D, G) = ∫ p_data log D + p_g log(1 - D) dx for a discriminator given as values D(x) on the grid."""
    _check_densities(p_data, p_g)
    check_shape(d, (p_data.shape[0],), "d", "(grid,) like p_data")
    return float((_xlogy(p_data, d) + _xlogy(p_g, 1 - d)).sum() * dx)


def js_divergence(p: Tensor, q: Tensor, dx: float) -> float:
    """Jensen-Shannon divergence (nats) of two densities on the same grid: KL(p||m)/2 + KL(q||m)/2."""
    _check_densities(p, q)
    m = (p + q) / 2
    kl_pm = (_xlogy(p, p) - _xlogy(p, m)).sum() * dx
    kl_qm = (_xlogy(q, q) - _xlogy(q, m)).sum() * dx
    return float((kl_pm + kl_qm) / 2)


def virtual_training_criterion(p_data: Tensor, p_g: Tensor, dx: float) -> float:
    """C(G) = max_D V(D, G) = V(D*, G), computed directly (Theorem 1 says it equals -log 4 + 2 JSD).

    Written as ∫ p_data log(p_data / (p_data + p_g)) + p_g log(p_g / (p_data + p_g)) dx, i.e. V with
    log D* and log(1 - D*) taken from the densities, so that 1 - D* never rounds to 0 in a tail.
    """
    _check_densities(p_data, p_g)
    total = p_data + p_g
    log_d = _xlogy(p_data, p_data) - _xlogy(p_data, total)  # p_data log D*
    log_1_minus_d = _xlogy(p_g, p_g) - _xlogy(p_g, total)  # p_g log(1 - D*)
    return float((log_d + log_1_minus_d).sum() * dx)


# --- the losses on samples ----------------------------------------------------------------------


def value_estimate(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Monte-Carlo estimate of V(D, G): mean log D(x) + mean log(1 - D(G(z))), from logits."""
    check_shape(real_logits, (None,), "real_logits", "(batch,)")
    check_shape(fake_logits, (None,), "fake_logits", "(batch,)")
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """What D minimises: -V (binary cross-entropy with labels real = 1, fake = 0)."""
    return -value_estimate(real_logits, fake_logits)


def generator_loss(fake_logits: Tensor, kind: str = "non_saturating") -> Tensor:
    """What G minimises: ``E[log(1 - D(G(z)))]`` (saturating) or ``-E[log D(G(z))]`` (non-saturating)."""
    check_choice(kind, GENERATOR_LOSSES, "generator loss kind")
    check_shape(fake_logits, (None,), "fake_logits", "(batch,)")
    if kind == "saturating":
        return -F.softplus(fake_logits).mean()  # log(1 - sigmoid(l)) = -softplus(l)
    return F.softplus(-fake_logits).mean()  # -log sigmoid(l) = softplus(-l)


# --- the players --------------------------------------------------------------------------------


def _mlp(sizes: list[int], activation: Callable[[], nn.Module]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if index < len(sizes) - 2:
            layers.append(activation())
    return layers


class MLPGenerator(nn.Module):
    """G: noise z (batch, noise_dim) -> sample (batch, out_dim); ``tanh_output`` for images in [-1, 1]."""

    def __init__(self, noise_dim: int, out_dim: int, *, num_layers: int = 2, hidden: int = 128,
                 tanh_output: bool = False):
        super().__init__()
        self.noise_dim = check_positive_int(noise_dim, "noise_dim")
        self.out_dim = check_positive_int(out_dim, "out_dim")
        sizes = [noise_dim] + [check_positive_int(hidden, "hidden")] * check_positive_int(num_layers, "num_layers")
        body = _mlp(sizes + [out_dim], nn.ReLU)
        self.net = nn.Sequential(*body, *([nn.Tanh()] if tanh_output else []))

    def forward(self, z: Tensor) -> Tensor:
        check_shape(z, (None, self.noise_dim), "z", "(batch, noise_dim)")
        return self.net(z)  # (batch, out_dim)

    def sample(self, count: int, *, generator: torch.Generator | None = None) -> Tensor:
        """``count`` samples from p_g (no gradient); z ~ N(0, I) from ``generator`` (default: the global one)."""
        with torch.no_grad():
            return self(torch.randn(check_positive_int(count, "count"), self.noise_dim, generator=generator))


class MLPDiscriminator(nn.Module):
    """D: sample (batch, in_dim) -> logit (batch,).

    ``pack`` > 1 makes it a PacGAN discriminator (Lin et al., 2018): it judges ``pack`` samples at
    once, concatenated to ``(batch / pack, pack * in_dim)``, all real or all fake. A collapsed
    generator's packs look alike, real packs do not, so D can see the missing diversity.
    """

    def __init__(self, in_dim: int, *, num_layers: int = 2, hidden: int = 128, pack: int = 1):
        super().__init__()
        self.in_dim = check_positive_int(in_dim, "in_dim")
        self.pack = check_positive_int(pack, "pack")
        sizes = [in_dim * pack] + [check_positive_int(hidden, "hidden")] * check_positive_int(num_layers, "num_layers")
        self.net = nn.Sequential(*_mlp(sizes + [1], lambda: nn.LeakyReLU(0.2)))

    def forward(self, x: Tensor) -> Tensor:
        check_shape(x, (None, self.in_dim), "x", "(batch, in_dim)")
        return self.net(pack_samples(x, self.pack)).squeeze(-1)  # (batch / pack,)

    def probability(self, x: Tensor) -> Tensor:
        """D(x) in (0, 1), without gradient (for plots)."""
        with torch.no_grad():
            return torch.sigmoid(self(x))


def pack_samples(x: Tensor, pack: int) -> Tensor:
    """(batch, dim) -> (batch / pack, pack * dim): consecutive samples side by side (PacGAN)."""
    batch, dim = x.shape
    if batch % pack:
        raise ValueError(f"the batch size ({batch}) must be a multiple of pack ({pack}); change one of them")
    return x.reshape(batch // pack, pack * dim)


# --- one step of Algorithm 1 --------------------------------------------------------------------


def gan_step(
    generator: nn.Module,
    discriminator: nn.Module,
    generator_optimizer: torch.optim.Optimizer,
    discriminator_optimizer: torch.optim.Optimizer,
    *,
    generator_loss_kind: str = "non_saturating",
    d_steps: int = 1,
    g_steps: int = 1,
    noise_dim: int | None = None,
) -> Callable[[Tensor], dict[str, float]]:
    """The step of Algorithm 1 for ``helpers.training.train``: each call takes one real minibatch.

    Every call updates D once on that minibatch and a fresh noise minibatch; every ``d_steps``-th call
    then updates G ``g_steps`` times. ``d_steps = k`` is the paper's k (it used k = 1); ``g_steps`` > 1
    trains G more than D. Both updates go through ``helpers.training.optimizer_step``. Returns D's
    loss, G's latest loss (absent until G's first step), mean D(x) and mean D(G(z)).
    """
    check_choice(generator_loss_kind, GENERATOR_LOSSES, "generator_loss_kind")
    d_steps, g_steps = check_positive_int(d_steps, "d_steps"), check_positive_int(g_steps, "g_steps")
    if noise_dim is None:
        if not hasattr(generator, "noise_dim"):
            raise ValueError("the generator has no noise_dim attribute: pass noise_dim= (the size of z)")
        noise_dim = generator.noise_dim
    noise_dim = check_positive_int(noise_dim, "noise_dim")
    calls = 0
    last_g_loss: float | None = None

    def step(real: Tensor) -> dict[str, float]:
        nonlocal calls, last_g_loss
        calls += 1
        batch = real.shape[0]
        fake = generator(torch.randn(batch, noise_dim)).detach()  # no gradient into G on D's turn
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        d_loss = discriminator_loss(real_logits, fake_logits)
        optimizer_step(discriminator_optimizer, d_loss)
        if calls % d_steps == 0:
            for _ in range(g_steps):
                g_loss = generator_loss(discriminator(generator(torch.randn(batch, noise_dim))), generator_loss_kind)
                optimizer_step(generator_optimizer, g_loss)  # D's gradients from this pass are cleared on its turn
                last_g_loss = float(g_loss.detach())
        metrics = {"d_loss": float(d_loss.detach())}
        if last_g_loss is not None:  # G's latest loss, once G has made a step (train() refuses NaN)
            metrics["g_loss"] = last_g_loss
        metrics["d_real"] = float(torch.sigmoid(real_logits.detach()).mean())
        metrics["d_fake"] = float(torch.sigmoid(fake_logits.detach()).mean())
        return metrics

    return step


class SampledBatches:
    """``count`` minibatches drawn fresh from ``sampler(batch_size)``: a re-iterable with a length."""

    def __init__(self, sampler: Callable[[int], Tensor], batch_size: int, count: int):
        self.sampler = sampler
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.count = check_positive_int(count, "count")

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Tensor]:
        for _ in range(self.count):
            yield self.sampler(self.batch_size)


# --- the Dirac-GAN (Mescheder et al., 2018) -------------------------------------------------------


def dirac_gan_trajectory(
    theta: float,
    psi: float,
    *,
    steps: int,
    learning_rate: float,
    simultaneous: bool = True,
    gradient_penalty: float = 0.0,
) -> Tensor:
    """The Dirac-GAN of Mescheder et al. (2018): p_data = δ_0, G = δ_θ, D's logit ψ·x.

    V(θ, ψ) = log σ(ψ·0) + log(1 - σ(ψθ)) = -log 2 - softplus(ψθ), computed with this module's
    ``value_estimate``. D ascends V (minus the R1 penalty (γ/2)·|∇_x D(x)|² at the real point, = (γ/2)ψ²
    here); G descends V (the minimax loss). The only equilibrium is (θ, ψ) = (0, 0). ``simultaneous``:
    both gradients at the current point; else D moves first and G answers the new D (Algorithm 1).
    Returns the trajectory (steps + 1, 2) of (θ, ψ) in float64.
    """
    steps = check_positive_int(steps, "steps")
    if not learning_rate > 0 or not gradient_penalty >= 0:
        raise ValueError(f"learning_rate must be > 0 and gradient_penalty >= 0, "
                         f"got {learning_rate!r} and {gradient_penalty!r}")
    point = torch.tensor([float(theta), float(psi)], dtype=torch.float64)
    path = [point.clone()]

    def d_objective(th: Tensor, ps: Tensor) -> Tensor:  # what D maximises
        real = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        real_logit = ps * real
        (slope,) = torch.autograd.grad(real_logit.sum(), real, create_graph=True)  # ∇_x D at the data
        return value_estimate(real_logit, (ps * th).reshape(1)) - gradient_penalty / 2 * slope.square().sum()

    for _ in range(steps):
        th, ps = point[0].clone().requires_grad_(), point[1].clone().requires_grad_()
        (d_grad,) = torch.autograd.grad(d_objective(th, ps), ps)
        if not simultaneous:
            ps = (ps + learning_rate * d_grad).detach().requires_grad_()  # D moves first
        (g_grad,) = torch.autograd.grad(value_estimate(torch.zeros(1, dtype=torch.float64), (ps * th).reshape(1)), th)
        new_psi = ps.detach() if not simultaneous else ps.detach() + learning_rate * d_grad
        point = torch.stack([th.detach() - learning_rate * g_grad, new_psi])
        path.append(point.clone())
    return torch.stack(path)
