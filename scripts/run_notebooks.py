"""Re-execute notebooks top to bottom in a fresh kernel and write their outputs back (`make notebooks`).

- Never changes a cell's source; sets the project kernelspec in the notebook's metadata.
- Runs on the CPU (HELPERS_DEVICE=cpu), as the tests do, so that committed outputs reproduce.
- Writes to a temporary file and replaces the notebook only when every cell succeeded; on failure
  the committed file is left untouched and the failing cell and error are printed.
- Stores stream text as a reader sees it: progress-bar redraws ending in a carriage return are
  dropped, as JupyterLab does when it saves (nbval applies the same rule when it compares).

Usage: python scripts/run_notebooks.py [NOTEBOOK ...]   (default: every notebooks/*.ipynb)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
KERNEL_NAME = "applied-dl-notebooks"
KERNELSPEC = {"name": KERNEL_NAME, "display_name": f"Python 3 ({KERNEL_NAME})", "language": "python"}
CELL_TIMEOUT_S = 900
_OVERWRITTEN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)


def tidy_streams(notebook: nbformat.NotebookNode) -> None:
    """Merge consecutive stream outputs of one name and drop text overwritten by a carriage return."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        merged: list = []
        for output in cell.outputs:
            if output.output_type == "stream" and merged and merged[-1].output_type == "stream" \
                    and merged[-1].name == output.name:
                merged[-1].text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.output_type == "stream":
                output.text = _OVERWRITTEN.sub("", output.text)
        cell.outputs = merged


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def execute(path: Path) -> bool:
    notebook = nbformat.read(path, as_version=4)
    sources_before = [cell.source for cell in notebook.cells]
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    # The kernel of this very environment ("python3" inside the venv), whatever kernels are registered.
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        record_timing=False,  # per-cell timestamps would make every re-run a diff of every cell
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
        failing = next((number for number, cell in enumerate(code_cells, start=1)
                        if any(output.output_type == "error" for output in cell.outputs)), None)
        where = f"code cell {failing}" if failing is not None else "a cell"
        print(f"FAILED {shown(path)} at {where}; the committed file is unchanged.\n{error}", file=sys.stderr)
        return False
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timestamps left by an older run or another tool
    notebook.metadata.setdefault("language_info", {}).update({"name": "python"})
    tidy_streams(notebook)
    assert [cell.source for cell in notebook.cells] == sources_before, "cell sources must never change"
    handle, temporary = tempfile.mkstemp(suffix=".ipynb", dir=path.parent)
    os.close(handle)
    nbformat.write(notebook, temporary)
    os.chmod(temporary, path.stat().st_mode & 0o777)  # mkstemp creates 0600; keep the notebook's own mode
    os.replace(temporary, path)
    print(f"ok     {shown(path)} ({time.perf_counter() - started:.0f} s)")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    arguments = parser.parse_args()
    paths = [p.resolve() for p in arguments.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"no such notebook: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    os.environ["HELPERS_DEVICE"] = "cpu"
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # silences a debugger warning on stderr
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep; changes no result
    results = [execute(path) for path in paths]
    failed = results.count(False)
    if failed:
        print(f"{failed} of {len(paths)} notebook(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
