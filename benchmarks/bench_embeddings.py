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

The results go to ``benchmarks/results/embeddings.json`` (with the date, machine and versions);
notebook 01 prints that file, labelled as this script's measurement.
"""

from __future__ import annotations

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
RESULTS = Path(__file__).resolve().parent / "results" / "embeddings.json"


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


def _ours(sentences: list[list[str]], epochs: int = SETTINGS["epochs"]) -> tuple[WordVectors, float, float]:
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


def measure(repeats: int = REPEATS, quality_rows: bool = True) -> dict:
    """Speed (alternating, ``repeats`` times) and quality of ours and gensim; written to RESULTS."""
    import gensim  # (fail before any training if the optional reference is missing)

    sentences = read_wikipedia_sentences()
    epochs = SETTINGS["epochs"]
    # warm-up, not timed: one full-size epoch of each (the first large run of a process pays for first-touch
    # memory and kernel start-up, about a third more CPU time for ours)
    _ours(sentences, epochs=1)
    _gensim_vectors(sentences, SETTINGS["subsample_threshold"], 1)
    times: dict[str, dict[str, list]] = {"ours": {"cpu": [], "wall": []}, "gensim": {"cpu": [], "wall": []}}
    for _ in range(repeats):
        for name, train in (
            ("ours", lambda: _ours(sentences)),
            ("gensim", lambda: _gensim_vectors(sentences, SETTINGS["subsample_threshold"], epochs)),
        ):
            vectors, cpu, wall = train()
            times[name]["cpu"].append(cpu)
            times[name]["wall"].append(wall)
            times[name]["vectors"] = vectors
    tokens = sum(1 for sentence in sentences for word in sentence if word in times["ours"]["vectors"])
    rows = [
        _row(
            "ours (PyTorch, Adam, batch 4096)",
            epochs,
            times["ours"]["vectors"],
            times["ours"]["cpu"],
            times["ours"]["wall"],
            tokens,
        ),
        _row(
            "gensim, same settings",
            epochs,
            times["gensim"]["vectors"],
            times["gensim"]["cpu"],
            times["gensim"]["wall"],
            tokens,
        ),
    ]
    if quality_rows:
        for label, sample in (
            ("gensim, 20 epochs", SETTINGS["subsample_threshold"]),
            ("gensim, sample 1e-3 (its default), 20 epochs", 1e-3),
        ):
            vectors, cpu, wall = _gensim_vectors(sentences, sample, 20)
            rows.append(_row(label, 20, vectors, [cpu], [wall], tokens))
    profile = _profile_one_epoch(sentences)
    ratios = [ours / reference for ours, reference in zip(times["ours"]["cpu"], times["gensim"]["cpu"])]
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {_processor()}",
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "gensim": gensim.__version__,
        "settings": SETTINGS,
        "threads": 1,
        "repeats": repeats,
        "cpu_s_per_run": {name: times[name]["cpu"] for name in ("ours", "gensim")},
        "epoch_cpu_ratio_median": statistics.median(ratios),
        "rows": rows,
        "profile_of_one_epoch": profile,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return results


def run() -> list[dict]:
    """Rows for benchmarks/run.py: CPU seconds per training epoch, ours against gensim (same settings).

    CPU time, not wall-clock time: on a shared machine it is the steadier of the two.
    """
    results = measure()
    ours, gensim = results["rows"][:2]
    return [
        {
            "benchmark": "word2vec SGNS epoch, 425k tokens, 1 thread",
            "ours_s": ours["cpu_s"] / ours["epochs"],
            "reference": f"gensim {results['gensim']} Word2Vec(sg=1)",
            "reference_s": gensim["cpu_s"] / gensim["epochs"],
            f"median of {results['repeats']} paired ratios": f"{results['epoch_cpu_ratio_median']:.2f}x",
            f"WordSim-353 rho after {ours['epochs']} epochs (ours, gensim)": (
                f"{ours['wordsim']['spearman']:.3f}, {gensim['wordsim']['spearman']:.3f}"
            ),
        }
    ]


def print_table(results: dict) -> None:
    """The table notebook 01 shows (it reads RESULTS; nothing is timed there)."""
    print(
        f"measured by benchmarks/bench_embeddings.py on {results['date']}: {results['machine']}, "
        f"{results['cpu_count']} cores, torch {results['torch']}, gensim {results['gensim']}, 1 thread each"
    )
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


if __name__ == "__main__":
    print_table(measure())
