"""scripts/run_notebooks.py (`make notebooks`): a notebook is replaced only by a complete run, and nothing is
left behind on any path out: a failed write, Ctrl-C while the kernel starts, Ctrl-C while a cell runs."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "run_notebooks.py"
sys.path.insert(0, str(ROOT / "scripts"))
import run_notebooks  # noqa: E402  (a script, not a package)


def write_notebook(path: Path, sources: list[str]) -> bytes:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    nbformat.write(notebook, path)
    return path.read_bytes()


def leftovers(folder: Path, keep: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p != keep and p.suffix != ".marker")


def test_a_failed_write_leaves_the_notebook_and_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "nb.ipynb"
    before = write_notebook(path, ["print(1)"])
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", text="1\n")]

    def disk_full(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(run_notebooks.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        run_notebooks.write_atomically(notebook, path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path, keep=path) == []


def test_an_unwritable_notebook_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    before = write_notebook(path, ["print(1)"])
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0]["outputs"] = [{"output_type": "no such output type"}]  # nbformat refuses to write it
    with pytest.raises(Exception):  # noqa: B017 (whatever nbformat raises, the file must be cleaned up)
        run_notebooks.write_atomically(notebook, path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path, keep=path) == []


def _start(path: Path) -> subprocess.Popen:
    # A terminal's Ctrl-C: SIGINT with its default meaning (a background shell would have it ignored).
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _kernel_children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and b"ipykernel" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _interrupt_and_check(process: subprocess.Popen, path: Path, before: bytes, kernels: list[int]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert f"interrupted: {path} is unchanged" in output, output
    assert "Traceback" not in output, output
    assert path.read_bytes() == before
    assert leftovers(path.parent, keep=path) == []
    _wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in kernels), 15, "the kernel to exit")
    return output


@pytest.mark.skipif(sys.platform != "linux", reason="finds the kernel process through /proc")
def test_ctrl_c_while_the_kernel_starts(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    before = write_notebook(path, ["print('ran')"])
    process = _start(path)
    try:
        _wait_for(lambda: _kernel_children(process.pid) or process.poll() is not None, 120, "the kernel to start")
        kernels = _kernel_children(process.pid)
        assert kernels, process.communicate()[0]
        _interrupt_and_check(process, path, before, kernels)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.skipif(sys.platform != "linux", reason="finds the kernel process through /proc")
def test_ctrl_c_while_a_cell_runs(tmp_path: Path) -> None:
    path, marker = tmp_path / "nb.ipynb", tmp_path / "cell-started.marker"
    before = write_notebook(
        path,
        [
            "print('first cell')",
            f"open({str(marker)!r}, 'w').close()\nimport time\ntime.sleep(120)",
            "print('not reached')",
        ],
    )
    process = _start(path)
    try:
        _wait_for(lambda: marker.exists() or process.poll() is not None, 120, "the second cell to start")
        assert marker.exists(), process.communicate()[0]
        _interrupt_and_check(process, path, before, _kernel_children(process.pid))
    finally:
        if process.poll() is None:
            process.kill()


def test_a_failing_cell_leaves_the_notebook_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    before = write_notebook(path, ["print('fine')", "raise ValueError('a deliberate mistake')"])
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 1
    assert "at code cell 2; the committed file is unchanged" in result.stderr
    assert "ValueError: a deliberate mistake" in re.sub(r"\x1b\[[0-9;]*m", "", result.stderr)  # less colours
    assert path.read_bytes() == before
    assert leftovers(tmp_path, keep=path) == []
    assert os.environ.get("HELPERS_DEVICE") == "cpu"
