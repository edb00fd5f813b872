"""The search for a setting where a plain GAN truly collapses (notebook 03, section 4; issue 20, item 1).

Not a timing benchmark (``benchmarks/run.py`` only runs ``bench_*.py``): every row trains 10 seeds
(``range(10)``) of a small GAN on the ring of 8 or the grid of 25 Gaussians with
``helpers.gan_minimax.stacked_gans.train_stacked_gans`` (2,000 steps, batch 100, Adam β1 0.5, learning rate decayed
linearly to 0) and scores each seed with PacGAN's metrics. A seed is *collapsed* when it covers at most
half of the modes with at least 50 % high-quality samples, *drops modes* when it misses at least one mode
with at least 50 % high-quality samples, and *has not converged* under 10 % high-quality samples.
The notebook prints the table this script writes (``gan_collapse_search.csv`` beside it): the whole
search takes several minutes of CPU, too long for the notebook's budget.

Run: ``PYTHONPATH=. python benchmarks/gan_collapse_search.py`` (one thread, about 5 minutes).
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import torch

from helpers.gan_minimax import mode_metrics, stacked_gans

OUT = Path(__file__).resolve().parent / "gan_collapse_search.csv"
RING, GRID = mode_metrics.ring_centers(8), mode_metrics.grid_centers(5)
SMALL = dict(generator_sizes=(32, 32, 32), discriminator_sizes=(32, 32), noise_dim=2, batch_norm=True)
# (data, description, packings, settings): the notebook's setting first, then what was varied
SETTINGS = [
    ("ring", "G 3×32 + BN, D 2×32, lr 1e-3 (the notebook's)", (1, 2), dict(SMALL)),
    ("ring", "G 3×32 + BN, D 2×32, lr 3e-3", (1, 2), dict(SMALL, learning_rate=3e-3)),
    ("ring", "G 3×32 + BN, D 2×32, lr 1e-2", (1,), dict(SMALL, learning_rate=1e-2)),
    ("ring", "G 3×32 no BN, D 2×32, lr 3e-3", (1, 2), dict(SMALL, batch_norm=False, learning_rate=3e-3)),
    ("ring", "G 3×32 no BN, D 2×32, lr 1e-2", (1, 2), dict(SMALL, batch_norm=False, learning_rate=1e-2)),
    (
        "ring",
        "G 3×32 + BN, D 2×16 (smaller), lr 3e-3",
        (1, 2),
        dict(SMALL, discriminator_sizes=(16, 16), learning_rate=3e-3),
    ),
    (
        "ring",
        "G 3×32 + BN, D 2×8 (smaller), lr 3e-3",
        (1, 2),
        dict(SMALL, discriminator_sizes=(8, 8), learning_rate=3e-3),
    ),
    (
        "ring",
        "G 3×32 + BN, D 2×8 (smaller), lr 1e-2",
        (1, 2),
        dict(SMALL, discriminator_sizes=(8, 8), learning_rate=1e-2),
    ),
    ("ring", "G 3×32 + BN, D 1×8 (smaller), lr 3e-3", (1,), dict(SMALL, discriminator_sizes=(8,), learning_rate=3e-3)),
    (
        "ring",
        "Unrolled-GAN-like: G 2×128 no BN, D 1×128, z 16, D lr 1e-4",
        (1,),
        dict(
            generator_sizes=(128, 128),
            discriminator_sizes=(128,),
            noise_dim=16,
            batch_norm=False,
            discriminator_learning_rate=1e-4,
        ),
    ),
    ("grid", "G 3×32 + BN, D 2×32, lr 1e-3", (1, 2), dict(SMALL)),
    (
        "grid",
        "G 3×64 + BN, D 2×64, lr 1e-3",
        (1, 2),
        dict(SMALL, generator_sizes=(64, 64, 64), discriminator_sizes=(64, 64)),
    ),
    ("grid", "G 3×32 + BN, D 2×32, lr 1e-2", (1, 2), dict(SMALL, learning_rate=1e-2)),
]


def mean_se(values: torch.Tensor) -> tuple[float, float]:
    return float(values.mean()), float(values.std() / math.sqrt(len(values)))


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    for data, description, packings, settings in SETTINGS:
        centers, std = (RING, 0.02) if data == "ring" else (GRID, 0.05)
        for pack in packings:
            options = {"learning_rate": 1e-3, **settings}
            start = time.process_time()
            _, history = stacked_gans.train_stacked_gans(
                centers, std=std, seeds=10, steps=2000, batch_size=100, pack=pack, record_every=2000, **options
            )
            final = stacked_gans.final_metrics(history, len(centers))
            modes, quality = final["modes"], final["high_quality"]
            (m, m_se), (q, q_se) = mean_se(modes), mean_se(quality)
            row = {
                "data": f"{data} of {len(centers)}",
                "setting": description,
                "pack": pack,
                "modes": round(m, 2),
                "modes_se": round(m_se, 2),
                "high_quality": round(q, 4),
                "high_quality_se": round(q_se, 4),
                "reverse_kl": round(float(final["reverse_kl"].mean()), 3),
                "collapsed": int(((modes <= len(centers) // 2) & (quality >= 0.5)).sum()),
                "drops_modes": int(((modes < len(centers)) & (quality >= 0.5)).sum()),
                "not_converged": int((quality < 0.1).sum()),
                "cpu_s": round(time.process_time() - start, 1),
            }
            rows.append(row)
            print(row, flush=True)
    with OUT.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("wrote", OUT.name)


if __name__ == "__main__":
    main()
