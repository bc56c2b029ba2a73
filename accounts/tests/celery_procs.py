"""Real `celery worker` and `celery beat` processes against the test database and the loopback fake."""

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryProcesses:
    """Starts workers and one beat with their own queue (and, without Redis, their own broker file)."""

    def __init__(self, fake_url: str, var_dir: Path, tick: float = 0.5) -> None:
        self.var_dir = var_dir
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=database_url(),
            GOVERNOR_VAR_DIR=str(var_dir),
            FERNET_KEYS=",".join(settings.FERNET_KEYS),
            CLAUDE_AI_BASE_URL=fake_url,
            ANTHROPIC_API_BASE_URL=fake_url,
            CLAUDE_OAUTH_TOKEN_URLS=f"{fake_url}/v1/oauth/token",
            # Generous: a worker competing with a busy machine must not mistake a slow fake for a dead one.
            ACCOUNTS_HTTP_TIMEOUT_SECONDS="10",
            ACCOUNTS_FRESH_401_RETRY_DELAYS="0.05,0.05,0.05",
            ACCOUNTS_POLL_TICK_SECONDS=str(tick),
            CELERY_QUEUE=f"accounts-test-{secrets.token_hex(4)}",
            CONN_MAX_AGE="0",
        )
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def _start(self, name: str, *args: str) -> None:
        log = open(self.var_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append((name, proc))

    def worker(self, name: str, concurrency: int = 4) -> None:
        self._start(
            name,
            "worker",
            "-n",
            f"{name}@%h",
            "--pool=threads",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        )

    def beat(self) -> None:
        self._start("beat", "beat", "-s", str(self.var_dir / "beat-schedule"), "-l", "INFO")

    def log(self, name: str) -> str:
        return (self.var_dir / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for _, proc in self.procs:
            proc.terminate()
        for name, proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            assert proc.returncode is not None, name
        self.procs.clear()
        if settings.REDIS_URL:
            # Beat may have queued ticks nobody will consume: leave no per-test queue behind in Redis.
            import redis

            queue = settings.REDIS_KEY_PREFIX + self.env["CELERY_QUEUE"]
            redis.Redis.from_url(settings.REDIS_URL).delete(queue)


def wait_for(condition, timeout: float = 30.0, interval: float = 0.2):
    """Polls `condition` until it returns something truthy; fails with the last value otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
