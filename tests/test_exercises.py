"""The graders of helpers.exercises: each rejects typical wrong answers with the right hint and accepts the reference.

The wrong implementations below are written the way a learner would write them, independently of the
graders' own list of mistakes, so that these tests check that a hint is found from the learner's outputs.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.exercises import gan_minimax, self_attention, text_cnn, transformer, word_embeddings
from helpers.exercises.grading import CONTINUATION, WRAP_WIDTH, Behaviour, Exercise, Prediction, Report

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
    if isinstance(getattr(module, name), (Exercise, Prediction, Behaviour))
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


def _sgns_by_hand(plus_one=True, noise_minus=False, sign=1.0, mean=False):
    def gradients(v, u, noise):
        p = torch.sigmoid(torch.dot(u, v)) - (1.0 if plus_one else 0.0)
        q = torch.sigmoid((-1.0 if noise_minus else 1.0) * (noise @ v))
        grad_v = p * u + (q[:, None] * noise).mean(0) * (1 if mean else 0) + (q @ noise) * (0 if mean else 1)
        return sign * grad_v, sign * p * v, sign * torch.outer(q, v)

    return gradients


def _sgns_with_autograd(v, u, noise):
    v, u, noise = (t.clone().requires_grad_() for t in (v, u, noise))
    loss = -F.logsigmoid(u @ v) - F.logsigmoid(-(noise @ v)).sum()
    loss.backward()
    return v.grad, u.grad, noise.grad


def _pearson_of(a, b):
    a, b = a.double() - a.double().mean(), b.double() - b.double().mean()
    return float((a * b).sum() / (a.norm() * b.norm()))


def _tie_ranks(x):
    ordered = x.sort().values
    return (torch.searchsorted(ordered, x, side="left") + torch.searchsorted(ordered, x, side="right") + 1) / 2


def _spearman_shortcut(x, y):
    d, n = _tie_ranks(x) - _tie_ranks(y), len(x)
    return float(1 - 6 * (d.double() ** 2).sum() / (n * (n**2 - 1)))


def _kim_forward(ids, model, mask=True, relu=True, pad=True, pad_with_zero=False):
    padding_id = 0 if pad_with_zero else model.padding_id
    widest = max(model.window_sizes)
    padded = F.pad(ids, (widest - 1, widest - 1), value=padding_id) if pad else ids
    x = model.embedding(padded).permute(0, 2, 1)
    is_word = padded != padding_id
    pooled = []
    for h, conv in zip(model.window_sizes, model.convolutions):
        c = conv(x)
        c = F.relu(c) if relu else c
        if mask:
            c = c.masked_fill(~is_word.unfold(1, h, 1).any(-1).unsqueeze(1), float("-inf"))
        pooled.append(c.max(dim=2).values)
    return model.classifier(torch.cat(pooled, dim=1))


def _mha(q, k, v, w, heads, mask=None, scale="d_k", merge="transpose", output=True, pytorch_mask=False):
    batch, q_len, d_model = q.shape
    d_k = d_model // heads
    project = lambda x, n: F.linear(x, w["w_" + n], w["b_" + n])  # noqa: E731
    split = lambda x: x.reshape(batch, -1, heads, d_k).permute(0, 2, 1, 3)  # noqa: E731
    scores = split(project(q, "q")) @ split(project(k, "k")).transpose(-1, -2)
    scores = scores / math.sqrt(d_k if scale == "d_k" else d_model)
    if mask is not None:
        scores = scores.masked_fill(mask if pytorch_mask else ~mask, -math.inf)
    heads_out = torch.softmax(scores, -1).nan_to_num(0.0) @ split(project(v, "v"))
    if merge == "transpose":
        merged = heads_out.permute(0, 2, 1, 3).reshape(batch, q_len, d_model)
    else:
        merged = heads_out.reshape(batch, q_len, d_model)
    return project(merged, "o") if output else merged


def _mha_with_the_module(q, k, v, w, heads, mask=None):
    module = torch.nn.MultiheadAttention(q.shape[-1], heads, batch_first=True, dtype=q.dtype)
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.cat([w["w_q"], w["w_k"], w["w_v"]]))
        module.in_proj_bias.copy_(torch.cat([w["b_q"], w["b_k"], w["b_v"]]))
        module.out_proj.weight.copy_(w["w_o"])
        module.out_proj.bias.copy_(w["b_o"])
    masks = {}
    if mask is not None:
        masks = {"attn_mask": ~mask} if mask.dim() == 2 else {"key_padding_mask": ~mask[:, 0, 0]}
    return module(q, k, v, need_weights=False, **masks)[0]


def _smoothed_by_hand(logits, targets, smoothing, padding_id, epsilon_used=None, divide_by="real", mask=True):
    epsilon = smoothing if epsilon_used is None else epsilon_used
    classes = logits.shape[-1]
    target = (1 - epsilon) * F.one_hot(targets, classes).to(logits.dtype) + epsilon / classes
    real = (targets != padding_id).to(logits.dtype)[..., None]
    gradient = logits.softmax(-1) - target
    gradient = gradient * real if mask else gradient
    return gradient / (real.sum() if divide_by == "real" else targets.numel())


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
        (lambda c, p: c**p / (c**p).sum(), "0 ** 0 = 1"),  # only wrong at power 0
        (lambda c, p: torch.exp(p * torch.log(c)) / torch.exp(p * torch.log(c)).sum(), "0 · (−inf) = NaN"),
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
    "word_embeddings.sgns_gradients": [
        (_sgns_by_hand(plus_one=False), "the −1 is missing"),
        (_sgns_by_hand(noise_minus=True), "not σ(−u_n · v_w)"),
        (_sgns_by_hand(sign=-1.0), "flip the sign"),
        (_sgns_by_hand(mean=True), "not their mean"),
        (_sgns_with_autograd, "derive the gradient by hand"),
    ],
    "word_embeddings.nearest_neighbours": [
        (lambda v, i, k: torch.topk((v @ v[i]).index_fill(0, torch.tensor([i]), -1e30), k).indices, "dot product"),
        (lambda v, i, k: torch.argsort(F.cosine_similarity(v, v[i][None]), descending=True)[:k], "its own nearest"),
        (lambda v, i, k: torch.cdist(v, v[i][None])[:, 0].argsort()[1 : k + 1], "Euclidean"),
        (lambda v, i, k: torch.argsort(F.cosine_similarity(v, v[i][None]))[:k], "least similar"),
    ],
    "word_embeddings.spearman_correlation": [
        (lambda x, y: float(np.corrcoef(x.numpy(), y.numpy())[0, 1]), "Pearson's correlation of the values"),
        (lambda x, y: float(np.corrcoef(np.argsort(x.numpy()), np.argsort(y.numpy()))[0, 1]), "not the ranks"),
        (lambda x, y: _pearson_of(x.argsort().argsort(), y.argsort().argsort()), "mean of the ranks"),
        (lambda x, y: _spearman_shortcut(x, y), "holds only without ties"),
    ],
    "text_cnn.conv1d_by_unfold": [
        (lambda x, w, b: F.conv1d(x, w, b), "x.unfold and one matrix product"),
        (lambda x, w, b: torch.einsum("bcwh,och->bow", x.unfold(2, w.shape[2], 1), w), "bias is missing"),
        (
            lambda x, w, b: torch.einsum("bcwh,och->bow", x.unfold(2, w.shape[2], 1), w.flip(-1)) + b[:, None],
            "does not flip",
        ),
        (
            lambda x, w, b: x.unfold(2, w.shape[2], 1).transpose(1, 2).flatten(2) @ w.flatten(1).T + b,
            "transpose(1, 2)",
        ),
        (
            lambda x, w, b: (x.unfold(2, w.shape[2], 1).permute(0, 2, 3, 1).flatten(2) @ w.flatten(1).T + b).mT,
            "channel by channel",
        ),
    ],
    "text_cnn.text_cnn_logits": [
        (lambda ids, model: _kim_forward(ids, model, mask=False), "padding windows take part"),
        (lambda ids, model: _kim_forward(ids, model, relu=False), "ReLU"),
        (lambda ids, model: _kim_forward(ids, model, pad=False), "Kim's padding is missing"),
        (lambda ids, model: _kim_forward(ids, model, pad_with_zero=True), "model.padding_id"),
        (lambda ids, model: model(ids), "from the model's parts"),
    ],
    "self_attention.multi_head_attention": [
        (lambda *a: _mha(*a, scale="d_model"), "√d_k"),
        (lambda *a: _mha(*a, merge="reshape"), "merging mixed positions"),
        (lambda *a: _mha(*a, output=False), "output projection"),
        (lambda *a: _mha(*a, pytorch_mask=True), "mask is inverted"),
        (_mha_with_the_module, "build it from the pieces"),
    ],
    "transformer.teacher_forcing": [
        (lambda s, p: (s.clone(), s.clone()), "learn to copy"),
        (lambda s, p: (s[:, :-1], s[:, :-1]), "still start with the start token"),
        (lambda s, p: (s[:, :-1], s[:, 2:]), "shifted by two"),
        (lambda s, p: (s, torch.cat([s[:, 1:], torch.full_like(s[:, :1], p)], 1)), "inputs keep the last position"),
    ],
    "transformer.smoothed_loss_gradient": [
        (lambda lo, t, e, p: _smoothed_by_hand(lo, t, e, p, epsilon_used=0.0), "one-hot target"),
        (lambda lo, t, e, p: -_smoothed_by_hand(lo, t, e, p), "the sign"),
        (lambda lo, t, e, p: _smoothed_by_hand(lo, t, e, p, divide_by="all"), "real tokens only"),
        (lambda lo, t, e, p: _smoothed_by_hand(lo, t, e, p, mask=False), "gradient is 0"),
    ],
}

PREDICTIONS_WRONG = {
    "self_attention.entropy_without_scaling": [
        (math.log(10), "log 10"),
        (1.92, "√d_k kept"),
        (math.log2(10), "in bits"),
        (0.0, "not exactly one-hot"),
        (0.6, "too high"),
    ],
    "gan_minimax.value_disjoint_supports": [
        (-math.log(4), "minimum"),
        (math.log(2), "JSD"),
        (2 * math.log(2), "2 · JSD"),
        (1.0, "bits"),
        (-2.0, "bits"),
        (0.5, "too high"),
    ],
    "transformer.lowest_smoothed_loss": [
        (0.0, "0 is the floor"),
        (-math.log(0.9), "1 − ε"),
        (0.1 * math.log(1000), "uniform part"),
        (1.0151 / math.log(2), "in bits"),
        (0.3251, "ε split alone"),
        (-1.0151, "sign"),
    ],
    "gan_minimax.saturating_gradient_norm": [
        (0.125, "non-saturating"),
        (3.354e-4, "one logit"),
        (2.683e-3, "the sum over the batch"),
        (4.19e-5 / math.log(2), "in bits"),
        (0.0, "not 0"),
        (1e-3, "too high"),
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
    if isinstance(exercise, Behaviour):
        report = exercise.assess(exercise.reference())
        assert report.status == "pass", report
        assert exercise.assess(...).status == "not yet" and exercise.assess(None).status == "not yet"
        if not exercise.callable_answer:
            return
    else:
        report = exercise.assess(exercise.reference)
        assert report.status == "pass", report

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
    if isinstance(exercise, Behaviour):  # each mistake: (words of its hint, a function giving the wrong answer)
        assert len(exercise.mistakes) >= 3
        for mistake in exercise.mistakes:
            report = exercise.assess(mistake.function())
            assert report.status == "hint" and mistake.hint in report.message, (mistake.hint, report)
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
    graded = [name for name in module.__all__ if isinstance(getattr(module, name), (Exercise, Prediction, Behaviour))]
    assert 6 <= len(graded) <= 9
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


def _differentiates_trains_or_observes(exercise: object) -> bool:
    """Checks gradients, a training step or a trained model's behaviour (not only a forward value)."""
    if isinstance(exercise, Behaviour):
        return True
    return isinstance(exercise, Exercise) and (
        exercise.gradients or exercise.by_hand or exercise.after_pass is not None
    )


def test_there_are_at_least_33_exercises_8_of_them_beyond_forward_values_and_2_to_4_predictions() -> None:
    assert len(EXERCISES) >= 33
    assert sum(_differentiates_trains_or_observes(e) for e in EXERCISES.values()) >= 8
    assert 2 <= sum(isinstance(e, Prediction) for e in EXERCISES.values()) <= 4
    for module in MODULES.values():  # at least one per topic beyond forward values
        assert any(_differentiates_trains_or_observes(getattr(module, name)) for name in module.__all__), module


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
    "word_embeddings.negative_sampling_loss": lambda p, n: F.softplus(-p) + F.softplus(n).sum(-1),
    "word_embeddings.sgns_gradients": lambda v, u, n: (
        -torch.sigmoid(-(u @ v)) * u + torch.sigmoid(n @ v) @ n,
        -torch.sigmoid(-(u @ v)) * v,
        torch.sigmoid(n @ v)[:, None] * v,
    ),
    "word_embeddings.nearest_neighbours": lambda v, i, k: torch.tensor(
        [j for j in torch.argsort(F.cosine_similarity(v, v[i][None]), descending=True).tolist() if j != i][:k]
    ),
    "word_embeddings.spearman_correlation": lambda x, y: _pearson_of(_tie_ranks(x), _tie_ranks(y)),
    "text_cnn.conv1d_by_unfold": lambda x, w, b: (
        torch.einsum("bcwh,och->bow", x.unfold(2, w.shape[2], 1), w) + b[:, None]
    ),
    "text_cnn.text_cnn_logits": _kim_forward,
    "text_cnn.max_over_time": lambda f, v: torch.where(v[:, None], f, f.min() - 1).max(dim=2).values,
    "self_attention.multi_head_attention": _mha,
    "transformer.teacher_forcing": lambda s, p: (
        s[:, :-1].masked_fill(s[:, :-1] == 2, p),  # </s> replaced by padding in the inputs: never read
        s[:, 1:].clone(),
    ),
    "transformer.smoothed_loss_gradient": _smoothed_by_hand,
    "gan_minimax.generator_loss": lambda f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f)),
}


@pytest.mark.parametrize("name", sorted(ALSO_RIGHT))
def test_other_right_answers_pass(name: str) -> None:
    report = EXERCISES[name].assess(ALSO_RIGHT[name])
    assert report.status == "pass", report


def _attention_with_where(q, k, v, mask=None):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = torch.where(mask, scores, float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, -1))
    return weights @ v, weights


def _attention_with_a_large_negative_fill_and_empty_rows_zeroed(q, k, v, mask=None):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is None:
        weights = torch.softmax(scores, -1)
    else:
        weights = torch.softmax(scores.masked_fill(~mask, -1e9), -1) * mask.any(-1, keepdim=True)
    return weights @ v, weights


def _multi_head_with_pytorch_attention(q, k, v, w, heads, mask=None):
    batch, q_len, d_model = q.shape
    split = lambda x, n: F.linear(x, w["w_" + n], w["b_" + n]).view(batch, -1, heads, d_model // heads).transpose(1, 2)  # noqa: E731
    if mask is not None and mask.dim() == 4:
        mask = mask.expand(batch, heads, q_len, k.shape[1])
    out = F.scaled_dot_product_attention(split(q, "q"), split(k, "k"), split(v, "v"), attn_mask=mask)
    return F.linear(out.transpose(1, 2).reshape(batch, q_len, d_model), w["w_o"], w["b_o"])


def _conv_with_2d_unfold(x, w, b):
    columns = F.unfold(x[:, :, None, :], (1, w.shape[2]))  # (batch, in_channels * h, windows)
    return w.reshape(w.shape[0], -1) @ columns + b[:, None]


def _kim_forward_with_the_course_helpers(ids, model):
    from helpers.text_cnn.model import max_over_time, window_has_word

    widest = max(model.window_sizes)
    padded = F.pad(ids, (widest - 1, widest - 1), value=model.padding_id)
    x = model.embedding(padded).transpose(1, 2)
    pooled = [
        max_over_time(F.relu(conv(x)), window_has_word(padded != model.padding_id, h))[0]
        for h, conv in zip(model.window_sizes, model.convolutions)
    ]
    return model.classifier(torch.cat(pooled, 1))


def _pool_with_the_course_helper(features, valid):
    from helpers.text_cnn.model import max_over_time

    return max_over_time(features, valid)[0]  # (values, positions): the values


MORE_RIGHT = [
    ("self_attention.attention", _attention_with_where),
    ("self_attention.attention", _attention_with_a_large_negative_fill_and_empty_rows_zeroed),
    ("self_attention.split_heads", lambda x, h: x.unflatten(-1, (h, -1)).permute(0, 2, 1, 3)),
    ("self_attention.multi_head_attention", _multi_head_with_pytorch_attention),
    ("text_cnn.conv1d_by_unfold", _conv_with_2d_unfold),
    ("text_cnn.max_over_time", _pool_with_the_course_helper),
    ("text_cnn.text_cnn_logits", _kim_forward_with_the_course_helpers),
    ("gan_minimax.discriminator_loss", lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(-f).mean())),
    (
        "word_embeddings.negative_sampling_loss",
        lambda p, n: F.softplus(-p) + torch.logaddexp(torch.zeros_like(n), n).sum(1),
    ),
]


@pytest.mark.parametrize(("name", "function"), MORE_RIGHT, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MORE_RIGHT)])
def test_more_right_answers_pass_gradients_included(name, function) -> None:
    report = EXERCISES[name].assess(function)
    assert report.status == "pass", report


def test_numbers_of_any_kind_are_accepted_as_answers() -> None:
    import numpy as np

    truth = transformer.lowest_smoothed_loss.measure()
    for answer in (np.float32(truth), torch.tensor(truth, dtype=torch.float64), round(truth, 3)):
        assert transformer.lowest_smoothed_loss.assess(answer).status == "pass", answer
    as_numpy = lambda d, p, q, dx: np.float64(gan_minimax.reference_value_on_grid(d, p, q, dx))  # noqa: E731
    assert gan_minimax.value_on_grid.assess(as_numpy).status == "pass"


def test_spearman_alternative_with_the_course_helper_passes() -> None:
    from helpers.word_embeddings.word_benchmarks import spearman

    assert word_embeddings.spearman_correlation.assess(lambda x, y: spearman(x, y)).status == "pass"


# --- issue 33: the seven wrong answers a teacher found accepted, now rejected with a hint that names them ----------


def _sgns_loss_through_numpy(positive, negative):
    p, n = positive.numpy(), negative.numpy()  # fails once the inputs require grad, as in training
    return torch.from_numpy(np.logaddexp(0, -p) + np.logaddexp(0, n).sum(axis=1))


def _discriminator_loss_through_item(real, fake):
    value = F.softplus(-real).mean().item() + F.softplus(fake).mean().item()
    return torch.tensor(value, dtype=real.dtype)  # the right number, cut off from the graph


def _generator_loss_through_numpy(fake):
    return torch.tensor(np.logaddexp(0, -fake.detach().numpy()).mean(), dtype=fake.dtype)


def _smoothed_loss_through_item(logits, targets, smoothing, padding_id):
    loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), label_smoothing=smoothing, ignore_index=padding_id)
    return torch.tensor(loss.item(), dtype=logits.dtype, requires_grad=True)  # a fresh leaf: nothing flows back


def _encoding_in_float64(max_length, d_model):
    position = np.arange(max_length)[:, None]
    angle = position / 10000 ** (np.arange(0, d_model, 2) / d_model)
    table = np.zeros((max_length, d_model))
    table[:, 0::2], table[:, 1::2] = np.sin(angle), np.cos(angle)
    return torch.from_numpy(table)  # float64


ACCEPTED_BEFORE = [
    ("word_embeddings.negative_sampling_loss", _sgns_loss_through_numpy, "no gradient flows"),
    ("gan_minimax.discriminator_loss", _discriminator_loss_through_item, "no gradient flows"),
    ("gan_minimax.generator_loss", _generator_loss_through_numpy, "no gradient flows"),
    ("transformer.label_smoothed_loss", _smoothed_loss_through_item, "no gradient flows"),
    ("word_embeddings.noise_distribution", lambda c, p: c.pow(p) / c.pow(p).sum(), "0 ** 0 = 1"),
    ("word_embeddings.noise_distribution", lambda c, p: torch.softmax(p * c.log(), dim=0), "0 · (−inf) = NaN"),
    ("transformer.sinusoidal_positional_encoding", _encoding_in_float64, "float32"),
]


@pytest.mark.parametrize(("name", "function", "words"), ACCEPTED_BEFORE, ids=[a[0] for a in ACCEPTED_BEFORE])
def test_the_seven_answers_accepted_before_are_rejected_with_a_hint_that_names_the_mistake(name, function, words):
    report = EXERCISES[name].assess(function)
    assert report.status == "hint" and words in report.message, report


def test_the_values_are_still_right_for_the_answers_cut_off_from_the_graph() -> None:
    """They fail on gradients only: the hint says the values are right, so the learner looks at the graph."""
    for name, function, _ in ACCEPTED_BEFORE[:4]:
        assert "the values are right" in EXERCISES[name].assess(function).message


def test_a_detach_on_one_input_names_that_input() -> None:
    def detached_fakes(real, fake):
        return F.softplus(-real).mean() + F.softplus(fake.detach()).mean()

    def detached_weights(q, k, v, mask=None):
        output, weights = self_attention.reference_attention(q, k, v, mask)
        return weights.detach() @ v, weights.detach()

    report = gan_minimax.discriminator_loss.assess(detached_fakes)
    assert report.status == "hint" and "no gradient flows" in report.message and "`fake_logits`" in report.message
    report = self_attention.attention.assess(detached_weights)
    assert report.status == "hint" and "no gradient flows" in report.message and "`query`" in report.message


def test_a_gradient_with_the_wrong_sign_behind_right_values_is_named() -> None:
    def reversed_gradient(fake):
        loss = F.softplus(-fake).mean()
        return 2 * loss.detach() - loss  # the value of the loss, the gradient of its negative

    report = gan_minimax.generator_loss.assess(reversed_gradient)
    assert report.status == "hint" and "the gradient differs: check detach() / the sign" in report.message
    assert "opposite sign" in report.message


def test_a_function_that_only_works_without_gradients_is_told_so() -> None:
    def in_place_on_the_input(positive, negative):
        negative.mul_(1.0)  # changes no value, but is an error on a leaf that requires grad
        return -F.logsigmoid(positive) - F.logsigmoid(-negative).sum(1)

    report = word_embeddings.negative_sampling_loss.assess(in_place_on_the_input)
    assert report.status == "hint" and "as in training" in report.message and "in-place" in report.message, report


WEAK_BEFORE = [
    ("gan_minimax.generator_loss", lambda f: F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)), "label 0"),
    ("self_attention.attention", lambda q, k, v, m=None: _attention_on_axis(q, k, v, m, 1), "dim=1"),
    ("self_attention.attention", lambda q, k, v, m=None: _attention_on_axis(q, k, v, m, 2), "dim=2"),
    ("self_attention.attention", lambda q, k, v, m=None: _attention_on_axis(q, k, v, m, 0), "dim=0"),
    ("gan_minimax.discriminator_loss", lambda r, f: F.softplus(-r).mean() + F.softplus(-f).mean(), "label 1"),
]


def _attention_on_axis(q, k, v, mask, dim):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    weights = scores.softmax(dim=dim).nan_to_num(0.0)
    return weights @ v, weights


@pytest.mark.parametrize(("name", "function", "words"), WEAK_BEFORE, ids=[f"{a[0]}-{a[2]}" for a in WEAK_BEFORE])
def test_the_weak_hints_are_specific_now(name, function, words) -> None:
    report = EXERCISES[name].assess(function)
    assert report.status == "hint" and words in report.message, report


def test_an_unknown_wrong_loss_whose_gradient_points_the_other_way_is_told_so() -> None:
    def pushes_the_wrong_way(fake):
        return (F.softplus(fake) - 0.01 * fake).mean()  # no listed mistake; near the fake-label-0 loss

    report = gan_minimax.generator_loss.assess(pushes_the_wrong_way)
    assert report.status == "hint" and "wrong way" in report.message, report


# --- the new exercises: the library functions they rebuild are refused; training verdicts ------------------------


def test_a_forward_that_breaks_in_training_fails_the_short_mr_run() -> None:
    """It equals Kim's forward on the graded cases (batches of at most 3) but trains only the classifier's bias."""

    def broken_in_training(ids, model):
        logits = _kim_forward(ids, model)
        return logits if ids.shape[0] <= 3 else logits.detach() * 0 + model.classifier.bias

    report = text_cnn.text_cnn_logits.assess(broken_in_training)
    assert report.status == "hint" and "required" in report.message and "gradients included" in report.message, report


BEHAVIOUR_RIGHT = {
    "gan_minimax.gan_training_step": [
        lambda: _gan_step_with_bce,
        lambda: _gan_step_zeroing_everything_first,
        lambda: _gan_step_with_fakes_made_without_gradients_for_d,
    ],
    "word_embeddings.own_vectors": [
        lambda: word_embeddings._train_toy_vectors(**{**word_embeddings.GOOD_SETTINGS, "window": 1}),
    ],
}


def _gan_step_with_bce(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    fake = generator(noise)
    discriminator.zero_grad()
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    d_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    d_loss = d_loss + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    d_loss.backward()
    d_optimizer.step()
    generator.zero_grad()
    logits = discriminator(generator(noise))  # the same z, through the updated D
    g_loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    g_loss.backward()
    g_optimizer.step()
    return d_loss, g_loss


def _gan_step_with_fakes_made_without_gradients_for_d(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with torch.no_grad():
        fake = generator(noise)  # no graph at all for D's stage
    d_optimizer.zero_grad()
    d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = F.softplus(-discriminator(generator(noise))).mean()
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def _gan_step_zeroing_everything_first(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    d_optimizer.zero_grad(set_to_none=False)
    g_optimizer.zero_grad(set_to_none=False)
    fake = generator(noise)
    d_loss = gan_minimax.reference_discriminator_loss(discriminator(real)[:, 0], discriminator(fake.detach())[:, 0])
    d_loss.backward()
    d_optimizer.step()
    for parameter in discriminator.parameters():
        parameter.requires_grad_(False)  # G's backward then leaves D's gradients alone
    g_loss = gan_minimax.reference_generator_loss(discriminator(fake)[:, 0])
    g_loss.backward()
    g_optimizer.step()
    for parameter in discriminator.parameters():
        parameter.requires_grad_(True)
    return [d_loss.item(), g_loss.item()]


@pytest.mark.parametrize("name", sorted(BEHAVIOUR_RIGHT))
def test_other_right_answers_of_the_experiments_pass(name: str) -> None:
    for answer in BEHAVIOUR_RIGHT[name]:
        report = EXERCISES[name].assess(answer())
        assert report.status == "pass", report


def _gan_step_with_half_loss(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    fake = generator(noise)
    d_optimizer.zero_grad()
    logits = discriminator(torch.cat([real, fake.detach()]))
    labels = torch.cat([torch.ones(len(real), 1), torch.zeros(len(fake), 1)])
    d_loss = F.binary_cross_entropy_with_logits(logits, labels)  # one mean over both batches: half of −V
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = F.softplus(-discriminator(fake)).mean()
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def _gan_step_reusing_old_logits(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    fake = generator(noise)
    fake_logits = discriminator(fake)  # computed once, before D's step
    d_optimizer.zero_grad()
    d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(fake_logits.detach()).mean()
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = F.softplus(-fake_logits).mean()
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def _gan_step_without_returning(*args):
    gan_minimax.reference_gan_training_step(*args)


BEHAVIOUR_WRONG = {
    "gan_minimax.gan_training_step": [
        (_gan_step_with_half_loss, "0.5 × the reference's"),
        (_gan_step_reusing_old_logits, "after D's step"),
        (_gan_step_without_returning, "return the two losses"),
    ],
    "word_embeddings.own_vectors": [
        (lambda: word_embeddings._train_toy_vectors(epochs=1, batch_size=4096), "optimizer steps"),
        (lambda: {"cat": torch.zeros(3)}, "pass the WordVectors"),
    ],
}


@pytest.mark.parametrize("name", sorted(BEHAVIOUR_WRONG))
def test_wrong_answers_of_the_experiments_get_the_hint_that_names_the_mistake(name: str) -> None:
    for answer, words in BEHAVIOUR_WRONG[name]:
        report = EXERCISES[name].assess(answer() if name == "word_embeddings.own_vectors" else answer)
        assert report.status == "hint" and words in report.message, (words, report)


def test_the_new_references_equal_the_library_they_rebuild() -> None:
    from helpers.text_cnn.model import TextCNN
    from helpers.word_embeddings.word_benchmarks import spearman

    g = torch.Generator().manual_seed(1)
    # Kim's forward of the grader equals TextCNN's own (evaluation mode).
    torch.manual_seed(0)
    model = TextCNN(40, embedding_dim=8, feature_maps=5, window_sizes=(2, 3, 4)).eval()
    ids = torch.randint(2, 40, (3, 6), generator=g)
    ids[1, 2:], ids[2, 1:] = 0, 0
    torch.testing.assert_close(text_cnn.reference_text_cnn_logits(ids, model), model(ids))
    # The unfold + matrix product of the solutions equals nn.Conv1d, gradients included.
    conv = torch.nn.Conv1d(3, 4, 3)
    x = torch.randn(2, 3, 8, generator=g, requires_grad=True)
    ours = text_cnn._unfolded(x, conv.weight, conv.bias)
    torch.testing.assert_close(ours, conv(x))
    direction = torch.randn(ours.shape, generator=g)
    torch.testing.assert_close(*(torch.autograd.grad((y * direction).sum(), x)[0] for y in (ours, conv(x))))
    # Multi-head attention from the pieces equals nn.MultiheadAttention with the same weights.
    weights = self_attention._weights(g, 8)
    q, k = torch.randn(2, 4, 8, generator=g), torch.randn(2, 5, 8, generator=g)
    torch.testing.assert_close(
        self_attention._multi_head(q, k, k, weights, 2), _mha_with_the_module(q, k, k, weights, 2)
    )
    # Spearman with ties, the gradients of SGNS by hand, the smoothed loss's gradient by hand.
    a, b = torch.tensor([1.0, 2, 2, 3, 5, 5]), torch.tensor([2.0, 1, 4, 4, 3, 6])
    assert math.isclose(word_embeddings.reference_spearman_correlation(a, b), spearman(a, b), rel_tol=1e-12)
    v, u, noise = torch.randn(5, generator=g), torch.randn(5, generator=g), torch.randn(3, 5, generator=g)
    for ours, autograd in zip(
        word_embeddings._by_hand(v, u, noise), word_embeddings.reference_sgns_gradients(v, u, noise)
    ):
        torch.testing.assert_close(ours, autograd)
    logits, targets = torch.randn(2, 4, 6, generator=g), torch.tensor([[1, 2, 0, 0], [3, 4, 5, 0]])
    torch.testing.assert_close(
        transformer._smoothed_gradient(logits, targets, 0.1, 0),
        transformer.reference_smoothed_loss_gradient(logits, targets, 0.1, 0),
    )


# --- how a verdict is printed ------------------------------------------------------------------------------


def _check_wrapped(printed: str, one_line: str, width: int = WRAP_WIDTH) -> None:
    lines = printed.rstrip("\n").split("\n")
    words = one_line.split()
    assert len(lines) > 1, "a verdict this long should be wrapped"
    assert all(len(line) <= width for line in lines if len(line.split()) > 1), lines  # one long word may overflow
    assert all(line.startswith(CONTINUATION) and not line[len(CONTINUATION)].isspace() for line in lines[1:]), lines
    assert " ".join(printed.split()) == " ".join(words), "wrapping changed the words (broke one mid-word?)"
    assert all(word in words for line in lines for word in line.split()), "a line starts or ends inside a word"


def test_a_long_verdict_is_printed_wrapped_between_words_never_inside_one(capsys: pytest.CaptureFixture) -> None:
    # JupyterLab breaks a long output line where the window ends, mid-word ("differenc|e"): the grader wraps.
    exercise = self_attention.attention
    exercise(exercise.mistakes[0].function)
    printed = capsys.readouterr().out
    report = exercise.assess(exercise.mistakes[0].function)
    assert report.status == "hint" and len(str(report)) > WRAP_WIDTH, report
    assert printed == report.wrapped() + "\n"
    _check_wrapped(printed, str(report))


def test_wrapping_keeps_long_words_and_existing_line_breaks_whole() -> None:
    path = "/home/learner/" + "very_long_folder_name/" * 6 + "notebook.ipynb"
    report = Report("demo", "hint", f"{'a few words ' * 12}then {path} and then differences in the end")
    printed = report.wrapped(width=60)
    assert CONTINUATION + path in printed.split("\n"), printed  # a word longer than a line stays whole, alone
    _check_wrapped(printed + "\n", str(report), width=60)
    two = Report("demo", "pass", "first line\nsecond line").wrapped()
    assert two == "PASS · demo: first line\nsecond line"
