"""Re-execute notebooks top to bottom in a fresh kernel and write their outputs back (`make notebooks`).

- Never changes a cell's source; sets the project kernelspec in the notebook's metadata.
- Runs on the CPU (HELPERS_DEVICE=cpu), as the tests do, so that committed outputs reproduce.
- Writes to a temporary file and replaces the notebook only when every cell succeeded; on failure
  the committed file is left untouched and the failing cell and error are printed. The temporary file
  is removed on every path out (a failed write, Ctrl-C, an error), so no notebooks/tmp*.ipynb is left.
- Ctrl-C (or SIGTERM) while the kernel starts or a cell runs stops the run: the kernel is shut down, the
  notebook is left unchanged and the script says so, with exit status 130.
- Runs with matplotlib's and IPython's configuration folders inside the environment (see
  scripts/project_kernel.py), so that nothing in the user's home changes an output.
- Stores stream text as a reader sees it: progress-bar redraws ending in a carriage return are
  dropped, as JupyterLab does when it saves (nbval applies the same rule when it compares).

Usage: python scripts/run_notebooks.py [NOTEBOOK ...]   (default: every notebooks/*.ipynb)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

try:  # these imports take a few seconds: Ctrl-C during them should not print a traceback either
    import nbformat
    from jupyter_core.utils import ensure_async
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from project_kernel import DISPLAY_NAME, KERNEL_NAME, use_private_config
except KeyboardInterrupt:
    print("\ninterrupted before any notebook ran: nothing was changed", file=sys.stderr)
    sys.exit(130)

ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {"name": KERNEL_NAME, "display_name": DISPLAY_NAME, "language": "python"}
CELL_TIMEOUT_S = 900
_OVERWRITTEN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)


def tidy_streams(notebook: nbformat.NotebookNode) -> None:
    """Merge consecutive stream outputs of one name and drop text overwritten by a carriage return."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        merged: list = []
        for output in cell.outputs:
            if (
                output.output_type == "stream"
                and merged
                and merged[-1].output_type == "stream"
                and merged[-1].name == output.name
            ):
                merged[-1].text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.output_type == "stream":
                output.text = _OVERWRITTEN.sub("", output.text)
        cell.outputs = merged


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived while a notebook ran; the notebook was left as it was."""


class StoppableClient(NotebookClient):
    """nbclient's client, where Ctrl-C (or SIGTERM) stops the run.

    nbclient's own SIGINT handler only shuts the kernel down and leaves the run waiting for it (Ctrl-C
    while the kernel started was ignored; a later one ended in a traceback). Here the signal interrupts the
    running cell (the kernel stays clean and is shut down politely), or cancels the run while the kernel is
    still starting or when the cell ignores the interrupt; :func:`run_client` then stops the kernel.
    """

    interrupted = False
    kernel_ready = False
    GRACE_S = 5.0  # how long an interrupted cell may take to stop before the run is cancelled

    async def async_start_new_kernel(self, **kwargs) -> None:
        loop, run = asyncio.get_running_loop(), asyncio.current_task()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, self._stop, run)  # replaces nbclient's handler
        await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        self.kernel_ready = True
        return client

    def _stop(self, run: asyncio.Task) -> None:
        if not self.interrupted:  # a second Ctrl-C must not cut the kernel's shutdown short
            self.interrupted = True
            self._stopping = asyncio.ensure_future(self._interrupt_or_cancel(run))

    async def _interrupt_or_cancel(self, run: asyncio.Task) -> None:
        if self.kernel_ready and self.km is not None:
            # KeyboardInterrupt in the cell: it ends with an error, and the run with it.
            await ensure_async(self.km.interrupt_kernel())
            await asyncio.wait({run}, timeout=self.GRACE_S)
        if not run.done():
            run.cancel()


async def run_client(client: StoppableClient) -> None:
    loop = asyncio.get_running_loop()
    try:
        await client.async_execute()
    except BaseException:
        # nbclient turns the cancellation of a running cell into DeadKernelError("Kernel died").
        if client.interrupted:
            raise Interrupted from None
        raise
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(number)
        # Interrupted while the kernel started, nbclient has not shut it down yet.
        if client.km is not None and await ensure_async(client.km.is_alive()):
            await ensure_async(client.km.shutdown_kernel(now=True))


def write_atomically(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Replace ``path`` in one step; the temporary file never outlives this call, whatever happens."""
    handle, temporary = tempfile.mkstemp(prefix=".run_notebooks-", suffix=".ipynb.tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            nbformat.write(notebook, stream)
        os.chmod(temporary, path.stat().st_mode & 0o777)  # mkstemp creates 0600; keep the notebook's own mode
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def execute(path: Path) -> bool:
    notebook = nbformat.read(path, as_version=4)
    sources_before = [cell.source for cell in notebook.cells]
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    # The kernel of this very environment ("python3" inside the venv), whatever kernels are registered.
    client = StoppableClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        # The kernel's state is thrown away after the last cell. A graceful shutdown request races
        # ipykernel's own teardown (its control thread flushes stdout into a closed socket and prints
        # a ZMQError traceback, seen once in CI after Ctrl-C), so the kernel is stopped outright.
        shutdown_kernel="immediate",
        record_timing=False,  # per-cell timestamps would make every re-run a diff of every cell
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    try:
        asyncio.run(run_client(client))
    except CellExecutionError as error:
        code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
        failing = next(
            (
                number
                for number, cell in enumerate(code_cells, start=1)
                if any(output.output_type == "error" for output in cell.outputs)
            ),
            None,
        )
        where = f"code cell {failing}" if failing is not None else "a cell"
        print(f"FAILED {shown(path)} at {where}; the committed file is unchanged.\n{error}", file=sys.stderr)
        return False
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timestamps left by an older run or another tool
    notebook.metadata.setdefault("language_info", {}).update({"name": "python"})
    tidy_streams(notebook)
    assert [cell.source for cell in notebook.cells] == sources_before, "cell sources must never change"
    try:
        write_atomically(notebook, path)
    except OSError as error:
        print(f"FAILED {shown(path)}: could not write it ({error}); the committed file is unchanged.", file=sys.stderr)
        return False
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
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep; changes no result
    use_private_config()  # matplotlib's and IPython's configuration inside the environment, not the home
    results: list[bool] = []
    for path in paths:
        try:
            results.append(execute(path))
        except (Interrupted, KeyboardInterrupt):
            print(f"\ninterrupted: {shown(path)} is unchanged", file=sys.stderr)
            if len(paths) > len(results) + 1:
                print(f"({len(paths) - len(results) - 1} notebook(s) after it were not run)", file=sys.stderr)
            return 130
    failed = results.count(False)
    if failed:
        print(f"{failed} of {len(paths)} notebook(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before the first notebook started (each notebook's run handles its own)
        print("\ninterrupted before any notebook ran: nothing was changed", file=sys.stderr)
        sys.exit(130)
