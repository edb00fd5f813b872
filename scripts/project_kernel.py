"""The project's Jupyter kernel and the private configuration folders it runs with (`make kernel`).

Nothing in the user's home folder may change a notebook's output. matplotlib reads a ``matplotlibrc`` and
keeps its font cache there (a cache written by another matplotlib of the same version made plot cells print
``findfont`` warnings to stderr, which fails strict nbval), and IPython runs every startup file in
``~/.ipython/profile_default/startup``. So the project's kernel, ``make notebooks`` and the tests all run
with configuration folders inside the environment itself (``.venv/etc/applied-dl-notebooks/``):

- ``MPLCONFIGDIR``: matplotlib's configuration and font cache;
- ``MATPLOTLIBRC``: the same folder, which holds no ``matplotlibrc``, so that a user's own ``MATPLOTLIBRC``
  cannot win over it and matplotlib's packaged defaults apply;
- ``IPYTHONDIR``: IPython's profile, with no startup files.

(A user's ``MPLBACKEND`` needs nothing here: ipykernel 7 replaces it with its inline backend.)

The kernel gets them through its kernel spec's ``env`` (written here, used by JupyterLab); ``make notebooks``
(scripts/run_notebooks.py) and pytest (conftest.py) put them into their own environment, which the kernels
they start inherit. Building matplotlib's font cache here, once, keeps the "Matplotlib is building the font
cache" warning out of the first plot cell.

Usage: python scripts/project_kernel.py [--prefix PREFIX]   (default: this environment, sys.prefix)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

KERNEL_NAME = "applied-dl-notebooks"
DISPLAY_NAME = f"Python 3 ({KERNEL_NAME})"


def private_config(prefix: str | Path = sys.prefix) -> dict[str, str]:
    """The environment variables that keep the kernel's configuration inside ``prefix`` (the venv)."""
    base = Path(prefix).absolute() / "etc" / KERNEL_NAME
    return {
        "MPLCONFIGDIR": str(base / "matplotlib"),
        "MATPLOTLIBRC": str(base / "matplotlib"),
        "IPYTHONDIR": str(base / "ipython"),
        # ipykernel's debugger otherwise prints a warning to stderr, which strict nbval would compare.
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def prepare(environment: dict[str, str]) -> None:
    """Create the folders and build matplotlib's font cache in them (a no-op when it is there already)."""
    for name in ("MPLCONFIGDIR", "IPYTHONDIR"):
        Path(environment[name]).mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"], env={**os.environ, **environment}, check=True
    )


def use_private_config(prefix: str | Path = sys.prefix) -> dict[str, str]:
    """Prepare the folders and set the variables in this process: every kernel it starts inherits them."""
    environment = private_config(prefix)
    prepare(environment)
    os.environ.update(environment)
    return environment


def install(prefix: str | Path = sys.prefix) -> Path:
    """Register the kernel in ``prefix``/share/jupyter/kernels with the private configuration in its env."""
    environment = private_config(prefix)
    prepare(environment)
    command = [
        sys.executable,
        "-m",
        "ipykernel",
        "install",
        "--prefix",
        str(prefix),
        "--name",
        KERNEL_NAME,
        "--display-name",
        DISPLAY_NAME,
    ]
    for name, value in environment.items():
        command += ["--env", name, value]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    spec = Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME / "kernel.json"
    written = json.loads(spec.read_text(encoding="utf-8")).get("env", {})
    if written != environment:  # an ipykernel without --env would leave the kernel unprotected
        raise RuntimeError(f"{spec} does not carry the private configuration: {written} != {environment}")
    return spec


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default=sys.prefix, help="where to register the kernel (default: %(default)s)")
    install(parser.parse_args().prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
