"""Vaswani et al. (2017) Table 3 at a laptop's scale: notebook 05's small model with one setting changed per row.

Not a timing benchmark (``benchmarks/run.py`` only runs ``bench_*.py``). Each row of
:data:`helpers.transformer.table3.TABLE3_ARMS` (heads at fixed d_model, model size, dropout, learned against
sinusoidal positions) is trained on the notebook's seeds 0-4 (task drawn with seed 0) and on fresh seeds
100-104 (task drawn with seed 100), with :func:`helpers.transformer.table3.table3_run`, and scored on the
validation days, the years outside the training range and the validation days read 8 positions later. Notebook
05 prints ``transformer_table3.csv`` (beside this file), re-runs one of its rows and checks that it equals the
file's, and asserts a direction only where the paired difference is ≥ 3 SE on seeds 0-4 and has the same
direction on seeds 100-104.

Run: ``PYTHONPATH=. python benchmarks/transformer_table3.py`` (one process of one thread, the 110 runs one after
the other: about 18 CPU-minutes; 35 minutes of wall time on a shared 2-core machine under other jobs).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from helpers.training.workers import map_in_processes
from helpers.transformer.table3 import FRESH_SEEDS, NOTEBOOK_SEEDS, TABLE3_ARMS, table3_run

OUT = Path(__file__).resolve().parent / "transformer_table3.csv"


def main() -> None:
    started = time.perf_counter()
    jobs = [(seeds[0], arm, seed) for seeds in (NOTEBOOK_SEEDS, FRESH_SEEDS) for arm in TABLE3_ARMS for seed in seeds]
    rows = map_in_processes(table3_run, jobs, workers=1, description="Table 3 runs")
    for (task_seed, _, _), row in zip(jobs, rows, strict=True):
        row["task seed"] = task_seed
    with OUT.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=["task seed", *(key for key in rows[0] if key != "task seed")])
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {OUT.name}: {len(rows)} runs in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
