"""`pip install .` (the README's route for an environment of one's own) pulls the locked torch, and with
PyTorch's CPU index next to PyPI the CPU build, not a newer CUDA build.

pip resolves the project's real ``pyproject.toml`` in a dry run (``--dry-run --report``) against two local
folders of tiny stand-in wheels, offline: one plays PyPI (torch 2.13.0 and 2.14.1, each requiring an NVIDIA
package as PyPI's Linux wheels do), the other PyTorch's CPU index (torch 2.13.0+cpu). Nothing is downloaded or
installed. The same resolution with torch left unpinned picks 2.14.1: what the pin prevents.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCKED_TORCH = re.search(r"^torch==(\S+)", (ROOT / "requirements.lock").read_text(), re.MULTILINE).group(1)
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def stand_in_wheel(folder: Path, name: str, version: str, requires: list[str] = ()) -> None:
    """A minimal valid wheel: metadata only, which is all a dry-run resolution reads."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    files = {
        f"{info}/METADATA": "Metadata-Version: 2.1\n"
        f"Name: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {requirement}\n" for requirement in requires),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},"
        f"{len(text.encode())}\n"
        for path, text in files.items()
    )
    with zipfile.ZipFile(folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl", "w") as wheel:
        for path, text in {**files, f"{info}/RECORD": record + f"{info}/RECORD,,\n"}.items():
            wheel.writestr(path, text)


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("indexes")
    pypi, cpu = base / "pypi", base / "cpu"
    for version in (LOCKED_TORCH, "2.14.1"):  # PyPI's Linux torch wheels require the CUDA libraries
        stand_in_wheel(pypi, "torch", version, ["nvidia-cuda-runtime-cu12"])
    stand_in_wheel(pypi, "nvidia-cuda-runtime-cu12", "12.8.90")
    stand_in_wheel(pypi, "numpy", "2.4.6")
    stand_in_wheel(pypi, "matplotlib", "3.11.2")
    stand_in_wheel(cpu, "torch", f"{LOCKED_TORCH}+cpu")
    return {"pypi": pypi, "cpu": cpu}


def resolve(project: Path, sources: list[Path], tmp_path: Path) -> dict[str, str]:
    """What `pip install <project>` would install from ``sources`` only: {name: version}."""
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--dry-run"]
    command += ["--ignore-installed", "--no-index", "--no-build-isolation", "--quiet", "--report", str(report)]
    for source in sources:
        command += ["--find-links", str(source)]
    # No pip configuration of this machine (a find-links folder, an index, constraints) takes part.
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PIP_CONFIG_FILE": os.devnull}
    result = subprocess.run([*command, str(project)], capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    installs = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in installs}


def project_copy(tmp_path: Path, torch_requirement: str | None = None) -> Path:
    """The project's packaging files (and helpers/, which setuptools finds) in a folder of their own."""
    copy = tmp_path / "project"
    copy.mkdir()
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if torch_requirement is not None:
        text, count = re.subn(r'"torch[^"]*"', f'"{torch_requirement}"', text, count=1)
        assert count == 1
    (copy / "pyproject.toml").write_text(text, encoding="utf-8")
    shutil.copy(ROOT / "README.md", copy / "README.md")
    shutil.copytree(ROOT / "helpers", copy / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_pyproject_pins_the_locked_torch() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert f"torch=={LOCKED_TORCH}" in dependencies, dependencies


def test_pip_install_pulls_the_locked_torch_and_the_cpu_build_from_pytorchs_index(indexes, tmp_path) -> None:
    project = project_copy(tmp_path)
    from_pypi = resolve(project, [indexes["pypi"]], tmp_path)
    assert from_pypi["torch"] == LOCKED_TORCH, from_pypi  # not the newest (2.14.1)
    with_cpu_index = resolve(project, [indexes["pypi"], indexes["cpu"]], tmp_path)
    assert with_cpu_index["torch"] == f"{LOCKED_TORCH}+cpu", with_cpu_index
    assert not [name for name in with_cpu_index if name.startswith("nvidia")], with_cpu_index


def test_unpinned_torch_would_pull_the_newest_cuda_build(indexes, tmp_path) -> None:
    # What the pin guards against: the stand-ins above do tell the two apart.
    resolved = resolve(project_copy(tmp_path, "torch>=2.3"), [indexes["pypi"], indexes["cpu"]], tmp_path)
    assert resolved["torch"] == "2.14.1" and "nvidia-cuda-runtime-cu12" in resolved, resolved


def test_the_readme_gives_pip_users_the_cpu_route_next_to_the_install_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### pip, in an environment of your own") :]
    section = section[: section.index("\n## ")]
    commands = re.findall(r"^pip install .*$", section, re.MULTILINE)
    assert f"pip install --index-url {CPU_INDEX} torch=={LOCKED_TORCH}" in " ".join(commands), commands
    assert any(command.startswith("pip install -r requirements.lock") for command in commands), commands
    assert any(re.match(rf"pip install --extra-index-url {re.escape(CPU_INDEX)} \.", c) for c in commands), commands
