"""The lock files pin every transitive dependency with hashes, match the human-edited lists, and install the
same set of packages every time (`make install`, the Dockerfile and CI all install from them)."""

import re
import subprocess
import sys
import venv
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _locked(lock: str) -> dict[str, str]:
    """name -> version of the lock entries that apply to this interpreter and platform."""
    pins = {}
    text = (ROOT / lock).read_text()
    for entry in re.split(r"\n(?=\S)", text):
        first = entry.splitlines()[0]
        if first.startswith("#") or "==" not in first:
            continue
        requirement, _, marker = first.rstrip(" \\").partition(";")
        name, version = requirement.strip().split("==")
        assert "--hash=sha256:" in entry, f"{lock}: {first} has no hash"
        if not marker.strip() or Marker(marker.strip()).evaluate():
            pins[canonicalize_name(name)] = version
    return pins


def _wanted(requirements: str) -> dict[str, str]:
    wanted = {}
    for line in (ROOT / requirements).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier  # the human lists pin their direct dependencies exactly
            wanted[canonicalize_name(requirement.name)] = spec.version
    return wanted


def _freeze(python: Path) -> dict[str, str]:
    out = subprocess.run([python, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True)
    frozen = {}
    for line in out.stdout.splitlines():
        name, _, version = line.partition("==")
        if name.lower() not in ("pip", "setuptools", "wheel"):
            frozen[canonicalize_name(name)] = version
    return frozen


def test_every_pin_in_requirements_is_in_the_lock_files_at_the_same_version():
    runtime, dev = _locked("requirements.lock"), _locked("requirements-dev.lock")
    for name, version in _wanted("requirements.txt").items():
        assert runtime.get(name) == version, f"requirements.lock is stale for {name}: run `make lock`"
    for name, version in _wanted("requirements-dev.txt").items():
        assert dev.get(name) == version, f"requirements-dev.lock is stale for {name}: run `make lock`"


def test_the_dev_lock_keeps_every_runtime_pin_so_tests_run_what_production_runs():
    runtime, dev = _locked("requirements.lock"), _locked("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_a_second_install_of_the_lock_gives_the_same_packages_as_make_install(tmp_path):
    """`make install` was the first install (this interpreter); a fresh virtualenv is the second."""
    venv.create(tmp_path / "second", with_pip=True)
    python = tmp_path / "second" / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--require-hashes", "--no-deps", "--no-compile",
         "-r", ROOT / "requirements.lock"],
        check=True,
    )  # fmt: skip
    runtime = _locked("requirements.lock")
    first = _freeze(Path(sys.executable))

    assert _freeze(python) == runtime == {name: first.get(name) for name in runtime}


def test_the_make_installed_environment_has_every_dev_lock_pin():
    installed = _freeze(Path(sys.executable))
    locked = _locked("requirements-dev.lock")
    assert {name: installed.get(name) for name in locked} == locked
