"""Notebook 01's seeded experiments: the same functions serve the notebook and ``make replicate``.

Each study takes its seeds (the notebook: ``range(5)``; ``make replicate``: ``range(100, 105)``), trains and
measures every arm on every seed, and returns a :class:`StudyResult`: the per-seed measurements, a table of
their means ± standard errors, and its **claims**, named :class:`~helpers.core.evidence.Difference` (paired over
the seeds: first arm − second arm) and :class:`~helpers.core.evidence.Bound` objects. ``REPLICATION`` registers
the studies for ``scripts/replicate.py``. Everything trained here is cached for the session, keyed by its seed
and settings, so that studies which share a model (SGNS of section 5, PPMI-SVD of section 7) train it once.

The models (notebook 01 explains each):

- SGNS, skip-gram with negative sampling (Mikolov et al., 2013, eq. 4), :func:`sgns_vectors`;
- PPMI_α + truncated SVD, rows of U_d Σ_d^p (Levy, Goldberg & Dagan, 2015), :func:`ppmi_svd_vectors`;
- controls: the untrained SGNS model of each seed, and an SVD of the raw co-occurrence counts (no PMI).

Every study runs PyTorch on one thread (restored afterwards), so the notebook (which sets one thread) and
``make replicate`` (which does not) print the same digits for the same seeds. The studies run on the CPU.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from helpers.core import seed_torch
from helpers.core.evidence import (
    Bound,
    Difference,
    Replication,
    Study,
    committed_verdicts,
    mean_and_standard_error,
    paired_difference,
)
from helpers.data.readers import read_wikipedia_sentences
from helpers.data.text import Vocabulary
from helpers.training.workers import map_in_processes
from helpers.word_embeddings.count_vectors import cooccurrence_counts, pmi_matrix, truncated_svd
from helpers.word_embeddings.skipgram import SkipGramNegativeSampling, keep_probabilities, noise_distribution
from helpers.word_embeddings.word2vec import train_word2vec
from helpers.word_embeddings.word_benchmarks import (
    analogy_accuracy,
    bootstrap_spearman_difference,
    similarity_scores,
    spearman,
)
from helpers.word_embeddings.word_vectors import WordVectors

__all__ = [
    "ABLATION_SETTINGS",
    "BENCHMARKS",
    "GROUPS",
    "MODELS",
    "REPLICATION",
    "SGNS_SETTINGS",
    "Corpus",
    "StudyResult",
    "analogy_results",
    "analogy_study",
    "committed_replication",
    "count_model_levers",
    "count_svd_vectors",
    "epochs_study",
    "group_separation",
    "groups_in_the_plane",
    "matched_pair_fraction",
    "mean_cosine",
    "neighbour_overlap",
    "neighbours_against_counts",
    "pmi_agreement",
    "ppmi_svd_vectors",
    "sgns_against_ppmi_svd",
    "sgns_against_shifted_pmi",
    "sgns_vectors",
    "shifted_pmi",
    "standing",
    "train_sgns_runs",
    "trained_against_untrained",
    "untrained_vectors",
    "wikipedia_corpus",
    "word2vec_ablations",
    "word_groups",
    "word_similarity",
]

BENCHMARKS = {"wordsim353": "WordSim-353", "simlex999": "SimLex-999"}
# Section 5's model: the paper's settings where they fit a laptop (the notebook's "paper | here | why" table).
SGNS_SETTINGS: Mapping[str, Any] = {
    "embedding_dim": 100,
    "window": 5,
    "negatives": 5,
    "min_count": 5,
    "subsample_threshold": 1e-4,
    "epochs": 3,
    "batch_size": 4096,
    "learning_rate": 0.01,
}
# Section 11's ablations: a smaller model (50 dimensions, 2 epochs) so that 35 runs fit the notebook's budget.
ABLATION_SETTINGS: Mapping[str, Any] = {**SGNS_SETTINGS, "embedding_dim": 50, "epochs": 2}
PPMI_SETTINGS: Mapping[str, Any] = {"embedding_dim": 100, "window": 5, "alpha": 0.75, "eigenvalue_power": 0.5}
# Four groups of words nothing told the model about (section 10).
GROUPS: Mapping[str, tuple[str, ...]] = {
    "months": ("january", "march", "april", "june", "july", "november", "december"),
    "family": ("mother", "father", "sister", "brother", "daughter", "son", "wife"),
    "sciences": ("physics", "chemistry", "biology", "mathematics", "astronomy", "medicine"),
    "countries": ("france", "spain", "germany", "italy", "russia", "china", "india", "japan"),
}
WORKERS = 2  # processes training at once (two cores); the numbers are the same for any count
NEIGHBOURS = 10  # k of the neighbour overlap
FREQUENT_WORDS = 2000  # the neighbour overlap is taken over the vocabulary's most frequent words


@contextmanager
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# --- the corpus, read once ----------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """The Wikipedia paragraphs, their vocabulary (words seen ≥ 5 times) and the text as word ids."""

    sentences: list[list[str]]
    vocabulary: Vocabulary
    ids: np.ndarray  # (tokens in the vocabulary,) word ids; rarer words removed, as word2vec does
    sentence_ids: np.ndarray  # (tokens in the vocabulary,) the paragraph of each token: windows stop there

    @property
    def tokens(self) -> int:
        """Tokens of the text before rare words are removed."""
        return sum(len(sentence) for sentence in self.sentences)


@functools.cache
def wikipedia_corpus() -> Corpus:
    """``read_wikipedia_sentences()`` and its ``Vocabulary`` (min count 5), read and built once per session."""
    sentences = read_wikipedia_sentences()
    vocabulary = Vocabulary.build(sentences, min_count=SGNS_SETTINGS["min_count"])
    ids = np.array([vocabulary.index(w) for sentence in sentences for w in sentence if w in vocabulary])
    sentence_ids = np.repeat(np.arange(len(sentences)), [sum(w in vocabulary for w in s) for s in sentences])
    return Corpus(sentences, vocabulary, ids, sentence_ids)


# --- the models, trained once per seed and setting ---------------------------------------------


Settings = tuple[tuple[str, Any], ...]  # changes to a settings dict, sorted: a key of the caches
_SGNS_RUNS: dict[tuple[int, Settings], WordVectors] = {}
_ABLATION_RUNS: dict[tuple[int, Settings], dict[str, float]] = {}


def _key(seed: int, changes: Mapping[str, Any]) -> tuple[int, Settings]:
    return seed, tuple(sorted(changes.items()))


def train_sgns_runs(jobs: Iterable[tuple[int, Mapping[str, Any]]], description: str = "SGNS runs") -> None:
    """Train SGNS for each ``(seed, changes to SGNS_SETTINGS)`` not trained yet, ``WORKERS`` at a time.

    Each run goes to a worker process of one thread (``helpers.training.workers``): a run seeds itself, so
    its numbers do not depend on which process trains it or on how many there are.
    """
    missing = [key for key in dict.fromkeys(_key(seed, changes) for seed, changes in jobs) if key not in _SGNS_RUNS]
    if missing:
        _SGNS_RUNS.update(
            zip(missing, map_in_processes(_train_sgns, missing, workers=WORKERS, description=description))
        )


def sgns_vectors(seed: int, **changes: Any) -> WordVectors:
    """SGNS trained with ``SGNS_SETTINGS`` (``changes`` override some), trained once per seed and settings."""
    train_sgns_runs([(seed, changes)])
    return _SGNS_RUNS[_key(seed, changes)]


def _train_sgns(seed: int, changes: Settings) -> WordVectors:
    """One SGNS run (in a worker process)."""
    settings = {**SGNS_SETTINGS, **dict(changes)}
    return train_word2vec(wikipedia_corpus().sentences, **settings, seed=seed, show_progress=False)


@functools.cache
def untrained_vectors(seed: int, embedding_dim: int = SGNS_SETTINGS["embedding_dim"]) -> WordVectors:
    """The SGNS model of ``seed`` before training: input vectors uniform in ±0.5/d, as ``train_word2vec`` starts."""
    vocabulary = wikipedia_corpus().vocabulary
    with torch.random.fork_rng():
        seed_torch(seed)  # train_word2vec seeds its model the same way
        model = SkipGramNegativeSampling(len(vocabulary), embedding_dim=embedding_dim)
    return WordVectors(vocabulary, model.input_vectors.weight)


@functools.cache
def _cooccurrences(window: int = PPMI_SETTINGS["window"]) -> torch.Tensor:
    corpus = wikipedia_corpus()
    return cooccurrence_counts(corpus.ids, corpus.sentence_ids, len(corpus.vocabulary), window=window)


@functools.cache
def _svd_factors(matrix: str, alpha: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """U_d, Σ_d of the PPMI_α matrix (``"ppmi"``) or of the raw counts (``"counts"``); the seed starts the SVD."""
    counts = _cooccurrences()
    target = pmi_matrix(counts, alpha=alpha) if matrix == "ppmi" else counts
    with _one_thread():
        return truncated_svd(target.float(), PPMI_SETTINGS["embedding_dim"], seed=seed)


def ppmi_svd_vectors(
    seed: int, *, alpha: float = PPMI_SETTINGS["alpha"], eigenvalue_power: float = PPMI_SETTINGS["eigenvalue_power"]
) -> WordVectors:
    """PPMI_α reduced to U_d Σ_d^p (Levy, Goldberg & Dagan, 2015); the seed is the SVD's random start."""
    left, singular = _svd_factors("ppmi", alpha, seed)
    return WordVectors(wikipedia_corpus().vocabulary, left * singular.pow(eigenvalue_power))


def count_svd_vectors(seed: int) -> WordVectors:
    """The control without PMI: the same window-weighted counts #(w, c) reduced to U_d Σ_d^½."""
    left, singular = _svd_factors("counts", 1.0, seed)
    return WordVectors(wikipedia_corpus().vocabulary, left * singular.pow(PPMI_SETTINGS["eigenvalue_power"]))


# --- measurements -------------------------------------------------------------------------------


def word_similarity(vectors: WordVectors, benchmark: str) -> float:
    """Spearman's ρ of the vectors' cosines with the human scores of ``benchmark`` (covered pairs)."""
    return spearman(*similarity_scores(vectors, benchmark))


def analogy_results(model: str, seed: int, method: str = "add") -> dict[str, dict[str, float]]:
    """Accuracy per analogy section of ``model`` (a name of ``MODELS``) on ``seed``, cached."""
    return _analogy_results(model, seed, method)


@functools.cache
def _analogy_results(model: str, seed: int, method: str) -> dict[str, dict[str, float]]:
    with _one_thread():
        return analogy_accuracy(MODELS[model](seed), method)


def _analogy_share(results: Mapping[str, Mapping[str, float]], part: str) -> float:
    """Correct answers over covered questions in the ``semantic``, ``syntactic`` ("gram…") or ``all`` sections."""
    chosen = [s for s in results if part == "all" or s.startswith("gram") == (part == "syntactic")]
    return sum(results[s]["correct"] for s in chosen) / sum(results[s]["covered"] for s in chosen)


def mean_cosine(vectors: WordVectors) -> float:
    """The mean cosine between two distinct words' vectors (0 for directions spread evenly; 1: all parallel)."""
    unit = vectors.unit[vectors.searchable].double()  # (words, d)
    total = unit.sum(dim=0)
    n = len(unit)
    return float((total @ total - n) / (n * (n - 1)))  # Σ_{i≠j} cos(i, j) / (n(n − 1))


def neighbour_overlap(first: WordVectors, second: WordVectors, k: int = NEIGHBOURS) -> float:
    """Mean share of the ``k`` nearest neighbours (by cosine) that two models give the most frequent words.

    Taken over the ``FREQUENT_WORDS`` most frequent words of the vocabulary; a word is not its own neighbour.
    Two unrelated spaces share about k / |V| of them.
    """
    words = torch.arange(2, 2 + FREQUENT_WORDS)  # ids 0 and 1 are <pad> and <unk>

    def neighbours(vectors: WordVectors) -> torch.Tensor:
        scores = (vectors.unit[words] @ vectors.unit.T).masked_fill(~vectors.searchable, -math.inf)  # (words, |V|)
        scores[torch.arange(len(words)), words] = -math.inf
        return scores.topk(k, dim=1).indices  # (words, k)

    a, b = neighbours(first), neighbours(second)
    shared = (a.unsqueeze(2) == b.unsqueeze(1)).any(dim=2).sum(dim=1)  # (words,)
    return float(shared.double().mean() / k)


def group_separation(vectors: WordVectors, groups: Mapping[str, Sequence[str]] = GROUPS) -> float:
    """Mean cosine of two words of one group minus that of two words of different groups."""
    within, across = [], []
    for name, words in groups.items():
        others = [w for other, members in groups.items() if other != name for w in members]
        within += [vectors.similarity(a, b) for a in words for b in words if a < b]
        across += [vectors.similarity(a, b) for a in words for b in others]
    return float(np.mean(within) - np.mean(across))


def groups_in_the_plane(vectors: WordVectors, groups: Mapping[str, Sequence[str]] = GROUPS) -> float:
    """Share of the words whose nearest group centre in section 10's picture (PCA to 2-D) is their own.

    The centre of a word's own group is taken without the word (leave one out). Chance: about 1 / len(groups).
    """
    words = [w for members in groups.values() for w in members]
    labels = torch.tensor([g for g, members in enumerate(groups.values()) for _ in members])  # (words,)
    points = torch.stack([vectors.vector(w) for w in words]).double()
    centred = points - points.mean(dim=0)
    _, _, right = torch.linalg.svd(centred, full_matrices=False)
    plane = centred @ right[:2].T  # (words, 2): the coordinates plotted
    sums = torch.zeros(len(groups), 2, dtype=torch.float64).index_add_(0, labels, plane)  # (groups, 2)
    sizes = torch.bincount(labels, minlength=len(groups)).double()  # (groups,)
    own = torch.nn.functional.one_hot(labels, len(groups)).double()  # (words, groups)
    centres = (sums.unsqueeze(0) - own.unsqueeze(2) * plane.unsqueeze(1)) / (sizes - own).unsqueeze(2)
    distances = (plane.unsqueeze(1) - centres).norm(dim=2)  # (words, groups)
    return float((distances.argmin(dim=1) == labels).double().mean())


@functools.cache
def shifted_pmi() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The pairs SGNS meets and their PMI − log k (Levy & Goldberg, 2014).

    Counts weighted like word2vec's dynamic window and by the chance that subsampling keeps both words, so
    that each pair's count is the number of times SGNS meets it per epoch (expected); PMI with SGNS's noise
    distribution P_n as the context distribution. Returns word ids, context ids, meetings per epoch and
    PMI − log k, one entry per co-occurring pair.
    """
    corpus = wikipedia_corpus()
    counts = corpus.vocabulary.counts_by_id()
    keep = keep_probabilities(counts, SGNS_SETTINGS["subsample_threshold"]).numpy()
    seen = cooccurrence_counts(corpus.ids, corpus.sentence_ids, len(corpus.vocabulary), window=5, keep=keep)
    pmi = pmi_matrix(seen, positive=False, context_distribution=noise_distribution(counts))
    words, contexts = pmi.indices()
    return words, contexts, seen.values(), pmi.values().float() - math.log(SGNS_SETTINGS["negatives"])


def pmi_agreement(vectors: WordVectors, least_per_epoch: float) -> tuple[float, float, int]:
    """Pearson correlation of v_w · u_c with PMI − log k, and their mean difference, over the pairs met
    at least ``least_per_epoch`` times per epoch; with the number of such pairs."""
    words, contexts, met, target = shifted_pmi()
    chosen = met >= least_per_epoch
    dots = (vectors.vectors[words[chosen]] * vectors.context_vectors[contexts[chosen]]).sum(1)  # v_w · u_c
    goal = target[chosen]
    return float(torch.corrcoef(torch.stack([dots, goal]))[0, 1]), float((dots - goal).mean()), int(chosen.sum())


# --- a study's result ---------------------------------------------------------------------------

Claim = Difference | Bound


@dataclass
class StudyResult:
    """What a study measured on each seed, and the claims it makes from it."""

    name: str
    seeds: list[int]
    measurements: dict[str, dict[str, list[float]]]  # row (an arm) -> column (a measure) -> one value per seed
    claims: dict[str, Claim]
    notes: list[str] = field(default_factory=list)  # further printed lines (what the table cannot show)

    def table(self, digits: int = 3) -> str:
        """The measurements as mean ± standard error over the seeds, one row per arm."""
        columns = list(dict.fromkeys(column for row in self.measurements.values() for column in row))
        cells = {
            (row, column): _mean_se(values[column], digits)
            for row, values in self.measurements.items()
            for column in values
        }
        width = max(len(row) for row in self.measurements)
        widths = [
            max(len(column), *(len(cells.get((row, column), "")) for row in self.measurements)) for column in columns
        ]
        lines = [f"{self.name}, mean ± SE over seeds {_seed_range(self.seeds)}"]
        lines.append(" " * width + "  " + "  ".join(f"{c:>{w}}" for c, w in zip(columns, widths)))
        for row in self.measurements:
            values = "  ".join(f"{cells.get((row, c), ''):>{w}}" for c, w in zip(columns, widths))
            lines.append(f"{row:>{width}}  {values}")
        return "\n".join(lines + self.notes)

    def verdicts(self) -> str:
        """Each claim on these seeds, beside what ``make replicate`` found on the fresh seeds (when committed)."""
        committed = committed_replication() if self.seeds == list(REPLICATION.notebook_seeds) else {}
        lines = []
        for name, claim in self.claims.items():
            line = committed.get(name)
            if line is None:
                lines.append(f"{name}: {claim}")
                continue
            on_notebook_seeds, on_fresh_seeds, status = line
            if on_notebook_seeds != str(claim):
                raise RuntimeError(
                    f"benchmarks/results/replication.md holds {on_notebook_seeds!r} for {name!r} on seeds "
                    f"{_seed_range(self.seeds)}, but this run gives {str(claim)!r}: run `make replicate-results "
                    "NOTEBOOKS=notebooks/01_word_embeddings.ipynb` and commit the file"
                )
            lines.append(f"{name}: {standing(claim, status)}")
            lines.append(f"    seeds {_seed_range(self.seeds)}: {claim}")
            fresh = _seed_range(list(REPLICATION.fresh_seeds))
            lines.append(f"    seeds {fresh} (make replicate): {on_fresh_seeds} -> {status}")
        return "\n".join(lines)

    def values(self, row: str, column: str) -> list[float]:
        return self.measurements[row][column]


def standing(claim: Claim, status: str) -> str:
    """The verdict the notebook may state: the 3-SE rule on its seeds and the replication on fresh ones."""
    if isinstance(claim, Bound):
        return (
            f"bound holds on both seed sets ({claim.verdict})"
            if claim.holds and status == "held"
            else ("bound not established at this scale")
        )
    if claim.direction and status == "held":
        return f"established: {claim.verdict} (≥ 3 SE, and the same on fresh seeds)"
    if claim.sign or (claim.direction == 0 and status == "stronger"):
        return "suggestive, not established at this scale"
    return "no difference at this scale"


def _mean_se(values: Sequence[float], digits: int) -> str:
    whole = all(float(value).is_integer() for value in values)  # counts (pairs, updates)
    if all(value == values[0] for value in values):
        return f"{values[0]:,.0f}" if whole else f"{values[0]:.{digits}f}"
    mean, se = mean_and_standard_error(values)
    return f"{mean:,.1f} ± {se:,.1f}" if whole else f"{mean:.{digits}f} ± {se:.{digits}f}"


def _seed_range(seeds: Sequence[int]) -> str:
    seeds = list(seeds)
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))


def committed_replication() -> dict[str, tuple[str, str, str]]:
    """Notebook 01's rows of the committed ``benchmarks/results/replication.md`` (``make replicate-results``
    writes them, rerunning these studies on seeds 0–4 and 100–104); ``{}`` before the section exists."""
    try:
        return committed_verdicts("01_word_embeddings")
    except (FileNotFoundError, ValueError):
        return {}


def _null_limit(pairs: int, seeds: int) -> float:
    """3 standard errors of the mean of ``seeds`` Spearman ρ of random rankings of ``pairs`` pairs: 3/√((n−1)·s)."""
    return round(3 / math.sqrt((pairs - 1) * seeds), 3)


# --- the studies --------------------------------------------------------------------------------


def trained_against_untrained(seeds: Iterable[int]) -> StudyResult:
    """Section 6: SGNS (section 5's settings) against its own untrained model on both benchmarks, seed by seed.

    The untrained scores are also held against a random ranking: Spearman's ρ of n pairs ranked at random has
    mean 0 and sd 1/√(n − 1), so the mean of s seeds should stay within ±3/√((n − 1)·s) of 0.
    """
    seeds = list(seeds)
    train_sgns_runs([(seed, {}) for seed in seeds], f"SGNS, {len(seeds)} seeds")
    with _one_thread():
        arms = {"SGNS, trained": sgns_vectors, "SGNS, untrained": untrained_vectors}
        measurements = {
            arm: {
                **{label: [word_similarity(make(s), b) for s in seeds] for b, label in BENCHMARKS.items()},
                "mean cosine of two words": [mean_cosine(make(s)) for s in seeds],
            }
            for arm, make in arms.items()
        }
    trained, untrained = measurements["SGNS, trained"], measurements["SGNS, untrained"]
    claims: dict[str, Claim] = {}
    for label in BENCHMARKS.values():
        claims[f"SGNS trained − untrained, {label}"] = paired_difference(trained[label], untrained[label])
    claims["SGNS, WordSim-353 above 0.4"] = Bound.of(trained["WordSim-353"], above=0.4)
    claims["SGNS, SimLex-999 above 0.15"] = Bound.of(trained["SimLex-999"], above=0.15)
    notes = []
    for benchmark, label in BENCHMARKS.items():
        pairs = len(similarity_scores(untrained_vectors(seeds[0]), benchmark)[0])
        limit = _null_limit(pairs, len(seeds))
        claims[f"untrained, {label}, below +3 SE of a random ranking"] = Bound.of(untrained[label], below=limit)
        claims[f"untrained, {label}, above −3 SE of a random ranking"] = Bound.of(untrained[label], above=-limit)
        notes.append(
            f"a random ranking of {pairs} pairs: ρ has sd 1/√{pairs - 1} = {1 / math.sqrt(pairs - 1):.3f}, "
            f"the mean of {len(seeds)} such ρ sd {1 / math.sqrt((pairs - 1) * len(seeds)):.3f} ({label})"
        )
    return StudyResult("SGNS trained against untrained", seeds, measurements, claims, notes)


def word_groups(seeds: Iterable[int]) -> StudyResult:
    """Section 10: do the four ``GROUPS`` of words cluster, in all dimensions and in the 2-D picture?"""
    seeds = list(seeds)
    train_sgns_runs([(seed, {}) for seed in seeds], f"SGNS, {len(seeds)} seeds")
    with _one_thread():
        arms = {"SGNS, trained": sgns_vectors, "SGNS, untrained": untrained_vectors}
        measurements = {
            arm: {
                "within − across group cosine": [group_separation(make(s)) for s in seeds],
                "groups found in the 2-D picture": [groups_in_the_plane(make(s)) for s in seeds],
            }
            for arm, make in arms.items()
        }
    claims: dict[str, Claim] = {
        f"{measure}: trained − untrained": paired_difference(
            measurements["SGNS, trained"][measure], measurements["SGNS, untrained"][measure]
        )
        for measure in ("within − across group cosine", "groups found in the 2-D picture")
    }
    notes = [
        f"groups found: share of the {sum(map(len, GROUPS.values()))} words nearest their own group's centre "
        f"in the plane (leave one out); chance about 1/{len(GROUPS)}"
    ]
    return StudyResult("Word groups", seeds, measurements, claims, notes)


def sgns_against_ppmi_svd(seeds: Iterable[int]) -> StudyResult:
    """Section 7: SGNS against PPMI-SVD on the two word-similarity benchmarks, paired by seed."""
    seeds = list(seeds)
    train_sgns_runs([(seed, {}) for seed in seeds], f"SGNS, {len(seeds)} seeds")
    with _one_thread():
        arms = {"SGNS": sgns_vectors, "PPMI-SVD": ppmi_svd_vectors}
        measurements = {
            arm: {label: [word_similarity(make(s), b) for s in seeds] for b, label in BENCHMARKS.items()}
            for arm, make in arms.items()
        }
    claims: dict[str, Claim] = {
        f"SGNS − PPMI-SVD, {label}": paired_difference(measurements["SGNS"][label], measurements["PPMI-SVD"][label])
        for label in BENCHMARKS.values()
    }
    return StudyResult("SGNS against PPMI-SVD", seeds, measurements, claims)


BANDS = (1, 3, 10)  # pairs met at least this many times per epoch (expected)


def sgns_against_shifted_pmi(seeds: Iterable[int]) -> StudyResult:
    """Section 8: SGNS's v_w · u_c against PMI(w, c) − log k, by how often SGNS met the pair per epoch."""
    seeds = list(seeds)
    train_sgns_runs([(seed, {}) for seed in seeds], f"SGNS, {len(seeds)} seeds")
    measurements: dict[str, dict[str, list[float]]] = {}
    with _one_thread():
        for least in BANDS:
            results = [pmi_agreement(sgns_vectors(seed), least) for seed in seeds]
            measurements[f"pairs met ≥ {least} per epoch"] = {
                "pairs": [float(n) for _, _, n in results],
                "correlation": [r for r, _, _ in results],
                "v·u − (PMI − log k)": [offset for _, offset, _ in results],
            }
    correlation = {least: measurements[f"pairs met ≥ {least} per epoch"]["correlation"] for least in BANDS}
    claims: dict[str, Claim] = {
        "correlation of v·u with PMI − log k, pairs met ≥ 3 per epoch, above 0.5": Bound.of(correlation[3], above=0.5),
        "correlation, pairs met ≥ 3 − ≥ 1 per epoch": paired_difference(correlation[3], correlation[1]),
        "correlation, pairs met ≥ 10 − ≥ 3 per epoch": paired_difference(correlation[10], correlation[3]),
    }
    return StudyResult("SGNS against PMI − log k", seeds, measurements, claims)


def neighbours_against_counts(seeds: Iterable[int]) -> StudyResult:
    """Section 8: how many of SGNS's nearest neighbours PPMI-SVD shares, against two references.

    The control without PMI is an SVD of the raw counts; the ceiling is another SGNS seed (each seed is paired
    with the next one of the list, the last with the first).
    """
    seeds = list(seeds)
    others = {"PPMI-SVD": ppmi_svd_vectors, "raw-count SVD (no PMI)": count_svd_vectors}
    next_seed = dict(zip(seeds, seeds[1:] + seeds[:1]))
    train_sgns_runs([(seed, {}) for seed in seeds], f"SGNS, {len(seeds)} seeds")
    column = f"shared of {NEIGHBOURS} neighbours"
    with _one_thread():
        measurements = {
            f"SGNS and {name}": {column: [neighbour_overlap(sgns_vectors(s), make(s)) for s in seeds]}
            for name, make in others.items()
        }
        measurements["SGNS and SGNS of another seed"] = {
            column: [neighbour_overlap(sgns_vectors(s), sgns_vectors(next_seed[s])) for s in seeds]
        }
    values = {row: measured[column] for row, measured in measurements.items()}
    claims: dict[str, Claim] = {
        "neighbours shared with SGNS: PPMI-SVD − raw-count SVD": paired_difference(
            values["SGNS and PPMI-SVD"], values["SGNS and raw-count SVD (no PMI)"]
        ),
        "neighbours shared with SGNS: another SGNS seed − PPMI-SVD": paired_difference(
            values["SGNS and SGNS of another seed"], values["SGNS and PPMI-SVD"]
        ),
    }
    searchable = int(wikipedia_corpus().vocabulary.counts_by_id().gt(0).sum())
    notes = [
        f"two unrelated spaces share about {NEIGHBOURS} / {searchable - 1:,} = {NEIGHBOURS / (searchable - 1):.4f}"
    ]
    return StudyResult(
        f"{NEIGHBOURS} nearest neighbours of the {FREQUENT_WORDS:,} most frequent words",
        seeds,
        measurements,
        claims,
        notes,
    )


EPOCHS = (1, 3, 10)
EPOCH_MODELS = {1: "SGNS, 1 epoch", 3: "SGNS", 10: "SGNS, 10 epochs"}  # 3: section 5's model


def epochs_study(seeds: Iterable[int]) -> StudyResult:
    """Section 8 and 9: SGNS trained 1, 3 (section 5) and 10 epochs, against PMI − log k and on the benchmarks."""
    seeds = list(seeds)
    changes = [{} if epochs == SGNS_SETTINGS["epochs"] else {"epochs": epochs} for epochs in EPOCHS]
    train_sgns_runs([(seed, change) for change in changes for seed in seeds], f"SGNS, epochs {EPOCHS}")
    measurements: dict[str, dict[str, list[float]]] = {}
    with _one_thread():
        for epochs in EPOCHS:
            model = EPOCH_MODELS[epochs]
            runs = [MODELS[model](seed) for seed in seeds]
            agreement = [pmi_agreement(run, 1) for run in runs]
            measurements[f"{epochs} epoch{'s' if epochs > 1 else ''}"] = {
                **{label: [word_similarity(run, b) for run in runs] for b, label in BENCHMARKS.items()},
                "analogies": [_analogy_share(analogy_results(model, seed), "all") for seed in seeds],
                "corr. with PMI − log k": [r for r, _, _ in agreement],
                "v·u − (PMI − log k)": [offset for _, offset, _ in agreement],
            }
        measurements["PPMI-SVD"] = {
            **{label: [word_similarity(ppmi_svd_vectors(s), b) for s in seeds] for b, label in BENCHMARKS.items()},
            "analogies": [_analogy_share(analogy_results("PPMI-SVD", seed), "all") for seed in seeds],
        }
    three, ten = measurements["3 epochs"], measurements["10 epochs"]
    claims: dict[str, Claim] = {
        f"10 − 3 epochs, {measure}": paired_difference(ten[measure], three[measure])
        for measure in ("WordSim-353", "SimLex-999", "analogies", "corr. with PMI − log k", "v·u − (PMI − log k)")
    }
    claims["analogies: SGNS 10 epochs − PPMI-SVD"] = paired_difference(
        ten["analogies"], measurements["PPMI-SVD"]["analogies"]
    )
    notes = [
        "correlation and v·u − (PMI − log k) over the pairs met ≥ 1 time per epoch; analogies: 3CosAdd, all "
        "covered questions"
    ]
    return StudyResult("SGNS by epochs", seeds, measurements, claims, notes)


def analogy_study(seeds: Iterable[int]) -> StudyResult:
    """Section 9: the analogy questions by 3CosAdd and 3CosMul, SGNS and PPMI-SVD, semantic and syntactic."""
    seeds = list(seeds)
    methods = {"add": "3CosAdd", "mul": "3CosMul"}
    train_sgns_runs([(seed, {}) for seed in seeds], f"SGNS, {len(seeds)} seeds")
    with _one_thread():
        measurements = {
            f"{model}, {label}": {
                part: [_analogy_share(analogy_results(model, seed, method), part) for seed in seeds]
                for part in ("semantic", "syntactic")
            }
            for model in ("SGNS", "PPMI-SVD")
            for method, label in methods.items()
        }
    claims: dict[str, Claim] = {}
    for part in ("semantic", "syntactic"):
        claims[f"analogies, {part}: SGNS − PPMI-SVD (3CosAdd)"] = paired_difference(
            measurements["SGNS, 3CosAdd"][part], measurements["PPMI-SVD, 3CosAdd"][part]
        )
        for model in ("SGNS", "PPMI-SVD"):
            claims[f"analogies, {part}: 3CosMul − 3CosAdd ({model})"] = paired_difference(
                measurements[f"{model}, 3CosMul"][part], measurements[f"{model}, 3CosAdd"][part]
            )
    return StudyResult("Analogies (share of covered questions answered)", seeds, measurements, claims)


LEVERS: Mapping[str, Mapping[str, float]] = {  # Levy, Goldberg & Dagan (2015)'s levers, one at a time
    "PPMI-SVD (α = 0.75, p = 0.5)": {},  # section 7's model, "PPMI-SVD" in MODELS
    "α = 1 (no smoothing)": {"alpha": 1.0},
    "p = 0 (no singular values)": {"eigenvalue_power": 0.0},
    "p = 1 (U Σ, classic SVD)": {"eigenvalue_power": 1.0},
}


def count_model_levers(seeds: Iterable[int]) -> StudyResult:
    """Context-distribution smoothing α and eigenvalue weighting p of PPMI-SVD, one at a time, paired by seed.

    The seeds start the SVD (the counts are the same): their spread is the SVD's, not the text's. The notes
    give, for seed 0 of the list, a bootstrap interval of each difference over the benchmark's pairs.
    """
    seeds = list(seeds)
    base = next(iter(LEVERS))
    model = {arm: arm if changes else "PPMI-SVD" for arm, changes in LEVERS.items()}  # names in MODELS
    with _one_thread():
        measurements = {
            arm: {
                **{
                    label: [word_similarity(MODELS[model[arm]](s), b) for s in seeds] for b, label in BENCHMARKS.items()
                },
                "analogies": [_analogy_share(analogy_results(model[arm], seed), "all") for seed in seeds],
            }
            for arm in LEVERS
        }
        notes = [
            f"over the benchmark's pairs (seed {seeds[0]}, 2,000 paired resamples), 95 % interval of the lever's "
            "difference:"
        ]
        for arm in list(LEVERS)[1:]:
            intervals = []
            for benchmark, label in BENCHMARKS.items():
                first, human = similarity_scores(MODELS[model[arm]](seeds[0]), benchmark)
                second, _ = similarity_scores(MODELS[model[base]](seeds[0]), benchmark)
                low, high = bootstrap_spearman_difference(first, second, human, seed=seeds[0])
                intervals.append(f"{label} [{low:+.3f}, {high:+.3f}]")
            notes.append(f"  {arm} − base: " + ", ".join(intervals))
    claims: dict[str, Claim] = {
        f"{arm} − PPMI-SVD (α = 0.75, p = 0.5), {measure}": paired_difference(
            measurements[arm][measure], measurements[base][measure]
        )
        for arm in list(LEVERS)[1:]
        for measure in ("WordSim-353", "SimLex-999", "analogies")
    }
    return StudyResult("PPMI-SVD levers", seeds, measurements, claims, notes)


@functools.cache
def matched_pair_fraction() -> float:
    """Pairs per epoch of window 2 over those of window 5 (dynamic windows, before subsampling), expected.

    A pair at distance d within a sentence is taken with probability (w − d + 1)/w, in both directions.
    """
    corpus = wikipedia_corpus()
    lengths = np.bincount(corpus.sentence_ids)

    def expected_pairs(window: int) -> float:
        return sum(2 * (window - d + 1) / window * np.maximum(lengths - d, 0).sum() for d in range(1, window + 1))

    return round(float(expected_pairs(2) / expected_pairs(5)), 3)


def _ablation_arms() -> dict[str, dict[str, Any]]:
    return {
        "paper's settings (small)": {},
        "no subsampling (t = 0)": {"subsample_threshold": 0.0},
        "window 2": {"window": 2},
        "window 2, 4 epochs": {"window": 2, "epochs": 4},
        "window 5, share of pairs of window 2": {"pair_fraction": matched_pair_fraction()},
        "noise ∝ count (power 1)": {"noise_power": 1.0},
        "plain SGD, lr 0.025": {"optimizer": "sgd", "learning_rate": 0.025},
    }


def _ablation_run(seed: int, changes: Settings) -> dict[str, float]:
    """One run of section 11 (in a worker process), measured; the vectors are not kept."""
    run = train_word2vec(
        wikipedia_corpus().sentences, **{**ABLATION_SETTINGS, **dict(changes)}, seed=seed, show_progress=False
    )
    return {
        **{label: word_similarity(run, b) for b, label in BENCHMARKS.items()},
        "updates": float(len(run.history.steps["loss"])),
        "loss, last epoch": run.history.epochs["loss"][-1],
        "mean cosine": mean_cosine(run),
    }


def word2vec_ablations(seeds: Iterable[int]) -> StudyResult:
    """Section 11: one choice of the paper changed at a time (``ABLATION_SETTINGS``), both benchmarks.

    Window 2 yields about half the (centre, context) pairs of window 5 per epoch, so two controls match the
    pairs: window 2 trained twice as many epochs, and window 5 trained on a random share of its pairs.
    """
    seeds = list(seeds)
    arms = _ablation_arms()
    jobs = [_key(seed, changes) for changes in arms.values() for seed in seeds]
    missing = [job for job in jobs if job not in _ABLATION_RUNS]
    if missing:
        runs = map_in_processes(_ablation_run, missing, workers=WORKERS, description="ablation runs")
        _ABLATION_RUNS.update(zip(missing, runs))
    measurements: dict[str, dict[str, list[float]]] = {}
    for arm, changes in arms.items():
        runs = [_ABLATION_RUNS[_key(seed, changes)] for seed in seeds]
        measurements[arm] = {measure: [run[measure] for run in runs] for measure in runs[0]}
    paper = measurements["paper's settings (small)"]
    comparisons = {  # claim prefix -> (arm, the arm it is compared with)
        "no subsampling − paper": ("no subsampling (t = 0)", "paper's settings (small)"),
        "window 2 − window 5": ("window 2", "paper's settings (small)"),
        "window 2 (4 epochs) − window 5, same pairs": ("window 2, 4 epochs", "paper's settings (small)"),
        "window 2 − window 5 (share of its pairs), same pairs": ("window 2", "window 5, share of pairs of window 2"),
        "noise power 1 − 3/4": ("noise ∝ count (power 1)", "paper's settings (small)"),
        "plain SGD − Adam": ("plain SGD, lr 0.025", "paper's settings (small)"),
    }
    claims: dict[str, Claim] = {
        f"{prefix}, {label}": paired_difference(measurements[arm][label], measurements[reference][label])
        for prefix, (arm, reference) in comparisons.items()
        for label in BENCHMARKS.values()
    }
    sgd = measurements["plain SGD, lr 0.025"]
    claims["plain SGD, WordSim-353 below 0"] = Bound.of(sgd["WordSim-353"], below=0.0)
    claims["plain SGD, loss below the untrained 6·log 2"] = Bound.of(sgd["loss, last epoch"], below=6 * math.log(2))
    claims["plain SGD − Adam, mean cosine"] = paired_difference(sgd["mean cosine"], paper["mean cosine"])
    notes = [
        f"window 5's share of pairs: {matched_pair_fraction()} (window 2's expected pairs per epoch over window "
        "5's); updates: batches of 4,096 pairs in all epochs"
    ]
    return StudyResult("word2vec ablations (50 dimensions, 2 epochs)", seeds, measurements, claims, notes)


# The models the studies name, each a function of the seed.
MODELS: dict[str, Callable[[int], WordVectors]] = {
    "SGNS": sgns_vectors,
    **{EPOCH_MODELS[epochs]: functools.partial(sgns_vectors, epochs=epochs) for epochs in EPOCHS if epochs != 3},
    "PPMI-SVD": ppmi_svd_vectors,
    **{arm: functools.partial(ppmi_svd_vectors, **changes) for arm, changes in LEVERS.items() if changes},
}


def _claims(study: Callable[[Iterable[int]], StudyResult]) -> Callable[[Iterable[int]], dict[str, Claim]]:
    @functools.wraps(study)
    def run(seeds: Iterable[int]) -> dict[str, Claim]:
        return study(seeds).claims

    return run


REPLICATION = Replication(
    "01_word_embeddings.ipynb",
    range(5),
    range(100, 105),
    [
        Study("SGNS trained against untrained", _claims(trained_against_untrained)),
        Study("word groups", _claims(word_groups)),
        Study("SGNS against PPMI-SVD", _claims(sgns_against_ppmi_svd)),
        Study("SGNS against PMI − log k", _claims(sgns_against_shifted_pmi)),
        Study("neighbours shared with counts", _claims(neighbours_against_counts)),
        Study("SGNS by epochs", _claims(epochs_study)),
        Study("analogies", _claims(analogy_study)),
        Study("PPMI-SVD levers", _claims(count_model_levers)),
        Study("word2vec ablations", _claims(word2vec_ablations)),
    ],
)
