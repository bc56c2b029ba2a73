"""Reads the hashed lock files and the human-edited requirement lists, and says whether the locks are stale.

`python tools/lockfiles.py` exits 1, naming the pins, when requirements*.txt pin something the lock files do
not (someone added a dependency without `make lock`); `make install` then re-resolves before installing.
"""

import re
import sys
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCKS = {"requirements.txt": "requirements.lock", "requirements-dev.txt": "requirements-dev.lock"}


def locked(lock: str, root: Path = ROOT) -> dict[str, str]:
    """name -> version of the lock entries that apply to this interpreter and platform; every one hashed."""
    pins = {}
    for entry in re.split(r"\n(?=\S)", (root / lock).read_text()):
        first = entry.splitlines()[0]
        if first.startswith("#") or "==" not in first:
            continue
        requirement, _, marker = first.rstrip(" \\").partition(";")
        name, version = requirement.strip().split("==")
        if "--hash=sha256:" not in entry:
            raise ValueError(f"{lock}: {first} has no hash")
        if not marker.strip() or Marker(marker.strip()).evaluate():
            pins[canonicalize_name(name)] = version
    return pins


def wanted(requirements: str, root: Path = ROOT) -> dict[str, str]:
    """The exact pins of a human-edited list (its own lines; `-r` includes are checked on their own)."""
    pins = {}
    for line in (root / requirements).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier  # the human lists pin their direct dependencies exactly
            pins[canonicalize_name(requirement.name)] = spec.version
    return pins


def stale(root: Path = ROOT) -> list[str]:
    problems = []
    for requirements, lock in LOCKS.items():
        pins = locked(lock, root)
        for name, version in wanted(requirements, root).items():
            if pins.get(name) != version:
                problems.append(f"{requirements} pins {name}=={version}, {lock} has {pins.get(name)}")
    return problems


if __name__ == "__main__":
    problems = stale()
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)
