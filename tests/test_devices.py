"""Every trainer moves its model and its batches to the device it is given.

There is no GPU here, so the device is the CPU named differently: ``torch.device("cpu", 0)``. Tensors and
modules moved there live on the CPU as usual, but the move itself is visible: the tests record every
``Module.to`` and ``Tensor.to`` call that names exactly that device. A trainer that ignores its ``device``
(or replaces it by its default) moves nothing there and fails.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
import torch
from torch import nn

from helpers.core import model_device, resolve_device

TARGET = torch.device("cpu", 0)  # equal to no default: torch.device("cpu") != torch.device("cpu", 0)


def _names_target(args: tuple, kwargs: dict) -> bool:
    candidates = [*args, kwargs.get("device")]
    return any(isinstance(c, (torch.device, str)) and torch.device(c) == TARGET for c in candidates if c is not None)


@dataclass
class Moves:
    modules: list[str] = field(default_factory=list)
    tensors: int = 0  # tensors moved by the code itself, not the parameters a module's .to moves
    inside_module_to: bool = False


@pytest.fixture
def moves(monkeypatch: pytest.MonkeyPatch) -> Moves:
    record = Moves()
    module_to, tensor_to = nn.Module.to, torch.Tensor.to

    def spy_module_to(self, *args, **kwargs):
        if _names_target(args, kwargs):
            record.modules.append(type(self).__name__)
        outer, record.inside_module_to = record.inside_module_to, True
        try:
            return module_to(self, *args, **kwargs)
        finally:
            record.inside_module_to = outer

    def spy_tensor_to(self, *args, **kwargs):
        if _names_target(args, kwargs) and not record.inside_module_to:
            record.tensors += 1
        return tensor_to(self, *args, **kwargs)

    monkeypatch.setattr(nn.Module, "to", spy_module_to)
    monkeypatch.setattr(torch.Tensor, "to", spy_tensor_to)
    return record


def test_the_spy_sees_a_move_and_nothing_else(moves: Moves) -> None:
    layer = nn.Linear(2, 2)
    layer.to(torch.device("cpu"))  # the default device: not the target
    torch.zeros(2).to("cpu")
    assert moves.modules == [] and moves.tensors == 0
    layer.to(TARGET)
    torch.zeros(2).to(TARGET)
    assert moves.modules == ["Linear"] and moves.tensors == 1


def test_train_word2vec_moves_model_and_batches(moves: Moves) -> None:
    from helpers.word_embeddings.word2vec import train_word2vec

    corpus = [["a", "cat", "sat", "on", "the", "mat"], ["a", "dog", "sat", "on", "the", "rug"]] * 20
    settings = {"embedding_dim": 4, "subsample_threshold": 0, "epochs": 1, "batch_size": 64, "show_progress": False}
    vectors = train_word2vec(corpus, device=TARGET, **settings)
    assert "SkipGramNegativeSampling" in moves.modules and moves.tensors > 0
    assert vectors.vectors.device.type == "cpu"


def test_train_text_cnn_moves_model_and_batches(moves: Moves) -> None:
    from helpers.text_cnn.text_classification import train_text_cnn

    texts = [f"{word} film {i}" for i in range(20) for word in ("good", "bad")]
    labels = [word for _ in range(20) for word in ("pos", "neg")]
    classifier = train_text_cnn(texts, labels, max_epochs=1, show_progress=False, device=TARGET)
    assert "TextCNN" in moves.modules and moves.tensors > 0
    # torch keeps "cpu:0" as plain "cpu" on the weights, so inputs follow the model there, not to TARGET
    assert model_device(classifier.model) == torch.device("cpu") and len(classifier.predict(["good film"])) == 1


def test_train_translator_moves_model_and_batches(moves: Moves) -> None:
    from helpers.transformer.translate import train_translator

    pairs = [(w, w[::-1]) for w in ("".join(p) for p in itertools.product("ab", repeat=3))] * 4
    settings = {"num_layers": 1, "d_model": 8, "num_heads": 2, "d_ff": 16, "warmup": 2, "batch_size": 8}
    train_translator(pairs, validation=pairs[:4], epochs=1, show_progress=False, device=TARGET, **settings)
    assert "Transformer" in moves.modules and moves.tensors > 0


@pytest.mark.parametrize("kind", ["DCGAN", "MLP GAN"])
def test_train_digit_gan_moves_players_and_data(moves: Moves, kind: str) -> None:
    from helpers.gan_minimax import dcgan

    dcgan.train_digit_gan(kind, 0, torch.rand(64, 784) * 2 - 1, steps=1, device=TARGET)
    assert len(moves.modules) >= 2 and moves.tensors > 0


def test_train_conditional_gan_moves_players_and_data(moves: Moves) -> None:
    from helpers.gan_minimax import rebalancing

    images, classes = torch.rand(20, 1, 28, 28) * 2 - 1, torch.arange(20) % 10
    rebalancing.train_conditional_gan(0, images, classes, steps=1, device=TARGET)
    assert len(moves.modules) >= 2 and moves.tensors > 0


def test_train_stacked_gans_moves_players_and_data(moves: Moves) -> None:
    from helpers.gan_minimax import mode_metrics, stacked_gans

    centers = mode_metrics.ring_centers(8)
    settings = {"seeds": 2, "steps": 2, "generator_sizes": (8,), "discriminator_sizes": (8,), "record_every": 1}
    _, history = stacked_gans.train_stacked_gans(centers, std=0.02, evaluation_samples=20, device=TARGET, **settings)
    assert moves.modules.count("StackedMLP") == 2 and moves.tensors > 0
    assert history.stacked("counts").device.type == "cpu"


def test_train_stacked_classifiers_moves_model_and_data(moves: Moves) -> None:
    from helpers.gan_minimax import rebalancing

    labels = torch.arange(4).repeat(5).expand(2, -1).clone()
    inputs = torch.nn.functional.one_hot(labels, 4).float()
    probabilities = torch.ones(labels.shape, dtype=torch.float64)
    rebalancing.train_stacked_classifiers(
        inputs, labels, probabilities, torch.ones(2, 4), seeds=1, steps=1, num_classes=4, device=TARGET
    )
    assert "StackedMLP" in moves.modules and moves.tensors > 0


def test_resolve_device_names_what_to_pass() -> None:
    assert resolve_device(None) == torch.device("cpu") and resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(TARGET) is TARGET
    with pytest.raises(ValueError, match="device must name a PyTorch device"):
        resolve_device("gpu")
    with pytest.raises(TypeError, match="device must be a torch.device or a string"):
        resolve_device(0)
