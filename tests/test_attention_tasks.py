"""Tests for helpers.self_attention.tasks: the induction task, the notes' formula, seeds trained together."""

from __future__ import annotations

import pytest
import torch

from helpers.self_attention.tasks import (
    IGNORE,
    AttentionOnly,
    BagOfWordsTagger,
    SeedStack,
    induction_batch,
    induction_targets_by_loop,
    notes_attention,
    seed_summed_cross_entropy,
)
from helpers.training import optimizer_step


def batch(seed=0, n=50, half=6, vocabulary_size=10):
    return induction_batch(n, half=half, vocabulary_size=vocabulary_size, generator=torch.Generator().manual_seed(seed))


def test_generator_is_deterministic_and_seed_dependent():
    tokens, targets = batch(0)
    again, again_targets = batch(0)
    assert torch.equal(tokens, again) and torch.equal(targets, again_targets)
    assert not torch.equal(tokens, batch(1)[0])


def test_targets_equal_the_plain_loop_definition():
    tokens, targets = batch(3, n=200)
    assert targets.tolist() == induction_targets_by_loop(tokens.tolist())


def test_sequences_have_the_promised_structure():
    tokens, targets = batch(4, n=200, half=6, vocabulary_size=10)
    assert tokens.shape == targets.shape == (200, 12) and tokens.dtype == torch.int64
    for row in tokens.tolist():
        assert len(set(row[:6])) == 6 and sorted(row[:6]) == sorted(row[6:])  # distinct, then the same shuffled
    assert torch.all(targets[:, :6] == IGNORE) and torch.all(targets[:, 6:] >= 0)
    offsets = {row[6:].index(row[0]) for row in tokens.tolist()}
    assert len(offsets) == 6  # the repeat's position varies: no fixed offset answers the task


def test_loop_reference_on_a_hand_example():
    assert induction_targets_by_loop([[3, 1, 2, 1, 3]]) == [[IGNORE, IGNORE, IGNORE, 2, 1]]


def test_generator_errors():
    generator = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match=r"vocabulary_size \(4\) must be >= half \(5\)"):
        induction_batch(3, half=5, vocabulary_size=4, generator=generator)
    with pytest.raises(ValueError, match="num_sequences must be a positive integer"):
        induction_batch(0, half=2, vocabulary_size=4, generator=generator)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        induction_batch(3, half=2, vocabulary_size=4, generator=0)


def test_notes_formula_normalises_over_features():
    q, k, v = torch.randn(2, 5, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 3)
    output = notes_attention(q, k, v)
    torch.testing.assert_close(output.sum(-1), torch.ones(2, 5))
    expected = (q @ k.transpose(-2, -1) / 2.0 @ v).softmax(-1)
    torch.testing.assert_close(output, expected)


@pytest.mark.parametrize(
    "make",
    [
        lambda: AttentionOnly(10, num_layers=2, d_model=8, max_length=12),
        lambda: AttentionOnly(10, num_layers=1, d_model=8, max_length=12, formula="notes"),
        lambda: BagOfWordsTagger(10, d_model=8),
    ],
)
def test_seed_stack_trains_each_copy_exactly_as_alone(make):
    """One Adam step on the stack equals one Adam step on each copy by itself (same seed, same batch)."""
    seeds = [0, 1, 2]
    stack = SeedStack(make, seeds)
    tokens, targets = batch(5, n=3 * 4)
    tokens, targets = tokens.view(3, 4, 12), targets.view(3, 4, 12)
    optimizer_step(torch.optim.Adam(stack.parameters(), lr=1e-2), seed_summed_cross_entropy(stack(tokens), targets))
    for index, seed in enumerate(seeds):
        torch.manual_seed(seed)
        alone = make()
        loss = torch.nn.functional.cross_entropy(alone(tokens[index]).flatten(0, 1), targets[index].flatten())
        optimizer_step(torch.optim.Adam(alone.parameters(), lr=1e-2), loss)
        copied = stack.copy_of(index, make)
        for (name, mine), theirs in zip(copied.named_parameters(), alone.parameters(), strict=True):
            torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=1e-5, msg=name)


def test_attention_only_is_causal_and_returns_weights():
    model = AttentionOnly(10, num_layers=2, d_model=8, max_length=12).eval()
    tokens = batch(6, n=2)[0]
    logits, weights = model(tokens, return_weights=True)
    assert logits.shape == (2, 12, 10) and len(weights) == 2 and weights[0].shape == (2, 12, 12)
    changed = tokens.clone()
    changed[:, 8:] = (changed[:, 8:] + 1) % 10
    torch.testing.assert_close(model(changed)[:, :8], logits[:, :8], atol=0, rtol=0)
    with pytest.raises(ValueError, match="formula must be one of"):
        AttentionOnly(10, num_layers=1, d_model=8, max_length=12, formula="softmax")


def test_models_refuse_float_tokens_and_too_long_sequences():
    model = AttentionOnly(10, num_layers=1, d_model=8, max_length=12)
    with pytest.raises(TypeError, match=r"int64 token ids, got torch.float32 \(2, 12\)"):
        model(batch(0, n=2)[0].float())
    with pytest.raises(ValueError, match=r"sequences of 14 tokens exceed max_length=12"):
        model(torch.zeros(2, 14, dtype=torch.int64))
    with pytest.raises(TypeError, match="int64 token ids"):
        BagOfWordsTagger(10, d_model=8)(torch.zeros(12, dtype=torch.int64))
