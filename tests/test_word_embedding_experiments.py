"""Tests of helpers.word_embeddings.experiments: the measurements by hand, the verdicts, the registration.

The studies themselves train on the whole corpus (minutes); ``make replicate`` and notebook 01 run them.
Here each measurement is checked on small hand-made vectors, and the study plumbing on a fake study.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch

from helpers.core import evidence
from helpers.core.evidence import Bound, Difference, paired_difference
from helpers.data.text import Vocabulary
from helpers.word_embeddings import experiments
from helpers.word_embeddings.experiments import (
    REPLICATION,
    StudyResult,
    group_separation,
    groups_in_the_plane,
    mean_cosine,
    neighbour_overlap,
    standing,
)
from helpers.word_embeddings.skipgram import skipgram_pairs
from helpers.word_embeddings.word_vectors import WordVectors


def _vectors(table: dict[str, list[float]]) -> WordVectors:
    vocabulary = Vocabulary(["<pad>", "<unk>", *table], Counter(dict.fromkeys(table, 1)))
    rows = [[0.0] * len(next(iter(table.values())))] * 2 + list(table.values())
    return WordVectors(vocabulary, torch.tensor(rows))


def test_mean_cosine_by_hand():
    # three unit vectors at 0°, 90°, 180°: cosines 0, -1, 0 -> mean over the 3 pairs -1/3
    assert math.isclose(mean_cosine(_vectors({"a": [1, 0], "b": [0, 1], "c": [-1, 0]})), -1 / 3, abs_tol=1e-12)
    assert math.isclose(mean_cosine(_vectors({"a": [1, 0], "b": [2, 0], "c": [3, 0]})), 1.0, abs_tol=1e-12)


def test_neighbour_overlap_counts_shared_neighbours(monkeypatch):
    monkeypatch.setattr(experiments, "FREQUENT_WORDS", 4)
    words = {"a": [1.0, 0.0, 0.0], "b": [0.9, 0.1, 0.0], "c": [0.0, 1.0, 0.0], "d": [0.0, 0.9, 0.1]}
    same = _vectors(words)
    assert neighbour_overlap(same, same, k=1) == 1.0  # identical spaces share everything
    swapped = _vectors({"a": words["a"], "b": words["c"], "c": words["b"], "d": words["d"]})
    # nearest neighbours a->b, b->a, c->d, d->c against a->c, b->d, c->a, d->b: none shared
    assert neighbour_overlap(same, swapped, k=1) == 0.0
    assert neighbour_overlap(same, swapped, k=3) == 1.0  # all three other words: everything is shared


def test_group_measures_find_groups_and_not_noise():
    groups = {"x": ("x1", "x2", "x3"), "y": ("y1", "y2", "y3")}
    clustered = _vectors(
        {
            "x1": [1, 0.1, 0],
            "x2": [1, -0.1, 0],
            "x3": [1, 0, 0.1],
            "y1": [0, 1, 0.1],
            "y2": [0.1, 1, 0],
            "y3": [0, 1, -0.1],
        }
    )
    assert group_separation(clustered, groups) > 0.9
    assert groups_in_the_plane(clustered, groups) == 1.0
    # one word of x placed among the y's: its own group's centre (without it) is far, the y centre near
    moved = _vectors(
        {
            "x1": [0, 1, 0],
            "x2": [1, -0.1, 0],
            "x3": [1, 0, 0.1],
            "y1": [0, 1, 0.1],
            "y2": [0.1, 1, 0],
            "y3": [0, 1, -0.1],
        }
    )
    assert groups_in_the_plane(moved, groups) == 5 / 6


def test_matched_pair_fraction_is_the_ratio_of_the_pairs_the_windows_draw(monkeypatch):
    lengths = [3, 12, 7, 30, 1, 9]
    sentence_ids = np.repeat(np.arange(len(lengths)), lengths)
    fake = experiments.Corpus([], Vocabulary(["<pad>", "<unk>"]), np.zeros(len(sentence_ids)), sentence_ids)
    monkeypatch.setattr(experiments, "wikipedia_corpus", lambda: fake)
    experiments.matched_pair_fraction.cache_clear()
    try:
        fraction = experiments.matched_pair_fraction()
    finally:
        experiments.matched_pair_fraction.cache_clear()
    positions = np.arange(len(sentence_ids))
    drawn = {
        window: np.mean(
            [len(skipgram_pairs(positions, sentence_ids, window, np.random.default_rng(s))[0]) for s in range(300)]
        )
        for window in (2, 5)
    }
    assert abs(fraction - drawn[2] / drawn[5]) < 0.01, (fraction, drawn)


def test_standing_applies_the_rule_and_the_replication():
    established = Difference(0.3, 0.05, 5)  # 6 SE
    suggestive = Difference(0.1, 0.04, 5)  # 2.5 SE
    nothing = Difference(0.01, 0.04, 5)
    assert standing(established, "held").startswith("established: higher")
    assert standing(established, "weaker") == "suggestive, not established at this scale"
    assert standing(suggestive, "held") == "suggestive, not established at this scale"
    assert standing(nothing, "held") == "no difference at this scale"
    assert standing(nothing, "stronger") == "suggestive, not established at this scale"
    bound = Bound.of([0.5, 0.52, 0.48, 0.51, 0.49], above=0.4)
    assert standing(bound, "held").startswith("bound holds on both seed sets")
    assert standing(bound, "weaker") == "bound not established at this scale"


def test_study_result_table_and_verdicts_with_a_committed_replication(monkeypatch):
    claim = paired_difference([0.5, 0.6, 0.55, 0.52, 0.58], [0.4, 0.5, 0.45, 0.43, 0.47])
    result = StudyResult(
        "toy",
        [0, 1, 2, 3, 4],
        {"arm": {"score": [0.5, 0.6, 0.55, 0.52, 0.58], "updates": [4.0] * 5}, "other": {"score": [0.4] * 5}},
        {"arm − other": claim},
        ["a note"],
    )
    table = result.table().splitlines()
    assert table[0] == "toy, mean ± SE over seeds 0–4" and table[-1] == "a note"
    assert "0.550 ± 0.018" in table[2] and table[2].rstrip().endswith("4")
    monkeypatch.setattr(experiments, "committed_replication", dict)
    assert result.verdicts() == f"arm − other: {claim}"  # nothing committed: this run's verdict only
    committed = {"arm − other": (str(claim), "+0.080 ± 0.010 (higher)", "held")}
    monkeypatch.setattr(experiments, "committed_replication", lambda: committed)
    lines = result.verdicts().splitlines()
    assert lines[0].startswith("arm − other: established: higher") and lines[2].endswith("-> held")
    committed["arm − other"] = ("+0.200 ± 0.010 (higher)", "+0.080 ± 0.010 (higher)", "held")  # a stale file
    with pytest.raises(RuntimeError, match="make replicate-results"):
        result.verdicts()


def test_committed_replication_is_empty_before_notebook_01s_section_exists(tmp_path, monkeypatch):
    table = tmp_path / "replication.md"
    table.write_text("# Verdicts\n\n## 02_text_cnn\n| x | +1 | +1 | held |\n", encoding="utf-8")
    monkeypatch.setattr(evidence, "REPLICATION_TABLE", table)
    monkeypatch.setattr(evidence.committed_verdicts, "__defaults__", (table,))
    assert experiments.committed_replication() == {}
    table.write_text("## 01_word_embeddings\n| a − b | +0.1 (higher) | +0.2 (higher) | held |\n", encoding="utf-8")
    assert experiments.committed_replication() == {"a − b": ("+0.1 (higher)", "+0.2 (higher)", "held")}


def test_registration_for_make_replicate():
    assert REPLICATION.notebook == "01_word_embeddings.ipynb"
    assert list(REPLICATION.notebook_seeds) == list(range(5)) and list(REPLICATION.fresh_seeds) == list(range(100, 105))
    names = [study.name for study in REPLICATION.studies]
    assert len(names) == len(set(names)) == 9
    # every study the notebook calls is registered, through the same function
    registered = {study.run.__wrapped__ for study in REPLICATION.studies}
    for function in (
        experiments.trained_against_untrained,
        experiments.word_groups,
        experiments.sgns_against_ppmi_svd,
        experiments.sgns_against_shifted_pmi,
        experiments.neighbours_against_counts,
        experiments.epochs_study,
        experiments.analogy_study,
        experiments.count_model_levers,
        experiments.word2vec_ablations,
    ):
        assert function in registered, function.__name__
