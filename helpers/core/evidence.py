"""The course's evidence standard as code: mean ± standard error, paired differences, bounds, replication.

Every notebook compares arms the same way (``../shared/EVIDENCE.md`` in the project's notes):

- a comparison is a **paired difference** over the same seeds (or folds): its mean and standard error;
- a direction is **established** only at ≥ 3 SE from 0, and asserted only when ``make replicate`` finds the
  same direction on fresh seeds; 2–3 SE is **suggestive, not established at this scale** and asserted
  neither way; under 2 SE there is **no difference at this scale**;
- a **bound** ("the gain is under 2 points") is asserted only with a margin of at least one SE;
- ``make replicate`` reruns each claim on seeds the notebook never used and says whether it **held**,
  came out **weaker** (same direction, under the threshold), **flipped** (the other direction, or a bound
  broken), or **stronger** (no difference in the notebook, an established one on the fresh seeds).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "ESTABLISHED",
    "SUGGESTIVE",
    "Bound",
    "ClaimLine",
    "Difference",
    "Replication",
    "Study",
    "check_replicated",
    "committed_verdicts",
    "mean_and_standard_error",
    "paired_difference",
    "replicate",
    "replication_status",
]

REPLICATION_TABLE = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "replication.md"
ESTABLISHED = 3.0  # standard errors from 0 for a direction to be asserted
SUGGESTIVE = 2.0  # below this, "no difference at this scale"


def mean_and_standard_error(values: Sequence[float] | torch.Tensor) -> tuple[float, float]:
    """Mean and standard error (sample sd / √n) of per-seed (or per-fold) results."""
    values = torch.as_tensor(values, dtype=torch.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"need at least two values (seeds or folds) for a standard error, got {values.numel()}")
    if not bool(torch.isfinite(values).all()):
        raise ValueError(f"the values must be finite numbers, got {values.tolist()}")
    return float(values.mean()), float(values.std() / math.sqrt(len(values)))


@dataclass(frozen=True)
class Difference:
    """A paired difference ``first − second``: its mean and standard error over ``n`` seeds or folds."""

    mean: float
    se: float
    n: int

    @property
    def z(self) -> float:
        """The mean in standard errors (±inf for a difference that never varies and is not 0)."""
        if self.se > 0:
            return self.mean / self.se
        return 0.0 if self.mean == 0 else math.copysign(math.inf, self.mean)

    @property
    def direction(self) -> int:
        """+1 (first larger) or −1 (second larger) when established (≥ 3 SE), else 0."""
        return 0 if abs(self.z) < ESTABLISHED else (1 if self.mean > 0 else -1)

    @property
    def sign(self) -> int:
        """The direction the mean leans, established or not, when it is at least 2 SE from 0; else 0."""
        return 0 if abs(self.z) < SUGGESTIVE else (1 if self.mean > 0 else -1)

    @property
    def verdict(self) -> str:
        if self.direction:
            return "higher" if self.direction > 0 else "lower"
        if self.sign:
            return f"suggestive ({'higher' if self.sign > 0 else 'lower'}), not established at this scale"
        return "no difference at this scale"

    def describe(self, digits: int = 3) -> str:
        """``+0.014 ± 0.018 (no difference at this scale)``."""
        return f"{self.mean:+.{digits}f} ± {self.se:.{digits}f} ({self.verdict})"

    def __str__(self) -> str:
        return self.describe()


def paired_difference(first: Sequence[float] | torch.Tensor, second: Sequence[float] | torch.Tensor) -> Difference:
    """``first − second`` over the same seeds (or folds), element by element."""
    first, second = torch.as_tensor(first, dtype=torch.float64), torch.as_tensor(second, dtype=torch.float64)
    if first.shape != second.shape or first.ndim != 1:
        raise ValueError(
            f"paired arms need one value per seed each, in the same order; got shapes {tuple(first.shape)} "
            f"and {tuple(second.shape)}"
        )
    mean, se = mean_and_standard_error(first - second)
    return Difference(mean, se, len(first))


@dataclass(frozen=True)
class Bound:
    """A claim that a per-seed quantity stays below (``upper``) or above (``lower``) ``limit``.

    It holds when the mean clears the limit by at least one standard error.
    """

    mean: float
    se: float
    n: int
    limit: float
    upper: bool

    @classmethod
    def of(cls, values: Sequence[float] | torch.Tensor, *, below: float | None = None, above: float | None = None):
        """The bound "values stay ``below``" (or "``above``") a limit, from per-seed values."""
        if (below is None) == (above is None):
            raise ValueError("give exactly one of below= and above=")
        mean, se = mean_and_standard_error(values)
        return cls(mean, se, len(torch.as_tensor(values)), below if below is not None else above, below is not None)

    @property
    def margin(self) -> float:
        """How far the mean clears the limit, in standard errors (negative: on the wrong side)."""
        gap = self.limit - self.mean if self.upper else self.mean - self.limit
        return gap / self.se if self.se > 0 else math.copysign(math.inf, gap) if gap else 0.0

    @property
    def holds(self) -> bool:
        return self.margin >= 1.0

    @property
    def verdict(self) -> str:
        side = "below" if self.upper else "above"
        if self.holds:
            return f"{side} {self.limit:g} by {self.margin:.1f} SE"
        return f"not {side} {self.limit:g} by 1 SE (margin {self.margin:.1f} SE)"

    def describe(self, digits: int = 3) -> str:
        return f"{self.mean:.{digits}f} ± {self.se:.{digits}f} ({self.verdict})"

    def __str__(self) -> str:
        return self.describe()


def replication_status(notebook: Difference | Bound, replication: Difference | Bound) -> str:
    """``held``, ``weaker``, ``flipped`` or ``stronger``: what fresh seeds make of the notebook's verdict."""
    if type(notebook) is not type(replication):
        raise TypeError("compare a Difference with a Difference, or a Bound with a Bound")
    if isinstance(notebook, Bound):
        if notebook.holds:
            return "held" if replication.holds else ("weaker" if replication.margin > 0 else "flipped")
        return "held" if not replication.holds else "stronger"
    if notebook.sign == 0:  # no difference at this scale
        return "stronger" if replication.direction else "held"
    if replication.sign == -notebook.sign:
        return "flipped"
    if notebook.direction:
        return "held" if replication.direction == notebook.direction else "weaker"
    return "held" if replication.sign == notebook.sign else "weaker"  # suggestive, and suggestive again


Claim = Difference | Bound


@dataclass(frozen=True)
class Study:
    """One experiment of a notebook: ``run(seeds)`` trains and measures, and returns its claims by name.

    The notebook calls the same function with its own seeds and prints and asserts what it returns. A study
    whose seeds differ from the rest of its notebook's (10 seeds where the others use 5) names its own
    ``notebook_seeds`` and ``fresh_seeds``.
    """

    name: str
    run: Callable[[Any], Mapping[str, Claim]]
    notebook_seeds: Any = None
    fresh_seeds: Any = None


@dataclass(frozen=True)
class Replication:
    """A notebook's studies, the seeds it uses and the fresh seeds ``make replicate`` uses instead.

    ``notebook_seeds``/``fresh_seeds`` are whatever the studies take: ``range(5)`` and ``range(100, 105)``,
    or a fold-shuffle seed for a cross-validated notebook. ``threads``: the PyTorch threads the notebook runs
    on (``setup_notebook(threads=...)``); :func:`replicate` uses the same, because a matrix product split over
    another number of threads adds in another order, and the notebook checks its numbers against the table's.
    """

    notebook: str
    notebook_seeds: Any
    fresh_seeds: Any
    studies: Sequence[Study]
    threads: int = 1


@dataclass(frozen=True)
class ClaimLine:
    notebook: str
    claim: str
    on_notebook_seeds: Claim
    on_fresh_seeds: Claim
    seconds: float

    @property
    def status(self) -> str:
        return replication_status(self.on_notebook_seeds, self.on_fresh_seeds)

    def __str__(self) -> str:
        return (
            f"{self.notebook} | {self.claim} | notebook: {self.on_notebook_seeds} | "
            f"replication: {self.on_fresh_seeds} | {self.status}"
        )


def replicate(
    replication: Replication,
    *,
    studies: Sequence[str] | None = None,
    report: Callable[[ClaimLine], object] | None = None,
) -> list[ClaimLine]:
    """Run each study on the notebook's seeds and on the fresh seeds; one line per claim.

    ``report`` is called with each line as soon as its study is done (the command line prints them).
    """
    lines = []
    threads = torch.get_num_threads()
    torch.set_num_threads(replication.threads)
    try:
        for study in replication.studies:
            if studies is None or study.name in studies:
                lines += _replicate_study(replication, study, report)
    finally:
        torch.set_num_threads(threads)
    return lines


def _replicate_study(
    replication: Replication, study: Study, report: Callable[[ClaimLine], object] | None
) -> list[ClaimLine]:
    start = time.perf_counter()
    notebook_seeds = replication.notebook_seeds if study.notebook_seeds is None else study.notebook_seeds
    fresh_seeds = replication.fresh_seeds if study.fresh_seeds is None else study.fresh_seeds
    original, fresh = study.run(notebook_seeds), study.run(fresh_seeds)
    seconds = time.perf_counter() - start
    if set(original) != set(fresh):
        raise RuntimeError(f"study {study.name!r} returned different claims for the two seed sets")
    label = replication.notebook[:2]
    lines = [ClaimLine(label, name, original[name], fresh[name], seconds / len(original)) for name in original]
    for line in lines if report is not None else ():
        report(line)
    return lines


def committed_verdicts(notebook: str, path: str | Path = REPLICATION_TABLE) -> dict[str, tuple[str, str, str]]:
    """The committed ``make replicate`` table's section ``notebook`` (e.g. ``"05_transformer"``):
    ``{claim: (on the notebook's seeds, on the fresh seeds, status)}``, as ``scripts/replicate.py
    --write-results`` wrote it. A notebook compares the first column with its own run, so a table older than the
    code fails there, and states a direction only where the status is ``held``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make replicate-results` and commit it")
    text = path.read_text(encoding="utf-8")
    section = re.search(rf"^## {re.escape(notebook)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    if section is None:
        raise ValueError(
            f"{path} has no section {notebook!r}: run `make replicate-results NOTEBOOKS=notebooks/{notebook}.ipynb`"
        )
    verdicts = {}
    for line in section.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if line.startswith("|") and len(cells) == 4 and cells[3] in ("held", "weaker", "flipped", "stronger"):
            verdicts[cells[0]] = (cells[1], cells[2], cells[3])
    return verdicts


def check_replicated(
    notebook: str, claims: Mapping[str, Claim], asserted: Sequence[str], path: str | Path = REPLICATION_TABLE
) -> None:
    """Check a notebook's run against the committed ``make replicate`` table (section ``notebook``).

    Every claim of ``claims`` must be in the table with this run's value on the notebook's seeds (else the table
    is older than the code), and every name in ``asserted`` (the directions and bounds the notebook asserts)
    must have ``held`` on the fresh seeds. Raises ``AssertionError`` saying which claim and what to do.
    """
    verdicts = committed_verdicts(notebook, path)
    fix = f"run `make replicate-results NOTEBOOKS=notebooks/{notebook}.ipynb` and commit benchmarks/results/"
    for name, claim in claims.items():
        if name not in verdicts:
            raise AssertionError(f"{name!r} is not in the committed table of {notebook}: {fix}")
        if verdicts[name][0] != str(claim):
            raise AssertionError(
                f"{name!r}: the committed table has {verdicts[name][0]!r} on the notebook's seeds, this run "
                f"{str(claim)!r}: {fix} (or run on the kind of CPU that made the table)"
            )
    for name in asserted:
        if name not in claims:
            raise AssertionError(f"{name!r} is asserted but is not one of the study's claims")
        if verdicts[name][2] != "held":
            raise AssertionError(
                f"{name!r} is asserted, but on fresh seeds it came out {verdicts[name][2]!r}: state it as "
                "suggestive, or not at all"
            )
