"""Notebook 02's experiments (helpers.text_cnn.experiments) and the vector geometry they measure
(helpers.word_embeddings.vector_geometry): the measures against brute force, all-but-the-top against the
paper's formula, the studies' plumbing on a tiny stand-in data set, and what make replicate finds."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch

from helpers.core.evidence import Bound, Difference, replicate
from helpers.data.readers import read_word_pairs
from helpers.data.text import Vocabulary
from helpers.text_cnn import experiments
from helpers.word_embeddings.vector_geometry import (
    all_but_the_top,
    learned_rows,
    mean_pairwise_cosine,
    noise_direction_alignment,
    participation_ratio,
)
from helpers.word_embeddings.word_vectors import WordVectors

ROOT = Path(__file__).resolve().parents[1]


def word_vectors(matrix: torch.Tensor, context: torch.Tensor | None = None) -> WordVectors:
    """WordVectors for words w0, w1, ... with counts 1, 2, ... (plus <pad>, <unk> rows of zeros in front)."""
    words = [f"w{i}" for i in range(len(matrix))]
    vocabulary = Vocabulary(["<pad>", "<unk>", *words], counts={w: i + 1 for i, w in enumerate(words)})
    pad = torch.zeros(2, matrix.shape[1], dtype=matrix.dtype)
    context = None if context is None else torch.cat([pad, context])
    return WordVectors(vocabulary, torch.cat([pad, matrix]), context_vectors=context)


# --- the geometry -----------------------------------------------------------------------------------------


def test_mean_pairwise_cosine_equals_the_mean_over_every_pair() -> None:
    vectors = torch.randn(7, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 0.3
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    by_pairs = [float(unit[i] @ unit[j]) for i, j in itertools.permutations(range(7), 2)]
    assert math.isclose(mean_pairwise_cosine(vectors), sum(by_pairs) / len(by_pairs), rel_tol=1e-12)
    assert math.isclose(mean_pairwise_cosine(torch.eye(4)), 0.0, abs_tol=1e-12)  # orthogonal: 0
    assert math.isclose(mean_pairwise_cosine(torch.ones(3, 4) * torch.tensor([[1.0], [2.0], [5.0]])), 1.0)


def test_participation_ratio_counts_the_dimensions_that_carry_the_spread() -> None:
    spread_evenly = torch.cat([torch.eye(6), -torch.eye(6)])  # covariance ∝ identity: every dimension alike
    assert math.isclose(participation_ratio(spread_evenly), 6.0, rel_tol=1e-12)
    one_direction = torch.arange(5.0).unsqueeze(1) * torch.tensor([[1.0, 2.0, -1.0]])  # rank one
    assert math.isclose(participation_ratio(one_direction), 1.0, rel_tol=1e-9)
    shifted = spread_evenly + 10.0  # a common offset changes the cosines, not the spread
    assert math.isclose(participation_ratio(shifted), 6.0, rel_tol=1e-9) and mean_pairwise_cosine(shifted) > 0.9
    with pytest.raises(ValueError, match="at least two vectors"):
        participation_ratio(torch.ones(1, 3))


def test_word_vectors_are_measured_on_their_learned_rows_only() -> None:
    vectors = word_vectors(torch.eye(3) + 1.0)  # <pad>, <unk> are zero rows in front
    assert learned_rows(vectors).shape == (3, 3)
    assert math.isclose(mean_pairwise_cosine(vectors), mean_pairwise_cosine(torch.eye(3) + 1.0))


def test_all_but_the_top_follows_mu_and_viswanath() -> None:
    generator = torch.Generator().manual_seed(1)
    matrix = torch.randn(40, 8, generator=generator, dtype=torch.float64) * torch.linspace(3, 0.5, 8) + 2.0
    processed = all_but_the_top(word_vectors(matrix), components=2)
    centred = matrix - matrix.mean(0)
    _, _, right = torch.linalg.svd(centred, full_matrices=False)
    top = right[:2]  # the two leading principal directions
    expected = centred - sum(torch.outer(centred @ u, u) for u in top)  # ṽ − Σ (uᵀṽ) u
    torch.testing.assert_close(learned_rows(processed), expected)
    assert torch.equal(processed.vectors[:2], torch.zeros(2, 8, dtype=torch.float64))  # specials kept
    assert processed.vocabulary is not None and processed.context_vectors is None
    assert all_but_the_top(word_vectors(matrix)).vectors.shape == (42, 8)  # D = ⌈8 / 100⌉ = 1
    with pytest.raises(ValueError, match="every one of the 8 dimensions"):
        all_but_the_top(word_vectors(matrix), components=8)


def test_noise_direction_alignment() -> None:
    context = torch.randn(5, 4, generator=torch.Generator().manual_seed(2))
    counts = torch.arange(1.0, 6.0) ** 0.75  # the noise distribution of word_vectors' counts
    noise_mean = (counts / counts.sum()) @ context
    away = word_vectors(torch.randn(5, 4) * 0.01 - noise_mean, context)  # every word pushed from the noise
    assert noise_direction_alignment(away) < -0.99
    assert noise_direction_alignment(word_vectors(torch.randn(5, 4) * 0.01 + noise_mean, context)) > 0.99
    with pytest.raises(ValueError, match="no context"):
        noise_direction_alignment(word_vectors(torch.randn(5, 4)))


def test_sentiment_probe_reads_a_linear_code_and_not_noise() -> None:
    generator = torch.Generator().manual_seed(3)
    targets = torch.randn(200, generator=generator, dtype=torch.float64)
    encoded = torch.randn(200, 6, generator=generator, dtype=torch.float64)
    encoded[:, 0] = 2 * targets + 0.5  # the target, written into one coordinate
    scores = experiments.sentiment_probe(
        {"encoded": encoded, "noise": torch.randn(200, 6, generator=generator)}, ["w"] * 200, targets, seed=0
    )
    assert scores["encoded"] > 0.99 and scores["noise"] < 0.1


# --- the rule, and what make replicate committed ------------------------------------------------------


def test_standings_follow_the_rule() -> None:
    result = experiments.StudyResult(
        {},
        {
            "held": Difference(3.5, 1.0, 5),
            "weaker": Difference(-3.5, 1.0, 5),
            "suggestive": Difference(2.5, 1.0, 5),
            "none": Difference(0.5, 1.0, 5),
            "bound": Bound(1.0, 0.1, 5, 2.0, True),
            "bound, broken on fresh folds": Bound(1.0, 0.1, 5, 2.0, True),
        },
    )
    committed = {
        "held": ("", "", "held"),
        "weaker": ("", "", "weaker"),
        "suggestive": ("", "", "held"),
        "none": ("", "", "held"),
        "bound": ("", "", "held"),
        "bound, broken on fresh folds": ("", "", "flipped"),
    }
    assert result.standings(committed) == {
        "held": "established: higher",
        "weaker": "suggestive, not established at this scale",
        "suggestive": "suggestive, not established at this scale",
        "none": "no difference at this scale",
        "bound": "holds on both fold sets",
        "bound, broken on fresh folds": "not established",
    }
    assert result.stale({}) == list(result.claims)  # nothing committed: every claim needs a replication


def test_replication_is_registered_with_the_fold_seeds() -> None:
    registration = experiments.REPLICATION
    assert (registration.notebook, registration.notebook_seeds, registration.fresh_seeds) == (
        "02_text_cnn.ipynb",
        0,
        100,
    )
    assert registration.threads == 2  # the notebook's setup_notebook(threads=2): the same sums, the same digits
    names = [study.name for study in registration.studies]
    assert len(names) == len(set(names)) == 4


# --- the studies on a tiny stand-in for MR --------------------------------------------------------------


@pytest.fixture
def tiny(monkeypatch):
    """A 60-sentence stand-in for MR and small unlabelled corpora; 3 folds, 2 of them for the short studies."""
    good, bad = ["superb", "moving", "gripping", "fine"], ["dull", "awful", "boring", "tedious"]
    sentences = [["the", "film", "is", good[i % 4], "and", good[(i + 1) % 4]] for i in range(30)]
    sentences += [["the", "film", "is", bad[i % 4], "and", bad[(i + 1) % 4]] for i in range(30)]
    labels = [1] * 30 + [0] * 30
    scored = sorted({word for pair in read_word_pairs("wordsim353")[:40] for word in pair[:2]})  # WordSim's words
    words = good + bad + scored + [f"w{i}" for i in range(250)]  # distinct words enough for subsampling
    draw = torch.randint(len(words), (400, 8), generator=torch.Generator().manual_seed(4)).tolist()
    text = [[words[i] for i in row] for row in draw]
    reviews = experiments.MovieReviews(sentences, labels, text, text[:10], {"rotten": 30, "fresh": 30})
    monkeypatch.setattr(experiments, "movie_reviews", lambda: reviews)
    corpora = {experiments.SMALL_CORPUS: text, experiments.LARGE_CORPUS: text * 2}
    monkeypatch.setattr(experiments, "unlabelled_corpora", lambda: corpora)
    monkeypatch.setattr(experiments, "NUM_FOLDS", 3)
    monkeypatch.setattr(experiments, "FIRST_FOLDS", 2)
    monkeypatch.setattr(experiments, "WORKERS", 1)
    arms = {arm: experiments.GEOMETRY_ARMS[arm] for arm in experiments.GEOMETRY_ARMS if arm.startswith("2 epochs")}
    arms |= {"5 epochs": dict(epochs=5), "30 epochs": dict(epochs=3)}  # the claims' arms, shorter
    monkeypatch.setattr(experiments, "GEOMETRY_ARMS", arms)
    experiments.clear_caches()
    yield reviews
    experiments.clear_caches()


def test_every_study_returns_the_same_claims_for_both_fold_seeds(tiny) -> None:
    lines = replicate(experiments.REPLICATION)
    by_study = {study.name: set(study.run(0)) for study in experiments.REPLICATION.studies}
    assert {line.claim for line in lines} == set().union(*by_study.values())
    assert all(line.status in ("held", "weaker", "flipped", "stronger") for line in lines)
    assert len(experiments.cnn_rand(0).accuracies) == 3  # all folds, cached for every study that pairs with it


def test_studies_pair_with_the_same_folds_of_cnn_rand(tiny) -> None:
    ablation = experiments.ablations(0)
    rand = experiments.cnn_rand(0)
    assert ablation.runs["CNN-rand"] == [100 * a for a in rand.accuracies[:2]]
    assert all(len(values) == 2 for values in ablation.runs.values())
    vectors = experiments.pretrained_vectors(0)
    assert vectors.runs["CNN-rand"] == ablation.runs["CNN-rand"]
    assert set(vectors.details["geometry"]) == set(vectors.details["tables"])
    assert math.isnan(vectors.details["geometry"]["random vectors"]["noise alignment"])  # no context vectors
