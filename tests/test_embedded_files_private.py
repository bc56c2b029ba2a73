"""Embedded mode (`manage.py serve`): the SQLite database, its WAL and everything in var/ are readable by
the service's user only, also when var/ was left world-readable by an older version."""

import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.app_servers import ROOT
from tests.dead_peers import refused_port


def _wait_for_health(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"serve did not come up: {log.read_text()}")


def test_embedded_mode_keeps_its_database_wal_and_var_private(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)  # as an older version (or a generous umask) left it
    port = refused_port()
    # The embedded default: no PostgreSQL, no Redis, keys generated into var/.
    outside = ("DATABASE_URL", "REDIS_URL", "FERNET_KEYS", "SECRET_KEY")
    env = {k: v for k, v in os.environ.items() if k not in outside}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "GOVERNOR_VAR_DIR": str(var),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, umask=0o022,
        )  # fmt: skip
        try:
            _wait_for_health(f"http://127.0.0.1:{port}", proc, log)
            time.sleep(1)  # the worker and beat open the database and the queue too
            found = {path.name: stat.S_IMODE(path.stat().st_mode) for path in var.rglob("*")}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert {"governor.sqlite3", "governor.sqlite3-wal", "secret_key", "fernet_key"} <= set(found), found
    exposed = {name: oct(mode) for name, mode in found.items() if mode & 0o077}
    assert not exposed, f"readable by others: {exposed}"
