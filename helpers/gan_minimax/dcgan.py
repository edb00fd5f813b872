"""A convolutional GAN for 28×28 digits (Radford et al., 2016, DCGAN) and the CNN that judges it.

DCGAN's architecture guidelines (their Section 3), followed here:
- D downsamples with strided convolutions, G upsamples with transposed (fractionally strided)
  convolutions; no pooling layers.
- Batch norm in G (every layer but the output) and in D (every layer but the input).
- ReLU in G with tanh at the output (images in [-1, 1]); LeakyReLU (slope 0.2) in D.
- Adam with β1 = 0.5 (the paper's learning rate is 2e-4; a smaller network trains faster at 1e-3).

Shapes for ``width`` = w: G: z (batch, noise_dim) -> (batch, 2w, 7, 7) -> (batch, w, 14, 14) ->
(batch, 1, 28, 28). D: (batch, 1, 28, 28) -> (batch, w', 14, 14) -> (batch, 2w', 7, 7) -> logit (batch,).
Both players also accept flattened images (batch, 784), so ``helpers.gan_minimax.players.gan_step`` trains them.

The judge (:class:`DigitClassifier`) is a small LeNet-style CNN trained on real digits; its
predictions on generated digits give the classes covered and their balance
(``helpers.gan_minimax.mode_metrics.class_histogram_metrics``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from helpers.core import (
    check_choice,
    check_positive_int,
    check_probability,
    resolve_device,
    seed_everything,
    training_mode,
)
from helpers.gan_minimax.players import MLPDiscriminator, MLPGenerator, SampledBatches, gan_step
from helpers.training import train

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "DigitClassifier", "as_images", "train_digit_gan"]

IMAGE_SIZE = 28


def as_images(x: Tensor) -> Tensor:
    """(batch, 784) or (batch, 28, 28) or (batch, 1, 28, 28) -> (batch, 1, 28, 28); anything else refused."""
    if not isinstance(x, Tensor):
        raise TypeError(f"images must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"images must be floating point in [-1, 1], got {x.dtype}; convert with x.float() / 127.5 - 1")
    shapes = {(IMAGE_SIZE * IMAGE_SIZE,), (IMAGE_SIZE, IMAGE_SIZE), (1, IMAGE_SIZE, IMAGE_SIZE)}
    if x.dim() < 2 or tuple(x.shape[1:]) not in shapes:
        raise ValueError(
            f"images must have shape (batch, 784), (batch, 28, 28) or (batch, 1, 28, 28), got {tuple(x.shape)}"
        )
    return x.reshape(x.shape[0], 1, IMAGE_SIZE, IMAGE_SIZE)


class DCGANGenerator(nn.Module):
    """G: z (batch, noise_dim) -> images (batch, 1, 28, 28) in [-1, 1]."""

    def __init__(self, noise_dim: int, *, width: int = 32):
        super().__init__()
        self.noise_dim = check_positive_int(noise_dim, "noise_dim")
        self.width = check_positive_int(width, "width")
        self.project = nn.Sequential(  # the paper's first layer: a matrix product reshaped to a 4-D tensor
            nn.Linear(noise_dim, 2 * width * 7 * 7, bias=False), nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU()
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # 14 -> 28
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.noise_dim:
            raise ValueError(f"z must have shape (batch, noise_dim) = (*, {self.noise_dim}), got {tuple(z.shape)}")
        x = self.project(z).reshape(-1, 2 * self.width, 7, 7)  # (batch, 2w, 7, 7)
        return self.upsample(x)  # (batch, 1, 28, 28)

    def sample(self, count: int, *, generator: torch.Generator | None = None) -> Tensor:
        """``count`` images (no gradient), in eval mode (batch norm's running statistics); mode restored."""
        with training_mode(self, False):
            with torch.no_grad():
                images = self(torch.randn(check_positive_int(count, "count"), self.noise_dim, generator=generator))
        return images


class DCGANDiscriminator(nn.Module):
    """D: images (batch, 1, 28, 28) or (batch, 784) -> logit (batch,)."""

    def __init__(self, *, width: int = 16):
        super().__init__()
        width = check_positive_int(width, "width")
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1),  # 28 -> 14, no batch norm on D's input layer
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False),  # 14 -> 7
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * width * 7 * 7, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(as_images(x)).squeeze(-1)  # (batch,)


class DigitClassifier(nn.Module):
    """The judge: images (batch, 1, 28, 28) or (batch, 784) in [-1, 1] -> logits (batch, num_classes)."""

    def __init__(self, *, num_classes: int = 10, width: int = 16, dropout: float = 0.25):
        super().__init__()
        width = check_positive_int(width, "width")
        check_probability(dropout, "dropout")
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (batch, w, 14, 14)
            nn.Conv2d(width, 2 * width, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (batch, 2w, 7, 7)
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(2 * width * 7 * 7, check_positive_int(num_classes, "num_classes")),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(as_images(x))  # (batch, num_classes)


def train_digit_gan(
    kind: str, seed: int, real: Tensor, *, steps: int, device: torch.device | str | None = None
) -> nn.Module:
    """One run of notebook 03's comparison on ``real`` digits ``(n, 784)`` in [-1, 1]; returns its generator.

    ``"DCGAN"``: this module's pair at width 16, Adam lr 1e-3. ``"MLP GAN"``: the 2014 paper's kind, two
    hidden layers of 256 in each player, lr 2e-4. Both: z of 32 dimensions, Adam β1 = 0.5, batches of 64,
    Algorithm 1 with k = 1 and the non-saturating loss (``helpers.gan_minimax.players.gan_step``). The run seeds itself
    and prints nothing, so it can be one job of ``helpers.training.workers.map_in_processes``.
    """
    check_choice(kind, ("DCGAN", "MLP GAN"), "kind")
    device = resolve_device(device)
    seed_everything(seed)
    if kind == "DCGAN":
        generator, discriminator, learning_rate = DCGANGenerator(32, width=16), DCGANDiscriminator(width=16), 1e-3
    else:
        generator = MLPGenerator(32, 784, hidden_size=256, tanh_output=True)
        discriminator, learning_rate = MLPDiscriminator(784, hidden_size=256), 2e-4
    generator, discriminator, real = generator.to(device), discriminator.to(device), real.to(device)
    optimizers = [
        torch.optim.Adam(player.parameters(), learning_rate, betas=(0.5, 0.999))
        for player in (generator, discriminator)
    ]
    batches = SampledBatches(lambda n: real[torch.randint(len(real), (n,))], 64, check_positive_int(steps, "steps"))
    train(
        gan_step(generator, discriminator, *optimizers),
        batches,
        model=nn.ModuleList([generator, discriminator]),
        show_progress=False,
    )
    return generator
