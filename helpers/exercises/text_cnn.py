"""Graders for the exercises of notebook 02 (Kim, 2014, "Convolutional Neural Networks for Sentence Classification").

    c_i = ReLU(w · x_{i:i+h-1} + b)        (eq. 2: one feature per window of h words)
    ĉ = max_i c_i                          (eq. 3: max-over-time pooling, over the windows that hold a word)
    ‖w_c‖₂ ≤ s  (s = 3)                     (the max-norm constraint on each class's weight vector)

Padding follows Kim's code: h_max − 1 padding words on each side of a sentence. nn.Conv1d is a
cross-correlation, out[b, o, i] = bias[o] + Σ_c Σ_j weight[o, c, j] · x[b, c, i + j]: one matrix product of the
flattened weights with the flattened windows (``x.unfold``). The last exercise assembles Kim's forward pass
from a model's parts and trains it briefly on a balanced slice of MR (Rotten Tomatoes snippets). The
references are plain PyTorch, written here so that the grader does not depend on the code it grades.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.core import python_random, seed_torch, torch_generator
from helpers.text_cnn.model import TextCNN

from .grading import Case, Exercise, ForbiddenCall, Mistake

__all__ = [
    "apply_max_norm",
    "conv1d_by_unfold",
    "feature_maps",
    "kim_padding",
    "max_over_time",
    "text_cnn_logits",
    "window_has_word",
]


# --- padding ----------------------------------------------------------------------------------------


def reference_kim_padding(ids: Tensor, max_window: int, padding_id: int) -> Tensor:
    return F.pad(ids, (max_window - 1, max_window - 1), value=padding_id)  # (batch, seq + 2 (h_max - 1))


def _padding_cases() -> list[Case]:
    g = torch_generator(0)
    return [
        Case("random", (torch.randint(2, 50, (3, 6), generator=g), 5, 0)),
        Case("padding_id 1", (torch.randint(2, 50, (2, 4), generator=g), 3, 1)),
        Case("batch of 1", (torch.randint(2, 50, (1, 7), generator=g), 4, 0)),
        Case("h_max = 1", (torch.randint(2, 50, (2, 3), generator=g), 1, 0)),
    ]


kim_padding = Exercise(
    "kim_padding",
    reference_kim_padding,
    _padding_cases,
    [
        Mistake(
            "h_max − 1 padding words on each side, not h_max: the first window then starts at the first word",
            lambda ids, h, p: F.pad(ids, (h, h), value=p),
        ),
        Mistake(
            "pad both sides: every word must also be the last word of some window",
            lambda ids, h, p: F.pad(ids, (0, h - 1), value=p),
        ),
        Mistake("pad with padding_id, not with 0", lambda ids, h, p: F.pad(ids, (h - 1, h - 1), value=0)),
        Mistake("h_max − 1 on each side, not in total", lambda ids, h, p: F.pad(ids, ((h - 1) // 2, h // 2), value=p)),
    ],
)


# --- the convolution --------------------------------------------------------------------------------


def reference_feature_maps(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    # conv1d wants (batch, channels = k, seq) and weights (maps, k, h); it slides w without flipping it.
    return F.conv1d(x.transpose(1, 2), weight.transpose(1, 2), bias).relu()  # (batch, maps, seq - h + 1)


def _feature_cases() -> list[Case]:
    g = torch_generator(1)
    r = lambda *shape, dtype=torch.float32: torch.randn(*shape, generator=g, dtype=dtype)  # noqa: E731
    return [
        Case("random", (r(2, 7, 4), r(3, 2, 4), r(3))),
        Case("window = sentence", (r(2, 3, 4), r(2, 3, 4), r(2))),
        Case("batch of 1, h = 1", (r(1, 5, 3), r(4, 1, 3), r(4))),
        Case("float64", (r(2, 6, 5, dtype=torch.float64), r(3, 3, 5, dtype=torch.float64), r(3, dtype=torch.float64))),
    ]


def _no_relu(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    return F.conv1d(x.transpose(1, 2), weight.transpose(1, 2), bias)


feature_maps = Exercise(
    "feature_maps",
    reference_feature_maps,
    _feature_cases,
    [
        Mistake("the ReLU is missing: c_i = ReLU(w · x_{i:i+h-1} + b)", _no_relu),
        Mistake("the bias b is missing", lambda x, w, b: reference_feature_maps(x, w, torch.zeros_like(b))),
        Mistake(
            "the filter runs backwards (a textbook convolution flips it): w's first row meets the window's first word",
            lambda x, w, b: reference_feature_maps(x, w.flip(1), b),
        ),
        Mistake(
            "one window too few: a sentence of n words has n − h + 1 windows of h words",
            lambda x, w, b: reference_feature_maps(x, w, b)[..., :-1],
        ),
    ],
    gradients=True,
)


# --- which windows hold a word ----------------------------------------------------------------------


def reference_window_has_word(is_word: Tensor, window: int) -> Tensor:
    return is_word.unfold(1, window, 1).any(dim=-1)  # (batch, seq - window + 1)


def _window_cases() -> list[Case]:
    padded = torch.tensor([[0, 0, 1, 1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0, 0, 0]], dtype=torch.bool)
    return [
        Case("Kim-padded sentences", (padded, 3)),
        Case("window 1", (padded, 1)),
        Case("batch of 1, every position a word", (torch.ones(1, 5, dtype=torch.bool), 2)),
        Case("wide window", (padded, 5)),
    ]


window_has_word = Exercise(
    "window_has_word",
    reference_window_has_word,
    _window_cases,
    [
        Mistake(
            "one real word is enough: a window holds a word if any of its positions is one (any, not all)",
            lambda w, h: w.unfold(1, h, 1).all(dim=-1),
        ),
        Mistake(
            "one window too few: a row of n positions has n − h + 1 windows",
            lambda w, h: w.unfold(1, h, 1).any(dim=-1)[:, :-1],
        ),
        Mistake(
            "the window starting at position i covers i .. i + h − 1, not i − h + 1 .. i", lambda w, h: w[:, h - 1 :]
        ),
    ],
)


# --- max-over-time pooling --------------------------------------------------------------------------


def reference_max_over_time(features: Tensor, valid: Tensor) -> Tensor:
    blocked = ~valid[:, None, :]  # (batch, 1, windows): broadcast over the feature maps
    return features.masked_fill(blocked, float("-inf")).amax(dim=2)  # (batch, maps)


def _pooling_cases() -> list[Case]:
    g = torch_generator(2)
    features = torch.randn(2, 3, 6, generator=g)
    features[:, :, 4:] = 5.0  # windows of padding only: large values that must not win
    valid = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]], dtype=torch.bool)
    negative = -torch.rand(2, 4, 5, generator=g) - 0.1  # every real feature negative (no ReLU before it)
    negative_valid = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    return [
        Case("padding", (features, valid)),
        Case("negative features", (negative, negative_valid)),
        Case("batch of 1, no padding", (torch.randn(1, 4, 3, generator=g), torch.ones(1, 3, dtype=torch.bool))),
        Case("float64", (features.double(), valid)),
    ]


max_over_time = Exercise(
    "max_over_time",
    reference_max_over_time,
    _pooling_cases,
    [
        Mistake("the mean, not the maximum, over time", lambda f, v: f.mean(dim=2)),
        Mistake(
            "the mean over the real windows, not the maximum",
            lambda f, v: (f * v[:, None]).sum(dim=2) / v.sum(dim=1, keepdim=True),
        ),
        Mistake(
            "padding windows win the max: fill the windows without a word with −inf before the max",
            lambda f, v: f.amax(dim=2),
        ),
        Mistake(
            "filled with 0, a padding window wins when every real feature is negative: fill with −inf",
            lambda f, v: f.masked_fill(~v[:, None], 0.0).amax(dim=2),
        ),
        Mistake(
            "the max is over the feature maps (dim=1); max-over-time is over the windows (dim=2)",
            lambda f, v: f.masked_fill(~v[:, None], float("-inf")).amax(dim=1),
        ),
    ],
    gradients=True,
)


# --- the max-norm constraint ------------------------------------------------------------------------


def reference_max_norm(weight: Tensor, max_norm: float) -> Tensor:
    norms = weight.norm(dim=1, keepdim=True)  # (classes, 1): one norm per class's weight vector
    return weight * (max_norm / norms).clamp(max=1.0)  # only rows longer than s shrink, back to s


def _weight_cases() -> list[Case]:
    g = torch_generator(3)
    mixed = torch.randn(4, 6, generator=g) * torch.tensor([[0.2], [3.0], [0.5], [2.0]])
    with_zero = mixed.clone()
    with_zero[2] = 0.0
    return [
        Case("some rows too long", (mixed, 3.0)),
        Case("a zero row", (with_zero, 3.0)),
        Case("one class", (torch.randn(1, 5, generator=g) * 4, 2.0)),
        Case("float64", (mixed.double(), 1.5)),
    ]


apply_max_norm = Exercise(
    "apply_max_norm",
    reference_max_norm,
    _weight_cases,
    [
        Mistake(
            "rows already shorter than s were stretched: only rows with ‖w‖ > s change",
            lambda w, s: w * s / w.norm(dim=1, keepdim=True).clamp_min(1e-12),
        ),
        Mistake(
            "one norm per class: take the norm of each row (dim=1), not of each column",
            lambda w, s: w * (s / w.norm(dim=0, keepdim=True)).clamp(max=1.0),
        ),
        Mistake(
            "each weight was clipped to ±s; the constraint rescales the whole row, keeping its direction",
            lambda w, s: w.clamp(-s, s),
        ),
    ],
)


# --- the convolution as unfold + one matrix product -----------------------------------------------------


def reference_conv1d_by_unfold(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    return F.conv1d(x, weight, bias)  # (batch, out_channels, length - h + 1): what nn.Conv1d computes


def _unfolded(
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    *,
    position_major: bool = False,
    flip: bool = False,
    use_bias: bool = True,
    relu: bool = False,
    channels_first: bool = True,
) -> Tensor:
    """The convolution as a matrix product (default arguments) and, through its switches, the typical mistakes."""
    out_channels, _, h = weight.shape
    windows = x.unfold(2, h, 1)  # (batch, in_channels, windows, h)
    # Flatten each window in the order weight.reshape(out, in * h) uses: channel-major, then position.
    windows = windows.permute(0, 2, 3, 1) if position_major else windows.permute(0, 2, 1, 3)
    kernel = (weight.flip(2) if flip else weight).reshape(out_channels, -1)  # (out, in * h)
    out = windows.flatten(2) @ kernel.T  # (batch, windows, out)
    if use_bias:
        out = out + bias
    if relu:
        out = out.relu()
    return out.transpose(1, 2) if channels_first else out


def _conv_cases() -> list[Case]:
    g = torch_generator(4)
    r = lambda *shape, dtype=torch.float32: torch.randn(*shape, generator=g, dtype=dtype)  # noqa: E731
    return [
        Case("random", (r(2, 3, 7), r(4, 3, 2), r(4))),
        Case("window = sequence", (r(2, 4, 3), r(2, 4, 3), r(2))),
        Case("h = 1", (r(2, 3, 5), r(3, 3, 1), r(3))),
        Case("batch of 1, width 4", (r(1, 5, 9), r(3, 5, 4), r(3))),
        Case("float64", (r(2, 3, 6, dtype=torch.float64), r(4, 3, 3, dtype=torch.float64), r(4, dtype=torch.float64))),
    ]


conv1d_by_unfold = Exercise(
    "conv1d_by_unfold",
    reference_conv1d_by_unfold,
    _conv_cases,
    [
        Mistake(
            "each window must be flattened in the order of weight.reshape(out_channels, in_channels * h): channel "
            "by channel, then position (permute the unfolded windows to (batch, windows, in_channels, h))",
            lambda x, w, b: _unfolded(x, w, b, position_major=True),
        ),
        Mistake(
            "nn.Conv1d does not flip the filter (it computes a cross-correlation): weight[:, :, j] meets "
            "the window's position j",
            lambda x, w, b: _unfolded(x, w, b, flip=True),
        ),
        Mistake("the bias is missing", lambda x, w, b: _unfolded(x, w, b, use_bias=False)),
        Mistake(
            "nn.Conv1d has no activation: the ReLU comes after it in Kim's model",
            lambda x, w, b: _unfolded(x, w, b, relu=True),
        ),
        Mistake(
            "the result must be in nn.Conv1d's layout (batch, out_channels, windows): transpose(1, 2) the product",
            lambda x, w, b: _unfolded(x, w, b, channels_first=False),
        ),
    ],
    gradients=True,
    forbidden=(torch.conv1d, torch.conv2d, torch.convolution, torch._convolution),
    forbidden_hint="write it as x.unfold and one matrix product: F.conv1d (and nn.Conv1d, which calls it) is the "
    "reference your function is compared with",
)


# --- Kim's forward pass from the parts, then a short training run ----------------------------------------


def _forward(
    ids: Tensor,
    model: TextCNN,
    *,
    mask: bool = True,
    pooling: str = "max",
    relu: bool = True,
    kim_pad: bool = True,
    padding_id: int | None = None,
) -> Tensor:
    """Kim's forward pass (default arguments) and, through its switches, the typical mistakes."""
    padding_id = model.padding_id if padding_id is None else padding_id
    pad = max(model.window_sizes) - 1 if kim_pad else 0
    padded = F.pad(ids, (pad, pad), value=padding_id)  # (batch, seq + 2 (h_max - 1))
    embedded = model.embedding(padded).transpose(1, 2)  # (batch, k, padded seq): Conv1d wants channels first
    is_word = padded != padding_id
    pooled = []
    for h, convolution in zip(model.window_sizes, model.convolutions):
        features = convolution(embedded)  # (batch, maps, windows)
        features = features.relu() if relu else features
        valid = is_word.unfold(1, h, 1).any(dim=-1)  # (batch, windows): windows holding a word
        if pooling == "mean":
            pooled.append((features * valid[:, None]).sum(2) / valid.sum(1, keepdim=True))
        elif mask:
            pooled.append(features.masked_fill(~valid[:, None], float("-inf")).amax(dim=2))
        else:
            pooled.append(features.amax(dim=2))
    return model.classifier(torch.cat(pooled, dim=1))  # (batch, classes); no dropout: evaluation


def reference_text_cnn_logits(ids: Tensor, model: TextCNN) -> Tensor:
    return _forward(ids, model)


_WRITE_IT = "write the forward pass from the model's parts: model(ids) and model.trace are what it is compared with"


class _Parts(TextCNN):
    """Kim's CNN whose own forward pass is not there to call: the learner writes it from the parts."""

    def forward(self, ids: Tensor) -> Tensor:
        raise ForbiddenCall(_WRITE_IT)

    def trace(self, ids: Tensor) -> None:
        raise ForbiddenCall(_WRITE_IT)


def _parts(seed: int, vocabulary_size: int = 30, padding_id: int = 0, dtype: torch.dtype = torch.float32) -> _Parts:
    seed_torch(seed)  # the grader runs inside fork_rng: the learner's stream is not touched
    model = _Parts(vocabulary_size, embedding_dim=6, feature_maps=4, window_sizes=(2, 3), padding_id=padding_id)
    return model.to(dtype).eval()


def _sentences(g: torch.Generator, lengths: list[int], padding_id: int, vocabulary_size: int = 30) -> Tensor:
    ids = torch.randint(2, vocabulary_size, (len(lengths), max(lengths)), generator=g)
    ids[ids == padding_id] = padding_id + 1  # no padding inside a sentence
    for row, length in enumerate(lengths):
        ids[row, length:] = padding_id
    return ids


def _forward_cases() -> list[Case]:
    g = torch_generator(5)
    return [
        Case("padding", (_sentences(g, [7, 3, 5], 0), _parts(0))),
        Case("a sentence shorter than the widest window", (_sentences(g, [1, 4], 0), _parts(1))),
        Case("padding_id 1", (_sentences(g, [5, 2, 6], 1), _parts(2, padding_id=1))),
        Case("batch of 1, no padding", (_sentences(g, [6], 0), _parts(3))),
        Case("float64", (_sentences(g, [4, 8], 0), _parts(4, dtype=torch.float64))),
    ]


@functools.cache
def mr_slice(per_class: int = 1050, train: int = 1500, seed: int = 0) -> dict:
    """A balanced slice of MR: ``per_class`` fresh and rotten snippets, shuffled, the first ``train`` for training.

    Returns ``vocabulary``, ``train`` and ``test`` (lists of id tensors) and ``train_labels``, ``test_labels``.
    """
    from helpers.data.readers import read_rotten_tomatoes
    from helpers.data.text import Vocabulary, tokenize

    draw = python_random(seed)
    rows = read_rotten_tomatoes()
    chosen = [
        (tokens, label)
        for label, category in enumerate(("rotten", "fresh"))
        for tokens in draw.sample([tokenize(row["text"]) for row in rows if row["category"] == category], per_class)
    ]
    chosen = [(tokens, label) for tokens, label in chosen if tokens]
    draw.shuffle(chosen)
    vocabulary = Vocabulary.build([tokens for tokens, _ in chosen[:train]], min_count=1)
    ids = [torch.tensor(vocabulary.encode(tokens)) for tokens, _ in chosen]
    labels = torch.tensor([label for _, label in chosen])
    return {
        "vocabulary": vocabulary,
        "train": ids[:train],
        "train_labels": labels[:train],
        "test": ids[train:],
        "test_labels": labels[train:],
    }


TRAINING = {"embedding_dim": 32, "feature_maps": 16, "epochs": 2, "batch_size": 50, "learning_rate": 0.01}
REQUIRED_ACCURACY = 0.6


def train_on_mr(forward, seed: int = 0) -> float:
    """Train a small Kim CNN whose forward pass is ``forward(ids, model)``; return its test accuracy on MR."""
    from helpers.data.text import pad_batch

    data = mr_slice()
    seed_torch(seed)
    model = _Parts(
        len(data["vocabulary"]), embedding_dim=TRAINING["embedding_dim"], feature_maps=TRAINING["feature_maps"]
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=TRAINING["learning_rate"])
    order = torch_generator(seed)
    for _ in range(TRAINING["epochs"]):
        shuffled = torch.randperm(len(data["train"]), generator=order).tolist()
        for start in range(0, len(shuffled), TRAINING["batch_size"]):
            batch = shuffled[start : start + TRAINING["batch_size"]]
            ids, _ = pad_batch([data["train"][i] for i in batch])
            loss = F.cross_entropy(forward(ids, model), data["train_labels"][batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        ids, _ = pad_batch(data["test"])
        predictions = forward(ids, model).argmax(dim=1)
    return float((predictions == data["test_labels"]).double().mean())


def _training_verdict(forward) -> tuple[bool, str]:
    accuracy, data = train_on_mr(forward), mr_slice()
    positive = float(data["test_labels"].double().mean())
    measured = (
        f"trained with your forward for {TRAINING['epochs']} epochs on {len(data['train']):,} MR snippets, it "
        f"reaches {accuracy:.1%} accuracy on {len(data['test'])} held-out ones ({positive:.0%} of them positive; "
        f"{REQUIRED_ACCURACY:.0%} required)"
    )
    return accuracy >= REQUIRED_ACCURACY, measured


text_cnn_logits = Exercise(
    "text_cnn_logits",
    reference_text_cnn_logits,
    _forward_cases,
    [
        Mistake(
            "padding windows take part in the max: keep only the windows that hold a word (fill the others with "
            "−inf before the max)",
            lambda ids, model: _forward(ids, model, mask=False),
        ),
        Mistake(
            "that is mean pooling over the real windows: Kim keeps each feature map's maximum",
            lambda ids, model: _forward(ids, model, pooling="mean"),
        ),
        Mistake(
            "the ReLU after each convolution is missing: c_i = ReLU(w · x_{i:i+h-1} + b)",
            lambda ids, model: _forward(ids, model, relu=False),
        ),
        Mistake(
            "Kim's padding is missing: pad h_max − 1 padding words on each side before the embedding, so that "
            "a short sentence still fills a window",
            lambda ids, model: _forward(ids, model, kim_pad=False),
        ),
        Mistake(
            "pad with model.padding_id, and find the real words with it, not with 0",
            lambda ids, model: _forward(ids, model, padding_id=0),
        ),
    ],
    gradients=True,
    after_pass=_training_verdict,
)
