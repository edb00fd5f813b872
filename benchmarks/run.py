"""Time the project's code against its reference implementations and print one table (`make bench`).

Each ``benchmarks/bench_<topic>.py`` exposes ``run() -> list[dict]`` with rows
``{"benchmark", "ours_s", "reference", "reference_s"}`` (seconds per call or step, each measured in the
same process on the same inputs). Benchmarks are not tests: nothing in `make test` reads a timing.

Usage: python benchmarks/run.py [topic ...]   (e.g. `attention transformer`; default: all)
"""

from __future__ import annotations

import importlib.util
import platform
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bench files import timing.py beside them


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main(topics: list[str]) -> int:
    files = sorted(HERE.glob("bench_*.py"))
    if topics:
        files = [f for f in files if f.stem.removeprefix("bench_") in topics]
    if not files:
        known = [f.stem.removeprefix("bench_") for f in HERE.glob("bench_*.py")]
        print(f"no benchmark matches {topics}; known: {known}")
        return 2
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    header = f"{'benchmark':44s} {'ours (ms)':>10s} {'reference':>30s} {'ref (ms)':>10s} {'ratio':>7s}"
    print(header)
    print("-" * len(header))
    for path in files:
        try:
            rows = load(path).run()
        except ImportError as error:  # an optional reference (gensim) that is not installed
            print(f"{path.stem}: skipped ({error}); see benchmarks/requirements.txt")
            continue
        for row in rows:
            ratio = row["ours_s"] / row["reference_s"]
            print(
                f"{row['benchmark']:44s} {1e3 * row['ours_s']:10.2f} {row['reference']:>30s} "
                f"{1e3 * row['reference_s']:10.2f} {ratio:6.2f}x"
            )
            for key, value in row.items():
                if key not in {"benchmark", "ours_s", "reference", "reference_s"}:
                    print(f"    {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
