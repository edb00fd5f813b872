"""The key/value cache decodes exactly what greedy decoding without it decodes (helpers.transformer.kv_cache)."""

from __future__ import annotations

import pytest
import torch

from helpers.transformer.kv_cache import _new_caches, cached_greedy_decode, decoder_step
from helpers.transformer.model import Transformer
from helpers.transformer.seq2seq import greedy_decode

BOS, EOS = 1, 2


def _model(norm_first: bool, seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    model = Transformer(
        9, 12, num_layers=2, d_model=16, num_heads=4, d_ff=32, dropout=0.1, max_length=20, norm_first=norm_first
    )
    return model.double().train(), torch.randint(3, 9, (5, 7))


@pytest.mark.parametrize("norm_first", [False, True])
def test_each_cached_step_gives_the_uncached_decoders_logits_at_that_position(norm_first: bool) -> None:
    model, source = _model(norm_first)
    source[1, 4:] = 0  # padding inside the batch: the memory mask must reach the cached cross-attention
    model.eval()
    target_in = torch.cat([torch.full((5, 1), BOS), torch.randint(3, 12, (5, 9))], dim=1)  # any prefix
    with torch.no_grad():
        full = model(source, target_in)  # (5, 10, 12): every position at once, teacher forcing
        memory, memory_mask, _ = model.encode(source)
        caches = _new_caches(model, memory)
        steps = [decoder_step(model, target_in[:, t], t, memory_mask, caches) for t in range(target_in.size(1))]
    assert (torch.stack(steps, dim=1) - full).abs().max() < 1e-12


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("seed", [0, 2])  # initialisations whose outputs stop at different steps
def test_cached_greedy_decoding_equals_greedy_decoding(norm_first: bool, seed: int) -> None:
    model, source = _model(norm_first, seed)
    arguments = dict(max_length=15, bos_id=BOS, eos_id=EOS)
    uncached = greedy_decode(model, source, **arguments)
    cached = cached_greedy_decode(model, source, **arguments)
    assert torch.equal(cached, uncached) and model.training  # the mode is restored
    lengths = {row.tolist().index(EOS) if EOS in row.tolist() else 15 for row in uncached}
    assert len(lengths) > 1  # the rows stopped at different steps, so the padding of finished rows is covered


def test_greedy_output_is_the_argmax_under_teacher_forcing_on_its_own_prefix() -> None:
    model, source = _model(False)
    model.eval()
    output = greedy_decode(model, source, max_length=15, bos_id=BOS, eos_id=EOS)
    with torch.no_grad():
        logits = model(source, torch.cat([torch.full((5, 1), BOS), output[:, :-1]], dim=1))
    real = torch.ones_like(output, dtype=torch.bool)
    for row, tokens in enumerate(output.tolist()):
        if EOS in tokens:
            real[row, tokens.index(EOS) + 1 :] = False  # after <eos>: padding, not a prediction
    assert torch.equal(logits.argmax(dim=-1)[real], output[real])


def test_cached_decoding_names_its_bad_arguments() -> None:
    model, source = _model(False)
    with pytest.raises(TypeError, match="needs a helpers.transformer.model.Transformer"):
        cached_greedy_decode(torch.nn.Linear(2, 2), source, max_length=5, bos_id=BOS, eos_id=EOS)
    with pytest.raises(ValueError, match="max_length=30 exceeds the model's positional table"):
        cached_greedy_decode(model, source, max_length=30, bos_id=BOS, eos_id=EOS)
    with pytest.raises(ValueError, match="eos_id must be a target vocabulary id"):
        cached_greedy_decode(model, source, max_length=5, bos_id=BOS, eos_id=99)
