"""Notebook 05's seeded experiments, as functions that the notebook and ``make replicate`` both call.

Vaswani et al. (2017), *Attention Is All You Need*, at a laptop's scale, on the date task of
:mod:`helpers.transformer.dates`. Two studies compare arms over training seeds, paired by seed
(``helpers.core.evidence``: a direction at ≥ 3 SE, a bound with a 1-SE margin):

- :func:`ablation_study` (section 7): a small Transformer with one ingredient changed at a time: no positional
  encoding (§3.5), pre-norm against the paper's post-norm (§3.1), with and without the warm-up of the
  learning-rate schedule lr = d_model^-0.5 · min(step^-0.5, step · warmup^-1.5) (§5.3, eq. 3) at the formula's
  peak and 3 times it, no label smoothing (§5.4), the average of the last 5 checkpoints (§6.1) against the
  last weights; and whether an order-blind encoder, or one with positions, tells apart two dates that differ
  only by swapping day and month.
- :func:`first_epoch_study` (section 8): the notebook's main Transformer against a GRU encoder-decoder with
  additive attention (Bahdanau et al., 2015), each after one epoch of the same batches.

The task of a study is drawn with the first of its seeds (``notebook_task(seeds[0])``): the notebook's seeds
0-4 train on the notebook's own task (seed 0), the fresh seeds 100-104 on a fresh cut of days and formats.
Each run is one process of one thread (:func:`helpers.training.workers.map_in_processes`), so the results do
not depend on the number of workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import torch
from torch import Tensor

from helpers.core.evidence import Bound, Claim, Replication, Study, paired_difference
from helpers.training.workers import map_in_processes
from helpers.transformer.dates import DATE_FORMATS, DateTask, date_task, format_date
from helpers.transformer.recurrent import GRUTranslator
from helpers.transformer.translate import Pair, Translator, train_translator

__all__ = [
    "ABLATION_STEPS",
    "BASELINE",
    "FORMULA_PEAK",
    "MAIN_SETTINGS",
    "REPLICATION",
    "SMALL_SETTINGS",
    "TASK",
    "TWO_DIGIT_FORMATS",
    "AblationRun",
    "AblationStudy",
    "FirstEpochStudy",
    "ablation_arms",
    "ablation_study",
    "exact_by_year",
    "first_epoch_claims",
    "first_epoch_study",
    "make_gru",
    "notebook_task",
    "pairs_of",
    "swap_measures",
    "swapped_dates",
    "train_first_epoch",
]

# The notebook's task (section 1) and main model (section 4: 2 + 2 layers, d_model 64, 4 heads, d_ff 256).
TASK = {
    "held_out_formats": ["fr_FR medium", "ko_KR short"],
    "years": (1975, 2059),
    "validation": 1000,
    "test": 2000,
    "other_years": 2000,
}
MAIN_SETTINGS = {
    "num_layers": 2,
    "d_model": 64,
    "num_heads": 4,
    "d_ff": 256,
    "dropout": 0.0,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "warmup": 400,
    "label_smoothing": 0.1,
    "checkpoint_every": 100,
    "average_last": 5,
}
# Section 7's small model: 1 + 1 layers, d_model 32, 2 heads of d_k = 16 (as the main model's), d_ff 64.
SMALL_SETTINGS = {
    "num_layers": 1,
    "d_model": 32,
    "num_heads": 2,
    "d_ff": 64,
    "dropout": 0.0,
    "batch_size": 32,
    "warmup": 50,
    "checkpoint_every": 10,
    "average_last": 5,
}
ABLATION_STEPS = 150  # one pass over 150 batches of 32 dates
PROBE_SIZE = 300  # the first 300 validation dates score each ablation run
FORMULA_PEAK = SMALL_SETTINGS["d_model"] ** -0.5 * SMALL_SETTINGS["warmup"] ** -0.5  # eq. 3 at step = warmup
BASELINE = f"baseline (post-norm, warm-up, lr {FORMULA_PEAK / 2:.4f})"
TWO_DIGIT_FORMATS = frozenset(
    name for name, pattern in DATE_FORMATS.items() if "yy" in pattern and "yyy" not in pattern
)  # the years 69-99 are read as 19xx, 00-68 as 20xx
SWAP_YEARS, SWAP_FORMAT = (1981, 1999, 2024), "de_DE short"


def notebook_task(seed: int = 0) -> DateTask:
    """The notebook's cut of the date task (held-out days, formats and years), drawn with ``seed``."""
    return date_task(**TASK, seed=seed)


def pairs_of(examples: Sequence[tuple[str, str, str]]) -> list[Pair]:
    """(text, ISO date, format) triples -> the (source, target) pairs the translator trains on."""
    return [(text, iso) for text, iso, _ in examples]


def exact_by_year(
    examples: Sequence[tuple[str, str, str]], outputs: Sequence[str], years: Sequence[int], *, two_digit: bool
) -> dict[int, tuple[int, int]]:
    """``{year: (right, of)}``: exact matches among the examples of each year, in two- or four-digit formats."""
    counts = {year: [0, 0] for year in years}
    for (_, iso, form), out in zip(examples, outputs, strict=True):
        year = int(iso[:4])
        if year in counts and (form in TWO_DIGIT_FORMATS) == two_digit:
            counts[year][0] += out == iso
            counts[year][1] += 1
    return {year: (right, of) for year, (right, of) in counts.items()}


# --- section 7: ablations of a small model over seeds ---------------------------------------------------


def ablation_arms() -> dict[str, dict[str, object]]:
    """Each arm's settings on top of :data:`SMALL_SETTINGS`; the first is the baseline (half the formula's peak)."""
    arms: dict[str, dict[str, object]] = {
        BASELINE: {"learning_rate": FORMULA_PEAK / 2},
        "no positional encoding": {"learning_rate": FORMULA_PEAK / 2, "positional_encoding": False},
        "no label smoothing": {"learning_rate": FORMULA_PEAK / 2, "label_smoothing": 0.0},
    }
    for factor in (1, 3):
        for norm_first in (False, True):
            for ramp in (True, False):
                norm, warm = "pre" if norm_first else "post", "warm-up" if ramp else "no warm-up"
                label = f"{norm}-norm, {warm}, lr {factor}x peak"
                arms[label] = {"learning_rate": factor * FORMULA_PEAK, "norm_first": norm_first, "ramp": ramp}
    return arms


def swapped_dates(years: Sequence[int] = SWAP_YEARS) -> list[tuple[date, date]]:
    """Pairs of dates that differ only by swapping day and month (both ≤ 12), each pair once (day < month)."""
    return [
        (date(year, month, day), date(year, day, month))
        for year in years
        for month in range(1, 13)
        for day in range(1, month)
    ]


def swap_measures(translator: Translator, pairs: Sequence[tuple[date, date]] | None = None) -> dict[str, float]:
    """Both dates of each swapped pair written as ``de_DE short`` ("05.03.99", "03.05.99") and translated.

    ``same``: the share of pairs given one answer for both (then at most one is right); ``both right``: the
    share with both dates read exactly.
    """
    pairs = swapped_dates() if pairs is None else pairs
    texts = [format_date(a, SWAP_FORMAT) for a, _ in pairs] + [format_date(b, SWAP_FORMAT) for _, b in pairs]
    outputs = translator.translate(texts)
    first, second = outputs[: len(pairs)], outputs[len(pairs) :]
    same = sum(f == s for f, s in zip(first, second)) / len(pairs)
    both = sum(f == a.isoformat() and s == b.isoformat() for f, s, (a, b) in zip(first, second, pairs)) / len(pairs)
    return {"same": same, "both right": both}


@dataclass
class AblationRun:
    """What one (arm, seed) run measured: exact match on the probe, the last 20 steps' training loss, ..."""

    exact: float
    loss: float
    last_weights_exact: float  # exact match of the weights before checkpoint averaging
    swap: dict[str, float]


def _ablation_run(task_seed: int, label: str, seed: int) -> AblationRun:
    task = notebook_task(task_seed)
    pairs = pairs_of(task.training_examples(1))[: SMALL_SETTINGS["batch_size"] * ABLATION_STEPS]
    probe = pairs_of(task.validation[:PROBE_SIZE])
    translator = train_translator(
        pairs, epochs=1, seed=seed, show_progress=False, **SMALL_SETTINGS, **ablation_arms()[label]
    )
    losses = translator.history.steps["loss"][-20:]
    last = translator.with_weights(translator.last_weights)
    return AblationRun(
        exact=translator.exact_match(probe)[0],
        loss=sum(losses) / len(losses),
        last_weights_exact=last.exact_match(probe)[0],
        swap=swap_measures(translator),
    )


@dataclass
class AblationStudy:
    """Every (arm, seed) run of section 7, and the claims they support."""

    seeds: list[int]
    arms: dict[str, dict[str, object]]
    runs: dict[tuple[str, int], AblationRun]
    claims: dict[str, Claim] = field(default_factory=dict)

    def exact(self, arm: str) -> Tensor:
        """Exact match on the probe, one per seed ``(seeds,)``."""
        return torch.tensor([self.runs[arm, seed].exact for seed in self.seeds], dtype=torch.float64)

    def loss(self, arm: str) -> Tensor:
        """Mean training loss of the last 20 steps, one per seed."""
        return torch.tensor([self.runs[arm, seed].loss for seed in self.seeds], dtype=torch.float64)

    def last_weights_exact(self, arm: str = BASELINE) -> Tensor:
        return torch.tensor([self.runs[arm, seed].last_weights_exact for seed in self.seeds], dtype=torch.float64)

    def swap(self, arm: str, measure: str) -> Tensor:
        """``same`` or ``both right`` (:func:`swap_measures`), one per seed."""
        return torch.tensor([self.runs[arm, seed].swap[measure] for seed in self.seeds], dtype=torch.float64)


def ablation_study(seeds: Sequence[int] = range(5), *, workers: int = 2) -> AblationStudy:
    """Section 7: each arm of :func:`ablation_arms` trained on every seed, scored on the same probe.

    Every run sees the same 150 batches of the task's first epoch (shuffled by its seed) and is scored on the
    first 300 validation dates with greedy decoding and the averaged checkpoints.
    """
    seeds, arms = list(seeds), ablation_arms()
    jobs = [(seeds[0], label, seed) for label in arms for seed in seeds]
    results = map_in_processes(_ablation_run, jobs, workers=workers, description="ablation runs")
    study = AblationStudy(seeds, arms, {(label, seed): run for (_, label, seed), run in zip(jobs, results)})
    baseline = study.exact(BASELINE)
    for arm in list(arms)[1:]:
        study.claims[f"exact match, {arm} − baseline"] = paired_difference(study.exact(arm), baseline)
    for norm in ("post", "pre"):
        study.claims[f"exact match, {norm}-norm at 1x peak, warm-up − no warm-up"] = paired_difference(
            study.exact(f"{norm}-norm, warm-up, lr 1x peak"), study.exact(f"{norm}-norm, no warm-up, lr 1x peak")
        )
    for warm in ("warm-up", "no warm-up"):
        study.claims[f"exact match, pre-norm − post-norm, {warm}, 1x peak"] = paired_difference(
            study.exact(f"pre-norm, {warm}, lr 1x peak"), study.exact(f"post-norm, {warm}, lr 1x peak")
        )
    best_at_3x = torch.stack([study.exact(arm) for arm in arms if arm.endswith("3x peak")]).amax(dim=0)
    study.claims["exact match at 3x peak, best of the four arms"] = Bound.of(best_at_3x, below=0.05)
    study.claims["exact match, averaged last 5 checkpoints − last weights (baseline)"] = paired_difference(
        baseline, study.last_weights_exact()
    )
    study.claims["swapped day and month answered differently, baseline − no positional encoding"] = paired_difference(
        1 - study.swap(BASELINE, "same"), 1 - study.swap("no positional encoding", "same")
    )
    return study


# --- section 8: the GRU baseline against the Transformer after one epoch --------------------------------


def make_gru(source_vocabulary_size: int, target_vocabulary_size: int) -> GRUTranslator:
    """Section 8's GRU encoder-decoder with additive attention, of about the main Transformer's size."""
    return GRUTranslator(source_vocabulary_size, target_vocabulary_size, embedding_dim=64, hidden_size=96)


FIRST_EPOCH_MODELS = ("Transformer", "GRU")


def train_first_epoch(
    task: DateTask, model: str, seed: int, *, device: torch.device | str | None = None, show_progress: bool = False
) -> Translator:
    """One epoch of the task with :data:`MAIN_SETTINGS` (the Transformer's schedule, for both models).

    Its ``history.epochs["val_exact"][0]`` is the validation exact match after that epoch: for the Transformer,
    the same number as after the first of three epochs (the schedule does not depend on the run's length).
    """
    if model not in FIRST_EPOCH_MODELS:
        raise ValueError(f"model must be one of {FIRST_EPOCH_MODELS}, got {model!r}")
    return train_translator(
        lambda epoch: pairs_of(task.training_examples(epoch)),
        validation=pairs_of(task.validation),
        epochs=1,
        seed=seed,
        **MAIN_SETTINGS,
        make_model=make_gru if model == "GRU" else None,
        show_progress=show_progress,
        device=device,
    )


def _first_epoch_exact(task_seed: int, model: str, seed: int) -> float:
    return train_first_epoch(notebook_task(task_seed), model, seed).history.epochs["val_exact"][0]


def first_epoch_claims(transformer: Sequence[float], gru: Sequence[float]) -> dict[str, Claim]:
    """The comparison of section 8 from per-seed validation exact matches after one epoch."""
    return {"validation exact match after one epoch, GRU − Transformer": paired_difference(gru, transformer)}


@dataclass
class FirstEpochStudy:
    """Validation exact match after one epoch, per seed ``(seeds,)``, of each model."""

    seeds: list[int]
    transformer: Tensor
    gru: Tensor
    claims: dict[str, Claim] = field(default_factory=dict)


def first_epoch_study(seeds: Sequence[int] = range(5), *, workers: int = 2) -> FirstEpochStudy:
    """Section 8: the main Transformer and the GRU, one epoch each, on every seed (what the benchmark file holds)."""
    seeds = list(seeds)
    jobs = [(seeds[0], model, seed) for seed in seeds for model in FIRST_EPOCH_MODELS]
    results = map_in_processes(_first_epoch_exact, jobs, workers=workers, description="first epochs")
    scores = {(model, seed): value for (_, model, seed), value in zip(jobs, results)}
    transformer, gru = (
        torch.tensor([scores[model, seed] for seed in seeds], dtype=torch.float64) for model in FIRST_EPOCH_MODELS
    )
    return FirstEpochStudy(seeds, transformer, gru, first_epoch_claims(transformer, gru))


REPLICATION = Replication(
    "05_transformer.ipynb",
    notebook_seeds=range(5),
    fresh_seeds=range(100, 105),
    studies=[
        Study("ablations", lambda seeds: ablation_study(seeds).claims),
        Study("GRU against Transformer, one epoch", lambda seeds: first_epoch_study(seeds).claims),
    ],
)
