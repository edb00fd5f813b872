"""Tests for helpers.self_attention: the formula, the masks, the modules, against PyTorch and against the math."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.self_attention.attention import MultiHeadAttention, SelfAttention, scaled_dot_product_attention
from helpers.self_attention.masks import (
    causal_mask,
    padding_mask,
    to_pytorch_attn_mask,
    to_pytorch_key_padding_mask,
)

TIGHT = {"atol": 1e-6, "rtol": 1e-5}


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def qkv(batch=2, heads=3, q_len=5, k_len=7, d_k=16, d_v=8):
    query = torch.randn(batch, heads, q_len, d_k)
    return query, torch.randn(batch, heads, k_len, d_k), torch.randn(batch, heads, k_len, d_v)


# --- the formula --------------------------------------------------------------------------------


def test_formula_by_hand():
    """softmax(Q Kᵀ / √d_k) V on numbers small enough to write out: catches a missing or wrong scale."""
    q = torch.tensor([[[1.0, 0.0, 0.0, 0.0]]])  # (1, 1, 4)
    k = torch.tensor([[[2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]]])  # (1, 2, 4)
    v = torch.tensor([[[1.0], [0.0]]])  # (1, 2, 1)
    output, weights = scaled_dot_product_attention(q, k, v)
    # scores (2, 0) / √4 = (1, 0); softmax = (e, 1) / (e + 1)
    expected = torch.tensor([math.e, 1.0]) / (math.e + 1)
    torch.testing.assert_close(weights[0, 0], expected)
    torch.testing.assert_close(output[0, 0, 0], expected[0])


def test_weights_rows_sum_to_one_and_output_is_weighted_mean():
    q, k, v = qkv()
    output, weights = scaled_dot_product_attention(q, k, v)
    assert weights.shape == (2, 3, 5, 7) and output.shape == (2, 3, 5, 8)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5))
    torch.testing.assert_close(output, weights @ v)


@pytest.mark.parametrize("mask_kind", ["none", "padding", "causal", "both"])
def test_equals_pytorch_functional(mask_kind):
    q, k, v = qkv(q_len=6, k_len=6)
    masks = {
        "none": None,
        "padding": padding_mask(torch.tensor([6, 3])),
        "causal": causal_mask(6),
        "both": padding_mask(torch.tensor([6, 3])) & causal_mask(6),
    }
    mask = masks[mask_kind]
    ours, _ = scaled_dot_product_attention(q, k, v, mask)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(ours, theirs, **TIGHT)


def test_mask_is_true_means_may_attend():
    """A transposed / inverted mask would put weight on the blocked keys."""
    q, k, v = qkv(batch=1, heads=1, q_len=4, k_len=4)
    _, weights = scaled_dot_product_attention(q, k, v, causal_mask(4))
    assert torch.all(weights[0, 0].triu(diagonal=1) == 0)  # nothing above the diagonal (the future)
    assert torch.all(weights[0, 0][causal_mask(4)] > 0)  # everything allowed gets some weight
    assert weights[0, 0, 0, 0] == 1.0  # the first query sees only itself


def test_fully_masked_row_gives_zeros_not_nan_and_matches_pytorch():
    q, k, v = qkv(batch=1, heads=1, q_len=3, k_len=4)
    q.requires_grad_(True)
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[1] = False  # query 1 may attend to nothing
    output, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.all(weights[0, 0, 1] == 0) and torch.all(output[0, 0, 1] == 0)
    torch.testing.assert_close(output, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), **TIGHT)
    output.sum().backward()
    assert torch.isfinite(q.grad).all()


def test_zero_length_padding_row_is_finite():
    q, k, v = qkv(batch=2, heads=1, q_len=3, k_len=3)
    output, _ = scaled_dot_product_attention(q, k, v, padding_mask(torch.tensor([3, 0])))
    assert torch.isfinite(output).all() and torch.all(output[1] == 0)


def test_dropout_drops_weights_and_rescales():
    q, k, v = qkv(batch=4, heads=4, q_len=8, k_len=8)
    torch.manual_seed(1)
    _, dropped = scaled_dot_product_attention(q, k, v, dropout=0.5)
    _, clean = scaled_dot_product_attention(q, k, v)
    zeros = dropped == 0
    assert 0.3 < zeros.float().mean() < 0.7
    torch.testing.assert_close(dropped[~zeros], 2 * clean[~zeros])


# --- masks --------------------------------------------------------------------------------------


def test_padding_mask_values_and_shape():
    mask = padding_mask(torch.tensor([3, 1, 0]), max_length=4)
    assert mask.shape == (3, 1, 1, 4) and mask.dtype == torch.bool
    assert mask[:, 0, 0].tolist() == [[True, True, True, False], [True, False, False, False], [False] * 4]
    assert padding_mask(torch.tensor([2, 5])).shape == (2, 1, 1, 5)


def test_causal_mask_values():
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]


def test_conversion_to_pytorch_conventions():
    mask = padding_mask(torch.tensor([2, 3]), max_length=3)
    assert to_pytorch_key_padding_mask(mask).tolist() == [[False, False, True], [False, False, False]]
    assert torch.equal(to_pytorch_attn_mask(causal_mask(3)), ~causal_mask(3))
    per_example = to_pytorch_attn_mask(mask & causal_mask(3), num_heads=2)
    assert per_example.shape == (4, 3, 3)
    assert torch.equal(per_example[2], ~(causal_mask(3)))  # example 1, head 0: no padding


def test_batch_of_different_lengths_equals_each_alone():
    """Padding must be invisible: each padded example's real positions equal the example run unpadded."""
    attention = MultiHeadAttention(16, 4).eval()
    lengths = torch.tensor([5, 2, 4])
    x = torch.randn(3, 5, 16)
    output, _ = attention(x, x, x, padding_mask(lengths))
    for row, length in enumerate(lengths.tolist()):
        alone = x[row : row + 1, :length]
        expected, _ = attention(alone, alone, alone)
        torch.testing.assert_close(output[row, :length], expected[0], **TIGHT)


def test_causal_output_does_not_depend_on_the_future():
    attention = MultiHeadAttention(16, 4).eval()
    x = torch.randn(2, 6, 16)
    changed = x.clone()
    changed[:, 4:] = torch.randn(2, 2, 16)  # rewrite the future after position 3
    before, _ = attention(x, x, x, causal_mask(6))
    after, _ = attention(changed, changed, changed, causal_mask(6))
    torch.testing.assert_close(before[:, :4], after[:, :4], atol=0, rtol=0)
    assert not torch.allclose(before[:, 4:], after[:, 4:])


# --- modules against PyTorch --------------------------------------------------------------------


def pytorch_mha(d_model=16, heads=4, bias=True) -> nn.MultiheadAttention:
    module = nn.MultiheadAttention(d_model, heads, bias=bias, batch_first=True).eval()
    with torch.no_grad():  # non-zero biases so that a dropped bias shows up
        for parameter in (module.in_proj_bias, module.out_proj.bias):
            if parameter is not None:
                parameter.normal_()
    return module


@pytest.mark.parametrize("bias", [True, False])
def test_multi_head_self_attention_equals_pytorch(bias):
    theirs = pytorch_mha(bias=bias)
    ours = MultiHeadAttention.from_pytorch(theirs).eval()
    x = torch.randn(3, 6, 16)
    out, weights = ours(x, x, x)
    expected_out, expected_weights = theirs(x, x, x, average_attn_weights=False)
    torch.testing.assert_close(out, expected_out, **TIGHT)
    torch.testing.assert_close(weights, expected_weights, **TIGHT)


def test_encoder_decoder_attention_equals_pytorch_with_padding():
    theirs = pytorch_mha()
    ours = MultiHeadAttention.from_pytorch(theirs).eval()
    decoder, encoder = torch.randn(2, 4, 16), torch.randn(2, 7, 16)
    mask = padding_mask(torch.tensor([7, 5]))
    out, weights = ours(decoder, encoder, encoder, mask)
    expected_out, expected_weights = theirs(
        decoder, encoder, encoder, key_padding_mask=to_pytorch_key_padding_mask(mask), average_attn_weights=False
    )
    assert weights.shape == (2, 4, 4, 7)
    torch.testing.assert_close(out, expected_out, **TIGHT)
    torch.testing.assert_close(weights, expected_weights, **TIGHT)


def test_causal_and_padding_masks_equal_pytorch():
    theirs = pytorch_mha()
    ours = MultiHeadAttention.from_pytorch(theirs).eval()
    x = torch.randn(2, 5, 16)
    mask = padding_mask(torch.tensor([5, 3])) & causal_mask(5)
    out, _ = ours(x, x, x, mask)
    expected, _ = theirs(x, x, x, attn_mask=to_pytorch_attn_mask(mask, num_heads=4))
    torch.testing.assert_close(out, expected, **TIGHT)
    expected_split, _ = theirs(  # the same with PyTorch's two separate masks
        x,
        x,
        x,
        attn_mask=to_pytorch_attn_mask(causal_mask(5)),
        key_padding_mask=to_pytorch_key_padding_mask(padding_mask(torch.tensor([5, 3]))),
    )
    torch.testing.assert_close(out, expected_split, **TIGHT)


def test_to_pytorch_round_trip():
    ours = MultiHeadAttention(16, 2).eval()
    with torch.no_grad():
        ours.q_proj.bias.normal_()
    theirs = ours.to_pytorch().eval()
    x, y = torch.randn(2, 3, 16), torch.randn(2, 5, 16)
    torch.testing.assert_close(ours(x, y, y)[0], theirs(x, y, y)[0], **TIGHT)


def test_fast_path_equals_written_out_path():
    attention = MultiHeadAttention(32, 4).eval()
    x = torch.randn(2, 9, 32)
    mask = padding_mask(torch.tensor([9, 4])) & causal_mask(9)
    slow, weights = attention(x, x, x, mask)
    fast, none = attention(x, x, x, mask, need_weights=False)
    assert none is None and weights is not None
    torch.testing.assert_close(fast, slow, **TIGHT)


def test_heads_are_independent_slices():
    """Head h must only see features h*d_k:(h+1)*d_k of the projections (a reshape without the
    transpose mixes positions into heads and fails this)."""
    attention = MultiHeadAttention(8, 2).eval()
    x = torch.randn(1, 5, 8)
    _, weights = attention(x, x, x)
    q, k = attention.q_proj(x)[..., 4:], attention.k_proj(x)[..., 4:]  # head 1
    expected = (q @ k.transpose(-2, -1) / 2.0).softmax(-1)
    torch.testing.assert_close(weights[:, 1], expected, **TIGHT)


def test_self_attention_single_head():
    head = SelfAttention(12, 4)
    x = torch.randn(2, 5, 12)
    output, weights = head(x, padding_mask(torch.tensor([5, 2])))
    assert output.shape == (2, 5, 4) and weights.shape == (2, 5, 5)
    assert torch.all(weights[1, :, 2:] == 0)
    q, k, v = head.query(x), head.key(x), head.value(x)
    expected = F.softmax(q[:1] @ k[:1].transpose(1, 2) / 2.0, dim=-1) @ v[:1]
    torch.testing.assert_close(output[:1], expected, **TIGHT)


def test_gradients_reach_every_parameter_and_input():
    attention = MultiHeadAttention(16, 4, dropout=0.1).train()
    x = torch.randn(2, 5, 16, requires_grad=True)
    output, _ = attention(x, x, x, padding_mask(torch.tensor([5, 3])) & causal_mask(5))
    output.pow(2).mean().backward()
    for name, parameter in attention.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_dropout_only_in_training():
    attention = MultiHeadAttention(16, 4, dropout=0.5)
    x = torch.randn(2, 5, 16)
    attention.eval()
    torch.testing.assert_close(attention(x, x, x)[0], attention(x, x, x)[0], atol=0, rtol=0)
    attention.train()
    assert not torch.allclose(attention(x, x, x)[0], attention(x, x, x)[0])


# --- errors -------------------------------------------------------------------------------------


def test_error_messages_name_the_shapes():
    attention = MultiHeadAttention(16, 4)
    x = torch.randn(2, 5, 16)
    expected = r"query must have shape \(batch, q_len, d_model\) = \(\*, \*, 16\), got \(2, 5, 12\)"
    with pytest.raises(ValueError, match=expected):
        attention(torch.randn(2, 5, 12), x, x)
    with pytest.raises(ValueError, match=r"query must have shape .* got \(5, 16\)"):
        attention(torch.randn(5, 16), x, x)
    expected = r"value must have shape \(batch, k_len, d_model\) = \(2, 5, 16\), got \(2, 4, 16\)"
    with pytest.raises(ValueError, match=expected):
        attention(x, x, torch.randn(2, 4, 16))
    with pytest.raises(ValueError, match=r"mask of shape \(3, 1, 1, 5\) does not fit .* \(2, 4, 5, 5\)"):
        attention(x, x, x, padding_mask(torch.tensor([5, 5, 5])))
    with pytest.raises(ValueError, match=r"mask of shape \(2, 1, 1, 6\) does not fit"):
        attention(x, x, x, padding_mask(torch.tensor([6, 5])))
    with pytest.raises(ValueError, match="must be a boolean tensor"):
        attention(x, x, x, causal_mask(5).float())


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"d_model \(10\) must be divisible by num_heads \(4\)"):
        MultiHeadAttention(10, 4)
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        MultiHeadAttention(16, 0)
    with pytest.raises(ValueError, match="dropout must be a number in"):
        MultiHeadAttention(16, 4, dropout=1.5)


def test_function_errors():
    q, k, v = qkv()
    with pytest.raises(ValueError, match=r"same last size d_k .* query \(2, 3, 5, 16\), key \(2, 3, 7, 8\)"):
        scaled_dot_product_attention(q, k[..., :8], v)
    with pytest.raises(ValueError, match=r"key and value must have the same length k_len"):
        scaled_dot_product_attention(q, k, v[..., :6, :])
    with pytest.raises(ValueError, match=r"at least 2 axes, got \(16,\)"):
        scaled_dot_product_attention(torch.randn(16), k, v)
    with pytest.raises(ValueError, match=r"lengths must be a 1-D integer tensor"):
        padding_mask(torch.tensor([[3]]))
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, max_length=3\], got \[5\]"):
        padding_mask(torch.tensor([5]), max_length=3)
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, max_length=3\], got \[-1\]"):
        padding_mask(torch.tensor([-1]), max_length=3)
    with pytest.raises(ValueError, match=r"1-D integer tensor \(batch,\), got torch.float32"):
        padding_mask(torch.tensor([2.7]))  # a float length is refused, not truncated
    with pytest.raises(ValueError, match=r"takes a \(q_len, k_len\) mask"):
        to_pytorch_attn_mask(padding_mask(torch.tensor([2])))


# --- issue 22: mask shapes with PyTorch's meaning, dtypes kept, gradients equal PyTorch's -------------


def test_per_example_3d_mask_is_refused_not_applied_along_heads():
    """(batch, q_len, k_len) with batch == heads used to broadcast along the heads axis: example 0's mask
    landed on head 0 of every example. It must be refused, naming the shapes to use."""
    attention = MultiHeadAttention(16, 2).eval()
    x = torch.randn(2, 4, 16)
    per_example = torch.rand(2, 4, 4) > 0.3
    per_example[..., 0] = True
    expected = r"\(2, 4, 4\) does not fit .* m\[:, None\].* \(batch \* heads, q_len, k_len\) = \(4, 4, 4\)"
    with pytest.raises(ValueError, match=expected):
        attention(x, x, x, per_example)
    q, k, v = qkv(batch=2, heads=2, q_len=4, k_len=4)
    with pytest.raises(ValueError, match=r"\(2, 4, 4\) does not fit the attention scores"):
        scaled_dot_product_attention(q, k, v, per_example)
    with pytest.raises(ValueError, match=r"mask of shape \(4,\) does not fit"):
        scaled_dot_product_attention(q, k, v, torch.ones(4, dtype=torch.bool))
    # the suggested fix, m[:, None], gives each example its own mask
    output, weights = attention(x, x, x, per_example[:, None])
    for example in range(2):
        alone, _ = attention(
            x[example : example + 1], x[example : example + 1], x[example : example + 1], per_example[example]
        )
        torch.testing.assert_close(output[example], alone[0], **TIGHT)
    assert torch.all(weights[~per_example[:, None].expand_as(weights)] == 0)


def test_pytorch_3d_mask_layout_batch_times_heads_means_the_same_as_in_pytorch():
    theirs = pytorch_mha(heads=4)
    ours = MultiHeadAttention.from_pytorch(theirs).eval()
    x = torch.randn(3, 5, 16)
    allowed = torch.rand(3 * 4, 5, 5) > 0.4  # row b * heads + h: example b, head h
    allowed[..., 0] = True
    out, weights = ours(x, x, x, allowed)
    expected, expected_weights = theirs(x, x, x, attn_mask=~allowed, average_attn_weights=False)
    torch.testing.assert_close(out, expected, **TIGHT)
    torch.testing.assert_close(weights, expected_weights, **TIGHT)
    torch.testing.assert_close(ours(x, x, x, allowed, need_weights=False)[0], expected, **TIGHT)


def test_three_d_mask_with_three_d_scores_and_single_head():
    q, k, v = torch.randn(3, 4, 8), torch.randn(3, 6, 8), torch.randn(3, 6, 5)  # no heads axis
    allowed = torch.rand(3, 4, 6) > 0.3
    ours, _ = scaled_dot_product_attention(q, k, v, allowed)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), **TIGHT)
    head = SelfAttention(12, 4)
    x = torch.randn(3, 5, 12)
    allowed = torch.rand(3, 5, 5) > 0.3
    output, weights = head(x, allowed)  # one head: (batch, seq, seq) is also PyTorch's (batch * 1, seq, seq)
    assert torch.all(weights[~allowed] == 0)
    torch.testing.assert_close(output[1], head(x[1:2], allowed[1])[0][0], **TIGHT)


def test_mask_is_checked_once_per_call(monkeypatch):
    import helpers.self_attention.attention as attention_module

    calls = []
    original = attention_module.checked_mask
    monkeypatch.setattr(attention_module, "checked_mask", lambda *a, **k: calls.append(1) or original(*a, **k))
    attention = MultiHeadAttention(16, 4)
    x = torch.randn(2, 5, 16)
    attention(x, x, x, causal_mask(5))
    assert len(calls) == 1


def test_dtypes_are_kept_or_refused_by_name():
    q, k, v = (t.double() for t in qkv())
    output, weights = scaled_dot_product_attention(q, k, v, causal_mask(7)[:5])
    assert output.dtype == weights.dtype == torch.float64
    with pytest.raises(TypeError, match=r"floating-point tensors of one dtype, got torch.float64, torch.float32"):
        scaled_dot_product_attention(q, k.float(), v)
    with pytest.raises(TypeError, match="floating-point"):
        scaled_dot_product_attention(*(torch.randint(0, 5, (2, 3, 4)) for _ in range(3)))
    attention = MultiHeadAttention(16, 4)
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"query has dtype torch.float64 but the module's weights are torch.float32"):
        attention(x, x, x)
    assert attention.double()(x, x, x)[0].dtype == torch.float64


def test_from_pytorch_keeps_float64_weights_exactly_and_copies_dropout_and_mode():
    theirs = nn.MultiheadAttention(16, 4, dropout=0.25, batch_first=True, dtype=torch.float64)
    ours = MultiHeadAttention.from_pytorch(theirs)
    assert ours.q_proj.weight.dtype == torch.float64
    assert torch.equal(torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight]), theirs.in_proj_weight)
    assert ours.dropout == 0.25 and ours.to_pytorch().dropout == 0.25 and ours.training
    assert not MultiHeadAttention.from_pytorch(theirs.eval()).training
    x = torch.randn(2, 6, 16, dtype=torch.float64)
    torch.testing.assert_close(ours.eval()(x, x, x)[0], theirs(x, x, x)[0], atol=1e-12, rtol=1e-12)
    native = MultiHeadAttention(16, 4, dropout=0.25).double().train()  # same class, same dropout: drops too
    ours.train()
    for module in (native, ours):
        assert not torch.equal(module(x, x, x)[0], module(x, x, x)[0])


GRADIENT = {"atol": 1e-12, "rtol": 1e-10}


@pytest.mark.parametrize("mask_kind", ["none", "padding & causal"])
def test_function_gradients_equal_pytorch_float64(mask_kind):
    q, k, v = (t.double().requires_grad_() for t in qkv(q_len=6, k_len=6))
    mask = None if mask_kind == "none" else padding_mask(torch.tensor([6, 2])) & causal_mask(6)
    upstream = torch.randn(2, 3, 6, 8, dtype=torch.float64)
    ours = torch.autograd.grad(scaled_dot_product_attention(q, k, v, mask)[0], (q, k, v), upstream)
    theirs = torch.autograd.grad(F.scaled_dot_product_attention(q, k, v, attn_mask=mask), (q, k, v), upstream)
    for name, mine, reference in zip("qkv", ours, theirs, strict=True):
        assert reference.abs().sum() > 0, name
        torch.testing.assert_close(mine, reference, **GRADIENT, msg=f"gradient of {name}")


@pytest.mark.parametrize("need_weights", [True, False])
def test_multi_head_gradients_equal_pytorch_float64(need_weights):
    """Every input and parameter gradient equals nn.MultiheadAttention's: detaching the value path (or any
    other) inside MultiHeadAttention fails here."""
    theirs = pytorch_mha().double()
    ours = MultiHeadAttention.from_pytorch(theirs).eval()
    mask = padding_mask(torch.tensor([7, 4]))
    inputs = [torch.randn(2, n, 16, dtype=torch.float64, requires_grad=True) for n in (5, 7, 7)]
    upstream = torch.randn(2, 5, 16, dtype=torch.float64)
    our_out = ours(*inputs, mask, need_weights=need_weights)[0]
    our_grads = torch.autograd.grad(our_out, [*inputs, *ours.parameters()], upstream)
    their_out = theirs(*inputs, key_padding_mask=to_pytorch_key_padding_mask(mask))[0]
    their_grads = torch.autograd.grad(their_out, [*inputs, *theirs.parameters()], upstream)
    for name, mine, reference in zip(("query", "key", "value"), our_grads[:3], their_grads[:3], strict=True):
        torch.testing.assert_close(mine, reference, **GRADIENT, msg=f"gradient of {name}")
    mine = dict(zip((n for n, _ in ours.named_parameters()), our_grads[3:], strict=True))
    reference = dict(zip((n for n, _ in theirs.named_parameters()), their_grads[3:], strict=True))
    stacked = torch.cat([mine["q_proj.weight"], mine["k_proj.weight"], mine["v_proj.weight"]])
    torch.testing.assert_close(stacked, reference["in_proj_weight"], **GRADIENT)
    stacked = torch.cat([mine["q_proj.bias"], mine["k_proj.bias"], mine["v_proj.bias"]])
    torch.testing.assert_close(stacked, reference["in_proj_bias"], **GRADIENT)
    torch.testing.assert_close(mine["out_proj.weight"], reference["out_proj.weight"], **GRADIENT)
