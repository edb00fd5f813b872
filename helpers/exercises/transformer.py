"""Graders for the exercises of notebook 05 (Vaswani et al., 2017, "Attention Is All You Need").

    PE(pos, 2i) = sin(pos / 10000^(2i / d_model)),   PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))   (§3.5)
    sublayer output = LayerNorm(x + Sublayer(x))                                       (post-norm, §3.1)
    decoder layer: masked self-attention → add & norm → encoder-decoder attention → add & norm
                   → feed-forward → add & norm
    smoothed target = (1 − ε) · one-hot + ε / K                                         (§5.4)

    ∂loss/∂logits = (softmax(logits) − smoothed target) / N at the N real tokens, 0 at padding

Beam search keeps the ``beam_size`` best continuations of all beams together, scored by their summed
log-probabilities. Teacher forcing feeds the decoder the target sequence shifted right: from
[<s>, y_1, ..., y_n, </s>, <pad>, ...] the decoder reads [<s>, y_1, ..., y_n] and learns to predict
[y_1, ..., y_n, </s>]. The references are plain PyTorch, written here so that the grader does not depend on
the code it grades.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from helpers.core import torch_generator

from .grading import Case, Exercise, Mistake, Prediction
from .self_attention import reference_attention

__all__ = [
    "DecoderParts",
    "beam_search_step",
    "decoder_layer",
    "label_smoothed_loss",
    "lowest_smoothed_loss",
    "sinusoidal_positional_encoding",
    "smoothed_loss_gradient",
    "teacher_forcing",
]


# --- positions --------------------------------------------------------------------------------------


def _encoding(
    max_length: int,
    d_model: int,
    *,
    pair_exponent: bool = False,
    swapped: bool = False,
    halves: bool = False,
    first_position: int = 0,
    multiply: bool = False,
) -> Tensor:
    """The reference (default arguments) and, through its switches, the typical mistakes."""
    position = torch.arange(first_position, first_position + max_length, dtype=torch.float32)[:, None]
    even = torch.arange(0, d_model, 2, dtype=torch.float32)  # 2i = 0, 2, 4, ...
    exponent = (even / 2 if pair_exponent else even) / d_model
    angle = position * 10000.0**exponent if multiply else position / 10000.0**exponent  # (max_length, d_model/2)
    first, second = (torch.cos, torch.sin) if swapped else (torch.sin, torch.cos)
    if halves:
        return torch.cat([first(angle), second(angle)], dim=1)
    table = torch.zeros(max_length, d_model)
    table[:, 0::2], table[:, 1::2] = first(angle), second(angle)
    return table  # (max_length, d_model)


def reference_sinusoidal_positional_encoding(max_length: int, d_model: int) -> Tensor:
    return _encoding(max_length, d_model)


sinusoidal_positional_encoding = Exercise(
    "sinusoidal_positional_encoding",
    reference_sinusoidal_positional_encoding,
    lambda: [
        Case("10 positions, d_model 16", (10, 16)),
        Case("one position", (1, 4)),
        Case("50 positions, d_model 64", (50, 64)),
        Case("d_model 2", (7, 2)),
    ],
    [
        Mistake(
            "sines and cosines are swapped: sines go to the even columns 0, 2, 4, ...",
            lambda n, d: _encoding(n, d, swapped=True),
        ),
        Mistake(
            "the exponent is 2i / d_model with 2i the even column index; you used the pair index i / d_model",
            lambda n, d: _encoding(n, d, pair_exponent=True),
        ),
        Mistake(
            "interleave them: PE[:, 0::2] = sin, PE[:, 1::2] = cos, not sines then cosines side by side",
            lambda n, d: _encoding(n, d, halves=True),
        ),
        Mistake("positions start at 0", lambda n, d: _encoding(n, d, first_position=1)),
        Mistake(
            "pos / 10000^(2i/d_model), not pos · 10000^(2i/d_model): the wavelengths grow with i",
            lambda n, d: _encoding(n, d, multiply=True),
        ),
    ],
    dtype_advice="the statement asks for float32, PyTorch's default (torch.arange(n) gives integers and "
    "NumPy gives float64: build the table with dtype=torch.float32)",
)


# --- one decoder layer ------------------------------------------------------------------------------


class Attention(nn.Module):
    """Multi-head attention in plain PyTorch: ``attend(query_sequence, key_value_sequence, mask)``."""

    def __init__(self, d_model: int, num_heads: int, generator: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.weights = nn.Parameter(
            torch.randn(4, d_model, d_model, generator=generator, dtype=dtype) / math.sqrt(d_model)
        )  # W_Q, W_K, W_V, W_O

    def _split(self, x: Tensor) -> Tensor:
        batch, seq, d_model = x.shape
        return x.view(batch, seq, self.num_heads, d_model // self.num_heads).transpose(1, 2)

    def forward(self, query: Tensor, key_value: Tensor, mask: Tensor | None = None) -> Tensor:
        w_q, w_k, w_v, w_o = self.weights
        heads, _ = reference_attention(
            self._split(query @ w_q), self._split(key_value @ w_k), self._split(key_value @ w_v), mask
        )  # (batch, heads, q_len, d_k)
        return heads.transpose(1, 2).flatten(2) @ w_o  # (batch, q_len, d_model)


class DecoderParts(nn.Module):
    """The sublayers of one decoder layer: ``self_attention(x, x, mask)``, ``cross_attention(x, memory, mask)``,
    ``feed_forward(x)`` and the LayerNorms ``norm1``, ``norm2``, ``norm3`` (no dropout: evaluation mode)."""

    def __init__(
        self, d_model: int = 8, num_heads: int = 2, d_ff: int = 16, seed: int = 0, dtype: torch.dtype = torch.float32
    ) -> None:
        super().__init__()
        g = torch_generator(seed)
        self.self_attention = Attention(d_model, num_heads, g, dtype)
        self.cross_attention = Attention(d_model, num_heads, g, dtype)
        self.feed_forward = nn.Sequential(
            nn.Linear(d_model, d_ff, dtype=dtype), nn.ReLU(), nn.Linear(d_ff, d_model, dtype=dtype)
        )
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model, dtype=dtype) for _ in range(3))
        with torch.no_grad():  # seeded here, not from the global generator: every run grades the same layer
            for name, parameter in [
                *self.feed_forward.named_parameters(),
                *self.norm1.named_parameters(),
                *self.norm2.named_parameters(),
                *self.norm3.named_parameters(),
            ]:
                noise = torch.randn(parameter.shape, generator=g, dtype=dtype)
                # Norms with distinct, non-trivial scales, so that using the wrong one changes the output.
                is_scale = name == "weight" and parameter.dim() == 1
                parameter.copy_(1.0 + 0.3 * noise if is_scale else 0.5 * noise)
        self.eval()


def _decoder(
    x: Tensor,
    memory: Tensor,
    target_mask: Tensor,
    memory_mask: Tensor,
    layer: DecoderParts,
    *,
    pre_norm: bool = False,
    cross_from_x: str = "",
    use_target_mask: bool = True,
    use_memory_mask: bool = True,
    residual: bool = True,
    feed_forward_first: bool = False,
) -> Tensor:
    """The reference (default arguments) and, through its switches, the typical mistakes."""
    # cross_from_x: keys and values of the encoder-decoder attention taken from x, with this mask.
    cross_mask = {"": memory_mask, "memory_mask": memory_mask, "target_mask": target_mask, "none": None}[cross_from_x]
    target_mask = target_mask if use_target_mask else None
    cross_mask = cross_mask if use_memory_mask else None
    sublayers = [
        (lambda h: layer.self_attention(h, h, target_mask), layer.norm1),
        (lambda h: layer.cross_attention(h, h if cross_from_x else memory, cross_mask), layer.norm2),
        (layer.feed_forward, layer.norm3),
    ]
    if feed_forward_first:
        sublayers[1], sublayers[2] = sublayers[2], sublayers[1]
    for sublayer, norm in sublayers:
        if pre_norm:
            x = x + sublayer(norm(x))
        else:
            x = norm((x if residual else 0) + sublayer(x))
    return x  # (batch, tgt_len, d_model)


def reference_decoder_layer(
    x: Tensor, memory: Tensor, target_mask: Tensor, memory_mask: Tensor, layer: DecoderParts
) -> Tensor:
    return _decoder(x, memory, target_mask, memory_mask, layer)


def _decoder_cases() -> list[Case]:
    g = torch_generator(3)

    def case(name: str, batch: int, tgt: int, lengths: list[int], dtype: torch.dtype = torch.float32) -> Case:
        src = max(lengths) + 1
        memory_mask = (torch.arange(src)[None, :] < torch.tensor(lengths)[:, None])[:, None, None, :]
        return Case(
            name,
            (
                torch.randn(batch, tgt, 8, generator=g, dtype=dtype),
                torch.randn(batch, src, 8, generator=g, dtype=dtype),
                torch.ones(tgt, tgt, dtype=torch.bool).tril(),
                memory_mask,
                DecoderParts(dtype=dtype),
            ),
        )

    return [
        case("padding", 2, 4, [5, 3]),
        case("batch of 1", 1, 3, [4]),
        case("target length 1", 2, 1, [2, 3]),
        case("float64", 2, 5, [3, 6], torch.float64),
    ]


_KEYS_FROM_MEMORY = (
    "the encoder-decoder attention takes its keys and values from the encoder's output (memory), "
    "its queries from the decoder"
)

decoder_layer = Exercise(
    "decoder_layer",
    reference_decoder_layer,
    _decoder_cases,
    [
        Mistake(
            "you normalised before each sublayer (pre-norm, x + Sublayer(LayerNorm(x))); the paper's order is "
            "LayerNorm(x + Sublayer(x))",
            lambda *a: _decoder(*a, pre_norm=True),
        ),
        *(
            Mistake(_KEYS_FROM_MEMORY, lambda *a, mask=mask: _decoder(*a, cross_from_x=mask))
            for mask in ("memory_mask", "target_mask", "none")
        ),
        Mistake(
            "the masked self-attention got no mask: each position sees the future; pass target_mask",
            lambda *a: _decoder(*a, use_target_mask=False),
        ),
        Mistake(
            "the encoder-decoder attention attends to the source's padding: pass memory_mask",
            lambda *a: _decoder(*a, use_memory_mask=False),
        ),
        Mistake(
            "the residual connection is missing: LayerNorm(x + Sublayer(x))", lambda *a: _decoder(*a, residual=False)
        ),
        Mistake(
            "the order is masked self-attention, encoder-decoder attention, then feed-forward",
            lambda *a: _decoder(*a, feed_forward_first=True),
        ),
    ],
    gradients=True,
)


# --- one step of beam search ------------------------------------------------------------------------


def reference_beam_search_step(log_probs: Tensor, beam_scores: Tensor, beam_size: int) -> tuple[Tensor, Tensor, Tensor]:
    vocabulary_size = log_probs.shape[1]
    totals = beam_scores[:, None] + log_probs  # (beams, vocabulary): score of every continuation
    scores, flat = totals.flatten().topk(beam_size)  # the best of all beams together, best first
    return scores, flat // vocabulary_size, flat % vocabulary_size  # (beam_size,) each: score, beam, token


def _beam_cases() -> list[Case]:
    g = torch_generator(4)

    def case(name: str, beams: int, vocabulary: int, beam_size: int, dtype: torch.dtype = torch.float32) -> Case:
        log_probs = torch.randn(beams, vocabulary, generator=g, dtype=dtype).mul(2).log_softmax(dim=1)
        return Case(name, (log_probs, -torch.rand(beams, generator=g, dtype=dtype) * 3, beam_size))

    # The running scores differ a lot in one case, so that the best beam's second token beats other beams' best.
    strong_beam = (
        torch.tensor([[-0.1, -2.5, -3.0, -4.0], [-0.2, -3.0, -2.6, -4.0], [-0.3, -1.9, -2.0, -4.5]]),
        torch.tensor([0.0, -5.0, -0.4]),
        3,
    )
    return [
        case("random", 3, 7, 3),
        Case("one beam far ahead", strong_beam),
        case("first step: one beam", 1, 9, 4),
        case("beam size 1 (greedy)", 2, 5, 1),
        case("float64", 4, 6, 4, torch.float64),
    ]


def _per_beam(log_probs: Tensor, beam_scores: Tensor, beam_size: int) -> tuple[Tensor, Tensor, Tensor]:
    best, tokens = (beam_scores[:, None] + log_probs).max(dim=1)  # each beam's single best token
    scores, beams = best.topk(min(beam_size, best.numel()))
    return scores, beams, tokens[beams]


beam_search_step = Exercise(
    "beam_search_step",
    reference_beam_search_step,
    _beam_cases,
    [
        Mistake(
            "you kept each beam's best next token; beam search ranks all beam × vocabulary continuations together",
            _per_beam,
        ),
        Mistake(
            "the running scores were not added: a continuation scores beam_score + log p(token)",
            lambda lp, s, k: reference_beam_search_step(lp, torch.zeros_like(s), k),
        ),
        Mistake(
            "beam = index // vocabulary_size and token = index % vocabulary_size (flattened row by row): they are "
            "swapped",
            lambda lp, s, k: (lambda r: (r[0], r[2], r[1]))(reference_beam_search_step(lp, s, k)),
        ),
        Mistake(
            "log-probabilities add: a product of probabilities is a sum of logs",
            lambda lp, s, k: reference_beam_search_step(lp * s[:, None], torch.zeros_like(s), k),
        ),
        Mistake(
            "the best continuations have the highest log-probability: topk(largest=True)",
            lambda lp, s, k: (lambda sc, fl: (sc, fl // lp.shape[1], fl % lp.shape[1]))(
                *(s[:, None] + lp).flatten().topk(k, largest=False)
            ),
        ),
    ],
    names=("scores", "beams", "tokens"),
)


# --- the label-smoothed loss ------------------------------------------------------------------------


def reference_label_smoothed_loss(logits: Tensor, targets: Tensor, smoothing: float, padding_id: int) -> Tensor:
    return F.cross_entropy(
        logits.flatten(0, -2), targets.flatten(), label_smoothing=smoothing, ignore_index=padding_id
    )  # mean over the tokens that are not padding


def _loss_cases() -> list[Case]:
    g = torch_generator(5)

    def case(
        name: str, shape: tuple, classes: int, smoothing: float, padding_id: int, dtype: torch.dtype = torch.float32
    ) -> Case:
        targets = torch.randint(0, classes, shape, generator=g)
        targets[..., -2:] = padding_id  # the padded ends of the sequences
        targets[..., 0] = (padding_id + 1) % classes  # at least one real token per sequence
        return Case(name, (torch.randn(*shape, classes, generator=g, dtype=dtype) * 2, targets, smoothing, padding_id))

    return [
        case("padding", (3, 6), 7, 0.1, 0),
        case("padding_id 3", (2, 5), 6, 0.2, 3),
        case("batch of 1", (1, 4), 5, 0.1, 0),
        case("no smoothing", (2, 5), 6, 0.0, 0),
        case("float64", (2, 6), 8, 0.3, 0, torch.float64),
    ]


def _smoothed_over_others(logits: Tensor, targets: Tensor, smoothing: float, padding_id: int) -> Tensor:
    classes = logits.shape[-1]
    target = torch.full_like(logits, smoothing / (classes - 1)).scatter(-1, targets[..., None], 1 - smoothing)
    losses = -(target * logits.log_softmax(dim=-1)).sum(dim=-1)
    return losses[targets != padding_id].mean()


label_smoothed_loss = Exercise(
    "label_smoothed_loss",
    reference_label_smoothed_loss,
    _loss_cases,
    [
        Mistake(
            "padding tokens count in the mean: leave out the targets equal to padding_id",
            lambda lo, t, e, p: F.cross_entropy(lo.flatten(0, -2), t.flatten(), label_smoothing=e),
        ),
        Mistake(
            "the targets equal to padding_id are left out, whatever id that is; you left out id 0",
            lambda lo, t, e, p: reference_label_smoothed_loss(lo, t, e, 0),
        ),
        Mistake(
            "the smoothed target is (1 − ε) · one-hot + ε / K over all K classes, the true one included "
            "(ε / (K − 1) on the others is another variant)",
            _smoothed_over_others,
        ),
        Mistake(
            "the smoothing is missing: the target is (1 − ε) · one-hot + ε / K",
            lambda lo, t, e, p: reference_label_smoothed_loss(lo, t, 0.0, p),
        ),
        Mistake(
            "average over the real tokens, not sum",
            lambda lo, t, e, p: F.cross_entropy(
                lo.flatten(0, -2), t.flatten(), label_smoothing=e, ignore_index=p, reduction="sum"
            ),
        ),
    ],
    gradients=True,
)


# --- change one thing and predict -------------------------------------------------------------------

_SMOOTHING, _CLASSES = 0.1, 1000


def _smoothed_target_entropy() -> float:
    """The lowest loss any model can reach against the smoothed target: that target's own entropy."""
    target = torch.full((_CLASSES,), _SMOOTHING / _CLASSES, dtype=torch.float64)
    target[0] += 1 - _SMOOTHING
    return float(-(target * target.log()).sum())


lowest_smoothed_loss = Prediction(
    "lowest_smoothed_loss",
    _smoothed_target_entropy,
    tolerance=0.01,
    wrong_answers=lambda: {
        "0 is the floor without smoothing; with it the target is not one-hot, and no prediction matches it "
        "better than the target itself": 0.0,
        "that is −log(1 − ε), the loss of a model that puts 1 − ε on the right class and spreads nothing over "
        "the others": -math.log(1 - _SMOOTHING),
        "that is ε · log K, only the uniform part; add the true class's term": _SMOOTHING * math.log(_CLASSES),
        "that is the entropy of the ε split alone, H(ε) = −(1 − ε) log(1 − ε) − ε log ε; spreading ε over the K "
        "classes adds ε · log K": -(1 - _SMOOTHING) * math.log(1 - _SMOOTHING) - _SMOOTHING * math.log(_SMOOTHING),
    },
    explanation="The loss is the cross-entropy H(target, model) = H(target) + KL(target ‖ model) ≥ H(target).",
)


# --- teacher forcing: decoder inputs and targets by shifting ----------------------------------------------


def reference_teacher_forcing(sequences: Tensor, padding_id: int) -> tuple[Tensor, Tensor]:
    return sequences[:, :-1], sequences[:, 1:]  # read <s> y_1 .. y_n, predict y_1 .. y_n </s>


def _ignoring_padded_targets(output: object, sequences: Tensor, padding_id: int) -> object:
    """Inputs at positions whose true target is padding are never scored: any input there is right."""
    if isinstance(output, (tuple, list)) and len(output) == 2 and all(isinstance(t, Tensor) for t in output):
        inputs, targets = output
        scored = sequences[:, 1:] != padding_id  # (batch, length - 1): the positions with a real target
        if inputs.shape == scored.shape and not inputs.is_floating_point():
            return inputs.masked_fill(~scored, padding_id), targets
    return output


def _sequences(g: torch.Generator, lengths: list[int], start: int, end: int, padding_id: int) -> Tensor:
    """[<s>, tokens, </s>, padding] rows: ``lengths`` counts the tokens between <s> and </s>."""
    rows = torch.full((len(lengths), max(lengths) + 2), padding_id)
    for row, length in enumerate(lengths):
        rows[row, 0], rows[row, length + 1] = start, end
        rows[row, 1 : length + 1] = torch.randint(4, 20, (length,), generator=g)
    return rows


class _TeacherForcing(Exercise):
    """Teacher forcing, graded on each case's own padding id (inputs over padded targets do not count)."""

    def _run(self, function, case, learner=True):  # noqa: ANN001, ANN202
        output, error, wrote = super()._run(function, case, learner)
        return _ignoring_padded_targets(output, *case.args), error, wrote


def _teacher_cases() -> list[Case]:
    g = torch_generator(6)
    return [
        Case("padding", (_sequences(g, [5, 2, 3], 1, 2, 0), 0)),
        Case("padding_id 3", (_sequences(g, [3, 4], 1, 2, 3), 3)),
        Case("batch of 1, no padding", (_sequences(g, [4], 1, 2, 0), 0)),
        Case("an empty sentence: <s> </s>", (_sequences(g, [0, 3], 1, 2, 0), 0)),
    ]


teacher_forcing = _TeacherForcing(
    "teacher_forcing",
    reference_teacher_forcing,
    _teacher_cases,
    [
        Mistake(
            "the targets equal the inputs: the decoder would learn to copy the token it is given. Shift by one: "
            "inputs = sequences[:, :-1], targets = sequences[:, 1:]",
            lambda s, p: (s, s),
        ),
        Mistake(
            "the targets still start with the start token <s>: the decoder reads <s> and must predict y_1, so "
            "targets = sequences[:, 1:]",
            lambda s, p: (s[:, :-1], s[:, :-1]),
        ),
        Mistake(
            "inputs and targets are swapped: the decoder reads sequences[:, :-1] (from <s>) and predicts "
            "sequences[:, 1:] (up to </s>)",
            lambda s, p: (s[:, 1:], s[:, :-1]),
        ),
        *(
            Mistake(
                "off by one: the inputs keep the last position; drop it (sequences[:, :-1]) so that input t lines "
                "up with target t, the token after it",
                function,
            )
            for function in (lambda s, p: (s, s[:, 1:]), lambda s, p: (s, F.pad(s[:, 1:], (0, 1), value=p)))
        ),
        Mistake(
            "off by one: the targets lost their last position (the longest sentence's </s>); targets = "
            "sequences[:, 1:]",
            lambda s, p: (s[:, :-1], s[:, 1:-1]),
        ),
        *(
            Mistake(
                "shifted by two: the decoder reads position t and predicts position t + 1, the very next token",
                function,
            )
            for function in (lambda s, p: (s[:, :-2], s[:, 2:]), lambda s, p: (s[:, :-1], s[:, 2:]))
        ),
    ],
    names=("inputs", "targets"),
)


# --- the gradient of the label-smoothed loss, by hand -----------------------------------------------------


def reference_smoothed_loss_gradient(logits: Tensor, targets: Tensor, smoothing: float, padding_id: int) -> Tensor:
    """Autograd's gradient of the label-smoothed loss: the reference a gradient derived by hand must equal."""
    with torch.enable_grad():
        leaf = logits.detach().clone().requires_grad_(True)
        (gradient,) = torch.autograd.grad(reference_label_smoothed_loss(leaf, targets, smoothing, padding_id), leaf)
    return gradient  # (batch, seq, K)


def _smoothed_gradient(
    logits: Tensor,
    targets: Tensor,
    smoothing: float,
    padding_id: int,
    *,
    with_smoothing: bool = True,
    sign: float = 1.0,
    count: str = "real",
    zero_padding: bool = True,
    log_probabilities: bool = False,
    others: bool = False,
) -> Tensor:
    """The gradient by hand (default arguments) and, through its switches, the typical mistakes."""
    classes = logits.shape[-1]
    epsilon = smoothing if with_smoothing else 0.0
    if others:  # ε / (K − 1) on the other classes, 1 − ε on the true one
        target = torch.full_like(logits, epsilon / (classes - 1)).scatter(-1, targets[..., None], 1 - epsilon)
    else:
        target = torch.full_like(logits, epsilon / classes)
        target = target.scatter_add(-1, targets[..., None], torch.full_like(logits[..., :1], 1 - epsilon))
    predicted = logits.log_softmax(-1) if log_probabilities else logits.softmax(-1)
    real = targets != padding_id  # (batch, seq)
    gradient = sign * (predicted - target)
    if zero_padding:
        gradient = gradient * real[..., None]
    tokens = {"real": real.sum(), "all": real.numel(), "one": 1}[count]
    return gradient / tokens


def _gradient_cases() -> list[Case]:
    g = torch_generator(7)

    def case(name: str, shape: tuple, classes: int, smoothing: float, padding_id: int, dtype=torch.float32) -> Case:  # noqa: ANN001
        targets = torch.randint(0, classes, shape, generator=g)
        targets[..., -2:] = padding_id
        targets[..., 0] = (padding_id + 1) % classes
        return Case(name, (torch.randn(*shape, classes, generator=g, dtype=dtype) * 2, targets, smoothing, padding_id))

    return [
        case("padding", (2, 5), 6, 0.1, 0),
        case("padding_id 2", (3, 4), 5, 0.2, 2),
        case("batch of 1", (1, 6), 7, 0.1, 0),
        case("no smoothing", (2, 4), 5, 0.0, 0),
        case("float64", (2, 5), 8, 0.3, 0, torch.float64),
    ]


smoothed_loss_gradient = Exercise(
    "smoothed_loss_gradient",
    reference_smoothed_loss_gradient,
    _gradient_cases,
    [
        Mistake(
            "that is the gradient against the one-hot target: with smoothing the target is (1 − ε) · one-hot + ε / K",
            lambda *a: _smoothed_gradient(*a, with_smoothing=False),
        ),
        Mistake(
            "the sign: the gradient of the cross-entropy is softmax(logits) − target (prediction minus target)",
            lambda *a: _smoothed_gradient(*a, sign=-1.0),
        ),
        Mistake(
            "the loss is the mean over the N real tokens: divide by N", lambda *a: _smoothed_gradient(*a, count="one")
        ),
        Mistake(
            "N counts the real tokens only, not the padding: divide by (targets != padding_id).sum()",
            lambda *a: _smoothed_gradient(*a, count="all"),
        ),
        Mistake(
            "padding positions do not count in the loss, so their gradient is 0",
            lambda *a: _smoothed_gradient(*a, zero_padding=False),
        ),
        Mistake(
            "∂/∂z of −Σ_k q_k log softmax(z)_k is softmax(z) − q: probabilities, not log-probabilities",
            lambda *a: _smoothed_gradient(*a, log_probabilities=True),
        ),
        Mistake(
            "the smoothed target puts ε / K on every class, the true one included (ε / (K − 1) on the others is "
            "another variant, not the one of exercise 4)",
            lambda *a: _smoothed_gradient(*a, others=True),
        ),
    ],
    by_hand=True,
)
