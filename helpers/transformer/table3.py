"""Table 3 of Vaswani et al. (2017), "Attention Is All You Need", at a laptop's scale, on the date task.

The paper's Table 3 changes one setting of the base model at a time and reports development-set perplexity
and BLEU, one training run per row. Here each row changes one setting of a small model (section 7's
:data:`~helpers.transformer.experiments.SMALL_SETTINGS`: 1 + 1 layers, d_model 32, 2 heads of
d_k = d_model / h = 16, d_ff 64, no dropout, sinusoidal positions) trained for :data:`TABLE3_STEPS` steps of 32
dates, on training seeds ``range(5)`` (the notebook's task, drawn with seed 0) and ``range(100, 105)`` (a fresh
cut of the task, drawn with seed 100), and compares it with the base model on the same seeds (paired):

- (A) the number of heads h at fixed d_model, so d_k = d_v = d_model / h (1, 2, 4, 8 heads: d_k 32, 16, 8, 4);
- (B) the key size d_k at fixed h = 2 and d_v = 16 (d_k 4 and 8; the queries shrink with the keys);
- (C) model size: N = 2 layers; d_model 16 and 64 at h = 2 (d_k 8 and 32), d_ff kept at 64 as the paper keeps
  it for its d_model rows;
- (D) dropout P_drop = 0.1 (on attention weights, inside the feed-forward, on each sublayer's output and on
  embeddings + positions, §5.4);
- (E) learned positional embeddings instead of the sinusoids of §3.5,
  PE(pos, 2i) = sin(pos / 10000^(2i / d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model)).

The paper's reason for the sinusoids is that they "may allow the model to extrapolate to sequence lengths
longer than the ones encountered during training" (§3.5). Each run is therefore scored on three sets: the
validation days (exact match of the whole ISO date, greedy decoding), the years outside the training range
(``task.other_years``), and the validation days read :data:`OFFSET` positions later (``Translator.translate``'s
``offset``: the source's characters sit behind that many masked padding ids, so the longest texts reach
positions that no training text reached, where a learned table holds only its random initialisation).
"""

from __future__ import annotations

import torch

from helpers.core.evidence import Difference, paired_difference
from helpers.transformer.dates import DateTask
from helpers.transformer.experiments import FORMULA_PEAK, SMALL_SETTINGS, notebook_task, pairs_of
from helpers.transformer.translate import Translator, train_translator

__all__ = [
    "BASE",
    "NOTEBOOK_SEEDS",
    "FRESH_SEEDS",
    "MEASURES",
    "OFFSET",
    "PAPER",
    "TABLE3_ARMS",
    "TABLE3_STEPS",
    "longest_training_source",
    "table3_claims",
    "table3_row",
    "table3_run",
    "train_table3_model",
]

TABLE3_STEPS = 600  # 600 batches of 32 dates: about two thirds of one pass over the 28,046 training days
OFFSET = 8  # positions: the probe of extrapolation reads each validation text 8 positions later
NOTEBOOK_SEEDS, FRESH_SEEDS = range(5), range(100, 105)
BASE = "base: h 2, d_k 16, d_model 32, N 1, dropout 0, sinusoids"
# Each arm's settings on top of SMALL_SETTINGS and the base's learning rate (section 7's baseline, half of
# eq. 3's peak for d_model 32 and 50 warm-up steps), the same for every arm.
TABLE3_ARMS: dict[str, dict[str, object]] = {
    BASE: {},
    "(A) h 1, d_k 32": {"num_heads": 1},
    "(A) h 4, d_k 8": {"num_heads": 4},
    "(A) h 8, d_k 4": {"num_heads": 8},
    "(B) d_k 4": {"d_k": 4},
    "(B) d_k 8": {"d_k": 8},
    "(C) N 2": {"num_layers": 2},
    "(C) d_model 16, d_k 8": {"d_model": 16},
    "(C) d_model 64, d_k 32": {"d_model": 64},
    "(D) dropout 0.1": {"dropout": 0.1},
    "(E) learned positions": {"positional_encoding": "learned"},
}
# Vaswani et al. (2017), Table 3: the row's development-set (newstest2013) perplexity and BLEU, EN-DE; the base
# model (N 6, d_model 512, d_ff 2048, h 8, d_k = d_v 64, P_drop 0.1, ε_ls 0.1, 100k steps) reads 4.92 and 25.8.
PAPER: dict[str, str] = {
    BASE: "base (h 8, d_k 64, N 6, d_model 512, P_drop 0.1, sinusoids): PPL 4.92, BLEU 25.8",
    "(A) h 1, d_k 32": "h 1, d_k 512: PPL 5.29, BLEU 24.9 (-0.9)",
    "(A) h 4, d_k 8": "h 4, d_k 128: PPL 5.00, BLEU 25.5; h 16, d_k 32: 4.91, 25.8",
    "(A) h 8, d_k 4": "h 32, d_k 16: PPL 5.01, BLEU 25.4 (too many heads hurts too)",
    "(B) d_k 4": "d_k 16 (d_v 64): PPL 5.16, BLEU 25.1 (smaller keys hurt)",
    "(B) d_k 8": "d_k 32 (d_v 64): PPL 5.01, BLEU 25.4",
    "(C) N 2": "N 2: PPL 6.11, BLEU 23.7; N 8: 4.88, 25.5 (fewer layers hurt)",
    "(C) d_model 16, d_k 8": "d_model 256, d_k 32: PPL 5.75, BLEU 24.5 (smaller hurts)",
    "(C) d_model 64, d_k 32": "d_model 1024, d_k 128: PPL 4.66, BLEU 26.0 (bigger helps)",
    "(D) dropout 0.1": "P_drop 0.0: PPL 5.77, BLEU 24.6 against the base's 0.1 (dropout helps)",
    "(E) learned positions": "learned embedding: PPL 4.92, BLEU 25.7 ('nearly identical')",
}
MEASURES = ("validation", "other years", f"validation, offset {OFFSET}")


def longest_training_source(task_seed: int) -> int:
    """The most characters of any training text of the first epoch (the last position a learned table trains)."""
    return max(len(text) for text, _, _ in notebook_task(task_seed).training_examples(1))


def train_table3_model(task: DateTask, arm: str, seed: int) -> Translator:
    """The small model with the arm's change, trained for :data:`TABLE3_STEPS` steps of 32 dates of ``task``.

    Every arm sees the same first :data:`TABLE3_STEPS` batches of the task's first epoch (shuffled by ``seed``)
    with the base's schedule: peak FORMULA_PEAK / 2 after 50 warm-up steps, the last 5 checkpoints averaged.
    """
    pairs = pairs_of(task.training_examples(1))[: SMALL_SETTINGS["batch_size"] * TABLE3_STEPS]
    settings = {**SMALL_SETTINGS, "learning_rate": FORMULA_PEAK / 2, **TABLE3_ARMS[arm]}
    return train_translator(pairs, epochs=1, seed=seed, show_progress=False, **settings)


def table3_row(translator: Translator, task: DateTask, arm: str, seed: int) -> dict[str, float | int | str]:
    """The row the benchmark file keeps for one (arm, seed): exact match (greedy) on the task's 1,000 validation
    days, on its 2,000 dates of other years, and on the validation days read :data:`OFFSET` positions later;
    the mean training loss of the last 20 steps; the number of parameters."""
    validation = pairs_of(task.validation)  # (1000 pairs)
    losses = translator.history.steps["loss"][-20:]
    return {
        "arm": arm,
        "seed": seed,
        "validation": translator.exact_match(validation)[0],
        "other years": translator.exact_match(pairs_of(task.other_years))[0],
        f"validation, offset {OFFSET}": translator.exact_match(validation, offset=OFFSET)[0],
        "training loss": sum(losses) / len(losses),
        "parameters": sum(p.numel() for p in translator.model.parameters()),
    }


def table3_run(task_seed: int, arm: str, seed: int) -> dict[str, float | int | str]:
    """One (arm, seed) of the table on the task drawn with ``task_seed``: :func:`train_table3_model`, then
    :func:`table3_row` (what ``benchmarks/transformer_table3.py`` runs for every row)."""
    task = notebook_task(task_seed)
    return table3_row(train_table3_model(task, arm, seed), task, arm, seed)


def table3_claims(rows: list[dict[str, float | int | str]], seeds: range) -> dict[str, Difference]:
    """``{"<measure>, <arm> − base": paired difference over seeds}`` for every arm but the base and measure."""
    by_key = {(row["arm"], int(row["seed"])): row for row in rows}

    def column(arm: str, measure: str) -> torch.Tensor:
        return torch.tensor([float(by_key[arm, seed][measure]) for seed in seeds], dtype=torch.float64)  # (seeds,)

    return {
        f"{measure}, {arm} − base": paired_difference(column(arm, measure), column(BASE, measure))
        for arm in TABLE3_ARMS
        if arm != BASE
        for measure in MEASURES
    }
