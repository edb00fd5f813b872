"""Benchmark one training step of helpers.transformer.model.Transformer against nn.Transformer of the same size.

Both models get the same embeddings, positional encoding and generator (ours); the reference runs PyTorch's
``nn.Transformer`` (post-norm, dropout off) in between. A step is forward, label-smoothed loss, backward and an
Adam update, on the date task's shapes (batch 64, source 30, target 11). A second row times notebook 05's
recurrent baseline (``helpers.transformer.recurrent.GRUTranslator``) on the same batch. Not a test: timings vary.
Each is timed over at least a second of steps. ``run(quick=True)`` (``benchmarks/run.py --quick``): batch 8, timed
briefly. Run: ``python benchmarks/bench_transformer.py [--quick]`` (or ``python benchmarks/run.py transformer``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
from torch import nn

from helpers.self_attention.masks import causal_mask, to_pytorch_attn_mask, to_pytorch_key_padding_mask
from helpers.training import supervised_step
from helpers.transformer.model import Transformer
from helpers.transformer.recurrent import GRUTranslator
from helpers.transformer.seq2seq import label_smoothed_cross_entropy
from timing import timer

BATCH, SOURCE_LEN, TARGET_LEN, VOCAB = 64, 30, 11, 80
QUICK_BATCH = 8
SIZES = {"num_layers": 2, "d_model": 64, "num_heads": 4, "d_ff": 256}


class ReferenceModel(nn.Module):
    """Our embeddings and generator around ``nn.Transformer`` (its extra final norms removed, as in the paper)."""

    def __init__(self, ours: Transformer):
        super().__init__()
        self.ours = ours
        self.core = nn.Transformer(
            SIZES["d_model"],
            SIZES["num_heads"],
            SIZES["num_layers"],
            SIZES["num_layers"],
            SIZES["d_ff"],
            dropout=0.0,
            batch_first=True,
        )
        self.core.encoder.norm, self.core.decoder.norm = None, None

    def forward(self, source: torch.Tensor, target_in: torch.Tensor) -> torch.Tensor:
        ours = self.ours
        source_padding = to_pytorch_key_padding_mask(ours.source_mask(source))
        future = to_pytorch_attn_mask(causal_mask(target_in.size(1)))
        hidden = self.core(
            ours.positional_encoding(ours.source_embedding(source)),
            ours.positional_encoding(ours.target_embedding(target_in)),
            tgt_mask=future,
            src_key_padding_mask=source_padding,
            memory_key_padding_mask=source_padding,
        )
        return ours.generator(hidden)


def training_step(model: nn.Module, source: torch.Tensor, target: torch.Tensor) -> Callable[[], object]:
    """One Adam step of the notebooks' own ``supervised_step``: teacher forcing, label smoothing 0.1."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    step = supervised_step(
        model,
        optimizer,
        lambda logits, next_tokens: label_smoothed_cross_entropy(logits, next_tokens, 0.1, ignore_index=0),
    )
    return lambda: step(((source, target[:, :-1]), target[:, 1:]))


def run(quick: bool = False) -> list[dict]:
    batch = QUICK_BATCH if quick else BATCH
    seconds_per_call = timer(quick, min_run_time=1.0)  # a training step varies more than a forward pass
    torch.manual_seed(0)
    source = torch.randint(4, VOCAB, (batch, SOURCE_LEN))
    source[: batch // 2, SOURCE_LEN // 2 :] = 0  # half the batch padded, as in real batches
    target = torch.randint(4, 15, (batch, TARGET_LEN + 1))
    ours = Transformer(VOCAB, 15, **SIZES, dropout=0.0, max_length=48)
    reference = ReferenceModel(Transformer(VOCAB, 15, **SIZES, dropout=0.0, max_length=48))
    return [
        {
            "benchmark": f"Transformer training step (d64, 2+2 layers, batch {batch})",
            "ours_s": seconds_per_call(training_step(ours, source, target)),
            "reference": "nn.Transformer, same size",
            "reference_s": seconds_per_call(training_step(reference, source, target)),
        },
        {  # notebook 05's recurrent baseline: its decoder runs one GRU cell per target character
            "benchmark": "Transformer training step against the GRU + additive attention baseline of similar size",
            "ours_s": seconds_per_call(training_step(ours, source, target)),
            "reference": "GRUTranslator (embedding 64, hidden 96)",
            "reference_s": seconds_per_call(
                training_step(GRUTranslator(VOCAB, 15, embedding_dim=64, hidden_size=96), source, target)
            ),
        },
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(
            f"{row['benchmark']}: ours {1e3 * row['ours_s']:.1f} ms, {row['reference']} "
            f"{1e3 * row['reference_s']:.1f} ms, ratio {row['ours_s'] / row['reference_s']:.2f}x"
        )
