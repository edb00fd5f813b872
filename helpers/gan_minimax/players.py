"""The two players as small MLPs, PacGAN's packing, and one step of the game (Algorithm 1).

The losses come from :mod:`helpers.gan_minimax.minimax`; each step ends in the course's one
:func:`helpers.training.loop.optimizer_step`, and :func:`gan_step` plugs into :func:`helpers.training.loop.train`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

from helpers.core import check_choice, check_positive_int, check_shape
from helpers.gan_minimax.minimax import GENERATOR_LOSSES, discriminator_loss, generator_loss
from helpers.training import optimizer_step

__all__ = ["MLPDiscriminator", "MLPGenerator", "SampledBatches", "gan_step", "pack_samples"]


def _mlp(sizes: list[int], activation: Callable[[], nn.Module]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if index < len(sizes) - 2:
            layers.append(activation())
    return layers


class MLPGenerator(nn.Module):
    """G: noise z (batch, noise_dim) -> sample (batch, out_dim); ``tanh_output`` for images in [-1, 1]."""

    def __init__(
        self, noise_dim: int, out_dim: int, *, num_layers: int = 2, hidden_size: int = 128, tanh_output: bool = False
    ):
        super().__init__()
        self.noise_dim = check_positive_int(noise_dim, "noise_dim")
        self.out_dim = check_positive_int(out_dim, "out_dim")
        sizes = [noise_dim] + [check_positive_int(hidden_size, "hidden_size")] * check_positive_int(
            num_layers, "num_layers"
        )
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

    def __init__(self, in_dim: int, *, num_layers: int = 2, hidden_size: int = 128, pack: int = 1):
        super().__init__()
        self.in_dim = check_positive_int(in_dim, "in_dim")
        self.pack = check_positive_int(pack, "pack")
        sizes = [in_dim * pack] + [check_positive_int(hidden_size, "hidden_size")] * check_positive_int(
            num_layers, "num_layers"
        )
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
        fake = generator(torch.randn(batch, noise_dim, device=real.device)).detach()  # no gradient into G on D's turn
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        d_loss = discriminator_loss(real_logits, fake_logits)
        optimizer_step(discriminator_optimizer, d_loss)
        if calls % d_steps == 0:
            for _ in range(g_steps):
                z = torch.randn(batch, noise_dim, device=real.device)
                g_loss = generator_loss(discriminator(generator(z)), generator_loss_kind)
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
