"""Tests of helpers.word_embeddings.skipgram: each checks the math by hand or against PyTorch's own pieces."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.data.readers import strip_wiki_markup, wiki_tokenize
from helpers.data.text import Vocabulary
from helpers.word_embeddings.skipgram import (
    SkipGramNegativeSampling,
    keep_probabilities,
    negative_sampling_loss,
    noise_distribution,
    one_hot,
    skipgram_pairs,
)
from helpers.word_embeddings.word2vec import (
    PairBatches,
    noise_table,
    read_sentences,
    train_word2vec,
    train_word2vec_on_file,
)
from helpers.word_embeddings.word_vectors import WordVectors, cosine_similarity_matrix

# --- one-hot --------------------------------------------------------------------------------------


def test_one_hot_vectors_are_orthogonal_and_select_rows():
    vectors = one_hot([0, 3, 5], 6)
    assert vectors.shape == (3, 6) and vectors.sum().item() == 3
    cosine = cosine_similarity_matrix(vectors)
    assert torch.equal(cosine, torch.eye(3))  # distinct words: exactly 0, same word: 1
    table = torch.randn(6, 4)
    assert torch.equal(vectors @ table, F.embedding(torch.tensor([0, 3, 5]), table))


def test_one_hot_rejects_ids_outside_the_vocabulary():
    with pytest.raises(ValueError, match=r"word ids must lie in \[0, 4\), got ids from 0 to 4"):
        one_hot([0, 4], 4)


# --- the noise distribution and subsampling -----------------------------------------------------


def test_noise_distribution_is_unigram_to_the_three_quarters():
    # 1, 16, 81 to the power 3/4 are 1, 8, 27; an unseen word (count 0) is never a negative.
    noise = noise_distribution(torch.tensor([0.0, 1.0, 16.0, 81.0]))
    assert torch.allclose(noise, torch.tensor([0.0, 1.0, 8.0, 27.0], dtype=torch.float64) / 36)
    assert torch.allclose(noise_distribution(torch.tensor([1.0, 3.0]), power=1.0), torch.tensor([0.25, 0.75]).double())
    with pytest.raises(ValueError, match="non-negative word counts"):
        noise_distribution(torch.tensor([0.0, 0.0]))


def test_keep_probabilities_follow_the_paper():
    # f = 0.01 and 0.99 with t = 0.04: keep min(1, sqrt(4)) = 1 and sqrt(0.04 / 0.99).
    keep = keep_probabilities(torch.tensor([1.0, 99.0]), subsample_threshold=0.04)
    assert torch.allclose(keep, torch.tensor([1.0, math.sqrt(0.04 / 0.99)], dtype=torch.float64))
    discard = 1 - keep_probabilities(torch.tensor([10.0, 990.0]), subsample_threshold=1e-3)
    assert math.isclose(float(discard[1]), 1 - math.sqrt(1e-3 / 0.99))
    keep_all = keep_probabilities(torch.tensor([5.0, 7.0]), subsample_threshold=0)
    assert torch.equal(keep_all, torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="subsample_threshold"):
        keep_probabilities(torch.tensor([1.0]), subsample_threshold=-1e-4)


# --- pairs and batches --------------------------------------------------------------------------


def test_window_one_pairs_are_the_neighbours_within_each_sentence():
    ids = np.array([10, 11, 12, 20, 21])
    sentence_ids = np.array([0, 0, 0, 1, 1])
    centres, contexts = skipgram_pairs(ids, sentence_ids, 1, np.random.default_rng(0))
    pairs = sorted(zip(centres.tolist(), contexts.tolist()))
    assert pairs == [(10, 11), (11, 10), (11, 12), (12, 11), (20, 21), (21, 20)]


def test_dynamic_window_pairs_stay_inside_the_window_and_sentence():
    ids = np.arange(40)
    sentence_ids = np.repeat([0, 1], 20)
    centres, contexts = skipgram_pairs(ids, sentence_ids, 3, np.random.default_rng(1))
    distance = np.abs(centres - contexts)
    assert distance.min() == 1 and distance.max() == 3
    assert np.all(sentence_ids[centres] == sentence_ids[contexts])
    # Every offset-1 pair is always taken (window >= 1); farther ones only sometimes.
    assert (distance == 1).sum() == 2 * 2 * 19 and (distance == 3).sum() < (distance == 1).sum()


def test_dynamic_window_takes_distance_d_with_probability_w_minus_d_plus_1_over_w():
    tokens, window = 30_000, 3
    centres, contexts = skipgram_pairs(
        np.arange(tokens), np.zeros(tokens, dtype=np.int64), window, np.random.default_rng(2)
    )
    for direction in (1, -1):  # contexts to the right of the centre, then to the left
        offsets = (contexts - centres) * direction
        for d in range(1, window + 1):
            share = (offsets == d).sum() / (tokens - d)
            assert abs(share - (window - d + 1) / window) < 0.015, (direction, d, share)


def test_pair_batches_draw_negatives_from_the_noise_distribution():
    noise = torch.tensor([0.0, 0.1, 0.2, 0.7], dtype=torch.float64)
    ids = np.array([1, 2, 3] * 200)
    batches = PairBatches(
        ids,
        np.zeros(600, dtype=np.int64),
        np.ones(4),
        noise_table(noise),
        window=2,
        negatives=5,
        batch_size=256,
        seed=0,
    )
    drawn = []
    for centres, contexts, negatives in batches:
        assert centres.shape == contexts.shape and negatives.shape == (len(centres), 5)
        drawn.append(negatives.flatten())
    frequency = torch.bincount(torch.cat(drawn), minlength=4).double()
    frequency /= frequency.sum()
    assert frequency[0] == 0 and torch.allclose(frequency, noise, atol=0.01)
    assert len(batches) == math.ceil(len(batches.centres) / 256)


def test_pair_fraction_keeps_a_random_share_of_the_pairs_and_one_changes_nothing():
    rng = np.random.default_rng(0)
    ids, sentence_ids = rng.integers(2, 30, size=2000), np.repeat(np.arange(40), 50)
    table = noise_table(noise_distribution(torch.ones(30)))

    def batches(**option):
        return PairBatches(
            ids, sentence_ids, np.ones(30), table, window=3, negatives=2, batch_size=64, seed=5, **option
        )

    everything, default, half = batches(pair_fraction=1.0), batches(), batches(pair_fraction=0.5)
    for name in ("centres", "contexts", "negatives"):  # 1 draws exactly what the trainer always drew
        assert torch.equal(getattr(everything, name), getattr(default, name))
    assert len(half.centres) == round(len(default.centres) / 2)
    # the kept pairs are the first half of the same shuffle: a subset of the epoch's pairs, in its order
    assert torch.equal(half.centres, default.centres[: len(half.centres)])
    assert torch.equal(half.contexts, default.contexts[: len(half.contexts)])
    with pytest.raises(ValueError, match=r"pair_fraction must lie in \(0, 1\]"):
        batches(pair_fraction=0.0)


def test_training_with_half_the_pairs_takes_half_the_steps():
    corpus = _two_topic_corpus()
    settings = dict(embedding_dim=8, epochs=1, batch_size=64, subsample_threshold=0, show_progress=False)
    full = train_word2vec(corpus, **settings)
    half = train_word2vec(corpus, **settings, pair_fraction=0.5)
    assert abs(len(half.history.steps["loss"]) - len(full.history.steps["loss"]) / 2) <= 1


# --- the loss and the model ---------------------------------------------------------------------


def test_negative_sampling_loss_by_hand():
    # -log σ(0) = log 2, -log σ(-0) = log 2, -log σ(-ln 3) = -log(1/4) = log 4: in all log 16.
    loss = negative_sampling_loss(torch.tensor([0.0]), torch.tensor([[0.0, math.log(3.0)]]))
    assert torch.allclose(loss, torch.tensor([math.log(16.0)]))
    # A confident, correct model has a loss near 0; a confidently wrong one a large loss.
    assert negative_sampling_loss(torch.tensor([20.0]), torch.tensor([[-20.0]])).item() < 1e-8
    assert negative_sampling_loss(torch.tensor([-20.0]), torch.tensor([[20.0]])).item() > 39


def test_model_loss_equals_the_formula_and_starts_at_k_plus_one_log_two():
    torch.manual_seed(0)
    model = SkipGramNegativeSampling(7, embedding_dim=4)
    centres, contexts, negatives = torch.tensor([1, 2]), torch.tensor([3, 4]), torch.tensor([[5, 6, 0], [1, 1, 2]])
    # Output vectors start at zero (as in word2vec), so every score is 0 and the loss (k+1)·log 2.
    assert torch.allclose(model(centres, contexts, negatives), torch.full((2,), 4 * math.log(2.0)))
    with torch.no_grad():
        model.output_vectors.weight.normal_()
    v, u = model.input_vectors.weight, model.output_vectors.weight
    expected = -F.logsigmoid((v[centres] * u[contexts]).sum(1)) - F.logsigmoid(
        -torch.einsum("bkd,bd->bk", u[negatives], v[centres])
    ).sum(1)
    assert torch.allclose(model(centres, contexts, negatives), expected)
    assert model.input_vectors.weight.abs().max() <= 0.5 / 4


def test_model_rejects_wrong_shapes_with_the_layout():
    model = SkipGramNegativeSampling(5, embedding_dim=3)
    with pytest.raises(ValueError, match=r"negatives must have shape \(batch, negatives\) = \(2, \*\), got \(2,\)"):
        model(torch.tensor([0, 1]), torch.tensor([1, 2]), torch.tensor([3, 4]))
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer, got 0"):
        SkipGramNegativeSampling(5, embedding_dim=0)


# --- the Wikipedia parser -----------------------------------------------------------------------


def test_strip_wiki_markup_keeps_the_prose():
    source = (
        "{{Infobox person|name={{nowrap|Ada}}}}'''Ada''' wrote [[Analytical Engine|notes on the engine]]"
        "<ref name=x>{{cite book|title=Y}}</ref> in [[1843]].<!-- hidden -->"
        "[[File:Ada.png|thumb|A [[portrait]]]][[Category:Mathematicians]][http://example.org the site]"
    )
    text = strip_wiki_markup(source)
    assert wiki_tokenize(text) == ["ada", "wrote", "notes", "on", "the", "engine", "in", "the", "site"]


# --- training and the trained vectors -----------------------------------------------------------


def _two_topic_corpus() -> list[list[str]]:
    rng = random.Random(0)
    topics = [[f"a{i}" for i in range(6)], [f"b{i}" for i in range(6)]]
    return [[rng.choice(topics[n % 2]) for _ in range(8)] for n in range(300)]


def test_training_puts_words_of_one_topic_together():
    vectors = train_word2vec(
        _two_topic_corpus(),
        embedding_dim=16,
        epochs=4,
        batch_size=256,
        subsample_threshold=0,
        learning_rate=0.02,
        show_progress=False,
    )
    vocabulary = vectors.vocabulary
    assert vocabulary.tokens[:2] == ["<pad>", "<unk>"] and len(vocabulary) == 14
    within = np.mean([vectors.similarity(f"a{i}", f"a{j}") for i in range(6) for j in range(i + 1, 6)])
    across = np.mean([vectors.similarity(f"a{i}", f"b{j}") for i in range(6) for j in range(6)])
    assert within > 0.9 and within - across > 0.5, (within, across)
    neighbours = [word for word, _ in vectors.most_similar("a0", k=5)]
    assert sorted(neighbours) == ["a1", "a2", "a3", "a4", "a5"]
    assert vectors.history is not None and vectors.history.epochs["loss"][-1] < vectors.history.epochs["loss"][0]


def test_training_is_repeatable_and_restores_threads():
    threads = torch.get_num_threads()
    corpus = _two_topic_corpus()[:60]
    first = train_word2vec(corpus, embedding_dim=8, epochs=1, batch_size=128, show_progress=False)
    second = train_word2vec(corpus, embedding_dim=8, epochs=1, batch_size=128, show_progress=False)
    assert torch.equal(first.vectors, second.vectors) and torch.get_num_threads() == threads


def test_vocabulary_respects_min_count():
    corpus = [["x", "x", "x", "y", "y", "z"], ["y", "x", "w", "v"]]
    vectors = train_word2vec(corpus, embedding_dim=4, min_count=2, subsample_threshold=0, epochs=1, show_progress=False)
    assert vectors.vocabulary.tokens == ["<pad>", "<unk>", "x", "y"]
    assert vectors.vectors.shape == (4, 4)


def test_clear_errors():
    with pytest.raises(ValueError, match="empty corpus"):
        train_word2vec([[], []], show_progress=False)
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer, got -3"):
        train_word2vec([["a", "b"]], embedding_dim=-3, show_progress=False)
    with pytest.raises(ValueError, match="lower min_count"):
        train_word2vec([["a", "b", "c"]], min_count=2, show_progress=False)


def test_word_vectors_lookup_and_unknown_words():
    vocabulary = Vocabulary(["<pad>", "<unk>", "cat", "dog", "car"], Counter(cat=3, dog=2, car=1))
    table = torch.tensor([[9.0, 9.0], [9.0, 9.0], [1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
    vectors = WordVectors(vocabulary, table)
    assert torch.equal(vectors.vector("dog"), table[3])
    assert math.isclose(vectors.similarity("cat", "car"), 0.0, abs_tol=1e-7)
    assert [w for w, _ in vectors.most_similar("cat", k=10)] == ["dog", "car"]  # no <pad>, <unk>, itself
    with pytest.raises(KeyError, match="'kat' is not in the vocabulary"):
        vectors.vector("kat")
    with pytest.raises(KeyError, match="not in the vocabulary"):
        vectors.most_similar("<unk>")
    with pytest.raises(ValueError, match=r"vectors must have shape \(vocabulary, embedding_dim\) = \(5, \*\)"):
        WordVectors(vocabulary, torch.zeros(4, 2))


# --- the fast pair scores: gradients equal PyTorch's own -----------------------------------------


# 3: fewer words than targets per pair (1 + k = 4); 70,000: more ids than 16 bits, so torch.sort groups them
@pytest.mark.parametrize("vocabulary_size", [9, 3, 70_000])
def test_pair_losses_and_gradients_equal_the_plain_formula_in_float64(vocabulary_size):
    torch.manual_seed(0)
    model = SkipGramNegativeSampling(vocabulary_size, embedding_dim=5).double()
    with torch.no_grad():
        model.output_vectors.weight.normal_()
    ids = torch.tensor([[1, 2, 2, 8], [3, 4, 3, 0], [5, 6, 3, 0], [1, 1, 2, 7], [3, 3, 3, 1], [8, 7, 0, 8]])
    centres, contexts, negatives = ids[0], ids[1], ids[2:].T  # repeats, and a word twice in a row
    centres, contexts, negatives = centres % vocabulary_size, contexts % vocabulary_size, negatives % vocabulary_size
    weights = torch.rand(4, dtype=torch.float64)  # an upstream gradient that differs per pair
    loss = model(centres, contexts, negatives)
    assert loss.dtype == torch.float64
    (loss * weights).sum().backward()
    fast = [model.input_vectors.weight.grad.clone(), model.output_vectors.weight.grad.clone()]
    v_table = model.input_vectors.weight.detach().clone().requires_grad_()
    u_table = model.output_vectors.weight.detach().clone().requires_grad_()
    v, u_context, u_noise = v_table[centres], u_table[contexts], u_table[negatives]
    plain = -F.logsigmoid((v * u_context).sum(1)) - F.logsigmoid(-torch.einsum("bkd,bd->bk", u_noise, v)).sum(1)
    (plain * weights).sum().backward()
    assert torch.allclose(loss, plain, atol=1e-12, rtol=0)
    assert torch.allclose(fast[0], v_table.grad, atol=1e-12, rtol=0)
    assert torch.allclose(fast[1], u_table.grad, atol=1e-12, rtol=0)
    assert fast[1].abs().sum() > 0 and fast[0].dtype == fast[1].dtype == torch.float64


def test_model_refuses_bad_ids_by_name():
    model = SkipGramNegativeSampling(5, embedding_dim=3)
    good = torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r"negatives must lie in \[0, 5\), got ids from 1 to 5"):
        model(good, good, torch.tensor([[1, 5], [2, 3]]))
    with pytest.raises(ValueError, match=r"centres must lie in \[0, 5\), got ids from -1 to 1"):
        model(torch.tensor([-1, 1]), good, torch.tensor([[1, 2], [2, 3]]))
    with pytest.raises(TypeError, match="contexts must hold integer word ids, got dtype torch.float32"):
        model(good, torch.tensor([0.0, 1.0]), torch.tensor([[1, 2], [2, 3]]))
    with pytest.raises(TypeError, match="word ids must be integers"):
        one_hot(torch.tensor([0.5, 1.0]), 4)


def test_cosine_similarity_keeps_float64():
    vectors = torch.tensor([[1.0, 0.0], [1.0, 1e-4]], dtype=torch.float64)  # cosine 1 - 5e-9
    cosine = cosine_similarity_matrix(vectors)
    assert cosine.dtype == torch.float64 and cosine[0, 1] < 1.0  # float32 would round it to exactly 1


def test_noise_table_gives_each_word_its_share():
    noise = torch.tensor([0.0, 0.1, 0.2, 0.7], dtype=torch.float64)
    table = noise_table(noise, size=1000)
    assert np.bincount(table, minlength=4).tolist() == [0, 100, 200, 700]


def test_skipgram_pairs_refuses_mismatched_sentence_ids():
    with pytest.raises(ValueError, match="one sentence number per token"):
        skipgram_pairs(np.arange(5), np.zeros(4, dtype=np.int64), 2, np.random.default_rng(0))


def test_training_refuses_untokenised_text_and_unknown_optimizer():
    with pytest.raises(TypeError, match="tokenised sentences"):
        train_word2vec(["a cat sat", "a dog sat"], show_progress=False)
    with pytest.raises(ValueError, match=r"optimizer must be one of \['adam', 'sgd'\]"):
        train_word2vec([["a", "b"]], optimizer="adagrad", show_progress=False)


def test_a_learners_file_with_an_empty_line_and_latin1(tmp_path):
    path = tmp_path / "my_text.txt"
    lines = [" ".join(sentence) for sentence in _two_topic_corpus()[:120]]
    lines[3] = ""  # a paragraph break
    lines[5] += " caf\xe9"  # one Latin-1 byte: the whole file is read as Latin-1
    path.write_bytes("\n".join(lines).encode("latin-1"))
    sentences = read_sentences(path)
    assert len(sentences) == 119 and sentences[4][-1] == "cafe"  # accents folded by tokenize
    vectors = train_word2vec_on_file(path, embedding_dim=8, epochs=1, batch_size=128, show_progress=False)
    assert "a0" in vectors and vectors.embedding_dim == 8
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(ValueError, match="has no words in any of its 2 lines"):
        read_sentences(empty)


def test_most_similar_to_a_vector_excludes_the_question_words():
    words = ["king", "man", "woman", "queen"]
    vocabulary = Vocabulary(["<pad>", "<unk>", *words], Counter(dict.fromkeys(words, 1)))
    table = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.1, 2.0]])
    vectors = WordVectors(vocabulary, table)
    query = vectors.vector("king") - vectors.vector("man") + vectors.vector("woman")
    assert vectors.most_similar(query, k=1)[0][0] == "woman"  # the famous catch: a question word wins
    assert vectors.most_similar(query, k=1, exclude=["king", "man", "woman"])[0][0] == "queen"


def test_training_refuses_an_infinite_learning_rate_and_nan_counts():
    from helpers.word_embeddings.word2vec import train_word2vec

    corpus = [["a", "cat", "sat"], ["a", "cat", "ran"]] * 20
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0, got inf"):
        train_word2vec(corpus, learning_rate=math.inf, show_progress=False)
    with pytest.raises(ValueError, match="counts holds 1 NaN or infinite value"):
        noise_distribution(torch.tensor([1.0, math.nan, 2.0]))  # used to return a NaN distribution
    with pytest.raises(ValueError, match="power must be a finite number"):
        noise_distribution(torch.tensor([1.0, 2.0]), power=math.nan)
