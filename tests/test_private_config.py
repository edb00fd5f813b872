"""Nothing in the user's home folder changes a notebook's output (issue 22).

A hostile home folder holds an IPython startup file and a matplotlibrc, and MATPLOTLIBRC names another
one. A plain kernel shows all of it (the control: the fake home really bites). The project's kernel (its
kernel spec, as `make kernel` writes it), `make notebooks` and nbval under this project's conftest.py show
none of it: they run with matplotlib's and IPython's configuration folders inside the environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import project_kernel  # noqa: E402  (a script, not a package)

PROBE = """\
import os
import matplotlib
print("rc file:", os.path.relpath(matplotlib.matplotlib_fname(), matplotlib.get_data_path()))
print("line width:", matplotlib.rcParams["lines.linewidth"])
print("startup file ran:", "HOSTILE" in globals())
print("cache in home:", matplotlib.get_cachedir().startswith(os.path.expanduser("~")))
"""
CLEAN = "rc file: matplotlibrc\nline width: 1.5\nstartup file ran: False\ncache in home: False\n"


@pytest.fixture
def hostile_environment(tmp_path: Path) -> dict[str, str]:
    """This process's environment with HOME replaced by a folder that tries to change every output."""
    home = tmp_path / "home"
    startup = home / ".ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-hostile.py").write_text("HOSTILE = True\nprint('a startup file in the home folder ran')\n")
    (home / ".config" / "matplotlib").mkdir(parents=True)
    (home / ".config" / "matplotlib" / "matplotlibrc").write_text("lines.linewidth: 7\n")
    (home / "hostile_matplotlibrc").write_text("lines.linewidth: 9\n")
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in project_kernel.private_config() and not name.startswith("XDG_")
    }
    environment.update(HOME=str(home), MATPLOTLIBRC=str(home / "hostile_matplotlibrc"))
    return environment


def run_in_kernel(kernel_dirs: list[str], name: str, environment: dict[str, str]) -> str:
    """The stdout of PROBE run in kernel ``name`` (found in ``kernel_dirs``), started with ``environment``."""
    manager = KernelManager(kernel_name=name, kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
    manager.start_kernel(env=environment)
    client = manager.blocking_client()
    try:
        client.start_channels()
        client.wait_for_ready(timeout=120)
        texts: list[str] = []

        def collect(message: dict) -> None:
            if message["msg_type"] == "stream":
                texts.append(message["content"]["text"])

        reply = client.execute_interactive(PROBE, output_hook=collect, timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(texts)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def probe_notebook(path: Path, outputs: str | None = None) -> Path:
    cell = nbformat.v4.new_code_cell(PROBE)
    if outputs is not None:  # as committed: one clean run
        cell.execution_count, cell.outputs = 1, [nbformat.v4.new_output("stream", name="stdout", text=outputs)]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path


def test_the_kernel_spec_keeps_configuration_in_the_environment(tmp_path: Path, hostile_environment) -> None:
    prefix = tmp_path / "prefix"
    spec = project_kernel.install(prefix)  # what `make kernel` does, into a throw-away prefix
    env = json.loads(spec.read_text(encoding="utf-8"))["env"]
    assert all(Path(env[name]).is_relative_to(prefix) for name in ("MPLCONFIGDIR", "IPYTHONDIR", "MATPLOTLIBRC"))
    kernels = str(prefix / "share" / "jupyter" / "kernels")
    assert run_in_kernel([kernels], project_kernel.KERNEL_NAME, hostile_environment) == CLEAN


def test_control_a_plain_kernel_shows_the_hostile_home(hostile_environment) -> None:
    plain = str(Path(sys.prefix) / "share" / "jupyter" / "kernels")  # ipykernel's "python3", no env of its own
    output = run_in_kernel([plain], "python3", hostile_environment)
    assert "line width: 9" in output and "startup file ran: True" in output and "cache in home: True" in output


def test_make_notebooks_ignores_the_hostile_home(tmp_path: Path, hostile_environment) -> None:
    path = probe_notebook(tmp_path / "probe.ipynb")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=hostile_environment,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    cell = nbformat.read(path, as_version=4).cells[0]
    assert [output.get("text") for output in cell.outputs] == [CLEAN]


def test_nbval_under_the_project_conftest_ignores_the_hostile_home(tmp_path: Path, hostile_environment) -> None:
    path = probe_notebook(tmp_path / "probe.ipynb", outputs=CLEAN)
    # `-p conftest`: the project's conftest.py, as for any notebook inside the project (this one is not).
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "conftest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(ROOT / "tests" / "nbval_sanitize.cfg"),
        str(path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=hostile_environment, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 passed" in result.stdout
