"""Copies of the embedded SQLite database taken and put back with SQLite's online backup API.

The backup API copies a consistent snapshot page by page while the web server, worker and beat keep reading
and writing (in WAL mode writers never wait for it), so a backup needs no downtime. Restoring writes the
snapshot into the live file under SQLite's own locks; the processes should be stopped first so none of them
keeps working on what it read before.
"""

import sqlite3
from pathlib import Path

from django.conf import settings

# Every page, in one step: the copy is one snapshot even while others write (a stepwise copy would restart).
_ALL_PAGES = -1


class BackupError(Exception):
    pass


def embedded_database() -> Path:
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("sqlite3"):
        raise BackupError(
            "backup and restore copy the embedded SQLite database; this deployment uses PostgreSQL: "
            "use pg_dump and pg_restore (docs/operations.md)."
        )
    return Path(db["NAME"])


def check_database(path: Path) -> int:
    """Raises unless `path` is an intact SQLite file of Governor's; returns how many migrations it has."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            if db.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError(f"{path} is damaged (SQLite integrity check failed).")
            return db.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a Governor database: {error}.") from error


def _copy(source: Path, target: Path, *, source_mode: str) -> None:
    source_db = sqlite3.connect(f"file:{source}?mode={source_mode}", uri=True, timeout=30)
    target_db = sqlite3.connect(target, timeout=30)
    try:
        source_db.backup(target_db, pages=_ALL_PAGES)
    finally:
        target_db.close()
        source_db.close()


def backup(target: Path) -> int:
    """Writes a snapshot of the live database to `target` (a new file); returns its size in bytes."""
    live = embedded_database()
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name.")
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(live, target, source_mode="ro")
    check_database(target)
    target.chmod(0o600)  # it holds hashed tokens and encrypted credentials
    return target.stat().st_size


def restore(source: Path) -> int:
    """Replaces the live database's content with the snapshot in `source`; returns its migration count."""
    migrations = check_database(source)
    _copy(source, embedded_database(), source_mode="ro")
    return migrations
