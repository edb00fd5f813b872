"""requirements.in, requirements.lock, environment.yml and pyproject.toml must agree (conda cannot be run here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-]+)==([^\s;#]+)")
LOWER_BOUND = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(?:>=\s*([0-9][^,;\s]*))?")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


LOCK = pins(ROOT / "requirements.lock")
DIRECT = pins(ROOT / "requirements.in")
ENVIRONMENT = pins(ROOT / "environment.yml")


def test_lock_pins_torch_to_the_cpu_build_version() -> None:
    assert LOCK["torch"] == "2.13.0", "an unpinned or newer torch pulls a multi-GB CUDA build"


def test_direct_requirements_are_locked_at_the_same_versions() -> None:
    mismatched = {name: (version, LOCK.get(name)) for name, version in DIRECT.items() if LOCK.get(name) != version}
    assert not mismatched, f"requirements.in and requirements.lock disagree (name: (in, lock)): {mismatched}"


def test_environment_yml_lists_the_same_packages_and_versions() -> None:
    assert ENVIRONMENT == DIRECT, "environment.yml's pip pins must equal requirements.in's"
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s*-\s*python=3\.11\s*$", text, re.MULTILINE), "environment.yml must ask for python=3.11"
    assert "- -r requirements.lock" in text, "environment.yml must install the full lock"
    assert "- -e ." in text, "environment.yml must install the helpers package"


def test_pyproject_dependencies_are_locked_and_their_lower_bounds_hold() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared += extra
    for requirement in declared:
        match = LOWER_BOUND.match(requirement)
        assert match, requirement
        name, lower = normalise(match.group(1)), match.group(2)
        assert name in LOCK, f"{name} is a dependency in pyproject.toml but not in requirements.lock"
        if lower:
            assert version_tuple(LOCK[name]) >= version_tuple(lower), f"{name}: lock {LOCK[name]} < >={lower}"
    direct_names = set(DIRECT)
    declared_names = {normalise(LOWER_BOUND.match(r).group(1)) for r in declared}
    undeclared = direct_names - declared_names
    assert not undeclared, f"in requirements.in but not declared in pyproject.toml: {undeclared}"
