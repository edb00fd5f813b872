"""How GAN papers measure a generator: mode coverage on Gaussian mixtures, class histograms, Parzen windows.

- Mixtures of Gaussians (Metz et al., 2017, Unrolled GAN; Srivastava et al., 2017, VEEGAN; Lin et al.,
  2018, PacGAN, Table 1): the ring of 8 and the grid of 25. PacGAN's protocol (their code): 2,500
  samples; a sample is *high quality* if it lies within 3σ of its nearest centre; a mode is *covered*
  if at least one high-quality sample falls in it; the *reverse KL* is KL(p̂_g ‖ uniform) between the
  histogram of high-quality samples over the modes and the uniform mixture weights,
  ``Σ_m p̂_m log(p̂_m · modes)`` (0 for a perfect spread, log(modes) for a single mode).
- Generated images judged by a classifier trained on real ones: classes covered, KL(histogram ‖
  uniform) and the classifier's mean confidence (as in PacGAN's stacked-MNIST experiment).
- The Parzen-window log-likelihood of Goodfellow et al. (2014), Table 1:
  ``log p(x) = logsumexp_i(-|x - s_i|² / 2σ²) - log N - (d/2) log(2πσ²)``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from helpers.core import check_positive_int, check_positive_number, check_probabilities, check_shape

__all__ = [
    "class_histogram_metrics",
    "grid_centers",
    "mode_coverage",
    "nearest_mode_counts",
    "parzen_log_likelihood",
    "ring_centers",
    "sample_mixture",
]


def ring_centers(modes: int = 8, *, radius: float = 2.0) -> Tensor:
    """``modes`` centres evenly spaced on a circle, (modes, 2).

    Angles are 2πi/modes for i = 0..modes-1. (``linspace(0, 2π, modes)`` would put the first and last
    centre on the same point: only modes - 1 distinct modes.)
    """
    check_positive_number(radius, "radius")
    angles = 2 * math.pi * torch.arange(check_positive_int(modes, "modes"), dtype=torch.float64) / modes
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()


def grid_centers(side: int = 5, *, spacing: float = 2.0) -> Tensor:
    """The ``side × side`` grid of centres (PacGAN's grid of 25: -4, -2, 0, 2, 4 on each axis), (side², 2)."""
    check_positive_number(spacing, "spacing")
    axis = spacing * (torch.arange(check_positive_int(side, "side"), dtype=torch.float32) - (side - 1) / 2)
    return torch.cartesian_prod(axis, axis)


def sample_mixture(count: int, centers: Tensor, *, std: float, generator: torch.Generator | None = None) -> Tensor:
    """``count`` points of the equal-weight mixture of Gaussians (std ``std``) at ``centers``, (count, 2)."""
    check_shape(centers, (None, None), "centers", "(modes, features)")
    if centers.shape[0] == 0:
        raise ValueError("centers is empty: give at least one mode, e.g. ring_centers(8)")
    count = check_positive_int(count, "count")
    check_positive_number(std, "std", hint="the standard deviation of each Gaussian, e.g. 0.02")
    which = torch.randint(centers.shape[0], (count,), generator=generator)
    return centers[which] + std * torch.randn(count, centers.shape[1], generator=generator)


def mode_coverage(samples: Tensor, centers: Tensor, *, std: float, min_samples: int = 1) -> dict[str, object]:
    """PacGAN's metrics of ``samples`` (count, features) against the mixture at ``centers`` (modes, features).

    Returns ``modes`` (modes with ≥ ``min_samples`` high-quality samples; PacGAN uses 1),
    ``high_quality`` (fraction within 3σ of the nearest centre), ``reverse_kl`` (nats) and ``counts``
    (high-quality samples per mode, a list). With no high-quality sample at all, ``reverse_kl`` is
    log(modes), the value of the worst case (a single mode).
    """
    check_shape(centers, (None, None), "centers", "(modes, features)")
    check_shape(samples, (None, centers.shape[1]), "samples", "(count, features) like centers")
    if samples.shape[0] == 0:
        raise ValueError("samples is empty: pass at least one sample (PacGAN uses 2,500)")
    check_positive_number(std, "std", hint="the mixture's standard deviation")
    distances = torch.cdist(samples.double(), centers.double())  # (count, modes)
    nearest_distance, nearest = distances.min(dim=1)
    good = nearest_distance <= 3 * std
    counts = torch.bincount(nearest[good], minlength=centers.shape[0])
    modes = centers.shape[0]
    if int(counts.sum()) == 0:
        reverse_kl = math.log(modes)
    else:
        p = counts.double() / counts.sum()
        reverse_kl = float(torch.special.xlogy(p, p * modes).sum())
    return {
        "modes": int((counts >= check_positive_int(min_samples, "min_samples")).sum()),
        "high_quality": float(good.double().mean()),
        "reverse_kl": reverse_kl,
        "counts": counts.tolist(),
    }


def nearest_mode_counts(samples: Tensor, centers: Tensor) -> Tensor:
    """Samples per mode by nearest centre, every sample counted however far it lies: (count, features) -> (modes,).

    The angular-sector bar of a ring (Metz et al., 2017, Figure 1 shows where G's mass is, not whether it is
    within 3σ): a generator whose samples are smeared around one mode puts them all in that mode's sector
    while PacGAN's high-quality bar (:func:`mode_coverage`) may count few of them.
    """
    check_shape(centers, (None, None), "centers", "(modes, features)")
    check_shape(samples, (None, centers.shape[1]), "samples", "(count, features) like centers")
    nearest = torch.cdist(samples.double(), centers.double()).argmin(dim=1)  # (count,)
    return torch.bincount(nearest, minlength=centers.shape[0])


def class_histogram_metrics(probabilities: Tensor) -> dict[str, object]:
    """What a classifier's predictions on generated images say about the generator.

    ``probabilities`` (count, classes): the classifier's softmax on each sample. Returns ``classes``
    (classes predicted at least once: a loose bar, one sample in 10,000 counts), ``classes_at_half_share``
    (classes predicted at least half as often as a uniform generator would, ``share ≥ 0.5 / classes``),
    ``min_share`` (the rarest class's share), ``tv_to_uniform`` (total variation from the uniform histogram,
    ½ Σ |share − 1/classes|: the share of samples that would have to change class), ``kl_to_uniform`` (KL of
    the predicted-class histogram to the uniform one, nats; 0 when every class is drawn equally often),
    ``confidence`` (mean top probability), ``counts`` (samples per predicted class) and ``shares`` (lists).
    """
    check_shape(probabilities, (None, None), "probabilities", "(count, classes)")
    if probabilities.shape[0] == 0:
        raise ValueError("probabilities is empty: classify at least one sample")
    check_probabilities(probabilities, "probabilities", hint="pass logits.softmax(-1), not the logits")
    if not torch.allclose(probabilities.sum(-1), torch.ones((), dtype=probabilities.dtype), atol=1e-4):
        raise ValueError("each row of probabilities must sum to 1: pass logits.softmax(-1), not the logits")
    confidence, predicted = probabilities.max(dim=-1)
    classes = probabilities.shape[1]
    counts = torch.bincount(predicted, minlength=classes)
    p = counts.double() / counts.sum()
    return {
        "classes": int((counts > 0).sum()),
        "classes_at_half_share": int((p >= 0.5 / classes).sum()),
        "min_share": float(p.min()),
        "tv_to_uniform": float(0.5 * (p - 1 / classes).abs().sum()),
        "kl_to_uniform": float(torch.special.xlogy(p, p * classes).sum()),
        "confidence": float(confidence.double().mean()),
        "counts": counts.tolist(),
        "shares": p.tolist(),
    }


def parzen_log_likelihood(samples: Tensor, points: Tensor, *, sigma: float, chunk: int = 256) -> Tensor:
    """log p(x) for each of ``points`` under a Gaussian Parzen window of width ``sigma`` on ``samples``.

    p(x) = (1/N) Σ_i N(x; s_i, σ² I). Returns (points,) in nats; the paper reports the mean over a test
    set, with σ chosen on a validation set.
    """
    check_shape(samples, (None, None), "samples", "(count, features)")
    check_shape(points, (None, samples.shape[1]), "points", "(count, features) like samples")
    if samples.shape[0] == 0:
        raise ValueError("samples is empty: the Parzen window needs at least one sample")
    check_positive_number(sigma, "sigma", hint="the Parzen window's width, chosen on a validation set")
    count, dim = samples.shape
    samples = samples.double()
    constant = math.log(count) + dim / 2 * math.log(2 * math.pi * sigma**2)
    results = []
    for start in range(0, points.shape[0], check_positive_int(chunk, "chunk")):
        squared = torch.cdist(points[start : start + chunk].double(), samples).square()  # (chunk, count)
        results.append(torch.logsumexp(-squared / (2 * sigma**2), dim=1) - constant)
    return torch.cat(results).to(points.dtype)
