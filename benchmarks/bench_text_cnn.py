"""Benchmark helpers.text_cnn.model's TextCNN against a plain unmasked Kim CNN (not a test: timings vary).

The reference is the usual PyTorch rendering of Kim (2014): ``nn.Conv2d`` filters of size (h, k) over
the (words, k) matrix, ``F.max_pool1d`` over the whole length, no padding mask. Ours adds Kim's h−1
padding words per side, the mask that keeps padding-only windows out of the max, and argmax positions.
Rows: a forward + backward + Adam step at Kim's batch size 50, and inference on 500 sentences; then
the two speed-ups notebook 02 uses: Adam's fused update (against the default) on the notebook's model,
and an epoch of batches grouped by length (against shuffled batches) on sentences of MR's lengths.
``run(quick=True)`` (``benchmarks/run.py --quick``): the same models on batches of 8, inference on 20 sentences and
an epoch of 100, timed briefly.
Run: ``python benchmarks/bench_text_cnn.py [--quick]`` (or through ``benchmarks/run.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from helpers.data.text import padded_loader
from helpers.text_cnn.model import TextCNN
from helpers.text_cnn.text_classification import length_bucketed_loader
from helpers.training import supervised_step
from timing import timer

VOCABULARY, K, MAPS, WINDOWS, LENGTH = 14_000, 100, 100, (3, 4, 5), 25
# (training batch, sentences at inference, sentences in an epoch): Kim's batch of 50, and of a quick run
SIZES, QUICK_SIZES = (50, 500, 1000), (8, 20, 100)


class PlainKimCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCABULARY, K, padding_idx=0)
        self.convolutions = nn.ModuleList(nn.Conv2d(1, MAPS, (h, K)) for h in WINDOWS)
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Linear(len(WINDOWS) * MAPS, 2)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids).unsqueeze(1)  # (batch, 1, seq, k)
        pooled = [F.relu(conv(x)).squeeze(3).amax(dim=2) for conv in self.convolutions]  # (batch, maps) each
        return self.classifier(self.dropout(torch.cat(pooled, dim=1)))


def training_step(model: nn.Module, ids: torch.Tensor, labels: torch.Tensor) -> Callable[[], object]:
    """One Adam step of the notebooks' own ``supervised_step`` on a fixed batch."""
    step = supervised_step(model, torch.optim.Adam(model.parameters(), lr=1e-3), F.cross_entropy)
    return lambda: step((ids, labels))


def run(quick: bool = False) -> list[dict]:
    batch, inference, _ = QUICK_SIZES if quick else SIZES
    seconds_per_call = timer(quick)
    torch.manual_seed(0)
    ours, plain = TextCNN(VOCABULARY, embedding_dim=K, feature_maps=MAPS, window_sizes=WINDOWS), PlainKimCNN()
    # The plain model sees the same padded length as ours (4 padding words per side).
    ids = torch.randint(2, VOCABULARY, (batch, LENGTH))
    padded = F.pad(ids, (4, 4))
    labels = torch.randint(0, 2, (batch,))
    rows = [
        {
            "benchmark": f"Text CNN training step (batch {batch}, Adam)",
            "ours_s": seconds_per_call(training_step(ours.train(), ids, labels)),
            "reference": "plain nn.Conv2d Kim CNN, no mask",
            "reference_s": seconds_per_call(training_step(plain.train(), padded, labels)),
        }
    ]
    many = torch.randint(2, VOCABULARY, (inference, LENGTH))
    with torch.no_grad():
        ours.eval(), plain.eval()
        rows.append(
            {
                "benchmark": f"Text CNN inference ({inference} sentences)",
                "ours_s": seconds_per_call(lambda: ours(many)),
                "reference": "plain nn.Conv2d Kim CNN, no mask",
                "reference_s": seconds_per_call(lambda: plain(F.pad(many, (4, 4)))),
            }
        )
    rows += notebook_speedups(quick)
    return rows


def notebook_speedups(quick: bool = False) -> list[dict]:
    """Notebook 02's model (50-d, 50 maps): fused Adam, and length-bucketed batches, each against the default."""
    _, _, count = QUICK_SIZES if quick else SIZES
    seconds_per_call = timer(quick)
    torch.manual_seed(0)
    model = TextCNN(VOCABULARY).train()
    parameters = list(model.parameters())
    for parameter in parameters:
        parameter.grad = torch.randn_like(parameter)
    fused, default = torch.optim.Adam(parameters, lr=1e-3, fused=True), torch.optim.Adam(parameters, lr=1e-3)
    rows = [
        {
            "benchmark": "Adam update, notebook 02's model",
            "ours_s": seconds_per_call(fused.step),
            "reference": "Adam(fused=False)",
            "reference_s": seconds_per_call(default.step),
        }
    ]
    lengths = torch.randint(3, 45, (count,)).tolist()  # MR: 1 to 60 words, 20 on average
    sentences = [torch.randint(2, VOCABULARY, (n,)).tolist() for n in lengths]
    labels = torch.randint(0, 2, (count,))
    step = supervised_step(model, torch.optim.Adam(model.parameters(), lr=1e-3, fused=True), F.cross_entropy)
    bucketed = length_bucketed_loader(
        sentences, labels, batch_size=50, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    shuffled = padded_loader(sentences, labels, batch_size=50, shuffle=True, generator=torch.Generator().manual_seed(0))
    epoch_seconds = timer(quick, min_run_time=1.0)  # an epoch is a long call: a few of them for the median
    rows.append(
        {
            "benchmark": f"an epoch of {count:,} sentences, length buckets",
            "ours_s": epoch_seconds(lambda: [step(batch) for batch in bucketed]),
            "reference": "shuffled batches",
            "reference_s": epoch_seconds(lambda: [step(batch) for batch in shuffled]),
        }
    )
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(
            f"{row['benchmark']:<45} ours {row['ours_s'] * 1e3:8.2f} ms   "
            f"{row['reference']} {row['reference_s'] * 1e3:8.2f} ms"
        )
