"""helpers.transformer.experiments: notebook 05's studies, as make replicate registers them (cheap parts only)."""

from __future__ import annotations

import pytest
import torch

from helpers.data.text import Vocabulary
from helpers.transformer.dates import format_date
from helpers.transformer.experiments import (
    BASELINE,
    FORMULA_PEAK,
    REPLICATION,
    SWAP_FORMAT,
    TWO_DIGIT_FORMATS,
    ablation_arms,
    exact_by_year,
    first_epoch_claims,
    notebook_task,
    swap_measures,
    swapped_dates,
    train_first_epoch,
)
from helpers.transformer.learning_curves import (
    LEARNING_RATES,
    MODELS,
    REACH,
    TUNING_SEEDS,
    arm_curves,
    curve_claims,
    ranked_learning_rates,
    steps_to_reach,
    steps_to_stay,
    tuned_learning_rates,
)
from helpers.transformer.model import Transformer
from helpers.transformer.translate import PADDING_ID, SPECIALS, Translator


def test_the_arms_start_with_the_baseline_at_half_the_formulas_peak() -> None:
    arms = ablation_arms()
    assert next(iter(arms)) == BASELINE and len(arms) == 11
    assert arms[BASELINE] == {"learning_rate": FORMULA_PEAK / 2}
    assert FORMULA_PEAK == pytest.approx(32**-0.5 * 50**-0.5)
    assert arms["pre-norm, no warm-up, lr 3x peak"] == {
        "learning_rate": 3 * FORMULA_PEAK,
        "norm_first": True,
        "ramp": False,
    }


def test_swapped_dates_differ_only_by_day_and_month() -> None:
    pairs = swapped_dates()
    assert len(pairs) == 3 * 12 * 11 // 2
    for a, b in pairs:
        assert (a.year, a.month, a.day) == (b.year, b.day, b.month) and a != b
    texts = {format_date(a, SWAP_FORMAT) for pair in pairs for a in pair}
    assert len(texts) == 2 * len(pairs)  # every date is written differently


def test_an_order_blind_model_answers_swapped_dates_alike_untrained() -> None:
    """The tautology notebook 05 demonstrates: without positions, "05.03.99" and "03.05.99" look the same."""
    pairs = swapped_dates((1999,))
    sources = Vocabulary.build([list(format_date(a, SWAP_FORMAT)) for pair in pairs for a in pair], specials=SPECIALS)
    targets = Vocabulary.build([list(a.isoformat()) for pair in pairs for a in pair], specials=SPECIALS)
    torch.manual_seed(0)
    model = Transformer(
        len(sources), len(targets), num_layers=1, d_model=32, num_heads=2, d_ff=64, dropout=0.0,
        padding_id=PADDING_ID, positional_encoding=False,
    )  # fmt: skip
    measured = swap_measures(Translator(model, sources, targets, 11), pairs)
    assert measured["same"] == 1.0 and measured["both right"] == 0.0


def test_exact_by_year_counts_each_year_in_the_chosen_formats() -> None:
    examples = [
        ("1969/01/02", "1969-01-02", "ja_JP medium"),
        ("1970/01/02", "1970-01-02", "ja_JP medium"),
        ("1970/01/03", "1970-01-03", "ja_JP medium"),
        ("2.1.69", "1969-01-02", "de_DE short"),
    ]
    outputs = ["1999-01-02", "1970-01-02", "1970-01-03", "1969-01-02"]
    assert "de_DE short" in TWO_DIGIT_FORMATS and "ja_JP medium" not in TWO_DIGIT_FORMATS
    assert exact_by_year(examples, outputs, range(1969, 1971), two_digit=False) == {1969: (0, 1), 1970: (2, 2)}
    assert exact_by_year(examples, outputs, range(1969, 1971), two_digit=True) == {1969: (1, 1), 1970: (0, 0)}


def test_first_epoch_claims_are_gru_minus_transformer() -> None:
    claims = first_epoch_claims([0.6, 0.7, 0.8], [0.9, 1.0, 1.0])
    claim = claims["validation exact match after one epoch, GRU − Transformer"]
    assert claim.mean == pytest.approx(0.8 / 3) and claim.direction == 1


def test_train_first_epoch_names_the_models_it_knows() -> None:
    with pytest.raises(ValueError, match="Transformer"):
        train_first_epoch(notebook_task(0), "LSTM", 0)


def test_the_fresh_seeds_draw_a_fresh_task() -> None:
    assert notebook_task(0).validation != notebook_task(100).validation


def test_registration() -> None:
    assert REPLICATION.notebook == "05_transformer.ipynb"
    assert list(REPLICATION.notebook_seeds) == list(range(5))
    assert list(REPLICATION.fresh_seeds) == list(range(100, 105))
    assert [study.name for study in REPLICATION.studies] == ["ablations", "GRU against Transformer, one epoch"]


def test_table3_changes_one_setting_per_row_and_pairs_each_row_with_the_base_by_seed() -> None:
    from helpers.transformer.experiments import SMALL_SETTINGS
    from helpers.transformer.table3 import BASE, MEASURES, PAPER, TABLE3_ARMS, table3_claims

    assert next(iter(TABLE3_ARMS)) == BASE and TABLE3_ARMS[BASE] == {} and set(PAPER) == set(TABLE3_ARMS)
    for arm, change in TABLE3_ARMS.items():
        if arm != BASE:
            assert len(change) == 1, arm
            ((name, value),) = change.items()
            assert SMALL_SETTINGS.get(name, {"d_k": None, "positional_encoding": True}.get(name)) != value, arm
    seeds = range(100, 103)
    rows = [
        {
            "arm": arm,
            "seed": seed,
            **{measure: 0.1 * seed + (0.05 * seed if arm == "(C) N 2" else 0.0) for measure in MEASURES},
        }
        for arm in TABLE3_ARMS
        for seed in seeds
    ]
    claims = table3_claims(rows, seeds)
    assert len(claims) == (len(TABLE3_ARMS) - 1) * len(MEASURES)
    gap = claims["validation, (C) N 2 − base"]  # 0.05 · seed: 5.0, 5.05, 5.1 -> mean 5.05
    assert gap.mean == pytest.approx(0.05 * 101) and gap.se == pytest.approx(0.05 / 3**0.5)
    assert claims["other years, (A) h 1, d_k 32 − base"].mean == 0.0


def test_steps_to_reach_is_the_first_scored_step_at_the_level_or_one_past_the_last() -> None:
    curves = torch.tensor([[0.1, 0.96, 0.5, 0.99], [0.0, 0.2, 0.4, 0.94], [0.95, 1.0, 1.0, 1.0]])
    assert steps_to_reach(curves, [50, 100, 150, 200]).tolist() == [100.0, 201.0, 50.0]


def test_the_tuned_rate_has_the_largest_area_and_a_diverged_run_counts_as_zero() -> None:
    rows = []
    for model in MODELS:
        for rate in LEARNING_RATES:
            for seed in TUNING_SEEDS:
                if (model, rate) == ("GRU", LEARNING_RATES[-1]):  # diverged: one row, NaN at step 0
                    rows.append({"phase": "tuning", "model": model, "learning rate": rate, "seed": seed, "step": 0,
                                 "validation exact": float("nan")})  # fmt: skip
                    continue
                for step in (50, 100):
                    good = rate == LEARNING_RATES[1] if model == "GRU" else rate == LEARNING_RATES[2]
                    value = (0.9 if good else 0.5) * step / 100
                    rows.append({"phase": "tuning", "model": model, "learning rate": str(rate), "seed": str(seed),
                                 "step": str(step), "validation exact": str(value)})  # fmt: skip
    assert tuned_learning_rates(rows) == {"Transformer": LEARNING_RATES[2], "GRU": LEARNING_RATES[1]}
    assert arm_curves(rows, "tuning", "GRU", LEARNING_RATES[-1], TUNING_SEEDS).isnan().all()


def test_curve_claims_pair_the_gru_with_the_transformer_seed_by_seed() -> None:
    tuned = {"Transformer": 3e-3, "GRU": 1e-2}
    rows = []
    base = {100: 0.3, 200: 0.74, 300: 0.78}
    for model, offset in (("Transformer", 0.0), ("GRU", 0.2)):
        for seed in range(3):
            for step in (100, 200, 300):  # seeds differ by 0.02: paired, every difference is exactly 0.2
                value = base[step] + offset + 0.02 * seed
                rows.append({"phase": "notebook seeds", "model": model, "learning rate": tuned[model], "seed": seed,
                             "step": step, "validation exact": value})  # fmt: skip
    rows.reverse()  # the file's order must not matter
    claims = curve_claims(rows, "notebook seeds", range(3), tuned)
    for name in (
        "validation exact match at step 100 (epoch 1), GRU − Transformer",
        "mean validation exact match over the curve, GRU − Transformer",
        "mean validation exact match after epoch 1, GRU − Transformer",
    ):
        assert claims[name].mean == pytest.approx(0.2) and claims[name].se == pytest.approx(0.0, abs=1e-12), name
    # the GRU reaches 95 % at step 300 on seed 0 (0.98) and 200 on seeds 1-2 (0.96, 0.98); the Transformer never
    for name in (f"steps to first reach {REACH:.0%}", f"steps until it stays at {REACH:.0%} or above"):
        assert claims[f"{name}, GRU − Transformer"].mean == pytest.approx((300 + 200 + 200) / 3 - 301)


def test_steps_to_stay_waits_for_a_curve_that_falls_back() -> None:
    curves = torch.tensor(
        [[0.5, 0.96, 0.9, 0.97], [0.96, 0.97, 0.98, 0.99], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.96]]
    )
    steps = [10, 20, 30, 40]
    assert steps_to_stay(curves, steps).tolist() == [40.0, 10.0, 41.0, 40.0]
    assert steps_to_reach(curves, steps).tolist() == [20.0, 10.0, 41.0, 40.0]
    diverged = torch.tensor([[float("nan")] * 4])  # a NaN is never "at the level"
    assert steps_to_stay(diverged, steps).tolist() == steps_to_reach(diverged, steps).tolist() == [41.0]


def test_ranking_the_peaks_needs_every_tuning_run() -> None:
    rows = [
        {"phase": "tuning", "model": model, "learning rate": rate, "seed": seed, "step": 50, "validation exact": rate}
        for model in MODELS
        for rate in LEARNING_RATES
        for seed in TUNING_SEEDS
    ]
    assert ranked_learning_rates(rows)["GRU"] == sorted(LEARNING_RATES, reverse=True)
    with pytest.raises(ValueError, match="no tuning run of the GRU"):
        ranked_learning_rates([row for row in rows if (row["model"], row["learning rate"]) != ("GRU", 1e-2)])
