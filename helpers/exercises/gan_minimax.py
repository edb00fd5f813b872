"""Graders for the exercises of notebook 03 (Goodfellow et al., 2014, "Generative Adversarial Nets").

    V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 − D(G(z)))]        (eq. 1)
    D*(x) = p_data(x) / (p_data(x) + p_g(x))                              (Proposition 1)
    C(G) = V(D*, G) = −log 4 + 2 · JSD(p_data ‖ p_g)                       (Theorem 1)

Discriminators give logits l, D(x) = σ(l); log D = −softplus(−l) and log(1 − D) = −softplus(l) never reach −inf.
Densities are values on an even grid with spacing dx; integrals are Riemann sums. The references are plain
PyTorch, written here so that the grader does not depend on the code it grades.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.core import torch_generator

from .grading import Case, Exercise, Mistake, Prediction

__all__ = ["discriminator_loss", "generator_loss", "optimal_discriminator", "value_disjoint_supports", "value_on_grid"]


def _grid(dtype: torch.dtype = torch.float32) -> tuple[Tensor, float]:
    x = torch.linspace(-4.0, 4.0, 161, dtype=dtype)
    return x, float(x[1] - x[0])


def _normal(x: Tensor, mean: float, std: float) -> Tensor:
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def _uniform(x: Tensor, low: float, high: float) -> Tensor:
    return ((x >= low) & (x < high)).to(x.dtype) / (high - low)


# --- the optimal discriminator ----------------------------------------------------------------------


def reference_optimal_discriminator(p_data: Tensor, p_g: Tensor) -> Tensor:
    total = p_data + p_g
    # Where neither density has mass no sample ever lands, and any D gives the same V: the course uses 1/2.
    return torch.where(total > 0, p_data / total, torch.full_like(total, 0.5))


def _density_cases() -> list[Case]:
    x, _ = _grid()
    x64, _ = _grid(torch.float64)
    return [
        Case("two normals", (_normal(x, -1.0, 0.7), _normal(x, 1.0, 1.2))),
        Case("regions with no mass", (_uniform(x, -3.0, 0.5), _uniform(x, -1.0, 1.0))),
        Case("p_g = p_data", (_normal(x, 0.0, 1.0), _normal(x, 0.0, 1.0))),
        Case("a single point", (torch.tensor([0.3]), torch.tensor([0.1]))),
        Case("float64", (_normal(x64, 0.5, 0.5), _uniform(x64, -2.0, 2.0))),
    ]


optimal_discriminator = Exercise(
    "optimal_discriminator",
    reference_optimal_discriminator,
    _density_cases,
    [
        Mistake(
            "that is p_g / (p_data + p_g) = 1 − D*: D(x) is the probability that x is real",
            lambda p, q: reference_optimal_discriminator(q, p),
        ),
        Mistake(
            "0/0 where both densities are 0 gives NaN: set D* = 1/2 there (no sample ever lands there)",
            lambda p, q: p / (p + q),
        ),
        Mistake(
            "where both densities are 0 this course sets D* = 1/2 (any value gives the same V; 1/2 is the "
            "choice of helpers.gan_minimax.minimax)",
            lambda p, q: (p / (p + q)).nan_to_num(0.0),
        ),
        Mistake(
            "p_data / p_g is a likelihood ratio, not a probability: divide by the sum p_data + p_g", lambda p, q: p / q
        ),
    ],
)


# --- the value of the game on a grid ----------------------------------------------------------------


def reference_value_on_grid(d: Tensor, p_data: Tensor, p_g: Tensor, dx: float) -> float:
    # xlogy(p, D) = p · log D, and 0 where p = 0 (even where D = 0): the convention the integral needs.
    return float((torch.special.xlogy(p_data, d) + torch.special.xlogy(p_g, 1 - d)).sum() * dx)


def _value_cases() -> list[Case]:
    x, dx = _grid(torch.float64)
    p_data, p_g = _normal(x, -1.0, 0.7), _normal(x, 1.0, 1.2)
    a, b = _uniform(x, -3.0, 0.5), _uniform(x, -1.0, 1.0)
    return [
        Case("D* of two normals", (reference_optimal_discriminator(p_data, p_g), p_data, p_g, dx)),
        Case("D = 1/2", (torch.full_like(x, 0.5), p_data, p_g, dx)),
        Case("D = 0 or 1 where a density is 0", (reference_optimal_discriminator(a, b), a, b, dx)),
        Case("a sigmoid discriminator", (torch.sigmoid(-2 * x), p_data, p_g, dx)),
    ]


value_on_grid = Exercise(
    "value_on_grid",
    reference_value_on_grid,
    _value_cases,
    [
        Mistake(
            "a sum, not an integral: multiply by the grid spacing dx",
            lambda d, p, q, dx: reference_value_on_grid(d, p, q, 1.0),
        ),
        Mistake(
            "the second term is p_g · log(1 − D), not p_g · log D",
            lambda d, p, q, dx: float((torch.special.xlogy(p, d) + torch.special.xlogy(q, d)).sum() * dx),
        ),
        Mistake(
            "0 · log 0 gave NaN where a density is 0 and D is 0 or 1: use torch.special.xlogy(p, D), which is 0 there",
            lambda d, p, q, dx: float((p * d.log() + q * (1 - d).log()).sum() * dx),
        ),
        Mistake(
            "p_data weighs log D and p_g weighs log(1 − D): they are swapped",
            lambda d, p, q, dx: reference_value_on_grid(d, q, p, dx),
        ),
    ],
)


# --- the losses from logits -------------------------------------------------------------------------


def reference_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    # −V: −mean log D(x) − mean log(1 − D(G(z))), each expectation its own mean.
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def _logit_cases() -> list[Case]:
    g = torch_generator(0)
    return [
        Case("random", (torch.randn(8, generator=g), torch.randn(8, generator=g))),
        Case("different batch sizes", (torch.randn(3, generator=g), torch.randn(9, generator=g) - 1)),
        Case("a confident D (logits ±200)", (torch.tensor([200.0, -200.0, 1.0]), torch.tensor([-200.0, 200.0]))),
        Case("batch of 1", (torch.randn(1, generator=g), torch.randn(1, generator=g))),
        Case(
            "float64",
            (torch.randn(5, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64)),
        ),
    ]


discriminator_loss = Exercise(
    "discriminator_loss",
    reference_discriminator_loss,
    _logit_cases,
    [
        Mistake(
            "real and fake are swapped: real samples get log D(x), fakes log(1 − D(G(z)))",
            lambda r, f: reference_discriminator_loss(f, r),
        ),
        Mistake(
            "log(sigmoid(l)) becomes log 0 = −inf for a confident D: use F.softplus (log D = −softplus(−l)) or "
            "F.binary_cross_entropy_with_logits",
            lambda r, f: -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean(),
        ),
        Mistake(
            "that is V(D, G), which D maximises; the loss D minimises is −V",
            lambda r, f: -reference_discriminator_loss(r, f),
        ),
        Mistake("sums, not means: V is made of expectations", lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum()),
        Mistake(
            "one mean over real and fake together weighs each term by its batch size: take each term's own mean",
            lambda r, f: torch.cat([F.softplus(-r), F.softplus(f)]).mean() * 2,
        ),
        Mistake(
            "the fakes got target label 1 ('real'), like the real samples: D must learn to say 0 ('fake') for "
            "them, −log(1 − D(G(z)))",
            lambda r, f: F.softplus(-r).mean() + F.softplus(-f).mean(),
        ),
        Mistake(
            "the real samples got target label 0 ('fake'), like the fakes: D must learn to say 1 ('real') for "
            "them, −log D(x)",
            lambda r, f: F.softplus(r).mean() + F.softplus(f).mean(),
        ),
    ],
    gradients=True,
)


def reference_generator_loss(fake_logits: Tensor) -> Tensor:
    return F.softplus(-fake_logits).mean()  # −mean log D(G(z)): the non-saturating loss


def _fake_cases() -> list[Case]:
    g = torch_generator(1)
    return [
        Case("random", (torch.randn(8, generator=g),)),
        Case("D rejects the fakes (logits −200)", (torch.tensor([-200.0, -30.0, 2.0]),)),
        Case("batch of 1", (torch.randn(1, generator=g),)),
        Case("float64", (torch.randn(6, generator=g, dtype=torch.float64),)),
    ]


generator_loss = Exercise(
    "generator_loss",
    reference_generator_loss,
    _fake_cases,
    [
        Mistake(
            "that is the saturating loss, mean log(1 − D(G(z))), whose gradient vanishes when D rejects the fakes: "
            "minimise −mean log D(G(z))",
            lambda f: -F.softplus(f).mean(),
        ),
        Mistake("the sign: G minimises −log D(G(z)) (it wants D to say 'real')", lambda f: -F.softplus(-f).mean()),
        Mistake(
            "log(sigmoid(l)) becomes log 0 = −inf when D rejects the fakes: use F.softplus(−l)",
            lambda f: -torch.log(torch.sigmoid(f)).mean(),
        ),
        Mistake("a sum, not a mean: the loss is an expectation", lambda f: F.softplus(-f).sum()),
        Mistake(
            "the fakes got target label 0 ('fake'): that is the discriminator's loss on them, −log(1 − D(G(z))), "
            "and minimising it pushes G the wrong way, towards samples D rejects. G's loss labels its fakes 1 "
            "('real'): −log D(G(z))",
            lambda f: F.softplus(f).mean(),
        ),
    ],
    gradients=True,
)


# --- change one thing and predict -------------------------------------------------------------------


@functools.cache
def _value_at_optimum(shift: float) -> float:
    """C(G) = V(D*, G) for p_data = U(−2, 0) and p_g = the same shifted by ``shift``, on a fine grid."""
    x = torch.linspace(-6.0, 6.0, 24001, dtype=torch.float64)
    dx = float(x[1] - x[0])
    p_data, p_g = _uniform(x, -2.0, 0.0), _uniform(x, -2.0 + shift, shift)
    return reference_value_on_grid(reference_optimal_discriminator(p_data, p_g), p_data, p_g, dx)


value_disjoint_supports = Prediction(
    "value_disjoint_supports",
    lambda: _value_at_optimum(3.0),
    tolerance=0.01,
    wrong_answers=lambda: {
        "that is −log 4, the minimum of C(G), reached when p_g = p_data; with disjoint supports D* is 1 on the "
        "data and 0 on the fakes": -math.log(4),
        "that is JSD(p_data ‖ p_g) itself, log 2 for disjoint supports; C(G) = −log 4 + 2 · JSD": math.log(2),
        "that is −log 2: C(G) = −log 4 + 2 · JSD, and JSD = log 2 for disjoint supports": -math.log(2),
    },
    explanation="D* is 1 on the data and 0 on the fakes, so both logs are 0: V(D*, G) = 0 = −log 4 + 2 log 2, the "
    "largest C(G) can be. Moving p_g a little does not change it: no gradient tells G where to go.",
)
