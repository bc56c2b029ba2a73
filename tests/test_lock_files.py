"""The lock files pin every transitive dependency with hashes, match the human-edited lists, and install the
same set of packages every time (`make install`, the Dockerfile and CI all install from them)."""

import subprocess
import sys
import venv
from pathlib import Path

from packaging.utils import canonicalize_name

from tools.lockfiles import locked, stale

ROOT = Path(__file__).resolve().parents[1]


def _pip(python: Path, *args) -> list:
    """This environment's pip working on `python`'s environment: a fresh one needs no pip of its own."""
    return [sys.executable, "-m", "pip", "--python", str(python), *args]


def _freeze(python: Path) -> dict[str, str]:
    out = subprocess.run(_pip(python, "freeze", "--all"), capture_output=True, text=True, check=True)
    frozen = {}
    for line in out.stdout.splitlines():
        name, _, version = line.partition("==")
        if name.lower() not in ("pip", "setuptools", "wheel"):
            frozen[canonicalize_name(name)] = version
    return frozen


def test_every_pin_in_requirements_is_in_the_lock_files_at_the_same_version():
    assert stale() == [], "run `make lock` and commit requirements*.lock"


def test_the_dev_lock_keeps_every_runtime_pin_so_tests_run_what_production_runs():
    runtime, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_installing_the_lock_twice_gives_the_same_packages_every_time(tmp_path):
    """Two fresh environments, as two machines would install them (`make install`, the image, CI)."""
    frozen = []
    for attempt in ("first", "second"):
        venv.create(tmp_path / attempt, with_pip=False)
        python = tmp_path / attempt / "bin" / "python"
        flags = ["--quiet", "--require-hashes", "--no-deps", "--no-compile"]
        subprocess.run(_pip(python, "install", *flags, "-r", ROOT / "requirements.lock"), check=True)
        frozen.append(_freeze(python))

    assert frozen[0] == frozen[1] == locked("requirements.lock")
