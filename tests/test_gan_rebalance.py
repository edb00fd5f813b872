"""Tests for helpers.gan_minimax.rebalancing: the cut, the padded pools, label conditioning, the stacked classifiers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from helpers.gan_minimax import rebalancing


def test_cut_class_keeps_the_others_and_a_few_of_one_class():
    labels = torch.arange(5).repeat(20)  # 20 of each class
    kept = rebalancing.cut_class(labels, 3, 4, generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(labels[kept], minlength=5)
    assert counts.tolist() == [20, 20, 20, 4, 20]
    assert len(torch.unique(kept)) == len(kept)  # no example twice
    other = rebalancing.cut_class(labels, 3, 4, generator=torch.Generator().manual_seed(1))
    assert not torch.equal(kept, other)  # the seed picks which ones stay


def test_cut_class_and_labels_refuse_bad_input():
    labels = torch.arange(5).repeat(20)
    with pytest.raises(ValueError, match="keep"):
        rebalancing.cut_class(labels, 3, 21, generator=torch.Generator())
    with pytest.raises(TypeError, match="integer"):
        rebalancing.cut_class(labels.float(), 3, 2, generator=torch.Generator())
    generator = rebalancing.ConditionalDCGANGenerator(4, num_classes=5, width=2)
    with pytest.raises(ValueError, match="0..4"):
        generator.sample(torch.full((3,), 5))
    with pytest.raises(TypeError, match="float labels"):
        generator.sample(torch.zeros(3))
    with pytest.raises(TypeError, match="long"):
        generator.sample(torch.zeros(3, dtype=torch.int32))
    with pytest.raises(ValueError, match="1-D"):
        generator.sample(torch.zeros(2, 3, dtype=torch.long))


def test_pad_pools_masks_the_padding():
    padded, mask = rebalancing.pad_pools([torch.ones(2, 3), 2 * torch.ones(4, 3)])
    assert padded.shape == (2, 4, 3) and mask.tolist() == [[True, True, False, False], [True] * 4]
    assert padded[0, 2:].abs().sum() == 0 and (padded[1] == 2).all()
    assert rebalancing.pad_pools([torch.ones(2, dtype=torch.float64)])[0].dtype == torch.float64  # dtype kept
    with pytest.raises(ValueError, match="non-empty"):
        rebalancing.pad_pools([])
    with pytest.raises(ValueError, match="non-empty"):
        rebalancing.pad_pools([torch.ones(2, 3), torch.ones(0, 3)])
    with pytest.raises(ValueError, match="same row shape"):
        rebalancing.pad_pools([torch.ones(2, 3), torch.ones(2, 4)])


def test_conditional_dcgan_shapes_and_label_conditioning():
    torch.manual_seed(0)
    generator = rebalancing.ConditionalDCGANGenerator(6, num_classes=4, width=4)
    discriminator = rebalancing.ConditionalDCGANDiscriminator(num_classes=4, width=4)
    z, labels = torch.randn(8, 6), torch.randint(4, (8,))
    images = generator(z, labels)
    assert images.shape == (8, 1, 28, 28) and images.abs().max() <= 1
    assert discriminator(images, labels).shape == (8,)
    assert discriminator(images.flatten(1), labels).shape == (8,)  # flattened images too
    other = (labels + 1) % 4
    assert not torch.allclose(generator(z, other), images)  # the label changes G's output for the same z
    with torch.no_grad():
        discriminator.embedding.weight.normal_()
    assert not torch.allclose(discriminator(images, other), discriminator(images, labels))  # and D's verdict
    generator.train()
    assert generator.sample(labels).shape == (8, 1, 28, 28) and generator.training  # mode restored
    with pytest.raises(ValueError, match="labels"):
        generator(z, labels[:3])


def test_conditional_gan_learns_to_honour_the_label():
    """Two classes: a bright left half or a bright right half. After training G draws the class asked for."""
    torch.manual_seed(0)
    labels = torch.arange(2).repeat(64)
    images = -torch.ones(128, 1, 28, 28)
    images[labels == 0, :, :, :14] = 1
    images[labels == 1, :, :, 14:] = 1
    generator = rebalancing.ConditionalDCGANGenerator(4, num_classes=2, width=4)
    discriminator = rebalancing.ConditionalDCGANDiscriminator(num_classes=2, width=4)
    optimizers = [torch.optim.Adam(m.parameters(), 2e-3, betas=(0.5, 0.999)) for m in (generator, discriminator)]
    step = rebalancing.conditional_gan_step(generator, discriminator, *optimizers)
    for _ in range(150):
        index = torch.randint(128, (32,))
        metrics = step((images[index], labels[index]))
    assert set(metrics) == {"d_loss", "g_loss"}
    asked = torch.arange(2).repeat(50)
    drawn = generator.sample(asked, generator=torch.Generator().manual_seed(0))
    left_brighter = drawn[..., :14].mean((1, 2, 3)) > drawn[..., 14:].mean((1, 2, 3))
    assert (left_brighter == (asked == 0)).float().mean() > 0.95


def _toy_pools(runs):
    """Class c is a point mass at +1 on feature c (4 classes, 4 features), the same pool for every run."""
    labels = torch.arange(4).repeat(10)
    images = F.one_hot(labels, 4).float() * 2 - 1
    return images.expand(runs, -1, -1).clone(), labels.expand(runs, -1).clone()


def test_stacked_classifiers_share_initial_weights_and_learn():
    images, labels = _toy_pools(4)  # 2 arms × 2 seeds
    probabilities = torch.ones(labels.shape, dtype=torch.float64)
    weights = torch.ones(4, 4)
    untrained = rebalancing.train_stacked_classifiers(
        images, labels, probabilities, weights, seeds=2, steps=1, learning_rate=1e-12, num_classes=4
    )
    first = next(untrained.parameters())
    assert torch.allclose(first[0], first[2]) and torch.allclose(first[1], first[3])  # arm 2 starts like arm 1
    assert not torch.allclose(first[0], first[1])  # seeds differ
    model = rebalancing.train_stacked_classifiers(
        images, labels, probabilities, weights, seeds=2, steps=200, hidden_size=16, num_classes=4
    )
    with torch.no_grad():
        assert (model(images).argmax(-1) == labels).all()
    later = rebalancing.train_stacked_classifiers(
        images, labels, probabilities, weights, seeds=2, steps=1, learning_rate=1e-12, num_classes=4, first_seed=1
    )
    assert torch.allclose(next(later.parameters())[0], first[1])  # the stack's seed 0 is seed 1 of the default


def test_class_weights_and_probabilities_are_honoured():
    images, labels = _toy_pools(2)  # 2 arms × 1 seed
    never_class_3 = (labels != 3).double()  # arm 0 never draws class 3; arm 1 draws everything, weights it 0
    probabilities = torch.stack([never_class_3[0], torch.ones(40, dtype=torch.float64)])
    weights = torch.tensor([[1.0, 1, 1, 1], [1, 1, 1, 0]])
    model = rebalancing.train_stacked_classifiers(
        images, labels, probabilities, weights, seeds=1, steps=200, hidden_size=16, num_classes=4
    )
    with torch.no_grad():
        predicted = model(images).argmax(-1)
    assert (predicted[:, labels[0] == 3] != 3).all()  # neither arm learned class 3
    assert (predicted[:, labels[0] != 3] == labels[:, labels[0] != 3]).all()
    with pytest.raises(ValueError, match="arms × seeds"):
        rebalancing.train_stacked_classifiers(
            images, labels, probabilities, weights[:1], seeds=1, steps=1, num_classes=4
        )


def test_train_conditional_gan_is_seeded_silent_and_checks_its_labels(capsys):
    images = torch.rand(40, 1, 28, 28) * 2 - 1
    classes = torch.arange(40) % 10
    first = rebalancing.train_conditional_gan(1, images, classes, steps=2)
    again = rebalancing.train_conditional_gan(1, images, classes, steps=2)
    other = rebalancing.train_conditional_gan(2, images, classes, steps=2)
    for (name, a), (_, b) in zip(first.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name  # seeded: the same run twice
    assert not torch.equal(next(iter(first.parameters())), next(iter(other.parameters())))
    assert capsys.readouterr().out == ""  # prints nothing: a job for worker processes
    with pytest.raises(TypeError, match="long"):
        rebalancing.train_conditional_gan(0, images, classes.float(), steps=1)
    with pytest.raises(ValueError, match="one label per image"):
        rebalancing.train_conditional_gan(0, images, classes[:-1], steps=1)


# --- issue 31: labels and sizes checked at the door --------------------------------------------------


def test_conditional_players_refuse_labels_of_the_wrong_length_or_range():
    discriminator = rebalancing.ConditionalDCGANDiscriminator(num_classes=10, width=4)
    generator = rebalancing.ConditionalDCGANGenerator(8, num_classes=10, width=4)
    images = torch.zeros(4, 784)
    with pytest.raises(
        ValueError, match=r"labels must have shape \(batch,\) = \(4,\), one label per image, got \(1,\)"
    ):
        discriminator(images, torch.tensor([3]))  # used to apply label 3 to all four images
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.9 \(num_classes=10\), got 1\.\.10"):
        discriminator(images, torch.tensor([10, 1, 2, 3]))  # used to raise IndexError inside nn.Embedding
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.9"):
        generator(torch.zeros(4, 8), torch.tensor([10, 1, 2, 3]))  # used to raise a RuntimeError in one_hot
    with pytest.raises(TypeError, match="long"):
        discriminator(images, torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert discriminator(images, torch.tensor([0, 1, 2, 9])).shape == (4,)


def test_train_stacked_classifiers_names_bad_sizes_and_rates():
    images, labels = _toy_pools(2)
    probabilities, weights = torch.ones(labels.shape, dtype=torch.float64), torch.ones(2, 4)
    with pytest.raises(ValueError, match="seeds must be a positive integer, got 0"):
        rebalancing.train_stacked_classifiers(images, labels, probabilities, weights, seeds=0, steps=1, num_classes=4)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0, got inf"):
        rebalancing.train_stacked_classifiers(
            images, labels, probabilities, weights, seeds=1, steps=1, num_classes=4, learning_rate=math.inf
        )
    with pytest.raises(ValueError, match=r"labels must have shape \(runs = arms × seeds, pool\) like inputs"):
        rebalancing.train_stacked_classifiers(
            images, labels[:, :-1], probabilities[:, :-1], weights, seeds=1, steps=1, num_classes=4
        )
    with pytest.raises(ValueError, match="probabilities must be >= 0"):
        rebalancing.train_stacked_classifiers(images, labels, -probabilities, weights, seeds=1, steps=1, num_classes=4)
