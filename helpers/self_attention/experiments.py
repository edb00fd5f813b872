"""Notebook 04's seeded experiments, as functions that the notebook and ``make replicate`` both call.

Each study trains every seed of every arm, returns what the notebook prints and plots, and names its claims
(``helpers.core.evidence``: paired differences under the 3-SE rule, bounds with a 1-SE margin). The data
of a study is drawn from the seeds too (``seeds[0] + 1``, ...), so fresh seeds give fresh data as well.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from helpers.core import check_positive_int, numpy_generator, seed_torch, torch_generator, training_mode
from helpers.core.evidence import Bound, Claim, Replication, Study, paired_difference
from helpers.data.readers import read_rotten_tomatoes
from helpers.data.text import Vocabulary, pad_batch, padded_loader, tokenize
from helpers.self_attention.attention import MultiHeadAttention
from helpers.self_attention.tasks import (
    IGNORE,
    AttentionOnly,
    BagOfWordsTagger,
    SeedStack,
    induction_batch,
    mean_ablated,
    seed_summed_cross_entropy,
)
from helpers.text_cnn.linear_baselines import BagOfWords
from helpers.training import evaluate_classifier, optimizer_step, supervised_step, train

__all__ = [
    "REPLICATION",
    "AttentionPoolingClassifier",
    "InductionStudy",
    "MovieReviewStudy",
    "RetrievalStudy",
    "induction_ablations",
    "induction_study",
    "movie_review_split",
    "order_free_accuracy",
    "movie_review_study",
    "retrieval_study",
]


# --- section 2: does the smaller gradient at the scores slow learning? -----------------------------------


@dataclass
class RetrievalStudy:
    """Per-seed traces ``(seeds, steps)`` of each arm ("scaled", "unscaled"): loss, max weight, gradient, update."""

    traces: dict[str, dict[str, Tensor]]
    steps: int
    claims: dict[str, Claim] = field(default_factory=dict)

    def first_below(self, arm: str, level: float = 0.1) -> Tensor:
        """Per seed: the first step whose loss is under ``level`` (``steps + 1`` if none)."""
        below = self.traces[arm]["loss"] < level
        return torch.where(below.any(dim=1), below.float().argmax(dim=1) + 1, self.steps + 1).double()

    def paired_ratio(self, trace: str, steps: slice = slice(0, 10)) -> Tensor:
        """Per seed: unscaled / scaled, each averaged over ``steps`` (the first 10)."""
        return self.traces["unscaled"][trace][:, steps].mean(dim=1) / self.traces["scaled"][trace][:, steps].mean(dim=1)


def _retrieval_batches(seeds: int, *, d_input: int, keys: int, batch: int, steps: int, data_seed: int) -> list:
    data = torch_generator(data_seed)
    batches = []
    for _ in range(steps):
        key_vectors = torch.randn(seeds, batch, keys, d_input, generator=data)  # (seeds, batch, keys, d): keys = values
        target = torch.randint(keys, (seeds, batch, 1, 1), generator=data).expand(-1, -1, 1, d_input)
        chosen = key_vectors.gather(2, target)  # (seeds, batch, 1, d): the vector to find
        batches.append((key_vectors, chosen + 0.5 * torch.randn(chosen.shape, generator=data), chosen))
    return batches


def _train_retrieval(
    scale: float, seeds: Sequence[int], batches: list, d_input: int, d_wide: int, show_progress: bool
) -> dict[str, Tensor]:
    projections = []
    for seed in seeds:  # W_Q and W_K of each seed, initialised as nn.Linear(d_input, d_wide) initialises
        seed_torch(seed)
        projections.append(torch.stack([nn.Linear(d_input, d_wide, bias=False).weight.T for _ in range(2)]))
    weights = torch.stack(projections).detach().requires_grad_()  # (seeds, 2, d, d_k)
    optimizer = torch.optim.Adam([weights], lr=1e-3)
    trace = {"loss": [], "max weight": [], "gradient": [], "update": []}  # per step, each (seeds,)

    def step(batch: tuple[Tensor, Tensor, Tensor]) -> dict[str, float]:
        keys, query, chosen = batch
        scores = (query @ weights[:, None, 0]) @ (keys @ weights[:, None, 1]).transpose(-2, -1) * scale
        attention = scores.softmax(dim=-1)  # (seeds, batch, 1, keys)
        losses = (attention @ keys - chosen).pow(2).mean(dim=(1, 2, 3))  # (seeds,)
        before = weights.detach().clone()
        optimizer_step(optimizer, losses.sum())  # a sum: each seed gets its own gradient
        trace["loss"].append(losses.detach())
        trace["max weight"].append(attention.detach().amax(dim=-1).mean(dim=(1, 2)))  # how one-hot
        trace["gradient"].append(weights.grad.abs().mean(dim=(1, 2, 3)))  # mean |∂loss/∂W_Q,K|
        trace["update"].append((weights.detach() - before).abs().mean(dim=(1, 2, 3)))  # mean |ΔW_Q,K|
        return {"loss": losses.mean().item()}

    train(step, batches, description=f"scale {scale:.3f}", show_progress=show_progress)
    return {name: torch.stack(values, dim=1) for name, values in trace.items()}  # each (seeds, steps)


def retrieval_study(
    seeds: Sequence[int] = range(10),
    *,
    d_input: int = 32,
    d_wide: int = 512,
    keys: int = 16,
    batch: int = 64,
    steps: int = 200,
    show_progress: bool = False,
) -> RetrievalStudy:
    """One head at d_k = ``d_wide`` finds, among ``keys`` random vectors, the one a noisy query copies.

    Squared error, Adam (lr 1e-3), the seeds trained together on a leading seed axis, the same batches for
    both arms: scaled by 1/√d_k (the paper) and unscaled.
    """
    seeds = list(seeds)
    batches = _retrieval_batches(
        len(seeds), d_input=d_input, keys=keys, batch=batch, steps=steps, data_seed=seeds[0] + 1
    )
    traces = {
        "scaled": _train_retrieval(1 / math.sqrt(d_wide), seeds, batches, d_input, d_wide, show_progress),
        "unscaled": _train_retrieval(1.0, seeds, batches, d_input, d_wide, show_progress),
    }
    study = RetrievalStudy(traces, steps)
    unscaled, scaled = traces["unscaled"]["loss"], traces["scaled"]["loss"]
    for label, step in (("step 1", 0), ("step 50", 49), (f"step {steps}", steps - 1)):
        study.claims[f"retrieval loss, unscaled − scaled, {label}"] = paired_difference(
            unscaled[:, step], scaled[:, step]
        )
    study.claims["retrieval loss, unscaled − scaled, mean over the run"] = paired_difference(
        unscaled.mean(dim=1), scaled.mean(dim=1)
    )
    study.claims["retrieval, first step below 0.1, unscaled − scaled"] = paired_difference(
        study.first_below("unscaled"), study.first_below("scaled")
    )
    study.claims["retrieval, |∂loss/∂W| unscaled / scaled, steps 1-10"] = Bound.of(
        study.paired_ratio("gradient"), above=1
    )
    study.claims["retrieval, |ΔW| per Adam step unscaled / scaled, steps 1-10"] = Bound.of(
        study.paired_ratio("update"), below=1
    )
    return study


# --- section 7: induction --------------------------------------------------------------------------------


@dataclass
class InductionStudy:
    """Test accuracy ``(seeds,)`` of each model on held-out sequences, its curve during training, the two-layer
    model's accuracy under mean ablations, and the trained seed stacks."""

    accuracy: dict[str, Tensor]
    stacks: dict[str, SeedStack]
    models: dict[str, Callable[[], nn.Module]]
    test_tokens: Tensor
    test_targets: Tensor
    chance: float
    curve_steps: list[int]  # the steps after which the held-out accuracy was measured during training
    curves: dict[str, Tensor]  # (len(curve_steps), seeds): each model's held-out accuracy after those steps
    ablated: dict[str, Tensor]  # (seeds,): the two-layer model's accuracy with one head mean-ablated somewhere
    claims: dict[str, Claim] = field(default_factory=dict)


def order_free_accuracy(tokens: Tensor, targets: Tensor, half: int) -> float:
    """The accuracy of the best guess that knows which tokens the sequence holds but not their order.

    An answer is never the sequence's first token (nothing precedes it) and rarely the current token, so
    the guess is uniform over the other ``half - 2`` tokens of the first half; measured on ``tokens`` (a
    sequence with the answer among them scores 1 / (half - 2), any other scores 0).
    """
    answered = targets != IGNORE  # (sequences, 2 half)
    current, first = tokens, tokens[:, :1].expand_as(tokens)
    candidate = (targets != current) & (targets != first)  # the answer is among the guessed tokens
    return float((candidate & answered).sum() / answered.sum()) / (half - 2)


def induction_study(
    seeds: Sequence[int] = range(5),
    *,
    half: int = 8,
    vocabulary_size: int = 16,
    d_model: int = 32,
    steps: int = 300,
    batch: int = 64,
    test_sequences: int = 2000,
    record_every: int = 10,
    show_progress: bool = False,
) -> InductionStudy:
    """Olsson et al. (2022)'s induction task: 2 attention layers against 1, the notes' formula and a bag of words.

    Each model's seeds train together (:class:`helpers.self_attention.tasks.SeedStack`): ``steps`` steps of
    ``batch`` fresh sequences per seed, Adam, lr 3e-3; accuracy over the answers of ``test_sequences`` held out,
    also after every ``record_every`` steps (the curve that shows when the induction head forms). Then the
    two-layer model's heads are mean-ablated (:func:`helpers.self_attention.tasks.mean_ablated`) one at a time,
    at the positions the two-layer mechanism says each one is needed and where it is not.
    """
    seeds = list(seeds)
    task_data = torch_generator(seeds[0] + 1)
    batches = []
    for _ in range(steps):  # one batch per seed per step: (seeds, batch, 2 half)
        tokens, targets = induction_batch(
            len(seeds) * batch, half=half, vocabulary_size=vocabulary_size, generator=task_data
        )
        batches.append((tokens.view(len(seeds), batch, -1), targets.view(len(seeds), batch, -1)))
    test_tokens, test_targets = induction_batch(
        test_sequences, half=half, vocabulary_size=vocabulary_size, generator=torch_generator(seeds[0] + 2)
    )
    length = 2 * half
    models = {
        "2 layers": lambda: AttentionOnly(vocabulary_size, num_layers=2, d_model=d_model, max_length=length),
        "1 layer": lambda: AttentionOnly(vocabulary_size, num_layers=1, d_model=d_model, max_length=length),
        "2 layers, notes' formula": lambda: AttentionOnly(
            vocabulary_size, num_layers=2, d_model=d_model, max_length=length, formula="notes"
        ),
        "bag of words": lambda: BagOfWordsTagger(vocabulary_size, d_model=d_model),
    }
    stacks, accuracy, curves = {}, {}, {}
    answered = test_targets != IGNORE
    curve_steps = list(range(record_every, steps + 1, check_positive_int(record_every, "record_every")))

    def held_out_accuracy(stack: SeedStack) -> Tensor:  # (seeds,)
        stack.shared_inputs = True  # every seed answers the same held-out sequences
        with training_mode(stack, False), torch.no_grad():
            predictions = stack(test_tokens).argmax(dim=-1)  # (seeds, test_sequences, 2 half)
        stack.shared_inputs = False
        return ((predictions == test_targets) & answered).sum(dim=(1, 2)) / answered.sum()

    for name, make_model in models.items():
        stack = SeedStack(make_model, seeds)
        optimizer = torch.optim.Adam(stack.parameters(), lr=3e-3)
        step = supervised_step(stack, optimizer, seed_summed_cross_entropy)
        curve: list[Tensor] = []
        recording_step = _measured_every(step, record_every, partial(held_out_accuracy, stack), curve)
        train(recording_step, batches, description=name, show_progress=show_progress)
        stack.eval()
        accuracy[name] = held_out_accuracy(stack)
        curves[name] = torch.stack(curve)  # (len(curve_steps), seeds)
        stacks[name] = stack
    chance = order_free_accuracy(test_tokens, test_targets, half)
    ablated = _induction_ablations(stacks["2 layers"], models["2 layers"], test_tokens, test_targets, half)
    study = InductionStudy(accuracy, stacks, models, test_tokens, test_targets, chance, curve_steps, curves, ablated)
    for other in ("1 layer", "2 layers, notes' formula", "bag of words"):
        study.claims[f"induction accuracy, 2 layers − {other}"] = paired_difference(
            accuracy["2 layers"], accuracy[other]
        )
    for name in ("1 layer", "2 layers, notes' formula", "bag of words"):
        study.claims[f"induction accuracy, {name} − order-free guess"] = paired_difference(
            accuracy[name], torch.full_like(accuracy[name], chance)
        )
    study.claims["induction accuracy, 2 layers"] = Bound.of(accuracy["2 layers"], above=0.95)
    for arm in ("layer 1, at the keys layer 2 reads", "layer 2, every position"):
        study.claims[f"induction accuracy, 2 layers − {arm} mean-ablated"] = paired_difference(
            accuracy["2 layers"], ablated[arm]
        )
        study.claims[f"induction accuracy, {arm} mean-ablated − 1 layer"] = paired_difference(
            ablated[arm], accuracy["1 layer"]
        )
        study.claims[f"induction accuracy, {arm} mean-ablated"] = Bound.of(ablated[arm], below=0.35)
    study.claims["induction accuracy lost, layer 1 at the other positions mean-ablated"] = Bound.of(
        accuracy["2 layers"] - ablated["layer 1, at the other positions"], below=0.05
    )
    return study


def _measured_every(step: Callable, every: int, measure: Callable[[], Tensor], into: list[Tensor]) -> Callable:
    """``step``, with ``measure()`` appended to ``into`` after every ``every`` calls. The measurement draws no
    random numbers and leaves the model's mode as it found it, so the training is the same with or without it."""
    calls = 0

    def measured_step(batch: object) -> object:
        nonlocal calls
        metrics = step(batch)
        calls += 1
        if calls % every == 0:
            into.append(measure())
        return metrics

    return measured_step


def induction_ablations(half: int) -> dict[str, tuple[int, slice]]:
    """Each mean ablation of the two-layer model: arm -> (layer, query positions), for sequences of 2 × ``half``.

    Layer 2 reads the answer at the key 1 + the earlier occurrence of the current token, which is always in the
    first half (0 .. half - 1): so the keys it reads are positions 1 .. half, and layer 1's output anywhere else
    is never such a key.
    """
    return {
        "layer 1, every position": (0, slice(None)),
        "layer 1, at the keys layer 2 reads": (0, slice(1, half + 1)),
        "layer 1, at the other positions": (0, slice(half + 1, 2 * half)),
        "layer 2, every position": (1, slice(None)),
    }


def _induction_ablations(
    stack: SeedStack, make_model: Callable[[], nn.Module], tokens: Tensor, targets: Tensor, half: int
) -> dict[str, Tensor]:
    """Held-out accuracy ``(seeds,)`` of each copy of the two-layer model under each mean ablation."""
    answered = targets != IGNORE
    arms = induction_ablations(half)
    ablated = {arm: [] for arm in arms}
    for index in range(len(stack.seeds)):
        model = stack.copy_of(index, make_model).eval()
        for arm, (layer, positions) in arms.items():
            with mean_ablated(model, layer, positions), torch.no_grad():
                correct = (model(tokens).argmax(dim=-1) == targets) & answered
            ablated[arm].append(correct.sum() / answered.sum())
    return {arm: torch.stack(values) for arm, values in ablated.items()}


# --- section 8: attention pooling on movie reviews ------------------------------------------------------


class AttentionPoolingClassifier(nn.Module):
    """Words -> embeddings -> one learned query attends over them (multi-head) -> linear -> 2 logits.

    With one query and no positions this is a weighted bag of words, the weights chosen per sentence.
    """

    def __init__(
        self, vocabulary_size: int, d_model: int = 32, num_heads: int = 4, dropout: float = 0.3, padding_id: int = 0
    ):
        super().__init__()
        self.padding_id = padding_id
        self.embedding = nn.Embedding(vocabulary_size, d_model, padding_idx=padding_id)
        self.query = nn.Parameter(torch.randn(1, 1, d_model))  # "which words carry the verdict?"
        self.attention = MultiHeadAttention(d_model, num_heads)
        self.dropout = nn.Dropout(dropout)
        self.classify = nn.Linear(d_model, 2)

    def forward(self, ids: Tensor, return_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        words = self.dropout(self.embedding(ids))  # (batch, seq, d_model)
        query = self.query.expand(ids.size(0), 1, -1)  # (batch, 1, d_model)
        real_words = (ids != self.padding_id)[:, None, None, :]  # (batch, 1, 1, seq): padding found by value
        pooled, weights = self.attention(query, words, words, real_words)
        logits = self.classify(self.dropout(pooled[:, 0]))  # (batch, 2)
        return (logits, weights[:, :, 0]) if return_weights else logits  # weights (batch, heads, seq)


@dataclass
class MovieReviewSplit:
    """The MR snippets: each distinct one once, a stratified 80/10/10 split, the training part's vocabulary."""

    sentences: list[list[str]]
    labels: np.ndarray
    parts: dict[str, list[int]]
    vocabulary: Vocabulary
    encoded: dict[str, list[list[int]]]
    targets: dict[str, Tensor]


def movie_review_split(split_seed: int = 0) -> MovieReviewSplit:
    """The MR snippets (plot summaries dropped, each distinct sentence once), split 80/10/10 per class."""
    sentences, labels, seen = [], [], set()
    for row in read_rotten_tomatoes():
        words = tokenize(row["text"])
        if row["category"] == "plot" or not words or " ".join(words) in seen:
            continue
        seen.add(" ".join(words))
        sentences.append(words)
        labels.append(1 if row["category"] == "fresh" else 0)
    labels = np.array(labels)
    split_rng = numpy_generator(split_seed)
    parts = {"train": [], "validation": [], "test": []}
    for label in (0, 1):
        members = split_rng.permutation(np.flatnonzero(labels == label))
        cut_1, cut_2 = int(0.8 * len(members)), int(0.9 * len(members))
        for name, chosen in zip(parts, np.split(members, [cut_1, cut_2])):
            parts[name] += chosen.tolist()
    parts = {name: sorted(indices) for name, indices in parts.items()}
    vocabulary = Vocabulary.build([sentences[i] for i in parts["train"]], min_count=2)
    encoded = {name: [vocabulary.encode(sentences[i]) for i in indices] for name, indices in parts.items()}
    targets = {name: torch.from_numpy(labels[indices]) for name, indices in parts.items()}
    return MovieReviewSplit(sentences, labels, parts, vocabulary, encoded, targets)


@dataclass
class MovieReviewStudy:
    split: MovieReviewSplit
    models: dict[str, tuple[Callable[[], nn.Module], float, int]]
    trained: dict[str, list[nn.Module]]
    accuracy: dict[str, list[float]]
    majority: float
    lexicon: list[str]
    log_odds: dict[str, float]
    trained_ratio: list[float]
    untrained_ratio: list[float]
    claims: dict[str, Claim] = field(default_factory=dict)


def _lexicon(split: MovieReviewSplit, size: int = 60, least: int = 20) -> tuple[list[str], dict[str, float]]:
    """The ``size`` words (seen ``least`` times in training) whose fresh/rotten share is most lopsided."""
    word_counts = {label: Counter() for label in (0, 1)}
    for i in split.parts["train"]:
        word_counts[int(split.labels[i])].update(split.sentences[i])
    totals = {label: sum(counts.values()) for label, counts in word_counts.items()}
    log_odds = {
        word: math.log((word_counts[1][word] + 1) / totals[1]) - math.log((word_counts[0][word] + 1) / totals[0])
        for word in split.vocabulary.tokens
        if word_counts[0][word] + word_counts[1][word] >= least
    }
    return sorted(log_odds, key=lambda word: -abs(log_odds[word]))[:size], log_odds


def movie_review_study(seeds: Sequence[int] = range(10), *, show_progress: bool = False) -> MovieReviewStudy:
    """Attention pooling against the course's bag of words on notebook 02's split, ``seeds`` each.

    Both: Adam, up to 5 epochs, early stopping on validation accuracy (patience 1, best weights kept). Seed s
    sets the initial weights, the dropout masks and the order of the batches; the split is ``seeds[0]``'s.
    Then the weight the trained and the untrained heads give to the most polar words of the training labels.
    """
    seeds = list(seeds)
    split = movie_review_split(seeds[0])
    vocabulary_size = len(split.vocabulary)
    test_ids, _ = pad_batch(split.encoded["test"])  # (test sentences, longest)
    models = {  # name: (model, learning rate, batch size)
        "attention pooling": (lambda: AttentionPoolingClassifier(vocabulary_size), 1e-2, 100),
        "bag of words": (lambda: BagOfWords(vocabulary_size), 1e-2, 50),  # logistic regression on word counts
    }
    validation_batches = padded_loader(split.encoded["validation"], split.targets["validation"], batch_size=500)
    trained, accuracy = {name: [] for name in models}, {name: [] for name in models}
    for name, (make_model, learning_rate, batch_size) in models.items():
        for seed in seeds:
            seed_torch(seed)
            model = make_model()
            loader = padded_loader(
                split.encoded["train"],
                split.targets["train"],
                batch_size=batch_size,
                shuffle=True,
                generator=torch_generator(seed),
            )
            optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
            train(
                supervised_step(model, optimizer, F.cross_entropy),
                loader,
                5,
                description=f"{name}, seed {seed}",
                evaluate=lambda model=model: evaluate_classifier(model, validation_batches, prefix="val_"),
                model=model,
                monitor="val_accuracy",
                patience=1,
                show_progress=show_progress,
            )
            with torch.no_grad():
                predictions = model.eval()(test_ids).argmax(dim=-1)
            accuracy[name].append((predictions == split.targets["test"]).float().mean().item())
            trained[name].append(model)
    majority = split.targets["test"].float().mean().item()

    lexicon, log_odds = _lexicon(split)
    in_lexicon = torch.tensor([token in set(lexicon) for token in split.vocabulary.tokens])  # (vocabulary,) by id
    sentiment = in_lexicon[test_ids]  # (sentences, seq)
    has_sentiment = sentiment.any(dim=1)
    fair_share = sentiment.sum(dim=1) / (test_ids != 0).sum(dim=1)  # (sentences,)

    def weight_on_sentiment(
        model: nn.Module,
    ) -> float:  # mean over sentences and heads: weight on the list / fair share
        with torch.no_grad():
            _, weights = model.eval()(test_ids, return_weights=True)  # (sentences, heads, seq)
        on_list = (weights * sentiment[:, None]).sum(dim=-1)  # (sentences, heads)
        return (on_list[has_sentiment] / fair_share[has_sentiment, None]).mean().item()

    trained_ratio, untrained_ratio = [], []
    for index, seed in enumerate(seeds):  # index: the place of the seed in trained
        trained_ratio.append(weight_on_sentiment(trained["attention pooling"][index]))
        seed_torch(seed)  # the same initial weights as that seed had before training
        untrained_ratio.append(weight_on_sentiment(models["attention pooling"][0]()))
    study = MovieReviewStudy(
        split, models, trained, accuracy, majority, lexicon, log_odds, trained_ratio, untrained_ratio
    )
    study.claims["MR test accuracy, attention pooling − bag of words"] = paired_difference(
        accuracy["attention pooling"], accuracy["bag of words"]
    )
    study.claims["MR test accuracy, attention pooling − (majority + 0.1)"] = Bound.of(
        accuracy["attention pooling"], above=majority + 0.1
    )
    study.claims["MR weight on polar words / fair share, trained − untrained"] = paired_difference(
        trained_ratio, untrained_ratio
    )
    return study


REPLICATION = Replication(
    "04_self_attention.ipynb",
    notebook_seeds=range(5),
    fresh_seeds=range(100, 105),
    studies=[
        Study("retrieval", lambda seeds: retrieval_study(seeds).claims, range(10), range(100, 110)),
        Study("induction", lambda seeds: induction_study(seeds).claims),
        Study("movie reviews", lambda seeds: movie_review_study(seeds).claims, range(10), range(100, 110)),
    ],
)
