"""Rebalancing a data set with a conditional GAN, tested against oversampling and class weighting.

A conditional GAN (Mirza & Osindero, 2014) feeds the class label to both players: G(z, y) draws an
example of class y, D(x, y) judges whether x is a real example *of class y*. Here both players are
the DCGAN of ``helpers.gan_minimax.dcgan``: G gets the one-hot label concatenated to z (as Mirza & Osindero's
MLP did), D a projection of the label onto its features (Miyato & Koyama, 2018). Trained on every
class of an imbalanced data set, it can then be asked for as many examples of the minority class as
are missing.

The test: the same classifier trained on (a) the imbalanced data, (b) random oversampling of the
minority class (batches drawn with probability ∝ 1 / class count, which is oversampling to balance in
expectation), (c) class weighting (the cross-entropy weighted by 1 / class count, normalised as
``F.cross_entropy(weight=)`` does) and (d) the data plus the conditional GAN's minority examples.

Many runs at once: the arms × seeds of the classifier are held as weights stacked on a leading axis
(``helpers.gan_minimax.stacked_gans.StackedMLP``, one ``torch.baddbmm`` per layer), each run with its own data pool:
a pool is padded to a common length and its padding is never drawn (probability 0).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from helpers.core import (
    check_finite,
    check_positive_int,
    check_positive_number,
    check_shape,
    resolve_device,
    seed_everything,
    torch_generator,
    training_mode,
)
from helpers.gan_minimax.dcgan import DCGANDiscriminator, DCGANGenerator, as_images
from helpers.gan_minimax.minimax import discriminator_loss, generator_loss
from helpers.gan_minimax.players import SampledBatches
from helpers.gan_minimax.stacked_gans import StackedMLP
from helpers.training import optimizer_step, train

__all__ = [
    "ConditionalDCGANDiscriminator",
    "ConditionalDCGANGenerator",
    "conditional_gan_step",
    "cut_class",
    "pad_pools",
    "train_conditional_gan",
    "train_stacked_classifiers",
]


def _check_labels(labels: Tensor, num_classes: int, batch: int | None = None, name: str = "labels") -> None:
    """Class ids: an int64 tensor in ``0..num_classes - 1``; with ``batch``, of shape ``(batch,)``."""
    if not isinstance(labels, Tensor) or labels.dtype != torch.int64:
        raise TypeError(
            f"{name} must be an integer tensor of dtype torch.long, got "
            f"{getattr(labels, 'dtype', type(labels).__name__)}; convert integer labels with .long() "
            f"(float labels are refused, not truncated)"
        )
    if batch is not None and tuple(labels.shape) != (batch,):
        raise ValueError(
            f"{name} must have shape (batch,) = ({batch},), one label per image, got {tuple(labels.shape)}; "
            "a single label is not broadcast: repeat it, e.g. torch.full((batch,), label)"
        )
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{name} must lie in 0..{num_classes - 1} (num_classes={num_classes}), got "
            f"{int(labels.min())}..{int(labels.max())}"
        )


def cut_class(labels: Tensor, minority_class: int, keep: int, *, generator: torch.Generator) -> Tensor:
    """Indices of every example except those of ``minority_class``, of which ``keep`` random ones stay (sorted)."""
    _check_labels(labels, int(labels.max()) + 1 if labels.numel() else 1)
    if isinstance(minority_class, bool) or not hasattr(minority_class, "__index__"):
        raise TypeError(f"minority_class must be a class id (an int), got {minority_class!r}")
    members = torch.nonzero(labels == minority_class).squeeze(1)
    if isinstance(keep, bool) or not hasattr(keep, "__index__") or not 0 < keep <= len(members):
        raise ValueError(f"keep must be in 1..{len(members)} (the examples of class {minority_class}), got {keep}")
    kept = members[torch.randperm(len(members), generator=generator)[:keep]]
    return torch.cat([torch.nonzero(labels != minority_class).squeeze(1), kept]).sort().values


def pad_pools(pools: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Stack data pools of different lengths: (runs, longest, ...) and a mask (runs, longest), True on real rows."""
    if not pools or any(not isinstance(pool, Tensor) or not len(pool) for pool in pools):
        raise ValueError("pools must be a non-empty list of non-empty tensors (one per run)")
    if len({(pool.shape[1:], pool.dtype) for pool in pools}) > 1:
        raise ValueError(
            "every pool must have the same row shape and dtype: "
            f"{sorted({(tuple(p.shape[1:]), str(p.dtype)) for p in pools})}"
        )
    longest = max(len(pool) for pool in pools)
    padded = torch.zeros(len(pools), longest, *pools[0].shape[1:], dtype=pools[0].dtype)
    mask = torch.zeros(len(pools), longest, dtype=torch.bool)
    for run, pool in enumerate(pools):
        padded[run, : len(pool)], mask[run, : len(pool)] = pool, True
    return padded, mask


class ConditionalDCGANGenerator(DCGANGenerator):
    """G(z, y): the DCGAN generator with the one-hot label concatenated to z (Mirza & Osindero's conditioning).

    z (batch, noise_dim), labels (batch,) -> images (batch, 1, 28, 28) in [-1, 1].
    """

    def __init__(self, noise_dim: int, *, num_classes: int = 10, width: int = 16):
        super().__init__(
            check_positive_int(noise_dim, "noise_dim") + check_positive_int(num_classes, "num_classes"), width=width
        )
        self.noise_dim, self.num_classes = noise_dim, num_classes

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:  # type: ignore[override]
        check_shape(z, (None, self.noise_dim), "z", "(batch, noise_dim)")
        _check_labels(labels, self.num_classes, z.shape[0])
        code = torch.cat([z, F.one_hot(labels, self.num_classes).to(z.dtype)], 1)  # (batch, noise_dim + classes)
        return self.upsample(self.project(code).reshape(-1, 2 * self.width, 7, 7))  # (batch, 1, 28, 28)

    def sample(self, labels: Tensor, *, generator: torch.Generator | None = None) -> Tensor:  # type: ignore[override]
        """One image per label, (count, 1, 28, 28), no gradient, in eval mode (mode restored)."""
        _check_labels(labels, self.num_classes)
        if labels.dim() != 1 or not len(labels):
            raise ValueError(f"labels must be a non-empty 1-D tensor, got shape {tuple(labels.shape)}")
        with training_mode(self, False):
            with torch.no_grad():
                images = self(torch.randn(len(labels), self.noise_dim, generator=generator), labels)
        return images


class ConditionalDCGANDiscriminator(nn.Module):
    """D(x, y): the DCGAN discriminator with a projection of the label (Miyato & Koyama, 2018).

    logit = w·h + embed(y)·h, where h (batch, 2w·7·7) are D's convolutional features: a fake of the
    wrong class is rejected through the second term. images (batch, 1, 28, 28), labels (batch,) -> (batch,).
    """

    def __init__(self, *, num_classes: int = 10, width: int = 16):
        super().__init__()
        self.num_classes = check_positive_int(num_classes, "num_classes")
        body = DCGANDiscriminator(width=width).net
        self.features, self.output = body[:-1], body[-1]  # (batch, 2w·7·7), then the linear logit
        self.embedding = nn.Embedding(num_classes, self.output.in_features)
        nn.init.zeros_(self.embedding.weight)  # start as the unconditional D

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        x = as_images(x)
        _check_labels(labels, self.num_classes, x.shape[0])
        h = self.features(x)  # (batch, 2w·7·7)
        return self.output(h).squeeze(-1) + (self.embedding(labels) * h).sum(-1)  # (batch,)


def conditional_gan_step(
    generator: ConditionalDCGANGenerator,
    discriminator: ConditionalDCGANDiscriminator,
    generator_optimizer: torch.optim.Optimizer,
    discriminator_optimizer: torch.optim.Optimizer,
) -> Callable[[tuple[Tensor, Tensor]], dict[str, float]]:
    """Algorithm 1 (k = 1, non-saturating G loss) with labels, for ``helpers.training.train``.

    Each call takes a real batch ``(images, labels)``; G is asked for the same labels, so it sees the
    classes as often as the data has them. Both updates go through ``helpers.training.optimizer_step``.
    """

    def step(batch: tuple[Tensor, Tensor]) -> dict[str, float]:
        real, labels = batch
        fake = generator(torch.randn(len(labels), generator.noise_dim, device=real.device), labels)
        d_loss = discriminator_loss(discriminator(real, labels), discriminator(fake.detach(), labels))
        optimizer_step(discriminator_optimizer, d_loss)
        g_loss = generator_loss(discriminator(fake, labels), "non_saturating")
        optimizer_step(generator_optimizer, g_loss)  # D's gradients from this pass are cleared on its turn
        return {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach())}

    return step


def _draw(mask: Tensor, count: int, stream: torch.Generator, probabilities: Tensor | None = None) -> Tensor:
    """(runs, count) indices into each run's pool, never into its padding."""
    weights = mask.double() if probabilities is None else probabilities
    return torch.multinomial(weights, count, replacement=True, generator=stream)


def _gather(pool: Tensor, index: Tensor) -> Tensor:  # pool (runs, n, ...), index (runs, b) -> (runs, b, ...)
    return pool[torch.arange(len(pool), device=pool.device).unsqueeze(1), index]


def train_stacked_classifiers(
    inputs: Tensor,
    labels: Tensor,
    probabilities: Tensor,
    class_weights: Tensor,
    *,
    seeds: int,
    steps: int,
    hidden_size: int = 64,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    num_classes: int = 10,
    device: torch.device | str | None = None,
    first_seed: int = 0,
) -> StackedMLP:
    """One MLP classifier [features, hidden_size, num_classes] per run, run r = arm * seeds + seed.

    inputs (runs, pool, features), labels (runs, pool), probabilities (runs, pool): how each run draws its
    batches (0 on padding); class_weights (runs, num_classes): each run's cross-entropy weights. Run r is
    initialised like seed ``first_seed + r % seeds`` (seed s of the stream "stacked_mlp.init"), so every arm
    starts from the same weights for a seed (a paired test). The minibatches come from seed
    ``first_seed + seeds`` of "rebalancing.minibatches" (``first_seed`` = 0: the committed results' seeds),
    drawn on the CPU (the same on every device) and trained on ``device``.
    """
    device = resolve_device(device)
    for name, value in (("seeds", seeds), ("steps", steps), ("hidden_size", hidden_size)):
        check_positive_int(value, name)
    batch_size, num_classes = (
        check_positive_int(batch_size, "batch_size"),
        check_positive_int(num_classes, "num_classes"),
    )
    check_positive_number(learning_rate, "learning_rate", hint="Adam's step size, e.g. 1e-3")
    check_shape(inputs, (None, None, None), "inputs", "(runs, pool, features)")
    if not inputs.is_floating_point():
        raise TypeError(f"inputs must be floating point features, got dtype {inputs.dtype}")
    runs = inputs.shape[0]
    if runs % seeds:
        raise ValueError(f"inputs holds {runs} runs, which is not arms × seeds with seeds={seeds}")
    check_shape(labels, tuple(inputs.shape[:2]), "labels", "(runs = arms × seeds, pool) like inputs")
    check_shape(probabilities, tuple(inputs.shape[:2]), "probabilities", "(runs = arms × seeds, pool) like inputs")
    check_shape(class_weights, (runs, num_classes), "class_weights", "(runs = arms × seeds, num_classes)")
    _check_labels(labels, num_classes)
    check_finite(probabilities, "probabilities")
    if bool((probabilities < 0).any()) or not bool((probabilities.sum(1) > 0).all()):
        raise ValueError("probabilities must be >= 0 with a positive sum in every run (0 on padding): how runs draw")
    check_finite(class_weights, "class_weights")
    if bool((class_weights < 0).any()):
        raise ValueError("class_weights must be >= 0: each class's weight in the cross-entropy, e.g. 1 / its count")
    model = StackedMLP(seeds, [inputs.shape[2], hidden_size, num_classes], first_seed=first_seed)
    with torch.no_grad():  # the same initial weights for every arm of a seed
        for parameter in model.parameters():
            parameter.set_(parameter.repeat(runs // seeds, 1, 1))
    model.to(device)
    inputs, labels, class_weights = inputs.to(device), labels.to(device), class_weights.to(device)
    optimizer = torch.optim.Adam(model.parameters(), learning_rate)
    stream = torch_generator(first_seed + seeds, "rebalancing.minibatches")

    def step(_: int) -> dict[str, float]:
        index = _draw(probabilities > 0, batch_size, stream, probabilities).to(device)  # (runs, batch)
        x, y = _gather(inputs, index), _gather(labels, index)
        losses = F.cross_entropy(model(x).flatten(0, 1), y.flatten(), reduction="none").view(runs, batch_size)
        weights = torch.gather(class_weights, 1, y)  # (runs, batch): F.cross_entropy(weight=)'s weighted mean
        loss = ((losses * weights).sum(1) / weights.sum(1)).sum()  # summed over runs: each its own gradient
        optimizer_step(optimizer, loss)
        return {"loss": float(loss.detach()) / runs}

    train(step, range(steps), model=model, show_progress=False)
    return model


def train_conditional_gan(
    seed: int,
    images: Tensor,
    classes: Tensor,
    *,
    steps: int = 400,
    width: int = 8,
    device: torch.device | str | None = None,
) -> ConditionalDCGANGenerator:
    """Notebook 03's conditional DCGAN on ``images`` (n, 1, 28, 28) with labels ``classes`` (n,): its generator.

    z of 32 dimensions, Adam lr 1e-3 with β1 = 0.5, batches of 64 drawn at random. The run seeds itself and
    prints nothing, so it can be one job of ``helpers.training.workers.map_in_processes``.
    """
    _check_labels(classes, 10, name="classes")
    if len(images) != len(classes):
        raise ValueError(f"got {len(images)} images but {len(classes)} labels; give one label per image")
    device = resolve_device(device)
    seed_everything(seed)
    generator = ConditionalDCGANGenerator(32, width=width).to(device)
    discriminator = ConditionalDCGANDiscriminator(width=width).to(device)
    images, classes = images.to(device), classes.to(device)
    optimizers = [
        torch.optim.Adam(player.parameters(), 1e-3, betas=(0.5, 0.999)) for player in (generator, discriminator)
    ]

    def real_batch(count: int) -> tuple[Tensor, Tensor]:
        index = torch.randint(len(classes), (count,))
        return images[index], classes[index]

    train(
        conditional_gan_step(generator, discriminator, *optimizers),
        SampledBatches(real_batch, 64, check_positive_int(steps, "steps")),
        model=nn.ModuleList([generator, discriminator]),
        show_progress=False,
    )
    return generator
