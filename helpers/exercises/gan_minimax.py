"""Graders for the exercises of notebook 03 (Goodfellow et al., 2014, "Generative Adversarial Nets").

    V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 − D(G(z)))]        (eq. 1)
    D*(x) = p_data(x) / (p_data(x) + p_g(x))                              (Proposition 1)
    C(G) = V(D*, G) = −log 4 + 2 · JSD(p_data ‖ p_g)                       (Theorem 1)

Discriminators give logits l, D(x) = σ(l); log D = −softplus(−l) and log(1 − D) = −softplus(l) never reach −inf.
Densities are values on an even grid with spacing dx; integrals are Riemann sums. One training step
(Algorithm 1 with k = 1): D steps on its loss with the fakes detached, G(z).detach(), then G steps on its
non-saturating loss through the updated D, each after zeroing its gradients. The references are plain
PyTorch, written here so that the grader does not depend on the code it grades.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from helpers.core import torch_generator

from .grading import HINT, PASS, Behaviour, Case, Exercise, Mistake, Prediction

__all__ = [
    "discriminator_loss",
    "gan_training_step",
    "generator_loss",
    "optimal_discriminator",
    "saturating_gradient_norm",
    "value_disjoint_supports",
    "value_on_grid",
]


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
        "that is 2 · JSD = 2 log 2 = log 4 alone; C(G) = −log 4 + 2 · JSD adds the −log 4": 2 * math.log(2),
        "that is JSD = 1 in bits (log base 2); the course measures in nats, and C(G) = −log 4 + 2 · JSD": 1.0,
        "that is −log₂ 4 = −2, the minimum of C(G) in bits; with disjoint supports D* is 1 on the data and 0 on "
        "the fakes": -2.0,
        "that is 2 · JSD = 2 in bits; C(G) = −log 4 + 2 · JSD, and in nats JSD = log 2": 2.0,
    },
    explanation="D* is 1 on the data and 0 on the fakes, so both logs are 0: V(D*, G) = 0 = −log 4 + 2 log 2, the "
    "largest C(G) can be. Moving p_g a little does not change it: no gradient tells G where to go.",
)


# --- one training step: D on G(z).detach(), then G through the updated D ---------------------------------


def reference_gan_training_step(
    generator: nn.Module,
    discriminator: nn.Module,
    g_optimizer: torch.optim.Optimizer,
    d_optimizer: torch.optim.Optimizer,
    real: Tensor,
    noise: Tensor,
) -> tuple[float, float]:
    fake = generator(noise)  # (batch, 2)
    d_optimizer.zero_grad()
    d_loss = reference_discriminator_loss(discriminator(real).flatten(), discriminator(fake.detach()).flatten())
    d_loss.backward()  # detach(): D's loss stops at the fakes and never reaches G's parameters
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = reference_generator_loss(discriminator(fake).flatten())  # through the updated D
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def _saturating_step(generator, discriminator, g_optimizer, d_optimizer, real, noise) -> tuple[float, float]:  # noqa: ANN001
    fake = generator(noise)
    d_optimizer.zero_grad()
    d_loss = reference_discriminator_loss(discriminator(real).flatten(), discriminator(fake.detach()).flatten())
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = -F.softplus(discriminator(fake).flatten()).mean()  # mean log(1 - D(G(z)))
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


@dataclass
class _Snapshot:
    """Which player stepped, with every parameter and gradient just before that step (and parameters after)."""

    player: str
    grads: dict[str, Tensor | None]
    params: dict[str, Tensor]
    params_after: dict[str, Tensor] = field(default_factory=dict)


def _players(seed: int) -> tuple[nn.Module, nn.Module]:
    generator = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    discriminator = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    g = torch_generator(seed)
    with torch.no_grad():  # seeded here, not from the global generator: every run grades the same players
        for parameter in [*generator.parameters(), *discriminator.parameters()]:
            parameter.copy_(0.7 * torch.randn(parameter.shape, generator=g))
    return generator, discriminator


@dataclass
class _Run:
    """What happened in each call of a training step: the optimizer steps, in order, and what it returned."""

    starts: list[dict[str, dict]] = field(default_factory=list)  # per call: the gradients and parameters at its start
    steps: list[list[_Snapshot]] = field(default_factory=list)  # per call: the steps taken
    returned: list[object] = field(default_factory=list)
    error: Exception | None = None


_ITERATIONS, _BATCH, _LEARNING_RATE = 2, 16, 0.05


def _state(generator: nn.Module, discriminator: nn.Module) -> tuple[dict, dict]:
    named = [*(("G." + n, p) for n, p in generator.named_parameters())]
    named += [*(("D." + n, p) for n, p in discriminator.named_parameters())]
    grads = {n: None if p.grad is None else p.grad.detach().clone() for n, p in named}
    return grads, {n: p.detach().clone() for n, p in named}


def _record(step: Callable) -> _Run:
    """Run ``step`` for two iterations on seeded players, batches and SGD optimizers, watching every step."""
    generator, discriminator = _players(0)
    g_optimizer = torch.optim.SGD(generator.parameters(), lr=_LEARNING_RATE)
    d_optimizer = torch.optim.SGD(discriminator.parameters(), lr=_LEARNING_RATE)
    run = _Run()

    def before(player: str) -> Callable:
        def hook(optimizer: torch.optim.Optimizer, args: tuple, kwargs: dict) -> None:
            grads, params = _state(generator, discriminator)
            run.steps[-1].append(_Snapshot(player, grads, params))

        return hook

    def after(optimizer: torch.optim.Optimizer, args: tuple, kwargs: dict) -> None:
        run.steps[-1][-1].params_after = _state(generator, discriminator)[1]

    for player, optimizer in (("D", d_optimizer), ("G", g_optimizer)):
        optimizer.register_step_pre_hook(before(player))
        optimizer.register_step_post_hook(after)
    data = torch_generator(1)
    for _ in range(_ITERATIONS):
        real = torch.randn(_BATCH, 2, generator=data) * 0.5 + torch.tensor([2.0, 0.0])
        noise = torch.randn(_BATCH, 2, generator=data)
        grads, params = _state(generator, discriminator)
        run.starts.append({"grads": grads, "params": params})
        run.steps.append([])
        try:
            run.returned.append(step(generator, discriminator, g_optimizer, d_optimizer, real, noise))
        except NotImplementedError:
            raise
        except Exception as error:  # the learner's code may raise anything; the verdict explains it
            run.error = error
            break
    return run


def _of(player: str, tensors: dict) -> dict:
    return {name: value for name, value in tensors.items() if name.startswith(player + ".")}


def _flat(tensors: dict) -> Tensor:
    return torch.cat([t.flatten() if t is not None else torch.zeros(0) for t in tensors.values()])


def _filled(grads: dict, like: dict) -> Tensor:
    """Gradients as one vector, a missing gradient counted as zeros."""
    return torch.cat([(grads[n] if grads[n] is not None else torch.zeros_like(like[n])).flatten() for n in grads])


def _close(one: Tensor, other: Tensor) -> bool:
    return torch.allclose(one, other, rtol=1e-4, atol=1e-6)


def _gradient_verdict(player: str, got: Tensor, want: Tensor, iteration: int, consistent_before: bool) -> str | None:
    loss = "d_loss" if player == "D" else "g_loss"
    optimizer = "d_optimizer" if player == "D" else "g_optimizer"
    if _close(got, want):
        return None
    if not bool((got != 0).any()):
        if player == "D":
            return f"D's step found no gradient: call {loss}.backward() before {optimizer}.step()"
        return (
            "G's step found no gradient: G's loss must come from D(G(z)) without detach() (only D's loss detaches "
            "the fakes), and g_loss.backward() must run before g_optimizer.step()"
        )
    if iteration > 0 and consistent_before:
        return (
            f"{player}'s gradients at its step in the second iteration still hold the first one's (gradients "
            f"accumulate in .grad): call {optimizer}.zero_grad() before {loss}.backward()"
        )
    if _close(-got, want):
        return f"{player}'s gradient has the opposite sign: " + (
            "D minimises −V, −mean log D(x) − mean log(1 − D(G(z)))"
            if player == "D"
            else "G minimises −mean log D(G(z)) (it wants D to say 'real')"
        )
    scale = float(got @ want / (want @ want)) if bool((want != 0).any()) else 0.0
    if _close(got, scale * want):
        return f"{player}'s gradients are {scale:.3g} × the reference's: " + (
            "each expectation is its own batch's mean (one mean over real and fake together halves each term)"
            if player == "D"
            else "G's loss is a mean over the batch"
        )
    if player == "D":
        return (
            "D's gradients differ from the reference's: D's loss is −mean log D(x) − mean log(1 − D(G(z))) from "
            "logits (your discriminator_loss of exercise 3), with real labelled 1 and the fakes 0"
        )
    return "G's gradients differ from the reference's: G's loss is the non-saturating −mean log D(G(z)) (exercise 4)"


def _step_verdict(step: Callable) -> tuple[str, str]:
    run, want = _record(step), _record(reference_gan_training_step)
    if run.error is not None:
        text = str(run.error)
        if "backward through the graph a second time" in text:
            return HINT, (
                "backward() went twice through one graph: compute G's loss from a fresh D(G(z)) after D's step "
                "(the fakes' graph through G is still there; D's part was freed by d_loss.backward())"
            )
        if "modified by an inplace operation" in text:
            return HINT, (
                "G's loss was built before d_optimizer.step() changed D's weights in place: compute D(G(z)) for "
                "G's loss after D's step (G trains against the updated D)"
            )
        raise run.error
    if all(not steps for steps in run.steps) and all(r is None or r is Ellipsis for r in run.returned):
        raise NotImplementedError
    for iteration, (steps, reference_steps, start) in enumerate(zip(run.steps, want.steps, run.starts)):
        order = [snapshot.player for snapshot in steps]
        if order != ["D", "G"]:
            if "D" not in order or "G" not in order:
                missing = "d_optimizer" if "D" not in order else "g_optimizer"
                return HINT, f"{missing}.step() was never called: each call updates D once, then G once"
            if order == ["G", "D"]:
                return HINT, "update D first, then G: G's step trains against the discriminator D has just become"
            return HINT, f"the optimizers stepped in the order {order}: each call steps D once, then G once"
        d_step, g_step = steps
        reference_d, reference_g = reference_steps
        g_start, g_at_d = _of("G", start["grads"]), _of("G", d_step.grads)
        if any(
            (g is not None and bool((g != 0).any())) and (g_start[n] is None or not torch.equal(g, g_start[n]))
            for n, g in g_at_d.items()
        ):
            return HINT, (
                "D's loss reached G's parameters: compute D's loss on G(z).detach(). Without it d_loss.backward() "
                "also fills G's .grad (wasted work, and G's own step adds it unless its gradients are zeroed right "
                "before)"
            )
        if not _close(_flat(_of("G", d_step.params_after)), _flat(_of("G", start["params"]))):
            return HINT, "G moved during D's update: D's stage steps only d_optimizer"
        consistent = iteration > 0 and all(
            _close(_filled(_of(p, s.grads), _of(p, s.params)), _filled(_of(p, r.grads), _of(p, r.params)))
            for s, r, p in ((run.steps[0][0], want.steps[0][0], "D"), (run.steps[0][1], want.steps[0][1], "G"))
        )
        problem = _gradient_verdict(
            "D",
            _filled(_of("D", d_step.grads), _of("D", d_step.params)),
            _filled(_of("D", reference_d.grads), _of("D", reference_d.params)),
            iteration,
            consistent,
        )
        if problem:
            return HINT, problem
        got_g = _filled(_of("G", g_step.grads), _of("G", g_step.params))
        want_g = _filled(_of("G", reference_g.grads), _of("G", reference_g.params))
        if not _close(got_g, want_g) and iteration == 0:
            saturating = _record(_saturating_step).steps[0][1]
            if _close(got_g, _filled(_of("G", saturating.grads), _of("G", saturating.params))):
                return HINT, (
                    "G stepped on the saturating loss, mean log(1 − D(G(z))), whose gradient vanishes when D rejects "
                    "the fakes: minimise −mean log D(G(z))"
                )
        problem = _gradient_verdict("G", got_g, want_g, iteration, consistent)
        if problem:
            return HINT, problem
    for got, expected in zip(run.returned, want.returned):
        values = got if isinstance(got, (tuple, list)) else None
        if values is None or len(values) != 2:
            return HINT, "the updates are right; now return the two losses, (d_loss, g_loss), as numbers"
        try:
            numbers = [float(v.detach()) if isinstance(v, Tensor) else float(v) for v in values]
        except (TypeError, ValueError, RuntimeError):
            return HINT, "the updates are right; return the two losses as numbers, e.g. (d_loss.item(), g_loss.item())"
        if not all(math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6) for a, b in zip(numbers, expected)):
            return HINT, (
                f"the updates are right but the returned losses are {numbers[0]:.4g}, {numbers[1]:.4g}, expected "
                f"{expected[0]:.4g}, {expected[1]:.4g}: return (d_loss, g_loss), in that order"
            )
    return PASS, (
        f"over {_ITERATIONS} iterations D stepped on G(z).detach() (no gradient reached G, G did not move), then G "
        "stepped through the updated D; both started from zeroed gradients, and every parameter equals the "
        "reference's."
    )


def _no_detach_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):  # noqa: ANN001, ANN202
    d_optimizer.zero_grad()
    g_optimizer.zero_grad()
    d_loss = reference_discriminator_loss(discriminator(real).flatten(), discriminator(generator(noise)).flatten())
    d_loss.backward()  # no detach(): the gradient flows on into G's parameters
    d_optimizer.step()
    g_loss = reference_generator_loss(discriminator(generator(noise)).flatten())
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def _without_zero_grad(generator, discriminator, g_optimizer, d_optimizer, real, noise):  # noqa: ANN001, ANN202
    fake = generator(noise)
    d_loss = reference_discriminator_loss(discriminator(real).flatten(), discriminator(fake.detach()).flatten())
    d_loss.backward()
    d_optimizer.step()
    g_loss = reference_generator_loss(discriminator(fake).flatten())
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def _generator_first(generator, discriminator, g_optimizer, d_optimizer, real, noise):  # noqa: ANN001, ANN202
    fake = generator(noise)
    g_optimizer.zero_grad()
    g_loss = reference_generator_loss(discriminator(fake).flatten())
    g_loss.backward()
    g_optimizer.step()
    d_optimizer.zero_grad()
    d_loss = reference_discriminator_loss(discriminator(real).flatten(), discriminator(fake.detach()).flatten())
    d_loss.backward()
    d_optimizer.step()
    return d_loss.item(), g_loss.item()


def _detached_generator_loss(generator, discriminator, g_optimizer, d_optimizer, real, noise):  # noqa: ANN001, ANN202
    fake = generator(noise).detach()  # detached once, for both players
    d_optimizer.zero_grad()
    d_loss = reference_discriminator_loss(discriminator(real).flatten(), discriminator(fake).flatten())
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = reference_generator_loss(discriminator(fake).flatten())
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


gan_training_step = Behaviour(
    "gan_training_step",
    _step_verdict,
    reference=lambda: reference_gan_training_step,
    mistakes=[
        Mistake("D's loss reached G's parameters", lambda: _no_detach_step),
        Mistake("zero_grad()", lambda: _without_zero_grad),
        Mistake("update D first", lambda: _generator_first),
        Mistake("G's step found no gradient", lambda: _detached_generator_loss),
        Mistake("saturating", lambda: _saturating_step),
    ],
)


# --- observe the stall: the saturating loss on a confident D ------------------------------------------

_FAKES, _LOGIT = 64, -8.0


def _gradient_norm(saturating: bool) -> float:
    """‖∂loss/∂logits‖ for a batch of 64 fakes that D rejects with logit −8."""
    logits = torch.full((_FAKES,), _LOGIT, dtype=torch.float64, requires_grad=True)
    loss = -F.softplus(logits).mean() if saturating else F.softplus(-logits).mean()  # mean log(1 − D) or −mean log D
    loss.backward()
    return float(logits.grad.norm())


_SIGMA = 1 / (1 + math.exp(-_LOGIT))  # D(G(z)) = σ(−8)

saturating_gradient_norm = Prediction(
    "saturating_gradient_norm",
    lambda: _gradient_norm(saturating=True),
    tolerance=0.05,
    relative=True,
    wrong_answers=lambda: {
        "that is the non-saturating loss's gradient, (1 − σ(l)) / √64 per batch; the saturating loss "
        "log(1 − σ(l)) has σ(l) ≈ 3·10⁻⁴ where the non-saturating one has 1 − σ(l) ≈ 1": _gradient_norm(False),
        "that is the derivative of log(1 − σ(l)) for one logit, σ(l), without the mean's 1/64 and the norm over the "
        "64 logits: ‖g‖ = √64 · σ(−8) / 64": _SIGMA,
        "that is the gradient of the sum over the batch; the loss is a mean: divide by 64": _SIGMA * math.sqrt(_FAKES),
        "that is one logit's gradient, σ(−8) / 64; the norm of all 64 is √64 times as large": _SIGMA / _FAKES,
        "it stalls but is not 0: ∂/∂l log(1 − σ(l)) = −σ(l), tiny for l = −8, not zero": 0.0,
    },
    explanation="σ(−8) / 8 ≈ 4·10⁻⁵, 3,000 times smaller than the non-saturating loss's 0.125: with a confident D "
    "the saturating loss gives G almost nothing to learn from.",
)
