"""Notebook 05, section 8: the Transformer and the GRU, each at its own tuned learning rate, as learning curves.

Not a timing benchmark (``benchmarks/run.py`` only runs ``bench_*.py``). First every peak of
:data:`helpers.transformer.learning_curves.LEARNING_RATES` is tried for each model on the tuning seeds; then
each model trains at its tuned peak on the notebook's seeds 0-4 and on fresh seeds 100-104 (a fresh cut of the
task). Every run writes its validation exact match every 50 steps and at each epoch's end to
``transformer_curves.csv`` (beside this file). Notebook 05 prints the file, re-runs one row live and asserts a
direction only at ≥ 3 SE on seeds 0-4 with the same direction on seeds 100-104.

Run: ``PYTHONPATH=. python benchmarks/transformer_curves.py [--workers 2]`` (36 runs of one thread each).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from helpers.training.workers import map_in_processes
from helpers.transformer.learning_curves import (
    FRESH_SEEDS,
    LEARNING_RATES,
    MODELS,
    NOTEBOOK_SEEDS,
    TUNING_SEEDS,
    curve_run,
    tuned_learning_rates,
)

OUT = Path(__file__).resolve().parent / "transformer_curves.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="processes of one thread each (default 2)")
    workers = parser.parse_args().workers
    started = time.perf_counter()
    tuning_jobs = [
        ("tuning", model, rate, seed, 0) for model in MODELS for rate in LEARNING_RATES for seed in TUNING_SEEDS
    ]
    rows = [
        row
        for run in map_in_processes(curve_run, tuning_jobs, workers=workers, description="tuning runs")
        for row in run
    ]
    tuned = tuned_learning_rates(rows)
    print(f"tuned peaks: {tuned} ({time.perf_counter() - started:.0f} s)", flush=True)
    jobs = [
        (phase, model, tuned[model], seed, seeds[0])
        for phase, seeds in (("notebook seeds", NOTEBOOK_SEEDS), ("fresh seeds", FRESH_SEEDS))
        for model in MODELS
        for seed in seeds
    ]
    rows += [
        row for run in map_in_processes(curve_run, jobs, workers=workers, description="compared runs") for row in run
    ]
    with OUT.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {OUT.name}: {len(tuning_jobs) + len(jobs)} runs in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
