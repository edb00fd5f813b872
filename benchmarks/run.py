"""Time the project's code against its reference implementations and print one table (`make bench`).

Each ``benchmarks/bench_<topic>.py`` exposes ``run(quick: bool = False) -> list[dict]`` with rows
``{"benchmark", "ours_s", "reference", "reference_s"}`` (seconds per call or step, each measured in the
same process on the same inputs; ``reference_s`` None where an optional reference is not installed).
Benchmarks are not tests: nothing in `make test` reads a timing, but tests/test_benchmarks.py runs
``--quick`` to check that every benchmark still runs.

Usage: python benchmarks/run.py [--quick] [--write-results] [--results-dir DIR] [topic ...]
  topic            e.g. `attention transformer`; default: all
  --quick          tiny sizes and brief timings: a few seconds per benchmark, numbers that mean little
  --write-results  also rewrite the committed results notebooks print (benchmarks/results/embeddings.json;
                   full run only, needs gensim: benchmarks/requirements.txt); `make bench-results`
  --results-dir    where results are written otherwise (default build/benchmarks/, git-ignored): the table
                   (table.json, or table-quick.json) and each benchmark's own file (embeddings.json ...)

Exits 1 if any benchmark raises. Only a missing optional reference package (OPTIONAL_REFERENCES) skips a
benchmark instead; bench_embeddings.py itself times ours alone where gensim is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import platform
import sys
import time
import traceback
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = ROOT / "build" / "benchmarks"
OPTIONAL_REFERENCES = {"gensim"}  # reference packages not in the environment (benchmarks/requirements.txt)
sys.path.insert(0, str(HERE))  # the bench files import timing.py beside them


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def run_one(module, options: dict) -> list[dict]:
    """``module.run`` with ``quick`` and those of ``options`` its signature names (``write_results``...)."""
    accepted = inspect.signature(module.run).parameters
    return module.run(quick=options["quick"], **{k: v for k, v in options.items() if k != "quick" and k in accepted})


def skip_or_fail(path: Path, error: BaseException, failed: list[str], skipped: list[str]) -> None:
    """A missing optional reference package skips the benchmark (said so); anything else is a failure."""
    package = (error.name or "").partition(".")[0] if isinstance(error, ImportError) else ""
    if package in OPTIONAL_REFERENCES:
        print(
            f"{path.stem}: skipped: the optional reference package {package} is not installed "
            f"(see benchmarks/requirements.txt); {error}"
        )
        skipped.append(path.stem)
    else:
        traceback.print_exception(error)
        failed.append(path.stem)


def print_rows(rows: list[dict]) -> None:
    for row in rows:
        skipped = row["reference_s"] is None
        reference_ms = "skipped" if skipped else f"{1e3 * row['reference_s']:10.2f}"
        ratio = "-" if skipped else f"{row['ours_s'] / row['reference_s']:6.2f}x"
        ours_ms = f"{1e3 * row['ours_s']:10.2f}"
        print(f"{row['benchmark']:44s} {ours_ms} {row['reference']:>30s} {reference_ms:>10s} {ratio:>7s}")
        for key, value in row.items():
            if key not in {"benchmark", "ours_s", "reference", "reference_s"}:
                print(f"    {key}: {value}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", help="e.g. attention transformer (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that every benchmark runs")
    parser.add_argument(
        "--write-results", action="store_true", help="also rewrite the committed benchmarks/results/ files"
    )
    parser.add_argument("--results-dir", type=Path, default=BUILD, help="where results go (default build/benchmarks)")
    args = parser.parse_args(argv)
    if args.quick and args.write_results:
        parser.error("--write-results needs the full run: a quick run never writes benchmarks/results/")
    files = sorted(HERE.glob("bench_*.py"))
    if args.topics:
        files = [f for f in files if f.stem.removeprefix("bench_") in args.topics]
    if not files:
        known = [f.stem.removeprefix("bench_") for f in sorted(HERE.glob("bench_*.py"))]
        print(f"no benchmark matches {args.topics}; known: {known}")
        return 2
    table: dict[str, list[dict]] = {}
    failed: list[str] = []
    skipped: list[str] = []
    modules = {}
    for path in files:
        try:
            modules[path] = load(path)
        except Exception as error:
            skip_or_fail(path, error, failed, skipped)
    if args.write_results:  # refuse before minutes of timing, not after (e.g. gensim missing)
        for path, module in modules.items():
            try:
                getattr(module, "check_write_results", lambda quick: None)(args.quick)
            except Exception as error:
                print(f"{path.stem}: cannot --write-results: {error}", file=sys.stderr)
                return 1
    results_dir = args.results_dir.resolve()
    results_dir.mkdir(parents=True, exist_ok=True)
    options = {"quick": args.quick, "write_results": args.write_results, "results_dir": results_dir}
    mode = "quick run (tiny sizes; the numbers mean little)" if args.quick else "full run"
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}; "
        f"{mode}"
    )
    header = f"{'benchmark':44s} {'ours (ms)':>10s} {'reference':>30s} {'ref (ms)':>10s} {'ratio':>7s}"
    print(header)
    print("-" * len(header))
    for path, module in modules.items():
        started = time.perf_counter()
        try:
            rows = run_one(module, options)
        except Exception as error:
            skip_or_fail(path, error, failed, skipped)
            continue
        print_rows(rows)
        print(f"  ({path.stem}: {len(rows)} rows in {time.perf_counter() - started:.1f} s)", flush=True)
        table[path.stem] = rows
    written = results_dir / ("table-quick.json" if args.quick else "table.json")
    summary = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "quick": args.quick,
        "benchmarks": table,
        "skipped": skipped,
        "failed": failed,
    }
    written.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {written.relative_to(ROOT) if written.is_relative_to(ROOT) else written}")
    if failed:
        print(f"FAILED: {', '.join(failed)} raised (tracebacks above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
