"""The graders of helpers.exercises: each rejects typical wrong answers with the right hint and accepts the reference.

The wrong implementations below are written the way a learner would write them, independently of the
graders' own list of mistakes, so that these tests check that a hint is found from the learner's outputs.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from helpers.exercises import gan_minimax, self_attention, text_cnn, transformer, word_embeddings
from helpers.exercises.grading import Exercise, Prediction

ROOT = Path(__file__).resolve().parent.parent
MODULES = {
    "01_word_embeddings": word_embeddings,
    "02_text_cnn": text_cnn,
    "03_gan_minimax": gan_minimax,
    "04_self_attention": self_attention,
    "05_transformer": transformer,
}
EXERCISES = {
    f"{module.__name__.rsplit('.', 1)[1]}.{name}": getattr(module, name)
    for module in MODULES.values()
    for name in module.__all__
    if isinstance(getattr(module, name), (Exercise, Prediction))
}


# --- typical wrong answers, each with the words its hint must contain ------------------------------------


def _attention_wrong_axis(q, k, v, mask=None):
    scores = torch.matmul(q, k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -math.inf)
    weights = torch.softmax(scores, dim=-2).nan_to_num(0)
    return torch.matmul(weights, v), weights


def _attention_nan_rows(q, k, v, mask=None):
    scores = q @ k.mT / math.sqrt(k.size(-1))
    if mask is not None:
        scores[~mask.expand_as(scores)] = float("-inf")
    weights = F.softmax(scores, dim=-1)
    return weights @ v, weights


def _attention_unscaled(q, k, v, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", q, k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(-1).nan_to_num(0.0)
    return weights @ v, weights


def _attention_inverted(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))  # PyTorch's nn.MultiheadAttention habit
    weights = scores.softmax(-1).nan_to_num(0.0)
    return weights @ v, weights


def _attention_minus_1e9(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -1e9)  # the Annotated Transformer's habit
    weights = scores.softmax(-1)
    return weights @ v, weights


def _pairs_loop(ids, reach, lo_shift=0, hi_shift=1, keep_self=False, widest=False, one_side=False, wrap=False):
    out = []
    n = len(ids)
    for i in range(n):
        b = int(reach.max()) if widest else int(reach[i])
        lo = i if one_side else i - b
        for j in range(lo if wrap else max(lo, 0), min(i + b + hi_shift, n)):
            if keep_self or j != i:
                out.append([int(ids[i]), int(ids[j])])
    return torch.tensor(out, dtype=torch.long).view(-1, 2)


def _decoder_pre_norm(x, memory, target_mask, memory_mask, layer):
    h = layer.norm1(x)
    x = x + layer.self_attention(h, h, target_mask)
    x = x + layer.cross_attention(layer.norm2(x), memory, memory_mask)
    return x + layer.feed_forward(layer.norm3(x))


def _decoder_no_causal(x, memory, target_mask, memory_mask, layer):
    x = layer.norm1(x + layer.self_attention(x, x, None))
    x = layer.norm2(x + layer.cross_attention(x, memory, memory_mask))
    return layer.norm3(x + layer.feed_forward(x))


def _decoder_keys_from_decoder(x, memory, target_mask, memory_mask, layer):
    x = layer.norm1(x + layer.self_attention(x, x, target_mask))
    x = layer.norm2(x + layer.cross_attention(x, x, target_mask))
    return layer.norm3(x + layer.feed_forward(x))


def _decoder_no_residual(x, memory, target_mask, memory_mask, layer):
    x = layer.norm1(layer.self_attention(x, x, target_mask))
    x = layer.norm2(layer.cross_attention(x, memory, memory_mask))
    return layer.norm3(layer.feed_forward(x))


def _beam_per_beam(log_probs, beam_scores, beam_size):
    totals = beam_scores.unsqueeze(1) + log_probs
    best_scores, best_tokens = totals.max(1)
    order = best_scores.argsort(descending=True)[:beam_size]
    return best_scores[order], order, best_tokens[order]


def _beam_swapped(log_probs, beam_scores, beam_size):
    totals = (beam_scores[:, None] + log_probs).reshape(-1)
    scores, index = torch.topk(totals, beam_size)
    return scores, index % log_probs.shape[1], index // log_probs.shape[1]


def _beam_without_history(log_probs, beam_scores, beam_size):
    scores, index = log_probs.reshape(-1).topk(beam_size)
    return scores, index // log_probs.size(1), index % log_probs.size(1)


def _encoding(n, d, *, sin_first=True, exponent_of_pair=False, concatenated=False, start=0):
    pos = torch.arange(start, start + n).float().unsqueeze(1)
    i = torch.arange(d // 2).float()
    angle = pos / torch.pow(10000.0, (i if exponent_of_pair else 2 * i) / d)
    a, b = (torch.sin(angle), torch.cos(angle)) if sin_first else (torch.cos(angle), torch.sin(angle))
    if concatenated:
        return torch.cat([a, b], dim=-1)
    return torch.stack([a, b], dim=-1).reshape(n, d)


WRONG = {
    "word_embeddings.cosine_similarity": [
        (lambda a, b: torch.mm(a, b.t()), "not a cosine"),
        (lambda a, b: (a / a.norm(dim=1, keepdim=True)) @ (b / b.norm(dim=1, keepdim=True)).T, "NaN"),
        (lambda a, b: (a / a.norm(dim=0)) @ (b / b.norm(dim=0)).T, "dim=0"),
        (lambda a, b: F.normalize(a.float(), dim=1) @ F.normalize(b.float(), dim=1).T, "dtype torch.float32"),
    ],
    "word_embeddings.skipgram_pairs": [
        (lambda ids, reach: _pairs_loop(ids, reach, keep_self=True), "paired with itself"),
        (lambda ids, reach: _pairs_loop(ids, reach, widest=True), "widest window"),
        (lambda ids, reach: _pairs_loop(ids, reach, hi_shift=0), "right end of the window"),
        (lambda ids, reach: _pairs_loop(ids, reach, wrap=True), "wraps around"),
        (lambda ids, reach: _pairs_loop(ids, reach, one_side=True), "both sides"),
    ],
    "word_embeddings.keep_probabilities": [
        (lambda c, t: torch.clamp(1 - torch.sqrt(t / (c / c.sum())), min=0), "discarding"),
        (lambda c, t: torch.sqrt(t * c.sum() / c), "clamp at 1"),
        (lambda c, t: torch.clamp(torch.sqrt(t / c), max=1), "share of all tokens"),
        (lambda c, t: torch.minimum(t / (c / c.sum()), torch.ones_like(c)), "square root"),
    ],
    "word_embeddings.noise_distribution": [
        (lambda c, p: c / torch.sum(c), "unigram"),
        (lambda c, p: c**p, "sum to 1"),
        (lambda c, p: (c / c.sum()) ** p, "normalise after the power"),
        (lambda c, p: c**p / (c**p).sum(), None),  # 0 ** 0 = 1 only matters at power 0: passes these cases
    ],
    "word_embeddings.negative_sampling_loss": [
        (lambda p, n: -torch.log(torch.sigmoid(p)) - torch.log(torch.sigmoid(-n)).sum(-1), "F.logsigmoid"),
        (lambda p, n: -F.logsigmoid(p) - F.logsigmoid(n).sum(-1), "minus sign"),
        (lambda p, n: -F.logsigmoid(p) - F.logsigmoid(-n).mean(-1), "not the mean"),
        (lambda p, n: (-F.logsigmoid(p) - F.logsigmoid(-n).sum(-1)).mean(), "shape (batch,)"),
    ],
    "text_cnn.kim_padding": [
        (lambda ids, h, p: F.pad(ids, (h, h), value=p), "not h_max"),
        (lambda ids, h, p: F.pad(ids, (h - 1, h - 1)), "not with 0"),
        (lambda ids, h, p: torch.cat([ids, torch.full((ids.shape[0], h - 1), p)], dim=1), "both sides"),
    ],
    "text_cnn.feature_maps": [
        (lambda x, w, b: F.conv1d(x.permute(0, 2, 1), w.permute(0, 2, 1), b), "ReLU"),
        (lambda x, w, b: F.relu(F.conv1d(x.transpose(1, 2), w.transpose(1, 2))), "bias"),
        (
            lambda x, w, b: F.relu(
                torch.einsum("bwhk,mhk->bmw", x.unfold(1, w.shape[1], 1).transpose(2, 3).flip(2), w) + b[:, None]
            ),
            "backwards",
        ),
    ],
    "text_cnn.window_has_word": [
        (lambda m, h: m.unfold(1, h, 1).all(-1), "any, not all"),
        (lambda m, h: F.max_pool1d(m.float()[:, None], h, 1)[:, 0], "boolean"),
        (lambda m, h: m.unfold(1, h, 1).any(-1)[:, : m.shape[1] - h], "one window too few"),
    ],
    "text_cnn.max_over_time": [
        (lambda f, v: f.max(dim=-1).values, "padding windows win"),
        (lambda f, v: f.masked_fill(~v.unsqueeze(1), 0).max(-1).values, "fill with −inf"),
        (lambda f, v: f.mean(-1), "the mean, not the maximum"),
        (lambda f, v: f.masked_fill(~v[:, None], -math.inf).max(dim=1).values, "feature maps (dim=1)"),
    ],
    "text_cnn.apply_max_norm": [
        (lambda w, s: s * w / w.norm(dim=1, keepdim=True).clamp_min(1e-12), "stretched"),
        (lambda w, s: w * torch.clamp(s / w.norm(dim=0, keepdim=True), max=1), "each row"),
        (lambda w, s: torch.clamp(w, -s, s), "clipped"),
    ],
    "gan_minimax.optimal_discriminator": [
        (lambda p, q: q / (p + q + 1e-30) + (p + q == 0) * 0.5, "1 − D*"),
        (lambda p, q: p / (p + q), "NaN"),
        (lambda p, q: torch.nan_to_num(p / (p + q)), "D* = 1/2"),
        (lambda p, q: p / q, "likelihood ratio"),
    ],
    "gan_minimax.value_on_grid": [
        (lambda d, p, q, dx: float((torch.special.xlogy(p, d) + torch.special.xlogy(q, 1 - d)).sum()), "dx"),
        (lambda d, p, q, dx: float(torch.sum(p * torch.log(d) + q * torch.log(1 - d)) * dx), "xlogy"),
        (lambda d, p, q, dx: float((torch.special.xlogy(q, d) + torch.special.xlogy(p, 1 - d)).sum() * dx), "swapped"),
        (lambda d, p, q, dx: float((torch.special.xlogy(p, d) + torch.special.xlogy(q, d)).sum() * dx), "log(1 − D)"),
    ],
    "gan_minimax.discriminator_loss": [
        (
            lambda r, f: (
                F.binary_cross_entropy_with_logits(
                    torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])
                )
                * 2
            ),
            "each term's own mean",
        ),
        (lambda r, f: -(torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean()), "softplus"),
        (
            lambda r, f: (
                F.binary_cross_entropy_with_logits(r, torch.zeros_like(r))
                + F.binary_cross_entropy_with_logits(f, torch.ones_like(f))
            ),
            "swapped",
        ),
        (lambda r, f: -F.softplus(-r).mean() - F.softplus(f).mean(), "which D maximises"),
    ],
    "gan_minimax.generator_loss": [
        (lambda f: torch.log(1 - torch.sigmoid(f)).mean(), None),  # saturating and unstable: a hint, any
        (lambda f: -F.softplus(f).mean(), "saturating"),
        (lambda f: -torch.log(torch.sigmoid(f)).mean(), "F.softplus"),
        (lambda f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f), reduction="sum"), "not a mean"),
    ],
    "self_attention.attention": [
        (_attention_wrong_axis, "softmax is over the wrong axis"),
        (_attention_nan_rows, "fully masked row gives NaN"),
        (_attention_unscaled, "not divided by √d_k"),
        (_attention_inverted, "mask is inverted"),
        (_attention_minus_1e9, "large negative fill"),
    ],
    "self_attention.causal_mask": [
        (lambda n: torch.triu(torch.ones(n, n)).bool(), "sees the future"),
        (lambda n: torch.tril(torch.ones(n, n, dtype=torch.bool), diagonal=1), "shifted by one"),
        (lambda n: torch.tril(torch.ones(n, n, dtype=torch.bool), diagonal=-1), "cannot see itself"),
        (lambda n: torch.tril(torch.ones(n, n)), "boolean"),
    ],
    "self_attention.padding_mask": [
        (lambda lengths, n: (torch.arange(n).unsqueeze(0) <= lengths.unsqueeze(1))[:, None, None], "<, not <="),
        (lambda lengths, n: torch.arange(n)[None] < lengths[:, None], "(batch, 1, 1, max_length)"),
        (
            lambda lengths, n: (torch.arange(int(lengths.max()))[None] < lengths[:, None])[:, None, None],
            "max_length columns",
        ),
    ],
    "self_attention.split_heads": [
        (lambda x, h: x.view(x.size(0), h, x.size(1), -1), "mixes positions"),
        (lambda x, h: x.view(x.size(0), x.size(1), -1, h).permute(0, 3, 1, 2), "contiguous block"),
        (lambda x, h: x.view(x.size(0), x.size(1), h, -1).permute(0, 2, 3, 1), "transpose(1, 2)"),
    ],
    "transformer.sinusoidal_positional_encoding": [
        (lambda n, d: _encoding(n, d, sin_first=False), "swapped"),
        (lambda n, d: _encoding(n, d, exponent_of_pair=True), "pair index"),
        (lambda n, d: _encoding(n, d, concatenated=True), "interleave"),
        (lambda n, d: _encoding(n, d, start=1), "start at 0"),
    ],
    "transformer.decoder_layer": [
        (_decoder_pre_norm, "pre-norm"),
        (_decoder_no_causal, "sees the future"),
        (_decoder_keys_from_decoder, "from the encoder's output"),
        (_decoder_no_residual, "residual"),
    ],
    "transformer.beam_search_step": [
        (_beam_per_beam, "all beam × vocabulary continuations together"),
        (_beam_swapped, "swapped"),
        (_beam_without_history, "running scores were not added"),
    ],
    "transformer.label_smoothed_loss": [
        (
            lambda lo, t, e, p: F.cross_entropy(lo.reshape(-1, lo.shape[-1]), t.reshape(-1), label_smoothing=e),
            "padding tokens count",
        ),
        (
            lambda lo, t, e, p: F.cross_entropy(lo.reshape(-1, lo.shape[-1]), t.reshape(-1), ignore_index=p),
            "smoothing is missing",
        ),
        (
            lambda lo, t, e, p: F.cross_entropy(
                lo.reshape(-1, lo.shape[-1]), t.reshape(-1), ignore_index=0, label_smoothing=e
            ),
            "you left out id 0",
        ),
        (
            lambda lo, t, e, p: F.cross_entropy(
                lo.transpose(1, 2), t, label_smoothing=e, ignore_index=p, reduction="sum"
            ),
            "not sum",
        ),
    ],
}

PREDICTIONS_WRONG = {
    "self_attention.entropy_without_scaling": [(math.log(10), "log 10"), (1.92, "√d_k kept"), (0.0, "too low")],
    "gan_minimax.value_disjoint_supports": [(-math.log(4), "minimum"), (math.log(2), "JSD"), (1.0, "too high")],
    "transformer.lowest_smoothed_loss": [
        (0.0, "0 is the floor"),
        (-math.log(0.9), "1 − ε"),
        (0.1 * math.log(1000), "uniform part"),
    ],
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_implementations_get_the_hint_that_names_the_mistake(name: str) -> None:
    exercise = EXERCISES[name]
    assert len(WRONG[name]) >= 3
    for function, words in WRONG[name]:
        report = exercise.assess(function)
        if words is None:  # a variant that the cases cannot tell apart, or one without a single hint
            continue
        assert report.status == "hint", f"{name} accepted a wrong answer expected to mention {words!r}: {report}"
        assert words in report.message, f"{name}: expected {words!r} in the hint, got: {report.message}"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_the_reference_passes_and_a_stub_is_not_yet(name: str) -> None:
    exercise = EXERCISES[name]
    if isinstance(exercise, Prediction):
        assert exercise.assess(exercise.measure()).status == "pass"
        assert exercise.assess(...).status == "not yet"
        return
    assert exercise.assess(exercise.reference).status == "pass"

    def raises(*args):
        raise NotImplementedError

    def returns_nothing(*args): ...

    for stub in (raises, returns_nothing, None, ...):
        assert exercise.assess(stub).status == "not yet"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_exercise_has_hints_for_at_least_three_mistakes(name: str) -> None:
    exercise = EXERCISES[name]
    if isinstance(exercise, Prediction):
        assert len(exercise.wrong_answers()) >= 2
        return
    assert len(exercise.mistakes) >= 3
    for mistake in exercise.mistakes:  # each listed mistake is caught by the cases, with its own hint
        report = exercise.assess(mistake.function)
        assert report.status == "hint" and report.message.startswith(mistake.hint), (mistake.hint, report)


@pytest.mark.parametrize("name", sorted(PREDICTIONS_WRONG))
def test_predictions_explain_the_typical_wrong_numbers(name: str) -> None:
    for answer, words in PREDICTIONS_WRONG[name]:
        report = EXERCISES[name].assess(answer)
        assert report.status == "hint" and words in report.message, (answer, report)
    assert EXERCISES[name].assess("about one").status == "hint"
    assert EXERCISES[name].assess(torch.tensor(EXERCISES[name].measure())).status == "pass"


# --- the machinery: never raises, reports what a learner needs ----------------------------------------------


def test_a_crashing_function_gets_its_error_and_line_without_raising(capsys: pytest.CaptureFixture) -> None:
    def crashes(q, k, v, mask=None):
        return q @ k  # forgot the transpose

    self_attention.attention(crashes)  # prints, never raises
    printed = capsys.readouterr().out
    assert printed.startswith("HINT · attention:") and "RuntimeError" in printed and "`return q @ k" in printed


def test_a_function_that_writes_into_its_input_is_told_so() -> None:
    def in_place(scores_p, scores_n):
        scores_n.neg_()
        return -F.logsigmoid(scores_p) - F.logsigmoid(scores_n).sum(1)

    report = word_embeddings.negative_sampling_loss.assess(in_place)
    assert report.status == "hint" and "in place" in report.message


def test_passing_the_result_instead_of_the_function_is_explained() -> None:
    report = self_attention.causal_mask.assess(torch.ones(3, 3).tril().bool())
    assert report.status == "hint" and "the function itself" in report.message


def test_grading_leaves_the_learners_random_stream_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    transformer.decoder_layer.assess(transformer.reference_decoder_layer)  # builds seeded layers
    assert torch.equal(torch.rand(3), expected)


def test_pairs_in_any_order_pass() -> None:
    def reversed_pairs(ids, reach):
        return word_embeddings.reference_skipgram_pairs(ids, reach).flip(0)

    assert word_embeddings.skipgram_pairs.assess(reversed_pairs).status == "pass"


# --- the references agree with the course's own helpers ------------------------------------------------------


def test_references_equal_the_helpers_they_teach() -> None:
    from helpers.gan_minimax import minimax
    from helpers.self_attention import attention, masks
    from helpers.transformer import model as topic
    from helpers.word_embeddings import skipgram

    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g, dtype=torch.float64) for _ in range(3))
    mask = self_attention.reference_padding_mask(torch.tensor([5, 0]), 5)  # a fully masked sequence too
    for ours, theirs in zip(
        self_attention.reference_attention(q, k, v, mask), attention.scaled_dot_product_attention(q, k, v, mask)
    ):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    assert torch.equal(self_attention.reference_causal_mask(6), masks.causal_mask(6))
    torch.testing.assert_close(
        transformer.reference_sinusoidal_positional_encoding(20, 16),
        topic.sinusoidal_positional_encoding(20, 16),
        rtol=1e-5,
        atol=1e-6,
    )
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    p_data, p_g = torch.exp(-(x**2)), (x.abs() < 1).double()
    d_star = gan_minimax.reference_optimal_discriminator(p_data, p_g)
    torch.testing.assert_close(d_star, minimax.optimal_discriminator(p_data, p_g))
    assert math.isclose(
        gan_minimax.reference_value_on_grid(d_star, p_data, p_g, 0.1),
        minimax.value_on_grid(d_star, p_data, p_g, 0.1),
        rel_tol=1e-12,
    )
    positive, negative = torch.randn(4, generator=g), torch.randn(4, 3, generator=g)
    torch.testing.assert_close(
        word_embeddings.reference_negative_sampling_loss(positive, negative),
        skipgram.negative_sampling_loss(positive, negative),
    )


# --- the notebooks -----------------------------------------------------------------------------------------


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("stem", sorted(MODULES))
def test_exercise_and_solution_notebooks_match_their_graders(stem: str) -> None:
    exercises = ROOT / "notebooks" / "exercises" / f"{stem}.ipynb"
    solutions = ROOT / "notebooks" / "solutions" / f"{stem}.ipynb"
    module = MODULES[stem]
    graded = [name for name in module.__all__ if isinstance(getattr(module, name), (Exercise, Prediction))]
    assert 4 <= len(graded) <= 6
    setup = _source(_cells(exercises)[1])
    assert setup.startswith("import helpers\n\nhelpers.setup_notebook(seed=0, threads=1)"), setup
    assert f"](../{stem}.ipynb)" in _source(_cells(exercises)[0]) and (ROOT / "notebooks" / f"{stem}.ipynb").exists()
    checks = []
    for cell, solution in zip(_cells(exercises), _cells(solutions), strict=True):
        assert cell["cell_type"] == solution["cell_type"] and cell.get("id") == solution.get("id")
        if cell["cell_type"] == "code" and cell.get("id", "").startswith("answer-"):
            last = _source(cell).strip().splitlines()[-1]
            assert _source(solution).strip().splitlines()[-1] == last, "the solution must be graded by the same line"
            checks.append(re.fullmatch(r"check\.(\w+)\(\w+\)", last).group(1))
            printed = "".join("".join(o.get("text", "")) for o in cell["outputs"])
            assert printed.startswith("NOT YET"), printed  # the committed exercise notebook is unsolved
            solved = "".join("".join(o.get("text", "")) for o in solution["outputs"])
            assert f"PASS · {checks[-1]}:" in solved, solved
    assert sorted(checks) == sorted(graded), "every grader has its exercise, and no exercise is ungraded"


def test_there_are_at_least_24_exercises_and_2_to_3_predictions() -> None:
    assert len(EXERCISES) >= 24
    assert 2 <= sum(isinstance(e, Prediction) for e in EXERCISES.values()) <= 3


# --- other right answers pass too: the graders check results, not one way of writing them ------------------


def _attention_with_pytorch(q, k, v, mask=None):
    if mask is not None:
        mask = mask.expand(*q.shape[:-2], q.shape[-2], k.shape[-2])
    output = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # fully masked rows: zeros (PyTorch ≥ 2.5)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    weights = torch.where(torch.isinf(scores).all(-1, keepdim=True), 0.0, scores.softmax(-1)).to(q.dtype)
    return output, weights


ALSO_RIGHT = {
    "self_attention.attention": _attention_with_pytorch,
    "text_cnn.apply_max_norm": lambda w, s: torch.renorm(w, p=2, dim=0, maxnorm=s),
    "text_cnn.window_has_word": lambda m, h: F.max_pool1d(m.float()[:, None], h, stride=1)[:, 0] > 0,
    "text_cnn.kim_padding": lambda ids, h, p: torch.cat(
        [torch.full((ids.shape[0], h - 1), p), ids, torch.full((ids.shape[0], h - 1), p)], dim=1
    ),
    "transformer.label_smoothed_loss": lambda lo, t, e, p: F.cross_entropy(
        lo.permute(0, 2, 1), t, label_smoothing=e, ignore_index=p
    ),
    "transformer.beam_search_step": lambda lp, s, k: (
        lambda scores, order: (scores[:k], order[:k] // lp.shape[1], order[:k] % lp.shape[1])
    )(*(s[:, None] + lp).reshape(-1).sort(descending=True)),
    "gan_minimax.discriminator_loss": lambda r, f: (
        F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
        + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
    ),
    "word_embeddings.cosine_similarity": lambda a, b: F.cosine_similarity(a[:, None], b[None, :], dim=-1),
}


@pytest.mark.parametrize("name", sorted(ALSO_RIGHT))
def test_other_right_answers_pass(name: str) -> None:
    report = EXERCISES[name].assess(ALSO_RIGHT[name])
    assert report.status == "pass", report


def test_numbers_of_any_kind_are_accepted_as_answers() -> None:
    import numpy as np

    truth = transformer.lowest_smoothed_loss.measure()
    for answer in (np.float32(truth), torch.tensor(truth, dtype=torch.float64), round(truth, 3)):
        assert transformer.lowest_smoothed_loss.assess(answer).status == "pass", answer
    as_numpy = lambda d, p, q, dx: np.float64(gan_minimax.reference_value_on_grid(d, p, q, dx))  # noqa: E731
    assert gan_minimax.value_on_grid.assess(as_numpy).status == "pass"
