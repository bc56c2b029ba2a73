"""`manage.py backup` takes a consistent copy of the embedded database while it is in use, and `restore` puts
it back; on PostgreSQL both refuse and point to pg_dump / pg_restore."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _manage(var_dir: Path, *args: str, database_url: str = "", check: bool = True):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "GOVERNOR_VAR_DIR": str(var_dir)}
    if database_url:
        env["DATABASE_URL"] = database_url
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=check)


def _seats(var_dir: Path) -> list[str]:
    with sqlite3.connect(var_dir / "governor.sqlite3") as db:
        return [slug for (slug,) in db.execute("SELECT slug FROM limiter_seat ORDER BY slug")]


def test_backup_while_a_writer_holds_a_transaction_then_restore_brings_that_state_back(tmp_path):
    var = tmp_path / "var"
    _manage(var, "migrate", "-v0")
    _manage(var, "seats", "create", "alice")
    writer = sqlite3.connect(var / "governor.sqlite3", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the service is mid-write, and stays so during the backup
    writer.execute("INSERT INTO auth_group (name) VALUES ('uncommitted')")

    done = _manage(var, "backup", str(tmp_path / "copy.sqlite3"))
    writer.execute("COMMIT")
    writer.close()

    assert "Backed up to" in done.stdout and "FERNET_KEYS" in done.stdout
    assert oct((tmp_path / "copy.sqlite3").stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(tmp_path / "copy.sqlite3") as copy:
        uncommitted = copy.execute("SELECT count(*) FROM auth_group WHERE name = 'uncommitted'").fetchone()
        assert uncommitted == (0,)  # a snapshot, not a mix

    _manage(var, "seats", "create", "bob")
    assert _seats(var) == ["alice", "bob"]
    restored = _manage(var, "restore", str(tmp_path / "copy.sqlite3"), "--yes")
    assert "Restored" in restored.stdout
    assert _seats(var) == ["alice"]


def test_restore_refuses_a_file_that_is_not_a_governor_backup(tmp_path):
    var = tmp_path / "var"
    _manage(var, "migrate", "-v0")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)

    refused = _manage(var, "restore", str(junk), "--yes", check=False)

    assert refused.returncode != 0
    assert "not a Governor database" in refused.stderr
    assert _seats(var) == []


def test_backup_on_postgresql_points_to_pg_dump(tmp_path):
    postgres = "postgres://postgres@127.0.0.1:5432/unused"
    refused = _manage(tmp_path, "backup", str(tmp_path / "x"), database_url=postgres, check=False)
    assert refused.returncode != 0
    assert "pg_dump" in refused.stderr
