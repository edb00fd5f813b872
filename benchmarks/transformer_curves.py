"""Notebook 05, section 8: the Transformer and the GRU, each at its own tuned learning rate, as learning curves.

Not a timing benchmark (``benchmarks/run.py`` only runs ``bench_*.py``). First every peak of
:data:`helpers.transformer.learning_curves.LEARNING_RATES` is tried for each model on the tuning seeds; then
each model trains at its tuned peak on the notebook's seeds 0-4 and on fresh seeds 100-104 (a fresh cut of the
task); last, the GRU (:data:`~helpers.transformer.learning_curves.RUNNER_UP_MODELS`), whose two best peaks were
nearly tied, trains at its runner-up peak on the same seeds. Every run writes its validation exact match every
50 steps and at each epoch's end to ``transformer_curves.csv`` (beside this file). Notebook 05 prints the file,
re-runs one row live and asserts a direction only at ≥ 3 SE on seeds 0-4 with the same direction on seeds
100-104.

The file is written after each phase, and a run already in it is not run again: after the grid of peaks grows
(it did once: 3e-2 came out best for the GRU at the edge of the first grid, so 1e-1 was added), rerunning the
script trains only the new runs. Runs at a peak that is no longer a model's tuned one stay in the file.

Run: ``PYTHONPATH=. python benchmarks/transformer_curves.py [--workers 2]`` (runs of one thread each: a
Transformer run about 110 CPU-seconds, a GRU run about 180; 50 runs in all). The committed file was made in
three calls on 2 cores with 2 workers: 2,900 s (the first grid of 4 peaks and the race), 337 s (the peak 1e-1),
837 s (the GRU's runner-up).
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
    RUNNER_UP_MODELS,
    TUNING_SEEDS,
    curve_run,
    ranked_learning_rates,
    tuned_learning_rates,
)

OUT = Path(__file__).resolve().parent / "transformer_curves.csv"


def _key(phase: str, model: str, rate: float, seed: int) -> tuple[str, str, float, int]:
    return phase, model, float(rate), int(seed)


def _run_missing(rows: list[dict], jobs: list[tuple], workers: int, description: str) -> list[dict]:
    done = {_key(row["phase"], row["model"], row["learning rate"], row["seed"]) for row in rows}
    missing = [job for job in jobs if _key(*job[:4]) not in done]
    print(f"{description}: {len(jobs) - len(missing)} in the file, {len(missing)} to run", flush=True)
    if not missing:
        return rows
    runs = map_in_processes(curve_run, missing, workers=workers, description=description)
    rows = rows + [row for run in runs for row in run]
    with OUT.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _race(models: tuple[str, ...], peaks: dict[str, float]) -> list[tuple]:
    """The jobs of one race: each of ``models`` at its peak on the notebook's seeds and on the fresh ones."""
    return [
        (phase, model, peaks[model], seed, seeds[0])
        for phase, seeds in (("notebook seeds", NOTEBOOK_SEEDS), ("fresh seeds", FRESH_SEEDS))
        for model in models
        for seed in seeds
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="processes of one thread each (default 2)")
    workers = parser.parse_args().workers
    started = time.perf_counter()
    rows: list[dict] = []
    if OUT.exists():
        with OUT.open(newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    tuning = [("tuning", model, rate, seed, 0) for model in MODELS for rate in LEARNING_RATES for seed in TUNING_SEEDS]
    rows = _run_missing(rows, tuning, workers, "tuning runs")
    tuned = tuned_learning_rates(rows)
    print(f"tuned peaks: {tuned} ({time.perf_counter() - started:.0f} s)", flush=True)
    rows = _run_missing(rows, _race(MODELS, tuned), workers, "compared runs")
    ranked = ranked_learning_rates(rows)
    runner_up = {model: ranked[model][1] for model in RUNNER_UP_MODELS}
    rows = _run_missing(rows, _race(RUNNER_UP_MODELS, runner_up), workers, "runner-up runs")
    print(
        f"{OUT.name}: {len({_key(r['phase'], r['model'], r['learning rate'], r['seed']) for r in rows})} runs; "
        f"this call {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
