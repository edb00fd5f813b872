"""helpers.transformer.model against PyTorch's own layers and against the paper's formulas."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helpers.self_attention.masks import (
    causal_mask,
    padding_mask,
    to_pytorch_attn_mask,
    to_pytorch_key_padding_mask,
)
from helpers.transformer.model import (
    Decoder,
    DecoderLayer,
    Encoder,
    EncoderLayer,
    PositionalEncoding,
    TokenEmbedding,
    Transformer,
    sinusoidal_positional_encoding,
)
from helpers.transformer.seq2seq import greedy_decode

D_MODEL, HEADS, D_FF = 16, 4, 32


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# --- positional encoding and embeddings ---------------------------------------------------------


def test_positional_encoding_is_the_papers_formula() -> None:
    table = sinusoidal_positional_encoding(50, D_MODEL)
    assert table.shape == (50, D_MODEL)
    for pos in (0, 1, 7, 49):
        for i in range(D_MODEL // 2):
            angle = pos / 10000 ** (2 * i / D_MODEL)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-5)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-5)


def test_positional_encoding_adds_the_table_and_refuses_long_sequences() -> None:
    module = PositionalEncoding(D_MODEL, max_length=10)
    x = torch.randn(2, 6, D_MODEL)
    torch.testing.assert_close(module(x), x + sinusoidal_positional_encoding(10, D_MODEL)[:6])
    with pytest.raises(ValueError, match="max_length=10"):
        module(torch.randn(2, 11, D_MODEL))
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positional_encoding(10, 7)


def test_token_embedding_is_scaled_by_sqrt_d_model_and_checks_ids() -> None:
    embedding = TokenEmbedding(20, D_MODEL, "source")
    ids = torch.tensor([[1, 2, 3]])
    torch.testing.assert_close(embedding(ids), embedding.embedding.weight[ids] * math.sqrt(D_MODEL))
    expected = r"source ids must lie in \[0, 20\), got ids from 1 to 20; encode with the vocabulary"
    with pytest.raises(ValueError, match=expected):
        embedding(torch.tensor([[1, 20]]))
    with pytest.raises(ValueError, match=r"\(batch, seq\)"):
        embedding(torch.tensor([1, 2]))


# --- layers equal PyTorch's (post-norm, ReLU, dropout off) --------------------------------------


def _pytorch_encoder_layer() -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(D_MODEL, HEADS, D_FF, dropout=0.0, batch_first=True).eval()


def _pytorch_decoder_layer() -> nn.TransformerDecoderLayer:
    return nn.TransformerDecoderLayer(D_MODEL, HEADS, D_FF, dropout=0.0, batch_first=True).eval()


def test_encoder_layer_equals_pytorch() -> None:
    theirs = _pytorch_encoder_layer()
    ours = EncoderLayer.from_pytorch(theirs).eval()
    x, mask = torch.randn(3, 7, D_MODEL), padding_mask(torch.tensor([7, 4, 2]))
    expected = theirs(x, src_key_padding_mask=to_pytorch_key_padding_mask(mask))
    actual, weights = ours(x, mask, need_weights=True)
    real = mask[:, 0, 0, :, None]  # PyTorch's fast path may leave padded rows as they come: compare real tokens
    torch.testing.assert_close(actual * real, expected * real, atol=1e-5, rtol=1e-5)
    assert weights.shape == (3, HEADS, 7, 7)
    fast, none = ours(x, mask)  # the fused kernel gives the same numbers
    torch.testing.assert_close(fast, actual, atol=1e-5, rtol=1e-5)
    assert none is None


def test_decoder_layer_equals_pytorch() -> None:
    theirs = _pytorch_decoder_layer()
    ours = DecoderLayer.from_pytorch(theirs).eval()
    x, memory = torch.randn(3, 5, D_MODEL), torch.randn(3, 7, D_MODEL)
    future, memory_mask = causal_mask(5), padding_mask(torch.tensor([7, 4, 2]))
    expected = theirs(
        x,
        memory,
        tgt_mask=to_pytorch_attn_mask(future),
        memory_key_padding_mask=to_pytorch_key_padding_mask(memory_mask),
    )
    actual, self_weights, cross_weights = ours(x, memory, future, memory_mask, need_weights=True)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
    assert self_weights.shape == (3, HEADS, 5, 5) and cross_weights.shape == (3, HEADS, 5, 7)
    assert float(cross_weights.detach()[1, :, :, 4:].abs().sum()) == 0.0  # padded source positions get no weight


def test_stacks_equal_pytorch_stacks_without_their_final_norm() -> None:
    encoder_layer, decoder_layer = _pytorch_encoder_layer(), _pytorch_decoder_layer()
    their_encoder = nn.TransformerEncoder(encoder_layer, 2, norm=None, enable_nested_tensor=False).eval()
    their_decoder = nn.TransformerDecoder(decoder_layer, 2, norm=None).eval()
    sizes = {"num_layers": 2, "d_model": D_MODEL, "num_heads": HEADS, "d_ff": D_FF, "dropout": 0.0}
    our_encoder, our_decoder = Encoder(**sizes), Decoder(**sizes)
    our_encoder.layers = nn.ModuleList(EncoderLayer.from_pytorch(layer) for layer in their_encoder.layers)
    our_decoder.layers = nn.ModuleList(DecoderLayer.from_pytorch(layer) for layer in their_decoder.layers)
    source, target = torch.randn(2, 6, D_MODEL), torch.randn(2, 4, D_MODEL)
    memory = their_encoder(source)
    torch.testing.assert_close(our_encoder.eval()(source)[0], memory, atol=1e-5, rtol=1e-5)
    expected = their_decoder(target, memory, tgt_mask=to_pytorch_attn_mask(causal_mask(4)))
    torch.testing.assert_close(our_decoder.eval()(target, memory, causal_mask(4))[0], expected, atol=1e-5, rtol=1e-5)
    # nn.Transformer adds a LayerNorm after each stack; ours has only the layers' own (2 or 3 per layer).
    reference = nn.Transformer(D_MODEL, HEADS, 2, 2, D_FF, batch_first=True)
    assert isinstance(reference.encoder.norm, nn.LayerNorm) and isinstance(reference.decoder.norm, nn.LayerNorm)
    assert sum(isinstance(m, nn.LayerNorm) for m in our_encoder.modules()) == 2 * 2
    assert sum(isinstance(m, nn.LayerNorm) for m in our_decoder.modules()) == 3 * 2


def test_from_pytorch_rejects_other_layer_kinds() -> None:
    with pytest.raises(ValueError, match="relu"):
        DecoderLayer.from_pytorch(nn.TransformerDecoderLayer(D_MODEL, HEADS, D_FF, batch_first=True, activation="gelu"))
    with pytest.raises(TypeError, match="TransformerEncoderLayer"):
        EncoderLayer.from_pytorch(_pytorch_decoder_layer())


# --- the whole model ----------------------------------------------------------------------------


def _model(dropout: float = 0.0) -> Transformer:
    return Transformer(
        12, 9, num_layers=2, d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF, dropout=dropout, max_length=16
    ).eval()


def test_decoder_cannot_see_the_future() -> None:
    model = _model()
    source = torch.randint(1, 12, (2, 6))
    target = torch.randint(1, 9, (2, 8))
    changed = target.clone()
    changed[:, 5:] = (changed[:, 5:] % 8) + 1  # new tokens after position 4
    logits, changed_logits = model(source, target), model(source, changed)
    torch.testing.assert_close(changed_logits[:, :5], logits[:, :5])
    assert not torch.allclose(changed_logits[:, 5:], logits[:, 5:])  # the later outputs do depend on them


def test_source_padding_is_ignored() -> None:
    model = _model()
    source, target = torch.tensor([[3, 4, 5, 6]]), torch.tensor([[2, 5, 6]])
    padded = torch.tensor([[3, 4, 5, 6, 0, 0, 0]])
    torch.testing.assert_close(model(padded, target), model(source, target), atol=1e-6, rtol=1e-5)


def test_model_shapes_and_errors() -> None:
    model = _model()
    assert model(torch.randint(1, 12, (3, 6)), torch.randint(1, 9, (3, 5))).shape == (3, 5, 9)
    with pytest.raises(ValueError, match="source and target vocabularies"):
        model(torch.randint(1, 12, (3, 6)), torch.full((3, 5), 10))
    with pytest.raises(ValueError, match="max_length=16"):
        model(torch.randint(1, 12, (3, 17)), torch.randint(1, 9, (3, 5)))
    with pytest.raises(ValueError, match="target_in"):
        model(torch.randint(1, 12, (3, 6)), torch.randint(1, 9, (2, 5)))


def test_attention_maps_shapes_and_rows_sum_to_one() -> None:
    model = _model()
    maps = model.attention_maps(torch.randint(1, 12, (2, 6)), torch.randint(1, 9, (2, 4)))
    assert [w.shape for w in maps["cross"]] == [(2, HEADS, 4, 6)] * 2
    assert [w.shape for w in maps["decoder"]] == [(2, HEADS, 4, 4)] * 2
    torch.testing.assert_close(maps["cross"][0].sum(-1), torch.ones(2, HEADS, 4))
    assert float(maps["decoder"][0].triu(diagonal=1).abs().sum()) == 0.0  # causal: nothing above the diagonal


def test_greedy_decode_follows_the_argmax_and_stops_at_eos() -> None:
    model = _model()
    bos, eos = 2, 3
    source = torch.randint(4, 12, (5, 6))
    output = greedy_decode(model, source, max_length=7, bos_id=bos, eos_id=eos)
    assert output.shape[0] == 5 and output.shape[1] <= 7
    logits = model(source, torch.cat([torch.full((5, 1), bos), output[:, :-1]], dim=1))
    for row in range(5):
        tokens = output[row].tolist()
        end = tokens.index(eos) + 1 if eos in tokens else len(tokens)
        assert logits[row, :end].argmax(-1).tolist() == tokens[:end]  # each token is the most likely next one
        assert all(token == model.padding_id for token in tokens[end:])  # padding after <eos>


# --- issue 22: float64, dropout, pre-norm and gradients against PyTorch ------------------------


def _grads(module: nn.Module, *inputs: torch.Tensor) -> dict[str, torch.Tensor]:
    """Parameter and input gradients under PyTorch's names (our W_Q, W_K, W_V stacked into in_proj)."""
    grads = {name: p.grad for name, p in module.named_parameters()}
    for ours, theirs in (("self_attention", "self_attn"), ("cross_attention", "multihead_attn")):
        for kind in ("weight", "bias"):
            parts = [grads.pop(f"{ours}.{p}_proj.{kind}", None) for p in "qkv"]
            if parts[0] is not None:
                grads[f"{theirs}.in_proj_{kind}"] = torch.cat(parts)
                grads[f"{theirs}.out_proj.{kind}"] = grads.pop(f"{ours}.out_proj.{kind}")
    grads = {name.replace("feed_forward.", ""): grad for name, grad in grads.items()}
    return {**grads, **{f"input {i}": x.grad for i, x in enumerate(inputs)}}


@pytest.mark.parametrize("norm_first", [False, True])
def test_layers_match_pytorch_in_float64_values_and_gradients(norm_first: bool) -> None:
    torch.manual_seed(3)
    kinds = {"dtype": torch.float64, "batch_first": True, "dropout": 0.0, "norm_first": norm_first}
    their_encoder = nn.TransformerEncoderLayer(D_MODEL, HEADS, D_FF, **kinds).train()
    their_decoder = nn.TransformerDecoderLayer(D_MODEL, HEADS, D_FF, **kinds).train()  # training: no fast path
    our_encoder, our_decoder = EncoderLayer.from_pytorch(their_encoder), DecoderLayer.from_pytorch(their_decoder)
    assert all(p.dtype == torch.float64 for p in [*our_encoder.parameters(), *our_decoder.parameters()])
    mask = padding_mask(torch.tensor([7, 4, 2]))
    x = torch.randn(3, 7, D_MODEL, dtype=torch.float64)
    y = torch.randn(3, 5, D_MODEL, dtype=torch.float64)
    outputs = []
    for ours in (True, False):
        xs, ys = x.clone().requires_grad_(), y.clone().requires_grad_()
        if ours:
            memory = our_encoder(xs, mask)[0]
            out = our_decoder(ys, memory, causal_mask(5), mask)[0]
        else:
            memory = their_encoder(xs, src_key_padding_mask=to_pytorch_key_padding_mask(mask))
            out = their_decoder(
                ys,
                memory,
                tgt_mask=to_pytorch_attn_mask(causal_mask(5)),
                memory_key_padding_mask=to_pytorch_key_padding_mask(mask),
            )
        (out * torch.linspace(-1, 1, out.numel(), dtype=torch.float64).view_as(out)).sum().backward()
        encoder_grads = _grads(our_encoder if ours else their_encoder, xs)
        outputs.append(
            (
                out.detach(),
                {
                    **{f"encoder {k}": v for k, v in encoder_grads.items()},
                    **_grads(our_decoder if ours else their_decoder, ys),
                },
            )
        )
    (ours_out, ours_grads), (theirs_out, theirs_grads) = outputs
    torch.testing.assert_close(ours_out, theirs_out, atol=1e-12, rtol=1e-10)
    assert sorted(ours_grads) == sorted(theirs_grads) and len(ours_grads) == 12 + 18 + 2  # parameters and inputs
    for name, grad in theirs_grads.items():
        torch.testing.assert_close(ours_grads[name], grad, atol=1e-11, rtol=1e-9, msg=name)


def test_from_pytorch_takes_over_every_dropout_like_a_native_layer() -> None:
    theirs = nn.TransformerEncoderLayer(D_MODEL, HEADS, D_FF, dropout=0.3, batch_first=True)
    copied = EncoderLayer.from_pytorch(theirs)
    native = EncoderLayer(d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF, dropout=0.3)
    for layer in (copied, native):
        assert layer.self_attention.dropout == 0.3 and layer.feed_forward.dropout.p == 0.3
        assert layer.dropout.p == 0.3 and layer.training
    decoder = DecoderLayer.from_pytorch(nn.TransformerDecoderLayer(D_MODEL, HEADS, D_FF, dropout=0.2, batch_first=True))
    assert decoder.cross_attention.dropout == 0.2 and decoder.feed_forward.dropout.p == 0.2


def test_source_mask_finds_padding_by_value_wherever_it_sits() -> None:
    model = _model()
    target = torch.tensor([[2, 5, 6]])
    plain = model(torch.tensor([[3, 4, 5, 6]]), target)
    mask = model.source_mask(torch.tensor([[0, 0, 3, 4], [3, 0, 4, 0]]))
    assert mask[:, 0, 0].tolist() == [[False, False, True, True], [True, False, True, False]]
    # the same tokens with padding on the left: only the positions (and so the encodings) differ
    assert model(torch.tensor([[0, 0, 3, 4, 5, 6]]), target).shape == plain.shape
    with pytest.raises(ValueError, match="no token but padding"):
        model(torch.tensor([[3, 4], [0, 0]]), torch.tensor([[2, 5], [2, 5]]))
    with pytest.raises(ValueError, match="no token but padding"):
        model(torch.zeros(2, 0, dtype=torch.long), torch.tensor([[2, 5], [2, 5]]))


def test_constructor_checks_its_arguments_once() -> None:
    with pytest.raises(ValueError, match=r"padding_id must be an id of both vocabularies, in \[0, 9\)"):
        Transformer(12, 9, num_layers=1, d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF, padding_id=9)
    with pytest.raises(ValueError, match="padding_id"):
        Transformer(12, 9, num_layers=1, d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF, padding_id=-1)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        Transformer(12, 9, num_layers=1, d_model=D_MODEL, num_heads=3, d_ff=D_FF)
    with pytest.raises(ValueError, match="num_layers"):
        Transformer(12, 9, num_layers=0, d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF)
    with pytest.raises(TypeError):
        Transformer(12, 9, 2, D_MODEL)  # sizes are keyword-only: a row of bare numbers is refused
    with pytest.raises(TypeError, match="integer token ids"):
        _model()(torch.ones(1, 3), torch.ones(1, 2, dtype=torch.long))


def test_greedy_decode_restores_the_models_mode() -> None:
    model = _model().train()
    greedy_decode(model, torch.randint(4, 12, (2, 5)), max_length=4, bos_id=2, eos_id=3)
    assert model.training
    with pytest.raises(ValueError, match="eos_id"):
        greedy_decode(model, torch.randint(4, 12, (2, 5)), max_length=4, bos_id=2, eos_id=99)


def test_no_positional_encoding_makes_the_encoder_order_blind() -> None:
    torch.manual_seed(0)
    blind = Transformer(
        12, 9, num_layers=2, d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF, dropout=0.0, positional_encoding=False
    ).eval()
    source = torch.tensor([[4, 5, 6, 7]])
    memory = blind.encode(source)[0]
    shuffled = blind.encode(source[:, [2, 0, 3, 1]])[0]
    torch.testing.assert_close(shuffled, memory[:, [2, 0, 3, 1]])  # permuting the input permutes the output
    seeing = _model()
    assert not torch.allclose(seeing.encode(source[:, [2, 0, 3, 1]])[0], seeing.encode(source)[0][:, [2, 0, 3, 1]])


# --- Table 3's options: learned positions (row E) and a key size of its own (row B) ----------------------


def test_learned_positions_train_only_where_inputs_reach_and_names_are_checked() -> None:
    learned = Transformer(12, 9, num_layers=1, d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF, dropout=0.0,
                          max_length=16, positional_encoding="learned")  # fmt: skip
    table = learned.positional_encoding.table
    assert isinstance(table, nn.Parameter) and table.shape == (16, D_MODEL)
    assert 0.3 < table.square().mean().item() < 0.7  # as large as the sinusoids', whose mean square is 1/2
    source, target_in = torch.randint(1, 12, (3, 6)), torch.randint(1, 9, (3, 4))
    x = torch.randn(3, 6, D_MODEL)
    torch.testing.assert_close(learned.positional_encoding(x), x + table[:6])
    learned(source, target_in).square().sum().backward()
    reached = table.grad.abs().sum(dim=1) > 0  # (16,): the encoder reads 6 positions, the decoder 4
    assert reached[:6].all() and not reached[6:].any()
    sinusoidal = Transformer(12, 9, num_layers=1, d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF, dropout=0.0,
                             max_length=16, positional_encoding="sinusoidal")  # fmt: skip
    assert not any(name.endswith("table") for name, _ in sinusoidal.named_parameters())  # a buffer, never trained
    torch.testing.assert_close(sinusoidal.positional_encoding.table, sinusoidal_positional_encoding(16, D_MODEL))
    blind = Transformer(12, 9, num_layers=1, d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF, positional_encoding="none")
    assert not blind.positional_encoding.table.any()
    with pytest.raises(ValueError, match="positional_encoding must be"):
        Transformer(12, 9, num_layers=1, d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF, positional_encoding="rotary")


def test_a_key_size_of_its_own_is_the_formula_with_values_kept() -> None:
    from helpers.self_attention.attention import MultiHeadAttention

    attention = MultiHeadAttention(D_MODEL, 2, d_k=3).double()  # d_k 3, d_v = 16 / 2 = 8
    query = torch.randn(2, 5, D_MODEL, dtype=torch.float64, requires_grad=True)
    memory = torch.randn(2, 7, D_MODEL, dtype=torch.float64)
    mask = torch.rand(2, 1, 1, 7) > 0.3

    def by_hand(x: torch.Tensor) -> torch.Tensor:
        q = attention.q_proj(x).view(2, 5, 2, 3).transpose(1, 2)  # (batch, heads, 5, d_k)
        k = attention.k_proj(memory).view(2, 7, 2, 3).transpose(1, 2)  # (batch, heads, 7, d_k)
        v = attention.v_proj(memory).view(2, 7, 2, 8).transpose(1, 2)  # (batch, heads, 7, d_v)
        scores = (q @ k.transpose(-1, -2) / math.sqrt(3)).masked_fill(~mask, float("-inf"))
        heads = scores.softmax(dim=-1) @ v  # (batch, heads, 5, d_v)
        return attention.out_proj(heads.transpose(1, 2).reshape(2, 5, D_MODEL))

    expected = by_hand(query)
    for need_weights in (True, False):
        ours = attention(query, memory, memory, mask, need_weights=need_weights)[0]
        torch.testing.assert_close(ours, expected, rtol=0, atol=1e-12)
        grad_ours, grad_expected = (torch.autograd.grad(out.sum(), query)[0] for out in (ours, by_hand(query)))
        torch.testing.assert_close(grad_ours, grad_expected, rtol=0, atol=1e-12)
    assert attention.q_proj.weight.shape == attention.k_proj.weight.shape == (2 * 3, D_MODEL)
    assert attention.v_proj.weight.shape == (D_MODEL, D_MODEL)
    with pytest.raises(ValueError, match="d_k"):
        attention.to_pytorch()
    model = Transformer(12, 9, num_layers=1, d_model=D_MODEL, num_heads=2, d_ff=D_FF, d_k=3)
    assert all(layer.self_attention.d_k == 3 for layer in [*model.encoder.layers, *model.decoder.layers])
    assert model.decoder.layers[0].cross_attention.d_k == 3


def test_translating_at_an_offset_shifts_the_positions_only() -> None:
    """Left padding is masked: an order-blind model answers alike at any offset, one with positions need not."""
    from helpers.data.text import Vocabulary
    from helpers.transformer.translate import PADDING_ID, SPECIALS, Translator

    texts = ["12.03.99", "1/2/03", "5 mai 2001"]
    sources = Vocabulary.build([list(text) for text in texts], specials=SPECIALS)
    targets = Vocabulary.build([list("0123456789-")], specials=SPECIALS)
    outputs = {}
    for positions in ("none", "sinusoidal"):
        torch.manual_seed(0)
        model = Transformer(len(sources), len(targets), num_layers=1, d_model=D_MODEL, num_heads=HEADS, d_ff=D_FF,
                            dropout=0.0, padding_id=PADDING_ID, positional_encoding=positions)  # fmt: skip
        translator = Translator(model.eval(), sources, targets, 10)
        outputs[positions] = [translator.translate(texts, offset=offset) for offset in (0, 5)]
        assert translator.translate(texts) == outputs[positions][0]
    assert outputs["none"][0] == outputs["none"][1]
    assert outputs["sinusoidal"][0] != outputs["sinusoidal"][1]
    with pytest.raises(ValueError, match="offset"):
        translator.translate(texts, offset=-1)
