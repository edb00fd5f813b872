"""Many seeds of a small GAN trained at once: weights stacked on a leading seed axis.

A comparison of GANs needs many seeds (a single seed shows nothing), and small 2-D GANs are too
small to keep a CPU busy: ``seeds`` independent MLPs are held as stacked weights ``(seeds, in, out)``
and applied with one batched matrix product, ``torch.baddbmm(bias, x, weight)``. Every seed has its
own initialisation (seeded by its index), data, noise and batch-norm statistics; the loss is the sum
of the per-seed losses, so each seed's gradient is exactly its own, and Adam acts element-wise, so the
seeds never interact. This is PyTorch's model-ensembling recipe (``torch.func.stack_module_state`` +
``vmap``) written with ``baddbmm``, which was 1.5× faster here.

Seeds ``first_seed``, ..., ``first_seed + seeds - 1`` form one stack (``first_seed`` = 0 gives seeds 0..seeds-1,
the seeds the committed notebook outputs were made with): seed s draws its initial weights, data and evaluation
noise from seed s of the named streams of ``helpers.core.seeding``, so fresh seeds (100 onwards) are fresh runs.

The game is Goodfellow et al. (2014)'s Algorithm 1 with k = 1 and the non-saturating generator loss
``-E[log D(G(z))]``: each step updates D on a real and a fake batch, then G on the same noise against
the updated D. ``pack`` = m makes D judge m samples at once (PacGAN-m, Lin et al., 2018).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from helpers.core import (
    check_positive_int,
    check_positive_number,
    check_probability,
    check_shape,
    resolve_device,
    torch_generator,
)
from helpers.gan_minimax.minimax import discriminator_loss, generator_loss
from helpers.gan_minimax.mode_metrics import mode_coverage, sample_mixture
from helpers.training import optimizer_step, train

__all__ = [
    "RingHistory",
    "StackedBatchNorm",
    "StackedLinear",
    "StackedMLP",
    "final_metrics",
    "train_stacked_gans",
]


class StackedLinear(nn.Module):
    """``seeds`` independent ``nn.Linear(fan_in, fan_out)``: (seeds, batch, fan_in) -> (seeds, batch, fan_out).

    Seed s (``first_seed`` ≤ s < ``first_seed + seeds``) is initialised like ``nn.Linear`` from its own
    generator, seed s of the named seed ``stream`` (item ``index``: the layer's position), so a seed's weights
    do not depend on how many seeds are stacked beside it.
    """

    def __init__(
        self,
        seeds: int,
        fan_in: int,
        fan_out: int,
        *,
        stream: str = "stacked_mlp.init",
        index: int = 0,
        first_seed: int = 0,
        init_std: float | None = None,
        orthogonal_gain: float | None = None,
        bias: bool = True,
    ):
        super().__init__()
        for name, value in (("seeds", seeds), ("fan_in", fan_in), ("fan_out", fan_out)):
            check_positive_int(value, name)
        if init_std is not None and orthogonal_gain is not None:
            raise ValueError("give init_std (N(0, std²) weights) or orthogonal_gain, not both")
        bound = 1 / math.sqrt(fan_in)  # nn.Linear's default: U(-1/√fan_in, 1/√fan_in) for weight and bias
        weights, biases = [], []
        for seed in range(first_seed, first_seed + seeds):
            generator = torch_generator(seed, stream, index)
            if init_std is not None:  # N(0, init_std²) weights and zero biases (PacGAN's IsotropicGaussian(0.02))
                weights.append(
                    check_positive_number(init_std, "init_std") * torch.randn(fan_in, fan_out, generator=generator)
                )
                biases.append(torch.zeros(1, fan_out))
            elif orthogonal_gain is not None:  # an orthogonal matrix times the gain, zero biases (Unrolled GAN)
                weight = torch.empty(fan_out, fan_in)
                nn.init.orthogonal_(
                    weight, check_positive_number(orthogonal_gain, "orthogonal_gain"), generator=generator
                )
                weights.append(weight.T.contiguous())
                biases.append(torch.zeros(1, fan_out))
            else:
                weights.append((torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * bound)
                biases.append((torch.rand(1, fan_out, generator=generator) * 2 - 1) * bound)
        self.weight = nn.Parameter(torch.stack(weights))  # (seeds, fan_in, fan_out)
        # (seeds, 1, fan_out); bias=False: none (a layer followed by batch norm, whose shift is the bias)
        self.bias = nn.Parameter(torch.stack(biases)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 4:  # (seeds, chunks, batch, fan_in): the chunks share the seed's weights
            return self(x.flatten(1, 2)).unflatten(1, x.shape[1:3])
        if self.bias is None:
            return torch.bmm(x, self.weight)  # (seeds, batch, fan_out)
        return torch.baddbmm(self.bias, x, self.weight)  # (seeds, batch, fan_out)


class StackedBatchNorm(nn.Module):
    """Batch norm over each seed's own batch: (seeds, batch, features), batch statistics by default.

    PacGAN's generator uses batch norm with the batch's statistics in training; samples are drawn in
    batches of 2,500, so the statistics are those of a large batch there too. With ``momentum`` set, the
    module also keeps population statistics as PacGAN's code (the Blocks library) does: running averages of
    the batch mean and of the batch standard deviation √(var + eps), ``p ← (1 - momentum) p + momentum m``,
    used in eval mode. A 4-D input (seeds, chunks, batch, features) is normalised per chunk (PacGAN-m
    applies G to each of its m noise batches separately), and the running averages take the chunks' mean.
    """

    def __init__(self, seeds: int, features: int, *, eps: float = 1e-5, momentum: float | None = None):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(seeds, 1, features))
        self.shift = nn.Parameter(torch.zeros(seeds, 1, features))
        self.eps, self.momentum = check_positive_number(eps, "eps"), momentum
        if momentum is not None:
            check_probability(momentum, "momentum")
            self.register_buffer("population_mean", torch.zeros(seeds, 1, features))
            self.register_buffer("population_std", torch.ones(seeds, 1, features))

    def forward(self, x: Tensor) -> Tensor:
        shape = (x.shape[0], *[1] * (x.dim() - 2), x.shape[-1])  # scale and shift broadcast over chunks
        scale, shift = self.scale.view(shape), self.shift.view(shape)
        if self.momentum is not None and not self.training:
            mean, std = self.population_mean.view(shape), self.population_std.view(shape)
            return (x - mean) / std * scale + shift
        mean, variance = x.mean(dim=-2, keepdim=True), x.var(dim=-2, unbiased=False, keepdim=True)
        if self.momentum is not None:
            with torch.no_grad():  # the chunks' mean statistics, (seeds, 1, features)
                batch_mean = mean.reshape(x.shape[0], -1, x.shape[-1]).mean(1, keepdim=True)
                batch_std = (variance + self.eps).sqrt().reshape(x.shape[0], -1, x.shape[-1]).mean(1, keepdim=True)
                self.population_mean.lerp_(batch_mean, self.momentum)
                self.population_std.lerp_(batch_std, self.momentum)
        return (x - mean) * torch.rsqrt(variance + self.eps) * scale + shift


class StackedMLP(nn.Sequential):
    """An MLP per seed (seeds ``first_seed``.. of ``stream``): ``sizes`` = [in, hidden, ..., out]; ReLU (or LeakyReLU
    0.2) between layers."""

    def __init__(
        self,
        seeds: int,
        sizes: list[int],
        *,
        stream: str = "stacked_mlp.init",
        batch_norm: bool = False,
        leaky: bool = False,
        first_seed: int = 0,
    ):
        if isinstance(sizes, (int, str)) or len(sizes) < 2:
            raise ValueError(f"sizes must list at least the input and output sizes, e.g. [2, 128, 1], got {sizes!r}")
        layers: list[nn.Module] = []
        for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            # each layer draws from its own item of the stream, so no two layers share a seed
            layers.append(StackedLinear(seeds, fan_in, fan_out, stream=stream, index=index, first_seed=first_seed))
            if index < len(sizes) - 2:
                if batch_norm:
                    layers.append(StackedBatchNorm(seeds, fan_out))
                layers.append(nn.LeakyReLU(0.2) if leaky else nn.ReLU())
        super().__init__(*layers)


def _per_seed_norm(parameters: list[nn.Parameter]) -> Tensor:
    """The gradient norm of each seed's parameters, (seeds,)."""
    squares = [p.grad.flatten(1).square().sum(1) for p in parameters if p.grad is not None]
    return torch.stack(squares).sum(0).sqrt()


@dataclass
class RingHistory:
    """What :func:`train_stacked_gans` measured, every ``record_every`` steps (``checkpoints`` of them).

    ``counts``: (checkpoints, seeds, modes) high-quality samples per mode, on the probe noise (the same z at
    every checkpoint); ``high_quality``: (checkpoints, seeds), on the probe noise; ``fresh_counts``:
    (checkpoints, 2, seeds, modes) the same counts on two fresh draws of noise per checkpoint (new z each time:
    the histograms of two draws differ by sampling noise alone, the null of a test of change between
    checkpoints); ``d_accuracy``: (checkpoints, seeds) D's accuracy on that step's real and fake batch;
    ``d_fake``: (checkpoints, seeds) the updated D's mean probability "real" on that step's fakes (the D
    that G's step used); ``d_slope``: (checkpoints, seeds) the mean norm of ∂(D's logit)/∂(its input) at
    those fakes, how steeply D's verdict changes where G's samples lie (with packing, per packed input);
    ``g_grad_norm``: (checkpoints, seeds) the norm of G's gradient at that step.

    Kept by :func:`helpers.gan_minimax.paper_settings.train_paper_gans` only: ``fresh_nearest``: (checkpoints,
    2, seeds, modes) every sample of the same two fresh draws counted by its nearest mode, however far
    (``mode_metrics.nearest_mode_counts``: where G's mass is, not whether it is high quality); ``samples``:
    (checkpoints, seeds, kept, 2) the first ``keep_samples`` samples of the probe noise (to plot G over time).
    """

    steps: list[int] = field(default_factory=list)
    counts: list[Tensor] = field(default_factory=list)
    high_quality: list[Tensor] = field(default_factory=list)
    fresh_counts: list[Tensor] = field(default_factory=list)
    d_accuracy: list[Tensor] = field(default_factory=list)
    d_fake: list[Tensor] = field(default_factory=list)
    d_slope: list[Tensor] = field(default_factory=list)
    g_grad_norm: list[Tensor] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)  # process CPU time since training began (where recorded)
    fresh_nearest: list[Tensor] = field(default_factory=list)
    samples: list[Tensor] = field(default_factory=list)

    def stacked(self, name: str) -> Tensor:
        return torch.stack(getattr(self, name))

    def last_coverage(self) -> dict[str, float]:
        """The last checkpoint's modes covered and high-quality share, mean over seeds (what a bar shows)."""
        return {
            "modes": float((self.counts[-1] > 0).sum(1).float().mean()),
            "high_quality": float(self.high_quality[-1].mean()),
        }


def _draw(count: int, seeds: int, sampler: Callable[[int, torch.Generator], Tensor], generators: list) -> Tensor:
    return torch.stack([sampler(count, generator) for generator in generators])  # (seeds, count, 2)


def train_stacked_gans(
    centers: Tensor,
    *,
    std: float,
    seeds: int = 10,
    steps: int = 2000,
    batch_size: int = 100,
    noise_dim: int = 2,
    generator_sizes: tuple[int, ...] = (128, 128, 128),
    discriminator_sizes: tuple[int, ...] = (128, 128),
    batch_norm: bool = True,
    pack: int = 1,
    learning_rate: float = 1e-3,
    discriminator_learning_rate: float | None = None,
    betas: tuple[float, float] = (0.5, 0.999),
    record_every: int = 200,
    evaluation_samples: int = 2500,
    description: str = "",
    device: torch.device | str | None = None,
    first_seed: int = 0,
) -> tuple[StackedMLP, RingHistory]:
    """Train ``seeds`` GANs on the mixture at ``centers`` (seeds ``first_seed``..``first_seed + seeds - 1``) at once.

    Both players use Adam with the learning rate decayed linearly to 0 (``discriminator_learning_rate``
    defaults to ``learning_rate``); both are updated once per step, so every arm that keeps ``steps``
    gives G the same number of updates. Returns the stacked generator and a :class:`RingHistory`
    (metrics on ``evaluation_samples`` samples per seed every ``record_every`` steps and at the end).
    Data and noise are drawn on the CPU (the same numbers on every device) and moved to ``device``.

    Streams (``helpers.core.seeding``): seed s's weights, data and nothing else come from seed s of
    "stacked_mlp.init", "stacked_gans.discriminator_init" and "stacked_gans.data"; the stack's training noise
    is item 0 of seed ``first_seed + seeds`` of "stacked_gans.noise" and its fresh checkpoint noise item 1;
    the probe noise is item ``first_seed`` of "stacked_gans.probe_noise". With ``first_seed`` = 0 these are
    the seeds the committed results were made with.
    """
    device = resolve_device(device)
    check_shape(centers, (None, 2), "centers", "(modes, 2)")
    seeds, steps, pack = (check_positive_int(v, n) for v, n in ((seeds, "seeds"), (steps, "steps"), (pack, "pack")))
    if check_positive_int(batch_size, "batch_size") % pack:
        raise ValueError(f"batch_size ({batch_size}) must be a multiple of pack ({pack})")
    check_positive_number(std, "std", hint="the mixture's standard deviation")
    check_positive_number(learning_rate, "learning_rate", hint="Adam's peak step size, e.g. 1e-3")
    if discriminator_learning_rate is not None:
        check_positive_number(discriminator_learning_rate, "discriminator_learning_rate")
    for name, value in (
        ("noise_dim", noise_dim),
        ("record_every", record_every),
        ("evaluation_samples", evaluation_samples),
        *((f"generator_sizes[{i}]", size) for i, size in enumerate(generator_sizes)),
        *((f"discriminator_sizes[{i}]", size) for i, size in enumerate(discriminator_sizes)),
    ):
        check_positive_int(value, name)
    if len(betas) != 2:
        raise ValueError(f"betas must be Adam's pair (beta1, beta2), e.g. (0.5, 0.999), got {betas!r}")
    for index, beta in enumerate(betas):
        check_probability(beta, f"betas[{index}]")
    if isinstance(first_seed, bool) or not isinstance(first_seed, int) or first_seed < 0:
        raise ValueError(f"first_seed must be a non-negative int, got {first_seed!r}")
    generator = StackedMLP(seeds, [noise_dim, *generator_sizes, 2], batch_norm=batch_norm, first_seed=first_seed)
    discriminator = StackedMLP(
        seeds,
        [2 * pack, *discriminator_sizes, 1],
        stream="stacked_gans.discriminator_init",
        leaky=True,
        first_seed=first_seed,
    )
    generator, discriminator = generator.to(device), discriminator.to(device)
    d_rate = discriminator_learning_rate if discriminator_learning_rate is not None else learning_rate
    g_opt = torch.optim.Adam(generator.parameters(), learning_rate, betas=betas)
    d_opt = torch.optim.Adam(discriminator.parameters(), d_rate, betas=betas)
    schedulers = [torch.optim.lr_scheduler.LambdaLR(o, lambda step: 1 - step / steps) for o in (g_opt, d_opt)]
    data_streams = [torch_generator(s, "stacked_gans.data") for s in range(first_seed, first_seed + seeds)]
    noise_stream = torch_generator(first_seed + seeds, "stacked_gans.noise")  # the stack's training noise
    checkpoint_noise = torch_generator(first_seed + seeds, "stacked_gans.noise", 1)  # fresh z at each checkpoint
    probe_noise = torch.randn(
        seeds, evaluation_samples, noise_dim, generator=torch_generator(0, "stacked_gans.probe_noise", first_seed)
    ).to(device)
    sampler = lambda count, stream: sample_mixture(count, centers, std=std, generator=stream)  # noqa: E731
    history = RingHistory()

    def judge(x: Tensor) -> Tensor:  # (seeds, batch, 2) -> logits (seeds, batch / pack)
        return discriminator(x.reshape(seeds, -1, 2 * pack)).squeeze(-1)

    def counts_per_mode(samples: Tensor) -> Tensor:  # (seeds, count, 2) -> (seeds, modes) high-quality counts
        return torch.tensor([mode_coverage(samples[s], centers, std=std)["counts"] for s in range(seeds)])

    def d_at_fakes(fake: Tensor) -> tuple[Tensor, Tensor]:  # the D that G's step just used, on G's fakes
        inputs = fake.detach().reshape(seeds, -1, 2 * pack).requires_grad_()
        logits = discriminator(inputs)  # (seeds, batch / pack, 1)
        (gradient,) = torch.autograd.grad(logits.sum(), inputs)  # ∂ logit / ∂ input; no .grad is touched
        return torch.sigmoid(logits.detach()).mean((1, 2)), gradient.norm(dim=-1).mean(1)  # each (seeds,)

    def step(step_number: int) -> dict[str, float]:  # one simultaneous update of every seed's D and G
        real = _draw(batch_size, seeds, sampler, data_streams).to(device)  # (seeds, batch, 2)
        fake = generator(torch.randn(seeds, batch_size, noise_dim, generator=noise_stream).to(device))
        real_logits, fake_logits = judge(real), judge(fake.detach())
        d_loss = discriminator_loss(real_logits.flatten(), fake_logits.flatten()) * seeds  # sum over seeds
        optimizer_step(d_opt, d_loss)
        g_loss = generator_loss(judge(fake).flatten(), "non_saturating") * seeds
        optimizer_step(g_opt, g_loss)
        for scheduler in schedulers:
            scheduler.step()
        if step_number % record_every == 0 or step_number == steps:
            with torch.no_grad():
                samples = generator(probe_noise).cpu()  # (seeds, evaluation_samples, 2)
                metrics = [mode_coverage(samples[s], centers, std=std) for s in range(seeds)]
                accuracy = ((real_logits > 0).float().mean(1) + (fake_logits < 0).float().mean(1)) / 2
                fresh = [
                    counts_per_mode(generator(torch.randn(probe_noise.shape, generator=checkpoint_noise).to(device)))
                    for _ in range(2)
                ]
            d_fake, d_slope = d_at_fakes(fake)
            history.steps.append(step_number)
            history.counts.append(torch.tensor([m["counts"] for m in metrics]))
            history.high_quality.append(torch.tensor([m["high_quality"] for m in metrics]))
            history.fresh_counts.append(torch.stack(fresh))
            history.d_accuracy.append(accuracy.cpu())
            history.d_fake.append(d_fake.cpu())
            history.d_slope.append(d_slope.cpu())
            history.g_grad_norm.append(_per_seed_norm(list(generator.parameters())).cpu())
        return {"d_loss": float(d_loss.detach()) / seeds, "g_loss": float(g_loss.detach()) / seeds}

    train(
        step,
        range(1, steps + 1),
        evaluate=history.last_coverage,  # shown when the bar closes
        model=nn.ModuleList([generator, discriminator]),
        description=description,
        show_progress=bool(description),
    )
    return generator, history


def final_metrics(history: RingHistory, modes_total: int, *, checkpoint: int = -1) -> dict[str, Tensor]:
    """Per-seed metrics at the end of training (or at ``checkpoint``, an index into ``history.steps``): ``modes``,
    ``high_quality``, ``reverse_kl`` (each (seeds,))."""
    counts = history.counts[checkpoint].double()  # (seeds, modes)
    p = counts / counts.sum(1, keepdim=True).clamp_min(1)
    reverse_kl = torch.special.xlogy(p, p * modes_total).sum(1)
    reverse_kl = torch.where(counts.sum(1) > 0, reverse_kl, torch.full_like(reverse_kl, math.log(modes_total)))
    return {
        "modes": (counts > 0).sum(1).double(),
        "high_quality": history.high_quality[checkpoint].double(),
        "reverse_kl": reverse_kl,
    }
