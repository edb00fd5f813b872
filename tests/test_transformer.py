"""helpers.transformer against PyTorch's own layers and against the paper's formulas."""

from __future__ import annotations

import math
from datetime import date

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.attention import causal_mask, padding_mask, to_pytorch_attn_mask, to_pytorch_key_padding_mask
from helpers.transformer import (
    DATE_FORMATS,
    FIRST_DATE,
    Decoder,
    DecoderLayer,
    Encoder,
    EncoderLayer,
    PositionalEncoding,
    TokenEmbedding,
    Transformer,
    date_examples,
    format_date,
    greedy_decode,
    label_smoothed_cross_entropy,
    sinusoidal_positional_encoding,
    split_dates,
    transformer_learning_rate,
    warmup_scheduler,
)

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
    module = PositionalEncoding(D_MODEL, max_len=10)
    x = torch.randn(2, 6, D_MODEL)
    torch.testing.assert_close(module(x), x + sinusoidal_positional_encoding(10, D_MODEL)[:6])
    with pytest.raises(ValueError, match="max_len=10"):
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
    expected = theirs(x, memory, tgt_mask=to_pytorch_attn_mask(future),
                      memory_key_padding_mask=to_pytorch_key_padding_mask(memory_mask))
    actual, self_weights, cross_weights = ours(x, memory, future, memory_mask, need_weights=True)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
    assert self_weights.shape == (3, HEADS, 5, 5) and cross_weights.shape == (3, HEADS, 5, 7)
    assert float(cross_weights.detach()[1, :, :, 4:].abs().sum()) == 0.0  # padded source positions get no weight


def test_stacks_equal_pytorch_stacks_without_their_final_norm() -> None:
    encoder_layer, decoder_layer = _pytorch_encoder_layer(), _pytorch_decoder_layer()
    their_encoder = nn.TransformerEncoder(encoder_layer, 2, norm=None, enable_nested_tensor=False).eval()
    their_decoder = nn.TransformerDecoder(decoder_layer, 2, norm=None).eval()
    our_encoder, our_decoder = Encoder(2, D_MODEL, HEADS, D_FF, 0.0), Decoder(2, D_MODEL, HEADS, D_FF, 0.0)
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
    with pytest.raises(ValueError, match="norm_first=False"):
        EncoderLayer.from_pytorch(nn.TransformerEncoderLayer(D_MODEL, HEADS, D_FF, batch_first=True, norm_first=True))
    with pytest.raises(ValueError, match="relu"):
        DecoderLayer.from_pytorch(nn.TransformerDecoderLayer(D_MODEL, HEADS, D_FF, batch_first=True, activation="gelu"))
    with pytest.raises(TypeError, match="TransformerEncoderLayer"):
        EncoderLayer.from_pytorch(_pytorch_decoder_layer())


# --- the whole model ----------------------------------------------------------------------------


def _model(dropout: float = 0.0) -> Transformer:
    return Transformer(12, 9, D_MODEL, HEADS, 2, D_FF, dropout, max_len=16).eval()


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
    with pytest.raises(ValueError, match="max_len=16"):
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
    output = greedy_decode(model, source, max_len=7, bos_id=bos, eos_id=eos)
    assert output.shape[0] == 5 and output.shape[1] <= 7
    logits = model(source, torch.cat([torch.full((5, 1), bos), output[:, :-1]], dim=1))
    for row in range(5):
        tokens = output[row].tolist()
        end = tokens.index(eos) + 1 if eos in tokens else len(tokens)
        assert logits[row, :end].argmax(-1).tolist() == tokens[:end]  # each token is the most likely next one
        assert all(token == model.pad_id for token in tokens[end:])  # padding after <eos>


# --- loss and schedule --------------------------------------------------------------------------


def test_label_smoothing_equals_pytorch_cross_entropy() -> None:
    logits, targets = torch.randn(4, 6, 10), torch.randint(0, 10, (4, 6))
    targets[0, 3:] = 0  # some padding
    for smoothing in (0.0, 0.1, 0.3):
        expected = F.cross_entropy(logits.reshape(-1, 10), targets.reshape(-1), ignore_index=0,
                                   label_smoothing=smoothing)
        torch.testing.assert_close(label_smoothed_cross_entropy(logits, targets, smoothing, 0), expected)
    plain = F.cross_entropy(logits.reshape(-1, 10), targets.reshape(-1))
    torch.testing.assert_close(label_smoothed_cross_entropy(logits, targets, 0.0, None), plain)


def test_label_smoothing_prefers_a_less_confident_model() -> None:
    targets = torch.tensor([1])
    sure, modest = torch.tensor([[-100.0, 100.0, -100.0]]), torch.tensor([[0.0, 3.0, 0.0]])
    assert label_smoothed_cross_entropy(modest, targets, 0.1, None) < label_smoothed_cross_entropy(sure, targets, 0.1,
                                                                                                   None)
    with pytest.raises(ValueError, match="ignore_index"):
        label_smoothed_cross_entropy(torch.randn(2, 5), torch.zeros(2, dtype=torch.long), 0.1, 0)


def test_learning_rate_schedule_values() -> None:
    d_model, warmup = 512, 4000
    assert transformer_learning_rate(1, d_model, warmup) == pytest.approx(512**-0.5 * 4000**-1.5)
    peak = transformer_learning_rate(warmup, d_model, warmup)
    assert peak == pytest.approx(512**-0.5 * 4000**-0.5)  # ≈ 7.0e-4
    assert transformer_learning_rate(warmup // 2, d_model, warmup) == pytest.approx(peak / 2)  # linear warm-up
    assert transformer_learning_rate(4 * warmup, d_model, warmup) == pytest.approx(peak / 2)  # then 1/√step
    with pytest.raises(ValueError, match="step"):
        transformer_learning_rate(0, d_model, warmup)


def test_warmup_scheduler_drives_the_optimizer() -> None:
    parameter = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([parameter], lr=1.0)
    scheduler = warmup_scheduler(optimizer, 64, 10, factor=2.0)
    seen = []
    for _ in range(20):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [2.0 * transformer_learning_rate(step, 64, 10) for step in range(1, 21)]
    assert seen == pytest.approx(expected)


# --- the date task ------------------------------------------------------------------------------


def test_dates_are_written_as_cldr_writes_them() -> None:
    day = date(2026, 11, 24)
    assert format_date(day, "en_US full") == "Tuesday, November 24, 2026"
    assert format_date(day, "en_US short") == "11/24/26"
    assert format_date(day, "de_DE full") == "Dienstag, 24. November 2026"
    assert format_date(day, "fr_FR medium") == "24 nov. 2026"
    assert format_date(day, "es_ES full") == "martes, 24 de noviembre de 2026"
    assert format_date(day, "ja_JP full") == "2026年11月24日火曜日"
    assert format_date(day, "ko_KR full") == "2026년 11월 24일 화요일"
    assert format_date(date(1999, 3, 5), "de_DE short") == "05.03.99"
    assert format_date(date(1999, 9, 5), "en_GB medium") == "5 Sept 1999"
    with pytest.raises(ValueError, match="unknown date format"):
        format_date(day, "xx_XX full")


def test_every_text_names_exactly_one_date() -> None:
    splits = split_dates()
    seen: dict[str, date] = {}
    for day in splits["train"][::5] + splits["test"]:
        for name in DATE_FORMATS:
            assert seen.setdefault(format_date(day, name), day) == day


def test_split_is_by_date_and_deterministic() -> None:
    splits = split_dates(validation=100, test=200, seed=3)
    assert len(splits["validation"]) == 100 and len(splits["test"]) == 200
    assert len(set(splits["train"]) | set(splits["validation"]) | set(splits["test"])) == 36525
    assert not set(splits["train"]) & set(splits["test"]) and not set(splits["train"]) & set(splits["validation"])
    assert split_dates(validation=100, test=200, seed=3) == splits
    assert min(splits["train"] + splits["test"]) == FIRST_DATE
    examples = date_examples(splits["test"][:50], seed=1)
    assert examples == date_examples(splits["test"][:50], seed=1)
    assert all(iso == day.isoformat() for (_, iso, _), day in zip(examples, splits["test"][:50], strict=True))
