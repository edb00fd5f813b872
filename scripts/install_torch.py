"""Install the build of PyTorch that `make setup` asks for, before the rest of requirements.lock.

    python scripts/install_torch.py cpu    (the default of `make setup`; TORCH=cpu)
    python scripts/install_torch.py cuda   (`make setup TORCH=cuda`)

- ``cpu`` on Linux: PyTorch's CPU-only build ``torch==<lock>+cpu`` from PyTorch's CPU wheel index
  (https://download.pytorch.org/whl/cpu, or ``$TORCH_CPU_INDEX``): about 190 MB to download. pip's own
  configured sources (``find-links``, extra indexes: a local wheel folder, a mirror) are searched too, so
  a machine that keeps the CPU wheel on its disk needs no network for it. PyPI's Linux wheel is the CUDA
  build, which pulls about 2.7 GB of NVIDIA libraries; this route avoids it on machines without a GPU.
- ``cuda`` on Linux: PyPI's build (CUDA libraries included), installed with the rest of the lock. A CPU
  build already in the environment is removed first, since ``torch==X+cpu`` satisfies the lock's ``torch==X``.
- macOS and Windows: PyPI's wheels already are the right build (no CUDA download); nothing to do here.

The torch version is the one pinned in requirements.lock. Its other dependencies come with the lock.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CPU_INDEX = os.environ.get("TORCH_CPU_INDEX", "https://download.pytorch.org/whl/cpu")
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def locked_torch_version(lock: Path = ROOT / "requirements.lock") -> str:
    match = re.search(r"^torch==([^\s;#+]+)", lock.read_text(encoding="utf-8"), re.MULTILINE)
    if not match:
        raise SystemExit(f"{lock} pins no torch==VERSION")
    return match.group(1)


def installed_torch() -> str | None:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


def why_unreachable(url: str, timeout_s: float = 10.0) -> str | None:
    """None when ``url`` answers; otherwise the reason, in a few words (to tell a network problem apart)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):
            return None
    except urllib.error.HTTPError as error:
        return f"it answered HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return str(getattr(error, "reason", error))


def pip_install(*arguments: str) -> tuple[bool, str]:
    """Run ``pip install --no-deps``; its output is kept for the error message (a retry would repeat it)."""
    result = subprocess.run([*PIP, "install", "--quiet", "--no-deps", *arguments], capture_output=True, text=True)
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def install_cpu_build(version: str) -> int:
    wanted = f"{version}+cpu"
    if installed_torch() == wanted:
        print(f"torch {wanted} (the CPU build) is installed already")
        return 0
    print(
        f"installing torch {wanted}, PyTorch's CPU-only build (about 190 MB to download, 750 MB on disk), "
        f"from {CPU_INDEX} or pip's own configured sources"
    )
    installed, said = pip_install("--retries", "2", "--index-url", CPU_INDEX, f"torch=={wanted}")
    if installed:
        return 0
    reason = why_unreachable(f"{CPU_INDEX.rstrip('/')}/torch/")
    if reason:
        print(f"PyTorch's CPU index {CPU_INDEX} cannot be reached ({reason}); trying pip's configured index instead")
    installed, said_too = pip_install(f"torch=={wanted}")
    if installed:
        return 0
    where = (
        f"its index {CPU_INDEX} cannot be reached ({reason})"
        if reason
        else f"{CPU_INDEX} has no wheel of it for this Python and platform"
    )
    if not reason:  # the index answered: pip's own words say what was wrong
        print(f"pip said:\n{said[-2000:]}\n{said_too[-1000:]}", file=sys.stderr)
    print(
        f"""
Could not install torch {wanted}, PyTorch's CPU build: {where},
and pip's configured sources do not have it either. Either
  - fix the connection (behind a proxy: set HTTPS_PROXY, or pip's `proxy` setting), then `make setup` again;
  - point TORCH_CPU_INDEX at a mirror of {CPU_INDEX}, then `make setup` again; or
  - run `make setup TORCH=cuda` to take PyPI's build instead (on Linux about 2.7 GB with CUDA libraries).""",
        file=sys.stderr,
    )
    return 1


def main() -> int:
    variant = sys.argv[1] if len(sys.argv) > 1 else "cpu"
    if variant not in ("cpu", "cuda"):
        print(f"TORCH must be cpu or cuda, not {variant!r} (e.g. `make setup TORCH=cuda`)", file=sys.stderr)
        return 2
    version = locked_torch_version()
    if not sys.platform.startswith("linux"):
        print(
            f"torch {version}: PyPI's build for {sys.platform} (CPU, plus Apple's GPU on a Mac), "
            "installed with requirements.lock"
        )
        return 0
    if variant == "cuda":
        current = installed_torch()
        if current and current.endswith("+cpu"):
            print(f"removing torch {current} (the CPU build) to install PyPI's CUDA build")
            subprocess.run([*PIP, "uninstall", "--quiet", "--yes", "torch"], check=True)
        print(
            f"torch {version}: PyPI's Linux build with its CUDA libraries (about 2.7 GB to download), "
            "installed with requirements.lock"
        )
        return 0
    return install_cpu_build(version)


if __name__ == "__main__":
    sys.exit(main())
