"""Notebook 03's seeded experiments, as functions that the notebook and ``make replicate`` both call.

Each study trains every seed of every arm, returns what the notebook prints and plots, and names its claims
(``helpers.core.evidence``: paired differences under the 3-SE rule, bounds with a 1-SE margin). Seeds are a
range of consecutive integers: ``range(10)`` in the notebook, ``range(100, 110)`` on fresh seeds. The data of
a study is drawn from the seeds too (the digits' train/test split and the judge from ``seeds[0]``), so fresh
seeds give fresh data and a fresh judge as well.

- :func:`ring_study`: the ring of 8 Gaussians (Lin et al., 2018, PacGAN, Table 1's protocol), a plain GAN
  against PacGAN2, with and without batch norm in G, and whether G's histogram over the modes moves between
  checkpoints by more than sampling noise.
- :func:`imbalance_study`: D's learning rate ×0.2 and ×5 with G's updates unchanged, and the mechanism (D's
  accuracy, D's verdict and slope at G's samples, the gradient G receives).
- :func:`collapse_search_study`: one row of each kind of setting of ``benchmarks/gan_collapse_search.py``,
  rerun (on seeds 0-9 it must give the committed file's numbers).
- :func:`hopping_run`: the Unrolled-GAN ring setting (Metz et al., 2017, 0 unrolling steps) trained live, with its
  samples kept at each checkpoint, to watch G move between modes; :func:`paper_settings_study` reruns that arm of
  ``benchmarks/gan_paper_settings.py`` (on seeds 0-4 it must give the committed file's rows) and tests its hopping
  against fresh sampling noise over seeds.
- :func:`digit_study`: DCGAN (Radford et al., 2016) against the 2014 paper's MLP GAN on 4,000 MNIST digits,
  judged by a CNN: classes drawn, each class's share and its distance from uniform.
- :func:`rebalancing_study`: a conditional DCGAN (Mirza & Osindero, 2014) against oversampling and class
  weighting for a class cut to 20 examples.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from helpers.core import seed_everything, torch_generator, torch_threads
from helpers.core.evidence import Bound, Claim, Replication, Study, paired_difference
from helpers.data.readers import read_mnist_5k
from helpers.gan_minimax import dcgan, mode_metrics, paper_settings, rebalancing, stacked_gans
from helpers.training import evaluate_classifier, supervised_step, train
from helpers.training.workers import map_in_processes

__all__ = [
    "COLLAPSE_SEARCH_FILE",
    "COLLAPSE_SEARCH_SETTINGS",
    "PAPER_SETTINGS_FILE",
    "PAPER_RERUN",
    "REPLICATION",
    "RING_ARMS",
    "RING_SETTINGS",
    "DigitData",
    "DigitStudy",
    "ImbalanceStudy",
    "PaperSettingsStudy",
    "RebalancingStudy",
    "RingStudy",
    "collapse_search_row",
    "collapse_search_study",
    "digit_data",
    "digit_judge",
    "digit_study",
    "hopping_run",
    "imbalance_study",
    "paper_settings_study",
    "read_paper_settings",
    "rebalancing_study",
    "ring_runs",
    "ring_study",
    "total_variation_between_checkpoints",
    "timed_search_setting",
    "train_search_setting",
]

RING_CENTERS, RING_STD = mode_metrics.ring_centers(8), 0.02
GRID_CENTERS, GRID_STD = mode_metrics.grid_centers(5), 0.05
# Section 4's setting: G 3×32 ReLU (+ batch norm or not), D 2×32 LeakyReLU, z of 2, Adam β1 0.5 at 1e-3 decayed
# linearly to 0, batch 100, 2,000 simultaneous-k=1 steps; metrics every 100 steps on 2,500 samples per seed.
RING_SETTINGS = dict(
    steps=2000,
    batch_size=100,
    noise_dim=2,
    generator_sizes=(32, 32, 32),
    discriminator_sizes=(32, 32),
    learning_rate=1e-3,
    record_every=100,
)
# name: (batch norm in G, pack, D's learning rate / G's)
RING_ARMS = {
    "G with batch norm, GAN": (True, 1, 1.0),
    "G with batch norm, PacGAN2": (True, 2, 1.0),
    "G without batch norm, GAN": (False, 1, 1.0),
    "G without batch norm, PacGAN2": (False, 2, 1.0),
}
IMBALANCE_ARMS = {"D lr x0.2": (True, 1, 0.2), "D lr x1": (True, 1, 1.0), "D lr x5": (True, 1, 5.0)}
COLLAPSED = dict(max_mode_share=0.5, min_high_quality=0.5)  # at most half the modes at ≥ 50 % high quality


def _first_seed(seeds: Sequence[int]) -> tuple[int, int]:
    """``(first, count)`` of a range of consecutive seeds; anything else is refused."""
    seeds = list(seeds)
    if len(seeds) < 2 or seeds != list(range(seeds[0], seeds[0] + len(seeds))) or seeds[0] < 0:
        raise ValueError(f"seeds must be at least two consecutive non-negative integers (a range), got {seeds}")
    return seeds[0], len(seeds)


def _on_one_thread(function: Callable) -> Callable:
    """Run ``function`` with PyTorch on one thread (the caller's count restored): what a study computes in this
    process (the judge, the classifiers, the evaluations) then gives the same digits whoever calls it, the
    notebook (one thread) or ``make replicate`` (PyTorch's default), as the worker processes do."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with torch_threads(1):
            return function(*args, **kwargs)

    return wrapper


def _quietly(show_progress: bool):
    """A context that swallows the worker pool's progress bar unless ``show_progress``."""
    return contextlib.nullcontext() if show_progress else contextlib.redirect_stdout(io.StringIO())


# --- sections 4 and 5: the ring of 8 -----------------------------------------------------------------------


def train_ring_arm(
    first_seed: int, seeds: int, batch_norm: bool, pack: int, discriminator_factor: float, data: str = "ring", **options
) -> tuple[stacked_gans.StackedMLP, stacked_gans.RingHistory]:
    """One arm: ``seeds`` GANs from ``first_seed`` on, trained together, silently (a worker's job)."""
    centers, std = (RING_CENTERS, RING_STD) if data == "ring" else (GRID_CENTERS, GRID_STD)
    settings = {**RING_SETTINGS, **options}
    generator, history = stacked_gans.train_stacked_gans(
        centers,
        std=std,
        seeds=seeds,
        first_seed=first_seed,
        batch_norm=batch_norm,
        pack=pack,
        discriminator_learning_rate=discriminator_factor * settings["learning_rate"],
        **settings,
    )
    return generator.cpu(), history


_RING_RUNS: dict[tuple, tuple[stacked_gans.StackedMLP, stacked_gans.RingHistory]] = {}


def ring_runs(
    seeds: Sequence[int],
    arms: dict[str, tuple[bool, int, float]],
    *,
    workers: int = 2,
    show_progress: bool = False,
    device: torch.device | str | None = None,
) -> dict[str, tuple[stacked_gans.StackedMLP, stacked_gans.RingHistory]]:
    """The trained arms ``{name: (generator, history)}``, two at a time in worker processes.

    An arm already trained on the same seeds in this process is reused, not trained again (section 5's
    "D lr x1" is section 4's "G with batch norm, GAN").
    """
    first, count = _first_seed(seeds)
    keys = {name: (first, count, *settings) for name, settings in arms.items()}
    missing = sorted({key for key in keys.values() if key not in _RING_RUNS})
    if missing:
        with _quietly(show_progress):
            trained = map_in_processes(
                functools.partial(train_ring_arm, device=device),
                missing,
                workers=min(workers, len(missing)),
                description=f"{len(missing)} ring arms",
            )
        _RING_RUNS.update(zip(missing, trained))
    return {name: _RING_RUNS[key] for name, key in keys.items()}


def total_variation_between_checkpoints(
    history: stacked_gans.RingHistory, *, second_half: bool = True, counts: str = "fresh_counts"
) -> dict:
    """How far G's histogram over the modes moves between checkpoints, against sampling noise alone.

    From :attr:`RingHistory.fresh_counts` (two fresh draws of noise at each checkpoint; ``counts="fresh_nearest"``:
    every sample of the same draws by its nearest mode, PacGAN's high-quality bar dropped): ``consecutive``
    (seeds,) is the mean total variation between draw 1 at a checkpoint and draw 1 at the next (new z, and G
    trained on for ``record_every`` steps); ``same_checkpoint`` (seeds,) the mean total variation between the
    two draws of one checkpoint (the same G, new z: sampling noise alone). Checkpoints where a draw holds no
    high-quality sample are left out; ``pairs`` (seeds,) counts the consecutive pairs kept.
    """
    counts = history.stacked(counts).double()  # (checkpoints, 2, seeds, modes)
    if second_half:
        counts = counts[len(history.steps) // 2 :]
    totals = counts.sum(-1)  # (checkpoints, 2, seeds)
    shares = counts / totals.clamp_min(1).unsqueeze(-1)
    consecutive = 0.5 * (shares[1:, 0] - shares[:-1, 0]).abs().sum(-1)  # (checkpoints - 1, seeds)
    consecutive_kept = (totals[1:, 0] > 0) & (totals[:-1, 0] > 0)
    same = 0.5 * (shares[:, 0] - shares[:, 1]).abs().sum(-1)  # (checkpoints, seeds)
    same_kept = (totals[:, 0] > 0) & (totals[:, 1] > 0)

    def masked_mean(values: Tensor, kept: Tensor) -> Tensor:
        return (values * kept).sum(0) / kept.sum(0).clamp_min(1)

    return {
        "consecutive": masked_mean(consecutive, consecutive_kept),
        "same_checkpoint": masked_mean(same, same_kept),
        "pairs": consecutive_kept.sum(0),
        "high_quality_samples": totals[:, 0].mean(0),  # (seeds,) mean high-quality samples per draw
    }


def _collapsed(final: dict[str, Tensor], modes_total: int) -> Tensor:
    """Per seed, 1.0 where at most half the modes are covered at ≥ 50 % high quality (the papers' picture)."""
    few_modes = final["modes"] <= COLLAPSED["max_mode_share"] * modes_total
    return (few_modes & (final["high_quality"] >= COLLAPSED["min_high_quality"])).double()


@dataclass
class RingStudy:
    """Section 4: each arm's generator and history, its final per-seed metrics, the hopping test, the claims."""

    seeds: list[int]
    arms: dict[str, tuple[stacked_gans.StackedMLP, stacked_gans.RingHistory]]
    final: dict[str, dict[str, Tensor]]
    collapsed: dict[str, Tensor]
    not_converged: dict[str, Tensor]
    hopping: dict[str, dict[str, Tensor]]
    claims: dict[str, Claim] = field(default_factory=dict)


@_on_one_thread
def ring_study(
    seeds: Sequence[int] = range(10),
    *,
    workers: int = 2,
    show_progress: bool = False,
    device: torch.device | str | None = None,
) -> RingStudy:
    """Plain GAN against PacGAN2 (D judges pairs) on the ring of 8, with and without batch norm in G.

    PacGAN's metrics (Lin et al., 2018, Table 1, from their code): on 2,500 samples per seed, *high quality*
    within 3σ of the nearest centre, a mode *covered* by at least one high-quality sample, *reverse KL* of the
    high-quality histogram to the uniform weights. Paired over the same seeds: both arms of a seed start from
    the same G and draw the same data.
    """
    seeds = list(seeds)
    arms = ring_runs(seeds, RING_ARMS, workers=workers, show_progress=show_progress, device=device)
    final = {name: stacked_gans.final_metrics(history, 8) for name, (_, history) in arms.items()}
    collapsed = {name: _collapsed(metrics, 8) for name, metrics in final.items()}
    not_converged = {name: (metrics["high_quality"] < 0.1).double() for name, metrics in final.items()}
    hopping = {name: total_variation_between_checkpoints(history) for name, (_, history) in arms.items()}
    study = RingStudy(seeds, arms, final, collapsed, not_converged, hopping)
    for setting in ("G with batch norm", "G without batch norm"):
        plain, packed = final[f"{setting}, GAN"], final[f"{setting}, PacGAN2"]
        for key in ("modes", "high_quality", "reverse_kl"):
            study.claims[f"ring, {setting}: {key}, PacGAN2 − GAN"] = paired_difference(packed[key], plain[key])
    study.claims["ring, G with batch norm, GAN: modes covered"] = Bound.of(
        final["G with batch norm, GAN"]["modes"], above=7.5
    )
    for name in ("G without batch norm, GAN", "G without batch norm, PacGAN2"):
        study.claims[f"ring, {name}: high quality"] = Bound.of(final[name]["high_quality"], below=0.1)
    study.claims["ring, share of seeds collapsed, all four arms"] = Bound.of(
        torch.cat(list(collapsed.values())), below=0.1
    )
    for name in ("G with batch norm, GAN", "G with batch norm, PacGAN2"):
        moves = hopping[name]
        study.claims[f"ring, {name}: TV between checkpoints − TV between two draws"] = paired_difference(
            moves["consecutive"], moves["same_checkpoint"]
        )
    return study


@dataclass
class ImbalanceStudy:
    """Section 5: the three arms (D's learning rate ×0.2, ×1, ×5), per-seed measurements, the claims."""

    seeds: list[int]
    arms: dict[str, tuple[stacked_gans.StackedMLP, stacked_gans.RingHistory]]
    final: dict[str, dict[str, Tensor]]
    mechanism: dict[str, dict[str, Tensor]]
    claims: dict[str, Claim] = field(default_factory=dict)


@_on_one_thread
def imbalance_study(
    seeds: Sequence[int] = range(10),
    *,
    workers: int = 2,
    show_progress: bool = False,
    device: torch.device | str | None = None,
) -> ImbalanceStudy:
    """D's learning rate ×0.2, ×1, ×5 of G's 1e-3, every arm making the same 2,000 updates of both players.

    Per seed, over the second half of training (checkpoints every 100 steps): D's accuracy on the step's real
    and fake batch; the updated D's probability "real" on the step's fakes, D(G(z)); its slope there
    |∂ logit/∂x|; and the norm of G's gradient. With the non-saturating loss G's gradient is
    E[(1 − D(G(z))) ∂logit/∂x ∂G/∂θ] (Goodfellow et al., 2014, section 3), so the first two factors are
    measured beside the gradient itself.
    """
    seeds = list(seeds)
    arms = ring_runs(seeds, IMBALANCE_ARMS, workers=workers, show_progress=show_progress, device=device)
    final = {name: stacked_gans.final_metrics(history, 8) for name, (_, history) in arms.items()}
    mechanism = {}
    for name, (_, history) in arms.items():
        half = len(history.steps) // 2
        mechanism[name] = {
            key: history.stacked(key)[half:].double().mean(0)  # (seeds,)
            for key in ("d_accuracy", "d_fake", "d_slope", "g_grad_norm")
        }
    study = ImbalanceStudy(seeds, arms, final, mechanism)
    for name in ("D lr x0.2", "D lr x5"):
        for key in ("modes", "high_quality", "reverse_kl"):
            study.claims[f"imbalance, {name} − D lr x1: {key}"] = paired_difference(
                final[name][key], final["D lr x1"][key]
            )
        other, reference = mechanism[name], mechanism["D lr x1"]
        study.claims[f"imbalance, {name} − D lr x1: D accuracy"] = paired_difference(
            other["d_accuracy"], reference["d_accuracy"]
        )
        study.claims[f"imbalance, {name} − D lr x1: 1 − D(G(z))"] = paired_difference(
            1 - other["d_fake"], 1 - reference["d_fake"]
        )
        for key, label in (("d_slope", "log D slope at fakes"), ("g_grad_norm", "log |grad G|")):
            study.claims[f"imbalance, {name} / D lr x1: {label}"] = paired_difference(
                other[key].log(), reference[key].log()
            )
    return study


# --- section 4: the search for a collapse, rerun one row of each kind ----------------------------------------

COLLAPSE_SEARCH_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "gan_collapse_search.csv"
_SMALL = dict(generator_sizes=(32, 32, 32), discriminator_sizes=(32, 32), noise_dim=2, batch_norm=True)
# (data, description, packings, settings): the notebook's setting first, then what was varied
COLLAPSE_SEARCH_SETTINGS = [
    ("ring", "G 3×32 + BN, D 2×32, lr 1e-3 (the notebook's)", (1, 2), dict(_SMALL)),
    ("ring", "G 3×32 + BN, D 2×32, lr 3e-3", (1, 2), dict(_SMALL, learning_rate=3e-3)),
    ("ring", "G 3×32 + BN, D 2×32, lr 1e-2", (1,), dict(_SMALL, learning_rate=1e-2)),
    ("ring", "G 3×32 no BN, D 2×32, lr 3e-3", (1, 2), dict(_SMALL, batch_norm=False, learning_rate=3e-3)),
    ("ring", "G 3×32 no BN, D 2×32, lr 1e-2", (1, 2), dict(_SMALL, batch_norm=False, learning_rate=1e-2)),
    (
        "ring",
        "G 3×32 + BN, D 2×16 (smaller), lr 3e-3",
        (1, 2),
        dict(_SMALL, discriminator_sizes=(16, 16), learning_rate=3e-3),
    ),
    (
        "ring",
        "G 3×32 + BN, D 2×8 (smaller), lr 3e-3",
        (1, 2),
        dict(_SMALL, discriminator_sizes=(8, 8), learning_rate=3e-3),
    ),
    (
        "ring",
        "G 3×32 + BN, D 2×8 (smaller), lr 1e-2",
        (1, 2),
        dict(_SMALL, discriminator_sizes=(8, 8), learning_rate=1e-2),
    ),
    ("ring", "G 3×32 + BN, D 1×8 (smaller), lr 3e-3", (1,), dict(_SMALL, discriminator_sizes=(8,), learning_rate=3e-3)),
    (
        "ring",
        "Unrolled-GAN-like: G 2×128 no BN, D 1×128, z 16, D lr 1e-4",
        (1,),
        dict(
            generator_sizes=(128, 128),
            discriminator_sizes=(128,),
            noise_dim=16,
            batch_norm=False,
            discriminator_learning_rate=1e-4,
        ),
    ),
    ("grid", "G 3×32 + BN, D 2×32, lr 1e-3", (1, 2), dict(_SMALL)),
    (
        "grid",
        "G 3×64 + BN, D 2×64, lr 1e-3",
        (1, 2),
        dict(_SMALL, generator_sizes=(64, 64, 64), discriminator_sizes=(64, 64)),
    ),
    ("grid", "G 3×32 + BN, D 2×32, lr 1e-2", (1, 2), dict(_SMALL, learning_rate=1e-2)),
]
# One row of each kind of setting that section 4 does not train itself (it trains the first two rows):
# a higher rate, G without batch norm, D smaller than G, the Unrolled-GAN-like pair, the grid of 25.
COLLAPSE_SEARCH_RERUN = [
    ("G 3×32 + BN, D 2×32, lr 1e-2", 1),
    ("G 3×32 no BN, D 2×32, lr 1e-2", 1),
    ("G 3×32 + BN, D 2×8 (smaller), lr 3e-3", 1),
    ("Unrolled-GAN-like: G 2×128 no BN, D 1×128, z 16, D lr 1e-4", 1),
    ("G 3×32 + BN, D 2×32, lr 1e-3", 1),  # the grid of 25 (the ring's row of this name is section 4's arm)
]


def _search_setting(description: str, pack: int, data: str | None = None) -> tuple[str, dict]:
    for row_data, row_description, packings, settings in COLLAPSE_SEARCH_SETTINGS:
        if row_description == description and pack in packings and (data is None or data == row_data):
            return row_data, settings
    raise ValueError(f"no setting {description!r} with pack {pack} in the collapse search")


def train_search_setting(first_seed: int, seeds: int, data: str, pack: int, settings: dict) -> dict[str, Tensor]:
    """One setting of the collapse search: per-seed final metrics after 2,000 steps (batch 100, lr 1e-3 unless
    set), seeds ``first_seed``.. trained together, silently (a worker's job)."""
    options = {"learning_rate": 1e-3, **settings}
    centers, std = (RING_CENTERS, RING_STD) if data == "ring" else (GRID_CENTERS, GRID_STD)
    _, history = stacked_gans.train_stacked_gans(
        centers, std=std, seeds=seeds, first_seed=first_seed, steps=2000, batch_size=100, pack=pack,
        record_every=2000, **options,
    )  # fmt: skip
    return stacked_gans.final_metrics(history, len(centers))


def timed_search_setting(
    first_seed: int, seeds: int, data: str, pack: int, settings: dict
) -> tuple[dict[str, Tensor], float]:
    """:func:`train_search_setting` and the CPU seconds it took in its process (a worker's job)."""
    start = time.process_time()
    final = train_search_setting(first_seed, seeds, data, pack, settings)
    return final, time.process_time() - start


def collapse_search_row(
    seeds: Sequence[int], data: str, description: str, pack: int, final: dict[str, Tensor], cpu_seconds: float = 0.0
) -> dict[str, object]:
    """The CSV row of ``benchmarks/gan_collapse_search.py`` for one setting's per-seed ``final`` metrics."""
    modes_total = len(RING_CENTERS if data == "ring" else GRID_CENTERS)
    modes, quality = final["modes"], final["high_quality"]
    count = len(list(seeds))

    def mean_se(values: Tensor) -> tuple[float, float]:
        return float(values.mean()), float(values.std() / math.sqrt(count))

    (m, m_se), (q, q_se) = mean_se(modes), mean_se(quality)
    return {
        "data": f"{data} of {modes_total}",
        "setting": description,
        "pack": pack,
        "modes": round(m, 2),
        "modes_se": round(m_se, 2),
        "high_quality": round(q, 4),
        "high_quality_se": round(q_se, 4),
        "reverse_kl": round(float(final["reverse_kl"].mean()), 3),
        "collapsed": int(_collapsed(final, modes_total).sum()),
        "drops_modes": int(((modes < modes_total) & (quality >= 0.5)).sum()),
        "not_converged": int((quality < 0.1).sum()),
        "cpu_s": round(cpu_seconds, 1),
    }


def read_collapse_search(path: Path = COLLAPSE_SEARCH_FILE) -> list[dict[str, str]]:
    """The committed rows of the collapse search."""
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@dataclass
class CollapseSearchStudy:
    """The rerun rows (as the CSV writes them) and their per-seed metrics, by (data, setting, pack)."""

    seeds: list[int]
    rows: list[dict[str, object]]
    final: dict[tuple[str, str, int], dict[str, Tensor]]
    claims: dict[str, Claim] = field(default_factory=dict)


@_on_one_thread
def collapse_search_study(
    seeds: Sequence[int] = range(10), *, workers: int = 2, show_progress: bool = False
) -> CollapseSearchStudy:
    """Rerun one row of each kind of the committed collapse search on ``seeds``.

    On seeds 0-9 (the file's seeds) every rerun row must equal the committed one (``RuntimeError`` if not):
    the file the notebook reads is then current. The claims are what the notebook reads from the file: no seed
    collapsed, and a row that misses modes draws under 50 % high-quality samples.
    """
    seeds = list(seeds)
    first, count = _first_seed(seeds)
    jobs, keys = [], []
    for description, pack in COLLAPSE_SEARCH_RERUN:
        data = "grid" if description == "G 3×32 + BN, D 2×32, lr 1e-3" else "ring"
        _, settings = _search_setting(description, pack, data)
        jobs.append((first, count, data, pack, settings))
        keys.append((data, description, pack))
    with _quietly(show_progress):
        finals = map_in_processes(train_search_setting, jobs, workers=workers, description=f"{len(jobs)} search rows")
    final = dict(zip(keys, finals))
    rows = [
        collapse_search_row(seeds, data, description, pack, final[data, description, pack])
        for data, description, pack in keys
    ]
    if seeds == list(range(10)):
        committed = {(row["data"], row["setting"], int(row["pack"])): row for row in read_collapse_search()}
        for row in rows:
            saved = committed[row["data"], row["setting"], row["pack"]]
            for key in ("modes", "modes_se", "high_quality", "high_quality_se", "reverse_kl", "collapsed"):
                if abs(float(saved[key]) - float(row[key])) > 1e-9:
                    raise RuntimeError(
                        f"{COLLAPSE_SEARCH_FILE.name} is stale: {row['setting']} {key} {saved[key]} != {row[key]}"
                    )
    study = CollapseSearchStudy(seeds, rows, final)
    study.claims["collapse search rerun, share of seeds collapsed, 5 rows"] = Bound.of(
        torch.cat(
            [
                _collapsed(metrics, len(RING_CENTERS if data == "ring" else GRID_CENTERS))
                for (data, _, _), metrics in final.items()
            ]
        ),
        below=0.1,
    )
    for (data, description, _), metrics in final.items():
        if description == "G 3×32 + BN, D 2×32, lr 1e-2" and data == "ring":
            study.claims[f"collapse search rerun, {data}, {description}: modes"] = Bound.of(metrics["modes"], above=7.5)
        else:  # the rows that miss modes in the file: under 50 % high quality
            study.claims[f"collapse search rerun, {data}, {description}: high quality"] = Bound.of(
                metrics["high_quality"], below=0.5
            )
    return study


# --- section 4: the papers' settings (benchmarks/gan_paper_settings.py), mode hopping --------------------------

PAPER_SETTINGS_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "gan_paper_settings.csv"
# The benchmark's Unrolled-GAN arm: (setting key, pack, steps, record every), as its UNROLLED_STEPS and
# UNROLLED_RECORD_EVERY (tests/test_gan_paper_settings.py checks they agree)
PAPER_RERUN = ("unrolled_ring", 1, 20_000, 1_000)


@_on_one_thread
def hopping_run(
    first_seed: int = 0, seeds: int = 1, steps: int = 4000, record_every: int = 500, keep_samples: int = 500
) -> tuple[nn.Module, stacked_gans.RingHistory]:
    """The Unrolled-GAN ring setting with 0 unrolling steps (``paper_settings.UNROLLED_RING``), trained on one
    thread with ``keep_samples`` probe samples kept per checkpoint: the run in which to watch G hop."""
    return paper_settings.train_paper_gans(
        paper_settings.UNROLLED_RING, seeds=seeds, first_seed=first_seed, steps=steps, record_every=record_every,
        keep_samples=keep_samples,
    )  # fmt: skip


def read_paper_settings(path: Path = PAPER_SETTINGS_FILE) -> list[dict[str, str]]:
    """The committed rows of ``benchmarks/gan_paper_settings.py``, one per arm × seed × checkpoint."""
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def top_mode_share(history: stacked_gans.RingHistory, *, second_half: bool = True) -> Tensor:
    """(seeds,) the share of all samples (nearest-mode bar, first fresh draw) in the most-occupied mode, mean over
    checkpoints: 1/8 for a generator spread evenly over the ring, 1 for one that draws everything at one mode."""
    counts = history.stacked("fresh_nearest")[:, 0].double()  # (checkpoints, seeds, modes)
    if second_half:
        counts = counts[len(history.steps) // 2 :]
    return (counts.max(-1).values / counts.sum(-1)).mean(0)


@dataclass
class PaperSettingsStudy:
    """The rerun arm's history, its rows as the benchmark writes them, and the claims."""

    seeds: list[int]
    history: stacked_gans.RingHistory
    rows: list[dict[str, object]]
    claims: dict[str, Claim] = field(default_factory=dict)


@_on_one_thread
def paper_settings_study(seeds: Sequence[int] = range(5)) -> PaperSettingsStudy:
    """Rerun the Unrolled-GAN ring arm of ``benchmarks/gan_paper_settings.py`` (Metz et al., 2017, 0 unrolling
    steps; 20,000 steps, seeds stacked as the benchmark stacks them) and test it for collapse and hopping.

    On seeds 0-4 (the file's) every checkpoint's row must equal the committed one (``RuntimeError`` if not): the
    file the notebook reads is then current. Claims, per seed over the second half of training: the high-quality
    share stays under 10 % (PacGAN's bar: not converged); the most-occupied mode holds over half of all samples
    (nearest-mode bar: collapsed onto one place); and G's histogram over the modes moves between checkpoints by
    more than two fresh draws of one checkpoint differ (hopping, against sampling noise), on both bars.
    """
    seeds = list(seeds)
    first, count = _first_seed(seeds)
    key, pack, steps, every = PAPER_RERUN
    setting = paper_settings.PAPER_SETTINGS[key]
    _, history = paper_settings.train_paper_gans(
        setting, pack=pack, seeds=count, steps=steps, record_every=every, first_seed=first
    )
    rows = []
    for index, step in enumerate(history.steps):
        metrics = stacked_gans.final_metrics(history, len(setting.centers()), checkpoint=index)
        for position, seed in enumerate(seeds):
            rows.append({
                "seed": seed, "step": step, "modes": int(metrics["modes"][position]),
                "high_quality": round(float(metrics["high_quality"][position]), 4),
                "counts": " ".join(str(int(c)) for c in history.counts[index][position]),
                "d_accuracy": round(float(history.d_accuracy[index][position]), 3),
            })  # fmt: skip
    if seeds == list(range(5)):
        committed = {(int(r["seed"]), int(r["step"])): r for r in read_paper_settings() if r["setting"] == key}
        if len(committed) != len(rows):
            raise RuntimeError(f"{PAPER_SETTINGS_FILE.name} has {len(committed)} {key} rows, the rerun {len(rows)}")
        for row in rows:
            saved = committed[row["seed"], row["step"]]
            for name in ("modes", "high_quality", "counts", "d_accuracy"):
                if str(saved[name]) != str(row[name]):
                    raise RuntimeError(
                        f"{PAPER_SETTINGS_FILE.name} is stale: {key} seed {row['seed']} step {row['step']} {name} "
                        f"{saved[name]} != {row[name]}"
                    )
    study = PaperSettingsStudy(seeds, history, rows)
    name = "paper settings, Unrolled-GAN ring, 0 unrolling steps"
    quality = history.stacked("high_quality")[len(history.steps) // 2 :].double().mean(0)  # (seeds,)
    study.claims[f"{name}: high quality, second half"] = Bound.of(quality, below=0.1)
    study.claims[f"{name}: share of samples at the most-occupied mode"] = Bound.of(top_mode_share(history), above=0.5)
    for bar, field_name in (("nearest mode", "fresh_nearest"), ("high quality", "fresh_counts")):
        moves = total_variation_between_checkpoints(history, counts=field_name)
        study.claims[f"{name}: TV between checkpoints − TV between two draws, {bar}"] = paired_difference(
            moves["consecutive"], moves["same_checkpoint"]
        )
    return study


# --- section 6: DCGAN against the MLP GAN on real digits -----------------------------------------------------


@dataclass
class DigitData:
    """The 5,000 MNIST digits in [-1, 1], (n, 1, 28, 28), split 4,000 / 1,000 by ``split_seed``."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    split_seed: int


@functools.cache
def digit_data(split_seed: int = 0) -> DigitData:
    """``read_mnist_5k`` scaled to [-1, 1] and split at random (a permutation seeded ``split_seed``)."""
    images, labels = read_mnist_5k()
    digits = images.float().unsqueeze(1) / 127.5 - 1  # (5000, 1, 28, 28) in [-1, 1]
    split = torch.randperm(len(digits), generator=torch_generator(split_seed))
    train_idx, test_idx = split[:4000], split[4000:]
    return DigitData(digits[train_idx], labels[train_idx], digits[test_idx], labels[test_idx], split_seed)


_JUDGES: dict[int, tuple[dcgan.DigitClassifier, float, float]] = {}


@_on_one_thread
def digit_judge(split_seed: int = 0, *, show_progress: bool = False) -> tuple[dcgan.DigitClassifier, float, float]:
    """The judge: a small CNN (``dcgan.DigitClassifier``, width 16) trained on the split's 4,000 digits.

    8 epochs of Adam (lr 1e-3), batches of 64, seeded ``split_seed``. Returns the judge (in eval mode), its
    accuracy on the 1,000 held-out digits and its mean top probability on them. Trained once per split seed
    in a process (sections 6 and 7 share it).
    """
    if split_seed not in _JUDGES:
        _JUDGES[split_seed] = _train_judge(split_seed, show_progress)
    return _JUDGES[split_seed]


def _train_judge(split_seed: int, show_progress: bool) -> tuple[dcgan.DigitClassifier, float, float]:
    data = digit_data(split_seed)
    seed_everything(split_seed)
    judge = dcgan.DigitClassifier(width=16)
    loader = DataLoader(
        TensorDataset(data.x_train, data.y_train), batch_size=64, shuffle=True, generator=torch_generator(split_seed)
    )
    optimizer = torch.optim.Adam(judge.parameters(), 1e-3)
    train(
        supervised_step(judge, optimizer, F.cross_entropy), loader, 8, description="judge", show_progress=show_progress
    )
    judge.eval()
    accuracy = evaluate_classifier(judge, [(data.x_test, data.y_test)])["accuracy"]
    with torch.no_grad():
        confidence = float(judge(data.x_test).softmax(-1).max(-1).values.mean())
    return judge, float(accuracy), confidence


def judge_images(judge: nn.Module, images: Tensor) -> dict[str, object]:
    """The judge's class histogram of ``images`` (n, 1, 28, 28): ``mode_metrics.class_histogram_metrics``."""
    with torch.no_grad():  # chunks of 500 images: faster than larger ones here (cache), the same digits
        probabilities = torch.cat([judge(chunk).softmax(-1) for chunk in images.split(500)])
    return mode_metrics.class_histogram_metrics(probabilities)


@dataclass
class DigitStudy:
    """Section 6: the generators by (kind, seed), the judge's metrics of each, the baselines, the claims."""

    seeds: list[int]
    data: DigitData
    judge: nn.Module
    judge_accuracy: float
    judge_confidence: float
    generators: dict[tuple[str, int], nn.Module]
    metrics: dict[tuple[str, int], dict[str, object]]
    baselines: dict[str, dict[str, object]]
    summary: dict[str, dict[str, Tensor]]
    claims: dict[str, Claim] = field(default_factory=dict)


DIGIT_KEYS = ("classes", "classes_at_half_share", "min_share", "tv_to_uniform", "kl_to_uniform", "confidence")


@_on_one_thread
def digit_study(
    seeds: Sequence[int] = range(5),
    *,
    steps: int = 600,
    samples: int = 10_000,
    workers: int = 2,
    show_progress: bool = False,
    device: torch.device | str | None = None,
) -> DigitStudy:
    """DCGAN against the MLP GAN (``dcgan.train_digit_gan``), ``steps`` steps each, on ``seeds``.

    The digits are split and the judge trained with seed ``seeds[0]``; each generator draws ``samples``
    digits from noise seeded ``seeds[0] + 2``. Per generator: classes drawn at least once, classes drawn at
    least half as often as uniform (5 %), the smallest class share, the total variation and KL from the uniform
    histogram, the judge's mean confidence. Baselines: uniform pixel noise and untrained DCGAN generators.
    """
    seeds = list(seeds)
    first, _ = _first_seed(seeds)
    data = digit_data(first)
    judge, judge_accuracy, judge_confidence = digit_judge(first, show_progress=show_progress)
    runs = [(kind, seed) for kind in ("DCGAN", "MLP GAN") for seed in seeds]
    with _quietly(show_progress):
        trained = map_in_processes(
            functools.partial(dcgan.train_digit_gan, steps=steps, device=device),
            [(kind, seed, data.x_train.flatten(1)) for kind, seed in runs],
            workers=workers,
            description=f"{len(runs)} digit GANs, {steps} steps each",
        )
    generators = {run: generator.cpu() for run, generator in zip(runs, trained)}  # read on the CPU

    def judge_generator(generator: nn.Module) -> dict[str, object]:
        drawn = generator.sample(samples, generator=torch_generator(first + 2)).reshape(samples, 1, 28, 28)
        return judge_images(judge, drawn)

    # The workers are done, so their cores sample and judge here; on this machine 1 and 2 threads give the same
    # digits for these forward passes (checked when this was written; the notebook's re-run compares them).
    with torch_threads(workers):
        metrics = {key: judge_generator(generator) for key, generator in generators.items()}
        noise = torch.rand(samples, 1, 28, 28, generator=torch_generator(first + 4)) * 2 - 1  # pixels in [-1, 1]
        baselines = {"uniform noise": judge_images(judge, noise)}
        for seed in seeds:
            seed_everything(seed)
            baselines[f"untrained G {seed}"] = judge_generator(dcgan.DCGANGenerator(32, width=16).eval())
    summary = {
        kind: {key: torch.tensor([float(metrics[kind, seed][key]) for seed in seeds]) for key in DIGIT_KEYS}
        for kind in ("DCGAN", "MLP GAN")
    }
    summary["untrained DCGAN"] = {
        key: torch.tensor([float(baselines[f"untrained G {seed}"][key]) for seed in seeds]) for key in DIGIT_KEYS
    }
    study = DigitStudy(seeds, data, judge, judge_accuracy, judge_confidence, generators, metrics, baselines, summary)
    dcgan_runs, mlp_runs = summary["DCGAN"], summary["MLP GAN"]
    for key in ("classes", "classes_at_half_share", "tv_to_uniform", "kl_to_uniform"):
        study.claims[f"digits, DCGAN − MLP GAN: {key}"] = paired_difference(dcgan_runs[key], mlp_runs[key])
    study.claims["digits, DCGAN − untrained DCGAN (same seed): kl_to_uniform"] = paired_difference(
        dcgan_runs["kl_to_uniform"], summary["untrained DCGAN"]["kl_to_uniform"]
    )
    study.claims["digits, DCGAN: smallest class share (uniform 0.1)"] = Bound.of(dcgan_runs["min_share"], below=0.05)
    return study


# --- section 7: rebalancing with a conditional GAN --------------------------------------------------------------

REBALANCE_ARMS = ("imbalanced", "oversampling", "class weighting", "conditional GAN")
REBALANCE_PAIRS = [
    ("oversampling", "imbalanced"),
    ("class weighting", "imbalanced"),
    ("conditional GAN", "imbalanced"),
    ("conditional GAN", "oversampling"),
    ("conditional GAN", "class weighting"),
]


@dataclass
class RebalancingStudy:
    """Section 7: the cut, the conditional generators, what the judge reads in their digits, the classifiers."""

    seeds: list[int]
    minority: int
    keep: int
    missing: int
    class_counts: Tensor
    kept: list[Tensor]
    generators: list[rebalancing.ConditionalDCGANGenerator]
    honoured: Tensor  # (seeds, classes): share of samples asked for a class that the judge reads as it
    judge_recall: float  # the judge's recall of real minority digits
    generated: list[Tensor]  # per seed, the minority digits added to the training set
    added_read: Tensor  # (seeds,): share of them the judge reads as the minority class
    results: dict[str, dict[str, Tensor]]  # arm -> {"minority recall", "balanced accuracy"}: (seeds,)
    claims: dict[str, Claim] = field(default_factory=dict)


@_on_one_thread
def rebalancing_study(
    seeds: Sequence[int] = range(10),
    *,
    minority: int = 8,
    keep: int = 20,
    gan_steps: int = 400,
    classifier_steps: int = 500,
    workers: int = 2,
    show_progress: bool = False,
    device: torch.device | str | None = None,
) -> RebalancingStudy:
    """Cut class ``minority`` to ``keep`` training digits, then train the same MLP classifier four ways.

    Arms: the imbalanced set; random oversampling (batches drawn ∝ 1 / class count); class weighting (the
    cross-entropy weighted by 1 / class count); the set plus a conditional DCGAN's minority digits
    (``rebalancing.train_conditional_gan``, trained on the imbalanced set, as many as bring the class to the
    others' mean count). Seed s picks the ``keep`` digits that stay, trains the GAN and initialises the
    classifier (784 → 64 → 10, ``classifier_steps`` Adam steps of 64; the arms × seeds stacked). Measured on
    the split's 1,000 held-out digits: the minority class's recall and the balanced accuracy.
    """
    seeds = list(seeds)
    first, count = _first_seed(seeds)
    data = digit_data(first)
    judge, _, _ = digit_judge(first, show_progress=show_progress)
    x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    kept = [rebalancing.cut_class(y_train, minority, keep, generator=torch_generator(seed)) for seed in seeds]
    class_counts = torch.bincount(y_train[kept[0]], minlength=10)  # the other classes keep all their digits
    missing = round(float(class_counts[torch.arange(10) != minority].double().mean())) - keep
    with _quietly(show_progress):
        generators = map_in_processes(
            functools.partial(rebalancing.train_conditional_gan, steps=gan_steps, device=device),
            [(seed, x_train[index], y_train[index]) for seed, index in zip(seeds, kept)],
            workers=workers,
            description=f"{count} conditional GANs, {gan_steps} steps each",
        )
    generators = [generator.cpu() for generator in generators]  # read on the CPU
    asked = torch.arange(10).repeat_interleave(100)  # does G draw the class it is asked for? 100 per class
    honoured = torch.zeros(count, 10, dtype=torch.float64)
    for index, generator in enumerate(generators):
        with torch.no_grad():
            predicted = judge(generator.sample(asked, generator=torch_generator(first + 5))).argmax(-1)
        honoured[index] = torch.stack([(predicted[asked == digit] == digit).double().mean() for digit in range(10)])
    with torch.no_grad():
        judge_recall = float((judge(x_test[y_test == minority]).argmax(-1) == minority).double().mean())
    generated = [
        generator.sample(torch.full((missing,), minority), generator=torch_generator(first + 6))
        for generator in generators
    ]
    with torch.no_grad():
        added_read = torch.stack([(judge(digits).argmax(-1) == minority).double().mean() for digits in generated])

    pools, pool_labels, draw_probabilities, class_weights = [], [], [], []
    for arm in REBALANCE_ARMS:
        for index in range(count):
            x, y = x_train[kept[index]].flatten(1), y_train[kept[index]]
            if arm == "conditional GAN":
                x = torch.cat([x, generated[index].flatten(1)])
                y = torch.cat([y, torch.full((missing,), minority)])
            counts = torch.bincount(y, minlength=10).double()
            draw_probabilities.append(
                1 / counts[y] if arm == "oversampling" else torch.ones(len(y), dtype=torch.float64)
            )
            class_weights.append((1 / counts).float() if arm == "class weighting" else torch.ones(10))
            pools.append(x)
            pool_labels.append(y)
    inputs, _ = rebalancing.pad_pools(pools)
    labels_padded, _ = rebalancing.pad_pools(pool_labels)
    probabilities_padded, _ = rebalancing.pad_pools(draw_probabilities)
    seed_everything(first)
    with torch_threads(workers):  # the workers' cores are free: 1 and 2 threads gave the same classifiers here
        classifiers = rebalancing.train_stacked_classifiers(
            inputs, labels_padded, probabilities_padded, torch.stack(class_weights), seeds=count,
            steps=classifier_steps, first_seed=first, device=device,
        ).cpu()  # fmt: skip
    with torch.no_grad():
        predictions = classifiers(x_test.flatten(1).expand(len(pools), -1, -1)).argmax(-1)  # (arms × seeds, test)
    recall = torch.stack([(predictions[:, y_test == digit] == digit).double().mean(1) for digit in range(10)], 1)
    recall = recall.reshape(len(REBALANCE_ARMS), count, 10)  # (arm, seed, class)
    results = {
        arm: {"minority recall": recall[a, :, minority], "balanced accuracy": recall[a].mean(-1)}
        for a, arm in enumerate(REBALANCE_ARMS)
    }
    study = RebalancingStudy(
        seeds, minority, keep, missing, class_counts, kept, generators, honoured, judge_recall, generated,
        added_read, results,
    )  # fmt: skip
    for arm, baseline in REBALANCE_PAIRS:
        for key in ("minority recall", "balanced accuracy"):
            study.claims[f"rebalancing, {arm} − {baseline}: {key}"] = paired_difference(
                results[arm][key], results[baseline][key]
            )
    others = honoured[:, torch.arange(10) != minority].mean(1)
    study.claims[f"rebalancing, judge reads the class asked for: class {minority} − the others"] = paired_difference(
        honoured[:, minority], others
    )
    study.claims[f"rebalancing, added digits the judge reads as {minority}s"] = Bound.of(added_read, below=0.5)
    return study


REPLICATION = Replication(
    "03_gan_minimax.ipynb",
    notebook_seeds=range(10),
    fresh_seeds=range(100, 110),
    studies=[
        Study("ring of 8", lambda seeds: ring_study(seeds).claims),
        Study("D/G imbalance", lambda seeds: imbalance_study(seeds).claims),
        Study("collapse search rows", lambda seeds: collapse_search_study(seeds).claims),
        Study("paper settings rerun", lambda seeds: paper_settings_study(seeds).claims, range(5), range(100, 105)),
        Study("DCGAN vs MLP GAN", lambda seeds: digit_study(seeds).claims, range(5), range(100, 105)),
        Study("rebalancing", lambda seeds: rebalancing_study(seeds).claims),
    ],
)
