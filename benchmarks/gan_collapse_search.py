"""The search for a setting where a plain GAN truly collapses (notebook 03, section 4; issue 20, item 1).

Not a timing benchmark (``benchmarks/run.py`` only runs ``bench_*.py``): every row trains 10 seeds
(``range(10)``) of a small GAN on the ring of 8 or the grid of 25 Gaussians with
``helpers.gan_minimax.stacked_gans.train_stacked_gans`` (2,000 steps, batch 100, Adam β1 0.5, learning rate decayed
linearly to 0) and scores each seed with PacGAN's metrics. A seed is *collapsed* when it covers at most
half of the modes with at least 50 % high-quality samples, *drops modes* when it misses at least one mode
with at least 50 % high-quality samples, and *has not converged* under 10 % high-quality samples.
The notebook prints the table this script writes (``gan_collapse_search.csv`` beside it): the whole
search takes several minutes of CPU, too long for the notebook's budget. The settings and the row function
live in ``helpers.gan_minimax.experiments``, where ``make replicate`` reruns one row of each kind of setting
(on seeds 0-9, checking this file to the digits, and on fresh seeds 100-109). GAN training is chaotic: the
digits depend on the CPU's kernels (AVX2 or AVX-512), so rerun the script where the notebook is executed.

Run: ``PYTHONPATH=. python benchmarks/gan_collapse_search.py`` (two worker processes of one thread, about
4 minutes of CPU each; ``cpu_s`` is each row's CPU time in its worker).
"""

from __future__ import annotations

import csv
from pathlib import Path

from helpers.gan_minimax.experiments import COLLAPSE_SEARCH_SETTINGS, collapse_search_row, timed_search_setting
from helpers.training.workers import map_in_processes

OUT = Path(__file__).resolve().parent / "gan_collapse_search.csv"
SEEDS = range(10)


def main() -> None:
    rows = [(data, description, pack, settings) for data, description, packings, settings in COLLAPSE_SEARCH_SETTINGS
            for pack in packings]  # fmt: skip
    jobs = [(SEEDS[0], len(SEEDS), data, pack, settings) for data, _, pack, settings in rows]
    results = map_in_processes(timed_search_setting, jobs, workers=2, description=f"{len(jobs)} settings")
    table = [
        collapse_search_row(SEEDS, data, description, pack, final, cpu_seconds)
        for (data, description, pack, _), (final, cpu_seconds) in zip(rows, results)
    ]
    with OUT.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    print("wrote", OUT.name)


if __name__ == "__main__":
    main()
