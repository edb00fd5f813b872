"""Tests of helpers.word_embeddings.word_benchmarks and .count_vectors.

By hand, against torch.linalg, by simulation.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch

from helpers.data.text import Vocabulary
from helpers.word_embeddings.count_vectors import cooccurrence_counts, pmi_matrix, svd_embedding, truncated_svd
from helpers.word_embeddings.word_benchmarks import (
    analogy_accuracy,
    bootstrap_spearman,
    bootstrap_spearman_difference,
    evaluate_word_similarity,
    similarity_scores,
    solve_analogies,
    spearman,
)
from helpers.word_embeddings.word_vectors import WordVectors

# --- Spearman and its bootstrap interval --------------------------------------------------------


def test_spearman_with_ties_by_hand():
    # ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4]; Pearson of the ranks = 4.5 / sqrt(4.5 · 5) = 3 / sqrt(10).
    assert math.isclose(spearman([1, 2, 2, 3], [1, 3, 2, 4]), 3 / math.sqrt(10))
    assert math.isclose(spearman([1, 2, 3, 4], [1, 8, 27, 1000]), 1.0)  # any increasing function
    assert math.isclose(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1.0)
    with pytest.raises(ValueError, match="equal length"):
        spearman([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="constant"):
        spearman([1, 1, 1], [1, 2, 3])


def test_spearman_refuses_nan():
    with pytest.raises(ValueError, match="NaN or infinite"):
        spearman([1.0, float("nan"), 3.0], [1.0, 2.0, 3.0])


def test_bootstrap_interval_covers_the_true_value_at_about_the_stated_rate():
    # Gaussian pairs with correlation r have Spearman rho_s = (6/pi) asin(r/2) in the population.
    generator = torch.Generator().manual_seed(0)
    r, n, trials = 0.5, 100, 120
    truth = 6 / math.pi * math.asin(r / 2)
    covered = 0
    for trial in range(trials):
        x = torch.randn(n, generator=generator, dtype=torch.float64)
        y = r * x + math.sqrt(1 - r * r) * torch.randn(n, generator=generator, dtype=torch.float64)
        low, high = bootstrap_spearman(x, y, resamples=300, seed=trial)
        covered += low <= truth <= high
    # 95 % nominal; with 120 trials the binomial SE is 2 points, the percentile bootstrap runs a little low
    assert 0.86 <= covered / trials <= 0.99, covered / trials


def test_paired_bootstrap_of_a_difference_resamples_both_models_on_the_same_pairs():
    generator = torch.Generator().manual_seed(1)
    human = torch.randn(200, generator=generator, dtype=torch.float64)
    noise = torch.randn(200, generator=generator, dtype=torch.float64)
    good, worse = human + 0.5 * noise, human + 1.5 * noise  # the same pairs, the second model noisier
    low, high = bootstrap_spearman_difference(good, worse, human, resamples=500, seed=0)
    point = spearman(good, human) - spearman(worse, human)
    assert 0 < low < point < high
    # two identical models differ by exactly 0 on every resample
    assert bootstrap_spearman_difference(good, good, human, resamples=50) == (0.0, 0.0)
    # pairing cancels what two similar models share: their difference is known far better than either score
    similar = good + 0.05 * torch.randn(200, generator=generator, dtype=torch.float64)
    paired_low, paired_high = bootstrap_spearman_difference(similar, good, human, resamples=500, seed=0)
    single_low, single_high = bootstrap_spearman(good, human, resamples=500, seed=0)
    assert paired_high - paired_low < 0.5 * (single_high - single_low)
    with pytest.raises(ValueError, match="equal length"):
        bootstrap_spearman_difference([1.0, 2.0, 3.0], [1.0, 2.0], [1.0, 2.0, 3.0])


def test_similarity_scores_cover_the_pairs_both_words_of_which_are_known(monkeypatch):
    vectors = _toy_vectors()
    pairs = [("man", "woman", 1.0), ("king", "queen", 8.0), ("man", "prince", 5.0), ("king", "man", 3.0)]
    monkeypatch.setattr("helpers.word_embeddings.word_benchmarks.read_word_pairs", lambda name: pairs)
    model, human = similarity_scores(vectors, "wordsim353")
    assert human == [1.0, 8.0, 3.0]  # "prince" is not in the vocabulary
    assert math.isclose(model[0], -1.0) and math.isclose(model[2], vectors.similarity("king", "man"))
    result = evaluate_word_similarity(vectors, "wordsim353", resamples=0)
    assert result == {"spearman": spearman(model, human), "covered": 3, "total": 4}


# --- analogies ----------------------------------------------------------------------------------


def _toy_vectors() -> WordVectors:
    # gender along axis 0, royalty along axis 1, a third axis for "apple"
    words = {"man": [1, 0, 0], "woman": [-1, 0, 0], "king": [1, 1, 0], "queen": [-1, 1, 0.1], "apple": [0, 0, 1]}
    vocabulary = Vocabulary(["<pad>", "<unk>", *words], Counter(dict.fromkeys(words, 1)))
    table = torch.tensor([[0.0, 0.0, 0.0]] * 2 + list(words.values()))
    return WordVectors(vocabulary, table)


def test_3cosadd_and_3cosmul_on_a_hand_made_set():
    vectors = _toy_vectors()
    # king - man + woman = (-1, 1, 0) -> queen; cosines by hand decide both methods the same way here
    assert solve_analogies(vectors, [("man", "king", "woman")], "add") == ["queen"]
    assert solve_analogies(vectors, [("man", "king", "woman")], "mul") == ["queen"]
    sections = {
        "royal": [("man", "king", "woman", "queen"), ("man", "woman", "king", "apple")],
        "unknown": [("man", "king", "prince", "princess")],
    }
    result = analogy_accuracy(vectors, "add", sections)
    assert result["royal"] == {"correct": 1, "covered": 2, "total": 2, "accuracy": 0.5}
    assert result["unknown"]["covered"] == 0 and math.isnan(result["unknown"]["accuracy"])
    with pytest.raises(ValueError, match=r"method must be one of \['add', 'mul'\]"):
        solve_analogies(vectors, [("man", "king", "woman")], "sub")


def test_3cosmul_differs_from_3cosadd_where_one_term_dominates():
    # b : a' :: c : ? with one candidate very close to b only (add rewards it), one balanced (mul rewards it)
    words = {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [0.6, 0.8], "near_b": [-0.05, 1.0], "balanced": [0.2, 1.0]}
    vocabulary = Vocabulary(["<pad>", "<unk>", *words], Counter(dict.fromkeys(words, 1)))
    vectors = WordVectors(vocabulary, torch.tensor([[0.0, 0.0]] * 2 + list(words.values())))
    unit = {w: torch.tensor(v) / torch.tensor(v).norm() for w, v in words.items()}
    cos = {w: {o: float(unit[w] @ unit[o]) for o in ("a", "b", "c")} for w in ("near_b", "balanced")}
    add = {w: cos[w]["b"] - cos[w]["a"] + cos[w]["c"] for w in cos}
    mul = {w: (cos[w]["b"] + 1) / 2 * (cos[w]["c"] + 1) / 2 / ((cos[w]["a"] + 1) / 2 + 1e-3) for w in cos}
    assert solve_analogies(vectors, [("a", "b", "c")], "add") == [max(add, key=add.get)]
    assert solve_analogies(vectors, [("a", "b", "c")], "mul") == [max(mul, key=mul.get)]


# --- PPMI and SVD -------------------------------------------------------------------------------


def test_ppmi_against_a_hand_computed_3x3_example():
    counts = torch.tensor([[0.0, 2.0, 1.0], [2.0, 0.0, 1.0], [1.0, 1.0, 4.0]], dtype=torch.float64)
    # row sums #(w) = 3, 3, 6; column sums #(c) = 3, 3, 6; alpha = 1: P(c) = 0.25, 0.25, 0.5
    # PMI(0, 1) = log(2 / (3 * 0.25)) = log(8/3); PMI(2, 2) = log(4 / (6 * 0.5)) = log(4/3);
    # PMI(0, 2) = log(1 / (3 * 0.5)) = log(2/3) < 0 -> PPMI 0
    ppmi = pmi_matrix(counts, alpha=1.0).to_dense()
    assert math.isclose(ppmi[0, 1], math.log(8 / 3)) and math.isclose(ppmi[2, 2], math.log(4 / 3))
    assert ppmi[0, 2] == 0 and ppmi[0, 0] == 0 and ppmi.dtype == torch.float64
    assert math.isclose(pmi_matrix(counts, alpha=1.0, positive=False).to_dense()[0, 2], math.log(2 / 3))
    # alpha = 0.75 smooths the context distribution: P(c) = 3^.75, 3^.75, 6^.75 over their sum
    smoothed = torch.tensor([3.0, 3.0, 6.0], dtype=torch.float64).pow(0.75)
    smoothed /= smoothed.sum()
    assert math.isclose(pmi_matrix(counts).to_dense()[0, 1], math.log(2 / (3 * smoothed[1])))
    with pytest.raises(ValueError, match="square"):
        pmi_matrix(torch.zeros(2, 3))


def test_cooccurrence_counts_weight_pairs_like_the_dynamic_window():
    ids = np.array([0, 1, 2, 0, 1])
    counts = cooccurrence_counts(ids, np.array([0, 0, 0, 1, 1]), 3, window=2).to_dense()
    # sentence 1: (0,1) and (1,2) at distance 1 (weight 1), (0,2) at distance 2 (weight 1/2); sentence 2: (0,1)
    expected = torch.tensor([[0, 2, 0.5], [2, 0, 1], [0.5, 1, 0]], dtype=torch.float64)
    assert torch.allclose(counts, expected)
    with pytest.raises(ValueError, match=r"word ids must lie in \[0, 2\)"):
        cooccurrence_counts(ids, np.zeros(5), 2, window=2)


def test_svd_embedding_is_the_best_rank_d_factor():
    torch.manual_seed(0)
    matrix = torch.randn(30, 4, dtype=torch.float64) @ torch.randn(4, 20, dtype=torch.float64)
    matrix += 0.01 * torch.randn(30, 20, dtype=torch.float64)
    left, singular, _ = torch.linalg.svd(matrix)
    embedding = svd_embedding(matrix, 3, eigenvalue_power=1.0)
    # with p = 1 the rows are U_3 Σ_3: the same span and lengths as the exact SVD (up to column signs)
    assert torch.allclose(embedding.abs(), (left[:, :3] * singular[:3]).abs(), atol=1e-6)
    half = svd_embedding(matrix.to_sparse(), 3, eigenvalue_power=0.5)
    assert torch.allclose(half.norm(dim=0), singular[:3].sqrt(), atol=1e-6)
    with pytest.raises(ValueError, match="exceeds the matrix's smaller side 20"):
        svd_embedding(matrix, 21)
    # the embedding is U_d Σ_d^p of truncated_svd's factors, for every eigenvalue weighting p
    left, singular = truncated_svd(matrix, 3, seed=2)
    assert torch.allclose(left.T @ left, torch.eye(3, dtype=torch.float64), atol=1e-10)
    for power in (0.0, 0.5, 1.0):
        assert torch.equal(svd_embedding(matrix, 3, eigenvalue_power=power, seed=2), left * singular.pow(power))


# --- issue 31: counts, vectors and questions checked at the door ---------------------------------------


def _small_vectors() -> WordVectors:
    words = ["king", "man", "woman", "queen"]
    vocabulary = Vocabulary(["<pad>", "<unk>", *words], Counter(dict.fromkeys(words, 1)))
    return WordVectors(vocabulary, torch.randn(6, 3, generator=torch.Generator().manual_seed(0)))


def test_count_vectors_refuse_float_ids_nan_counts_and_an_infinite_alpha():
    with pytest.raises(TypeError, match=r"ids must hold integers .* floats such as 1\.5"):
        cooccurrence_counts([1.5, 2.2], [0, 0], 5)  # used to count the pair (1, 2)
    with pytest.raises(ValueError, match="counts holds 1 NaN or infinite value"):
        pmi_matrix(torch.tensor([[math.nan, 1.0], [1.0, 2.0]]))  # used to return NaN PMI
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0, got inf"):
        pmi_matrix(torch.tensor([[1.0, 1.0], [1.0, 2.0]]), alpha=math.inf)
    with pytest.raises(ValueError, match=r"context_distribution must hold probabilities in \[0, 1\]"):
        pmi_matrix(torch.tensor([[1.0, 1.0], [1.0, 2.0]]), context_distribution=torch.tensor([2.0, -1.0]))


def test_train_ppmi_svd_names_untokenised_sentences_not_the_counts():
    from helpers.word_embeddings.count_vectors import train_ppmi_svd

    vocabulary = Vocabulary.build([["hello", "world"]])
    with pytest.raises(TypeError, match=r"sentences\[0\] is the string 'hello world'"):
        train_ppmi_svd(["hello world"], vocabulary, embedding_dim=1)  # used to blame counts
    with pytest.raises(ValueError, match="no pair of vocabulary words"):
        train_ppmi_svd([["hello"], ["other", "words"]], vocabulary, embedding_dim=1)


def test_word_vectors_refuse_nan_rows_naming_the_words():
    vocabulary = Vocabulary.build([["hello", "world"]])
    table = torch.randn(4, 3)
    table[2] = math.nan
    with pytest.raises(ValueError, match=r"vectors holds NaN or infinite values in 1 of 4 rows \(words \['hello'\]\)"):
        WordVectors(vocabulary, table)  # used to be accepted: every cosine NaN
    with pytest.raises(ValueError, match="vectors holds NaN or infinite values in 4 of 4 rows"):
        WordVectors(vocabulary, torch.full((4, 3), math.nan))


def test_analogy_questions_must_have_their_words_and_chunks_a_size():
    vectors = _small_vectors()
    with pytest.raises(ValueError, match=r"questions\[0\] must be 3 words"):
        solve_analogies(vectors, [("king", "man")])  # used to fail unpacking inside
    with pytest.raises(ValueError, match=r"sections\['s'\]\[0\] must be 4 words"):
        analogy_accuracy(vectors, sections={"s": [("man", "king", "woman")]})  # used to raise IndexError
    with pytest.raises(ValueError, match=r"questions\[0\] must be 3 words"):
        solve_analogies(vectors, ["man king woman"])
    with pytest.raises(ValueError, match="chunk must be a positive integer, got 0"):
        solve_analogies(vectors, [("man", "king", "woman")], chunk=0)
    assert solve_analogies(vectors, [("man", "king", "woman")], chunk=1)[0] in ("queen", "<pad>", "<unk>", "man")


def test_most_similar_refuses_a_bare_string_to_exclude():
    vectors = _small_vectors()
    with pytest.raises(TypeError, match="exclude must be a list of words, got the string 'man'"):
        vectors.most_similar("king", exclude="man")  # used to look up the characters 'm', 'a', 'n'
    assert "man" not in [word for word, _ in vectors.most_similar("king", exclude=["man"])]
