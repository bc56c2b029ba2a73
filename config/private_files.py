"""Embedded mode keeps its database, keys and queue in var/: only the service's own user may read them.

var/ is made 0700 (nothing inside can be reached by another user, whatever each file's mode), the SQLite
database 0600 (SQLite gives its -wal and -shm files the database's own mode), and `manage.py serve` runs
with umask 077 so every file its processes create later is private too. Paths owned by another user (an
operator's own layout) are left alone.
"""

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def make_private(path: Path, mode: int) -> None:
    """Drops group and other permissions from a path this process owns; creates nothing."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(mode)


def private_database_file(name: str) -> None:
    """Creates the SQLite file 0600 before SQLite does (it would use the umask), and tightens old ones."""
    if name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for each in (path, Path(f"{name}-wal"), Path(f"{name}-shm")):
        make_private(each, 0o600)
