"""scripts/install_torch.py (`make setup`): the CPU build of torch on Linux by default, a clean fallback to
pip's configured sources (a local wheel folder) when PyTorch's index cannot be reached, and a message that
names the remedies when neither has it. pip itself is replaced by a fake here; `make setup` runs the real one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import install_torch  # noqa: E402  (a script, not a package)


@pytest.fixture
def fake(monkeypatch):
    """Record pip calls; ``answers`` says whether each successive call succeeds."""
    state = {"calls": [], "answers": [], "installed": None, "unreachable": "Name or service not known"}

    def pip_install(*arguments):
        state["calls"].append(arguments)
        return state["answers"].pop(0), "pip's output"

    monkeypatch.setattr(install_torch, "pip_install", pip_install)
    monkeypatch.setattr(install_torch, "installed_torch", lambda: state["installed"])
    monkeypatch.setattr(install_torch, "why_unreachable", lambda url: state["unreachable"])
    monkeypatch.setattr(install_torch.sys, "platform", "linux")
    return state


def run(monkeypatch, *arguments: str) -> int:
    monkeypatch.setattr(install_torch.sys, "argv", ["install_torch.py", *arguments])
    return install_torch.main()


def test_the_version_is_the_locks() -> None:
    assert install_torch.locked_torch_version() == "2.13.0"


def test_cpu_build_from_pytorchs_cpu_index(fake, monkeypatch) -> None:
    fake["answers"] = [True]
    assert run(monkeypatch) == 0
    assert fake["calls"] == [("--retries", "2", "--index-url", install_torch.CPU_INDEX, "torch==2.13.0+cpu")]


def test_unreachable_index_falls_back_to_pips_configured_sources(fake, monkeypatch, capsys) -> None:
    fake["answers"] = [False, True]
    assert run(monkeypatch, "cpu") == 0
    assert fake["calls"][1] == ("torch==2.13.0+cpu",)
    assert "cannot be reached (Name or service not known); trying pip's configured index" in capsys.readouterr().out


def test_nowhere_to_get_it_names_the_remedies(fake, monkeypatch, capsys) -> None:
    fake["answers"] = [False, False]
    assert run(monkeypatch) == 1
    message = capsys.readouterr().err
    assert "cannot be reached (Name or service not known)" in message
    assert "TORCH_CPU_INDEX" in message and "make setup TORCH=cuda" in message


def test_an_installed_cpu_build_is_kept(fake, monkeypatch) -> None:
    fake["installed"] = "2.13.0+cpu"
    assert run(monkeypatch) == 0 and fake["calls"] == []


def test_cuda_leaves_torch_to_the_lock(fake, monkeypatch) -> None:
    assert run(monkeypatch, "cuda") == 0 and fake["calls"] == []


def test_other_platforms_take_pypis_build(fake, monkeypatch) -> None:
    monkeypatch.setattr(install_torch.sys, "platform", "darwin")
    assert run(monkeypatch) == 0 and fake["calls"] == []


def test_a_wrong_variant_is_refused(fake, monkeypatch, capsys) -> None:
    assert run(monkeypatch, "gpu") == 2
    assert "TORCH must be cpu or cuda, not 'gpu'" in capsys.readouterr().err


def test_make_setup_installs_torch_before_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile[makefile.index("$(STAMP):") : makefile.index("data: $(STAMP)")]
    assert recipe.index("scripts/install_torch.py $(TORCH)") < recipe.index("-r requirements.lock"), recipe
    assert "TORCH ?= cpu" in makefile
