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
    mean_ablated,
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


def test_mean_ablation_replaces_the_heads_output_by_its_batch_mean_only_where_asked():
    torch.manual_seed(0)
    model = AttentionOnly(16, num_layers=2, d_model=8, max_length=16).eval()
    tokens, _ = induction_batch(32, half=8, vocabulary_size=16, generator=torch.Generator().manual_seed(1))
    seen = []

    def record(module, inputs, output):
        seen.append(output[0])

    with torch.no_grad():
        handle = model.layers[0].register_forward_hook(record)
        original = model(tokens)
        handle.remove()
        with mean_ablated(model, 0, slice(1, 9)):
            handle = model.layers[0].register_forward_hook(record)  # hooks run in order: after the ablation's
            ablated = model(tokens)
            handle.remove()
    computed, written = seen  # layer 1's output without and with the ablation
    assert torch.equal(written[:, :1], computed[:, :1]) and torch.equal(written[:, 9:], computed[:, 9:])
    expected = computed[:, 1:9].mean(dim=0, keepdim=True).expand(32, -1, -1)
    assert torch.allclose(written[:, 1:9], expected, atol=1e-7)
    assert not torch.allclose(ablated, original)  # the model's output depends on what the head computed
    with torch.no_grad():
        assert torch.equal(model(tokens), original)  # the hook is gone after the block


def test_mean_ablation_errors():
    model = AttentionOnly(16, num_layers=2, d_model=8, max_length=16)
    with pytest.raises(ValueError, match=r"layer must be an int in 0\.\.1"):
        with mean_ablated(model, 2):
            pass
    with pytest.raises(TypeError, match="positions must be a slice"):
        with mean_ablated(model, 0, [1, 2]):
            pass
    with pytest.raises(TypeError, match="needs an AttentionOnly model"):
        with mean_ablated(torch.nn.Linear(2, 2), 0):
            pass


def test_induction_curve_is_measured_without_changing_the_training():
    from helpers.self_attention.experiments import induction_ablations, induction_study

    small = dict(steps=20, batch=8, test_sequences=40)
    every_5 = induction_study([0, 1], record_every=5, **small)
    once = induction_study([0, 1], record_every=20, **small)
    assert every_5.curve_steps == [5, 10, 15, 20] and once.curve_steps == [20]
    for name, accuracy in every_5.accuracy.items():
        assert every_5.curves[name].shape == (4, 2)
        assert torch.equal(every_5.curves[name][-1], accuracy)  # the last checkpoint is the trained model
        assert torch.equal(once.accuracy[name], accuracy)  # measuring along the way changed nothing
    assert set(every_5.ablated) == set(induction_ablations(8))
    assert all(values.shape == (2,) for values in every_5.ablated.values())
    shorter = induction_study([0, 1], half=6, vocabulary_size=10, steps=10, batch=4, test_sequences=20)
    assert set(shorter.ablated) == set(induction_ablations(6))  # other lengths work too


@pytest.mark.parametrize("half", [4, 8])
def test_the_keys_layer_2_reads_are_exactly_the_ablated_positions(half):
    from helpers.self_attention.experiments import induction_ablations

    tokens, targets = batch(seed=3, n=400, half=half, vocabulary_size=2 * half)
    read = set()
    for row, answers in zip(tokens.tolist(), targets.tolist(), strict=True):
        for position in range(half, 2 * half):
            earlier = row.index(row[position])  # the first occurrence, in the first half
            assert row[earlier + 1] == answers[position]  # the answer sits right after it
            read.add(earlier + 1)
    _, keys = induction_ablations(half)["layer 1, at the keys layer 2 reads"]
    _, others = induction_ablations(half)["layer 1, at the other positions"]
    assert read == set(range(2 * half)[keys])
    assert not read & set(range(2 * half)[others]) and set(range(2 * half)[others]) == set(range(half + 1, 2 * half))
