"""Every committed notebook is the output of one clean run, and the nbval harness really compares."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from notebook_checks import problems

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# The graded exercises (committed unsolved) and their solutions are notebooks like the others.
for folder in ("exercises", "solutions"):
    NOTEBOOKS += sorted((ROOT / "notebooks" / folder).glob("*.ipynb"))
NOTEBOOK_IDS = [str(path.relative_to(ROOT / "notebooks")) for path in NOTEBOOKS]
SETUP_CHECK = ROOT / "notebooks" / "00_setup_check.ipynb"


def test_there_are_notebooks() -> None:
    assert SETUP_CHECK in NOTEBOOKS, "notebooks/00_setup_check.ipynb is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_committed_notebook_is_one_clean_run(path: Path) -> None:
    assert problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_notebook_names_the_project_kernel(path: Path) -> None:
    kernelspec = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("kernelspec", {})
    assert kernelspec.get("name") == "applied-dl-notebooks", kernelspec


# --- the checks themselves must catch what they are for -------------------------------------------


def _edited_copy(tmp_path: Path, edit) -> Path:
    notebook = json.loads(SETUP_CHECK.read_text(encoding="utf-8"))
    edit(notebook)
    copy = tmp_path / SETUP_CHECK.name
    copy.write_text(json.dumps(notebook), encoding="utf-8")
    return copy


def _code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_checks_catch_cleared_outputs(tmp_path: Path) -> None:
    def clear(notebook: dict) -> None:
        for cell in _code_cells(notebook):
            cell["outputs"], cell["execution_count"] = [], None

    assert any("execution counts" in p for p in problems(_edited_copy(tmp_path, clear)))


def test_checks_catch_an_error_output_and_a_path(tmp_path: Path) -> None:
    def break_it(notebook: dict) -> None:
        cell = _code_cells(notebook)[0]
        cell["outputs"].append({"output_type": "error", "ename": "ValueError", "evalue": "boom", "traceback": []})
        cell["outputs"].append({"output_type": "stream", "name": "stdout", "text": "saved to /home/someone/x.pt\n"})

    found = problems(_edited_copy(tmp_path, break_it))
    assert any("error output" in p for p in found) and any("path of the machine" in p for p in found)


def test_strict_nbval_fails_on_a_changed_output(tmp_path: Path) -> None:
    """Change one committed number; strict nbval must report the mismatch (this is what guards results)."""

    def tamper(notebook: dict) -> None:
        for cell in _code_cells(notebook):
            for output in cell["outputs"]:
                text = "".join(output.get("text", ""))
                if text.startswith("learned weights:"):
                    output["text"] = text.replace("2.0", "2.5", 1)
                    return
        raise AssertionError("the setup-check notebook no longer prints 'learned weights:'")

    copy = _edited_copy(tmp_path, tamper)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(ROOT / "tests" / "nbval_sanitize.cfg"),
            str(copy),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "1 failed" in result.stdout and "learned weights" in result.stdout
