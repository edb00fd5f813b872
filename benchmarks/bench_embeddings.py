"""Our skip-gram (helpers.embeddings) against gensim's Word2Vec on the same corpus and settings.

Not a test and not needed by the notebooks: gensim is only installed for this script, e.g.

    python -m pip install --target /tmp/gensimlib --no-deps -r benchmarks/requirements.txt
    PYTHONPATH=/tmp/gensimlib python benchmarks/bench_embeddings.py

Both train on the shortened Wikipedia dump (helpers.datasets.read_wikipedia_sentences) with one
thread each (our ``num_threads=1``, gensim's ``workers=1``), 100 dimensions, window 5, 5 negatives,
min_count 5, subsample_threshold 1e-4, 3 epochs; then gensim with 20 epochs (its plain SGD needs many
more passes over so small a corpus), also with its default subsampling 1e-3. All are scored with
the same code (Spearman on WordSim-353 and SimLex-999, on the pairs the vocabulary covers). The
notebook quotes the table this prints (gensim 4.4.0).
"""

from __future__ import annotations

import platform
import time
from collections import Counter

import torch

from helpers.datasets import read_wikipedia_sentences
from helpers.embeddings import WordVectors, train_word2vec
from helpers.text import Vocabulary
from helpers.word_benchmarks import evaluate_word_similarity

SETTINGS = {"embedding_dim": 100, "window": 5, "negatives": 5, "min_count": 5, "subsample_threshold": 1e-4, "epochs": 3}


def _gensim_vectors(sentences: list[list[str]], sample: float, epochs: int) -> tuple[WordVectors, float, float]:
    from gensim.models import Word2Vec  # imported here: only this benchmark needs gensim

    cpu, wall = time.process_time(), time.perf_counter()
    model = Word2Vec(sentences, vector_size=SETTINGS["embedding_dim"], window=SETTINGS["window"], sg=1, hs=0,
                     negative=SETTINGS["negatives"], min_count=SETTINGS["min_count"], sample=sample,
                     epochs=epochs, workers=1, seed=0)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    words = list(model.wv.index_to_key)
    counts = {word: model.wv.get_vecattr(word, "count") for word in words}
    vocabulary = Vocabulary(["<pad>", "<unk>", *words], counts=Counter(counts))
    table = torch.cat([torch.zeros(2, SETTINGS["embedding_dim"]), torch.from_numpy(model.wv.vectors.copy())])
    return WordVectors(vocabulary, table), cpu, wall


def _ours(sentences: list[list[str]]) -> tuple[WordVectors, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    vectors = train_word2vec(sentences, **SETTINGS, num_threads=1, show_progress=False)
    return vectors, time.process_time() - cpu, time.perf_counter() - wall


def measure(gensim_epochs: tuple[int, ...] = (SETTINGS["epochs"], 20), default_sample_too: bool = True) -> list[dict]:
    import gensim  # noqa: F401  (fail before any training if the optional reference is missing)

    sentences = read_wikipedia_sentences()
    subsample, epochs = SETTINGS["subsample_threshold"], SETTINGS["epochs"]
    runs = [("ours (PyTorch, Adam, batch 4096)", epochs, lambda: _ours(sentences))]
    for count in gensim_epochs:
        label = "gensim, same settings" if count == epochs else f"gensim, {count} epochs"
        runs.append((label, count, lambda count=count: _gensim_vectors(sentences, subsample, count)))
    if default_sample_too:
        runs.append(("gensim, sample 1e-3 (its default), 20 epochs", 20, lambda: _gensim_vectors(sentences, 1e-3, 20)))
    results = []
    for name, epochs_run, train in runs:
        vectors, cpu, wall = train()
        tokens = sum(1 for sentence in sentences for word in sentence if word in vectors)
        results.append({"name": name, "cpu_s": cpu, "wall_s": wall, "words_per_cpu_s": tokens * epochs_run / cpu,
                        "epochs": epochs_run, "wordsim": evaluate_word_similarity(vectors, "wordsim353", resamples=0),
                        "simlex": evaluate_word_similarity(vectors, "simlex999", resamples=0)})
    return results


def run() -> list[dict]:
    """Rows for benchmarks/run.py: CPU seconds per training epoch, ours against gensim (same settings).

    CPU time, not wall-clock time: on a shared machine it is the steadier of the two.
    """
    ours, gensim = measure(gensim_epochs=(SETTINGS["epochs"],), default_sample_too=False)
    return [{"benchmark": "word2vec SGNS epoch, 425k tokens, 1 thread",
             "ours_s": ours["cpu_s"] / ours["epochs"], "reference": "gensim 4.4.0 Word2Vec(sg=1)",
             "reference_s": gensim["cpu_s"] / gensim["epochs"],
             f"WordSim-353 rho after {ours['epochs']} epochs (ours, gensim)":
                 f"{ours['wordsim']['spearman']:.3f}, {gensim['wordsim']['spearman']:.3f}"}]


def main() -> None:
    results = measure()
    print(f"{platform.machine()} {platform.processor() or ''} torch {torch.__version__}, {time.strftime('%Y-%m-%d')}")
    print("| implementation | epochs | train wall s | train CPU s | words per CPU s "
          "| WordSim-353 ρ (pairs) | SimLex-999 ρ (pairs) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        ws, sl = r["wordsim"], r["simlex"]
        print(f"| {r['name']} | {r['epochs']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['words_per_cpu_s']:,.0f} "
              f"| {ws['spearman']:.3f} ({ws['covered']}/{ws['total']}) "
              f"| {sl['spearman']:.3f} ({sl['covered']}/{sl['total']}) |")


if __name__ == "__main__":
    main()
