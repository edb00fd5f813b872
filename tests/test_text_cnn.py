"""Tests for helpers.text_cnn.model: Kim (2014)'s CNN, its variants, max-over-time pooling, max-norm, the baseline."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from helpers.data.text import Vocabulary, pad_batch, padded_loader
from helpers.text_cnn.model import (
    TextCNN,
    apply_max_norm_,
    confusion_matrix,
    embedding_matrix,
    max_over_time,
    predict_probabilities,
    top_ngrams,
    window_has_word,
)

VOCABULARY_SIZE, K = 30, 8


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def small(mode: str = "rand", **kwargs) -> TextCNN:
    pretrained = None if mode == "rand" else torch.randn(VOCABULARY_SIZE, K)
    return TextCNN(VOCABULARY_SIZE, embedding_dim=K, mode=mode, pretrained=pretrained, feature_maps=6, **kwargs)


@pytest.mark.parametrize("mode", ["rand", "static", "non-static", "multichannel"])
def test_shapes_for_mixed_lengths_including_shorter_than_widest_filter(mode):
    model = small(mode).eval()
    ids, _ = pad_batch([[2, 3], [4, 5, 6, 7, 8, 9, 10], [11]])  # lengths 2, 7, 1 < h = 5
    trace = model.trace(ids)
    assert trace.logits.shape == (3, 2)
    assert trace.padded_ids.shape == (3, 4 + 7 + 4)
    assert trace.embedded.shape == (3, (2 if mode == "multichannel" else 1) * K, 15)
    assert [c.shape for c in trace.feature_maps] == [(3, 6, 13), (3, 6, 12), (3, 6, 11)]
    assert trace.features.shape == (3, 18)
    assert torch.isfinite(trace.logits).all()


def test_padding_only_windows_never_win_the_max():
    """Padding windows score ReLU(b); with b large and real windows below it, they would win if not masked."""
    model = small().eval()
    with torch.no_grad():
        model.embedding.weight.abs_()
        for convolution in model.convolutions:
            convolution.weight.copy_(-convolution.weight.abs())  # real windows score below the bias
            convolution.bias.fill_(5.0)
        ids = pad_batch([[2, 3], list(range(2, 12))])[0]
        trace = model.trace(ids)
    is_word = trace.padded_ids != 0
    for h, winners, pooled in zip(model.window_sizes, trace.winners, trace.pooled):
        assert window_has_word(is_word, h).gather(1, winners).all()
        assert (pooled < 5.0).all()
    with torch.no_grad():
        alone = model(torch.tensor([[2, 3]]))
    torch.testing.assert_close(alone, trace.logits[:1])  # the batch-mate's length does not matter


def test_forward_matches_a_by_hand_computation():
    """Embedding -> conv -> ReLU -> max -> linear, written out with PyTorch's functional ops."""
    model = small(window_sizes=(2,)).eval()
    ids = torch.tensor([[5, 6, 7]])
    x = model.embedding(F.pad(ids, (1, 1))).transpose(1, 2)  # (1, K, 5)
    c = F.relu(F.conv1d(x, model.convolutions[0].weight, model.convolutions[0].bias))  # (1, 6, 4)
    expected = model.classifier(c.amax(dim=2))
    torch.testing.assert_close(model(ids), expected)


def test_max_over_time_is_a_max_not_a_mean():
    features = torch.tensor([[[1.0, 5.0, 2.0], [0.0, -1.0, 3.0]]])  # (1, 2, 3)
    values, positions = max_over_time(features)
    torch.testing.assert_close(values, torch.tensor([[5.0, 3.0]]))
    assert positions.tolist() == [[1, 2]]
    torch.testing.assert_close(values, F.max_pool1d(features, 3).squeeze(2))
    values, _ = max_over_time(features, valid=torch.tensor([[True, False, True]]))
    torch.testing.assert_close(values, torch.tensor([[2.0, 3.0]]))


def test_window_has_word():
    is_word = torch.tensor([[False, False, True, False, False, False]])
    assert window_has_word(is_word, 2).tolist() == [[False, True, True, False, False]]


def test_static_embeddings_stay_frozen_and_non_static_move():
    ids, labels = torch.tensor([[2, 3, 4, 5]]), torch.tensor([1])
    moved = {}
    for mode in ["static", "non-static", "multichannel"]:
        model = small(mode)
        before = {name: p.detach().clone() for name, p in model.state_dict().items() if "embedding" in name}
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
        F.cross_entropy(model(ids), labels).backward()
        optimizer.step()
        moved[mode] = {name: not torch.equal(before[name], model.state_dict()[name]) for name in before}
    assert moved["static"] == {"static_embedding.weight": False}
    assert moved["non-static"] == {"embedding.weight": True}
    assert moved["multichannel"] == {"static_embedding.weight": False, "embedding.weight": True}


def test_sparse_gradients_equal_the_dense_ones_and_sparse_adam_moves_only_used_rows():
    ids, labels = torch.tensor([[2, 3, 4, 0], [5, 2, 0, 0]]), torch.tensor([1, 0])
    dense, sparse = small("non-static"), small("non-static", sparse_gradients=True)
    sparse.load_state_dict(dense.state_dict())
    for model in (dense, sparse):
        F.cross_entropy(model.eval()(ids), labels).backward()
    assert sparse.embedding.weight.grad.is_sparse and not dense.embedding.weight.grad.is_sparse
    torch.testing.assert_close(sparse.embedding.weight.grad.to_dense(), dense.embedding.weight.grad)
    before = sparse.embedding.weight.detach().clone()
    torch.optim.SparseAdam([sparse.embedding.weight], lr=0.1).step()
    moved = (sparse.embedding.weight != before).any(dim=1).nonzero().flatten().tolist()
    assert moved == [2, 3, 4, 5]  # the words of the batch; not <pad> (0), not the unused rows


def test_padding_vector_is_zero_and_gets_no_gradient():
    model = small("non-static")
    assert torch.equal(model.embedding.weight[0], torch.zeros(K))
    F.cross_entropy(model(torch.tensor([[2, 3, 0, 0]])), torch.tensor([0])).backward()
    assert torch.equal(model.embedding.weight.grad[0], torch.zeros(K))


def test_multichannel_is_the_sum_of_two_convolutions():
    model = small("multichannel", window_sizes=(3,)).eval()
    ids = torch.tensor([[2, 3, 4, 5, 6]])
    padded = F.pad(ids, (2, 2))
    weight, bias = model.convolutions[0].weight, model.convolutions[0].bias  # (6, 2K, 3)
    frozen = model.static_embedding(padded).transpose(1, 2)
    tuned = model.embedding(padded).transpose(1, 2)
    summed = F.conv1d(frozen, weight[:, :K]) + F.conv1d(tuned, weight[:, K:]) + bias[:, None]
    torch.testing.assert_close(model.trace(ids).feature_maps[0], F.relu(summed))


def test_max_norm_holds_after_a_step_and_matches_torch_renorm():
    model = small()
    with torch.no_grad():
        model.classifier.weight.mul_(100)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(torch.tensor([[2, 3, 4]])), torch.tensor([1])).backward()
    optimizer.step()
    expected = torch.renorm(model.classifier.weight.detach(), p=2, dim=0, maxnorm=3.0)
    largest = float(model.classifier.weight.detach().norm(dim=1).max())
    assert model.largest_class_norm == 0.0
    model.apply_max_norm(3.0)
    assert model.largest_class_norm == largest > 3.0  # what the constraint met, before it rescaled
    model.apply_max_norm(3.0)
    assert model.largest_class_norm == largest  # a running maximum, not the last norm (now 3)
    norms = model.classifier.weight.norm(dim=1)
    assert torch.all(norms <= 3.0 + 1e-5) and torch.allclose(norms, torch.full_like(norms, 3.0))
    torch.testing.assert_close(model.classifier.weight.detach(), expected)
    small_rows = torch.tensor([[0.1, 0.2], [3.0, 4.0]])
    apply_max_norm_(small_rows, 3.0)
    torch.testing.assert_close(small_rows, torch.tensor([[0.1, 0.2], [1.8, 2.4]]))  # short rows untouched


def test_dropout_only_in_training():
    model = small()
    ids = torch.tensor([[2, 3, 4, 5]])
    model.eval()
    torch.testing.assert_close(model(ids), model(ids))
    model.train()
    assert not torch.equal(model(ids), model(ids))


def test_clear_errors():
    model = small()
    with pytest.raises(ValueError, match="ids is empty"):
        model(torch.zeros(1, 0, dtype=torch.int64))
    with pytest.raises(ValueError, match="sentence 1 of the batch has no words"):
        model(torch.tensor([[2, 3], [0, 0]]))
    with pytest.raises(ValueError, match=r"word ids must lie in \[0, 30\).*unknown words map to <unk>"):
        model(torch.tensor([[2, 30]]))
    with pytest.raises(TypeError, match="int64"):
        model(torch.tensor([[2.0, 3.0]]))
    with pytest.raises(ValueError, match=r"ids must have shape \(batch, seq\)"):
        model(torch.tensor([2, 3]))
    with pytest.raises(ValueError, match="needs pretrained"):
        TextCNN(VOCABULARY_SIZE, embedding_dim=K, mode="static")
    with pytest.raises(ValueError, match="mode must be one of"):
        TextCNN(VOCABULARY_SIZE, embedding_dim=K, mode="dynamic")
    with pytest.raises(ValueError, match=r"pretrained must have shape"):
        TextCNN(VOCABULARY_SIZE, embedding_dim=K, mode="static", pretrained=torch.randn(VOCABULARY_SIZE, K + 1))


def test_unknown_words_map_to_unk_and_empty_text_is_refused():
    vocabulary = Vocabulary.build([["a", "good", "film"], ["a", "bad", "film"]])
    model = TextCNN(len(vocabulary), embedding_dim=K, feature_maps=4).eval()
    probabilities = predict_probabilities(model, vocabulary, ["A good film!", "zyzzyva qwerty"])
    assert probabilities.shape == (2, 2)
    torch.testing.assert_close(probabilities.sum(1), torch.ones(2))
    with pytest.raises(ValueError, match="no words after tokenisation"):
        predict_probabilities(model, vocabulary, ["..."])
    with pytest.raises(TypeError, match="list of sentences"):
        predict_probabilities(model, vocabulary, "a good film")


def test_embedding_matrix_copies_known_words_and_matches_variance():
    vocabulary = Vocabulary(["<pad>", "<unk>", "good", "bad", "rare"])
    vectors = {"good": torch.full((4,), 1.0), "bad": torch.full((4,), -1.0)}
    matrix, found = embedding_matrix(vocabulary, vectors, 4)
    assert found == 2 and matrix.shape == (5, 4)
    torch.testing.assert_close(matrix[2], vectors["good"])
    bound = (3 * torch.stack(list(vectors.values())).var()) ** 0.5
    assert float(matrix[4].abs().max()) <= float(bound)
    with pytest.raises(ValueError, match="none of the vocabulary"):
        embedding_matrix(vocabulary, {"GOOD": torch.ones(4)}, 4)


def test_confusion_matrix_and_top_ngrams():
    matrix = confusion_matrix(torch.tensor([0, 1, 1, 1]), torch.tensor([0, 0, 1, 1]), 2)
    assert matrix.tolist() == [[1, 1], [0, 2]]
    vocabulary = Vocabulary(["<pad>", "<unk>"] + [f"w{i}" for i in range(VOCABULARY_SIZE - 2)])
    model = small()
    batches = padded_loader([[2, 3, 4, 5], [6, 7, 8]], [0, 1], batch_size=2)
    tops = top_ngrams(model, batches, vocabulary, window_index=0, filters=[0, 1], k=2)
    assert set(tops) == {0, 1} and all(1 <= len(v) <= 2 for v in tops.values())
    values = [value for _, value in tops[0]]
    assert values == sorted(values, reverse=True)


def test_confusion_matrix_refuses_out_of_range_and_float_ids():
    with pytest.raises(ValueError, match=r"predictions must lie in \[0, 2\).*num_classes"):
        confusion_matrix(torch.tensor([0, 2]), torch.tensor([0, 1]), 2)  # used to land in a wrong cell
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\)"):
        confusion_matrix(torch.tensor([0, 1]), torch.tensor([-1, 1]), 2)
    with pytest.raises(TypeError, match="integer class ids"):
        confusion_matrix(torch.tensor([0.0, 1.0]), torch.tensor([0, 1]), 2)  # used to be truncated
    with pytest.raises(TypeError, match="integer class ids"):
        confusion_matrix(torch.tensor([0, 1]), torch.tensor([0.9, 1.0]), 2)
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 1]), 2)
    assert confusion_matrix(torch.tensor([2, 0, 1]), torch.tensor([2, 2, 1]), 3).tolist() == [
        [0, 0, 0],
        [0, 1, 0],
        [1, 0, 1],
    ]


def test_num_classes_sets_the_output_and_names_follow_the_course():
    model = TextCNN(VOCABULARY_SIZE, num_classes=6, embedding_dim=K, feature_maps=4, padding_id=0).eval()
    assert model(torch.tensor([[2, 3, 4]])).shape == (1, 6)
    with pytest.raises(TypeError):
        TextCNN(VOCABULARY_SIZE, K)  # everything after the vocabulary size is keyword-only
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        TextCNN(VOCABULARY_SIZE, num_classes=0)
    with pytest.raises(ValueError, match="padding_id must be an id"):
        TextCNN(VOCABULARY_SIZE, padding_id=VOCABULARY_SIZE)
    with pytest.raises(ValueError, match="pooling must be one of"):
        TextCNN(VOCABULARY_SIZE, pooling="sum")
    with pytest.raises(ValueError, match="window_sizes must be a sequence"):
        TextCNN(VOCABULARY_SIZE, window_sizes=3)


def test_mean_pooling_averages_the_windows_that_hold_a_word():
    model = small(pooling="mean", window_sizes=(2,)).eval()
    ids = torch.tensor([[5, 6, 7]])
    x = model.embedding(F.pad(ids, (1, 1))).transpose(1, 2)  # (1, K, 5): 1 padding word each side
    c = F.relu(F.conv1d(x, model.convolutions[0].weight, model.convolutions[0].bias))  # (1, 6, 4), all hold a word
    torch.testing.assert_close(model(ids), model.classifier(c.mean(dim=2)))
    with torch.no_grad():  # a batch-mate's padding does not change the mean
        torch.testing.assert_close(model(torch.tensor([[5, 6, 7, 0, 0], [2, 3, 4, 5, 6]]))[0], model(ids)[0])


def test_gradients_match_a_float64_reference():
    """The masked max of TextCNN against F.max_pool1d on an unpadded-batch reference, gradients included."""
    model = small(window_sizes=(2, 3)).double().eval()
    ids = torch.tensor([[5, 6, 7, 8]])
    pad = 2
    x = model.embedding(F.pad(ids, (pad, pad))).transpose(1, 2)
    pooled = []
    for h, convolution in zip(model.window_sizes, model.convolutions):
        c = F.relu(convolution(x))[:, :, max(0, pad - h + 1) : pad + ids.shape[1]]  # windows that hold a word
        pooled.append(F.max_pool1d(c, c.shape[2]).squeeze(2))
    expected = model.classifier(torch.cat(pooled, 1))
    ours = model(ids)
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-12)
    parameters = [p for p in model.parameters() if p.requires_grad]
    for a, b in zip(torch.autograd.grad(ours.sum(), parameters), torch.autograd.grad(expected.sum(), parameters)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_reading_helpers_restore_the_models_mode():
    vocabulary = Vocabulary(["<pad>", "<unk>"] + [f"w{i}" for i in range(VOCABULARY_SIZE - 2)])
    model = small().train()
    predict_probabilities(model, vocabulary, ["w1 w2 w3"])
    assert model.training  # used to be left in eval mode
    top_ngrams(model, padded_loader([[2, 3, 4]], [0], batch_size=1), vocabulary, window_index=0, filters=[0])
    assert model.training
