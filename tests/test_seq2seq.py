"""helpers.transformer: seq2seq (loss, schedule, decoding), recurrent (the GRU baseline) and translate."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.transformer.model import Transformer
from helpers.transformer.recurrent import GRUTranslator
from helpers.transformer.seq2seq import (
    average_weights,
    beam_search,
    greedy_decode,
    label_smoothed_cross_entropy,
    transformer_learning_rate,
    warmup_scheduler,
)
from helpers.transformer.translate import read_pairs, train_translator

BOS, EOS = 2, 3


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# --- label smoothing ----------------------------------------------------------------------------


def test_label_smoothing_equals_pytorch_cross_entropy() -> None:
    logits, targets = torch.randn(4, 6, 10), torch.randint(0, 10, (4, 6))
    targets[0, 3:] = 0  # some padding
    for smoothing in (0.0, 0.1, 0.3):
        expected = F.cross_entropy(
            logits.reshape(-1, 10), targets.reshape(-1), ignore_index=0, label_smoothing=smoothing
        )
        torch.testing.assert_close(label_smoothed_cross_entropy(logits, targets, smoothing, 0), expected)
    plain = F.cross_entropy(logits.reshape(-1, 10), targets.reshape(-1))
    torch.testing.assert_close(label_smoothed_cross_entropy(logits, targets, 0.0, None), plain)


def test_label_smoothing_follows_cross_entropys_ignore_index_convention() -> None:
    """Issue 22: the default ignored class 0 (a real class) and counted -100 padding as class 0."""
    logits, targets = torch.randn(5, 7, dtype=torch.float64, requires_grad=True), torch.tensor([0, 3, -100, 6, 0])
    expected = F.cross_entropy(logits, targets, label_smoothing=0.1)  # PyTorch's default ignore_index=-100
    actual = label_smoothed_cross_entropy(logits, targets, 0.1)
    torch.testing.assert_close(actual, expected, atol=1e-12, rtol=1e-12)
    assert actual.dtype == torch.float64
    (grad_ours,) = torch.autograd.grad(actual, logits)
    (grad_theirs,) = torch.autograd.grad(expected, logits)
    torch.testing.assert_close(grad_ours, grad_theirs, atol=1e-12, rtol=1e-12)
    with pytest.raises(ValueError, match=r"must lie in \[0, 7\) or equal ignore_index=None"):
        label_smoothed_cross_entropy(logits, targets, 0.1, ignore_index=None)  # -100 is not clamped to class 0
    with pytest.raises(ValueError, match=r"got \[7\]"):
        label_smoothed_cross_entropy(logits, torch.tensor([0, 1, 2, 3, 7]), 0.1)
    with pytest.raises(TypeError, match="integer class ids"):
        label_smoothed_cross_entropy(logits, torch.zeros(5), 0.1)
    with pytest.raises(ValueError, match="ignore_index"):
        label_smoothed_cross_entropy(logits, torch.full((5,), -100), 0.1)


def test_label_smoothing_prefers_a_less_confident_model() -> None:
    targets = torch.tensor([1])
    sure, modest = torch.tensor([[-100.0, 100.0, -100.0]]), torch.tensor([[0.0, 3.0, 0.0]])
    assert label_smoothed_cross_entropy(modest, targets, 0.1) < label_smoothed_cross_entropy(sure, targets, 0.1)


# --- schedule and averaging ---------------------------------------------------------------------


def test_learning_rate_schedule_values() -> None:
    d_model, warmup = 512, 4000
    assert transformer_learning_rate(1, d_model, warmup) == pytest.approx(512**-0.5 * 4000**-1.5)
    peak = transformer_learning_rate(warmup, d_model, warmup)
    assert peak == pytest.approx(512**-0.5 * 4000**-0.5)  # ≈ 7.0e-4
    assert transformer_learning_rate(warmup // 2, d_model, warmup) == pytest.approx(peak / 2)  # linear warm-up
    assert transformer_learning_rate(4 * warmup, d_model, warmup) == pytest.approx(peak / 2)  # then 1/√step
    with pytest.raises(ValueError, match="step"):
        transformer_learning_rate(0, d_model, warmup)


@pytest.mark.parametrize("ramp", [True, False])
def test_warmup_scheduler_is_the_papers_formula_with_the_optimizers_lr_as_peak(ramp: bool) -> None:
    parameter = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([parameter], lr=64**-0.5 * 10**-0.5)
    assert "initial_lr" not in optimizer.param_groups[0]
    scheduler = warmup_scheduler(optimizer, warmup=10, ramp=ramp)
    seen = []
    for _ in range(30):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [
        transformer_learning_rate(max(step, 1 if ramp else 10), 64, 10)
        if step <= 10 or ramp
        else transformer_learning_rate(step, 64, 10)
        for step in range(1, 31)
    ]
    assert seen == pytest.approx(expected)


def test_average_weights_is_the_mean() -> None:
    states = [
        {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)},
        {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(4)},
    ]
    averaged = average_weights(states)
    assert averaged["w"].tolist() == [2.0, 4.0] and int(averaged["n"]) == 4


# --- decoding -----------------------------------------------------------------------------------


def _tiny(vocabulary: int = 5) -> Transformer:
    return Transformer(6, vocabulary, num_layers=1, d_model=8, num_heads=2, d_ff=16, dropout=0.0, max_length=8).eval()


def _exhaustive_best(model: nn.Module, source: torch.Tensor, max_length: int, alpha: float) -> list[int]:
    """Score every possible output (ending at <eos>, or cut at max_length) and return the best one."""
    vocabulary = model.generator.out_features
    best, best_score = None, -math.inf
    for length in range(1, max_length + 1):
        for tokens in itertools.product(range(vocabulary), repeat=length):
            if EOS in tokens[:-1] or (length < max_length and tokens[-1] != EOS):
                continue
            target_in = torch.tensor([[BOS, *tokens[:-1]]])
            with torch.no_grad():
                log_probs = model(source, target_in)[0].log_softmax(-1)
            score = float(log_probs[range(length), list(tokens)].sum()) / ((5 + length) / 6) ** alpha
            if score > best_score:
                best, best_score = list(tokens), score
    return best


@pytest.mark.parametrize("seed", range(4))
def test_wide_beam_search_finds_the_exhaustive_optimum(seed: int) -> None:
    torch.manual_seed(seed)
    model, max_length = _tiny(), 4
    with torch.no_grad():
        model.generator.bias[EOS] -= 1.0  # make <eos> less likely, so that lengths vary
    source = torch.randint(4, 6, (1, 5))
    for alpha in (0.0, 0.6, 2.0):
        found = beam_search(model, source, max_length=max_length, bos_id=BOS, eos_id=EOS, beam_width=5**3, alpha=alpha)
        tokens = found[0].tolist()
        tokens = tokens[: tokens.index(EOS) + 1] if EOS in tokens else tokens
        assert tokens == _exhaustive_best(model, source, max_length, alpha)


def test_beam_of_one_is_greedy_and_beam_search_restores_the_mode() -> None:
    model = _tiny(9).train()
    source = torch.randint(4, 6, (6, 5))
    greedy = greedy_decode(model, source, max_length=6, bos_id=BOS, eos_id=EOS)
    beam = beam_search(model, source, max_length=6, bos_id=BOS, eos_id=EOS, beam_width=1)
    assert torch.equal(greedy, beam) and model.training
    with pytest.raises(ValueError, match="beam_width"):
        beam_search(model, source, max_length=6, bos_id=BOS, eos_id=EOS, beam_width=0)
    with pytest.raises(ValueError, match="alpha"):
        beam_search(model, source, max_length=6, bos_id=BOS, eos_id=EOS, alpha=-1)


# --- the GRU baseline ---------------------------------------------------------------------------


def test_gru_shapes_masks_and_decoding() -> None:
    model = GRUTranslator(10, 7, embedding_dim=8, hidden_size=12).eval()
    source = torch.tensor([[4, 5, 6, 0, 0], [4, 5, 6, 7, 8]])
    target_in = torch.tensor([[BOS, 4, 5], [BOS, 5, 6]])
    logits = model(source, target_in)
    assert logits.shape == (2, 3, 7)
    memory, mask, _ = model.encode(source)
    assert memory.shape == (2, 5, 24) and mask.tolist()[0] == [True, True, True, False, False]
    weights = model.decode(target_in, memory, mask)[2][0]  # (batch, tgt_len, src_len)
    assert weights.shape == (2, 3, 5) and float(weights[0, :, 3:].detach().abs().sum()) == 0.0  # padding gets no weight
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3))
    # padding changes nothing: the first row alone, unpadded, gives the same logits
    torch.testing.assert_close(model(source[:1, :3], target_in[:1]), logits[:1], atol=1e-6, rtol=1e-5)
    changed = target_in.clone()
    changed[:, 2] = 6
    assert torch.equal(model(source, changed)[:, :2], logits[:, :2])  # no step sees the future
    assert greedy_decode(model, source, max_length=4, bos_id=BOS, eos_id=EOS).shape[0] == 2
    assert beam_search(model, source, max_length=4, bos_id=BOS, eos_id=EOS).shape[0] == 2
    with pytest.raises(ValueError, match="right-padded"):
        model(torch.tensor([[0, 4, 5]]), target_in[:1])
    with pytest.raises(ValueError, match="source ids"):
        model(torch.tensor([[4, 50]]), target_in[:1])


# --- a learner's own pairs ----------------------------------------------------------------------


def test_read_pairs_names_the_bad_line(tmp_path) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_bytes("24.11.26\t2026-11-24\n\n3 d\xe9c. 1999\t1999-12-03\n".encode("latin-1"))
    assert read_pairs(path) == [("24.11.26", "2026-11-24"), ("3 déc. 1999", "1999-12-03")]
    path.write_text("a\tb\nno separator here\n")
    with pytest.raises(ValueError, match="line 2: has no '\\\\t' separator"):
        read_pairs(path)
    path.write_text("a\tb\n\tb\n")
    with pytest.raises(ValueError, match="line 2: has an empty source"):
        read_pairs(path)
    path.write_text("a\tb\nno tab\nc\td\n\tx\nalso none\n")  # every bad line in one run, not one per run
    with pytest.raises(ValueError, match=r"(?s)3 bad line\(s\) of 5:.*line 2: has no.*line 4: has an empty.*line 5"):
        read_pairs(path)


def test_train_translator_learns_to_reverse_and_is_deterministic() -> None:
    words = ["".join(w) for w in itertools.product("abc", repeat=3)]
    pairs = [(w, w[::-1]) for w in words] * 8
    options = {
        "epochs": 4,
        "batch_size": 16,
        "num_layers": 1,
        "d_model": 16,
        "num_heads": 2,
        "d_ff": 32,
        "learning_rate": 1e-2,
        "warmup": 20,
        "show_progress": False,
    }
    first = train_translator(pairs, validation=pairs[:27], **options)
    assert first.history.epochs["val_exact"][-1] > 0.5
    again = train_translator(pairs, validation=pairs[:27], **options)
    assert first.history.epochs["val_loss"] == again.history.epochs["val_loss"]
    assert first.translate(["abc"]) == again.translate(["abc"])
    with pytest.raises(ValueError, match="pairs"):
        train_translator([("abc", "")], **options)


def test_evaluate_every_scores_the_weights_of_that_step_and_leaves_training_unchanged() -> None:
    words = ["".join(w) for w in itertools.product("abc", repeat=3)]
    pairs = [(w, w[::-1]) for w in words] * 8  # 216 pairs: 27 steps of 8 per epoch
    options = {"epochs": 2, "batch_size": 8, "num_layers": 1, "d_model": 16, "num_heads": 2, "d_ff": 32}
    options |= {"learning_rate": 1e-2, "warmup": 10, "show_progress": False, "validation": pairs[:27]}
    plain = train_translator(pairs, **options)
    scored = train_translator(pairs, evaluate_every=9, **options)
    assert scored.curve["step"] == [9, 18, 27, 36, 45, 54]
    assert scored.curve["val_exact"][2::3] == scored.history.epochs["val_exact"]  # steps 27 and 54 end the epochs
    assert len(set(scored.curve["val_exact"])) > 1  # the weights of each moment, not one model scored six times
    assert plain.history.steps["loss"] == scored.history.steps["loss"]  # scoring does not change training
    for name, weight in plain.model.state_dict().items():
        assert torch.equal(weight, scored.model.state_dict()[name]), name
    assert plain.curve == {}
    with pytest.raises(ValueError, match="validation"):
        train_translator(pairs, evaluate_every=9, **{**options, "validation": None})
    with pytest.raises(ValueError, match="evaluate_every"):
        train_translator(pairs, evaluate_every=0, **options)


README_EXAMPLE = """
from helpers.transformer.translate import read_pairs, train_translator

pairs = read_pairs("my_pairs.tsv")  # "source<TAB>target" per line; a bad line is named by its number
held_out = pairs[: len(pairs) // 10]  # keep a tenth aside to measure
translator = train_translator(pairs[len(held_out):], validation=held_out, epochs=10, warmup=100)
accuracy, outputs = translator.exact_match(held_out)
print(f"exact match on held-out pairs: {accuracy:.1%}")
print(translator.translate(["24.11.26"], beam_width=4))
"""


def test_readme_example_runs_on_a_learners_file(tmp_path, monkeypatch, capsys) -> None:
    """The README's "Your own data" example for the date Transformer, on a small Latin-1 file with a blank line."""
    from helpers.transformer.dates import date_examples, split_dates

    days = split_dates(validation=0, test=0)["train"][:300]
    lines = [f"{text}\t{iso}" for text, iso, _ in date_examples(days, ["de_DE short", "fr_FR long"])]
    lines.insert(5, "")
    (tmp_path / "my_pairs.tsv").write_bytes("\n".join(lines).encode("latin-1"))  # "février", "août" in Latin-1
    monkeypatch.chdir(tmp_path)
    code = README_EXAMPLE.replace("epochs=10, warmup=100", "epochs=1, warmup=5")  # a quick run of the same lines
    assert code != README_EXAMPLE
    exec(compile(code, "README example", "exec"), {})
    printed = capsys.readouterr().out
    assert "exact match on held-out pairs:" in printed and "['" in printed


# --- issue 31: named errors instead of silent or internal ones ---------------------------------------


def test_beam_search_refuses_a_nan_or_infinite_length_penalty() -> None:
    model = GRUTranslator(10, 10, embedding_dim=4, hidden_size=4).eval()
    source = torch.tensor([[4, 5, 6]])
    for alpha in (math.nan, math.inf, -0.5):
        with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
            beam_search(model, source, max_length=3, bos_id=2, eos_id=3, alpha=alpha)  # nan used to decode


def test_average_weights_refuses_states_of_different_models() -> None:
    with pytest.raises(ValueError, match=r"states\[1\] and states\[0\] name different weights \(\['a', 'b'\]\)"):
        average_weights([{"a": torch.zeros(2)}, {"b": torch.zeros(2)}])  # used to raise KeyError: 'a'
    with pytest.raises(ValueError, match=r"states\[1\]\['a'\] has shape \(3,\) .* but states\[0\] has \(2,\)"):
        average_weights([{"a": torch.zeros(2)}, {"a": torch.zeros(3)}])
    with pytest.raises(ValueError, match="one state_dict: wrap it in a list"):
        average_weights({"a": torch.zeros(2)})


def test_gru_names_bad_target_ids_instead_of_failing_inside() -> None:
    model = GRUTranslator(10, 7, embedding_dim=4, hidden_size=4)
    source = torch.tensor([[4, 5, 6]])
    with pytest.raises(ValueError, match=r"target ids must lie in \[0, 7\), got ids from 2 to 9"):
        model(source, torch.tensor([[2, 9]]))  # used to raise IndexError inside nn.Embedding
    with pytest.raises(ValueError, match="target_in is empty"):
        model(source, torch.zeros(1, 0, dtype=torch.long))  # used to fail in torch.stack
    with pytest.raises(TypeError, match="target_in must hold integer token ids"):
        model(source, torch.tensor([[2.0, 3.0]]))
    with pytest.raises(TypeError, match="source must hold integer token ids"):
        model(source.float(), torch.tensor([[2, 3]]))
    transformer = Transformer(10, 7, num_layers=1, d_model=8, num_heads=2, d_ff=8)
    with pytest.raises(ValueError, match="target_in is empty"):
        transformer(source, torch.zeros(1, 0, dtype=torch.long))  # used to blame "size" (of the causal mask)


def test_additive_attention_gives_a_fully_masked_row_zero_weights_like_scaled_dot_product() -> None:
    from helpers.self_attention.attention import scaled_dot_product_attention
    from helpers.transformer.recurrent import AdditiveAttention

    torch.manual_seed(0)
    attention = AdditiveAttention(3, 4, 5)
    keys, query = torch.randn(2, 3, 4, requires_grad=True), torch.randn(2, 3)
    mask = torch.tensor([[True, False, True], [False, False, False]])
    context, weights = attention(query, keys, attention.key(keys), mask)  # row 1 used to be NaN
    assert torch.equal(weights[1], torch.zeros(3)) and torch.equal(context[1], torch.zeros(4))
    alone, alone_weights = attention(query[:1], keys[:1], attention.key(keys[:1]), mask[:1])
    torch.testing.assert_close(context[0], alone[0]) and torch.testing.assert_close(weights[0], alone_weights[0])
    assert weights[0, 1] == 0 and torch.isclose(weights[0].sum(), torch.tensor(1.0))
    context.sum().backward()
    assert torch.isfinite(keys.grad).all()
    _, dot_weights = scaled_dot_product_attention(torch.randn(1, 4), torch.randn(3, 4), torch.randn(3, 4), mask[1:])
    assert torch.equal(dot_weights, torch.zeros(1, 3))  # the same convention


def test_exact_match_and_train_translator_name_their_bad_arguments() -> None:
    from helpers.data.text import Vocabulary
    from helpers.transformer.translate import SPECIALS, Translator

    model = GRUTranslator(5, 5, embedding_dim=4, hidden_size=4)
    translator = Translator(model, Vocabulary([*SPECIALS, "a"]), Vocabulary([*SPECIALS, "b"]), 3)
    with pytest.raises(ValueError, match="pairs is empty"):
        translator.exact_match([])  # used to blame pad_batch
    pairs = [("ab", "ba")] * 4
    small = {"epochs": 1, "d_model": 8, "num_heads": 2, "d_ff": 8, "num_layers": 1, "show_progress": False}
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0, got inf"):
        train_translator(pairs, learning_rate=math.inf, **small)  # used to return non-finite weights silently


def test_train_translator_stops_when_its_weights_are_not_finite() -> None:
    class WithABrokenWeight(GRUTranslator):  # a weight the loss never reads: every loss stays finite
        def __init__(self, source_size: int, target_size: int):
            super().__init__(source_size, target_size, embedding_dim=4, hidden_size=4)
            self.unused = nn.Parameter(torch.tensor([math.nan]))

    pairs = [("ab", "ba")] * 4
    with pytest.raises(FloatingPointError, match=r"\['unused'\] hold NaN or infinity after step 1 .* learning rate"):
        train_translator(pairs, epochs=2, make_model=WithABrokenWeight, show_progress=False)  # used to return it
