"""Training and decoding a sequence-to-sequence model, as Vaswani et al. (2017) train the Transformer.

    loss = (1 - ε) · (-log p_y) + ε · (1/K) Σ_k (-log p_k)           label smoothing, ε = 0.1 (§5.4)
    lr = d_model^-0.5 · min(step^-0.5, step · warmup^-1.5)            linear warm-up, then 1/√step (§5.3)
    score(Y) = log P(Y | X) / lp(Y),  lp(Y) = ((5 + |Y|) / 6)^α       beam search, width 4, α = 0.6 (§6.1)

Plus the paper's checkpoint averaging (§6.1: "averaging the last 5 checkpoints"). Any model with the
``encode(source) -> (memory, mask, _)`` / ``decode(target_in, memory, mask) -> (logits, ...)`` methods and a
``padding_id`` decodes here: :class:`helpers.transformer.model.Transformer` and the GRU of
:mod:`helpers.transformer.recurrent`.
A learner's own (source, target) text pairs train through :func:`helpers.transformer.translate.train_translator`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from helpers.core import check_finite_number, check_positive_int, check_probability, check_shape, training_mode

__all__ = [
    "average_weights",
    "beam_search",
    "greedy_decode",
    "label_smoothed_cross_entropy",
    "transformer_learning_rate",
    "warmup_scheduler",
]


def label_smoothed_cross_entropy(
    logits: Tensor, targets: Tensor, smoothing: float = 0.1, ignore_index: int | None = -100
) -> Tensor:
    """Cross-entropy against (1 - ε) · one-hot + ε / K (§5.4), averaged over the targets not ignored.

    ``logits`` ``(..., K)``, integer ``targets`` ``(...)``. Equals ``F.cross_entropy(..., label_smoothing=ε,
    ignore_index=...)`` with the same default ``ignore_index=-100``; pass ``ignore_index=padding_id`` to skip
    padding, or ``None`` to count every target. A target outside ``[0, K)`` that is not ignored is refused.
    """
    check_probability(smoothing, "smoothing")
    check_shape(logits, (*targets.shape, None), "logits", f"(*targets.shape, K) = {(*targets.shape, 'K')}")
    if targets.is_floating_point() or targets.dtype == torch.bool:
        raise TypeError(f"targets must hold integer class ids, got dtype {targets.dtype}; use targets.long()")
    classes = logits.size(-1)
    keep = targets != ignore_index if ignore_index is not None else torch.ones_like(targets, dtype=torch.bool)
    bad = targets[keep & ((targets < 0) | (targets >= classes))]
    if bad.numel():
        raise ValueError(
            f"targets must lie in [0, {classes}) or equal ignore_index={ignore_index}, got "
            f"{bad.unique()[:5].tolist()}; padding? pass ignore_index=padding_id"
        )
    if not bool(keep.any()):
        raise ValueError(f"every target is the ignore_index ({ignore_index}): there is no token to compute a loss on")
    log_probs = logits.log_softmax(dim=-1)  # (..., K)
    nll = -log_probs.gather(-1, targets.where(keep, 0)[..., None]).squeeze(-1)  # -log p(true class)
    uniform = -log_probs.mean(dim=-1)  # cross-entropy against the uniform distribution 1/K
    return ((1.0 - smoothing) * nll + smoothing * uniform)[keep].mean()


def transformer_learning_rate(step: int, d_model: int, warmup: int) -> float:
    """lr = d_model^-0.5 · min(step^-0.5, step · warmup^-1.5): linear warm-up, then ∝ 1/√step (§5.3)."""
    step = check_positive_int(step, "step (1-based)")
    return check_positive_int(d_model, "d_model") ** -0.5 * min(
        step**-0.5, step * check_positive_int(warmup, "warmup") ** -1.5
    )


def warmup_scheduler(
    optimizer: torch.optim.Optimizer, *, warmup: int, ramp: bool = True
) -> torch.optim.lr_scheduler.LambdaLR:
    """The paper's schedule with the optimiser's own ``lr`` as its peak: lr · min(step / warmup, √(warmup / step)).

    With ``lr = d_model^-0.5 · warmup^-0.5`` this is :func:`transformer_learning_rate` exactly. ``ramp=False``
    starts at the peak (no warm-up) and decays the same way. Call ``.step()`` after each optimiser step.
    """
    warmup = check_positive_int(warmup, "warmup")

    def multiplier(index: int) -> float:  # LambdaLR counts from 0; the paper's first step is step 1
        step = index + 1
        return min(step / warmup if ramp else 1.0, math.sqrt(warmup / step))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)


def average_weights(states: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """The element-wise mean of several ``state_dict``s of one model (checkpoint averaging, §6.1).

    Every state must have the same names, and each name the same shape and dtype: states of different
    models are refused, not averaged.
    """
    if isinstance(states, dict) or not isinstance(states, (list, tuple)) or not states:
        raise ValueError(
            f"average_weights takes a non-empty list of state_dicts, got {type(states).__name__}"
            f"{' (one state_dict: wrap it in a list)' if isinstance(states, dict) else ''}"
        )
    for index, state in enumerate(states):
        if not isinstance(state, dict):
            raise TypeError(f"states[{index}] must be a state_dict (model.state_dict()), got {type(state).__name__}")
        if state.keys() != states[0].keys():
            differ = sorted(set(state) ^ set(states[0]))
            raise ValueError(
                f"states[{index}] and states[0] name different weights ({differ[:5]}): "
                "average only checkpoints of one model"
            )
        for name, tensor in state.items():
            first = states[0][name]
            if tensor.shape != first.shape or tensor.dtype != first.dtype:
                raise ValueError(
                    f"states[{index}][{name!r}] has shape {tuple(tensor.shape)} ({tensor.dtype}) but states[0] has "
                    f"{tuple(first.shape)} ({first.dtype}): average only checkpoints of one model"
                )
    return {
        name: torch.stack([state[name] for state in states]).mean(0)
        if states[0][name].is_floating_point()
        else states[-1][name]
        for name in states[0]
    }


def _check_decoding(model: nn.Module, source: Tensor, max_length: int, bos_id: int, eos_id: int) -> None:
    check_shape(source, (None, None), "source", "(batch, src_len) of token ids")
    check_positive_int(max_length, "max_length")
    vocabulary = model.generator.out_features if hasattr(model, "generator") else None
    for name, value in (("bos_id", bos_id), ("eos_id", eos_id)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (vocabulary and value >= vocabulary):
            raise ValueError(f"{name} must be a target vocabulary id in [0, {vocabulary}), got {value!r}")


@torch.no_grad()
def greedy_decode(model: nn.Module, source: Tensor, *, max_length: int, bos_id: int, eos_id: int) -> Tensor:
    """Generate target ids one token at a time, always taking the most likely next token.

    ``source`` ``(batch, src_len)`` -> ``(batch, ≤ max_length)`` ids, without ``<bos>``; a sequence that has
    produced ``<eos>`` is padded with ``model.padding_id`` until all are done. The encoder runs once; the
    decoder re-reads its whole prefix at every step (simple, and cheap for short outputs). The model's
    train/eval mode is restored afterwards.
    """
    _check_decoding(model, source, max_length, bos_id, eos_id)
    with training_mode(model, False):
        memory, memory_mask, _ = model.encode(source)
        generated = torch.full((source.size(0), 1), bos_id, dtype=torch.long, device=source.device)
        finished = torch.zeros(source.size(0), dtype=torch.bool, device=source.device)
        for _ in range(max_length):
            logits = model.decode(generated, memory, memory_mask)[0][:, -1]  # (batch, target_vocabulary): next token
            next_token = logits.argmax(dim=-1).masked_fill(finished, model.padding_id)
            generated = torch.cat([generated, next_token[:, None]], dim=1)
            finished |= next_token == eos_id
            if bool(finished.all()):
                break
    return generated[:, 1:]


@torch.no_grad()
def beam_search(
    model: nn.Module,
    source: Tensor,
    *,
    max_length: int,
    bos_id: int,
    eos_id: int,
    beam_width: int = 4,
    alpha: float = 0.6,
) -> Tensor:
    """Keep the ``beam_width`` most likely prefixes at each step; return the best by length-penalised score.

    score(Y) = log P(Y | X) / ((5 + |Y|) / 6)^α (Wu et al., 2016, as the paper's §6.1), |Y| counting
    ``<eos>``. Prefixes are pruned by log P; a finished hypothesis stays in the beam, extended only by padding
    at no cost. Same output layout as :func:`greedy_decode`; ``beam_width=1`` is greedy decoding.
    """
    _check_decoding(model, source, max_length, bos_id, eos_id)
    width = check_positive_int(beam_width, "beam_width")
    check_finite_number(alpha, "alpha", minimum=0, hint="the length penalty's exponent, the paper's 0.6")
    with training_mode(model, False):
        memory, memory_mask, _ = model.encode(source)
        batch, device = source.size(0), source.device
        memory, memory_mask = memory.repeat_interleave(width, 0), memory_mask.repeat_interleave(width, 0)
        tokens = torch.full((batch, width, 1), bos_id, dtype=torch.long, device=device)
        scores = torch.full((batch, width), -math.inf, device=device)
        scores[:, 0] = 0.0  # one live prefix (<bos>) per source at the start: no duplicate beams
        finished = torch.zeros(batch, width, dtype=torch.bool, device=device)
        lengths = torch.zeros(batch, width, device=device)
        for _ in range(max_length):
            logits = model.decode(tokens.view(batch * width, -1), memory, memory_mask)[0][:, -1]
            log_probs = logits.float().log_softmax(-1).view(batch, width, -1)  # (batch, width, vocabulary)
            vocabulary = log_probs.size(-1)
            padding_only = torch.full((vocabulary,), -math.inf, device=device)
            padding_only[model.padding_id] = 0.0
            log_probs = torch.where(finished[..., None], padding_only, log_probs)
            scores, index = (scores[..., None] + log_probs).view(batch, -1).topk(width, dim=1)  # (batch, width)
            beam, token = index // vocabulary, index % vocabulary
            tokens = torch.cat([tokens.gather(1, beam[..., None].expand_as(tokens)), token[..., None]], dim=2)
            was_finished = finished.gather(1, beam)
            lengths = lengths.gather(1, beam) + (~was_finished).float()
            finished = was_finished | (token == eos_id)
            if bool(finished.all()):
                break
        best = (scores / ((5.0 + lengths) / 6.0) ** alpha).argmax(dim=1)  # (batch,)
    return tokens[torch.arange(batch, device=device), best, 1:]
