"""A task that needs token-to-token attention, the models notebook 04 trains on it, and seeds trained together.

The induction task (Olsson et al., 2022, "In-context learning and induction heads"): for each position,
return the token that followed the previous occurrence of the current token. Here a sequence is ``half``
distinct tokens followed by the same tokens in a new random order, so that every token of the second half
occurred exactly once before, at a position that differs from sequence to sequence:

    tokens   a b c d | c a d b
    targets  · · · · | d b c c      target_i = x_{j+1} where x_j = x_i, j < i (the first "d" is followed by "c")

No fixed offset and no bag of words can answer: the answer depends on *which* earlier token the current
one matches, and on the order of the first half. A two-layer attention model can: layer 1 copies each
position's previous token into it (attention by position), layer 2 matches the current token against
those copies (attention by content) and reads the token found there.

Models: :class:`AttentionOnly` (token and position embeddings, ``num_layers`` residual self-attention
layers of one head each, causal; ``formula="notes"`` swaps in the source notes'
softmax(QKᵀ/√d_k · V)), :class:`BagOfWordsTagger` (each position sees its own token and the mean of all
tokens: no order). :class:`SeedStack` trains independent copies of a model, one per seed, in one pass
(``torch.func.stack_module_state`` + ``vmap``, as in PyTorch's model-ensembling tutorial).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from helpers.core import check_choice, check_positive_int, seed_torch
from helpers.self_attention.attention import SelfAttention
from helpers.self_attention.masks import causal_mask

__all__ = [
    "IGNORE",
    "AttentionOnly",
    "BagOfWordsTagger",
    "SeedStack",
    "induction_batch",
    "induction_targets_by_loop",
    "mean_ablated",
    "notes_attention",
    "seed_summed_cross_entropy",
]

IGNORE = -100  # target of a position with no previous occurrence (F.cross_entropy's ignore_index)


def induction_batch(
    num_sequences: int, *, half: int, vocabulary_size: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """``(tokens, targets)``, both ``(num_sequences, 2 * half)``: ``half`` distinct tokens, then the same
    tokens shuffled; ``targets[:, i]`` is the token that followed the previous occurrence of ``tokens[:, i]``
    (``IGNORE`` in the first half, where no token occurred before)."""
    num_sequences = check_positive_int(num_sequences, "num_sequences")
    half = check_positive_int(half, "half")
    if check_positive_int(vocabulary_size, "vocabulary_size") < half:
        raise ValueError(f"vocabulary_size ({vocabulary_size}) must be >= half ({half}): the first half is distinct")
    if not isinstance(generator, torch.Generator):
        raise TypeError("generator must be a torch.Generator (seeded), so that the data repeat")
    first = torch.rand(num_sequences, vocabulary_size, generator=generator).argsort(dim=1)[:, :half]  # distinct
    order = torch.rand(num_sequences, half, generator=generator).argsort(dim=1)  # second half: first[order]
    tokens = torch.cat([first, first.gather(1, order)], dim=1)  # (num_sequences, 2 * half)
    targets = torch.full_like(tokens, IGNORE)
    targets[:, half:] = tokens.gather(1, order + 1)  # second-half token i is first[order[i]]; its follower
    return tokens, targets


def induction_targets_by_loop(tokens: Sequence[Sequence[int]]) -> list[list[int]]:
    """The task's definition as a plain loop (the reference the generator is tested against)."""
    answers = []
    for sequence in tokens:
        row = []
        for i, token in enumerate(sequence):
            previous = [j for j in range(i) if sequence[j] == token]
            row.append(int(sequence[previous[-1] + 1]) if previous else IGNORE)
        answers.append(row)
    return answers


def notes_attention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None) -> Tensor:
    """The source notes' formula softmax(Q Kᵀ/√d_k · V): the softmax runs over the value *features*.
    Blocked scores are set to 0 (no -inf here: the softmax is not over the keys)."""
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.size(-1))  # (..., q_len, k_len)
    if mask is not None:
        scores = scores.masked_fill(~mask, 0.0)
    return (scores @ value).softmax(dim=-1)  # (..., q_len, d_v)


class _NotesSelfAttention(SelfAttention):
    def forward(self, x: Tensor, mask: Tensor | None = None) -> tuple[Tensor, None]:
        return notes_attention(self.query(x), self.key(x), self.value(x), mask), None


def _check_tokens(tokens: object, max_length: int | None) -> int:
    # Shape and dtype only: a check of the values would stop torch.func.vmap (SeedStack).
    if not isinstance(tokens, Tensor) or tokens.dtype != torch.int64 or tokens.dim() != 2:
        got = f"{tokens.dtype} {tuple(tokens.shape)}" if isinstance(tokens, Tensor) else type(tokens).__name__
        raise TypeError(f"tokens must be a (batch, seq) tensor of int64 token ids, got {got}")
    if max_length is not None and tokens.size(1) > max_length:
        raise ValueError(f"sequences of {tokens.size(1)} tokens exceed max_length={max_length}; build a longer model")
    return tokens.size(1)


class AttentionOnly(nn.Module):
    """Embeddings -> ``num_layers`` × (x + self-attention(x), one head, causal) -> logits per position.

    ``formula="paper"`` uses softmax(QKᵀ/√d_k) V (:class:`helpers.self_attention.attention.SelfAttention`); ``"notes"``
    uses the notes' softmax(QKᵀ/√d_k · V). No feed-forward layers: only attention can move information
    between positions, so what the model learns is what its attention does.
    """

    def __init__(self, vocabulary_size: int, *, num_layers: int, d_model: int, max_length: int, formula: str = "paper"):
        super().__init__()
        check_choice(formula, ("paper", "notes"), "formula")
        d_model = check_positive_int(d_model, "d_model")
        self.token_embedding = nn.Embedding(check_positive_int(vocabulary_size, "vocabulary_size"), d_model)
        self.position_embedding = nn.Parameter(0.1 * torch.randn(check_positive_int(max_length, "max_length"), d_model))
        layer = SelfAttention if formula == "paper" else _NotesSelfAttention
        num_layers = check_positive_int(num_layers, "num_layers")
        self.layers = nn.ModuleList(layer(d_model, d_model) for _ in range(num_layers))
        self.unembed = nn.Linear(d_model, vocabulary_size)

    def forward(self, tokens: Tensor, return_weights: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        seq = _check_tokens(tokens, self.position_embedding.size(0))
        x = self.token_embedding(tokens) + self.position_embedding[:seq]  # (batch, seq, d_model)
        mask = causal_mask(seq, device=tokens.device)
        weights = []
        for layer in self.layers:
            attended, layer_weights = layer(x, mask)  # (batch, seq, d_model), (batch, seq, seq)
            x = x + attended  # residual: each layer adds what it read to the position's state
            weights.append(layer_weights)
        logits = self.unembed(x)  # (batch, seq, vocabulary_size)
        return (logits, weights) if return_weights else logits


@contextmanager
def mean_ablated(model: AttentionOnly, layer: int, positions: slice = slice(None)) -> Iterator[AttentionOnly]:
    """Inside the ``with`` block, the head of ``layer`` (0 = the first) writes, at the query ``positions``, its
    mean output over the batch at each position instead of what it computed (mean ablation).

    What the rest of the model could read from that head there is removed; the head's average contribution
    stays, so the model is not pushed off the inputs it was trained on (as zeroing would). An intervention:
    if the accuracy falls, the model *used* what the head computed there, whatever its attention map shows.
    """
    if not isinstance(model, AttentionOnly):
        raise TypeError(f"mean_ablated needs an AttentionOnly model, got {type(model).__name__}")
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < len(model.layers):
        raise ValueError(f"layer must be an int in 0..{len(model.layers) - 1} (0 = the first layer), got {layer!r}")
    if not isinstance(positions, slice):
        raise TypeError(f"positions must be a slice of query positions, e.g. slice(1, 9), got {positions!r}")

    def replace_by_mean(module: nn.Module, inputs: tuple, output: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        attended, weights = output  # (batch, seq, d_model), (batch, seq, seq)
        attended = attended.clone()
        attended[:, positions] = attended[:, positions].mean(dim=0, keepdim=True)
        return attended, weights

    handle = model.layers[layer].register_forward_hook(replace_by_mean)
    try:
        yield model
    finally:
        handle.remove()


class BagOfWordsTagger(nn.Module):
    """Each position sees its own token and the mean of all the sequence's token embeddings (no order), then
    a two-layer perceptron gives the logits. The best a model can do without knowing the order."""

    def __init__(self, vocabulary_size: int, *, d_model: int):
        super().__init__()
        d_model = check_positive_int(d_model, "d_model")
        self.token_embedding = nn.Embedding(check_positive_int(vocabulary_size, "vocabulary_size"), d_model)
        self.classify = nn.Sequential(
            nn.Linear(2 * d_model, 2 * d_model), nn.ReLU(), nn.Linear(2 * d_model, vocabulary_size)
        )

    def forward(self, tokens: Tensor) -> Tensor:
        _check_tokens(tokens, None)
        own = self.token_embedding(tokens)  # (batch, seq, d_model)
        bag = own.mean(dim=1, keepdim=True).expand_as(own)  # the same order-free summary at every position
        return self.classify(torch.cat([own, bag], dim=-1))  # (batch, seq, vocabulary_size)


class SeedStack(nn.Module):
    """``len(seeds)`` independent copies of one model (copy i built after ``seed_torch(seeds[i])``),
    run in one call: input ``(seeds, batch, ...)`` (``(batch, ...)`` with ``shared_inputs``) -> output
    ``(seeds, batch, ...)``. Each copy's weights are a slice of one stacked parameter, so one optimiser
    step updates all of them; with an element-wise optimiser (Adam) and a loss that *sums* the copies'
    losses, every copy trains exactly as it would alone."""

    def __init__(self, make_model: Callable[[], nn.Module], seeds: Sequence[int], *, shared_inputs: bool = False):
        super().__init__()
        self.shared_inputs = shared_inputs
        models = []
        for seed in seeds:
            seed_torch(seed)
            models.append(make_model())
        parameters, self._buffers_stacked = stack_module_state(models)
        self.names = list(parameters)
        self.stacked = nn.ParameterList(nn.Parameter(parameters[name]) for name in self.names)
        self._template = [copy.deepcopy(models[0]).to("meta")]  # a list: not registered as a submodule
        self.seeds = list(seeds)

    def forward(self, *inputs: Tensor) -> Tensor:
        template = self._template[0].train(self.training)
        parameters = dict(zip(self.names, self.stacked, strict=True))

        def one_copy(params: dict[str, Tensor], buffers: dict[str, Tensor], *args: Tensor) -> Tensor:
            return functional_call(template, (params, buffers), args)

        in_dims = (0, 0) + tuple(None if self.shared_inputs else 0 for _ in inputs)
        return vmap(one_copy, in_dims=in_dims, randomness="different")(parameters, self._buffers_stacked, *inputs)

    def copy_of(self, index: int, make_model: Callable[[], nn.Module]) -> nn.Module:
        """Copy ``index`` as a plain module (for plots and inspection)."""
        model = make_model()
        model.load_state_dict({name: p[index].detach() for name, p in zip(self.names, self.stacked, strict=True)})
        return model.train(self.training)


def seed_summed_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Σ over seeds of each seed's mean cross-entropy; logits ``(seeds, ..., classes)``, targets ``(seeds, ...)``
    or shared ``(...)`` (``IGNORE`` skipped). Summing keeps each seed's gradient what it would be alone."""
    targets = targets.expand(logits.shape[:-1])
    per_position = F.cross_entropy(logits.flatten(0, -2), targets.flatten(), ignore_index=IGNORE, reduction="none")
    per_position = per_position.view(targets.shape).flatten(1)  # (seeds, positions)
    counted = (targets != IGNORE).flatten(1).sum(dim=1).clamp_min(1)
    return (per_position.sum(dim=1) / counted).sum()
