"""Tests for helpers.text_cnn.linear_baselines: MNB and NBSVM (Wang & Manning 2012) against a hand-computed example."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.text_cnn.linear_baselines import NBSVM, MultinomialNB, NgramFeatures, log_count_ratio, ngrams

# Two positive sentences and one negative. Binarised, "good good" counts "good" once.
SENTENCES = [["good", "film"], ["good", "good"], ["bad", "film"]]
LABELS = ["pos", "pos", "neg"]  # sorted classes: neg = 0, pos = 1
GRAMS = ["bad", "bad film", "film", "good", "good film", "good good"]
# p = 1 + positive counts = (1, 1, 2, 3, 2, 2), |p| = 11; q = 1 + negative counts = (2, 2, 2, 1, 1, 1), |q| = 9
R_BY_HAND = {
    "bad": math.log(9 / 22),
    "bad film": math.log(9 / 22),
    "film": math.log(9 / 11),
    "good": math.log(27 / 11),
    "good film": math.log(18 / 11),
    "good good": math.log(18 / 11),
}


def test_ngrams_are_distinct_unigrams_and_bigrams():
    assert ngrams(["a", "b", "a", "b"]) == ["a", "b", "a b", "b a"]
    with pytest.raises(TypeError, match="list of words"):
        ngrams("a b")


def test_binarised_features_and_log_count_ratio_by_hand():
    features = NgramFeatures(SENTENCES)
    assert sorted(features.index) == GRAMS
    matrix = features.transform([["good", "good", "film", "unseen"]]).to_dense()  # unseen n-grams dropped
    assert matrix.sum() == 4 and matrix.max() == 1  # good (twice, counted once), film, "good good", "good film"
    r = log_count_ratio(features.training_matrix, torch.tensor([1, 1, 0]))
    for gram, expected in R_BY_HAND.items():
        assert math.isclose(float(r[features.index[gram]]), expected, rel_tol=1e-12)


def test_mnb_decision_is_the_log_count_ratio_plus_the_class_prior():
    model = MultinomialNB(SENTENCES, LABELS)
    scores = model.scores([["good", "film"], ["bad"]])
    by_hand = [
        math.log(2 / 1) + R_BY_HAND["good"] + R_BY_HAND["film"] + R_BY_HAND["good film"],
        math.log(2 / 1) + R_BY_HAND["bad"],
    ]
    torch.testing.assert_close(scores[:, 1] - scores[:, 0], torch.tensor(by_hand, dtype=torch.float64))
    assert model.predict([["good", "film"], ["bad"]]) == ["pos", "neg"]
    assert model.accuracy(SENTENCES, LABELS) == 1.0


def test_mnb_takes_more_than_two_classes():
    model = MultinomialNB([["a"], ["b"], ["c"], ["a", "x"]], [0, 1, 2, 0])
    assert model.predict([["a"], ["b"], ["c"]]) == [0, 1, 2]


def test_nbsvm_solves_the_svm_and_interpolates_with_beta():
    exact = NBSVM(SENTENCES, LABELS, beta=1.0)  # β = 1: the SVM's own weights
    features = exact.features.training_matrix.to_dense() * exact.r
    signs = torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64)
    weights = exact.weights.clone().requires_grad_(True)
    bias = exact.bias.clone().requires_grad_(True)
    objective = 0.5 * weights.dot(weights) + torch.relu(1 - signs * (features @ weights + bias)).square().sum()
    gradients = torch.autograd.grad(objective, [weights, bias])
    assert max(float(g.abs().max()) for g in gradients) < 1e-5  # a minimum of ½‖w‖² + C Σ max(0, 1 − y f)²
    mixed = NBSVM(SENTENCES, LABELS)  # β = 0.25
    torch.testing.assert_close(mixed.weights, 0.75 * exact.weights.abs().mean() + 0.25 * exact.weights)
    assert mixed.predict(SENTENCES) == LABELS


def test_clear_errors():
    with pytest.raises(ValueError, match="two classes"):
        NBSVM([["a"], ["b"], ["c"]], [0, 1, 2])
    with pytest.raises(TypeError, match="tokenised sentences"):
        MultinomialNB(["good film", "bad film"], [1, 0])
    with pytest.raises(ValueError, match="2 sentences but 1 labels"):
        MultinomialNB([["a"], ["b"]], [1])
    with pytest.raises(TypeError, match="floats"):
        MultinomialNB([["a"], ["b"]], [1.0, 0.0])
    with pytest.raises(ValueError, match="at least two classes"):
        MultinomialNB([["a"], ["b"]], [1, 1])
    with pytest.raises(ValueError, match="not among the classes"):
        MultinomialNB(SENTENCES, LABELS).accuracy([["good"]], ["neutral"])


def test_bag_of_words_is_one_hot_counts_times_weights_and_ignores_padding():
    from helpers.text_cnn.linear_baselines import BagOfWords

    model = BagOfWords(6, num_classes=3)
    torch.nn.init.normal_(model.weights.weight, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.weights.weight[0] = 0  # the padding row, as EmbeddingBag keeps it
        model.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    ids = torch.tensor([[2, 3, 2, 0], [5, 0, 0, 0]])
    counts = torch.nn.functional.one_hot(ids, 6).sum(dim=1).float()
    counts[:, 0] = 0  # padding is no word
    assert torch.allclose(model(ids), counts @ model.weights.weight + model.bias, atol=1e-6)
    with pytest.raises(ValueError, match=r"must lie in \[0, 6\)"):
        model(torch.tensor([[7]]))
    with pytest.raises(ValueError, match="padding_id"):
        BagOfWords(6, padding_id=6)


def test_arguments_are_named_not_blamed_on_something_else() -> None:
    sentences, labels = [["a", "good", "film"], ["a", "bad", "film"]], [1, 0]
    with pytest.raises(ValueError, match="max_n must be a positive integer, got 0"):
        MultinomialNB(sentences, labels, max_n=0)  # used to ask whether the sentences are empty
    for model in (MultinomialNB, NBSVM):
        with pytest.raises(ValueError, match="alpha must be a finite number > 0, got inf"):
            model(sentences, labels, alpha=math.inf)  # MNB used to score every sentence NaN
    with pytest.raises(ValueError, match="C must be a finite number > 0, got nan"):
        NBSVM(sentences, labels, C=math.nan)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        log_count_ratio(torch.eye(2).to_sparse(), torch.tensor([0, 1]), alpha=-1.0)
    model = MultinomialNB(sentences, labels)
    with pytest.raises(ValueError, match="got 2 sentences but 1 labels"):
        model.accuracy(sentences, [1])  # used to broadcast the one label: 0.5
    with pytest.raises(TypeError, match=r"sentences\[0\] is the string"):
        model.accuracy(["a good film", "a bad film"], labels)
