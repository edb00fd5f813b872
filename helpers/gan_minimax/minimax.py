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

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.core import check_choice, check_shape

__all__ = [
    "GENERATOR_LOSSES",
    "discriminator_loss",
    "generator_loss",
    "js_divergence",
    "optimal_discriminator",
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
