"""requirements.lock is what runs: every pinned package is installed at its pinned version, with
hashes, and every dependency pyproject.toml names is in the lock (refresh: scripts/lock.sh)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"


def locked() -> dict[str, tuple[str, list[str]]]:
    """name → (version, sha256 hashes) of each package in the lock."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        pin = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\]+)", line)
        if pin:
            current = canonicalize_name(pin.group(1))
            pins[current] = (pin.group(2), [])
        elif (digest := re.search(r"--hash=sha256:([0-9a-f]{64})", line)) and current:
            pins[current][1].append(digest.group(1))
    return pins


def test_every_pin_has_hashes() -> None:
    pins = locked()
    assert len(pins) > 50
    assert not [name for name, (_, hashes) in pins.items() if not hashes]


def test_installed_packages_are_the_locked_versions() -> None:
    wrong = {}
    for name, (version, _) in locked().items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = "not installed"
        if have != version:
            wrong[name] = f"{have} (lock: {version})"
    assert not wrong, f"the environment differs from requirements.lock: {wrong}"


def test_every_declared_dependency_is_locked() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    pins = locked()
    missing = []
    for text in declared:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        if name not in pins or not req.specifier.contains(pins[name][0], prereleases=True):
            missing.append(text)
    assert not missing, f"run scripts/lock.sh: not in requirements.lock as declared: {missing}"
