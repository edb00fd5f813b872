"""Benchmark helpers.self_attention.attention against PyTorch's built-ins on the same inputs (not a test: timings vary).

Rows: the written-out formula vs ``F.scaled_dot_product_attention``; ``MultiHeadAttention`` with
weights (written out) and without (its fused fast path) vs ``nn.MultiheadAttention`` with the same
weights, for a forward pass at inference and a forward + backward training step.
``run(quick=True)`` (``benchmarks/run.py --quick``): batch 2, 16 positions, d_model 32, 4 heads, timed briefly.
Run: ``python benchmarks/bench_attention.py [--quick]`` (or through ``benchmarks/run.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
import torch.nn.functional as F

from helpers.self_attention.attention import MultiHeadAttention, scaled_dot_product_attention
from helpers.self_attention.masks import causal_mask
from timing import timer

BATCH, SEQ, D_MODEL, HEADS = 16, 128, 256, 8
QUICK_SIZES = 2, 16, 32, 4  # (batch, seq, d_model, heads) of a quick run


def run(quick: bool = False) -> list[dict]:
    batch, seq, d_model, heads = QUICK_SIZES if quick else (BATCH, SEQ, D_MODEL, HEADS)
    seconds_per_call = timer(quick)
    torch.manual_seed(0)
    rows = []
    shape = (batch, heads, seq, d_model // heads)
    q, k, v = torch.randn(shape), torch.randn(shape), torch.randn(shape)
    mask = causal_mask(seq)
    with torch.no_grad():
        rows.append(
            {
                "benchmark": f"attention formula, causal mask {shape}",
                "ours_s": seconds_per_call(lambda: scaled_dot_product_attention(q, k, v, mask)),
                "reference": "F.scaled_dot_product_attention",
                "reference_s": seconds_per_call(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)),
            }
        )

    ours = MultiHeadAttention(d_model, heads).eval()
    theirs = ours.to_pytorch().eval()
    x = torch.randn(batch, seq, d_model)
    blocked = ~mask  # nn.MultiheadAttention's convention: True = blocked
    with torch.no_grad():
        rows.append(
            {
                "benchmark": "multi-head self-attention forward, with weights",
                "ours_s": seconds_per_call(lambda: ours(x, x, x, mask)),
                "reference": "nn.MultiheadAttention(average_attn_weights=False)",
                "reference_s": seconds_per_call(lambda: theirs(x, x, x, attn_mask=blocked, average_attn_weights=False)),
            }
        )
        rows.append(
            {
                "benchmark": "multi-head self-attention forward, fast path",
                "ours_s": seconds_per_call(lambda: ours(x, x, x, mask, need_weights=False)),
                "reference": "nn.MultiheadAttention(need_weights=False)",
                "reference_s": seconds_per_call(lambda: theirs(x, x, x, attn_mask=blocked, need_weights=False)),
            }
        )

    def train_step(module: torch.nn.Module, call: Callable[[], torch.Tensor]) -> None:
        module.zero_grad(set_to_none=True)
        call().pow(2).mean().backward()

    ours.train()
    theirs.train()
    rows.append(
        {
            "benchmark": "multi-head self-attention forward + backward, fast path",
            "ours_s": seconds_per_call(lambda: train_step(ours, lambda: ours(x, x, x, mask, need_weights=False)[0])),
            "reference": "nn.MultiheadAttention(need_weights=False)",
            "reference_s": seconds_per_call(
                lambda: train_step(theirs, lambda: theirs(x, x, x, attn_mask=blocked, need_weights=False)[0])
            ),
        }
    )
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(
            f"{row['benchmark']:<58} ours {row['ours_s'] * 1e3:8.2f} ms   {row['reference']:<50} "
            f"{row['reference_s'] * 1e3:8.2f} ms   ratio {row['ours_s'] / row['reference_s']:.2f}"
        )
