"""Real daphne processes serving config.asgi (HTTP and WebSockets) against the test database."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from accounts.tests.celery_procs import database_url

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Daphne:
    """One web process; every process started for a test shares the secret key, so one login works on all."""

    def __init__(self, var_dir: Path, name: str, **env: str) -> None:
        self.port = free_port()
        self.name = name
        self.log_path = var_dir / f"{name}.log"
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.test_settings",
            DATABASE_URL=database_url(),
            GOVERNOR_VAR_DIR=str(var_dir),
            SECRET_KEY=settings.SECRET_KEY,
            FERNET_KEYS=",".join(settings.FERNET_KEYS),
            ALLOWED_HOSTS="127.0.0.1",
            CONN_MAX_AGE="0",
            **env,
        )
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "Daphne":
        log = open(self.log_path, "wb")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "config.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne {self.name} exited: {self.log()[-2000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"daphne {self.name} did not listen: {self.log()[-2000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
