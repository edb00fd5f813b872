"""The Dirac-GAN (Mescheder et al., 2018): the smallest GAN, where simultaneous gradient steps oscillate."""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.core import check_finite_number, check_positive_int, check_positive_number
from helpers.gan_minimax.minimax import value_estimate

__all__ = ["dirac_gan_trajectory"]


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

    V(θ, ψ) = log σ(ψ·0) + log(1 - σ(ψθ)) = -log 2 - softplus(ψθ), computed with
    :func:`helpers.gan_minimax.minimax.value_estimate`. D ascends V (minus the R1 penalty (γ/2)·|∇_x D(x)|²
    at the real point, = (γ/2)ψ² here); G descends V (the minimax loss). The only equilibrium is
    (θ, ψ) = (0, 0). ``simultaneous``: both gradients at the current point; else D moves first and G answers
    the new D (Algorithm 1).
    Returns the trajectory (steps + 1, 2) of (θ, ψ) in float64.
    """
    steps = check_positive_int(steps, "steps")
    check_positive_number(learning_rate, "learning_rate")
    check_finite_number(gradient_penalty, "gradient_penalty", minimum=0, hint="the R1 weight γ, 0 for none")
    check_finite_number(theta, "theta")
    check_finite_number(psi, "psi")
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
