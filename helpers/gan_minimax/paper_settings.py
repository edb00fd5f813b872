"""The papers' mixture-of-Gaussians settings, seeds trained at once: PacGAN's ring and grid, Unrolled GAN's ring.

One job: build and train the players exactly as the papers' settings specify, so that the course's answer on mode
collapse is measured where the papers measured it.

- **PacGAN** (Lin, Khetan, Fanti and Oh, 2018, "PacGAN: the power of two samples in GANs", Table 1), as released
  in ``synthetic_data_experiments`` (``2DRing_GAN&PacGAN``, ``2DGrid_GAN&PacGAN``, ``PacGAN/pacgan``):
  ring of 8 Gaussians of radius 1 and σ 0.01, grid of 5 × 5 at -4, -2, 0, 2, 4 and σ 0.05; a fixed data set of
  100,000 samples; G: z ∈ R² ~ N(0, I) → 4 × (linear without bias → batch norm → ReLU), 400 units → linear to
  R²; D: 3 maxout layers of 200 units × 5 pieces → linear to a logit; weights N(0, 0.02²), biases 0; Adam with
  learning rate 1e-4 and Blocks' ``beta1`` 0.8, constant; batch 100; D and G updated **simultaneously** (both
  gradients from one forward pass, ALI's ``ali_algorithm``); 400 epochs × 1,000 batches = 400,000 steps.
  Losses (their ``compute_losses``): L_D = E[softplus(-D(x))] + E[softplus(D(G(z)))], L_G = E[softplus(-D(G(z)))],
  the non-saturating G loss of Goodfellow et al. (2014).
  PacGAN-m (their eq. in §3, "packing"): D sees one *packed input* of m real samples or of m fakes, the m
  samples concatenated, (2m,) per input; a batch is still 100 packed inputs, i.e. m · 100 samples. The data's
  packed inputs are m independent draws (with replacement) from the 100,000 samples; G is applied to each of
  its m noise batches separately (batch norm per batch of 100), and its population statistics for evaluation
  are running averages (momentum 0.05) of the batches' statistics.
  Metrics (their ``MetricLogger``, on 2,500 samples from one fixed draw of z): a sample is *high quality* when
  it lies within 3σ of its nearest centre, a mode is *covered* when it holds at least one high-quality sample,
  and the *reverse KL* is KL(p̂ ‖ uniform) of the high-quality samples' histogram over the modes
  (``mode_metrics.mode_coverage``).

  Blocks' Adam writes its moment rates the other way round: ``mean_t = beta1 · g + (1 - beta1) · mean``
  (``blocks.algorithms.Adam.compute_step``; defaults ``beta1=0.1, beta2=0.001``). PacGAN's ``beta1: 0.8`` is
  therefore Kingma and Ba's β1 = 0.2 (and Blocks' default beta2 0.001 is β2 = 0.999): in PyTorch,
  ``Adam(lr=1e-4, betas=(0.2, 0.999))``. Read as PyTorch's β1 = 0.8 it would be a different optimiser.

- **Unrolled GAN** (Metz, Poole, Pfau and Sohl-Dickstein, 2017, §3.1 and appendix A), ring of 8 Gaussians of
  radius 2 and σ 0.02; G: z ∈ R²⁵⁶ → 2 × 128 ReLU → R²; D: input scaled by 1/4 → 1 × 128 ReLU → logit; weights
  orthogonal with gain 0.8; Adam 1e-4, β1 0.5 for both players; batch 512; alternating updates (D, then G
  against the updated D); G minimises the saddle objective itself, E[log(1 - D(G(z)))] (the minimax,
  "saturating" loss: the unrolled surrogate is defined on f, and the authors' demo notebook minimises it
  too). Transcribed from the appendix as recalled, not checked against released code (none is released for
  this experiment). ``UNROLLED_RING`` is the paper's "0 unrolling steps" baseline; with ``unroll_steps`` = K > 0
  (``dataclasses.replace(UNROLLED_RING, unroll_steps=5)``) G's step follows the paper's eq. (6)-(7): G minimises
  the surrogate f_K(θ_G, θ_D) = f(θ_G, θ_D^K(θ_G, θ_D)), θ_D^K being K steps of D's Adam (from its current
  moments) on this step's batch, differentiated through (:func:`unrolled_generator_loss`, with
  ``torch.func.functional_call``); D's own step is the ordinary one, both from the current parameters.

Seeds are trained together with weights stacked on a leading seed axis (``StackedLinear``: batched matrix
products); every seed draws its initial weights, data, packing and noise from its own generators
(``helpers.core.seeding``, the ``paper_gans.*`` streams), and the loss is the sum of the per-seed losses, so a
seed trained in a stack is the seed trained alone (tests/test_gan_paper_settings.py checks it).

Shapes: ``seeds`` S, batch B (packed inputs), packing m, noise dimension Z; G maps (S, m, B, Z) → (S, m, B, 2);
the packed fakes are (S, B, 2m); D maps (S, B, 2m) → (S, B, 1) logits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from helpers.core import check_choice, check_positive_int, resolve_device, torch_generator
from helpers.gan_minimax.mode_metrics import grid_centers, mode_coverage, nearest_mode_counts, ring_centers
from helpers.gan_minimax.stacked_gans import RingHistory, StackedBatchNorm, StackedLinear, _per_seed_norm
from helpers.training import train

__all__ = [
    "PACGAN_GRID",
    "PACGAN_RING",
    "PAPER_SETTINGS",
    "PAPER_TABLES",
    "UNROLLED_RING",
    "PaperSetting",
    "StackedMaxout",
    "build_discriminator",
    "build_generator",
    "pack_samples",
    "train_paper_gans",
    "unrolled_generator_loss",
]


@dataclass(frozen=True)
class PaperSetting:
    """One paper's mixture-of-Gaussians experiment: data, players, optimiser, update order and length."""

    name: str
    source: str
    data: str  # "ring" or "grid"
    scale: float  # the ring's radius or the grid's spacing
    std: float
    noise_dim: int
    generator_sizes: tuple[int, ...]
    generator_batch_norm: bool
    discriminator_sizes: tuple[int, ...]
    maxout_pieces: int | None  # None: ReLU layers
    init: str  # "normal" (std init_scale) or "orthogonal" (gain init_scale)
    init_scale: float
    input_scale: float  # D multiplies its input by this first
    learning_rate: float
    betas: tuple[float, float]  # PyTorch's (β1, β2)
    batch_size: int
    simultaneous: bool
    dataset_size: int | None  # a fixed data set (PacGAN: 100,000 samples), or fresh samples every step
    paper_steps: int
    generator_loss: str = "non_saturating"  # or "saturating": G minimises E[log(1 - D(G(z)))]
    unroll_steps: int = 0  # Unrolled GAN: G's loss through this many steps of D's Adam (0: a plain GAN)
    evaluation_samples: int = 2500
    batch_norm_momentum: float = 0.05
    batch_norm_eps: float = 1e-4  # Blocks' BatchNormalization default

    def centers(self) -> Tensor:
        """The mixture's centres, (modes, 2)."""
        if self.data == "ring":
            return ring_centers(8, radius=self.scale)
        return grid_centers(5, spacing=self.scale)


PACGAN_RING = PaperSetting(
    name="PacGAN ring of 8",
    source="Lin et al. (2018), code synthetic_data_experiments/2DRing_GAN&PacGAN",
    data="ring",
    scale=1.0,
    std=0.01,
    noise_dim=2,
    generator_sizes=(400, 400, 400, 400),
    generator_batch_norm=True,
    discriminator_sizes=(200, 200, 200),
    maxout_pieces=5,
    init="normal",
    init_scale=0.02,
    input_scale=1.0,
    learning_rate=1e-4,
    betas=(0.2, 0.999),  # Blocks' beta1=0.8, beta2=0.001 (see the module's docstring)
    batch_size=100,
    simultaneous=True,
    dataset_size=100_000,
    paper_steps=400_000,
)
PACGAN_GRID = replace(
    PACGAN_RING,
    name="PacGAN grid of 25",
    source="Lin et al. (2018), code synthetic_data_experiments/2DGrid_GAN&PacGAN",
    data="grid",
    scale=2.0,
    std=0.05,
)
UNROLLED_RING = PaperSetting(
    name="Unrolled-GAN ring of 8 (0 unrolling steps)",
    source="Metz et al. (2017), appendix A, as recalled (no released code for it)",
    data="ring",
    scale=2.0,
    std=0.02,
    noise_dim=256,
    generator_sizes=(128, 128),
    generator_batch_norm=False,
    discriminator_sizes=(128,),
    maxout_pieces=None,
    init="orthogonal",
    init_scale=0.8,
    input_scale=0.25,
    learning_rate=1e-4,
    betas=(0.5, 0.999),
    batch_size=512,
    simultaneous=False,
    dataset_size=None,
    paper_steps=25_000,
    generator_loss="saturating",
)
PAPER_SETTINGS = {"pacgan_ring": PACGAN_RING, "pacgan_grid": PACGAN_GRID, "unrolled_ring": UNROLLED_RING}

# PacGAN Table 1 (mean ± standard error over 10 runs, 400 epochs): modes, high-quality %, reverse KL
PAPER_TABLES = {
    ("pacgan_ring", 1): ((6.3, 0.5), (98.2, 0.2), (0.45, 0.09)),
    ("pacgan_ring", 2): ((7.9, 0.1), (95.6, 2.0), (0.07, 0.03)),
    ("pacgan_ring", 3): ((7.8, 0.1), (97.7, 0.3), (0.10, 0.02)),
    ("pacgan_ring", 4): ((7.8, 0.1), (95.9, 1.4), (0.07, 0.02)),
    ("pacgan_grid", 1): ((17.3, 0.8), (94.8, 0.7), (0.70, 0.07)),
    ("pacgan_grid", 2): ((23.8, 0.7), (91.3, 0.8), (0.13, 0.04)),
    ("pacgan_grid", 3): ((24.6, 0.4), (94.2, 0.4), (0.06, 0.02)),
    ("pacgan_grid", 4): ((24.8, 0.2), (93.6, 0.6), (0.04, 0.01)),
}


class StackedMaxout(nn.Module):
    """``seeds`` maxout layers (Goodfellow et al., 2013): (seeds, batch, fan_in) -> (seeds, batch, units).

    h_j = max_k (x W_{j,k} + b_{j,k}), k = 1..pieces: one linear map to units × pieces outputs, taken in
    consecutive groups of ``pieces`` (Blocks' ``LinearMaxout``), and the maximum of each group.
    """

    def __init__(self, seeds: int, fan_in: int, units: int, pieces: int, **linear_options):
        super().__init__()
        self.units, self.pieces = check_positive_int(units, "units"), check_positive_int(pieces, "pieces")
        self.linear = StackedLinear(seeds, fan_in, units * pieces, **linear_options)

    def forward(self, x: Tensor) -> Tensor:
        pre = self.linear(x)  # (seeds, batch, units * pieces)
        return pre.unflatten(-1, (self.units, self.pieces)).max(-1).values  # (seeds, batch, units)


class _Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        return x * self.factor


def _init_options(setting: PaperSetting) -> dict[str, float]:
    return {"init_std": setting.init_scale} if setting.init == "normal" else {"orthogonal_gain": setting.init_scale}


def build_generator(setting: PaperSetting, seeds: int, *, first_seed: int = 0) -> nn.Sequential:
    """G of ``setting`` for seeds ``first_seed``..: (seeds, [chunks,] batch, noise_dim) -> (seeds, [chunks,] batch, 2).

    With batch norm (PacGAN) the hidden linear maps have no bias (batch norm's shift is it); the output map has one.
    """
    sizes = [setting.noise_dim, *setting.generator_sizes, 2]
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        hidden = index < len(sizes) - 2
        layers.append(
            StackedLinear(
                seeds,
                fan_in,
                fan_out,
                stream="paper_gans.generator_init",
                index=index,
                first_seed=first_seed,
                bias=not (hidden and setting.generator_batch_norm),
                **_init_options(setting),
            )
        )
        if hidden:
            if setting.generator_batch_norm:
                layers.append(
                    StackedBatchNorm(seeds, fan_out, eps=setting.batch_norm_eps, momentum=setting.batch_norm_momentum)
                )
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def build_discriminator(setting: PaperSetting, seeds: int, pack: int = 1, *, first_seed: int = 0) -> nn.Sequential:
    """D of ``setting`` judging packed inputs of ``pack`` samples: (seeds, batch, 2 · pack) -> (seeds, batch, 1)."""
    pack = check_positive_int(pack, "pack")
    sizes = [2 * pack, *setting.discriminator_sizes]
    options = {"stream": "paper_gans.discriminator_init", "first_seed": first_seed, **_init_options(setting)}
    layers: list[nn.Module] = [_Scale(setting.input_scale)] if setting.input_scale != 1 else []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if setting.maxout_pieces is not None:
            layers.append(StackedMaxout(seeds, fan_in, fan_out, setting.maxout_pieces, index=index, **options))
        else:
            layers += [StackedLinear(seeds, fan_in, fan_out, index=index, **options), nn.ReLU()]
    layers.append(StackedLinear(seeds, sizes[-1], 1, index=len(sizes) - 1, **options))
    return nn.Sequential(*layers)


def pack_samples(samples: Tensor) -> Tensor:
    """m batches of samples (seeds, m, batch, 2) -> packed inputs (seeds, batch, 2m): input i holds sample i of each.

    The order within a packed input is the order of the m batches (PacGAN concatenates G(z_1), ..., G(z_m) along
    the feature axis).
    """
    seeds, m, batch, features = samples.shape
    return samples.permute(0, 2, 1, 3).reshape(seeds, batch, m * features)


class _PackedData:
    """Each seed's real packed inputs, as PacGAN's ``GaussianPackingMixture`` and ``ShuffledScheme`` give them.

    ``dataset_size`` samples are drawn once; the packed set holds ``dataset_size`` packed inputs, each of ``pack``
    samples drawn with replacement from them; every epoch visits the packed set in a new random order. With
    ``dataset_size`` None (Unrolled GAN) every batch is fresh samples of the mixture.
    """

    def __init__(self, setting: PaperSetting, centers: Tensor, pack: int, seeds: range):
        self.setting, self.centers, self.pack, self.batch = setting, centers, pack, setting.batch_size
        self.generators = [torch_generator(s, "paper_gans.data", 2) for s in seeds]
        self.position = 0
        self.order: list[Tensor] = []
        if setting.dataset_size is None:
            self.packed = None
            return
        packed = []
        for seed in seeds:
            generator = torch_generator(seed, "paper_gans.data", 0)
            which = torch.randint(len(centers), (setting.dataset_size,), generator=generator)
            samples = centers[which] + setting.std * torch.randn(setting.dataset_size, 2, generator=generator)
            indices = torch.randint(
                setting.dataset_size,
                (setting.dataset_size, pack),
                generator=torch_generator(seed, "paper_gans.data", 1),
            )
            packed.append(samples[indices].flatten(1))  # (dataset_size, 2 · pack)
        self.packed = torch.stack(packed)  # (seeds, dataset_size, 2 · pack)

    def next_batch(self) -> Tensor:  # (seeds, batch, 2 · pack)
        if self.packed is None:
            draws = []
            for generator in self.generators:
                which = torch.randint(len(self.centers), (self.batch * self.pack,), generator=generator)
                samples = self.centers[which] + self.setting.std * torch.randn(
                    self.batch * self.pack, 2, generator=generator
                )
                draws.append(samples.reshape(self.batch, 2 * self.pack))
            return torch.stack(draws)
        size = self.packed.shape[1]
        if not self.order or self.position + self.batch > size:  # a new epoch (a last short batch is dropped)
            self.order = [torch.randperm(size, generator=g) for g in self.generators]
            self.position = 0
        rows = torch.stack(
            [order[self.position : self.position + self.batch] for order in self.order]
        )  # (seeds, batch)
        self.position += self.batch
        return torch.gather(self.packed, 1, rows.unsqueeze(-1).expand(-1, -1, self.packed.shape[-1]))


def _discriminator_loss(logits: Tensor, batch: int) -> Tensor:
    """L_D = E[softplus(-D(x))] + E[softplus(D(G(z)))] per seed, summed over seeds; ``logits`` (seeds, 2 · batch)."""
    return (F.softplus(-logits[:, :batch]).mean(1) + F.softplus(logits[:, batch:]).mean(1)).sum()


def _safe_sqrt(v: Tensor) -> Tensor:
    """√v, with derivative 0 (not ∞ · 0 = NaN) where v = 0: a moment that has only seen zero gradients."""
    positive = v > 0
    return torch.where(positive, torch.where(positive, v, torch.ones_like(v)).sqrt(), torch.zeros_like(v))


def unrolled_generator_loss(
    discriminator: nn.Module, optimizer: torch.optim.Adam, real: Tensor, fake_packed: Tensor, steps: int
) -> Tensor:
    """Metz et al. (2017), eq. (6)-(7): f_K = f(θ_G, θ_D^K(θ_G)), to be *minimised* by G (summed over seeds).

    θ_D^0 is D's current parameters; θ_D^{k+1} = θ_D^k + one step of ``optimizer``'s Adam (its learning rate, betas,
    eps, current moments and step count) on L_D at (``real``, ``fake_packed``), kept in the graph so that the
    gradient of f_K reaches θ_G through every unrolled step (``create_graph``). f = E[log D(x)] + E[log(1 - D(G(z)))]
    = -L_D, so G minimises -L_D(θ_D^K). Neither D's parameters nor the optimiser's state change. Where a second
    moment is exactly 0 (a unit that has only seen zero gradients), √v is given derivative 0, not NaN.
    """
    steps = check_positive_int(steps, "steps")
    names = [name for name, _ in discriminator.named_parameters()]
    current = [parameter for _, parameter in discriminator.named_parameters()]
    group = optimizer.param_groups[0]
    (beta1, beta2), rate, eps = group["betas"], group["lr"], group["eps"]
    states = [optimizer.state.get(p, {}) for p in current]
    mean = [s["exp_avg"].detach() if "exp_avg" in s else torch.zeros_like(p) for s, p in zip(states, current)]
    square = [s["exp_avg_sq"].detach() if "exp_avg_sq" in s else torch.zeros_like(p) for s, p in zip(states, current)]
    t = int(states[0]["step"]) if "step" in states[0] else 0
    inputs = torch.cat([real, fake_packed], 1)  # (seeds, 2 · batch, 2 · pack); the fakes carry G's graph
    batch = real.shape[1]
    for _ in range(steps):
        logits = functional_call(discriminator, dict(zip(names, current)), (inputs,)).squeeze(-1)
        grads = torch.autograd.grad(_discriminator_loss(logits, batch), current, create_graph=True)
        t += 1
        mean = [beta1 * m + (1 - beta1) * g for m, g in zip(mean, grads)]
        square = [beta2 * v + (1 - beta2) * g * g for v, g in zip(square, grads)]
        current = [
            p - rate * (m / (1 - beta1**t)) / (_safe_sqrt(v / (1 - beta2**t)) + eps)
            for p, m, v in zip(current, mean, square)
        ]
    logits = functional_call(discriminator, dict(zip(names, current)), (inputs,)).squeeze(-1)
    return -_discriminator_loss(logits, batch)


def train_paper_gans(
    setting: PaperSetting,
    *,
    pack: int = 1,
    seeds: int = 5,
    steps: int = 1000,
    record_every: int = 500,
    first_seed: int = 0,
    keep_samples: int = 0,
    description: str = "",
    device: torch.device | str | None = None,
) -> tuple[nn.Module, RingHistory]:
    """Train seeds ``first_seed``..``first_seed + seeds - 1`` of ``setting`` with PacGAN-``pack`` for ``steps`` steps.

    Returns the stacked generator (in eval mode) and a :class:`RingHistory` recorded every ``record_every``
    steps and at the end: per-mode high-quality counts and the high-quality share on the probe noise (one
    fixed draw of z, shared by every seed and checkpoint, as PacGAN's ``GraphLogger`` does), the same counts on
    two fresh draws of z per checkpoint (the null of a test of mode hopping), D's accuracy and mean
    probability "real" on that step's fakes, D's input-gradient norm there, G's gradient norm and the
    process's CPU seconds since training began; also every sample of the two fresh draws counted by its nearest
    mode (``fresh_nearest``) and, with ``keep_samples`` > 0, that many probe samples per seed (``samples``).
    Recording draws only from the fresh-noise streams: it does not change the training.
    """
    device = resolve_device(device)
    pack, seeds, steps, record_every = (
        check_positive_int(v, n)
        for v, n in ((pack, "pack"), (seeds, "seeds"), (steps, "steps"), (record_every, "record_every"))
    )
    check_choice(setting.data, ("ring", "grid"), "setting.data")
    check_choice(setting.generator_loss, ("non_saturating", "saturating"), "setting.generator_loss")
    if setting.unroll_steps and setting.simultaneous:
        raise ValueError("unroll_steps is Unrolled GAN's update; give it with simultaneous=False (UNROLLED_RING)")
    if isinstance(first_seed, bool) or not isinstance(first_seed, int) or first_seed < 0:
        raise ValueError(f"first_seed must be a non-negative int, got {first_seed!r}")
    if isinstance(keep_samples, bool) or not isinstance(keep_samples, int) or keep_samples < 0:
        raise ValueError(f"keep_samples must be a non-negative int, got {keep_samples!r}")
    seed_range = range(first_seed, first_seed + seeds)
    centers = setting.centers()
    generator = build_generator(setting, seeds, first_seed=first_seed).to(device)
    discriminator = build_discriminator(setting, seeds, pack, first_seed=first_seed).to(device)
    g_parameters, d_parameters = list(generator.parameters()), list(discriminator.parameters())
    # fused: one kernel per step for all parameters (5× faster than the default loop on a CPU here, same update)
    g_opt = torch.optim.Adam(g_parameters, setting.learning_rate, betas=setting.betas, fused=True)
    d_opt = torch.optim.Adam(d_parameters, setting.learning_rate, betas=setting.betas, fused=True)
    data = _PackedData(setting, centers, pack, seed_range)
    noise_streams = [torch_generator(s, "paper_gans.noise", 0) for s in seed_range]
    fresh_streams = [torch_generator(s, "paper_gans.noise", 1) for s in seed_range]
    probe = torch.randn(
        setting.evaluation_samples, setting.noise_dim, generator=torch_generator(0, "paper_gans.probe_noise")
    )
    probe = probe.expand(seeds, -1, -1).to(device)  # (seeds, evaluation_samples, noise_dim): one z for all
    batch = setting.batch_size
    history = RingHistory()
    started = time.process_time()

    def g_loss_of(fake_logits: Tensor) -> Tensor:  # (seeds, batch) -> the sum over seeds of each seed's mean
        if setting.generator_loss == "saturating":  # log(1 - D) = -softplus(logit)
            return (-F.softplus(fake_logits)).mean(1).sum()
        return F.softplus(-fake_logits).mean(1).sum()  # -log D = softplus(-logit)

    def noise(streams: list[torch.Generator], shape: tuple[int, ...]) -> Tensor:
        return torch.stack([torch.randn(shape, generator=g) for g in streams]).to(device)

    def sample(z: Tensor) -> Tensor:  # G in eval mode (population statistics), as PacGAN evaluates it
        generator.eval()
        with torch.no_grad():
            out = generator(z).cpu()
        generator.train()
        return out

    def counts(samples: Tensor) -> list[dict[str, object]]:
        return [mode_coverage(samples[s], centers, std=setting.std) for s in range(seeds)]

    def step(step_number: int) -> dict[str, float]:
        real = data.next_batch().to(device)  # (seeds, batch, 2 · pack)
        fake = generator(noise(noise_streams, (pack, batch, setting.noise_dim)))  # (seeds, pack, batch, 2)
        fake_packed = pack_samples(fake)  # (seeds, batch, 2 · pack)
        if setting.simultaneous:  # both gradients at the current (D, G), then both steps
            logits = discriminator(torch.cat([real, fake_packed], 1)).squeeze(-1)  # (seeds, 2 · batch)
            real_logits, fake_logits = logits[:, :batch], logits[:, batch:]
            d_loss = (F.softplus(-real_logits).mean(1) + F.softplus(fake_logits).mean(1)).sum()  # sum over seeds
            g_loss = g_loss_of(fake_logits)
            d_grads = torch.autograd.grad(d_loss, d_parameters, retain_graph=True)
            # G's gradient: ∂L_G/∂(its packed fakes) through D (no D weight gradients), then back through G
            (fake_grad,) = torch.autograd.grad(g_loss, fake_packed)
            g_grads = torch.autograd.grad(fake_packed, g_parameters, fake_grad)
            for parameter, gradient in (*zip(d_parameters, d_grads), *zip(g_parameters, g_grads)):
                parameter.grad = gradient
            d_opt.step()
            g_opt.step()
        elif setting.unroll_steps:  # Unrolled GAN: G's gradient through K steps of D, then both steps
            g_loss = unrolled_generator_loss(discriminator, d_opt, real, fake_packed, setting.unroll_steps)
            g_grads = torch.autograd.grad(g_loss, g_parameters)
            logits = discriminator(torch.cat([real, fake_packed.detach()], 1)).squeeze(-1)
            real_logits, fake_logits = logits[:, :batch], logits[:, batch:]
            d_loss = _discriminator_loss(logits, batch)
            d_grads = torch.autograd.grad(d_loss, d_parameters)
            for parameter, gradient in (*zip(d_parameters, d_grads), *zip(g_parameters, g_grads)):
                parameter.grad = gradient
            d_opt.step()
            g_opt.step()
        else:  # alternating: D's step, then G's step against the updated D on the same fakes
            logits = discriminator(torch.cat([real, fake_packed.detach()], 1)).squeeze(-1)
            real_logits, fake_logits = logits[:, :batch], logits[:, batch:]
            d_loss = (F.softplus(-real_logits).mean(1) + F.softplus(fake_logits).mean(1)).sum()
            d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            d_opt.step()
            g_loss = g_loss_of(discriminator(fake_packed).squeeze(-1))
            g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            g_opt.step()
        if step_number % record_every == 0 or step_number == steps:
            record(step_number, real_logits.detach(), fake_logits.detach(), fake_packed.detach())
        return {"d_loss": float(d_loss.detach()) / seeds, "g_loss": float(g_loss.detach()) / seeds}

    def record(step_number: int, real_logits: Tensor, fake_logits: Tensor, fake_packed: Tensor) -> None:
        probe_samples = sample(probe)  # (seeds, evaluation_samples, 2)
        metrics = counts(probe_samples)
        fresh, fresh_nearest = [], []
        for _ in range(2):  # two fresh draws of z: the null of a test of change between checkpoints
            drawn = sample(noise(fresh_streams, probe.shape[1:]))  # (seeds, evaluation_samples, 2)
            fresh.append(torch.tensor([m["counts"] for m in counts(drawn)]))
            fresh_nearest.append(torch.stack([nearest_mode_counts(drawn[s], centers) for s in range(seeds)]))
        if keep_samples:
            history.samples.append(probe_samples[:, :keep_samples].clone())
        history.fresh_nearest.append(torch.stack(fresh_nearest))  # (2, seeds, modes)
        inputs = fake_packed.clone().requires_grad_()
        (slope,) = torch.autograd.grad(discriminator(inputs).sum(), inputs)  # ∂ logit / ∂ packed input
        history.steps.append(step_number)
        history.counts.append(torch.tensor([m["counts"] for m in metrics]))
        history.high_quality.append(torch.tensor([m["high_quality"] for m in metrics]))
        history.fresh_counts.append(torch.stack(fresh))
        history.d_accuracy.append((((real_logits > 0).float().mean(1) + (fake_logits < 0).float().mean(1)) / 2).cpu())
        history.d_fake.append(torch.sigmoid(fake_logits).mean(1).cpu())
        history.d_slope.append(slope.norm(dim=-1).mean(1).cpu())
        history.g_grad_norm.append(_per_seed_norm(g_parameters).cpu())
        history.cpu_seconds.append(time.process_time() - started)

    train(
        step,
        range(1, steps + 1),
        evaluate=history.last_coverage,
        model=nn.ModuleList([generator, discriminator]),
        description=description,
        show_progress=bool(description),
    )
    generator.eval()
    return generator, history
