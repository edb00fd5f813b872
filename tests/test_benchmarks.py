"""benchmarks/run.py --quick: every benchmark still runs (at tiny sizes), and a run changes no file under benchmarks/.

Timings are never checked (they vary); what is checked is that the code runs, that each bench_*.py's rows are
printed, and that the committed results (benchmarks/results/embeddings.json, which notebook 01 prints) are left
alone: a run writes to its results folder (build/benchmarks/ by default; here a temporary folder).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
# the project's environment, as the benchmarks run (`make bench`); the test's own interpreter elsewhere
PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(PYTHON) if PYTHON.exists() else sys.executable


def run_benchmarks(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HELPERS_DEVICE="cpu")
    return subprocess.run(
        [PYTHON, "benchmarks/run.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def snapshot() -> tuple[str, dict[str, str]]:
    """git's view of benchmarks/ (where git is at hand) and the hash of every file in it."""
    status = ""
    if shutil.which("git") and (ROOT / ".git").exists():
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "benchmarks/"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    hashes = {
        str(path.relative_to(ROOT)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(BENCHMARKS.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    return status, hashes


def test_quick_run_runs_every_benchmark_and_changes_nothing_under_benchmarks(tmp_path: Path) -> None:
    before = snapshot()
    result = run_benchmarks("--quick", "--results-dir", str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert snapshot() == before, "a quick benchmark run changed a file under benchmarks/"

    table = json.loads((tmp_path / "table-quick.json").read_text(encoding="utf-8"))
    assert table["quick"] and table["failed"] == []
    for stem in sorted(path.stem for path in BENCHMARKS.glob("bench_*.py")):
        rows = table["benchmarks"].get(stem)
        assert rows, f"{stem} printed no rows:\n{output}"
        assert f"({stem}: {len(rows)} rows in" in result.stdout, output
        for row in rows:
            assert row["benchmark"] in result.stdout, output
            assert row["ours_s"] > 0, row
    # ours is timed with or without gensim; without it only the comparison is skipped, and said so
    embeddings = json.loads((tmp_path / "embeddings-quick.json").read_text(encoding="utf-8"))
    assert embeddings["rows"][0]["name"].startswith("ours")
    if embeddings["gensim"] is None:
        assert "skipped the comparison with gensim" in result.stdout, output


def test_a_quick_run_refuses_to_write_the_committed_results() -> None:
    before = snapshot()
    result = run_benchmarks("--quick", "--write-results")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--write-results needs the full run" in result.stderr
    assert snapshot() == before


def test_the_paper_settings_benchmark_runs_quick_and_writes_only_where_told(tmp_path: Path) -> None:
    before = snapshot()
    env = dict(os.environ, HELPERS_DEVICE="cpu", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [PYTHON, "benchmarks/gan_paper_settings.py", "--quick", "--out-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert snapshot() == before, "a quick run changed a file under benchmarks/"
    with (tmp_path / "gan_paper_settings.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    # 5 arms × 2 seeds × 2 checkpoints (steps 2 and 4), each with the papers' three metrics and the CPU time
    assert len(rows) == 5 * 2 * 2
    assert {(r["setting"], r["pack"]) for r in rows} == {
        ("pacgan_ring", "1"),
        ("pacgan_ring", "2"),
        ("pacgan_grid", "1"),
        ("pacgan_grid", "2"),
        ("unrolled_ring", "1"),
    }
    for row in rows:
        counts = [int(c) for c in row["counts"].split()]
        assert len(counts) == (25 if row["setting"] == "pacgan_grid" else 8)
        assert int(row["modes"]) == sum(c > 0 for c in counts) and float(row["cpu_s"]) >= 0
    report = (tmp_path / "gan_paper_settings.md").read_text(encoding="utf-8")
    assert "| PacGAN ring of 8 | GAN | 4 (400,000" in report and "| 6.3 ± 0.5 |" in report and "17.3 ± 0.8" in report
