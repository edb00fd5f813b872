"""Our skip-gram (helpers.word_embeddings.word2vec) against gensim's Word2Vec on the same corpus and settings.

Not a test and not needed by the notebooks: gensim is only installed for this script, e.g.

    python -m pip install --target /tmp/gensimlib --no-deps -r benchmarks/requirements.txt
    PYTHONPATH=/tmp/gensimlib python benchmarks/bench_embeddings.py

Both train on the shortened Wikipedia dump (helpers.data.readers.read_wikipedia_sentences) with one
thread each (our ``num_threads=1``, gensim's ``workers=1``), 100 dimensions, window 5, 5 negatives,
min_count 5, subsample_threshold 1e-4, 3 epochs. Speed: after one untimed full-size epoch of each,
the two alternate ``REPEATS`` times in one process (CPU seconds, the steadier measure on a shared
machine; the median of each, and the median of the paired ratios), and a torch.profiler summary of
one epoch of ours. Quality after the same 3 epochs, then gensim with 20 epochs (its plain SGD needs
many more passes over so small a corpus), also with its default subsampling 1e-3. All are scored
with the same code (Spearman on WordSim-353 and SimLex-999, on the pairs the vocabulary covers).

The results (with the date, machine and versions) go to ``build/benchmarks/embeddings.json``; only
``--write-results`` (``make bench-results``, full run, gensim installed) rewrites the committed
``benchmarks/results/embeddings.json``, which notebook 01 prints, labelled as this script's measurement.

Without gensim, ours alone is timed and the comparison is skipped with a printed note. ``--quick``
(``benchmarks/run.py --quick``): the first 300 paragraphs, 1 epoch, 1 run, no warm-up and no 20-epoch rows,
written to ``build/benchmarks/embeddings-quick.json``; it checks that the benchmark runs, its numbers mean little.

Run: ``python benchmarks/bench_embeddings.py [--quick] [--write-results]`` (or through ``benchmarks/run.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections import Counter
from pathlib import Path

import torch

from helpers.data.readers import read_wikipedia_sentences
from helpers.data.text import Vocabulary
from helpers.word_embeddings.word2vec import train_word2vec
from helpers.word_embeddings.word_benchmarks import evaluate_word_similarity
from helpers.word_embeddings.word_vectors import WordVectors

SETTINGS = {"embedding_dim": 100, "window": 5, "negatives": 5, "min_count": 5, "subsample_threshold": 1e-4, "epochs": 3}
REPEATS = 5
QUICK = {"paragraphs": 300, "epochs": 1, "repeats": 1}
RESULTS = Path(__file__).resolve().parent / "results" / "embeddings.json"  # committed: notebook 01 prints it
BUILD = Path(__file__).resolve().parents[1] / "build" / "benchmarks"  # git-ignored: every other run writes here
GENSIM_MISSING = "gensim is not installed (optional: see benchmarks/requirements.txt)"


def gensim_version() -> str | None:
    """gensim's version, or None where the optional reference is not importable."""
    try:
        import gensim
    except ImportError:
        return None
    return gensim.__version__


def _gensim_vectors(sentences: list[list[str]], sample: float, epochs: int) -> tuple[WordVectors, float, float]:
    from gensim.models import Word2Vec  # imported here: only this benchmark needs gensim

    cpu, wall = time.process_time(), time.perf_counter()
    model = Word2Vec(
        sentences,
        vector_size=SETTINGS["embedding_dim"],
        window=SETTINGS["window"],
        sg=1,
        hs=0,
        negative=SETTINGS["negatives"],
        min_count=SETTINGS["min_count"],
        sample=sample,
        epochs=epochs,
        workers=1,
        seed=0,
    )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    words = list(model.wv.index_to_key)
    counts = {word: model.wv.get_vecattr(word, "count") for word in words}
    vocabulary = Vocabulary(["<pad>", "<unk>", *words], counts=Counter(counts))
    table = torch.cat([torch.zeros(2, SETTINGS["embedding_dim"]), torch.from_numpy(model.wv.vectors.copy())])
    return WordVectors(vocabulary, table), cpu, wall


def _ours(sentences: list[list[str]], epochs: int) -> tuple[WordVectors, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    vectors = train_word2vec(sentences, **dict(SETTINGS, epochs=epochs), num_threads=1, show_progress=False)
    return vectors, time.process_time() - cpu, time.perf_counter() - wall


def _processor() -> str:
    """The CPU's model name (platform.processor() is often empty on Linux)."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def _row(name: str, epochs: int, vectors: WordVectors, cpu: list[float], wall: list[float], tokens: int) -> dict:
    return {
        "name": name,
        "epochs": epochs,
        "runs": len(cpu),
        "cpu_s": statistics.median(cpu),
        "wall_s": statistics.median(wall),
        "words_per_cpu_s": tokens * epochs / statistics.median(cpu),
        "wordsim": evaluate_word_similarity(vectors, "wordsim353", resamples=0),
        "simlex": evaluate_word_similarity(vectors, "simlex999", resamples=0),
    }


def _profile_one_epoch(sentences: list[list[str]], top: int = 6) -> list[dict]:
    """Where one epoch of ours spends its time: the PyTorch operations with the most self CPU time."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        _ours(sentences, epochs=1)
    events = profiler.key_averages()
    total = sum(event.self_cpu_time_total for event in events)
    ranked = sorted(events, key=lambda event: event.self_cpu_time_total, reverse=True)[:top]
    return [
        {"operation": event.key, "calls": event.count, "share": event.self_cpu_time_total / total} for event in ranked
    ]


def measure(repeats: int = REPEATS, quality_rows: bool = True, quick: bool = False) -> dict:
    """Speed (alternating, ``repeats`` times) and quality of ours and, where installed, gensim's.

    ``quick``: QUICK's paragraphs, epochs and repeats, no warm-up and no quality rows. Without gensim only
    ours is timed (``results["gensim"]`` is None and so is the ratio). Writes nothing: see :func:`write`.
    """
    version = gensim_version()
    sentences = read_wikipedia_sentences()
    epochs = SETTINGS["epochs"]
    if quick:
        sentences, epochs, repeats = sentences[: QUICK["paragraphs"]], QUICK["epochs"], QUICK["repeats"]
    trainers = {"ours": lambda: _ours(sentences, epochs)}
    if version is not None:
        trainers["gensim"] = lambda: _gensim_vectors(sentences, SETTINGS["subsample_threshold"], epochs)
    if not quick:
        # warm-up, not timed: one full-size epoch of each (the first large run of a process pays for first-touch
        # memory and kernel start-up, about a third more CPU time for ours)
        _ours(sentences, epochs=1)
        if version is not None:
            _gensim_vectors(sentences, SETTINGS["subsample_threshold"], 1)
    times: dict[str, dict[str, list]] = {name: {"cpu": [], "wall": []} for name in trainers}
    for _ in range(repeats):
        for name, train in trainers.items():
            vectors, cpu, wall = train()
            times[name]["cpu"].append(cpu)
            times[name]["wall"].append(wall)
            times[name]["vectors"] = vectors
    tokens = sum(1 for sentence in sentences for word in sentence if word in times["ours"]["vectors"])
    labels = {"ours": "ours (PyTorch, Adam, batch 4096)", "gensim": "gensim, same settings"}
    rows = [
        _row(labels[name], epochs, times[name]["vectors"], times[name]["cpu"], times[name]["wall"], tokens)
        for name in trainers
    ]
    if quality_rows and not quick and version is not None:
        for label, sample in (
            ("gensim, 20 epochs", SETTINGS["subsample_threshold"]),
            ("gensim, sample 1e-3 (its default), 20 epochs", 1e-3),
        ):
            vectors, cpu, wall = _gensim_vectors(sentences, sample, 20)
            rows.append(_row(label, 20, vectors, [cpu], [wall], tokens))
    profile = _profile_one_epoch(sentences)
    ratios = [ours / reference for ours, reference in zip(times["ours"]["cpu"], times.get("gensim", {}).get("cpu", []))]
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {_processor()}",
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "gensim": version,
        "settings": dict(SETTINGS, epochs=epochs),
        "threads": 1,
        "repeats": repeats,
        "corpus_tokens": sum(len(sentence) for sentence in sentences),
        "cpu_s_per_run": {name: times[name]["cpu"] for name in trainers},
        "epoch_cpu_ratio_median": statistics.median(ratios) if ratios else None,
        "rows": rows,
        "profile_of_one_epoch": profile,
    }


def write(results: dict, path: Path) -> Path:
    """Write ``results`` as JSON to ``path`` (its folder created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return path


def check_write_results(quick: bool) -> None:
    """The committed file is the full comparison notebook 01 prints: refuse, before any training, to rewrite it
    from a quick run or without gensim."""
    if quick:
        raise ValueError("--write-results needs the full run: a quick run never writes benchmarks/results/")
    if gensim_version() is None:
        raise RuntimeError(f"--write-results needs gensim: {GENSIM_MISSING}")


def results_path(quick: bool, write_results: bool, results_dir: Path = BUILD) -> Path:
    """Where a run writes: the committed RESULTS only with ``write_results``, else ``results_dir``."""
    if write_results:
        check_write_results(quick)
        return RESULTS
    return results_dir / ("embeddings-quick.json" if quick else "embeddings.json")


def run(quick: bool = False, write_results: bool = False, results_dir: Path = BUILD) -> list[dict]:
    """Rows for benchmarks/run.py: CPU seconds per training epoch, ours against gensim (same settings).

    CPU time, not wall-clock time: on a shared machine it is the steadier of the two. Without gensim the
    row has ours alone (``reference_s`` None). The results go to ``results_path(...)``.
    """
    path = results_path(quick, write_results, results_dir)  # (refuses a write it must not do before training)
    results = measure(quick=quick)
    print(f"bench_embeddings: wrote {_shown(write(results, path))}")
    ours = results["rows"][0]
    row = {
        "benchmark": f"word2vec SGNS epoch, {results['corpus_tokens'] / 1000:.0f}k tokens, 1 thread",
        "ours_s": ours["cpu_s"] / ours["epochs"],
        "reference": f"gensim {results['gensim']} Word2Vec(sg=1)",
        "reference_s": None,
    }
    if results["gensim"] is None:
        print(f"bench_embeddings: {GENSIM_MISSING}; timed ours only, skipped the comparison with gensim")
        return [dict(row, reference="gensim (not installed: skipped)")]
    gensim = results["rows"][1]
    return [
        dict(
            row,
            reference_s=gensim["cpu_s"] / gensim["epochs"],
            **{
                f"median of {results['repeats']} paired ratios": f"{results['epoch_cpu_ratio_median']:.2f}x",
                f"WordSim-353 rho after {ours['epochs']} epochs (ours, gensim)": (
                    f"{ours['wordsim']['spearman']:.3f}, {gensim['wordsim']['spearman']:.3f}"
                ),
            },
        )
    ]


def _shown(path: Path) -> str:
    """``path`` relative to the project's root where it lies inside it."""
    try:
        return str(path.relative_to(BUILD.parents[1]))
    except ValueError:
        return str(path)


def print_table(results: dict) -> None:
    """The table notebook 01 shows (it reads RESULTS; nothing is timed there)."""
    print(
        f"measured by benchmarks/bench_embeddings.py on {results['date']}: {results['machine']}, "
        f"{results['cpu_count']} cores, torch {results['torch']}, gensim {results['gensim']}, 1 thread each"
    )
    if results["epoch_cpu_ratio_median"] is None:
        print(f"speed: median of {results['repeats']} runs of ours; {GENSIM_MISSING}")
    else:
        print(
            f"speed: median of {results['repeats']} alternating runs; per epoch, ours takes "
            f"{results['epoch_cpu_ratio_median']:.2f}x gensim's CPU time (median of the paired ratios)"
        )
    print(
        "| implementation | epochs | train wall s | train CPU s | words per CPU s "
        "| WordSim-353 ρ (pairs) | SimLex-999 ρ (pairs) |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results["rows"]:
        ws, sl = r["wordsim"], r["simlex"]
        print(
            f"| {r['name']} | {r['epochs']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['words_per_cpu_s']:,.0f} "
            f"| {ws['spearman']:.3f} ({ws['covered']}/{ws['total']}) "
            f"| {sl['spearman']:.3f} ({sl['covered']}/{sl['total']}) |"
        )
    print("one epoch of ours, self CPU time by PyTorch operation (torch.profiler):")
    for op in results["profile_of_one_epoch"]:
        print(f"  {op['operation']:36s} {op['calls']:6d} calls {op['share']:6.1%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run that checks the benchmark works")
    parser.add_argument(
        "--write-results", action="store_true", help=f"rewrite the committed {RESULTS.parent.name}/{RESULTS.name}"
    )
    args = parser.parse_args(argv)
    path = results_path(args.quick, args.write_results)
    results = measure(quick=args.quick)
    print_table(results)
    print(f"wrote {_shown(write(results, path))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
